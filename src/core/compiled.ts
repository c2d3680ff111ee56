/**
 * torch.compile beside eager (torch ≥ 2): of the user's class as written (`fconv profile-layer --compile`) or of a
 * variant as written (`fconv profile --compile`). The compile and first call apart, then the compiled and the eager
 * function timed interleaved in the same process and rounds; the compiled output (and gradients) checked against
 * eager's. Host-free.
 */
import { z } from 'zod';
import { fmtMs } from './units';

const ms = z.number().finite().nonnegative();
const stats = z.object({ median: ms, p10: ms, p90: ms });
type Stat = z.infer<typeof stats>;

export const compiledSchema = z.object({
  /** torch.compile(…) and the first call, which compiles (ms). */
  compileMs: ms.optional(),
  /** The first call with gradients, which compiles the backward (ms). */
  compileTrainMs: ms.optional(),
  forward: stats.optional(),
  train: stats.optional(),
  /** The eager function in the same rounds (the figure the compiled one is compared with). */
  eagerForward: stats.optional(),
  eagerTrain: stats.optional(),
  /** Largest |difference| from the eager output (and gradients), relative to its largest |value|. */
  maxRelError: z.number().finite().nonnegative().optional(),
  /** Why there is no figure: torch < 2, the compile failed (its error), the result differs. */
  failed: z.string().optional(),
  /** What torch said while compiling (its warnings, deprecations left out): why compile did not help, often. */
  warnings: z.array(z.string()).optional(),
});
export type Compiled = z.infer<typeof compiledSchema>;

/** How the compiled row is timed, said wherever its numbers are. */
export const COMPILED_TIMING =
  'wall clock between syncs, the compiled and the eager function alternated call by call in the same rounds after a warm-up';

/** Compiled against eager: eager's median over the compiled one's, or undefined when their p10–p90 ranges overlap. */
export function compiledGain(eager: Stat, comp: Stat): number | undefined {
  return comp.p90 < eager.p10 || eager.p90 < comp.p10 ? eager.median / comp.median : undefined;
}

/** The compiled row in one line: what it cost, what it gives against eager, or why there is none. */
export function compiledLine(c: Compiled | undefined, subject: string): string | undefined {
  if (!c) return undefined;
  const said = c.warnings?.length ? `; torch said: ${c.warnings.map((w) => `“${w}”`).join(' ')}` : '';
  if (c.failed) return `torch.compile of ${subject}: ${c.failed}${said}`;
  if (!c.forward || !c.eagerForward) return undefined;
  const ratio = (eager: Stat, comp: Stat) => {
    const r = compiledGain(eager, comp);
    if (r === undefined) return 'no measurable difference';
    return r >= 1 ? `${r.toFixed(2)}x faster` : `${(1 / r).toFixed(2)}x slower`;
  };
  const train =
    c.train && c.eagerTrain
      ? `; training step ${fmtMs(c.train.median)} against ${fmtMs(c.eagerTrain.median)} (${ratio(c.eagerTrain, c.train)})`
      : '';
  const once = `${fmtMs(c.compileMs ?? 0)}${c.compileTrainMs !== undefined ? ` + ${fmtMs(c.compileTrainMs)} for the backward` : ''}`;
  const what = `output${c.train ? ' and gradients' : ''}`;
  const err = c.maxRelError ?? 0;
  const check =
    err === 0 ? `${what} identical to eager's` : `${what} within ${err.toExponential(1)} of eager (relative)`;
  return `torch.compile of ${subject}: compile and first call ${once} (once), then forward ${fmtMs(c.forward.median)} against ${fmtMs(c.eagerForward.median)} eager in the same rounds (${ratio(c.eagerForward, c.forward)})${train}; ${check}${said}`;
}
