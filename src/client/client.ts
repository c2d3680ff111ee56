/**
 * Host side of the worker protocol: forks the engine worker, runs profiles on it, cancels them (within
 * 1 s: a worker stuck inside one long kernel is killed and what it measured is kept), and survives a
 * worker that crashes — the next run forks a fresh one. Used by the CLI and by the extension.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Probe } from '../core/model';
import { type Run, SCHEMA_VERSION, type VariantResult } from '../core/run';
import { type LayerSpec, geometry } from '../core/spec';
import type { UserWhere } from '../protocol/python-protocol';
import {
  type DevicesReport,
  type EngineChoice,
  type EngineRequest,
  type EngineInfo,
  type FromWorker,
  type ProgressMsg,
  type RunOptions,
  type ToWorker,
  describeZodError,
  fromWorkerSchema,
  toWorkerSchema,
} from '../protocol/worker-protocol';

export type WorkerErrorKind = FromWorkerErrorKind | 'crashed';
type FromWorkerErrorKind = Extract<FromWorker, { type: 'error' }>['error']['kind'];

export class WorkerError extends Error {
  constructor(
    readonly kind: WorkerErrorKind,
    message: string,
    readonly partial?: Run,
    /** An error in the user's code (profile-layer): their file:line and traceback. */
    readonly where?: UserWhere,
  ) {
    super(message);
    this.name = kind === 'crashed' ? 'WorkerCrashedError' : 'WorkerError';
  }
}

export interface RunHandlers {
  onProgress?: (p: ProgressMsg) => void;
  onEngine?: (info: EngineInfo) => void;
  onVariant?: (v: VariantResult) => void;
  /** Protocol violations seen from the worker (logged by the host, never acted on). */
  onRejected?: (why: string) => void;
  signal?: AbortSignal;
}

export interface ProbeHandlers {
  onProgress?: (p: { what: string; index: number; count: number }) => void;
  signal?: AbortSignal;
}

export interface ClientOptions {
  workerPath: string;
  /** Name and version recorded in runs assembled here (cancelled or crashed runs). */
  tool?: { name: string; version: string };
  /** How long a cancelled run may take to stop at a step boundary before the worker is killed. */
  cancelGraceMs?: number;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Passed to fork: e.g. process.execPath of Electron with ELECTRON_RUN_AS_NODE. */
  execPath?: string;
  /**
   * The worker's working folder (default: this process's). Interpreter discovery tries its `.venv` and `venv`: the
   * extension gives the worker its own folder, so that no environment of an untrusted workspace is ever run.
   */
  cwd?: string;
  /** Lines the worker says while a request waits (interpreter discovery waiting on a slow candidate). */
  onNote?: (text: string) => void;
}

let counter = 0;

/**
 * What a dead worker's stderr says, in one line: the error lines of its stack trace ("Error: Cannot
 * find module …") rather than its last lines (Node's version banner, a closing brace).
 */
export function stderrSummary(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) =>
    /^(\w*Error|Uncaught|FATAL|Cannot |.*: cannot open)|\b(ENOENT|EACCES|MODULE_NOT_FOUND)\b/.test(l),
  );
  const pick = [...new Set(errors.length ? errors : lines.slice(-2))].slice(0, 2);
  return pick.join(' | ').slice(0, 500);
}

export class WorkerClient {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private busy = false;
  /** Process groups of the Python processes the worker started (ended with it on killNow and at exit). */
  private readonly pythonGroups = new Set<number>();
  private exitHooked = false;
  /** The last 4 kB each worker wrote to stderr, for crash messages. */
  private readonly stderrOf = new WeakMap<ChildProcess, string>();

  constructor(private readonly opts: ClientOptions) {
    this.opts = { ...opts };
  }

  /** Environment for the next worker; a running idle worker with another environment is stopped. */
  setEnv(env: NodeJS.ProcessEnv): void {
    const same = JSON.stringify(env) === JSON.stringify(this.opts.env);
    this.opts.env = env;
    if (!same && !this.busy) this.dispose();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): Promise<ChildProcess> {
    if (this.ready) return this.ready;
    const child = fork(this.opts.workerPath, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: this.opts.execArgv ?? [],
      env: this.opts.env ?? process.env,
      execPath: this.opts.execPath,
      ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}),
      serialization: 'json',
    });
    this.child = child;
    this.stderrOf.set(child, '');
    child.on('message', (m: unknown) => {
      const p = fromWorkerSchema.safeParse(m);
      if (p.success && p.data.type === 'python-pid') {
        if (p.data.alive) this.pythonGroups.add(p.data.pid);
        else this.pythonGroups.delete(p.data.pid);
      }
      if (p.success && p.data.type === 'note') this.opts.onNote?.(p.data.text);
    });
    if (!this.exitHooked) {
      this.exitHooked = true;
      process.on('exit', () => this.killPythonGroups());
    }
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrOf.set(child, ((this.stderrOf.get(child) ?? '') + d.toString()).slice(-4000));
    });
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const onMsg = (m: unknown) => {
        const p = fromWorkerSchema.safeParse(m);
        if (p.success && p.data.type === 'ready') {
          child.off('message', onMsg);
          child.off('exit', onExit);
          resolve(child);
        }
      };
      const onExit = (code: number | null, sig: string | null) => {
        this.reset(child);
        const stderr = this.stderrOf.get(child) ?? '';
        reject(
          new WorkerError(
            'crashed',
            `engine worker exited before it was ready (${sig ? `signal ${sig}` : `code ${code}`})${stderr ? `: ${stderrSummary(stderr)}` : ''}`,
          ),
        );
      };
      child.on('message', onMsg);
      child.once('exit', onExit);
      child.once('error', (e) => {
        this.reset(child);
        reject(new WorkerError('crashed', `could not start the engine worker: ${e.message}`));
      });
    });
    child.once('exit', () => this.reset(child));
    return this.ready;
  }

  private reset(child: ChildProcess): void {
    if (this.child === child) {
      this.child = undefined;
      this.ready = undefined;
    }
  }

  /** Runs one profile. Resolves with the run (status 'cancelled' keeps what was measured). */
  async run(spec: LayerSpec, options: RunOptions, h: RunHandlers = {}): Promise<Run> {
    if (this.busy) throw new WorkerError('busy', 'a profile is already running');
    this.busy = true;
    try {
      const child = await this.start();
      return await this.exchange(child, spec, options, h);
    } finally {
      this.busy = false;
    }
  }

  private exchange(child: ChildProcess, spec: LayerSpec, options: RunOptions, h: RunHandlers): Promise<Run> {
    const id = `run-${process.pid}-${++counter}`;
    const variants: VariantResult[] = [];
    let info: EngineInfo | undefined;
    const startedAt = Date.now();
    const partial = (status: Run['status'], failure?: string): Run => ({
      schemaVersion: SCHEMA_VERSION,
      tool: this.opts.tool ?? { name: 'fourier-conv-profiler', version: '' },
      createdAt: new Date(startedAt).toISOString(),
      status,
      ...(failure ? { failure } : {}),
      engine: info?.engine ?? 'unknown',
      backend: info?.backend ?? 'unknown',
      device: info?.device ?? 'unknown',
      engineNotes: info?.notes ?? [],
      spec,
      geometry: geometry(spec),
      settings: { warmup: options.warmup, reps: options.reps, seed: options.seed },
      timingNote: info?.timingNote ?? '',
      variants: [...variants],
      wallMs: Date.now() - startedAt,
    });
    return new Promise<Run>((resolve, reject) => {
      let killTimer: NodeJS.Timeout | undefined;
      let cancelled = false;
      const cleanup = () => {
        child.off('message', onMsg);
        child.off('exit', onExit);
        h.signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
      };
      const onMsg = (m: unknown) => {
        const p = fromWorkerSchema.safeParse(m);
        if (!p.success) {
          h.onRejected?.(`rejected a malformed message from the worker: ${describeZodError(p.error)}`);
          return;
        }
        const msg: FromWorker = p.data;
        if (msg.type === 'ready' || msg.type === 'python-pid' || msg.type === 'note' || msg.id !== id) {
          if (msg.type === 'error' && msg.id === null) h.onRejected?.(msg.error.message);
          return;
        }
        switch (msg.type) {
          case 'engine':
            info = msg.info;
            h.onEngine?.(msg.info);
            break;
          case 'progress':
            h.onProgress?.(msg.progress);
            break;
          case 'variant':
            variants.push(msg.variant);
            h.onVariant?.(msg.variant);
            break;
          case 'result':
            cleanup();
            resolve(msg.run);
            break;
          case 'error':
            cleanup();
            reject(
              new WorkerError(
                msg.error.kind,
                msg.error.message,
                variants.length ? partial('failed', msg.error.message) : undefined,
              ),
            );
            break;
        }
      };
      const onExit = (code: number | null, sig: string | null) => {
        cleanup();
        if (cancelled) {
          resolve(partial('cancelled'));
          return;
        }
        const stderr = this.stderrOf.get(child) ?? '';
        const oom = /heap out of memory|Allocation failed|std::bad_alloc|Aborted/.test(stderr);
        const why = sig ? `was killed by ${sig}` : `exited with code ${code}`;
        const message = `the engine worker ${why} during the run${oom ? ' (out of memory)' : ''}${stderr ? `: ${stderrSummary(stderr)}` : ''}. The next run starts a fresh worker.`;
        reject(new WorkerError('crashed', message, partial('failed', message)));
      };
      const onAbort = () => {
        if (cancelled) return;
        cancelled = true;
        this.post(child, { type: 'cancel', id });
        // A step that runs longer than the grace period cannot be interrupted: kill the worker.
        killTimer = setTimeout(() => this.killWorker(child), this.opts.cancelGraceMs ?? 700);
      };
      if (h.signal?.aborted) {
        // Cancelled before it started: nothing to stop, nothing measured.
        resolve(partial('cancelled'));
        return;
      }
      child.on('message', onMsg);
      child.once('exit', onExit);
      h.signal?.addEventListener('abort', onAbort, { once: true });
      this.post(child, { type: 'run', id, spec, options });
    });
  }

  /**
   * Measures the machine's rates on an engine (src/core/model.ts's probe), with progress; an abort
   * cancels it (within the grace period, else the worker is killed) and rejects with kind 'cancelled'.
   */
  probe(engine: EngineChoice | EngineRequest, h: ProbeHandlers = {}): Promise<{ probe: Probe; info: EngineInfo }> {
    const choice = typeof engine === 'string' ? { engine } : engine;
    return this.request(
      'probe',
      (id) => ({ type: 'probe', id, ...choice }),
      (m) => {
        if (m.type === 'probe-progress') h.onProgress?.({ what: m.what, index: m.index, count: m.count });
        return m.type === 'probe' ? { probe: m.probe, info: m.info } : undefined;
      },
      h.signal,
    );
  }

  /** Which engine, backend and device a choice resolves to (the worker starts the engine and keeps it). */
  engineInfo(engine: EngineChoice | EngineRequest, signal?: AbortSignal): Promise<EngineInfo> {
    const choice = typeof engine === 'string' ? { engine } : engine;
    return this.request(
      'engine information',
      (id) => ({ type: 'engine-info', id, ...choice }),
      (m) => (m.type === 'engine' ? m.info : undefined),
      signal,
    );
  }

  /** What the worker finds of GPUs and CUDA libraries (the native addon loads there, never in this process). */
  devices(cudaLibDirs: string[] = [], python: EngineChoice['python'] = []): Promise<DevicesReport> {
    return this.request(
      'devices',
      (id) => ({ type: 'devices', id, cudaLibDirs, python }),
      (m) => (m.type === 'devices' ? m.devices : undefined),
    );
  }

  /** One request, one answer: an error message or the worker's exit rejects it. */
  /**
   * Profiles the user's own PyTorch class (their code, in a Python process of its own); an abort cancels
   * it. Errors in their code reject with kind 'user-code' / 'user-import' and `where` (file:line, frames).
   */
  profileLayer(
    msg: Omit<Extract<ToWorker, { type: 'layer-profile' }>, 'type' | 'id'>,
    h: { onProgress?: (p: { phase: string; index: number; count: number }) => void; signal?: AbortSignal } = {},
  ): Promise<Extract<FromWorker, { type: 'layer-profiled' }>> {
    return this.request(
      'layer profile',
      (id) => ({ type: 'layer-profile', id, ...msg }),
      (m) => {
        if (m.type === 'layer-progress') h.onProgress?.({ phase: m.phase, index: m.index, count: m.count });
        return m.type === 'layer-profiled' ? m : undefined;
      },
      h.signal,
    );
  }

  /** "Make it fast": the rewrites of the user's class proven and timed against it (as profileLayer runs). */
  optimizeLayer(
    msg: Omit<Extract<ToWorker, { type: 'layer-optimize' }>, 'type' | 'id'>,
    h: { onProgress?: (p: { phase: string; index: number; count: number }) => void; signal?: AbortSignal } = {},
  ): Promise<Extract<FromWorker, { type: 'layer-optimized' }>> {
    return this.request(
      'layer profile',
      (id) => ({ type: 'layer-optimize', id, ...msg }),
      (m) => {
        if (m.type === 'layer-progress') h.onProgress?.({ phase: m.phase, index: m.index, count: m.count });
        return m.type === 'layer-optimized' ? m : undefined;
      },
      h.signal,
    );
  }

  private async request<T>(
    what: 'probe' | 'devices' | 'layer profile' | 'engine information',
    message: (id: string) => ToWorker,
    answer: (m: FromWorker) => T | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    if (this.busy) throw new WorkerError('busy', 'a profile is already running');
    if (signal?.aborted) throw new WorkerError('cancelled', `the ${what} was cancelled`);
    this.busy = true;
    try {
      const child = await this.start();
      const id = `${what}-${process.pid}-${++counter}`;
      return await new Promise<T>((resolve, reject) => {
        let killTimer: NodeJS.Timeout | undefined;
        let cancelled = false;
        const cleanup = () => {
          child.off('message', onMsg);
          child.off('exit', onExit);
          signal?.removeEventListener('abort', onAbort);
          if (killTimer) clearTimeout(killTimer);
        };
        const onAbort = () => {
          cancelled = true;
          this.post(child, { type: 'cancel', id });
          killTimer = setTimeout(() => this.killWorker(child), this.opts.cancelGraceMs ?? 700);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const onMsg = (m: unknown) => {
          const p = fromWorkerSchema.safeParse(m);
          if (
            !p.success ||
            p.data.type === 'ready' ||
            p.data.type === 'python-pid' ||
            p.data.type === 'note' ||
            p.data.id !== id
          )
            return;
          const value = answer(p.data);
          if (value !== undefined) {
            cleanup();
            resolve(value);
          } else if (p.data.type === 'error') {
            cleanup();
            reject(new WorkerError(p.data.error.kind, p.data.error.message, undefined, p.data.error.where));
          }
        };
        const onExit = (code: number | null, sig: string | null) => {
          cleanup();
          if (cancelled) {
            reject(new WorkerError('cancelled', `the ${what} was cancelled`));
            return;
          }
          reject(
            new WorkerError(
              'crashed',
              `the engine worker ${sig ? `was killed by ${sig}` : `exited with code ${code}`} during the ${what}`,
            ),
          );
        };
        child.on('message', onMsg);
        child.once('exit', onExit);
        this.post(child, message(id));
      });
    } finally {
      this.busy = false;
    }
  }

  private post(child: ChildProcess, msg: ToWorker): void {
    toWorkerSchema.parse(msg);
    child.send(msg);
  }

  /** Sends a raw (possibly malformed) message: for tests of the worker's validation. */
  async sendRaw(msg: unknown): Promise<FromWorker> {
    const child = await this.start();
    return new Promise((resolve) => {
      const onMsg = (m: unknown) => {
        const p = fromWorkerSchema.safeParse(m);
        if (p.success && p.data.type === 'error') {
          child.off('message', onMsg);
          resolve(p.data);
        }
      };
      child.on('message', onMsg);
      child.send(msg as object);
    });
  }

  /**
   * Stops the worker at once (a second Ctrl-C): the run or probe in flight ends as cancelled. The Python process
   * groups it started go too — user code holding the GIL would not notice its stdin closing.
   */
  killNow(): void {
    this.killPythonGroups();
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** A worker that did not stop when asked: it, and the Python groups it started (they may hold the GIL). */
  private killWorker(child: ChildProcess): void {
    this.killPythonGroups();
    child.kill('SIGKILL');
  }

  private killPythonGroups(): void {
    if (process.platform === 'win32') return;
    for (const pid of this.pythonGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    this.pythonGroups.clear();
  }

  dispose(): void {
    this.killPythonGroups();
    const c = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (c && c.exitCode === null) {
      c.disconnect?.();
      c.kill();
    }
  }
}
