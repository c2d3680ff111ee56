/**
 * The kernel-size sweep: which cells to run, the crossover of each channel configuration, and the
 * confusion between the model's and the measured winners. Host-free; the runner is in src/engines.
 */
import type { Crossover, Sweep, SweepCell } from './insight-schema';
import { type LayerSpec, specProblems } from './spec';

export const DEFAULT_KERNELS = [3, 5, 7, 9, 11, 15, 21, 28] as const;

/** The default kernels clipped to the image (k ≤ the smaller side), the image size itself added when it was clipped. */
export function sweepKernels(spec: LayerSpec, kernels: readonly number[] = DEFAULT_KERNELS): number[] {
  const side = Math.min(spec.height, spec.width);
  const ks = [...new Set(kernels.filter((k) => k <= side))].sort((a, b) => a - b);
  if (kernels.some((k) => k > side) && !ks.includes(side)) ks.push(side);
  return ks;
}

export function cellSpec(base: LayerSpec, kernel: number, inChannels: number, outChannels: number): LayerSpec {
  return { ...base, kernelH: kernel, kernelW: kernel, inChannels, outChannels };
}

/** "1:32,16:16" → [{1, 32}, {16, 16}]. Throws with a readable message. */
/**
 * The items of a comma-separated list flag, trimmed. An empty list or an empty item ("3,,5", ",seed")
 * is refused — the same way for every list flag.
 */
export function listItems(text: string, what: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.every((s) => !s)) throw new Error(`${what} needs at least one item, got "${text}"`);
  if (items.some((s) => !s)) throw new Error(`${what} has an empty item in "${text}" (a stray comma?)`);
  return items;
}

export function parseChannels(text: string): Array<{ inChannels: number; outChannels: number }> {
  const out = listItems(text, '--channels').map((pair) => {
    const m = /^(\d+)\s*[:→x×]\s*(\d+)$/.exec(pair);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
      throw new Error(`channels must be IN:OUT pairs like 1:32,16:16, got "${pair}"`);
    return { inChannels: Number(m[1]), outChannels: Number(m[2]) };
  });
  if (!out.length) throw new Error('channels needs at least one IN:OUT pair');
  return out;
}

export function parseKernelList(text: string): number[] {
  const ks = listItems(text, '--kernels').map((s) => {
    if (!/^\d+$/.test(s) || Number(s) < 1)
      throw new Error(`kernels must be positive whole numbers like 3,5,7, got "${s}"`);
    return Number(s);
  });
  if (!ks.length) throw new Error('kernels needs at least one size');
  return ks;
}

/** Problems of any cell (e.g. a kernel larger than the image with 'valid' padding), before anything runs. */
export function sweepProblems(
  base: LayerSpec,
  kernels: number[],
  channels: Array<{ inChannels: number; outChannels: number }>,
): string[] {
  const out: string[] = [];
  for (const c of channels)
    for (const k of kernels)
      for (const p of specProblems(cellSpec(base, k, c.inChannels, c.outChannels)))
        out.push(`kernel ${k}, ${c.inChannels}→${c.outChannels}: ${p}`);
  return [...new Set(out)];
}

/** Smallest kernel from which `winner(cell)` is spectral for every larger swept kernel; null if never. */
function crossoverOf(cells: SweepCell[], winner: (c: SweepCell) => 'spatial' | 'spectral' | null): number | null {
  const sorted = [...cells].filter((c) => winner(c) !== null).sort((a, b) => a.kernel - b.kernel);
  let k: number | null = null;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (winner(sorted[i]!) === 'spectral') k = sorted[i]!.kernel;
    else break;
  }
  return k;
}

export function crossovers(
  cells: SweepCell[],
  channels: Array<{ inChannels: number; outChannels: number }>,
): Crossover[] {
  return channels.map((c) => {
    const mine = cells.filter((x) => x.inChannels === c.inChannels && x.outChannels === c.outChannels);
    return {
      ...c,
      measured: crossoverOf(mine, (x) => x.measuredWinner),
      predicted: crossoverOf(mine, (x) => x.predictedWinner),
    };
  });
}

/** The measured crossover of one channel pair in words, saying when its cells were not (all) measured. */
export function measuredCrossoverText(sweep: Pick<Sweep, 'cells'>, x: Crossover): string {
  if (x.measured !== null) return `spectral wins from k = ${x.measured}`;
  const mine = sweep.cells.filter((c) => c.inChannels === x.inChannels && c.outChannels === x.outChannels);
  const measured = mine.filter((c) => c.measuredWinner);
  if (!measured.length) return 'not measured';
  if (measured.length < mine.length)
    return `spatial wins at every measured kernel (${measured.length} of ${mine.length}: k = ${measured.map((c) => c.kernel).join(', ')})`;
  return 'spatial wins at every swept kernel';
}

/** How often the model picked the measured winner. */
export function confusion(sweep: Pick<Sweep, 'cells'>): {
  agree: number;
  measured: number;
  wrong: SweepCell[];
  matrix: Record<string, number>;
} {
  const done = sweep.cells.filter((c) => c.measuredWinner);
  const matrix: Record<string, number> = {
    'spatial/spatial': 0,
    'spatial/spectral': 0,
    'spectral/spatial': 0,
    'spectral/spectral': 0,
  };
  for (const c of done) matrix[`${c.predictedWinner}/${c.measuredWinner}`]!++;
  const wrong = done.filter((c) => c.predictedWinner !== c.measuredWinner);
  return { agree: done.length - wrong.length, measured: done.length, wrong, matrix };
}
