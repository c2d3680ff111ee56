/**
 * web-tree-sitter with the Python, TypeScript, TSX and JavaScript grammars. The caller hands in the
 * bytes of the runtime and grammar .wasm files (the CLI and the extension read them from dist/grammars),
 * so this module stays free of fs. Grammar ABI versions are checked against the runtime's range.
 */
import { LANGUAGE_VERSION, Language, MIN_COMPATIBLE_VERSION, Parser, type Range, type Tree } from 'web-tree-sitter';
import type { SourceLanguage } from './types';

export const GRAMMARS: readonly SourceLanguage[] = ['python', 'typescript', 'tsx', 'javascript'];

export interface GrammarBytes {
  /** web-tree-sitter.wasm */
  runtime: Uint8Array;
  grammars: Record<SourceLanguage, Uint8Array>;
}

export class GrammarError extends Error {
  override name = 'GrammarError';
}

/** Throws a GrammarError naming the grammar when its ABI is outside what the runtime accepts. */
export function checkAbi(name: string, abi: number, min = MIN_COMPATIBLE_VERSION, max = LANGUAGE_VERSION): void {
  if (!(abi >= min && abi <= max)) {
    throw new GrammarError(
      `the ${name} grammar was generated for tree-sitter ABI ${abi}, but web-tree-sitter accepts ABI ${min}–${max}: install grammar and runtime versions that match`,
    );
  }
}

let runtimeReady: Promise<void> | undefined;

export class SourceParser {
  private readonly parser = new Parser();

  private constructor(private readonly languages: Record<SourceLanguage, Language>) {}

  static async load(bytes: GrammarBytes): Promise<SourceParser> {
    runtimeReady ??= Parser.init({ wasmBinary: bytes.runtime } as never).catch((e: unknown) => {
      runtimeReady = undefined;
      throw new GrammarError(`web-tree-sitter did not start: ${e instanceof Error ? e.message : String(e)}`);
    });
    await runtimeReady;
    const languages = {} as Record<SourceLanguage, Language>;
    for (const name of GRAMMARS) {
      let lang: Language;
      try {
        lang = await Language.load(bytes.grammars[name]);
      } catch (e) {
        throw new GrammarError(`the ${name} grammar did not load: ${e instanceof Error ? e.message : String(e)}`);
      }
      checkAbi(name, lang.abiVersion);
      languages[name] = lang;
    }
    return new SourceParser(languages);
  }

  language(name: SourceLanguage): Language {
    return this.languages[name];
  }

  /**
   * Parses `text`; with `old` (already edited with Tree.edit) the parse is incremental; with `ranges`
   * only those parts of the text are parsed (positions stay those of the whole text).
   */
  parse(lang: SourceLanguage, text: string, old?: Tree | null, ranges?: Range[]): Tree {
    this.parser.setLanguage(this.languages[lang]);
    const tree = this.parser.parse(text, old ?? null, ranges?.length ? { includedRanges: ranges } : undefined);
    if (!tree) throw new Error(`tree-sitter returned no tree for a ${lang} source`);
    return tree;
  }
}

/** The grammar for a file name, or undefined for files the scanner does not read. */
export function languageOf(fileName: string): SourceLanguage | undefined {
  const m = /\.([a-z]+)$/i.exec(fileName);
  switch (m?.[1]?.toLowerCase()) {
    case 'py':
    case 'pyi':
      return 'python';
    case 'ts':
    case 'mts':
    case 'cts':
      return 'typescript';
    case 'tsx':
      return 'tsx';
    case 'js':
    case 'mjs':
    case 'cjs':
    case 'jsx':
      return 'javascript';
    default:
      return undefined;
  }
}

/** VS Code language ids the scanner reads. */
export function languageOfId(id: string): SourceLanguage | undefined {
  return (
    {
      python: 'python',
      typescript: 'typescript',
      typescriptreact: 'tsx',
      javascript: 'javascript',
      javascriptreact: 'javascript',
    } as const
  )[id as 'python'];
}
