import { z } from 'zod';

/** The phases of a variant's profile, in order (the worker's progress messages, the Python loop's). */
export const LOOP_PHASES = [
  'one-off',
  'warm-up',
  'per-step',
  'end-to-end',
  'layer-only',
  'train',
  'backward',
  'compile',
] as const;
export type LoopPhase = (typeof LOOP_PHASES)[number];

/** `kernels`: the profiled pass per variant, once every variant is timed (the Python engines). */
export const PHASES = ['prepare', ...LOOP_PHASES, 'check', 'kernels'] as const;

/** Where a measuring loop is (the Python worker's progress, the worker's progress to the host add the variant). */
export const loopProgressShape = {
  step: z.string().optional(),
  stepIndex: z.number().int().nonnegative(),
  stepCount: z.number().int().nonnegative(),
  rep: z.number().int().nonnegative().optional(),
  reps: z.number().int().nonnegative().optional(),
};
