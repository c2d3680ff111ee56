/**
 * Each variant's peak memory, deliberately pessimistic: the live tensors of its largest step and the im2col
 * buffer a GEMM-based convolution may build (src/core/memory.ts refuses an over-budget spec with these before
 * anything is allocated). Host-free.
 */
import { F32 } from '../cost';
import { type LayerSpec, geometry, keptModes } from '../spec';

function sizes(spec: LayerSpec) {
  const g = geometry(spec);
  const { batch: B, inChannels: Ci, outChannels: Co, height: H, width: W } = spec;
  return {
    g,
    input: B * Ci * H * W * F32,
    output: B * Co * g.outH * g.outW * F32,
    spectrum: (maps: number) => 2 * g.fftH * g.freqW * maps * F32,
  };
}

/** The small Conv2D: input, output, im2col and the kernel. */
export function spatialBytes(spec: LayerSpec): number {
  const { input, output } = sizes(spec);
  const { batch: B, inChannels: Ci, outChannels: Co, height: H, width: W } = spec;
  const k = spec.spatialKernel;
  return input + output + B * H * W * k * k * Ci * F32 + k * k * Ci * Co * F32;
}

/** The convolution with the layer's own kernel: padded input, im2col, output, kernel. */
export function equivalentBytes(spec: LayerSpec): number {
  const { g, input, output } = sizes(spec);
  const { batch: B, inChannels: Ci, outChannels: Co, height: H, width: W } = spec;
  const padded = B * Ci * (H + spec.kernelH) * (W + spec.kernelW) * F32;
  const im2col = B * g.outH * g.outW * spec.kernelH * spec.kernelW * Ci * F32;
  return input + padded + im2col + output + spec.kernelH * spec.kernelW * Ci * Co * F32;
}

/** An FNO layer as written: x_ft, out_ft (complex, full half spectrum) and the einsum blocks. */
export function fnoBytes(spec: LayerSpec): number {
  const { input, output, spectrum } = sizes(spec);
  const { batch: B, inChannels: Ci, outChannels: Co } = spec;
  const k = keptModes(spec);
  const blocks = 2 * k.count * B * (Ci + Co) * 2 * F32 + 2 * k.count * Ci * Co * 2 * F32;
  return input + output + spectrum(B * Ci) + 2 * spectrum(B * Co) + blocks;
}

/** A spectral layer (the question's recipe, optimized; an FNO layer's partial transforms). */
export function spectralBytes(spec: LayerSpec): number {
  const { g, input, output, spectrum } = sizes(spec);
  const { batch: B, inChannels: Ci, outChannels: Co, height: H } = spec;
  if (spec.layer === 'fno') {
    const k = keptModes(spec);
    const partial = (maps: number) => 2 * H * k.cols * maps * F32;
    return (
      input + output + 2 * partial(B * Ci) + 2 * partial(B * Co) + 3 * k.count * (B * (Ci + Co) + Ci * Co) * 2 * F32
    );
  }
  const live = spectrum(B * Ci) + spectrum(Ci * Co) + 3 * spectrum(B * Co);
  return input + output + live + g.fftH * g.fftW * B * Ci * F32;
}
