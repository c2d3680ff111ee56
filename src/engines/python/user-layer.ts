/**
 * "Profile this layer" on the user's own class — a torch nn.Module (python/fconv_layer.py) or a Keras layer on
 * TensorFlow (python/fconv_layer_tf.py): a Python process of its own (never the engine's shared one — the user's
 * code may leave state behind, crash or hang), its interpreter found like the framework's engine's, with a time
 * limit (killed and named when it passes) and the memory budget (the Python side watches its own resident memory,
 * or the framework's GPU memory, and stops when it goes over). Worker side.
 */
import type { LAYER_PHASES, LayerMeasured, LayerRequest } from '../../core/layer-profile';
import type { OptimizeMeasured, OptimizeRequest } from '../../core/optimize';
import type { UserWhere } from '../../protocol/python-protocol';
import { CancelledError } from '../engine';
import { type Candidate, pickInterpreter } from './discovery';
import { TENSORFLOW } from '../tensorflow/framework';
import { TORCH } from '../torch/framework';
import { PythonError, PythonProcess } from './process';

export interface UserLayerOptions {
  python: Candidate[];
  torchDevice?: string;
  threads?: number;
  maxMemoryBytes: number;
  timeLimitMs: number;
  isCancelled: () => boolean;
  onProgress: (p: { phase: 'start' | (typeof LAYER_PHASES)[number]; index: number; count: number }) => void;
}

export class TimeLimitError extends Error {
  override name = 'TimeLimitError';
}

/** A failure of the user's code (their traceback, mapped to their file:line) or of one of their imports. */
export class UserCodeError extends Error {
  override name = 'UserCodeError';
  constructor(
    readonly kind: 'user-code' | 'user-import' | 'usage',
    message: string,
    readonly where?: UserWhere,
  ) {
    super(message);
  }
}

type Ran<M> = { measured: M; python: { path: string; version: string; from: string }; notes: string[] };

export function profileUserLayer(req: LayerRequest, o: UserLayerOptions): Promise<Ran<LayerMeasured>> {
  return runUserLayer(req, o, 'layer-profile', 'layer-profiled') as Promise<Ran<LayerMeasured>>;
}

/** "Make it fast": the candidates proven and timed against the user's class (python/fconv_optimize.py). */
export function optimizeUserLayer(req: OptimizeRequest, o: UserLayerOptions): Promise<Ran<OptimizeMeasured>> {
  return runUserLayer(req, o, 'layer-optimize', 'layer-optimized') as Promise<Ran<OptimizeMeasured>>;
}

async function runUserLayer(
  req: LayerRequest | OptimizeRequest,
  o: UserLayerOptions,
  kind: 'layer-profile' | 'layer-optimize',
  answer: 'layer-profiled' | 'layer-optimized',
): Promise<Ran<unknown>> {
  o.onProgress({ phase: 'start', index: 0, count: 1 });
  const fw = req.framework === 'tensorflow' ? TENSORFLOW : TORCH;
  const { usable, device, notes } = await pickInterpreter(o.python, o.torchDevice, fw, {
    with: (p) => `cannot profile the layer with ${p}`,
    none: 'cannot profile the layer',
  });
  const hello = usable.hello;
  const py = new PythonProcess(usable.path, fw, {
    hangMs: Math.max(10_000, Number(process.env.FCONV_TORCH_HANG_MS ?? 0)),
    // The user's process runs on the default allocator: the layer is timed that way once, then with freed memory
    // kept (python/fconv_layer.py allocator_effect), so the report can say what the default costs.
    env: { ...process.env, FCONV_DEFAULT_ALLOCATOR: '1' },
  });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    await py.hello;
    timer = setTimeout(() => {
      timedOut = true;
      py.kill();
    }, o.timeLimitMs);
    const res = await py.request(
      {
        type: kind,
        ...req,
        device,
        threads: o.threads ?? null,
        memoryBudgetBytes: o.maxMemoryBytes,
      },
      answer,
      {
        isCancelled: o.isCancelled,
        onMessage: (m) => {
          if (m.type === 'layer-progress') o.onProgress({ phase: m.phase, index: m.index, count: m.count });
        },
      },
    );
    const { type: _t, id: _i, ...measured } = res;
    return {
      measured,
      python: { path: usable.path, version: hello.python, from: usable.from },
      notes: [`ran in ${usable.path} (Python ${hello.python}, from ${usable.from}), a process of its own`, ...notes],
    };
  } catch (e) {
    if (timedOut)
      throw new TimeLimitError(
        `the layer did not finish within the time limit of ${(o.timeLimitMs / 1000).toFixed(0)} s (the Python process was stopped); raise it with --time-limit or shrink the input`,
      );
    if (e instanceof PythonError && (e.kind === 'user-code' || e.kind === 'user-import' || e.kind === 'usage'))
      throw new UserCodeError(e.kind, e.message, e.where);
    if (o.isCancelled()) throw new CancelledError();
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    py.close();
  }
}
