/**
 * The engine worker process (forked by the CLI and by the extension). Heavy work — engines, the native
 * addon, probes — runs here, never in the host. Speaks only the schema-checked protocol of
 * src/protocol/worker-protocol.ts.
 */
import { type VariantPlan, planVariant } from '../core/variants';
import { estimateRunBytes, formatBytes } from '../core/memory';
import { SpecError, specProblems } from '../core/spec';
import {
  type EngineChoice,
  type FromWorker,
  type ToWorker,
  describeZodError,
  toWorkerSchema,
} from '../protocol/worker-protocol';
import { CancelledError, type Engine, EngineUnavailableError, OutOfMemoryError } from './engine';
import { devicesReport } from './devices';
import { profile } from './profiler';
import { pythonPids } from './python/process';
import {
  TimeLimitError,
  type UserLayerOptions,
  UserCodeError,
  optimizeUserLayer,
  profileUserLayer,
} from './python/user-layer';
import { createEngine } from './select';
import { discoveryNotes } from './python/discovery';

declare const FCONV_VERSION: string | undefined;
const version = typeof FCONV_VERSION === 'string' ? FCONV_VERSION : '0.0.0-dev';

// The host learns every Python process group this worker starts, to end them if it has to stop the worker at once.
pythonPids.listener = (pid, alive) => send({ type: 'python-pid', pid, alive });
// What interpreter discovery is waiting on, said as it happens (a hanging interpreter is otherwise silence).
discoveryNotes.listener = (text) => send({ type: 'note', text });

function send(msg: FromWorker): void {
  process.send?.(msg);
}

const engines = new Map<string, Promise<Engine>>();
let current: { id: string; cancelled: boolean } | undefined;

/** One engine per choice (engine, interpreter, device, threads), kept for later runs while it is usable. */
async function engineFor(choice: EngineChoice): Promise<Engine> {
  const key = JSON.stringify([
    choice.engine,
    choice.python ?? [],
    choice.torchDevice ?? null,
    choice.threads ?? null,
    choice.tfMode ?? null,
  ]);
  let enginePromise = engines.get(key);
  if (enginePromise) {
    const e = await enginePromise.catch(() => undefined);
    // A PyTorch process that died (killed, crashed) is replaced by a fresh one.
    if (!e || !e.alive) {
      engines.delete(key);
      e?.shutdown();
      enginePromise = undefined;
    }
  }
  if (!enginePromise) {
    enginePromise = createEngine(choice.engine, undefined, {
      python: choice.python ?? [],
      device: choice.torchDevice,
      threads: choice.threads,
      ...(choice.tfMode ? { options: { mode: choice.tfMode } } : {}),
    });
    engines.set(key, enginePromise);
    enginePromise.catch(() => engines.delete(key));
  }
  return enginePromise;
}

/**
 * After a sticky CUDA error the context is poisoned for the rest of this process: every later call would fail
 * too. The engine says so; the worker then ends once its answer is out, and the host starts a fresh one for
 * the next request (a cached engine that keeps failing is what it would otherwise get).
 */
function restartIfPoisoned(engine: Engine | undefined): void {
  const why = engine?.restartRequired;
  if (!why) return;
  process.stderr.write(`engine worker: restarting after a sticky CUDA error (${why})\n`);
  setTimeout(() => process.exit(0), 100);
}

/** One job at a time: another request while one runs is answered with a busy error (true: refused). */
function refuseIfBusy(id: string): boolean {
  if (!current) return false;
  send({
    type: 'error',
    id,
    error: { kind: 'busy', name: 'BusyError', message: `run ${current.id} is still in progress` },
  });
  return true;
}

/** A failure as the protocol's error: its kind from its class (the user's code, cancel, time limit, engine, memory). */
function sendError(id: string, e: unknown): void {
  const err = e as Error;
  const kind =
    e instanceof UserCodeError
      ? e.kind
      : e instanceof SpecError
        ? 'usage'
        : e instanceof CancelledError
          ? 'cancelled'
          : e instanceof TimeLimitError
            ? 'time-limit'
            : e instanceof EngineUnavailableError
              ? 'engine'
              : e instanceof OutOfMemoryError
                ? 'memory'
                : 'internal';
  send({
    type: 'error',
    id,
    error: {
      kind,
      name: err?.name ?? 'Error',
      message: err?.message ?? String(e),
      ...(e instanceof UserCodeError && e.where ? { where: e.where } : {}),
    },
  });
}

function infoOf(engine: Engine) {
  return {
    engine: engine.name,
    backend: engine.backend,
    device: engine.device,
    notes: engine.notes,
    timingNote: engine.timingNote,
  };
}

async function handleProbe(msg: Extract<ToWorker, { type: 'probe' }>): Promise<void> {
  if (refuseIfBusy(msg.id)) return;
  const state = { id: msg.id, cancelled: false };
  current = state;
  try {
    const engine = await engineFor(msg);
    await engine.activate?.();
    if (!engine.probe) throw new Error(`the ${engine.name} engine has no probe`);
    const probe = await engine.probe(async (what, index, count) => {
      send({ type: 'probe-progress', id: msg.id, what, index, count });
      await new Promise<void>((r) => setImmediate(r));
      if (state.cancelled) throw new CancelledError();
    });
    send({ type: 'probe', id: msg.id, probe, info: infoOf(engine) });
  } catch (e) {
    sendError(msg.id, e);
  } finally {
    current = undefined;
  }
}

/** Which engine a choice resolves to: the probe cache is keyed by it before anything is measured. */
async function handleEngineInfo(msg: Extract<ToWorker, { type: 'engine-info' }>): Promise<void> {
  if (refuseIfBusy(msg.id)) return;
  current = { id: msg.id, cancelled: false };
  try {
    send({ type: 'engine', id: msg.id, info: infoOf(await engineFor(msg)) });
  } catch (e) {
    sendError(msg.id, e);
  } finally {
    current = undefined;
  }
}

async function handleRun(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  if (refuseIfBusy(msg.id)) return;
  const state = { id: msg.id, cancelled: false };
  let lastKey = '';
  let lastSent = 0;
  let used: Engine | undefined;
  current = state;
  try {
    const problems = specProblems(msg.spec);
    if (problems.length) throw new SpecError(problems[0]!);
    const need = estimateRunBytes(msg.spec, msg.options.variants);
    if (need > msg.options.maxMemoryBytes) {
      send({
        type: 'error',
        id: msg.id,
        error: {
          kind: 'memory',
          name: 'MemoryBudgetError',
          message: `estimated memory ${formatBytes(need)} is above the budget of ${formatBytes(msg.options.maxMemoryBytes)}`,
        },
      });
      return;
    }
    const engine = await engineFor(msg.options);
    if (engine.memoryLimitBytes !== undefined && need > 0.9 * engine.memoryLimitBytes) {
      send({
        type: 'error',
        id: msg.id,
        error: {
          kind: 'memory',
          name: 'MemoryBudgetError',
          message: `estimated memory ${formatBytes(need)} does not fit the ${formatBytes(engine.memoryLimitBytes)} heap of the ${engine.backend} engine; shrink the batch or the image, or use another engine`,
        },
      });
      return;
    }
    send({ type: 'engine', id: msg.id, info: infoOf(engine) });
    used = engine;
    const run = await profile(
      engine,
      msg.spec,
      { ...msg.options, adaptiveBudgetMs: 250 },
      {
        tool: { name: 'fourier-conv-profiler', version },
        isCancelled: () => state.cancelled,
        onProgress: (p) => {
          // At most ~20 progress messages a second, but every change of variant or phase.
          const key = `${p.variant}:${p.phase}`;
          const t = Date.now();
          if (key === lastKey && t - lastSent < 50) return;
          lastKey = key;
          lastSent = t;
          send({ type: 'progress', id: msg.id, progress: p });
        },
        onVariant: (v) => send({ type: 'variant', id: msg.id, variant: v }),
      },
    );
    // The same variants on the engine's independent clock (torch.utils.benchmark in the same process), beside the
    // profile's own numbers: a check of the timing itself (gpu-check's, --crosscheck).
    const cross = (engine as { crosscheck?: (plan: VariantPlan, seconds: number) => Promise<number> }).crosscheck;
    if (msg.options.crosscheck && cross && engine.loop === 'remote' && run.status === 'ok')
      for (const v of run.variants) {
        if (state.cancelled) break;
        v.crosscheckMs = await cross.call(engine, planVariant(v.name, msg.spec, engine.remote.traits), 0.5);
      }
    send({ type: 'result', id: msg.id, run });
  } catch (e) {
    sendError(msg.id, e);
  } finally {
    current = undefined;
    restartIfPoisoned(used);
  }
}

async function handleLayerProfile(
  msg: Extract<ToWorker, { type: 'layer-profile' } | { type: 'layer-optimize' }>,
): Promise<void> {
  if (refuseIfBusy(msg.id)) return;
  const state = { id: msg.id, cancelled: false };
  current = state;
  try {
    const o = {
      python: msg.python ?? [],
      torchDevice: msg.torchDevice,
      threads: msg.threads,
      maxMemoryBytes: msg.maxMemoryBytes,
      timeLimitMs: msg.timeLimitMs,
      isCancelled: () => state.cancelled,
      onProgress: (p: Parameters<UserLayerOptions['onProgress']>[0]) =>
        send({ type: 'layer-progress', id: msg.id, ...p }),
    };
    if (msg.type === 'layer-optimize')
      send({ type: 'layer-optimized', id: msg.id, ...(await optimizeUserLayer(msg.request, o)) });
    else send({ type: 'layer-profiled', id: msg.id, ...(await profileUserLayer(msg.request, o)) });
  } catch (e) {
    sendError(msg.id, e);
  } finally {
    current = undefined;
  }
}

process.on('message', (raw: unknown) => {
  const parsed = toWorkerSchema.safeParse(raw);
  if (!parsed.success) {
    const rid = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : null;
    send({
      type: 'error',
      id: rid && rid.length <= 100 ? rid : null,
      error: {
        kind: 'protocol',
        name: 'ProtocolError',
        message: `rejected malformed message: ${describeZodError(parsed.error)}`,
      },
    });
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'cancel') {
    if (current?.id === msg.id) current.cancelled = true;
    return;
  }
  if (msg.type === 'devices') {
    devicesReport(msg.cudaLibDirs, msg.python ?? []).then(
      (devices) => send({ type: 'devices', id: msg.id, devices }),
      (e) => sendError(msg.id, e),
    );
  } else if (msg.type === 'probe') void handleProbe(msg);
  else if (msg.type === 'engine-info') void handleEngineInfo(msg);
  else if (msg.type === 'layer-profile' || msg.type === 'layer-optimize') void handleLayerProfile(msg);
  else void handleRun(msg);
});

process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
