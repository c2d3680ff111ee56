/**
 * The engine registry's table: every engine the profiler can run on, in the order `auto` tries them. The
 * ids are what `--engine` and `fourierConv.engine` take (package.json's enum and its descriptions are
 * checked against this table by a test); the worker side keeps one factory per id (src/engines/registry.ts),
 * so an id without a factory does not compile. Host-free: the CLI, the extension, the webview and the
 * worker all read it.
 */

/** How an engine runs its loop: in the worker process (tfjs, the native addon) or in the user's Python. */
export type EngineFamily = 'tfjs' | 'native' | 'python';

export interface EngineEntry {
  /** What `--engine` takes. */
  readonly id: string;
  /** Short name in lists and pickers. */
  readonly label: string;
  /** One sentence for the setting's enum (markdown), and `fconv profile --help`. */
  readonly description: string;
  /** Lower first when `auto` walks the registry. */
  readonly priority: number;
  readonly family: EngineFamily;
  /** `auto` tries it (else only when asked for by name). */
  readonly auto: boolean;
  /** The name the engine writes into a run (`run.engine`). */
  readonly runName: string;
  /** Said after "using ID" when `auto` picks it. */
  readonly chosen?: string;
}

export const ENGINE_TABLE = [
  {
    id: 'torch',
    label: 'PyTorch in your Python',
    description:
      "PyTorch in your own Python (`fourierConv.pythonPath`, the Python extension's interpreter, or `python3` on the PATH), on CUDA when torch sees a GPU, else on the CPU.",
    priority: 10,
    family: 'python',
    auto: true,
    runName: 'torch',
    chosen: 'its verdicts hold for PyTorch; the embedded engine (wasm) gives its own: Rerun on… wasm, or --engine wasm',
  },
  {
    id: 'tensorflow',
    label: 'TensorFlow in your Python',
    description:
      "TensorFlow 2.x in your own Python (the question's framework): each step a `tf.function`, the training step with `tf.GradientTape`; on its GPU when TensorFlow sees one (`pip install tensorflow-cpu`, or `tensorflow[and-cuda]`).",
    priority: 15,
    family: 'python',
    auto: true,
    runName: 'tensorflow',
    chosen:
      'its verdicts hold for TensorFlow; the embedded engine (wasm) gives its own: Rerun on… wasm, or --engine wasm',
  },
  {
    id: 'cuda',
    label: 'the native CUDA engine',
    description:
      'The native CUDA engine (cuFFT, cuBLAS, cuDNN, CUDA-event timing): CUDA 11–13, cuDNN 8/9, including the libraries of a PyTorch/TensorFlow wheel.',
    priority: 20,
    family: 'native',
    auto: true,
    runName: 'cuda',
  },
  {
    id: 'tfjs-node-gpu',
    label: 'tfjs-node-gpu',
    description: '`@tensorflow/tfjs-node-gpu`: needs CUDA 11.2 and cuDNN 8.1 (see docs/engines.md).',
    priority: 30,
    family: 'tfjs',
    auto: true,
    runName: 'tfjs',
  },
  {
    id: 'tfjs-node',
    label: 'tfjs-node',
    description: '`@tensorflow/tfjs-node`: libtensorflow on the CPU.',
    priority: 40,
    family: 'tfjs',
    auto: true,
    runName: 'tfjs',
  },
  {
    id: 'wasm',
    label: 'the embedded engine',
    description: 'The embedded WebAssembly engine (XNNPACK); always available.',
    priority: 50,
    family: 'tfjs',
    auto: true,
    runName: 'tfjs',
  },
  {
    id: 'cpu',
    label: 'tfjs cpu',
    description: 'The pure-JavaScript tfjs cpu backend: slow, a reference.',
    priority: 60,
    family: 'tfjs',
    auto: true,
    runName: 'tfjs',
  },
] as const satisfies readonly EngineEntry[];

export type EngineId = (typeof ENGINE_TABLE)[number]['id'];

export type EngineRequest = 'auto' | EngineId;

/** The engine ids in registry order (by priority; the table is written in that order, a test checks it). */
export const ENGINE_IDS = ENGINE_TABLE.map((e) => e.id) as [EngineId, ...EngineId[]];

/** What `--engine` and the setting take: `auto`, then every engine. */
export const ENGINE_REQUESTS = ['auto', ...ENGINE_IDS] as [EngineRequest, ...EngineRequest[]];

export const AUTO_DESCRIPTION =
  'The best engine found: PyTorch in your Python when it has torch ≥ 1.8 (its numbers hold for PyTorch), then TensorFlow ≥ 2.4 in your Python, the native CUDA engine, tfjs-node-gpu, tfjs-node, and the embedded wasm engine.';

export function engineEntry(id: string): EngineEntry | undefined {
  return ENGINE_TABLE.find((e) => e.id === id);
}

/** The engines `auto` tries, in order. */
export function autoOrder(): EngineEntry[] {
  return [...ENGINE_TABLE].filter((e) => e.auto).sort((a, b) => a.priority - b.priority);
}

/**
 * The pipeline a run's steps came from — the key of the cost model's rates and of the executors' traits:
 * an engine in the user's Python is `<framework>-<device kind>` ('torch-cpu', 'torch-cuda'); the others
 * are their backend ('cuda', 'wasm', 'cpu', 'tensorflow' for tfjs-node). The one place this key is built.
 */
export function pipelineOf(run: { engine: string; backend: string }): string {
  const python = ENGINE_TABLE.some((e) => e.family === 'python' && e.runName === run.engine);
  return python ? `${run.engine}-${run.backend}` : run.backend;
}
