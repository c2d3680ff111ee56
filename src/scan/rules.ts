/**
 * The rules. Each reads the source model, follows values where it must, and reports what it saw (the
 * evidence), what it means (citing its section of docs/), and what to change — with an edit where one keeps
 * the code's meaning. Shapes, when the code states them, turn into costs. Host-free.
 */
import { fft2dFlops, halfSpectrumBytes } from '../core/cost';
import { formatBytes } from '../core/memory';
import type { Node } from 'web-tree-sitter';
import { fmtRatio } from '../core/format';
import { type DeviceProfile, breakEven } from '../core/model';
import { predict } from '../core/predict';
import { type LayerSpec, describeModes, fnoSpec, keptModes, specProblems } from '../core/spec';
import { ruleInfo } from './catalogue';
import type { ConvInfo, FileFacts, FourierLayer } from './layers';
import { weightShape } from './layers';
import type { CallInfo, SourceModel } from './source-model';
import { rangeOf, replace } from './text';
import type { Finding, Fix, RuleId } from './types';
import {
  EINSUM,
  FORWARD_FFT,
  INPUT,
  MATMUL,
  MULTIPLY,
  PAD,
  PRODUCT_METHODS,
  TF_INNERMOST_2D,
  TORCH_2D,
  TRANSPOSE,
  TRANSPOSE_METHODS,
  type Values,
  elements,
  intValue,
  permutation,
  stringLiteral,
} from './values';

export interface RuleContext {
  model: SourceModel;
  values: Values;
  facts: FileFacts;
  convs: ConvInfo[];
  layers: FourierLayer[];
  device?: DeviceProfile;
}

type Emit = (f: Omit<Finding, 'severity' | 'range'> & { node: Node }) => void;

const line = (n: Node) => n.startPosition.row + 1;
const short = (n: Node, max = 70) => {
  const t = n.text.replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
const PER_CALL = new Set(['call', 'forward', '__call__', 'apply']);
const SPATIAL_AXIS = /input_shape\s*\[\s*(1|2|-2|-3)\s*\]|height|width|\b[hwHW]\b|size|modes?\d*|\bn\b/;

function layerOf(ctx: RuleContext, n: Node): FourierLayer | undefined {
  const start = n.startIndex;
  return ctx.layers.find((l) => start >= l.start && start < l.end);
}

/** The local name of the `tensorflow` module, for edits that add a tf call. */
function tfName(ctx: RuleContext, c: CallInfo): string | undefined {
  const root = c.callee.text.split('.')[0]!;
  if ((ctx.model.aliases.get(root) ?? (root === 'tf' ? 'tensorflow' : '')) === 'tensorflow') return root;
  for (const [k, v] of ctx.model.aliases) if (v === 'tensorflow') return k;
  return undefined;
}

function convText(c: ConvInfo): string {
  return `${short(c.call.node, 50)} (line ${line(c.call.node)})`;
}

/** The spec of a layer when the code states all of it (padding and layout defaulted). */
function fullSpec(partial: Partial<LayerSpec>): LayerSpec | undefined {
  const s = { padding: 'same', layout: 'NHWC', dtype: 'float32', ...partial } as LayerSpec;
  if (s.spatialKernel === undefined && s.kernelH) s.spatialKernel = Math.max(s.kernelH, s.kernelW ?? s.kernelH);
  for (const k of [
    'batch',
    'height',
    'width',
    'inChannels',
    'outChannels',
    'kernelH',
    'kernelW',
    'spatialKernel',
  ] as const)
    if (s[k] === undefined) return undefined;
  return specProblems(s).length ? undefined : s;
}

const fmtFlops = (f: number) => (f >= 1e9 ? `${(f / 1e9).toFixed(2)} GFLOP` : `${(f / 1e6).toFixed(1)} MFLOP`);

// ---------------------------------------------------------------------------------------------------

/**
 * After `X = rfft2d(kernel)` is fixed to give (in, H, W/2+1, out): the next `tf.transpose(X, perm=P)` in the same
 * function whose result feeds a two-operand einsum as its second operand, and the perm that einsum needs for
 * the kernel spectrum when its first operand is channels-last (batch, H, W/2+1, in). Undefined when the code
 * does not have that shape (then the suggestion says what to check).
 */
function downstreamKernelPerm(
  ctx: RuleContext,
  c: CallInfo,
): { permNode: Node; perm: number[]; einsum: CallInfo; subscripts: string } | undefined {
  const assign = c.node.parent;
  if (assign?.type !== 'assignment' || assign.childForFieldName('right')?.id !== c.node.id) return undefined;
  const target = assign.childForFieldName('left');
  if (target?.type !== 'identifier') return undefined;
  const later = ctx.model.calls.filter((x) => x.fn === c.fn && x.node.startIndex > c.node.endIndex);
  const t = later.find(
    (x) => TRANSPOSE.has(x.name) && x.args[0]?.type === 'identifier' && x.args[0].text === target.text,
  );
  const permNode = t && (t.kwargs.get('perm') ?? t.args[1]);
  if (!t || !permNode || permutation([permNode])?.length !== 4) return undefined;
  const tAssign = t.node.parent;
  const tVar = tAssign?.type === 'assignment' ? tAssign.childForFieldName('left') : undefined;
  if (tVar?.type !== 'identifier') return undefined;
  const e = later.find(
    (x) =>
      EINSUM.has(x.name) &&
      x.node.startIndex > t.node.endIndex &&
      x.args.length === 3 &&
      x.args[2]?.type === 'identifier' &&
      x.args[2].text === tVar.text,
  );
  const spec = e?.args[0] && stringLiteral(e.args[0]);
  const m = spec && /^\s*(\w{4})\s*,\s*(\w{4})\s*->/.exec(spec);
  if (!e || !m) return undefined;
  const [b, h, f, cin] = [...m[1]!];
  const kernel = [...m[2]!];
  const out = kernel.find((l) => ![b, h, f, cin].includes(l));
  if (!out || b === undefined || !kernel.includes(h!) || !kernel.includes(f!) || !kernel.includes(cin!))
    return undefined;
  // The fixed spectrum's axes, by the einsum's letters: (in, H, W/2+1, out).
  const source = [cin, h, f, out];
  const perm = kernel.map((l) => source.indexOf(l));
  if (perm.some((p) => p < 0)) return undefined;
  return { permNode, perm, einsum: e, subscripts: spec.trim() };
}

function rfftAxes(ctx: RuleContext, emit: Emit): void {
  const { model, values } = ctx;
  const channelsFirst = /channels_first/.test(model.text);
  for (const c of model.calls) {
    if (TF_INNERMOST_2D.has(c.name)) {
      const arg = c.args[0] ?? c.kwargs.get('input_tensor') ?? c.kwargs.get('input');
      const o = values.origin(arg, c.fn);
      if (!arg || !o) continue;
      const oc = values.call(o);
      if (oc && (TRANSPOSE.has(oc.name) || (!oc.name && TRANSPOSE_METHODS.has(oc.last)))) continue;
      let what: string | undefined;
      if (/^(self|this)\.\w+$/.test(o.text) && c.cls) {
        const shape = weightShape(values, c.cls, o);
        if (shape?.length === 4 && !SPATIAL_AXIS.test(shape[3]!.text)) {
          what = `${o.text} is declared (${shape.map((e) => e.text).join(', ')}): its innermost two axes are (${shape[2]!.text}, ${shape[3]!.text}) — width and output channels`;
        }
      } else if (
        o.type === 'identifier' &&
        c.fn &&
        PER_CALL.has(c.fn.name) &&
        c.fn.cls?.framework === 'keras' &&
        o.text === c.fn.params.filter((p) => p !== 'self')[0] &&
        !channelsFirst
      ) {
        what = `${o.text} is the input of a Keras layer, channels last (NHWC): its innermost two axes are (W, C)`;
      } else if (oc && INPUT.has(oc.name) && !channelsFirst) {
        what = `${short(o, 50)} is channels last (NHWC): its innermost two axes are (W, C)`;
      }
      if (!what) continue;
      const tf = tfName(ctx, c);
      const fixes: Fix[] = [];
      let downstream = '';
      if (tf && arg) {
        const inner =
          c.node.text.slice(0, arg.startIndex - c.node.startIndex) +
          `${tf}.transpose(${arg.text}, [0, 3, 1, 2])` +
          c.node.text.slice(arg.endIndex - c.node.startIndex);
        const edits = [replace(c.node, `${tf}.transpose(${inner}, [0, 2, 3, 1])`)];
        // The spectrum is now (in, H, W/2+1, out): a later transpose written for the old, wrong axes must change
        // too, or the einsum that consumes it pairs the wrong axes (or fails on the shapes).
        const next = downstreamKernelPerm(ctx, c);
        if (next) {
          edits.push(replace(next.permNode, `[${next.perm.join(', ')}]`));
          downstream = `; the transpose on line ${line(next.permNode)} must then become perm=[${next.perm.join(', ')}] so that ${short(next.einsum.callee)} '${next.subscripts}' gets the kernel spectrum as (H, W/2+1, in, out) (the quick fix does both)`;
        }
        fixes.push({
          title: next
            ? `Transform over (H, W), and fix the transpose on line ${line(next.permNode)} to perm=[${next.perm.join(', ')}]`
            : 'Transform over (H, W): move the channels axis in front, and back after',
          edits,
        });
      }
      emit({
        rule: 'rfft-axes',
        node: c.node,
        message: `${short(c.callee)} transforms the innermost two axes; ${what}, not (H, W). The spectrum is over the wrong axes (${ruleInfo('rfft-axes').source}).`,
        evidence: [`${short(c.node)} at line ${line(c.node)}`, what],
        suggestion: `Transpose so that H and W are the last two axes before the transform (NHWC → NCHW: perm [0, 3, 1, 2]; an (in, H, W, out) kernel → (in, out, H, W)), and back afterwards${downstream || ', and check every later transpose and einsum of the spectrum: they were written for the old axes'}. The other operand of the product must be the input's spectrum over (H, W) too, (batch, H, W/2+1, in).`,
        fixes,
      });
    } else if (TORCH_2D.has(c.name) && !c.kwargs.has('dim') && c.args.length < 3) {
      const o = values.origin(c.args[0] ?? c.kwargs.get('input'), c.fn);
      const oc = values.call(o);
      if (!oc) continue;
      const perm = oc.last === 'permute' ? permutation(oc.receiver ? oc.args : oc.args.slice(1)) : undefined;
      if (perm?.join(',') !== '0,2,3,1') continue;
      const argList = c.node.childForFieldName('arguments')!;
      const body = argList.text.slice(1, -1).replace(/[\s,]+$/, '');
      emit({
        rule: 'rfft-axes',
        node: c.node,
        message: `${short(c.callee)} transforms the last two dims; its input was permuted to channels last (${short(oc.node, 40)}), so those are (W, C), not (H, W) (${ruleInfo('rfft-axes').source}).`,
        evidence: [
          `${short(oc.node)} at line ${line(oc.node)} makes the tensor (N, H, W, C)`,
          `${short(c.node)} at line ${line(c.node)} has no dim=`,
        ],
        suggestion: 'Pass dim=(1, 2) (or transform before the permute).',
        fixes: [
          { title: 'Transform over (H, W): pass dim=(1, 2)', edits: [replace(argList, `(${body}, dim=(1, 2))`)] },
        ],
      });
    }
  }
}

/** A transform given an output size, or whose input was padded. */
function paddedTransform(ctx: RuleContext, c: CallInfo): boolean {
  if (c.kwargs.has('fft_length') || c.kwargs.has('s') || c.kwargs.has('n') || c.args.length > 1) return true;
  const o = ctx.values.origin(c.args[0], c.fn);
  const oc = ctx.values.call(o);
  return !!oc && (PAD.has(oc.name) || oc.last === 'pad');
}

interface Product {
  node: Node;
  operands: Node[];
  fn: CallInfo['fn'];
  cls: CallInfo['cls'];
  call?: CallInfo;
}

function products(ctx: RuleContext): Product[] {
  const out: Product[] = [];
  for (const c of ctx.model.calls) {
    if (EINSUM.has(c.name)) out.push({ node: c.node, operands: c.args.slice(1), fn: c.fn, cls: c.cls, call: c });
    else if (MATMUL.has(c.name) || MULTIPLY.has(c.name))
      out.push({ node: c.node, operands: c.args.slice(0, 2), fn: c.fn, cls: c.cls, call: c });
    else if (!c.name && PRODUCT_METHODS.has(c.last) && c.receiver)
      out.push({ node: c.node, operands: [c.receiver, ...c.args.slice(0, 1)], fn: c.fn, cls: c.cls, call: c });
  }
  for (const p of ctx.model.products) out.push({ node: p.node, operands: [p.left, p.right], fn: p.fn, cls: p.fn?.cls });
  return out.sort((a, b) => a.node.startIndex - b.node.startIndex);
}

/** A spatial kernel or weight being transformed: its product with a spectrum is a convolution. */
const KERNEL_NAME = /\b(kernel|weight|weights|filters?|w|k_spatial)\b|\.(kernel|weight)\b/i;
function circular(ctx: RuleContext, emit: Emit): void {
  const seen = new Set<unknown>();
  for (const p of products(ctx)) {
    const key = p.fn ?? p.node.id;
    if (seen.has(key)) continue;
    const sources = p.operands
      .map((o) => ctx.values.spectrumSource(o, p.fn, p.cls))
      .filter((s): s is CallInfo => !!s && 'callee' in s && FORWARD_FFT.has(s.name));
    const unpadded = sources.find((s) => !paddedTransform(ctx, s));
    // A transform padded to the size of the unpadded one's input (s=x.shape[-2:]) is still circular.
    const xName = unpadded ? (unpadded.args[0] ?? unpadded.kwargs.get('input'))?.text : undefined;
    const ownSize = (s: CallInfo) => {
      const size = (s.kwargs.get('s') ?? s.kwargs.get('fft_length') ?? s.kwargs.get('n'))?.text ?? '';
      return !!xName && /^\w+$/.test(xName) && new RegExp(`\\b${xName}\\.(shape|size)\\b`).test(size);
    };
    if (!unpadded || sources.some((s) => paddedTransform(ctx, s) && !ownSize(s))) continue;
    seen.add(key);
    const layer = layerOf(ctx, p.node);
    // An FNO layer is periodic by design: its product of unpadded spectra is what the author meant.
    if (layer?.site.kind === 'fno') continue;
    // A spectral multiplier (a derivative (1j·k)**n, a filter or mask built from a frequency grid) on a
    // periodic domain is what the author meant too; so is any product that is not meant as a convolution.
    if (p.operands.some((o) => ctx.values.isMultiplier(o, p.fn))) continue;
    const kernelSpectrum = sources.some((s) => KERNEL_NAME.test((s.args[0] ?? s.kwargs.get('input'))?.text ?? ''));
    const named = [layer?.site.name, p.fn?.name].some((n) => n && /conv/i.test(n));
    if (!named && !ctx.convs.length && !kernelSpectrum) continue;
    const compared: string[] = [];
    if (ctx.convs.length)
      compared.push(
        `This file also uses ${convText(ctx.convs[0]!)}: the two layers compute different functions near the borders.`,
      );
    else if (layer && /conv/i.test(layer.site.name))
      compared.push(`${layer.site.name} is named as a convolution layer, but it is not the function Conv2D computes.`);
    const truncated = /\[[^\]]*:\s*self\.modes|\[[^\]]*:\s*modes/.test(p.operands.map((o) => o.text).join(' '));
    emit({
      rule: 'circular-convolution',
      node: p.node,
      message:
        `${short(p.node, 50)} multiplies spectra taken without padding (${short(unpadded.node, 40)}, line ${line(unpadded.node)}): that is a circular convolution — values wrap around the image borders — not the linear convolution Conv2D computes (${ruleInfo('circular-convolution').source}). ${compared.join(' ')}${truncated ? ' If periodic boundaries are what the model wants (a Fourier Neural Operator), this is by design.' : ''}`.trim(),
      evidence: [
        `${short(unpadded.node)} at line ${line(unpadded.node)}: no fft_length / s, input not padded`,
        `product at line ${line(p.node)}`,
        ...(ctx.convs.length ? [`Conv2D at line ${line(ctx.convs[0]!.call.node)}`] : []),
      ],
      suggestion:
        'For the linear convolution, zero-pad image and kernel to n + k − 1 in each spatial axis (fft_length=[H + k − 1, W + k − 1] / s=(…)), multiply, inverse-transform and crop the window Conv2D returns.',
      fixes: [],
    });
  }
}

function tfjsComplex(ctx: RuleContext, emit: Emit): void {
  if (ctx.model.dialect !== 'js') return;
  for (const c of ctx.model.calls) {
    const isOp =
      c.name === 'tfjs.einsum' || c.name === 'tfjs.matMul' || (!c.name && c.last === 'matMul' && !!c.receiver);
    if (!isOp) continue;
    const operands =
      c.name === 'tfjs.einsum' ? c.args.slice(1) : [...(c.receiver ? [c.receiver] : []), ...c.args.slice(0, 2)];
    const src = operands.map((o) => ctx.values.spectrumSource(o, c.fn, c.cls)).find(Boolean);
    if (!src) continue;
    const srcNode = 'callee' in src ? src.node : src;
    emit({
      rule: 'tfjs-complex-matmul',
      node: c.node,
      message: `${short(c.callee)} gets a complex64 tensor (from ${short(srcNode, 40)}, line ${line(srcNode)}): tfjs's cpu, wasm, webgl and webgpu backends do not support complex einsum / matMul ("… does not support complex64 tensors"); only tfjs-node runs it (${ruleInfo('tfjs-complex-matmul').source}).`,
      evidence: [
        `${short(c.node)} at line ${line(c.node)}`,
        `complex operand from ${short(srcNode)} at line ${line(srcNode)}`,
      ],
      suggestion:
        "Split the product into real and imaginary parts with tf.real / tf.imag: (a + ib)(c + id) = (ac − bd) + i(ad + bc) as four real matMuls (three with Gauss's trick), then tf.complex the result.",
      fixes: [],
    });
  }
}

function outputShape(ctx: RuleContext, emit: Emit): void {
  for (const layer of ctx.layers) {
    const cls = layer.cls;
    const cos = cls?.methods.get('compute_output_shape');
    if (!cls || !cos || !layer.kernelShape) continue;
    const ret = cos.node.descendantsOfType('return_statement')[0];
    const declared = elements(ret?.namedChildren[0]);
    if (!ret || !declared?.length) continue;
    const norm = (s: string) => s.replace(/\s+/g, '').replace(/^self\./, '');
    const kLast = layer.kernelShape[layer.kernelShape.length - 1]!;
    const dLast = declared[declared.length - 1]!;
    const sentences: string[] = [];
    const evidence: string[] = [];
    const attr = norm(kLast.text).replace(/^int\((.*)\)$/, '$1');
    if (norm(dLast.text) !== norm(kLast.text) && /^[A-Za-z_]\w*$/.test(attr) && dLast.text.includes(attr)) {
      sentences.push(
        `compute_output_shape declares ${dLast.text} output channels, but the layer has ${kLast.text} kernels: the rfft2d over the kernel's last two axes halved the output-channel axis (see rfft-axes), and the declared shape encodes that; a Conv2D replacement returns ${kLast.text} channels.`,
      );
      evidence.push(
        `declared last axis: ${dLast.text} (line ${line(dLast)})`,
        `kernel's last axis: ${kLast.text} (line ${line(kLast)})`,
      );
    }
    // A transpose of the kernel spectrum that swaps the spatial axes: the einsum then pairs the
    // kernel's W axis with the input's H axis, which only type-checks for square images.
    for (const c of ctx.model.callsIn.get(cls) ?? []) {
      if (!TRANSPOSE.has(c.name)) continue;
      const permArg = c.kwargs.get('perm') ?? c.args[1];
      const perm = permArg ? permutation([permArg]) : undefined;
      if (!perm || perm.length !== layer.kernelShape.length) continue;
      const permuted = perm.map((p) => layer.kernelShape![p]!.text);
      const h = permuted.findIndex((t) => /input_shape\s*\[\s*1\s*\]/.test(t));
      const w = permuted.findIndex((t) => /input_shape\s*\[\s*2\s*\]/.test(t));
      if (h >= 0 && w >= 0 && w < h) {
        sentences.push(
          `${short(c.node, 50)} (line ${line(c.node)}) puts the kernel's W axis before its H axis, so the product pairs kernel width with image height: the declared (${declared
            .slice(1, 3)
            .map((d) => d.text)
            .join(', ')}) holds only when height == width.`,
        );
        evidence.push(
          `perm [${perm.join(', ')}] of (${layer.kernelShape.map((e) => e.text).join(', ')}) → (${permuted.join(', ')})`,
        );
        break;
      }
    }
    if (!sentences.length) continue;
    emit({
      rule: 'output-shape-mismatch',
      node: ret,
      message: `${sentences.join(' ')} (${ruleInfo('output-shape-mismatch').source})`,
      evidence,
      suggestion:
        'Transform the kernel over (H, W) (rfft-axes), keep the out-channel axis whole, and declare (batch, H, W, filters) — or whatever the layer really returns.',
      fixes: [],
      layer: layer.site.id,
    });
  }
}

function kernelPerCall(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    if (!FORWARD_FFT.has(c.name) || !c.fn || !PER_CALL.has(c.fn.name) || !c.cls) continue;
    const arg = c.args[0] ?? c.kwargs.get('input');
    const o = ctx.values.origin(arg, c.fn);
    const oc = o && ctx.values.call(o);
    // The weight itself, or a padded / transposed view of it.
    const base = oc ? (oc.receiver ?? oc.args[0]) : o;
    if (!base || !/^(self|this)\.\w+$/.test(base.text)) continue;
    if (!/kernel|weight|filter|^(self|this)\.w\d*$/i.test(base.text) && !weightShape(ctx.values, c.cls, base)) continue;
    const layer = layerOf(ctx, c.node);
    const s = layer?.site.spec;
    const evidence = [`${short(c.node)} at line ${line(c.node)}, inside ${c.fn.name}()`];
    let cost = '';
    if (s?.kernelH && s.kernelW && s.inChannels && s.outChannels) {
      const maps = s.inChannels * s.outChannels;
      const flops = fft2dFlops(maps, s.kernelH, s.kernelW);
      const bytes = halfSpectrumBytes(maps, s.kernelH, s.kernelW);
      cost = ` Here that is ${s.inChannels}·${s.outChannels} transforms of ${s.kernelH}×${s.kernelW}: ≈ ${fmtFlops(flops)} and ${formatBytes(bytes)} of complex output on every call.`;
      evidence.push(
        `kernel ${s.inChannels}×${s.kernelH}×${s.kernelW}×${s.outChannels}: ≈ ${fmtFlops(flops)} per call (5·N·log2 N / 2 per real transform)`,
      );
    }
    emit({
      rule: 'kernel-spectrum-per-call',
      node: c.node,
      message: `The kernel spectrum ${short(c.node, 40)} is recomputed on every ${c.fn.name}().${cost} Mathieu et al. transform each kernel once per training iteration and reuse it; at inference it can be cached (${ruleInfo('kernel-spectrum-per-call').source}).`,
      evidence,
      suggestion:
        'At inference, compute the spectrum once (after the weights are loaded) and reuse it; in training, compute it once per step and share it across the batch (or parameterise the kernel in the frequency domain).',
      fixes: [],
      layer: layer?.site.id,
    });
  }
}

/** `ijkl,jklo->ijko` → the pieces, when it is a plain two-operand spec. */
export function parseEinsum(spec: string): { a: string; b: string; out: string } | undefined {
  const m = /^\s*([a-zA-Z]+)\s*,\s*([a-zA-Z]+)\s*->\s*([a-zA-Z]*)\s*$/.exec(spec);
  if (!m) return undefined;
  const [a, b, out] = [m[1]!, m[2]!, m[3]!];
  for (const s of [a, b, out]) if (new Set(s).size !== s.length) return undefined;
  return { a, b, out };
}

/** Index expression that drops `c` from an operand and inserts None for the output axes it lacks. */
export function broadcastIndex(sub: string, out: string, c: string): string | undefined {
  const idx: string[] = [];
  let p = 0;
  for (const L of out) {
    while (p < sub.length && sub[p] === c) {
      idx.push('0');
      p++;
    }
    if (sub[p] === L) {
      idx.push(':');
      p++;
    } else if (sub.includes(L))
      return undefined; // a different axis order would need a transpose
    else idx.push('None');
  }
  while (p < sub.length && sub[p] === c) {
    idx.push('0');
    p++;
  }
  return p === sub.length ? idx.join(', ') : undefined;
}

const SIMPLE_OPERAND = new Set(['identifier', 'attribute', 'subscript', 'call']);

function einsumMixing(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    if (!EINSUM.has(c.name) || c.args.length !== 3) continue;
    const spec = stringLiteral(c.args[0]);
    const e = spec !== undefined ? parseEinsum(spec) : undefined;
    if (!e) continue;
    const [A, B] = [c.args[1]!, c.args[2]!];
    if (!ctx.values.isSpectrum(A, c.fn, c.cls) && !ctx.values.isSpectrum(B, c.fn, c.cls)) continue;
    const contracted = [...e.a].filter((L) => e.b.includes(L) && !e.out.includes(L));
    const batch = [...e.a].filter((L) => e.b.includes(L) && e.out.includes(L));
    if (!contracted.length || !batch.length) continue;
    const layer = layerOf(ctx, c.node);
    const s = layer?.site.spec ?? {};
    const cin = s.inChannels;
    const evidence = [
      `'${spec}': ${batch.join(', ')} appear in both operands and the output (batch axes), ${contracted.join(', ')} is summed`,
    ];
    let shapes = '';
    if (s.height && s.width && s.batch && cin && s.outChannels && batch.length === 2) {
      const nb = s.height * (Math.floor(s.width / 2) + 1);
      shapes = ` With this layer's shapes: ${nb} BatchMatMuls of (${s.batch}×${cin})·(${cin}×${s.outChannels}) complex matrices.`;
      evidence.push(`${s.height}×(${s.width}/2+1) = ${nb} frequency batches; K = ${cin}`);
    }
    const fixes: Fix[] = [];
    let suggestion =
      "Store the spectra frequency-major (frequencies as the leading batch axis, e.g. 'jkil,jklo->jkio' on (H, W/2+1, batch, in) and (H, W/2+1, in, out) tensors) so the batched matmul needs no transposes.";
    if (cin === 1) {
      suggestion =
        'With one input channel the contraction has K = 1: multiply with broadcasting instead (a pointwise product, no matmul, no transposes).';
      const ia = broadcastIndex(e.a, e.out, contracted[0]!);
      const ib = broadcastIndex(e.b, e.out, contracted[0]!);
      if (
        ctx.model.dialect === 'python' &&
        contracted.length === 1 &&
        ia &&
        ib &&
        SIMPLE_OPERAND.has(A.type) &&
        SIMPLE_OPERAND.has(B.type) &&
        !c.kwargs.size
      ) {
        fixes.push({
          title: 'Replace the K = 1 einsum by a broadcast multiply',
          edits: [replace(c.node, `${A.text}[${ia}] * ${B.text}[${ib}]`)],
        });
      }
    }
    emit({
      rule: 'einsum-channel-mixing',
      node: c.node,
      message: `einsum '${spec}' is not a pointwise product: ${batch.join(', ')} (frequency axes) are batch axes and ${contracted.join(', ')} is contracted, so it lowers to transposes + BatchMatMul over every frequency of tiny matrices plus an output transpose.${shapes}${cin === 1 ? ' With in-channels = 1 each matmul is a K = 1 outer product: pure memory traffic.' : ''} (${ruleInfo('einsum-channel-mixing').source})`,
      evidence,
      suggestion,
      fixes,
      layer: layer?.site.id,
    });
  }
}

function complexTranspose(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    if (!c.fn || !PER_CALL.has(c.fn.name)) continue;
    const isT = TRANSPOSE.has(c.name) || (!c.name && TRANSPOSE_METHODS.has(c.last) && !!c.receiver);
    if (!isT) continue;
    const input = c.name ? c.args[0] : c.receiver;
    const src = ctx.values.spectrumSource(input, c.fn, c.cls);
    if (!src) continue;
    const srcNode = 'callee' in src ? src.node : src;
    const layer = layerOf(ctx, c.node);
    emit({
      rule: 'complex-transpose',
      node: c.node,
      message: `${short(c.node, 50)} transposes a complex tensor (from ${short(srcNode, 40)}, line ${line(srcNode)}) on every ${c.fn.name}(): a full read and write of 8-byte elements with no arithmetic — memory-bound, and one more kernel launch (${ruleInfo('complex-transpose').source}).`,
      evidence: [`${short(c.node)} at line ${line(c.node)}`, `complex input from line ${line(srcNode)}`],
      suggestion:
        'Keep the spectra in the layout the product wants (frequency-major), transposing the real-valued weights once instead, or fold the permutation into the einsum subscripts.',
      fixes: [],
      layer: layer?.site.id,
    });
  }
}

function unevenComparison(ctx: RuleContext, emit: Emit): void {
  const big = ctx.layers.filter(
    (l) => l.imageSized || (l.site.spec.kernelH && l.site.spec.height && l.site.spec.kernelH >= l.site.spec.height),
  );
  if (!big.length) return;
  const layer = big[0]!;
  for (const conv of ctx.convs) {
    const k = conv.kernel;
    if (!k) continue;
    // The Conv2D it replaces has as many filters (when both counts are known).
    if (conv.filters && layer.site.spec.outChannels && conv.filters !== layer.site.spec.outChannels) continue;
    const H = layer.site.spec.kernelH ?? layer.site.spec.height;
    const W = layer.site.spec.kernelW ?? layer.site.spec.width;
    if (H && W && k.kh * k.kw >= H * W) continue;
    const size = H && W ? `${H}×${W}` : 'image-sized';
    const ratio =
      H && W ? ` — ${fmtRatio((H * W) / (k.kh * k.kw))} more multiply-adds per output than ${k.kh}×${k.kw}` : '';
    emit({
      rule: 'uneven-comparison',
      node: conv.call.callee,
      message: `${short(conv.call.node, 40)} is a ${k.kh}×${k.kw} convolution, but ${layer.site.name} (line ${layer.site.range.start.line + 1}) has ${size} kernels: they compute different functions${ratio}. The spatial equivalent of that layer is a ${size} convolution; compare like with like (${ruleInfo('uneven-comparison').source}).`,
      evidence: [
        `${layer.site.name}: kernel shape (${layer.kernelShape?.map((e) => e.text).join(', ') ?? 'image-sized'})`,
        `${short(conv.call.node)} at line ${line(conv.call.node)}`,
      ],
      suggestion: `Profile both against the same function: the FFT layer vs a ${size} spatial convolution (and, separately, whether a ${k.kh}×${k.kw} kernel is enough for the model).`,
      fixes: [],
      layer: layer.site.id,
    });
  }
}

function thumb(k: number, cin?: number, cout?: number, n?: number): string[] {
  const out: string[] = [];
  if (cin !== undefined && cin < 16) out.push(`fewer than ~16 input channels (${cin}): spatial wins almost always`);
  if (k <= 3) out.push(`k = ${k}: Winograd / implicit GEMM; FFT rarely wins`);
  else if (k <= 9 && cin !== undefined && cout !== undefined && cin >= 64 && cout >= 64)
    out.push(`${k}×${k} with ${cin}→${cout} channels: worth trying FFT / FFT_TILING (n ≤ 64, batch ≥ 32)`);
  if (n !== undefined && k >= n / 2) out.push(`k = ${k} ≥ n/2 = ${n / 2}: image-sized kernel, FFT territory`);
  return out;
}

/** Only where the code states the input size and the channels: elsewhere the finding would be noise. */
function convPayoff(
  ctx: RuleContext,
  emit: Emit,
  sites: Map<ConvInfo, { spec: Partial<LayerSpec>; id: string }>,
): void {
  for (const conv of ctx.convs) {
    const k = conv.kernel;
    const site = sites.get(conv)!;
    const spec = k && fullSpec(site.spec);
    if (!k || !spec) continue;
    const be = breakEven({
      n: Math.max(spec.height, spec.width) + (spec.padding === 'same' ? Math.ceil((Math.max(k.kh, k.kw) - 1) / 2) : 0),
      nOut: Math.max(spec.height, spec.width),
      k: Math.max(k.kh, k.kw),
      f: spec.inChannels,
      fOut: spec.outChannels,
      S: spec.batch,
    });
    const ratio = be.thresholdHalf / be.lhs;
    const parts = [
      `Mathieu et al. for ${spec.batch} × ${spec.height}×${spec.width}, ${spec.inChannels}→${spec.outChannels}: k²(n′/n)² = ${be.lhs.toFixed(1)} vs break-even ${be.thresholdHalf.toFixed(1)} — ${be.fftPays ? `FFT does ~${fmtRatio(1 / ratio)} less arithmetic` : `FFT does ~${fmtRatio(ratio)} more arithmetic; spatial wins`}.`,
    ];
    const evidence = [
      `k = ${Math.max(k.kh, k.kw)}, n = ${Math.max(spec.height, spec.width)}, f = ${spec.inChannels}, f′ = ${spec.outChannels}, S = ${spec.batch} (${Object.values(site.spec).length} fields read from the code)`,
    ];
    if (ctx.device) {
      try {
        const p = predict({ ...spec, kernelH: k.kh, kernelW: k.kw }, ctx.device);
        parts.push(
          `Cost model on ${p.device}: spatial ${p.spatialMs.toFixed(3)} ms vs FFT ${p.spectralMs.toFixed(3)} ms per call (${p.winner} ${fmtRatio(p.factor)} faster).`,
        );
        evidence.push(`cost model (${p.deviceSource}): ${p.reasoning[0]}`);
      } catch {
        /* an unpriced device: the arithmetic above still stands */
      }
    }
    const rules = thumb(Math.max(k.kh, k.kw), spec.inChannels, spec.outChannels, spec.height);
    if (rules.length) parts.push(`Rules of thumb: ${rules.join('; ')}.`);
    emit({
      rule: 'conv2d-fft-payoff',
      node: conv.call.callee,
      message: `${short(conv.call.node, 40)}: ${parts.join(' ')} (${ruleInfo('conv2d-fft-payoff').source})`,
      evidence,
      suggestion: be.fftPays
        ? 'Profile this layer: FFT convolution may pay here; measure both on your engine.'
        : 'Keep the spatial convolution; profile this layer to see the measured gap.',
      fixes: [],
      layer: site.id,
    });
  }
}

/** Information on each FNO layer: what it keeps, where a call's time goes, what the profiler can show. */
function fnoLayer(ctx: RuleContext, emit: Emit): void {
  for (const l of ctx.layers) {
    if (l.site.kind !== 'fno') continue;
    const s = l.site.spec;
    const nameNode = l.cls?.nameNode ?? l.fn?.node.childForFieldName('name') ?? l.ffts[0]!.node;
    const body = ctx.model.text.slice(l.start, l.end);
    // Channel-mixing calls per forward: einsums and the helpers FNO code wraps them in.
    const fwd = l.cls?.methods.get('forward');
    const fwdText = fwd ? ctx.model.text.slice(fwd.node.startIndex, fwd.node.endIndex) : body;
    const einsums = (fwdText.match(/\b(einsum|compl_mul\w*|contract\w*|mix)\s*\(/g) ?? []).length;
    const zeros = /\bout_\w*\s*=\s*torch\.zeros\b|zeros\s*\([^\n]*(cfloat|complex)/.test(body);
    const evidence: string[] = [
      `transform: ${l.ffts.map((c) => `${short(c.callee, 30)} (line ${line(c.node)})`).join(', ')}`,
    ];
    let numbers = '';
    if (s.modes && s.height && s.width && s.batch && s.inChannels && s.outChannels && l.site.dims === 2) {
      const spec = fnoSpec({
        batch: s.batch,
        height: s.height,
        width: s.width,
        inChannels: s.inChannels,
        outChannels: s.outChannels,
        modes: s.modes,
        modesConvention: s.modesConvention,
      });
      if (!specProblems(spec).length) {
        const k = keptModes(spec);
        const V = Math.floor(s.width / 2) + 1;
        const mix = 8 * k.count * s.batch * s.inChannels * s.outChannels;
        const fft = 2.5 * s.height * s.width * Math.log2(s.height * s.width) * s.batch * (s.inChannels + s.outChannels);
        const outFt = s.batch * s.outChannels * s.height * V * 8;
        numbers = ` Per call at batch ${s.batch}, ${s.height}×${s.width}: ${k.rows}×${k.cols} of ${s.height}×${V} modes kept (${((100 * k.count) / (s.height * V)).toFixed(0)} %); channel mixing ${(mix / 1e6).toFixed(1)} MFLOP, full transforms ${(fft / 1e6).toFixed(1)} MFLOP${zeros ? `, a zero-filled out_ft of ${formatBytes(outFt)}` : ''}.`;
        evidence.push(`${describeModes(spec)}; channel mixing 8·modes·B·in·out = ${(mix / 1e6).toFixed(1)} MFLOP`);
      }
    } else if (s.modes)
      evidence.push(
        `modes ${s.modes[0]}×${s.modes[1]} (${s.modesConvention ?? 'corners'}); the grid is not stated in this file`,
      );
    if (einsums)
      evidence.push(`${einsums} channel-mixing call${einsums === 1 ? '' : 's'} (einsum / helper) per forward`);
    if (zeros) evidence.push('a zero-filled out_ft allocated on every call');
    for (const n of l.site.notes ?? []) evidence.push(n);
    const convention =
      s.modesConvention === 'centered'
        ? "modes are neuraloperator's n_modes (total per axis, centred; the last axis keeps n // 2 + 1)"
        : 'modes are per corner as in the original FNO code (2·modes1 rows × modes2 columns kept)';
    emit({
      rule: 'fno-layer',
      node: nameNode,
      message: `${l.site.name} is a ${l.site.dims}-D FNO spectral convolution: periodic by design (no padding needed), transform over the last ${l.site.dims === 1 ? 'axis' : `${l.site.dims} axes`} of channels-first data; ${convention}.${numbers} ${einsums > 1 ? `Its ${einsums} einsums over corner blocks lower to permutes + batched GEMMs each; one GEMM over all kept modes with weights cached mode-major does the same work. ` : ''}${l.site.dims === 2 ? 'Profile this layer to measure it as written against the optimized formulation (partial transforms, one GEMM, no full-size out_ft).' : 'fconv profiles 2-D FNO layers only.'} (${ruleInfo('fno-layer').source})`,
      evidence,
      suggestion:
        l.site.dims === 2
          ? 'Profile this layer (fconv profile --layer fno --modes …) and read the hints: partial transforms, one batched GEMM for both corners, no zero-filled out_ft.'
          : 'The same advice holds per axis: transform only the kept modes, mix channels with one GEMM over all kept modes.',
      fixes: [],
      layer: l.site.id,
    });
  }
}

/** torch.rfft / torch.irfft (signal_ndim, normalized, onesided): removed in PyTorch 1.8. */
function torchRfftRemoved(ctx: RuleContext, emit: Emit): void {
  for (const c of ctx.model.calls) {
    const inverse = c.name === 'torch.irfft' || c.name === 'torch.ifft';
    if (!inverse && c.name !== 'torch.rfft' && c.name !== 'torch.fft') continue;
    const real = c.name === 'torch.rfft' || c.name === 'torch.irfft';
    const x = c.args[0] ?? c.kwargs.get('input');
    const nd = intValue(c.args[1] ?? c.kwargs.get('signal_ndim'));
    const normNode = c.kwargs.get('normalized') ?? c.args[2];
    const onesidedNode = c.kwargs.get('onesided') ?? c.args[3];
    const normalized = normNode?.text === 'True';
    const onesided = onesidedNode === undefined || onesidedNode.text === 'True';
    const sizes = c.kwargs.get('signal_sizes') ?? c.args[4];
    const norm = normalized ? ', norm="ortho"' : '';
    const fn = nd === 1 ? '' : nd === 2 ? '2' : nd === 3 ? 'n' : undefined;
    const dim = nd === 3 ? ', dim=(-3, -2, -1)' : '';
    const torch = 'torch';
    let replacement: string | undefined;
    const plain = normNode === undefined || /^(True|False)$/.test(normNode.text);
    if (x && fn !== undefined && plain && (onesidedNode === undefined || /^(True|False)$/.test(onesidedNode.text))) {
      if (!inverse && real && onesided)
        replacement = `${torch}.view_as_real(${torch}.fft.rfft${fn}(${x.text}${dim}${norm}))`;
      else if (!inverse && real) replacement = `${torch}.view_as_real(${torch}.fft.fft${fn}(${x.text}${dim}${norm}))`;
      else if (!inverse)
        replacement = `${torch}.view_as_real(${torch}.fft.fft${fn}(${torch}.view_as_complex(${x.text})${dim}${norm}))`;
      else if (real && onesided)
        replacement = `${torch}.fft.irfft${fn}(${torch}.view_as_complex(${x.text})${sizes ? `, s=${sizes.text}` : ''}${dim}${norm})`;
      else if (!real)
        replacement = `${torch}.view_as_real(${torch}.fft.ifft${fn}(${torch}.view_as_complex(${x.text})${dim}${norm}))`;
    }
    const newName = `torch.fft.${inverse ? (real ? 'irfft' : 'ifft') : real && onesided ? 'rfft' : 'fft'}${fn ?? '2'}`;
    emit({
      rule: 'torch-rfft-removed',
      node: c.node,
      message: `${short(c.callee)} was removed in PyTorch 1.8: this line raises on any current PyTorch. Its replacement is ${newName}${normalized ? ' with norm="ortho" (normalized=True)' : ' (normalized=False is the default norm="backward")'}, which returns complex tensors instead of the real-pair [..., 2] layout — torch.view_as_real / view_as_complex convert between the two. (${ruleInfo('torch-rfft-removed').source})`,
      evidence: [
        `${short(c.node)} at line ${line(c.node)}`,
        `signal_ndim ${nd ?? '?'}, normalized=${normalized ? 'True' : 'False'}, onesided=${onesided ? 'True' : 'False'}`,
      ],
      suggestion: replacement
        ? `Replace with ${replacement} — same values, same real-pair layout, so the code around it keeps working; later move the whole layer to complex tensors (torch.einsum on cfloat weights) and drop the [..., 2] pairs.`
        : `Rewrite with ${newName}; the argument form here could not be translated automatically.`,
      fixes: replacement
        ? [{ title: `Replace with ${newName} (same values and layout)`, edits: [replace(c.node, replacement)] }]
        : [],
    });
  }
}

export function runRules(
  ctx: RuleContext,
  convSites: Map<ConvInfo, { spec: Partial<LayerSpec>; id: string }>,
  errors: string[],
): Finding[] {
  const findings: Finding[] = [];
  const emit =
    (id: RuleId): Emit =>
    (f) => {
      const { node, ...rest } = f;
      findings.push({
        ...rest,
        layer: rest.layer ?? layerOf(ctx, node)?.site.id,
        severity: ruleInfo(id).severity,
        range: rangeOf(node),
      });
    };
  const all: Array<[RuleId, () => void]> = [
    ['rfft-axes', () => rfftAxes(ctx, emit('rfft-axes'))],
    ['circular-convolution', () => circular(ctx, emit('circular-convolution'))],
    ['tfjs-complex-matmul', () => tfjsComplex(ctx, emit('tfjs-complex-matmul'))],
    ['output-shape-mismatch', () => outputShape(ctx, emit('output-shape-mismatch'))],
    ['kernel-spectrum-per-call', () => kernelPerCall(ctx, emit('kernel-spectrum-per-call'))],
    ['einsum-channel-mixing', () => einsumMixing(ctx, emit('einsum-channel-mixing'))],
    ['complex-transpose', () => complexTranspose(ctx, emit('complex-transpose'))],
    ['uneven-comparison', () => unevenComparison(ctx, emit('uneven-comparison'))],
    ['conv2d-fft-payoff', () => convPayoff(ctx, emit('conv2d-fft-payoff'), convSites)],
    ['fno-layer', () => fnoLayer(ctx, emit('fno-layer'))],
    ['torch-rfft-removed', () => torchRfftRemoved(ctx, emit('torch-rfft-removed'))],
  ];
  for (const [id, run] of all) {
    try {
      run();
    } catch (e) {
      errors.push(`rule ${id} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return findings.sort((a, b) => a.range.startOffset - b.range.startOffset || a.rule.localeCompare(b.rule));
}
