/**
 * Peak memory estimate of a profile, so that an over-budget spec is refused before anything is
 * allocated. Deliberately pessimistic: counts the live tensors of the largest step of each variant
 * and the im2col buffer a GEMM-based convolution may build. Host-free.
 */
import { F32 } from './cost';
import { type LayerSpec, geometry } from './spec';
import { type VariantName, variantEntry } from './variants/table';

/** A variant's peak, from its entry in the variant table. */
export function estimateVariantBytes(spec: LayerSpec, variant: VariantName): number {
  const entry = variantEntry(variant);
  if (!entry) throw new Error(`internal: no variant ${variant}`);
  return entry.peakBytes(spec);
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
