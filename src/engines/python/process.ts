/**
 * A Python engine's worker process: the user's Python running python/fconv_worker.py with the framework's
 * executor module (`fconv_worker.py torch`), JSON lines over
 * stdio. Every line from it is schema-checked (a malformed or oversized one is rejected and logged);
 * its stderr is kept for error messages; a request can be cancelled (the Python side stops at the next
 * step boundary, or is killed after a grace period); a crash or exit rejects what was in flight within
 * a second, and the next request needs a new process. Worker side (runs inside the engine worker).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type FromPython,
  type Hello,
  PYTHON_PROTOCOL,
  type UserWhere,
  fromPythonSchema,
  helloSchema,
} from '../../protocol/python-protocol';
import { CancelledError, EngineUnavailableError, OutOfMemoryError } from '../engine';
import type { PythonFramework } from './framework';

/** Longest line accepted from Python: a run's outputs come back base64-encoded, a few MB each. */
export const MAX_LINE = 256 * 2 ** 20;

/**
 * Where the worker script is: next to the bundle in dist/python, or in the repository's python/ folder
 * (FCONV_PYTHON_WORKER overrides it, for tests). Its protocol module and the executor modules sit beside it.
 */
export function workerScript(): string {
  const candidates = [
    process.env.FCONV_PYTHON_WORKER,
    path.join(__dirname, 'python', 'fconv_worker.py'),
    path.join(__dirname, '..', 'python', 'fconv_worker.py'),
    path.join(__dirname, '..', '..', '..', 'python', 'fconv_worker.py'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found)
    throw new EngineUnavailableError(`the Python worker script is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** A failure the Python side reported, with its kind. */
export class PythonError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    /** An error in the user's own code: their file and line, and their traceback's frames. */
    readonly where?: UserWhere,
  ) {
    super(message);
    this.name = 'PythonError';
  }
}

interface Pending {
  resolve: (m: FromPython) => void;
  reject: (e: Error) => void;
  onMessage?: (m: FromPython) => void;
  done: (m: FromPython) => boolean;
}

let counter = 0;

/** Every Python process still running, so that a host exiting takes them (and what they started) with it. */
const live = new Set<PythonProcess>();
let exitHook = false;

/** Told of every Python process started (alive) and ended: the engine worker passes it on to the host. */
export const pythonPids: { listener?: (pid: number, alive: boolean) => void } = {};

/** POSIX: each Python process leads its own process group, so a kill reaches what user code started (a subprocess,
 * an os.fork() copy) too. */
const GROUPS = process.platform !== 'win32';

export class PythonProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<string, Pending>();
  private buffer = '';
  private stderr = '';
  private exited: string | undefined;
  /** The OS process is gone (its 'exit' event), as opposed to given up on (`exited`: hung, crashed, cancelled). */
  private gone = false;
  private lastBeat = Date.now();
  /** Silence (no heartbeat, no message) for this long while a request is in flight: the process is hung. */
  readonly hangMs: number;
  readonly hello: Promise<Hello>;
  /** Lines that were not protocol messages (logged by the engine). */
  readonly rejected: string[] = [];

  constructor(
    readonly interpreter: string,
    readonly framework: PythonFramework,
    opts: { env?: NodeJS.ProcessEnv; onRejected?: (why: string) => void; hangMs?: number } = {},
  ) {
    this.hangMs = opts.hangMs ?? Number(process.env.FCONV_TORCH_HANG_MS ?? 10_000);
    this.child = spawn(interpreter, ['-u', workerScript(), framework.id], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...(opts.env ?? process.env), PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
      detached: GROUPS,
    });
    live.add(this);
    if (this.child.pid !== undefined) pythonPids.listener?.(this.child.pid, true);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const p of live) p.kill();
      });
    }
    let helloResolve!: (h: Hello) => void, helloReject!: (e: Error) => void;
    this.hello = new Promise<Hello>((res, rej) => {
      helloResolve = res;
      helloReject = rej;
    });
    this.hello.catch(() => {});
    const reject = (why: string) => {
      opts.onRejected?.(why);
      this.rejected.push(why);
      if (this.rejected.length > 50) this.rejected.shift();
    };
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.onLine(line, helloResolve, reject);
      }
      if (this.buffer.length > MAX_LINE) {
        reject(`a line of over ${MAX_LINE} bytes from Python (dropped)`);
        this.buffer = '';
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-8000)));
    this.child.on('error', (e) => this.fail(`could not start ${interpreter}: ${e.message}`, helloReject));
    this.child.on('exit', (code, sig) => {
      this.gone = true;
      live.delete(this);
      if (this.child.pid !== undefined) pythonPids.listener?.(this.child.pid, false);
      // What it started may outlive it (a user's subprocess): its group goes too.
      this.killGroup();
      // Its last lines (an error message, the answer) may still be in the pipe: read them before saying it ended.
      const report = () => {
        const tail = this.stderrSummary();
        this.fail(
          `the Python process (${interpreter}) ${sig ? `was killed by ${sig}` : `exited with code ${code}`}${tail ? `: ${tail}` : ''}`,
          helloReject,
        );
      };
      const out = this.child.stdout!;
      if (out.readableEnded) report();
      else {
        const t = setTimeout(report, 500);
        out.once('end', () => {
          clearTimeout(t);
          setImmediate(report);
        });
      }
    });
    // A closed pipe on our side must not crash the engine worker.
    this.child.stdin!.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  private stderrSummary(): string {
    const lines = this.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const err = lines.filter((l) => /Error|error:|Traceback/.test(l)).slice(-2);
    return (err.length ? err : lines.slice(-2)).join(' | ').slice(0, 500);
  }

  private onLine(line: string, helloResolve: (h: Hello) => void, reject: (why: string) => void): void {
    if (!line.trim()) return;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      reject(`a line from Python that is not JSON (dropped): ${line.slice(0, 200)}`);
      return;
    }
    const parsed = fromPythonSchema.safeParse(doc);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      reject(
        `a malformed message from Python (dropped): ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`,
      );
      return;
    }
    const msg = parsed.data;
    this.lastBeat = Date.now();
    if (msg.type === 'heartbeat') return;
    if (msg.type === 'hello') {
      const h = helloSchema.parse(msg);
      if (h.protocol !== PYTHON_PROTOCOL)
        reject(`the ${this.framework.label} worker speaks protocol ${h.protocol}, expected ${PYTHON_PROTOCOL}`);
      helloResolve(h);
      return;
    }
    const rid = msg.id;
    if (rid === null) {
      if (msg.type === 'error') reject(`Python: ${msg.message}`);
      return;
    }
    const p = this.pending.get(rid);
    if (!p) return;
    if (p.done(msg)) {
      this.pending.delete(rid);
      if (msg.type === 'error') p.reject(errorOf(this.framework.label, msg.kind, msg.message, msg.where));
      else p.resolve(msg);
    } else p.onMessage?.(msg);
  }

  private fail(why: string, helloReject: (e: Error) => void): void {
    if (this.exited !== undefined) return;
    this.exited = why;
    helloReject(new EngineUnavailableError(why));
    for (const [rid, p] of this.pending) {
      this.pending.delete(rid);
      p.reject(new PythonError('crashed', why));
    }
  }

  /**
   * Sends a request and resolves with the message `done` accepts (an error message rejects). `signal`
   * cancels: the Python side is asked to stop, and killed if it has not after `graceMs`.
   */
  request<T extends FromPython['type']>(
    msg: Record<string, unknown>,
    answer: T,
    o: {
      onMessage?: (m: FromPython) => void;
      isCancelled?: () => boolean;
      graceMs?: number;
      /** This request's own hang limit, when it may block the heartbeat for longer (a profiler's first start-up). */
      hangMs?: number;
    } = {},
  ): Promise<Extract<FromPython, { type: T }>> {
    const hangMs = o.hangMs ?? this.hangMs;
    if (this.exited !== undefined) return Promise.reject(new PythonError('crashed', this.exited));
    const rid = `t${process.pid}-${++counter}`;
    return new Promise((resolve, reject) => {
      let poll: NodeJS.Timeout | undefined;
      let kill: NodeJS.Timeout | undefined;
      this.lastBeat = Date.now();
      let lastTick = Date.now();
      // A hung Python (no heartbeat from its own thread) is killed and named, not waited on forever.
      const watch = setInterval(() => {
        const now = Date.now();
        const stalled = now - lastTick > Math.min(2000, hangMs / 2);
        lastTick = now;
        // This process's own event loop was blocked (a long synchronous step here): the beats Python sent meanwhile
        // are still in the pipe, unread — that is no sign of a hang. Give them a tick to arrive.
        if (stalled) {
          this.lastBeat = Math.max(this.lastBeat, now - 250);
          return;
        }
        if (now - this.lastBeat <= hangMs) return;
        const why = `the Python process (${this.interpreter}) stopped responding (no heartbeat for ${((Date.now() - this.lastBeat) / 1000).toFixed(1)} s); it was killed`;
        this.fail(why, () => {});
        this.kill();
      }, 250);
      const stop = () => {
        clearInterval(watch);
        if (poll) clearInterval(poll);
        if (kill) clearTimeout(kill);
      };
      this.pending.set(rid, {
        resolve: (m) => {
          stop();
          resolve(m as Extract<FromPython, { type: T }>);
        },
        reject: (e) => {
          stop();
          reject(e);
        },
        onMessage: o.onMessage,
        done: (m) => m.type === answer || m.type === 'error',
      });
      if (o.isCancelled) {
        poll = setInterval(() => {
          if (!o.isCancelled!()) return;
          clearInterval(poll);
          poll = undefined;
          this.send({ type: 'cancel', id: rid });
          kill = setTimeout(() => this.kill(), o.graceMs ?? 600);
        }, 25);
      }
      this.send({ ...msg, id: rid });
    });
  }

  private send(msg: Record<string, unknown>): void {
    if (this.exited !== undefined) return;
    this.child.stdin!.write(`${JSON.stringify(msg)}\n`);
  }

  /** Ends the process and its process group — also after it was given up on (hung: `exited` is set, it still runs). */
  kill(): void {
    if (this.gone) return;
    this.killGroup();
    try {
      this.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }

  private killGroup(): void {
    const pid = this.child.pid;
    if (!GROUPS || pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* no such group: nothing left */
    }
  }

  close(): void {
    if (this.gone) return;
    if (this.exited === undefined) this.child.stdin!.end();
    setTimeout(() => this.kill(), this.exited === undefined ? 2000 : 0).unref();
  }
}

function errorOf(label: string, kind: string, message: string, where?: UserWhere): Error {
  if (kind === 'cancelled') return new CancelledError();
  if (kind === 'memory') return new OutOfMemoryError(`${label} ran out of memory: ${message}`);
  if (kind === 'budget') return new OutOfMemoryError(message);
  if (kind === 'engine') return new EngineUnavailableError(message);
  return new PythonError(kind, message, where);
}

/** Base64 float32 (little-endian) → Float32Array. */
export function decodeFloats(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

export function encodeFloats(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
