/**
 * Top-level statements of a Python source, found by a small lexer (strings, comments, brackets, line
 * continuations) without parsing: a one-shot scan parses only the statements that can produce a finding
 * (tree-sitter's included ranges). Host-free.
 */

export interface Chunk {
  start: number;
  /** Offset of the first character after the chunk (the start of the next one, or the text's end). */
  end: number;
  startRow: number;
  endRow: number;
  endColumn: number;
}

/** Lines at column 0 that continue the statement before them. */
const CONTINUES = /^(else|elif|except|finally)\b/;

export function pythonChunks(text: string): Chunk[] {
  const starts: Array<{ offset: number; row: number }> = [{ offset: 0, row: 0 }];
  let depth = 0;
  let row = 0;
  let quote = '';
  let triple = false;
  let decorators = text.startsWith('@');
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (c === '\n') row++;
    if (quote) {
      if (c === '\\') {
        if (text[i + 1] === '\n') row++;
        i++;
      } else if (triple ? c === quote && text[i + 1] === quote && text[i + 2] === quote : c === quote) {
        if (triple) i += 2;
        quote = '';
      } else if (c === '\n' && !triple) quote = ''; // an unterminated string ends at the line
      continue;
    }
    if (c === '#') {
      const eol = text.indexOf('\n', i);
      i = (eol === -1 ? n : eol) - 1;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      triple = text[i + 1] === c && text[i + 2] === c;
      if (triple) i += 2;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\\' && text[i + 1] === '\n') {
      i++;
      row++;
    } else if (c === '\n' && depth === 0) {
      const next = text[i + 1];
      if (next === undefined || next === ' ' || next === '\t' || next === '\n' || next === '\r' || next === '#')
        continue;
      if (CONTINUES.test(text.slice(i + 1, i + 9))) continue;
      const isDecorator = next === '@';
      if (decorators) {
        // More decorators, or the def/class they belong to: the same statement.
        if (!isDecorator) decorators = false;
        continue;
      }
      decorators = isDecorator;
      starts.push({ offset: i + 1, row });
    }
  }
  const out: Chunk[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    const e = starts[k + 1];
    if (e) out.push({ start: s.offset, end: e.offset, startRow: s.row, endRow: e.row, endColumn: 0 });
    else {
      const lastNl = text.lastIndexOf('\n');
      out.push({ start: s.offset, end: n, startRow: s.row, endRow: row, endColumn: n - (lastNl + 1) });
    }
  }
  return out;
}
