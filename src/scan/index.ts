/**
 * The scanner: source text → findings and layers. Never throws (internal failures become
 * `errors` lines); files over the size limit are skipped with a reason. `DocumentScanner` keeps one
 * tree per open document so re-scans while typing parse incrementally. Host-free.
 */
import { Edit, type Range, type Tree } from 'web-tree-sitter';
import type { DeviceProfile } from '../core/model';
import { type ConvInfo, convSite, fileFacts, findConvs, findFourierLayers } from './layers';
import type { SourceParser } from './parser';
import { runRules } from './rules';
import { pythonChunks } from './python-chunks';
import { buildModel, mergeSpans, relevantMask } from './source-model';
import type { LayerSite, ScanResult, SourceLanguage } from './types';
import { Values } from './values';

export interface ScanOptions {
  /** Characters; larger files are skipped (default 1 MiB of text). */
  maxChars?: number;
  /** A device to price Conv2D layers with (the local probe or a datasheet GPU). */
  device?: DeviceProfile;
}

export const DEFAULT_MAX_CHARS = 1 << 20;

function skipped(file: string, language: SourceLanguage, why: string): ScanResult {
  return {
    file,
    language,
    findings: [],
    layers: [],
    skipped: why,
    syntaxErrors: false,
    errors: [],
    ms: { parse: 0, rules: 0 },
  };
}

/** Runs the rules on a tree parsed from `text` (or from ranges of it). */
export function scanTree(
  tree: Tree,
  text: string,
  parser: SourceParser,
  file: string,
  language: SourceLanguage,
  opts: ScanOptions = {},
  parseMs = 0,
): ScanResult {
  const t0 = performance.now();
  const errors: string[] = [];
  let findings: ScanResult['findings'] = [];
  const layers: LayerSite[] = [];
  try {
    const model = buildModel(tree, language, parser.language(language), text);
    const values = new Values(model);
    const facts = fileFacts(model, values);
    const convs = findConvs(model);
    const fourier = findFourierLayers(model, values, facts, convs);
    const sites = new Map<ConvInfo, { spec: LayerSite['spec']; id: string }>();
    layers.push(...fourier.map((l) => l.site));
    for (const c of convs) {
      const site = convSite(c, facts);
      sites.set(c, { spec: site.spec, id: site.id });
      layers.push(site);
    }
    findings = runRules({ model, values, facts, convs, layers: fourier, device: opts.device }, sites, errors);
  } catch (e) {
    errors.push(`scan failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  layers.sort((a, b) => a.range.startOffset - b.range.startOffset);
  return {
    file,
    language,
    findings,
    layers,
    syntaxErrors: safeHasError(tree),
    errors,
    ms: { parse: parseMs, rules: performance.now() - t0 },
  };
}

function safeHasError(tree: Tree): boolean {
  try {
    return tree.rootNode.hasError;
  } catch {
    return true;
  }
}

/** Python files from this size on are parsed only where a finding can come from. */
const PARTIAL_FROM = 20_000;

/**
 * The parts of a large Python file worth parsing: its top-level statements that can produce a finding
 * (FFTs, convolutions, stated shapes, imports, the classes they use), or undefined for the whole file.
 */
export function partialRanges(text: string): Range[] | undefined {
  if (text.length < PARTIAL_FROM) return undefined;
  const chunks = pythonChunks(text);
  if (chunks.length < 2) return undefined;
  const spans = chunks.map((c) => ({
    startIndex: c.start,
    endIndex: c.end,
    startPosition: { row: c.startRow, column: 0 },
    endPosition: { row: c.endRow, column: c.endColumn },
  }));
  const ranges = mergeSpans(spans, relevantMask(text, spans));
  const covered = ranges.reduce((a, r) => a + r.endIndex - r.startIndex, 0);
  return covered < 0.8 * text.length ? ranges : undefined;
}

/** Parses and scans one source text. */
export function scanSource(
  parser: SourceParser,
  file: string,
  language: SourceLanguage,
  text: string,
  opts: ScanOptions = {},
): ScanResult {
  const max = opts.maxChars ?? DEFAULT_MAX_CHARS;
  if (text.length > max) return skipped(file, language, `${text.length} characters, over the ${max}-character limit`);
  let tree: Tree | undefined;
  try {
    const t0 = performance.now();
    const ranges = language === 'python' ? partialRanges(text) : undefined;
    if (ranges && !ranges.length)
      return { ...skipped(file, language, ''), skipped: undefined, ms: { parse: performance.now() - t0, rules: 0 } };
    tree = parser.parse(language, text, null, ranges);
    if (ranges && tree.rootNode.hasError) {
      // The lexer split somewhere the grammar does not agree with: parse it all.
      tree.delete();
      tree = parser.parse(language, text);
    }
    return scanTree(tree, text, parser, file, language, opts, performance.now() - t0);
  } catch (e) {
    const r = skipped(file, language, 'the parser failed');
    r.errors.push(`parse failed: ${e instanceof Error ? e.message : String(e)}`);
    return r;
  } finally {
    tree?.delete();
  }
}

/** One change of a document, as editors report it: a range of the old text replaced by `text`. */
export interface TextChange {
  offset: number;
  length: number;
  text: string;
}

function point(text: string, offset: number): { row: number; column: number } {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** Keeps a tree per document and re-parses incrementally from the changes. */
export class DocumentScanner {
  private readonly docs = new Map<string, { tree: Tree; text: string; language: SourceLanguage }>();

  constructor(
    private readonly parser: SourceParser,
    private readonly opts: () => ScanOptions = () => ({}),
  ) {}

  scan(key: string, language: SourceLanguage, text: string, changes?: readonly TextChange[]): ScanResult {
    const opts = this.opts();
    const max = opts.maxChars ?? DEFAULT_MAX_CHARS;
    if (text.length > max) {
      this.forget(key);
      return skipped(key, language, `${text.length} characters, over the ${max}-character limit`);
    }
    const prev = this.docs.get(key);
    let old: Tree | undefined;
    try {
      if (prev && prev.language === language && changes?.length) {
        let cur = prev.text;
        for (const ch of changes) {
          const start = point(cur, ch.offset);
          const oldEnd = point(cur, ch.offset + ch.length);
          cur = cur.slice(0, ch.offset) + ch.text + cur.slice(ch.offset + ch.length);
          const newEnd = point(cur, ch.offset + ch.text.length);
          prev.tree.edit(
            new Edit({
              startIndex: ch.offset,
              oldEndIndex: ch.offset + ch.length,
              newEndIndex: ch.offset + ch.text.length,
              startPosition: start,
              oldEndPosition: oldEnd,
              newEndPosition: newEnd,
            }),
          );
        }
        // The edits must reproduce the new text; otherwise parse from scratch.
        if (cur === text) old = prev.tree;
      }
      const t0 = performance.now();
      const tree = this.parser.parse(language, text, old);
      const parseMs = performance.now() - t0;
      prev?.tree.delete();
      this.docs.set(key, { tree, text, language });
      return scanTree(tree, text, this.parser, key, language, opts, parseMs);
    } catch (e) {
      this.forget(key);
      const r = skipped(key, language, 'the parser failed');
      r.errors.push(`parse failed: ${e instanceof Error ? e.message : String(e)}`);
      return r;
    }
  }

  forget(key: string): void {
    const d = this.docs.get(key);
    if (d) {
      try {
        d.tree.delete();
      } catch {
        /* already freed */
      }
      this.docs.delete(key);
    }
  }

  dispose(): void {
    for (const k of [...this.docs.keys()]) this.forget(k);
  }
}

export { RULES, ruleDocs, ruleHeading, ruleInfo } from './catalogue';
export type { RuleId } from './rules';
export { GrammarError, SourceParser, checkAbi, languageOf, languageOfId } from './parser';
export { applyEdits } from './text';
export type {
  Finding,
  Fix,
  LayerSite,
  PartialSpec,
  Position,
  ScanResult,
  Severity,
  SourceLanguage,
  SourceRange,
  TextEdit,
} from './types';
