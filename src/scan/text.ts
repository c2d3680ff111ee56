/** Ranges and edits in the scanned text (tree-sitter reports UTF-16 offsets and columns here). Host-free. */
import type { Node } from 'web-tree-sitter';
import type { SourceRange, TextEdit } from './types';

export function rangeOf(n: Node): SourceRange {
  return {
    start: { line: n.startPosition.row, column: n.startPosition.column },
    end: { line: n.endPosition.row, column: n.endPosition.column },
    startOffset: n.startIndex,
    endOffset: n.endIndex,
  };
}

export function replace(n: Node, newText: string): TextEdit {
  return { range: rangeOf(n), newText };
}

/** Applies edits (non-overlapping) to a text: the tests' and the CLI's view of a quick fix. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.range.startOffset - a.range.startOffset);
  let out = text;
  let floor = Infinity;
  for (const e of sorted) {
    if (e.range.endOffset > floor) throw new Error('overlapping edits');
    out = out.slice(0, e.range.startOffset) + e.newText + out.slice(e.range.endOffset);
    floor = e.range.startOffset;
  }
  return out;
}
