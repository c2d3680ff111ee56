/**
 * Asks for the layer to profile: a QuickPick of presets, "last used" and "Custom…", and for Custom a
 * short sequence of input boxes validated as the user types, with the CLI's messages (spec-input.ts).
 * Fields already known (e.g. read from source) are not asked again.
 */
import * as vscode from 'vscode';
import { PRESETS, presetDescription } from '../core/presets';
import { DEFAULT_SPEC, type LayerSpec, LAYOUTS, PADDINGS, describeSpec, fnoSpec, specProblems } from '../core/spec';
import { FNO_DEFAULTS, parseDimension, parseInputShape, parseKernel, parseModes } from '../core/spec-input';

type PresetItem = vscode.QuickPickItem & { spec?: LayerSpec; custom?: boolean; presetId: string };

function messageOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function pickSpec(
  lastUsed: LayerSpec | undefined,
  defaultPreset: string,
): Promise<{ spec: LayerSpec; presetId: string } | undefined> {
  const items: PresetItem[] = PRESETS.map((p) => ({
    label: p.label,
    description: presetDescription(p),
    detail: p.detail,
    spec: p.spec,
    presetId: p.id,
  }));
  if (lastUsed)
    items.unshift({
      label: '$(history) Last used',
      description: describeSpec(lastUsed),
      spec: lastUsed,
      presetId: 'last',
    });
  items.push({
    label: '$(edit) Custom…',
    detail: 'Type the shapes: input, channels, kernel, padding, layout.',
    custom: true,
    presetId: 'custom',
  });
  const qp = vscode.window.createQuickPick<PresetItem>();
  qp.title = 'Profile Fourier Conv: which layer?';
  qp.placeholder = 'Pick a layer to profile, or Custom…';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = items;
  const preferred =
    items.find((i) => i.presetId === defaultPreset) ?? items.find((i) => i.presetId === 'mnist-question');
  if (preferred) qp.activeItems = [preferred];
  const chosen = await new Promise<PresetItem | undefined>((resolve) => {
    qp.onDidAccept(() => {
      resolve(qp.selectedItems[0] ?? qp.activeItems[0]);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!chosen) return undefined;
  if (chosen.spec) return { spec: chosen.spec, presetId: chosen.presetId };
  const spec = await askCustom({}, lastUsed ?? DEFAULT_SPEC);
  return spec ? { spec, presetId: 'custom' } : undefined;
}

interface BoxStep {
  prompt: string;
  value: string;
  validate: (text: string) => string | undefined;
}

/** Whose prompts these are: "custom layer", or the layer read from the user's code. */
let boxTitle = 'custom layer';

async function inputBox(step: number, total: number, s: BoxStep): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: `Profile Fourier Conv: ${boxTitle} (${step}/${total})`,
    prompt: s.prompt,
    value: s.value,
    ignoreFocusOut: true,
    validateInput: (t) => s.validate(t),
  });
}

async function pickOne<T extends string>(
  step: number,
  total: number,
  title: string,
  options: readonly T[],
  current: T,
  detail: Record<string, string>,
): Promise<T | undefined> {
  const pick = await vscode.window.showQuickPick(
    options.map((o) => ({ label: o, description: o === current ? '(current)' : undefined, detail: detail[o] })),
    { title: `Profile Fourier Conv: ${boxTitle} (${step}/${total})`, placeHolder: title, ignoreFocusOut: true },
  );
  return pick?.label as T | undefined;
}

const PADDING_DETAIL: Record<string, string> = {
  circular: 'A plain product of spectra: circular convolution (what the question’s layer computes).',
  same: 'Zero-padded so the output equals Conv2D(padding="same").',
  valid: 'Zero-padded; the output equals Conv2D(padding="valid").',
  linear: 'The full linear convolution, size n + k − 1.',
};

/** The Custom… sequence; `known` fields are kept and not asked. Undefined when the user escapes. */
/** An FNO layer from "Profile this layer": ask for the grid, channels and modes the code did not state. */
async function askFno(known: Partial<LayerSpec>): Promise<LayerSpec | undefined> {
  const d = FNO_DEFAULTS;
  const s = {
    batch: known.batch ?? d.batch,
    height: known.height ?? d.height,
    width: known.width ?? d.width,
    inChannels: known.inChannels ?? d.inChannels,
    outChannels: known.outChannels ?? d.outChannels,
    modes: known.modes ?? d.modes,
    modesConvention: known.modesConvention ?? 'corners',
  };
  // What was read may not make a layer (modes 12 on a 3-wide grid read from the model's raw input): then the shape
  // and the modes are asked too, prefilled with what was read, the problem said in the prompt.
  const readProblem = specProblems(fnoSpec(s))[0];
  const askShape =
    !!readProblem || [known.batch, known.height, known.width, known.inChannels].some((v) => v === undefined);
  const askOut = known.outChannels === undefined;
  const askModes = !!readProblem || known.modes === undefined;
  const total = [askShape, askOut, askModes].filter(Boolean).length;
  let step = 0;
  if (askShape) {
    const t = await inputBox(++step, total, {
      prompt: `${readProblem ? `What was read does not make this layer (${readProblem}): correct it. ` : ''}FNO input: batch × height × width × in-channels (the layer runs NCHW)`,
      value: `${s.batch}×${s.height}×${s.width}×${s.inChannels}`,
      validate: (x) => messageOf(() => parseInputShape(x)),
    });
    if (t === undefined) return undefined;
    Object.assign(s, parseInputShape(t));
  }
  if (askOut) {
    const t = await inputBox(++step, total, {
      prompt: 'Out channels (the FNO width)',
      value: String(s.outChannels),
      validate: (x) => messageOf(() => parseDimension(x, 'out channels')),
    });
    if (t === undefined) return undefined;
    s.outChannels = parseDimension(t, 'out channels');
  }
  if (askModes) {
    const t = await inputBox(step + 1, total, {
      prompt: `Modes kept (${s.modesConvention === 'centered' ? 'n_modes, centred' : 'per corner, as modes1, modes2'}): N or ROWS,COLS`,
      value: `${s.modes[0]},${s.modes[1]}`,
      validate: (x) =>
        messageOf(() => {
          const spec = fnoSpec({ ...s, modes: parseModes(x) });
          const p = specProblems(spec);
          if (p.length) throw new Error(p[0]);
        }),
    });
    if (t === undefined) return undefined;
    s.modes = parseModes(t);
  }
  const spec = fnoSpec(s);
  const p = specProblems(spec);
  if (p.length) throw new Error(p[0]);
  return spec;
}

export async function askCustom(
  known: Partial<LayerSpec>,
  start: LayerSpec,
  origin?: { name: string; read: string[] },
): Promise<LayerSpec | undefined> {
  // Prompts for a layer from the code say which layer and what was read from it (the rest is asked).
  boxTitle = origin
    ? `${origin.name} — read from the code: ${origin.read.length ? origin.read.map((r) => r.split(' ← ')[0]).join(', ') : 'nothing'}`
    : 'custom layer';
  try {
    return await askLayer(known, start);
  } finally {
    boxTitle = 'custom layer';
  }
}

async function askLayer(known: Partial<LayerSpec>, start: LayerSpec): Promise<LayerSpec | undefined> {
  if (known.layer === 'fno') return askFno(known);
  const s: LayerSpec = { ...start, ...known };
  const askShape = [known.batch, known.height, known.width, known.inChannels].some((v) => v === undefined);
  const askOut = known.outChannels === undefined;
  const askKernel = known.kernelH === undefined || known.kernelW === undefined;
  const askSpatial = known.spatialKernel === undefined;
  const askPadding = known.padding === undefined;
  const askLayout = known.layout === undefined;
  const total = [askShape, askOut, askKernel, askSpatial, askPadding, askLayout].filter(Boolean).length;
  let step = 0;
  if (askShape) {
    const t = await inputBox(++step, total, {
      prompt: 'Input: batch × height × width × in-channels',
      value: `${s.batch}×${s.height}×${s.width}×${s.inChannels}`,
      validate: (x) => messageOf(() => parseInputShape(x)),
    });
    if (t === undefined) return undefined;
    Object.assign(s, parseInputShape(t));
  }
  if (askOut) {
    const t = await inputBox(++step, total, {
      prompt: 'Out channels (filters)',
      value: String(s.outChannels),
      validate: (x) => messageOf(() => parseDimension(x, 'out channels')),
    });
    if (t === undefined) return undefined;
    s.outChannels = parseDimension(t, 'out channels');
  }
  if (askKernel) {
    const t = await inputBox(++step, total, {
      prompt: `Kernel of the spectral layer: N, HxW, or "image" (= ${s.height}×${s.width}, as the question's layer)`,
      value:
        s.kernelH === s.height && s.kernelW === s.width
          ? 'image'
          : s.kernelH === s.kernelW
            ? String(s.kernelH)
            : `${s.kernelH}x${s.kernelW}`,
      validate: (x) => messageOf(() => parseKernel(x, s.height, s.width)),
    });
    if (t === undefined) return undefined;
    const k = parseKernel(t, s.height, s.width);
    s.kernelH = k.kh;
    s.kernelW = k.kw;
  }
  if (askSpatial) {
    const t = await inputBox(++step, total, {
      prompt: 'Kernel of the Conv2D to compare with ("same" padding)',
      value: String(s.spatialKernel),
      validate: (x) => messageOf(() => parseDimension(x, 'spatial kernel')),
    });
    if (t === undefined) return undefined;
    s.spatialKernel = parseDimension(t, 'spatial kernel');
  }
  if (askPadding) {
    const p = await pickOne(
      ++step,
      total,
      'Which convolution should the spectral layer compute?',
      PADDINGS,
      s.padding,
      PADDING_DETAIL,
    );
    if (!p) return undefined;
    s.padding = p;
  }
  if (askLayout) {
    const l = await pickOne(step + 1, total, 'Tensor layout', LAYOUTS, s.layout, {
      NHWC: 'channels last (Keras/TF default)',
      NCHW: 'channels first (PyTorch default)',
    });
    if (!l) return undefined;
    s.layout = l;
  }
  const problems = specProblems(s);
  if (problems.length) {
    void vscode.window.showErrorMessage(`Fourier Conv: ${problems[0]}`);
    return undefined;
  }
  return s;
}
