/**
 * Text → spec, with the messages every front end shows (CLI flags now, the extension's input boxes
 * later): one function per field so a form can validate as the user types. Host-free.
 */
import { DEFAULT_SPEC, LAYOUTS, type LayerSpec, PADDINGS, type Padding, type Layout, specProblems } from './spec';

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A whole number written in plain digits, between min and max, or a clear message. Every count and
 * dimension of every front end (CLI flags, input boxes) parses through here, so "1e1" or "2.5" is
 * refused the same way everywhere.
 */
export function parseWhole(text: string, label: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return whole(text, label, min, max, false);
}

function whole(text: string, label: string, min: number, max: number, positive: boolean): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) {
    const numeric = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t);
    if (numeric) throw new UsageError(`${label} must be a whole number, got ${t} (plain digits: 10, not 1e1 or 10.0)`);
    throw new UsageError(
      `${label} must be a ${positive ? 'positive ' : ''}whole number${positive ? '' : ` ≥ ${min}`}, got "${text}"`,
    );
  }
  const v = Number(t);
  if (v < min)
    throw new UsageError(positive ? `${label} must be positive, got ${t}` : `${label} must be ≥ ${min}, got ${v}`);
  if (v > max || !Number.isSafeInteger(v)) throw new UsageError(`${label} must be ≤ ${max}, got ${t}`);
  return v;
}

/** A positive whole number (a shape), or a clear message. */
export function parseDimension(text: string, label: string): number {
  return whole(text, label, 1, Number.MAX_SAFE_INTEGER, true);
}

/** "28", "28x28", "5×7" or "image" (= the image size). */
export function parseKernel(text: string, height: number, width: number): { kh: number; kw: number } {
  const t = text.trim().toLowerCase();
  if (t === 'image' || t === 'full') return { kh: height, kw: width };
  const parts = t.split(/[x×,]/);
  if (parts.length === 1) {
    const k = parseDimension(parts[0]!, 'kernel');
    return { kh: k, kw: k };
  }
  if (parts.length === 2)
    return { kh: parseDimension(parts[0]!, 'kernel height'), kw: parseDimension(parts[1]!, 'kernel width') };
  throw new UsageError(`kernel must be N, HxW or "image", got "${text}"`);
}

export interface SpecText {
  batch?: string;
  height?: string;
  width?: string;
  in?: string;
  out?: string;
  kernel?: string;
  spatialKernel?: string;
  padding?: string;
  layout?: string;
}

export function parsePadding(text: string): Padding {
  const t = text.trim().toLowerCase();
  if (!(PADDINGS as readonly string[]).includes(t))
    throw new UsageError(`padding must be one of ${PADDINGS.join(', ')}, got "${text}"`);
  return t as Padding;
}

export function parseLayout(text: string): Layout {
  const t = text.trim().toUpperCase();
  if (!(LAYOUTS as readonly string[]).includes(t)) throw new UsageError(`layout must be NHWC or NCHW, got "${text}"`);
  return t as Layout;
}

/** Builds and validates a spec; defaults are the seed's MNIST case. Throws UsageError. */
export function specFromText(t: SpecText): LayerSpec {
  const d = DEFAULT_SPEC;
  const height = t.height !== undefined ? parseDimension(t.height, 'height') : d.height;
  const width = t.width !== undefined ? parseDimension(t.width, 'width') : d.width;
  const k = t.kernel !== undefined ? parseKernel(t.kernel, height, width) : { kh: height, kw: width };
  const spec: LayerSpec = {
    batch: t.batch !== undefined ? parseDimension(t.batch, 'batch') : d.batch,
    height,
    width,
    inChannels: t.in !== undefined ? parseDimension(t.in, 'in channels') : d.inChannels,
    outChannels: t.out !== undefined ? parseDimension(t.out, 'out channels') : d.outChannels,
    kernelH: k.kh,
    kernelW: k.kw,
    spatialKernel: t.spatialKernel !== undefined ? parseDimension(t.spatialKernel, 'spatial kernel') : d.spatialKernel,
    padding: t.padding !== undefined ? parsePadding(t.padding) : d.padding,
    layout: t.layout !== undefined ? parseLayout(t.layout) : d.layout,
    dtype: 'float32',
  };
  const problems = specProblems(spec);
  if (problems.length) throw new UsageError(problems[0]!);
  return spec;
}

/** "32x28x28x1" (batch × height × width × in channels; × or x or spaces), as the Custom… input box takes it. */
export function parseInputShape(text: string): { batch: number; height: number; width: number; inChannels: number } {
  const parts = text
    .trim()
    .split(/\s*[x×,]\s*|\s+/)
    .filter(Boolean);
  if (parts.length !== 4)
    throw new UsageError(`input shape must be batch×height×width×channels (e.g. 32×28×28×1), got "${text}"`);
  return {
    batch: parseDimension(parts[0]!, 'batch'),
    height: parseDimension(parts[1]!, 'height'),
    width: parseDimension(parts[2]!, 'width'),
    inChannels: parseDimension(parts[3]!, 'in channels'),
  };
}
