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
    // tree-sitter-python is quadratic in runs of comment lines (10,000 lines of `# x = y`: 18 s); the same text with
    // those lines blanked parses in milliseconds, with every offset unchanged.
    const source = lang === 'python' ? blankCommentLines(text) : text;
    const tree = this.parser.parse(source, old ?? null, ranges?.length ? { includedRanges: ranges } : undefined);
    if (!tree) throw new Error(`tree-sitter returned no tree for a ${lang} source`);
    return tree;
  }
}

/**
 * Python source with every line that is only a comment turned into spaces of the same length (outside string
 * literals: a `#` line inside a triple-quoted string stays). Offsets, rows and columns are those of the text.
 */
export function blankCommentLines(text: string): string {
  if (!text.includes('#')) return text;
  const out: string[] = [];
  let open = ''; // the quote of a string still open at a line's end: ''' or """ (or ' / " after a backslash)
  for (const line of text.split('\n')) {
    if (!open && /^[ \t\f]*#/.test(line)) {
      out.push(line.replace(/[^\r]/g, ' '));
      continue;
    }
    out.push(line);
    let i = 0;
    while (i < line.length) {
      const ch = line[i]!;
      if (open) {
        if (ch === '\\') i += 2;
        else if (line.startsWith(open, i)) {
          i += open.length;
          open = '';
        } else i++;
        continue;
      }
      if (ch === '#') break;
      if (ch === '"' || ch === "'") {
        const triple = line.startsWith(ch.repeat(3), i);
        open = triple ? ch.repeat(3) : ch;
        i += open.length;
        continue;
      }
      i++;
    }
    // A one-quote string ends with its line unless the line ends in a backslash.
    if (open.length === 1 && !line.endsWith('\\')) open = '';
  }
  return out.join('\n');
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
