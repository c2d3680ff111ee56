/**
 * Reads the web-tree-sitter runtime and grammar .wasm files for the scanner (Node side: the CLI, the
 * extension host, the tests). Built bundles find them in dist/grammars (scripts/build.mjs copies them
 * there, and the VSIX ships them); from sources they come from node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GrammarBytes, SourceParser } from '../scan/parser';
import type { SourceLanguage } from '../scan/types';

/** File name in dist/grammars → the npm package file it is copied from. */
export const GRAMMAR_FILES: Record<'runtime' | SourceLanguage, { file: string; from: string }> = {
  runtime: { file: 'web-tree-sitter.wasm', from: 'web-tree-sitter/web-tree-sitter.wasm' },
  python: { file: 'tree-sitter-python.wasm', from: 'tree-sitter-python/tree-sitter-python.wasm' },
  typescript: { file: 'tree-sitter-typescript.wasm', from: 'tree-sitter-typescript/tree-sitter-typescript.wasm' },
  tsx: { file: 'tree-sitter-tsx.wasm', from: 'tree-sitter-typescript/tree-sitter-tsx.wasm' },
  javascript: { file: 'tree-sitter-javascript.wasm', from: 'tree-sitter-javascript/tree-sitter-javascript.wasm' },
};

function locate(name: keyof typeof GRAMMAR_FILES, dirs: string[]): string {
  const g = GRAMMAR_FILES[name];
  for (const d of dirs) {
    const p = join(d, g.file);
    if (existsSync(p)) return p;
  }
  try {
    return require.resolve(g.from);
  } catch {
    throw new Error(`${g.file} not found (looked in ${dirs.join(', ')} and node_modules/${g.from}); run npm run build`);
  }
}

export function readGrammars(
  dirs: string[] = [join(__dirname, 'grammars'), join(__dirname, '..', '..', 'dist', 'grammars')],
): GrammarBytes {
  const read = (n: keyof typeof GRAMMAR_FILES) => new Uint8Array(readFileSync(locate(n, dirs)));
  return {
    runtime: read('runtime'),
    grammars: {
      python: read('python'),
      typescript: read('typescript'),
      tsx: read('tsx'),
      javascript: read('javascript'),
    },
  };
}

let shared: Promise<SourceParser> | undefined;

/** One parser per process, loaded on first use. */
export function loadParser(dirs?: string[]): Promise<SourceParser> {
  shared ??= SourceParser.load(readGrammars(dirs)).catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}
