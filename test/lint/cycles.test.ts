/**
 * No import circles in src/ and webview/ (issue #24): a circle makes the order modules initialise in depend on
 * who imports first, and says two files are one subject split badly. Type-only imports count too (they say the
 * same about the design). Relative imports are followed; packages are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name) ? [p] : [];
  });
}

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((p) => fs.existsSync(p));
}

/** The import graph of the files: file → the files it imports (relative imports and re-exports). */
export function importGraph(files: string[]): Map<string, string[]> {
  const g = new Map<string, string[]>();
  const re = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.[^'"]+)['"]/g;
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    const out = new Set<string>();
    for (const m of text.matchAll(re)) {
      const r = resolve(f, m[1]!);
      if (r) out.add(r);
    }
    g.set(f, [...out]);
  }
  return g;
}

/** Every strongly connected component of more than one file (or a file importing itself). */
export function circles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(),
    low = new Map<string, number>(),
    on = new Set<string>(),
    stack: string[] = [],
    out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) out.push(comp.map((p) => path.relative(ROOT, p)).sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('no import circles in src/ or webview/', () => {
  const files = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'webview'))];
  assert.deepEqual(circles(importGraph(files)), []);
});

test('the circle finder finds a two-file circle and a longer one, and nothing in a chain', () => {
  const g = new Map<string, string[]>([
    [path.join(ROOT, 'a'), [path.join(ROOT, 'b')]],
    [path.join(ROOT, 'b'), [path.join(ROOT, 'a')]],
    [path.join(ROOT, 'c'), [path.join(ROOT, 'd')]],
    [path.join(ROOT, 'd'), [path.join(ROOT, 'e')]],
    [path.join(ROOT, 'e'), [path.join(ROOT, 'c')]],
    [path.join(ROOT, 'f'), [path.join(ROOT, 'g')]],
    [path.join(ROOT, 'g'), []],
  ]);
  assert.deepEqual(circles(g), [
    ['a', 'b'],
    ['c', 'd', 'e'],
  ]);
});
