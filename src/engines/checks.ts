/**
 * The correctness checks every profile makes, whatever engine measured it: a spatial variant against the
 * naive direct convolution; a spectral one against spatial-equivalent's output (the same function) when it
 * ran, else against the naive circular convolution with the equivalent kernel on sampled outputs. Worker side.
 */
import { type LayerData, flipKernel } from '../core/data';
import {
  checkAgainstNaive,
  equivalentCorrelation,
  maxAbs,
  maxAbsDiff,
  spatialCorrelation,
  tolerance,
} from '../core/reference';
import type { VariantName, VariantResult } from '../core/run';
import { variantEntry } from '../core/variants';
import type { LayerSpec } from '../core/spec';
import { MismatchError } from './engine';

export type CheckFields = Pick<
  VariantResult,
  'maxAbsError' | 'refScale' | 'tolerance' | 'checkedPoints' | 'reference' | 'correct'
>;

const equivalentKernel = (spec: LayerSpec, data: LayerData) =>
  flipKernel(data.kernel, spec.kernelH, spec.kernelW, spec.inChannels, spec.outChannels);

function fields(e: ReturnType<typeof checkAgainstNaive>, reference: (what: string) => string): CheckFields {
  return finish({
    maxAbsError: e.maxAbsError,
    refScale: e.refScale,
    tolerance: tolerance(e.refScale),
    checkedPoints: e.points,
    reference: reference(e.exhaustive ? 'every output' : `${e.points} sampled outputs`),
    correct: false,
  });
}

function finish(c: CheckFields): CheckFields {
  c.correct = c.maxAbsError <= c.tolerance;
  // JSON has no Infinity/NaN: a non-finite error (NaN in the output) is stored as the largest double.
  if (!Number.isFinite(c.maxAbsError)) c.maxAbsError = Number.MAX_VALUE;
  return c;
}

/** Checks a variant's output; `reference` is spatial-equivalent's output when it ran (or was computed). */
export function checkOutput(
  name: VariantName,
  spec: LayerSpec,
  data: LayerData,
  out: Float32Array,
  reference: Float32Array | undefined,
): CheckFields {
  const how = variantEntry(name)?.check;
  if (how === 'conv2d')
    return fields(
      checkAgainstNaive(spatialCorrelation(spec), data.input, data.spatialKernel, out),
      (w) => `naive direct convolution (${w})`,
    );
  if (how === 'equivalent')
    return fields(
      checkAgainstNaive(equivalentCorrelation(spec), data.input, equivalentKernel(spec, data), out),
      (w) => `naive direct convolution (${w})`,
    );
  if (!reference)
    return fields(
      checkAgainstNaive(equivalentCorrelation(spec), data.input, equivalentKernel(spec, data), out),
      (w) => `naive direct circular convolution with the equivalent kernel (${w})`,
    );
  const scale = maxAbs(reference);
  return finish({
    maxAbsError: maxAbsDiff(out, reference),
    refScale: scale,
    tolerance: tolerance(scale),
    checkedPoints: out.length,
    reference: 'spatial-equivalent output',
    correct: false,
  });
}

/** The spatial-equivalent output, once checked against the naive convolution (else the run cannot be trusted). */
export function checkedReference(out: Float32Array, spec: LayerSpec, data: LayerData): Float32Array {
  const e = checkAgainstNaive(equivalentCorrelation(spec), data.input, equivalentKernel(spec, data), out);
  if (!(e.maxAbsError <= tolerance(e.refScale)))
    throw new MismatchError(
      `the spatial reference itself disagrees with the naive convolution (max |error| ${e.maxAbsError})`,
    );
  return out;
}
