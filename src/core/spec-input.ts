/**
 * Text → spec, with the messages every front end shows (CLI flags now, the extension's input boxes
 * later): one function per field so a form can validate as the user types. Host-free.
 */
import {
  DEFAULT_SPEC,
  LAYER_KINDS,
  LAYOUTS,
  type LayerKind,
  type LayerSpec,
  MODES_CONVENTIONS,
  type ModesConvention,
  PADDINGS,
  type Padding,
  type Layout,
  fnoSpec,
  specProblems,
} from './spec';
import { PRESETS, presetById } from './presets';

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
  if (parts.some((x) => !x.trim())) throw new UsageError(`kernel must be N, HxW (e.g. 5x5) or "image", got "${text}"`);
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
  layer?: string;
  modes?: string;
  modesConvention?: string;
  preset?: string;
}

/** The FNO presets' shape when only --layer fno is given: 64×64, width 32, modes 12 per corner, batch 20. */
export const FNO_DEFAULTS = {
  batch: 20,
  height: 64,
  width: 64,
  inChannels: 32,
  outChannels: 32,
  modes: [12, 12] as [number, number],
};

export function parseLayerKind(text: string): LayerKind {
  const t = text.trim().toLowerCase();
  if (!(LAYER_KINDS as readonly string[]).includes(t))
    throw new UsageError(`layer must be one of ${LAYER_KINDS.join(', ')}, got "${text}"`);
  return t as LayerKind;
}

/** "12" (the same for rows and columns) or "12,16" (rows, columns). */
export function parseModes(text: string): [number, number] {
  const parts = text.trim().split(/\s*[,x×]\s*/);
  if (parts.length === 1) {
    const m = parseDimension(parts[0]!, 'modes');
    return [m, m];
  }
  if (parts.length === 2)
    return [parseDimension(parts[0]!, 'modes (rows)'), parseDimension(parts[1]!, 'modes (columns)')];
  throw new UsageError(`modes must be N or ROWS,COLS (e.g. 12 or 12,16), got "${text}"`);
}

export function parseModesConvention(text: string): ModesConvention {
  const t = text.trim().toLowerCase();
  if (!(MODES_CONVENTIONS as readonly string[]).includes(t))
    throw new UsageError(
      `modes convention must be corners (the original FNO code: m1 rows from each end) or centered (neuraloperator's n_modes), got "${text}"`,
    );
  return t as ModesConvention;
}

function fnoFromText(t: SpecText): LayerSpec {
  for (const [flag, v] of [
    ['--kernel', t.kernel],
    ['--spatial-kernel', t.spatialKernel],
  ] as const)
    if (v !== undefined)
      throw new UsageError(
        `${flag} does not apply to an FNO layer: its weights are the kept modes (--modes), not a spatial kernel`,
      );
  if (t.padding !== undefined && parsePadding(t.padding) !== 'circular')
    throw new UsageError(
      `an FNO layer is periodic: --padding ${t.padding} does not apply (its product of spectra is circular)`,
    );
  if (t.layout !== undefined && parseLayout(t.layout) !== 'NCHW')
    throw new UsageError(
      `an FNO layer runs on NCHW activations, as PyTorch code writes it: --layout ${t.layout} does not apply`,
    );
  const d = FNO_DEFAULTS;
  const spec = fnoSpec({
    batch: t.batch !== undefined ? parseDimension(t.batch, 'batch') : d.batch,
    height: t.height !== undefined ? parseDimension(t.height, 'height') : d.height,
    width: t.width !== undefined ? parseDimension(t.width, 'width') : d.width,
    inChannels: t.in !== undefined ? parseDimension(t.in, 'in channels') : d.inChannels,
    outChannels: t.out !== undefined ? parseDimension(t.out, 'out channels') : d.outChannels,
    modes: t.modes !== undefined ? parseModes(t.modes) : d.modes,
    modesConvention: t.modesConvention !== undefined ? parseModesConvention(t.modesConvention) : 'corners',
  });
  const problems = specProblems(spec);
  if (problems.length) throw new UsageError(problems[0]!);
  return spec;
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
  if (t.preset !== undefined) {
    const p = presetById(t.preset.trim());
    if (!p) throw new UsageError(`unknown preset "${t.preset}" (choose from ${PRESETS.map((x) => x.id).join(', ')})`);
    const keys: Array<keyof SpecText> = [
      'batch',
      'height',
      'width',
      'in',
      'out',
      'kernel',
      'spatialKernel',
      'padding',
      'layout',
      'layer',
      'modes',
      'modesConvention',
    ];
    const extra = keys.filter((k) => t[k] !== undefined).map((k) => [k] as const);
    if (extra.length)
      throw new UsageError(
        `--preset gives the whole spec; drop --${extra[0]![0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (or drop --preset)`,
      );
    return { ...p.spec };
  }
  const layer = t.layer !== undefined ? parseLayerKind(t.layer) : 'seed';
  if (layer === 'fno') return fnoFromText(t);
  if (t.modes !== undefined) throw new UsageError('--modes applies to an FNO layer: add --layer fno');
  if (t.modesConvention !== undefined)
    throw new UsageError('--modes-convention applies to an FNO layer with --modes: add --layer fno');
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
