/**
 * The candidate rewrites of `fconv optimize` as files: each rewritten file in a temp folder of its own (same base
 * name, so the lines of its class are its own in tracebacks and per-line profiles), removed by `dispose`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type RewriteCandidate, type RewritePlan, applyRewrite } from '../scan/optimize';
import { makeDirs, writeAtomic } from './files';

export interface CandidateFiles {
  /** What the Python side executes per candidate: its file, the line its helpers + class start at, that source. */
  candidates: Array<{ id: string; file: string; line: number; source: string }>;
  /** A file of the temp folder for `text` (the chosen rewrite, profiled per line). */
  write(name: string, text: string): string;
  dispose(): void;
}

export function writeCandidates(file: string, text: string, plan: RewritePlan): CandidateFiles {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fconv-optimize-'));
  const write = (name: string, body: string) => {
    const f = path.join(tmp, name.replace(/[^\w]+/g, '_'), path.basename(file));
    makeDirs(path.dirname(f));
    writeAtomic(f, body);
    return f;
  };
  const line = text.slice(0, plan.start).split('\n').length;
  const candidates = plan.candidates.map((c: RewriteCandidate) => ({
    id: c.id,
    file: write(c.id, applyRewrite(text, plan, c)),
    line,
    source: c.helpers + c.classSource,
  }));
  return { candidates, write, dispose: () => rmSync(tmp, { recursive: true, force: true }) };
}
