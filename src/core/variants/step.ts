/**
 * What a variant's plan is made of: its steps as data (id, what they compute, shapes, FLOPs, bytes, the
 * cost model's kind), and the traits of the executor that will run them. Host-free.
 */
import { ioBytes } from '../cost';
import type { StepCost, StepKind } from '../model';
import { type LayerSpec, inputShape } from '../spec';

/**
 * What a step computes, whatever engine runs it: the categories a time breakdown is made of.
 * `setup` is one-off host work (FFT plans).
 */
export const STEP_CATEGORIES = [
  'forward-transform',
  'kernel-transform',
  'product',
  'inverse-transform',
  'layout',
  'padding',
  'convolution',
  'setup',
] as const;
export type StepCategory = (typeof STEP_CATEGORIES)[number];

/**
 * Which pass of a training step a step belongs to: the forward pass, or the backward pass (a forward step's
 * vector-Jacobian product). Absent on a step means forward (every run before passes existed).
 */
export const PASSES = ['forward', 'backward'] as const;
export type Pass = (typeof PASSES)[number];

export function passOf(step: { pass?: Pass }): Pass {
  return step.pass ?? 'forward';
}

export interface PlannedStep extends StepCost {
  id: string;
  /** Short label in tables and timelines (e.g. "rfft2d(input)"). */
  name: string;
  category: StepCategory;
  /** The pass it belongs to (absent: forward); a category is per pass (the backward's product is its own part). */
  pass?: Pass;
  inputShapes: number[][];
  outputShape: number[];
  /** Part of the layer's call() (vs data preparation outside it, or the inverse transform added for the check). */
  inLayer: boolean;
  /** Done once and cached (kernel spectrum, FFT plans): in neither total. */
  oneOff: boolean;
  /** Host work (creating cuFFT plans): timed by wall clock even on an engine that times on the device. */
  hostTimed?: boolean;
}

export interface VariantPlan {
  /** Its name in the variant table (src/core/variants/table.ts: VariantName). */
  name: string;
  title: string;
  description: string;
  kind: 'spatial' | 'spectral';
  /** What the output is compared with. */
  reference: string;
  oneOff: PlannedStep[];
  steps: PlannedStep[];
}

/**
 * Where the constant DFT matrices go. wasm (XNNPACK) packs the right operand of a matmul and caches
 * it when that operand is the same tensor call after call, so constants go on the right and the data
 * on the left, at the price of one more transpose. On the other backends a matmul costs the same either
 * way, batched matmuls are cheap and broadcasting elementwise ops are slow (cpu), so the pipeline keeps
 * the frequency axis leading and multiplies constants from the left.
 */
export type Orientation = 'right' | 'left';

/** What an engine's executors can do, which decides the shape of every plan. */
export interface ExecutorTraits {
  /** The backend's name, for labels. */
  backend: string;
  /**
   * 'dft-gemm': transforms as real GEMMs against cached DFT matrices, each layout change a step of its
   * own (tfjs); 'fft': a library FFT (cuFFT), the permute and padding around it folded into the step.
   */
  transforms: 'dft-gemm' | 'fft';
  /** For 'dft-gemm': where the constant matrices go. */
  orientation: Orientation;
  /**
   * 'nhwc-builtin' / 'nchw-builtin': the convolution takes one layout only (transposes around it for the
   * other) and pads by itself ('same' / 'valid'; circular as a wrap-padding step) — tfjs runs NHWC,
   * PyTorch NCHW; 'explicit': a padding step, then a 'valid' convolution in either layout (cuDNN).
   */
  conv: 'nhwc-builtin' | 'nchw-builtin' | 'explicit';
  /**
   * A library FFT whose plans are created by a step of their own (cuFFT, timed on the host), not inside the first
   * call.
   */
  fftPlans: boolean;
  /** In-channels from which the optimized product uses Gauss's 3-multiplication form. */
  gaussMinInChannels: number;
}

/**
 * Gauss's 3-multiplication complex product pays once the matmuls outweigh its extra adds. Measured
 * (batch 8, 16×16, 32 out-channels; product step medians, 4-mult vs Gauss): wasm wins from 2
 * in-channels (1.47 vs 1.10 ms at 2, 7.99 vs 6.52 ms at 32); cpu from 8 (6.59 vs 6.37 ms at 8,
 * 3.99 vs 4.35 ms at 2, 31.9 vs 27.8 ms at 64).
 */
export function gaussMinInChannels(backend: string): number {
  return backend === 'wasm' ? 2 : 8;
}

export function orientationFor(backend: string): Orientation {
  return backend === 'wasm' ? 'right' : 'left';
}

/** The tfjs engine's executors on a backend (wasm, cpu, tensorflow). */
export function tfjsTraits(backend: string, gaussMin = gaussMinInChannels(backend)): ExecutorTraits {
  return {
    backend,
    transforms: 'dft-gemm',
    orientation: orientationFor(backend),
    conv: 'nhwc-builtin',
    fftPlans: false,
    gaussMinInChannels: gaussMin,
  };
}

/**
 * The executor traits of a pipeline: 'torch-cpu' / 'torch-cuda' (the PyTorch engine), 'cuda' (the
 * native engine), else a tfjs backend (wasm, cpu, tensorflow).
 */
export function traitsFor(pipeline: string): ExecutorTraits {
  if (pipeline.startsWith('torch')) return torchTraits(pipeline.endsWith('cuda') ? 'cuda' : 'cpu');
  if (pipeline === 'tensorflow-cpu' || pipeline === 'tensorflow-cuda')
    return tensorflowTraits(pipeline.endsWith('cuda') ? 'cuda' : 'cpu');
  return pipeline === 'cuda' ? CUDA_TRAITS : tfjsTraits(pipeline);
}

export { pipelineOf } from '../engine-table';

/** The PyTorch engine's executors: torch.fft (its plan cache is internal), F.conv2d on NCHW, bmm. */
export function torchTraits(backend: string): ExecutorTraits {
  return {
    backend,
    transforms: 'fft',
    orientation: 'left',
    conv: 'nchw-builtin',
    fftPlans: false,
    gaussMinInChannels: 8,
  };
}

/** The TensorFlow engine's executors: tf.signal's FFTs, tf.nn.conv2d on NHWC (its CPU kernels run channels-last). */
export function tensorflowTraits(backend: string): ExecutorTraits {
  return { ...torchTraits(backend), conv: 'nhwc-builtin' };
}

/** The native CUDA engine's executors (cuFFT, cuBLAS, cuDNN). */
export const CUDA_TRAITS: ExecutorTraits = {
  backend: 'cuda',
  transforms: 'fft',
  orientation: 'left',
  conv: 'explicit',
  fftPlans: true,
  gaussMinInChannels: 8,
};

type StepInit = Omit<PlannedStep, 'bytes' | 'inLayer' | 'oneOff'> &
  Partial<Pick<PlannedStep, 'bytes' | 'inLayer' | 'oneOff'>>;

/**
 * What a recorded step computes: its plan's category; runs saved before steps carried one are read from
 * the step's id and name.
 */
export function categoryOf(step: { id: string; name: string; category?: StepCategory }): StepCategory {
  if (step.category) return step.category;
  const n = step.name.toLowerCase();
  if (step.id === 'fft-plans') return 'setup';
  if (step.id.includes('kernel') && n.includes('fft')) return 'kernel-transform';
  if (n.startsWith('irfft') || n.includes('c2r')) return 'inverse-transform';
  if (n.includes('fft')) return 'forward-transform';
  if (n.startsWith('transpose')) return 'layout';
  if (n.includes('einsum') || n.includes('multiply') || n.includes('matmul')) return 'product';
  if (n.includes('conv')) return 'convolution';
  return 'padding';
}

/**
 * A forward step's backward (its vector-Jacobian product), as the training step runs and the model prices it:
 * a contraction's backward is two contractions of the same shape (data and weight gradients), anything else its
 * adjoint at the same cost; one-off steps run on every training step (a spectrum cannot be cached while the
 * kernel trains).
 */
export function backwardStep(s: PlannedStep): PlannedStep {
  const two = s.kind === 'conv' || s.kind === 'gemm' || s.kind === 'bmm';
  return {
    ...s,
    id: `${s.id}.backward`,
    name: `${s.name} (backward)`,
    oneOff: false,
    pass: 'backward',
    flops: (two ? 2 : 1) * s.flops,
    bytes: (two ? 2 : 1) * s.bytes,
  };
}

/** A plan's training step: every forward step per call (one-off ones too), then each step's backward. */
export function trainingSteps(steps: PlannedStep[]): PlannedStep[] {
  return [...steps.map((s) => ({ ...s, oneOff: false })), ...steps.map(backwardStep)];
}

/** A planned step; bytes default to the float32 inputs plus output, in the layer and per call by default. */
export function step(s: StepInit): PlannedStep {
  return { inLayer: true, oneOff: false, ...s, bytes: s.bytes ?? ioBytes(s.inputShapes, s.outputShape) };
}

/** A layout change (transpose / permute). */
export function layoutStep(
  id: string,
  input: number[],
  output: number[],
  inLayer = true,
  complex = false,
): PlannedStep {
  return step({
    ...(complex ? { complex: true } : {}),
    id,
    name: 'transpose',
    category: 'layout',
    kind: 'copy' satisfies StepKind,
    inputShapes: [input],
    outputShape: output,
    flops: 0,
    inLayer,
  });
}

/** The one-off host step that creates a variant's FFT plans (what a library FFT does on a first call). */
export function fftPlanStep(P: number, Q: number): PlannedStep {
  return step({
    id: 'fft-plans',
    name: 'cuFFT plans',
    category: 'setup',
    kind: 'fft',
    oneOff: true,
    inLayer: false,
    hostTimed: true,
    inputShapes: [],
    outputShape: [P, Q],
    flops: 0,
    bytes: 0,
  });
}

/** Zero padding of the input up to the transform size (bottom/right), in the spec's layout, outside the layer. */
export function padInputStep(spec: LayerSpec, P: number, Q: number): PlannedStep {
  const { batch: B, inChannels: Ci } = spec;
  const nhwc = spec.layout === 'NHWC';
  return step({
    id: 'pad-input',
    name: 'pad',
    category: 'padding',
    kind: 'pad',
    inLayer: false,
    inner: nhwc ? Ci : spec.width,
    inputShapes: [inputShape(spec)],
    outputShape: nhwc ? [B, P, Q, Ci] : [B, Ci, P, Q],
    flops: 0,
  });
}
