/**
 * Peak memory estimate of a profile, so that an over-budget spec is refused before anything is
 * allocated. Deliberately pessimistic: counts the live tensors of the largest step of each variant
 * and the im2col buffer a GEMM-based convolution may build. Host-free.
 */
import { F32 } from './cost';
import { type LayerSpec, geometry, keptModes } from './spec';
import type { VariantName } from './run';

export function estimateVariantBytes(spec: LayerSpec, variant: VariantName): number {
  const g = geometry(spec);
  const { batch: B, inChannels: Ci, outChannels: Co, height: H, width: W } = spec;
  const input = B * Ci * H * W * F32;
  const output = B * Co * g.outH * g.outW * F32;
  const spectrum = (maps: number) => 2 * g.fftH * g.freqW * maps * F32;
  switch (variant) {
    case 'spatial': {
      const k = spec.spatialKernel;
      return input + output + B * H * W * k * k * Ci * F32 + k * k * Ci * Co * F32;
    }
    case 'spatial-equivalent': {
      const padded = B * Ci * (H + spec.kernelH) * (W + spec.kernelW) * F32;
      const im2col = B * g.outH * g.outW * spec.kernelH * spec.kernelW * Ci * F32;
      return input + padded + im2col + output + spec.kernelH * spec.kernelW * Ci * Co * F32;
    }
    case 'fno': {
      // x_ft, out_ft (complex, full half spectrum) and the einsum blocks.
      const k = keptModes(spec);
      const blocks = 2 * k.count * B * (Ci + Co) * 2 * F32 + 2 * k.count * Ci * Co * 2 * F32;
      return input + output + spectrum(B * Ci) + 2 * spectrum(B * Co) + blocks;
    }
    case 'seed':
    case 'optimized': {
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
  }
}

/** The profile runs one variant at a time, but keeps each variant's output for the check. */
export function estimateRunBytes(spec: LayerSpec, variants: readonly VariantName[]): number {
  const g = geometry(spec);
  const outputs = variants.length * spec.batch * spec.outChannels * g.outH * g.outW * F32;
  return Math.max(...variants.map((v) => estimateVariantBytes(spec, v))) + outputs;
}

export function formatBytes(n: number): string {
  if (n >= 1e15) return `${(n / 1e15).toFixed(1)} PB`;
  if (n >= 1e12) return `${(n / 1e12).toFixed(1)} TB`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** Parses "4GB", "512MB", "1e9", "2 GiB" into bytes; NaN when malformed. */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const bin = unit.includes('i');
  const base = bin ? 1024 : 1000;
  const pow = { '': 0, b: 0, k: 1, m: 2, g: 3, t: 4 }[unit.replace(/i|b$/g, '') || ''] ?? Number.NaN;
  return v * base ** pow;
}
