/** Durations and ratios as reports write them ("1.23 ms", "340 µs", "4.2x"). Host-free. */

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms === 0) return '0';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function fmtRatio(r: number): string {
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;
}

/** A count with an SI suffix, for FLOPs and points ("1.2M", "3.40G", "512"). */
export function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${n}`;
}

/**
 * cuDNN's version number as a version: torch.backends.cudnn.version() is major·1000 + minor·100 + patch up to cuDNN 8
 * (8907 → 8.9.7) and major·10000 + minor·100 + patch from cuDNN 9 (90100 → 9.1.0).
 */
export function fmtCudnn(v: number): string {
  const [major, rest] = v >= 10000 ? [Math.floor(v / 10000), v % 10000] : [Math.floor(v / 1000), v % 1000];
  return `${major}.${Math.floor(rest / 100)}.${rest % 100}`;
}
