/**
 * Messages between the extension host and the report panel's webview. Both sides parse every message
 * with these schemas; a malformed or unknown message is rejected (and logged by the host), never acted on.
 */
import { z } from 'zod';
import { enginesCompareSchema } from '../core/engines-compare';
import { fnoSweepSchema, sweepSchema } from '../core/insight-schema';
import { layerProfileSchema } from '../core/layer-profile';
import { RUN_PASSES, runSchema } from '../core/run';
import { ENGINE_REQUESTS } from './worker-protocol';

const runId = z.string().min(1).max(200);

/**
 * A standalone page's document (inlined as JSON in #fconv-run): its `kind` says what to render. A run is
 * parsed by parseRun (which reads older schema versions), the others by their schemas.
 */
export const pageDocSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('run'), run: z.unknown() }),
  z.object({ kind: z.literal('sweep'), sweep: sweepSchema }),
  z.object({ kind: z.literal('fno-sweep'), fnoSweep: fnoSweepSchema }),
  z.object({ kind: z.literal('engines'), engines: enginesCompareSchema }),
  z.object({ kind: z.literal('layer-profile'), layer: layerProfileSchema }),
]);
export type PageDoc = z.infer<typeof pageDocSchema>;

/** host → webview */
export const toWebviewSchema = z.discriminatedUnion('type', [
  /** Show `run`; `previous` is the run before it (for "compare with the previous run"), null if none. */
  z.object({
    type: z.literal('show'),
    runId,
    run: runSchema,
    previous: z.object({ runId, run: runSchema }).nullable(),
  }),
  /** A profile is running (buttons that start one are disabled) or has ended. */
  z.object({ type: z.literal('busy'), busy: z.boolean(), label: z.string().max(500).optional() }),
  /** Show or hide the comparison with the previous run ("Fourier Conv: Compare with Previous Run"). */
  z.object({ type: z.literal('compare'), show: z.boolean() }),
  /** Show one layer measured on several engines, side by side. */
  z.object({ type: z.literal('engines'), engines: enginesCompareSchema }),
  /** Show the user's own layer, line by line ("Profile … as written"). */
  z.object({ type: z.literal('layer'), layer: layerProfileSchema }),
]);
export type ToWebview = z.infer<typeof toWebviewSchema>;

/** webview → host */
export const fromWebviewSchema = z.discriminatedUnion('type', [
  /** The page has loaded and listens. */
  z.object({ type: z.literal('ready') }),
  /** Run `runId` is on screen with `stepBars` timeline bars (the tests and the log read this). */
  z.object({
    type: z.literal('rendered'),
    runId,
    stepBars: z.number().int().nonnegative(),
    /** Set when the comparison is on screen: the run compared with and the rows of the diff table. */
    compared: z.object({ previousRunId: runId, rows: z.number().int().nonnegative() }).nullable(),
    /** Hints, sweep cells and roofline points on screen. */
    hints: z.number().int().nonnegative(),
    sweepCells: z.number().int().nonnegative(),
    rooflinePoints: z.number().int().nonnegative(),
  }),
  /** Profile the same layer again with the current settings (or on `engine`). */
  z.object({
    type: z.literal('rerun'),
    engine: z.enum(ENGINE_REQUESTS).optional(),
    /** Rerun timing this pass (the panel's pass toggle); absent: the fourierConv.pass setting. */
    pass: z.enum(RUN_PASSES).optional(),
    /** Rerun with torch.compile of the layer as written beside it (the panel's "torch.compile it"). */
    compile: z.boolean().optional(),
  }),
  /** Profile the shown layer on each of `engines` and show their verdicts side by side. */
  z.object({
    type: z.literal('compareEngines'),
    engines: z
      .array(z.enum(ENGINE_REQUESTS).exclude(['auto']))
      .min(2)
      .max(4),
  }),
  /** Sweep kernel sizes on the shown layer and add the crossover to its report. */
  z.object({ type: z.literal('sweep') }),
  /** Save the shown run as a standalone report.html, a Chrome trace or the run JSON (save dialog). */
  z.object({ type: z.literal('export'), format: z.enum(['html', 'trace', 'json']) }),
  /** The user toggled the comparison (remembered for the next run shown). */
  z.object({ type: z.literal('compareToggled'), show: z.boolean() }),
  /** Open the output channel. */
  z.object({ type: z.literal('showLog') }),
]);
export type FromWebview = z.infer<typeof fromWebviewSchema>;

export function describeIssue(e: z.ZodError): string {
  const first = e.issues[0];
  return first ? `${first.path.join('.') || '(message)'}: ${first.message}` : 'invalid message';
}
