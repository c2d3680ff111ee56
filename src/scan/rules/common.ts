/**
 * What every diagnostic rule gets (the file's source model, value tracing, facts, Conv2D sites, Fourier layers,
 * the device for the cost model) and the helpers several rules share. Host-free.
 */
import type { Node } from 'web-tree-sitter';
import { type DeviceProfile } from '../../core/model';
import { type LayerSpec, specProblems } from '../../core/spec';
import type { ConvInfo, FileFacts, FourierLayer } from '../layers';
import type { CallInfo, SourceModel } from '../source-model';
import type { Finding, Severity } from '../types';
import { EINSUM, MATMUL, MULTIPLY, PAD, PRODUCT_METHODS, type Values } from '../values';

export interface RuleContext {
  model: SourceModel;
  values: Values;
  facts: FileFacts;
  convs: ConvInfo[];
  layers: FourierLayer[];
  device?: DeviceProfile;
}

/** The Conv2D sites the scanner found, with the spec the code states for each (for conv2d-fft-payoff). */
export type ConvSites = Map<ConvInfo, { spec: Partial<LayerSpec>; id: string }>;

/** A finding as a rule reports it: the scanner adds its rule, severity, range and layer. */
export type Emit = (f: Omit<Finding, 'severity' | 'range' | 'rule'> & { node: Node }) => void;

/** A diagnostic rule: what it says, where the claim comes from (docs/rules.md explains it at its id), its check. */
export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  /** One line: the Problems entry. */
  readonly title: string;
  /** Sections of docs/fft-convolution.md or docs/engines.md, and the paper. */
  readonly source: string;
  check(ctx: RuleContext, emit: Emit, sites: ConvSites): void;
}

export const line = (n: Node) => n.startPosition.row + 1;
export const short = (n: Node, max = 70) => {
  const t = n.text.replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
export const PER_CALL = new Set(['call', 'forward', '__call__', 'apply']);
export const SPATIAL_AXIS = /input_shape\s*\[\s*(1|2|-2|-3)\s*\]|height|width|\b[hwHW]\b|size|modes?\d*|\bn\b/;

export function layerOf(ctx: RuleContext, n: Node): FourierLayer | undefined {
  const start = n.startIndex;
  return ctx.layers.find((l) => start >= l.start && start < l.end);
}

/** The local name of the `tensorflow` module, for edits that add a tf call. */
export function tfName(ctx: RuleContext, c: CallInfo): string | undefined {
  const root = c.callee.text.split('.')[0]!;
  if ((ctx.model.aliases.get(root) ?? (root === 'tf' ? 'tensorflow' : '')) === 'tensorflow') return root;
  for (const [k, v] of ctx.model.aliases) if (v === 'tensorflow') return k;
  return undefined;
}

export function convText(c: ConvInfo): string {
  return `${short(c.call.node, 50)} (line ${line(c.call.node)})`;
}

/** The spec of a layer when the code states all of it (padding and layout defaulted). */
export function fullSpec(partial: Partial<LayerSpec>): LayerSpec | undefined {
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

export const fmtFlops = (f: number) => (f >= 1e9 ? `${(f / 1e9).toFixed(2)} GFLOP` : `${(f / 1e6).toFixed(1)} MFLOP`);

// ---------------------------------------------------------------------------------------------------

/** A transform given an output size, or whose input was padded. */
export function paddedTransform(ctx: RuleContext, c: CallInfo): boolean {
  if (c.kwargs.has('fft_length') || c.kwargs.has('s') || c.kwargs.has('n') || c.args.length > 1) return true;
  const o = ctx.values.origin(c.args[0], c.fn);
  const oc = ctx.values.call(o);
  return !!oc && (PAD.has(oc.name) || oc.last === 'pad');
}

export interface Product {
  node: Node;
  operands: Node[];
  fn: CallInfo['fn'];
  cls: CallInfo['cls'];
  call?: CallInfo;
}

export function products(ctx: RuleContext): Product[] {
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
