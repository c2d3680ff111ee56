/** Axes shared by the charts: log-scale ticks and compact numbers (roofline, sweeps), the timelines' time axis. */
import { fmtMs } from '../src/core/format';
import { s } from './dom';

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

export function niceTicks(max: number, n: number): number[] {
  const raw = max / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((m) => m >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= max + 1e-12; t += step) out.push(t);
  return out;
}

/** A timeline chart: its svg with the time axis (grid lines and ms ticks) of `span` ms over the plot drawn. */
export function timelineSvg(o: {
  width: number;
  height: number;
  labelW: number;
  plotW: number;
  span: number;
  cls: string;
  label: string;
}): SVGElement {
  const svg = s('svg', {
    class: o.cls,
    viewBox: `0 0 ${o.width} ${o.height}`,
    width: o.width,
    height: o.height,
    role: 'img',
    'aria-label': o.label,
  });
  for (const t of niceTicks(o.span, 6)) {
    const gx = o.labelW + (o.plotW * t) / o.span;
    svg.appendChild(s('line', { x1: gx, x2: gx, y1: 0, y2: o.height - 22, class: 'grid' }));
    svg.appendChild(s('text', { x: gx, y: o.height - 8, class: 'tick', 'text-anchor': 'middle' }, fmtMs(t)));
  }
  return svg;
}
