/** The phases of a variant's profile, in order (the worker's progress messages, the Python loop's). */
export const LOOP_PHASES = ['one-off', 'warm-up', 'per-step', 'end-to-end', 'layer-only', 'train', 'backward'] as const;
export type LoopPhase = (typeof LOOP_PHASES)[number];

export const PHASES = ['prepare', ...LOOP_PHASES, 'check'] as const;
