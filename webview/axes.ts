/** Log-scale axis ticks and compact numbers, shared by the roofline and the sweep charts. */

export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
}

export function fmtNum(v: number): string {
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)}k`;
  if (v >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(1)}`;
}

/** Log-log roofline: the device's roof and each step with FLOPs at (intensity, achieved GFLOP/s). */
