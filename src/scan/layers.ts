/**
 * Layers found in the code and the spec each one implies: the Fourier-domain layers (a class or
 * function that takes an FFT and multiplies spectra) and every Conv2D. Shapes are read from literals
 * only (Input(shape=…), input_shape=…, torch.randn(B, C, H, W), batch_size=…, constructor arguments);
 * nothing is guessed. Host-free.
 */
import type { Node } from 'web-tree-sitter';
import type { CallInfo, ClassInfo, FnInfo, SourceModel } from './source-model';
import type { LayerSite, PartialSpec } from './types';
import { rangeOf } from './text';
import {
  CONV2D,
  EINSUM,
  FORWARD_FFT,
  INPUT,
  MATMUL,
  MULTIPLY,
  PAD,
  PRODUCT_METHODS,
  TENSOR_FACTORY,
  type Values,
  elements,
  intValue,
  kernelSize,
  stringLiteral,
} from './values';

type Sources = LayerSite['specSources'];

export interface FileFacts {
  spec: PartialSpec;
  sources: Sources;
}

const line = (n: Node) => `line ${n.startPosition.row + 1}`;

/** A spec being read from code: the first value found for a field wins, with where it was read. */
function specReader(): FileFacts & {
  put: (key: keyof PartialSpec, value: number | string | undefined, why: string) => void;
  adopt: (facts: FileFacts) => void;
} {
  const spec: PartialSpec = {};
  const sources: Sources = {};
  const put = (key: keyof PartialSpec, value: number | string | undefined, why: string) => {
    if (value === undefined || spec[key] !== undefined) return;
    (spec as Record<string, unknown>)[key] = value;
    sources[key] = why;
  };
  /** What the file states about its input (size, channels, batch, layout). */
  const adopt = (facts: FileFacts) => {
    for (const k of ['batch', 'height', 'width', 'inChannels', 'layout'] as const)
      put(k, facts.spec[k], facts.sources[k]!);
  };
  return { spec, sources, put, adopt };
}

/** The calls whose keyword arguments say `input_shape=` / `batch_size=` (found in the text, then in the tree). */
function keywordCalls(model: SourceModel, values: Values): Set<CallInfo> {
  const out = new Set<CallInfo>();
  const re = /\b(input_shape|batch_size|inputShape|batchSize)\s*[=:]/g;
  for (let m = re.exec(model.text); m; m = re.exec(model.text)) {
    let n: Node | null = model.root.descendantForIndex(m.index);
    for (let i = 0; n && i < 6; i++, n = n.parent) {
      const c = values.call(n);
      if (c) {
        out.add(c);
        break;
      }
    }
  }
  return out;
}

/** Image size, channels, batch and layout that the file states with literals. */
export function fileFacts(model: SourceModel, values: Values): FileFacts {
  const f = specReader();
  const withKeywords = keywordCalls(model, values);
  for (const c of model.calls) {
    // Reading arguments crosses into wasm: only for calls that can state a shape.
    if (!INPUT.has(c.name) && !TENSOR_FACTORY.has(c.name) && !withKeywords.has(c)) continue;
    const shapeArg = INPUT.has(c.name)
      ? (c.kwargs.get('shape') ?? c.kwargs.get('batch_shape') ?? c.args[0])
      : (c.kwargs.get('input_shape') ?? c.kwargs.get('inputShape'));
    const shape = elements(shapeArg)?.map((n) => intValue(n));
    if (shape && (shape.length === 3 || shape.length === 4) && shape.every((x) => x !== undefined)) {
      const [h, w, ch] = shape.length === 4 ? shape.slice(1) : shape;
      const why = `${shapeArg!.parent?.text.slice(0, 60) ?? shapeArg!.text} (${line(shapeArg!)}, channels last)`;
      f.put('height', h, why);
      f.put('width', w, why);
      f.put('inChannels', ch, why);
      f.put('layout', 'NHWC', why);
      if (shape.length === 4) f.put('batch', shape[0], why);
    }
    const bs = intValue(c.kwargs.get('batch_size') ?? c.kwargs.get('batchSize'));
    if (bs) f.put('batch', bs, `batch size ${bs} (${line(c.node)})`);
    if (TENSOR_FACTORY.has(c.name)) {
      const torchStyle = c.name.startsWith('torch.') || c.name === 'numpy.random.randn';
      const dims = (torchStyle ? c.args : (elements(c.args[0]) ?? [])).map((n) => intValue(n));
      if (dims.length === 4 && dims.every((d) => d !== undefined)) {
        const [b, d1, d2, d3] = dims as number[];
        // torch.randn(20, 64, 64, 3): a square grid first and a few channels last is a channels-last input (the
        // original FNO scripts feed (batch, x, y, a(x, y) + grid) and lift it to `width` channels).
        const channelsLast = !c.name.startsWith('torch.') || (d1 === d2 && d3! < d1! && d3! <= 4);
        const why = `${c.node.text.slice(0, 60)} (${line(c.node)}, ${channelsLast ? 'NHWC' : 'NCHW'})`;
        f.put('batch', b, why);
        if (!channelsLast) {
          f.put('inChannels', d1, why);
          f.put('height', d2, why);
          f.put('width', d3, why);
          f.put('layout', 'NCHW', why);
        } else {
          f.put('height', d1, why);
          f.put('width', d2, why);
          f.put('inChannels', d3, why);
          f.put('layout', 'NHWC', why);
        }
      }
    }
  }
  return { spec: f.spec, sources: f.sources };
}

export interface ConvInfo {
  call: CallInfo;
  kernel?: { kh: number; kw: number };
  filters?: number;
  inChannels?: number;
  padding?: 'same' | 'valid';
  framework: 'keras' | 'torch' | 'tfjs' | 'tf.nn';
}

export function convInfo(c: CallInfo): ConvInfo {
  if (c.name === 'torch.nn.Conv2d') {
    const kernel = kernelSize(c.kwargs.get('kernel_size') ?? c.args[2]);
    const pad = c.kwargs.get('padding') ?? c.args[4];
    const p = stringLiteral(pad) ?? intValue(pad);
    const padding =
      p === 'same' || (kernel && typeof p === 'number' && 2 * p === kernel.kh - 1)
        ? 'same'
        : p === 'valid' || pad === undefined || pad.text === '0'
          ? 'valid'
          : undefined;
    return {
      call: c,
      kernel,
      filters: intValue(c.kwargs.get('out_channels') ?? c.args[1]),
      inChannels: intValue(c.kwargs.get('in_channels') ?? c.args[0]),
      padding,
      framework: 'torch',
    };
  }
  if (c.name === 'tfjs.layers.conv2d') {
    const p = stringLiteral(c.kwargs.get('padding'));
    return {
      call: c,
      kernel: kernelSize(c.kwargs.get('kernelSize')),
      filters: intValue(c.kwargs.get('filters')),
      padding: p === 'same' ? 'same' : 'valid',
      framework: 'tfjs',
    };
  }
  if (c.name === 'tensorflow.keras.layers.Conv2D') {
    const p = stringLiteral(c.kwargs.get('padding') ?? c.args[3]);
    return {
      call: c,
      kernel: kernelSize(c.kwargs.get('kernel_size') ?? c.args[1]),
      filters: intValue(c.kwargs.get('filters') ?? c.args[0]),
      padding: p === 'same' ? 'same' : 'valid',
      framework: 'keras',
    };
  }
  // Functional convolutions take a filter tensor; its size is rarely a literal.
  return { call: c, framework: c.name.startsWith('torch') ? 'torch' : c.name.startsWith('tfjs') ? 'tfjs' : 'tf.nn' };
}

export interface FourierLayer {
  site: LayerSite;
  cls?: ClassInfo;
  fn?: FnInfo;
  /** The FFT calls inside the layer. */
  ffts: CallInfo[];
  /** The weight attribute the layer transforms or multiplies (`self.kernel`), and its declared shape. */
  kernelShape?: Node[];
  /** `int(input_shape[1])`-style: the kernel is as large as the image. */
  imageSized: boolean;
  /** A transform was given a size (fft_length / s) or its input was padded. */
  padded: boolean;
  /** Offsets of the class or function. */
  start: number;
  end: number;
}

const INIT_NAMES = new Set(['__init__', 'constructor']);

/** The literal value of each constructor parameter at the first instantiation that has literals. */
function constructorArgs(model: SourceModel, cls: ClassInfo): Map<string, { value: number; at: Node }> {
  const out = new Map<string, { value: number; at: Node }>();
  const init = [...cls.methods.values()].find((m) => INIT_NAMES.has(m.name));
  if (!init) return out;
  const params = init.params.filter((p) => p !== 'self');
  for (const c of model.calls) {
    if (c.last !== cls.name || c.receiver) continue;
    c.args.forEach((a, i) => {
      const v = intValue(a);
      if (v && params[i] && !out.has(params[i]!)) out.set(params[i]!, { value: v, at: c.node });
    });
    for (const [k, v] of c.kwargs) {
      const n = intValue(v);
      if (n && !out.has(k)) out.set(k, { value: n, at: c.node });
    }
    if (out.size) break;
  }
  return out;
}

/** The declared shape of a weight attribute: add_weight(shape=…), nn.Parameter(torch.rand(…)), tf.Variable(…). */
export function weightShape(values: Values, cls: ClassInfo, attr: Node): Node[] | undefined {
  let v = values.attributeValue(attr, cls);
  for (let i = 0; v && i < 4; i++) {
    const c = values.call(v);
    if (!c) return elements(v) ?? (v.type === 'attribute' || v.type === 'member_expression' ? undefined : undefined);
    if (c.last === 'add_weight' || c.last === 'addWeight') {
      const s = c.kwargs.get('shape') ?? c.args[1];
      const el = elements(s);
      if (el) return el;
      v = s && /^(self|this)\./.test(s.text) ? values.attributeValue(s, cls) : undefined;
      const ev = elements(v);
      if (ev) return ev;
      continue;
    }
    if (/Parameter$|Variable$/.test(c.last)) {
      v = c.args[0] ?? c.kwargs.get('data') ?? c.kwargs.get('initial_value');
      continue;
    }
    if (TENSOR_FACTORY.has(c.name) || /^(rand|randn|zeros|ones|empty)$/.test(c.last)) {
      const el = c.args.length === 1 ? elements(c.args[0]) : c.args.filter((a) => a.type !== 'keyword_argument');
      return el && el.length ? el : undefined;
    }
    return undefined;
  }
  return undefined;
}

const OUT_NAME = /out|kernels|filters|features$/i;
const IN_NAME = /^(in_?(channels|ch|planes|features)|cin|c_in|inputs?_?channels)$/i;

export function findFourierLayers(
  model: SourceModel,
  values: Values,
  facts: FileFacts,
  convs: ConvInfo[],
): FourierLayer[] {
  const out: FourierLayer[] = [];
  const byOwner = new Map<ClassInfo | FnInfo, CallInfo[]>();
  for (const c of model.calls) {
    if (!FORWARD_FFT.has(c.name)) continue;
    const owner = c.cls ?? c.fn;
    if (!owner) continue;
    if (!byOwner.has(owner)) byOwner.set(owner, []);
    byOwner.get(owner)!.push(c);
  }
  // Functions that are a product under another name: a module-level helper whose body is an einsum /
  // matmul (FNO's compl_mul2d), or a name bound to partial(torch.einsum, "…").
  const helpers = new Set<string>();
  for (const f of model.fns)
    if (!f.cls && /\b(einsum|matmul|bmm)\b/.test(model.text.slice(f.node.startIndex, f.node.endIndex)))
      helpers.add(f.name);
  for (const m of model.text.matchAll(
    /^\s*([A-Za-z_]\w*)\s*=\s*(?:functools\.)?partial\(\s*(?:torch|tl|tensorly|np|numpy)\.einsum/gm,
  ))
    helpers.add(m[1]!);
  // A product stored on the instance in __init__ — `self._contract = get_contract_fun(weight, …)` (neuraloperator),
  // `self.mul = compl_mul2d` — is a product when the stored value is a helper, or a module-level factory that
  // returns one: `self._contract(x_ft[…], self.weight)` in forward is then the layer's channel mixing.
  const factories = new Map<string, string[]>();
  for (const f of model.fns) {
    if (f.cls) continue;
    const returned = [
      ...model.text.slice(f.node.startIndex, f.node.endIndex).matchAll(/\breturn\s+([A-Za-z_]\w*)\s*$/gm),
    ];
    const products = returned.map((m) => m[1]!).filter((n) => helpers.has(n));
    if (products.length) factories.set(f.name, products);
  }
  const storedProducts = (cls: ClassInfo | undefined): Set<string> => {
    const out = new Set<string>();
    const init = cls && [...cls.methods.values()].find((m) => INIT_NAMES.has(m.name));
    if (!init) return out;
    const text = model.text.slice(init.node.startIndex, init.node.endIndex);
    for (const m of text.matchAll(/\bself\.(\w+)\s*=\s*(?:[\w.]*\.)?([A-Za-z_]\w*)\s*(\()?/g))
      if ((m[3] && factories.has(m[2]!)) || (!m[3] && helpers.has(m[2]!))) out.add(m[1]!);
    return out;
  };
  for (const [owner, ffts] of byOwner) {
    const cls = 'methods' in owner ? owner : undefined;
    const stored = storedProducts(cls);
    const fn = cls ? undefined : (owner as FnInfo);
    const [ownerStart, ownerEnd] = [owner.node.startIndex, owner.node.endIndex];
    const inOwner = (p: { node: Node; end: number }) => p.node.startIndex >= ownerStart && p.end <= ownerEnd;
    const calls = model.callsIn.get(owner) ?? [];
    // A product of spectra makes it a convolution layer (an FFT alone is a feature, not a layer).
    // A product with a spectral multiplier (derivative, filter, mask) is not a convolution layer.
    const notMultiplier = (c: CallInfo) =>
      ![...c.args, ...(c.receiver ? [c.receiver] : [])].some((a) => values.isMultiplier(a, c.fn));
    const product =
      calls.some(
        (c) =>
          notMultiplier(c) &&
          (EINSUM.has(c.name) ||
            MATMUL.has(c.name) ||
            MULTIPLY.has(c.name) ||
            (!c.receiver && helpers.has(c.last)) ||
            (c.receiver?.text === 'self' && stored.has(c.last)) ||
            (!c.name && PRODUCT_METHODS.has(c.last))) &&
          [...c.args, ...(c.receiver ? [c.receiver] : [])].some((a) => values.isSpectrum(a, c.fn, c.cls)),
      ) ||
      model.products.some(
        (p) =>
          inOwner(p) &&
          (values.isSpectrum(p.left, p.fn, cls) || values.isSpectrum(p.right, p.fn, cls)) &&
          !values.isMultiplier(p.left, p.fn) &&
          !values.isMultiplier(p.right, p.fn),
      );
    if (!product) continue;
    const name = cls?.name ?? fn!.name;
    const nameNode = cls?.nameNode ?? fn!.node.childForFieldName('name') ?? owner.node;
    const { spec, sources, put, adopt } = specReader();
    // The weight: what the layer transforms (seed) or multiplies with (FNO: self.weights1).
    let kernelShape: Node[] | undefined;
    if (cls) {
      const attrs = calls
        .flatMap((c) => [...c.args, ...(c.receiver ? [c.receiver] : [])])
        .filter((a) => /^(self|this)\.\w+$/.test(a.text));
      for (const a of attrs) {
        kernelShape = weightShape(values, cls, a);
        if (kernelShape) break;
      }
    }
    const ctor = cls ? constructorArgs(model, cls) : new Map<string, { value: number; at: Node }>();
    const framework =
      cls?.framework ??
      (ffts[0]!.name.startsWith('torch') ? 'torch' : ffts[0]!.name.startsWith('tfjs') ? 'tfjs' : 'keras');
    for (const [param, { value, at }] of ctor) {
      const why = `${at.text.slice(0, 60)} (${line(at)}: ${param})`;
      if (IN_NAME.test(param)) put('inChannels', value, why);
      else if (OUT_NAME.test(param)) put('outChannels', value, why);
    }
    const shapeText = kernelShape?.map((e) => e.text) ?? [];
    const imageSized =
      shapeText.some((t) => /input_shape\s*\[\s*(1|-3)\s*\]/.test(t)) &&
      shapeText.some((t) => /input_shape\s*\[\s*(2|-2)\s*\]/.test(t));
    if (imageSized || framework === 'torch') {
      // FNO-style weights act on the whole (truncated) spectrum: the spatial kernel is image-sized.
      if (facts.spec.height) put('kernelH', facts.spec.height, `image-sized kernel (${facts.sources.height})`);
      if (facts.spec.width) put('kernelW', facts.spec.width, `image-sized kernel (${facts.sources.width})`);
    }
    if (shapeText.some((t) => /input_shape\s*\[\s*(3|-1)\s*\]/.test(t)) && facts.spec.inChannels)
      put('inChannels', facts.spec.inChannels, `kernel shape uses input_shape[3] (${facts.sources.inChannels})`);
    adopt(facts);
    put(
      'layout',
      framework === 'torch' ? 'NCHW' : framework === 'keras' || framework === 'tfjs' ? 'NHWC' : undefined,
      `${framework} default layout`,
    );
    const padded = ffts.some(
      (c) =>
        c.kwargs.has('fft_length') ||
        c.kwargs.has('s') ||
        c.args.length > 1 ||
        calls.some((p) => PAD.has(p.name) && p.fn === c.fn),
    );
    put(
      'padding',
      padded ? 'linear' : 'circular',
      padded
        ? 'the transforms are given a size / the input is padded'
        : 'spectra multiplied without padding (circular)',
    );
    const conv = convs.find((c) => c.kernel);
    if (conv?.kernel)
      put('spatialKernel', conv.kernel.kh, `${conv.call.node.text.slice(0, 60)} (${line(conv.call.node)})`);
    out.push({
      site: {
        id: `fourier:${name}:${nameNode.startPosition.row}`,
        kind: 'fourier',
        name,
        range: rangeOf(nameNode),
        spec,
        specSources: sources,
      },
      cls,
      fn,
      ffts,
      kernelShape,
      imageSized,
      padded,
      start: ownerStart,
      end: ownerEnd,
    });
    classifyFno(model, out[out.length - 1]!, facts);
  }
  return out;
}

/** `NAME = 12` at the top level of a Python file: module constants a constructor call may use. */
export function moduleConstants(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^([A-Za-z_]\w*)\s*=\s*(\d+)\s*(?:#.*)?$/gm))
    if (!out.has(m[1]!)) out.set(m[1]!, Number(m[2]));
  return out;
}

const MODES_SLICE = /:\s*-?\s*(?:self\.)?(?:\w*modes\w*|m[123]|k[XYZxyz]|kmax\w*|n_?freqs?)(?:\[\s*-?\d\s*\])?\s*[,\]]/;

/** The number of axes an FNO's transform spans: from its einsum equation, else its FFT calls. */
function fnoDims(body: string, ffts: CallInfo[]): number {
  const eq = /["'](b\w*?),\s*(\w+)\s*->\s*(\w+)["']/.exec(body);
  if (eq && /^bi/.test(eq[1]!) && eq[1]!.length >= 3 && eq[1]!.length <= 5) return eq[1]!.length - 2;
  let d = 0;
  for (const c of ffts) {
    const dim = c.kwargs.get('dim') ?? c.kwargs.get('axes');
    const listed = elements(dim)?.length;
    if (listed) d = Math.max(d, listed);
    else if (/rfft2|fft2/.test(c.name)) d = Math.max(d, 2);
    else if (c.name === 'torch.rfft' || c.name === 'torch.fft')
      d = Math.max(d, intValue(c.args[1] ?? c.kwargs.get('signal_ndim')) ?? 1);
    else if (/rfftn|fftn/.test(c.name)) d = Math.max(d, /dim\s*=\s*\(?\s*-?3/.test(c.node.text) ? 3 : 2);
    else d = Math.max(d, 1);
  }
  return d || 2;
}

/**
 * Marks a Fourier layer as an FNO spectral convolution when its product acts on a mode-truncated slice of
 * the spectrum (`x_ft[:, :, :self.modes1, :self.modes2]`, a centred `n_modes` slice) — PyTorch code as the
 * original FNO scripts and neuraloperator write it — and reads its modes, channels and convention from the
 * constructor call (literals or module constants). Periodic by design: padding circular, NCHW.
 */
export function classifyFno(model: SourceModel, layer: FourierLayer, facts: FileFacts): void {
  const body = model.text.slice(layer.start, layer.end);
  const torchy = layer.ffts.some((c) => c.name.startsWith('torch'));
  if (!torchy || !(MODES_SLICE.test(body) || /\bn_modes\b/.test(body))) return;
  const site = layer.site;
  const dims = fnoDims(body, layer.ffts);
  const notes: string[] = [];
  const legacy = layer.ffts.some((c) => c.name === 'torch.rfft' || c.name === 'torch.fft');
  if (legacy) notes.push('pre-1.8 torch.rfft API with real-pair [..., 2] spectra: this code fails on PyTorch ≥ 1.8');
  if (/FactorizedTensor|tltorch|tensorly|\btl\.|factorization\s*=/.test(body))
    notes.push('factorized weights (tensorly / tltorch): profiled as the dense weights they reconstruct');
  site.kind = 'fno';
  site.dims = dims;
  if (dims !== 2)
    notes.push(`${dims}-D Fourier layer: fconv profiles 2-D FNO layers only, so this one is not profiled yet`);
  if (notes.length) site.notes = notes;
  const { spec, specSources: sources } = site;
  const put = <K extends keyof typeof spec>(k: K, v: (typeof spec)[K] | undefined, why: string) => {
    if (v === undefined) return;
    spec[k] = v;
    sources[k] = why;
  };
  // An FNO has no spatial kernel and is periodic: what the seed's reading put there does not apply.
  for (const k of ['kernelH', 'kernelW', 'spatialKernel', 'padding'] as const) {
    delete spec[k];
    delete sources[k];
  }
  const centered = /fftshift|\bn_modes\b/.test(body);
  put('layer', 'fno', `${site.name}: an einsum / product over a mode-truncated slice of the spectrum`);
  put(
    'modesConvention',
    centered ? 'centered' : 'corners',
    centered
      ? 'n_modes / fftshift: modes centred on frequency 0'
      : 'slices [:modes] (and [-modes:]) of the spectrum: corner blocks',
  );
  put('padding', 'circular', 'an FNO layer is periodic by design');
  put('layout', 'NCHW', 'torch default layout');
  // Constructor parameters → values at the first instantiation whose arguments resolve.
  const cls = layer.cls;
  const init = cls && [...cls.methods.values()].find((m) => m.name === '__init__');
  if (cls && init) {
    const params = init.params.filter((p) => p !== 'self');
    const consts = moduleConstants(model.text);
    const valueOf = (n: Node | undefined): number | number[] | undefined => {
      if (!n) return undefined;
      const v = intValue(n);
      if (v !== undefined) return v;
      if (n.type === 'identifier' && consts.has(n.text)) return consts.get(n.text);
      const el = elements(n)?.map((e) => intValue(e) ?? (e.type === 'identifier' ? consts.get(e.text) : undefined));
      return el && el.length && el.every((x) => x !== undefined) ? (el as number[]) : undefined;
    };
    for (const c of model.calls) {
      if (c.last !== cls.name || c.receiver) continue;
      const got = new Map<string, number | number[]>();
      c.args.forEach((a, i) => {
        const v = valueOf(a);
        if (v !== undefined && params[i]) got.set(params[i]!, v);
      });
      for (const [k, v] of c.kwargs) {
        const x = valueOf(v);
        if (x !== undefined) got.set(k, x);
      }
      if (!got.size) continue;
      const why = (p: string) => `${c.node.text.replace(/\s+/g, ' ').slice(0, 60)} (${line(c.node)}: ${p})`;
      let m1: number | undefined, m2: number | undefined;
      for (const [p, v] of got) {
        const n = typeof v === 'number' ? v : undefined;
        if (/^(modes?_?1|modes?_?x|m1|k_?x)$/i.test(p)) m1 = n;
        else if (/^(modes?_?2|modes?_?y|m2|k_?y)$/i.test(p)) m2 = n;
        else if (/^(n_)?modes$/i.test(p)) {
          if (Array.isArray(v)) [m1, m2] = [v[0], v[v.length - 1]];
          else m1 = m2 = n;
        } else if (n !== undefined && IN_NAME.test(p)) put('inChannels', n, why(p));
        else if (n !== undefined && OUT_NAME.test(p)) put('outChannels', n, why(p));
        else if (n !== undefined && /^(width|channels|hidden_channels)$/i.test(p)) {
          if (spec.inChannels === undefined) put('inChannels', n, why(p));
          if (spec.outChannels === undefined) put('outChannels', n, why(p));
        }
      }
      if (m1 !== undefined && m2 === undefined && dims === 1) m2 = 1;
      if (m1 !== undefined && m2 !== undefined) put('modes', [m1, m2], why('modes'));
      break;
    }
  }
  if (spec.height === undefined) {
    // torch.randn(BATCH, WIDTH, 64, 64) with module constants: the input the file feeds its model (NCHW).
    const consts = moduleConstants(model.text);
    for (const c of model.calls) {
      if (!TENSOR_FACTORY.has(c.name) || !c.name.startsWith('torch.') || c.args.length !== 4) continue;
      const d = c.args.map((a) => intValue(a) ?? (a.type === 'identifier' ? consts.get(a.text) : undefined));
      if (d.some((x) => x === undefined)) continue;
      // randn(20, 64, 64, 3): a square grid first and a few channels last is the model's raw channels-last input
      // (the original FNO scripts' (batch, x, y, a(x, y) + grid)), lifted to `width` channels before this layer:
      // its grid is the layer's, its channels are not.
      const [b, c1, c2, c3] = d as number[];
      const channelsLast = c1 === c2 && c3! < c1! && c3! <= 4;
      const why = `${c.node.text.slice(0, 60)} (${line(c.node)}, ${channelsLast ? "the model's channels-last input: its grid" : 'NCHW'})`;
      put('batch', b, why);
      put('height', channelsLast ? c1 : c2, why);
      put('width', channelsLast ? c2 : c3, why);
      if (spec.inChannels === undefined && !channelsLast) put('inChannels', c1, why);
      break;
    }
  }
  if (spec.height !== undefined && facts.spec.layout === 'NHWC' && sources.inChannels === facts.sources.inChannels) {
    // A randn(B, H, W, C)-style channels-last input: its grid is the layer's, but its channels are the model's raw
    // input, lifted before this NCHW layer — they are asked, not taken.
    delete spec.inChannels;
    delete sources.inChannels;
  }
}

export function convSite(info: ConvInfo, facts: FileFacts): LayerSite {
  const { spec, sources, put, adopt } = specReader();
  const where = `${info.call.node.text.replace(/\s+/g, ' ').slice(0, 60)} (${line(info.call.node)})`;
  if (info.kernel) {
    put('kernelH', info.kernel.kh, where);
    put('kernelW', info.kernel.kw, where);
    put('spatialKernel', Math.max(info.kernel.kh, info.kernel.kw), where);
  }
  put('outChannels', info.filters, where);
  put('inChannels', info.inChannels, where);
  put('padding', info.padding, where);
  put(
    'layout',
    info.framework === 'torch' ? 'NCHW' : info.framework === 'keras' || info.framework === 'tfjs' ? 'NHWC' : undefined,
    `${info.framework} default layout`,
  );
  adopt(facts);
  const text = info.call.node.text.replace(/\s+/g, ' ');
  return {
    id: `conv2d:${info.call.node.startPosition.row}:${info.call.node.startPosition.column}`,
    kind: 'conv2d',
    name: text.length > 40 ? `${text.slice(0, 39)}…` : text,
    range: rangeOf(info.call.callee),
    spec,
    specSources: sources,
  };
}

export function findConvs(model: SourceModel): ConvInfo[] {
  return model.calls.filter((c) => CONV2D.has(c.name)).map(convInfo);
}
