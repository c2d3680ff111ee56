/**
 * Saved reports (workspace storage, or global storage without a folder): one JSON file per run and an
 * index, each written atomically (temp file + rename), so "Open Last Report" and "compare with the
 * previous run" survive a reload and a crash mid-write never leaves a torn file. Files are validated
 * when read; a damaged one is skipped and reported, never shown.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Run, parseRun } from '../core/run';
import { makeDirs, writeAtomic } from '../platform/files';

export interface StoredRun {
  runId: string;
  run: Run;
}

interface IndexEntry {
  runId: string;
  createdAt: string;
  status: string;
}

export class ReportStore {
  constructor(
    private readonly dir: string,
    private readonly keep = 20,
    private readonly onProblem: (msg: string) => void = () => {},
  ) {}

  private get indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  private fileOf(runId: string): string {
    if (!/^[\w.-]+$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
    return path.join(this.dir, `${runId}.json`);
  }

  private readIndex(): IndexEntry[] {
    try {
      const raw = JSON.parse(fs.readFileSync(this.indexFile, 'utf8')) as unknown;
      if (!Array.isArray(raw)) throw new Error('not a list');
      return raw.filter(
        (e): e is IndexEntry =>
          typeof e?.runId === 'string' && /^[\w.-]+$/.test(e.runId) && typeof e?.createdAt === 'string',
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.onProblem(`report index ${this.indexFile} is unreadable (${(e as Error).message}); starting a new one`);
      return [];
    }
  }

  /** Saves a run and returns its id; older runs beyond `keep` are deleted. */
  save(run: Run): string {
    makeDirs(this.dir);
    const stamp = run.createdAt.replace(/[^0-9]/g, '').slice(0, 17);
    let runId = `run-${stamp}`;
    const index = this.readIndex();
    for (let i = 2; index.some((e) => e.runId === runId); i++) runId = `run-${stamp}-${i}`;
    writeAtomic(this.fileOf(runId), JSON.stringify(run));
    index.push({ runId, createdAt: run.createdAt, status: run.status });
    const dropped = index.splice(0, Math.max(0, index.length - this.keep));
    writeAtomic(this.indexFile, JSON.stringify(index, null, 1));
    for (const d of dropped) fs.rmSync(this.fileOf(d.runId), { force: true });
    return runId;
  }

  /** Replaces a saved run (e.g. with its sweep added), atomically. */
  replace(runId: string, run: Run): void {
    if (!this.list().includes(runId)) throw new Error(`no saved run ${runId}`);
    writeAtomic(this.fileOf(runId), JSON.stringify(run));
  }

  load(runId: string): StoredRun | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.fileOf(runId), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return { runId, run: parseRun(JSON.parse(text)) };
    } catch (e) {
      this.onProblem(`saved report ${runId} is damaged and was skipped: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    }
  }

  /** Ids, oldest first. */
  list(): string[] {
    return this.readIndex().map((e) => e.runId);
  }

  last(): StoredRun | undefined {
    const ids = this.list();
    for (let i = ids.length - 1; i >= 0; i--) {
      const r = this.load(ids[i]!);
      if (r) return r;
    }
    return undefined;
  }

  /** The readable run saved before `runId`. */
  previous(runId: string): StoredRun | undefined {
    const ids = this.list();
    const at = ids.indexOf(runId);
    for (let i = (at < 0 ? ids.length : at) - 1; i >= 0; i--) {
      const r = this.load(ids[i]!);
      if (r) return r;
    }
    return undefined;
  }
}
