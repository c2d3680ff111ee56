/**
 * Following values through a function: where a name was last assigned, whether a value is a spectrum
 * (complex: came out of an FFT, `tf.complex`, a `cfloat` tensor…), literal numbers and tuples.
 * Every walk is bounded. Host-free.
 */
import type { Node } from 'web-tree-sitter';
import {
  type CallInfo,
  type ClassInfo,
  type FnInfo,
  type SourceModel,
  assignmentsOf,
  selfAssignments,
} from './source-model';

/** Forward transforms; the TF ones act on the innermost axes. */
export const FORWARD_FFT = new Set([
  'tensorflow.signal.rfft2d',
  'tensorflow.signal.fft2d',
  'tensorflow.signal.rfft',
  'tensorflow.signal.fft',
  'tensorflow.signal.rfft3d',
  'tensorflow.signal.fft3d',
  'torch.fft.rfft2',
  'torch.fft.fft2',
  'torch.fft.rfftn',
  'torch.fft.fftn',
  'torch.fft.rfft',
  'torch.fft.fft',
  'numpy.fft.rfft2',
  'numpy.fft.fft2',
  'numpy.fft.rfftn',
  'numpy.fft.fftn',
  'tfjs.rfft',
  'tfjs.fft',
  // Removed in PyTorch 1.8; FNO code of 2020 still calls it (real-pair [..., 2] layout).
  'torch.rfft',
  'torch.fft',
]);
export const TF_INNERMOST_2D = new Set(['tensorflow.signal.rfft2d', 'tensorflow.signal.fft2d']);
export const TORCH_2D = new Set(['torch.fft.rfft2', 'torch.fft.fft2']);
export const EINSUM = new Set(['tensorflow.einsum', 'torch.einsum', 'tfjs.einsum', 'numpy.einsum', 'tensorly.einsum']);
export const MATMUL = new Set(['tensorflow.matmul', 'torch.matmul', 'torch.bmm', 'tfjs.matMul', 'numpy.matmul']);
export const MULTIPLY = new Set(['tensorflow.multiply', 'torch.mul', 'torch.multiply', 'tfjs.mul', 'numpy.multiply']);
export const TRANSPOSE = new Set([
  'tensorflow.transpose',
  'torch.permute',
  'torch.transpose',
  'tfjs.transpose',
  'numpy.transpose',
]);
/** What a frequency-domain multiplier is built from: frequency grids, i·k, powers, exponentials, masks. */
const MULTIPLIER =
  /\b1j\b|\bj\s*\*|fftfreq|rfftfreq|meshgrid|\bexp\s*\(|\*\*|\bwhere\s*\(|mask|dealias|\s[<>]=?\s|wavenumber|\bk[xyz]?\s*\*|\bk2\b/i;

/** Reorderings of a spectrum (fftshift and its inverse, roll): a spectrum stays one. */
export const SHIFT = new Set([
  'torch.fft.fftshift',
  'torch.fft.ifftshift',
  'torch.roll',
  'numpy.fft.fftshift',
  'numpy.fft.ifftshift',
  'numpy.roll',
  'tensorflow.signal.fftshift',
  'tensorflow.signal.ifftshift',
  'tensorflow.roll',
]);
export const PAD = new Set(['tensorflow.pad', 'torch.nn.functional.pad', 'tfjs.pad', 'numpy.pad']);
export const COMPLEX = new Set([
  'tensorflow.complex',
  'tensorflow.dtypes.complex',
  'tfjs.complex',
  'torch.complex',
  'torch.view_as_complex',
]);
export const CONV2D = new Set([
  'tensorflow.keras.layers.Conv2D',
  'tensorflow.nn.conv2d',
  'torch.nn.Conv2d',
  'torch.nn.functional.conv2d',
  'tfjs.layers.conv2d',
  'tfjs.conv2d',
]);
export const INPUT = new Set([
  'tensorflow.keras.Input',
  'tensorflow.keras.layers.Input',
  'tensorflow.keras.layers.InputLayer',
  'tfjs.input',
]);
export const TENSOR_FACTORY = new Set([
  'torch.randn',
  'torch.rand',
  'torch.zeros',
  'torch.ones',
  'torch.empty',
  'tensorflow.random.normal',
  'tensorflow.random.uniform',
  'tensorflow.zeros',
  'tensorflow.ones',
  'tfjs.randomNormal',
  'tfjs.randomUniform',
  'tfjs.zeros',
  'tfjs.ones',
  'numpy.random.randn',
  'numpy.zeros',
  'numpy.ones',
]);
/** Method names that transpose/permute a value (`x.permute(0, 2, 3, 1)`, tfjs `x.transpose()`). */
export const TRANSPOSE_METHODS = new Set(['permute', 'transpose']);
export const PRODUCT_METHODS = new Set(['matMul', 'mul', 'matmul', 'multiply']);

const MAX_DEPTH = 8;

export class Values {
  private readonly callAt = new Map<number, CallInfo>();

  constructor(readonly model: SourceModel) {
    for (const c of model.calls) this.callAt.set(c.node.id, c);
  }

  call(n: Node | null | undefined): CallInfo | undefined {
    return n ? this.callAt.get(n.id) : undefined;
  }

  private unwrap(n: Node): Node {
    let cur = n;
    for (
      let i = 0;
      i < MAX_DEPTH &&
      (cur.type === 'parenthesized_expression' ||
        cur.type === 'await_expression' ||
        cur.type === 'non_null_expression' ||
        cur.type === 'as_expression');
      i++
    ) {
      const inner = cur.namedChildren[0];
      if (!inner) break;
      cur = inner;
    }
    return cur;
  }

  /** The expression a name stands for at `n` (its last assignment before `n` in the same function). */
  origin(n: Node | null | undefined, fn: FnInfo | undefined, depth = 0): Node | undefined {
    if (!n) return undefined;
    const u = this.unwrap(n);
    if (depth >= MAX_DEPTH || !fn || u.type !== 'identifier') return u;
    const list = assignmentsOf(fn).get(u.text);
    if (!list) return u;
    let best: { at: number; rhs: Node } | undefined;
    for (const a of list) if (a.at <= u.startIndex && (!best || a.at > best.at)) best = a;
    return best ? this.origin(best.rhs, fn, depth + 1) : u;
  }

  /** For `self.x` / `this.x`: what the class assigns to it (the first assignment found). */
  attributeValue(n: Node | undefined, cls: ClassInfo | undefined): Node | undefined {
    const m = n && /^(self|this)\.(\w+)$/.exec(n.text);
    if (!m || !cls) return undefined;
    return selfAssignments(this.model, cls).get(m[2]!)?.[0];
  }

  /**
   * A frequency-domain multiplier: a value built from frequency grids, i·k, powers, exponentials or masks
   * (a spectral derivative, filter or dealiasing mask) — checked on the value and what it was assigned from.
   */
  isMultiplier(o: Node, fn: FnInfo | undefined): boolean {
    let n: Node | undefined = o;
    for (let i = 0; n && i < 3; i++) {
      // A string is an einsum equation, never a multiplier.
      if (n.type === 'string' || n.type === 'template_string') return false;
      if (MULTIPLIER.test(n.text)) return true;
      const next: Node | undefined = this.origin(n, fn) ?? undefined;
      if (!next || next.id === n.id) break;
      n = next;
    }
    return false;
  }

  /** A value that is complex: an FFT output or something computed from one. */
  isSpectrum(n: Node | null | undefined, fn: FnInfo | undefined, cls: ClassInfo | undefined, depth = 0): boolean {
    return this.spectrumSource(n, fn, cls, depth) !== undefined;
  }

  /** The forward FFT call (or complex constructor) a value comes from. */
  spectrumSource(
    n: Node | null | undefined,
    fn: FnInfo | undefined,
    cls: ClassInfo | undefined,
    depth = 0,
  ): CallInfo | Node | undefined {
    if (!n || depth > MAX_DEPTH) return undefined;
    const o = this.origin(n, fn);
    if (!o) return undefined;
    const c = this.call(o);
    if (c) {
      if (FORWARD_FFT.has(c.name) || COMPLEX.has(c.name)) return c;
      if (
        /\b(cfloat|complex64|complex128|cdouble)\b/.test(o.text) &&
        (TENSOR_FACTORY.has(c.name) || /Parameter$/.test(c.name || c.last))
      )
        return o;
      const through =
        SHIFT.has(c.name) ||
        TRANSPOSE.has(c.name) ||
        EINSUM.has(c.name) ||
        MATMUL.has(c.name) ||
        MULTIPLY.has(c.name) ||
        (!c.name && (TRANSPOSE_METHODS.has(c.last) || PRODUCT_METHODS.has(c.last)));
      if (through) {
        for (const a of [...(c.receiver ? [c.receiver] : []), ...c.args]) {
          const s = this.spectrumSource(a, fn, cls, depth + 1);
          if (s) return s;
        }
      }
      if (/Parameter$/.test(c.name || c.last)) return this.spectrumSource(c.args[0], fn, cls, depth + 1);
      return undefined;
    }
    if (o.type === 'subscript' || o.type === 'subscript_expression')
      return this.spectrumSource(o.childForFieldName('value') ?? o.childForFieldName('object'), fn, cls, depth + 1);
    if (o.type === 'binary_operator' || o.type === 'binary_expression') {
      return (
        this.spectrumSource(o.childForFieldName('left'), fn, cls, depth + 1) ??
        this.spectrumSource(o.childForFieldName('right'), fn, cls, depth + 1)
      );
    }
    if (o.type === 'attribute' || o.type === 'member_expression') {
      const v = this.attributeValue(o, cls);
      return v && v.id !== o.id ? this.spectrumSource(v, undefined, cls, depth + 1) : undefined;
    }
    return undefined;
  }
}

/** An integer literal, or undefined. */
export function intValue(n: Node | null | undefined, allowZero = false): number | undefined {
  if (!n) return undefined;
  if (n.type !== 'integer' && n.type !== 'number') return undefined;
  const v = Number(n.text.replace(/_/g, ''));
  return Number.isInteger(v) && (v > 0 || (allowZero && v === 0)) ? v : undefined;
}

/** A permutation literal (`[0, 3, 1, 2]`, or the arguments of `x.permute(0, 3, 1, 2)`). */
export function permutation(nodes: Node[]): number[] | undefined {
  const flat = nodes.length === 1 && elements(nodes[0]) ? elements(nodes[0])! : nodes;
  const p = flat.map((n) => intValue(n, true));
  return p.length && p.every((x) => x !== undefined) && new Set(p).size === p.length && p.every((x) => x! < p.length)
    ? (p as number[])
    : undefined;
}

/** The elements of a tuple / list / array literal (also a parenthesized single element). */
export function elements(n: Node | null | undefined): Node[] | undefined {
  if (!n) return undefined;
  if (n.type === 'tuple' || n.type === 'list' || n.type === 'array' || n.type === 'expression_list')
    return n.namedChildren.filter((c) => c.type !== 'comment');
  return undefined;
}

/** A kernel size written as `3`, `(3, 3)`, `[5, 5]`. */
export function kernelSize(n: Node | null | undefined): { kh: number; kw: number } | undefined {
  const k = intValue(n);
  if (k) return { kh: k, kw: k };
  const el = elements(n);
  if (el?.length === 2) {
    const [a, b] = el.map((n) => intValue(n));
    if (a && b) return { kh: a, kw: b };
  }
  return undefined;
}

/** A string literal's content (Python or JS), or undefined. */
export function stringLiteral(n: Node | null | undefined): string | undefined {
  if (!n) return undefined;
  if (n.type === 'string') {
    const frag = n.namedChildren.filter((c) => c.type === 'string_content' || c.type === 'string_fragment');
    if (frag.length <= 1 && n.namedChildren.every((c) => c.type !== 'interpolation' && c.type !== 'escape_sequence'))
      return frag[0]?.text ?? '';
    return undefined;
  }
  if (n.type === 'template_string' && n.namedChildren.length === 0) return n.text.slice(1, -1);
  return undefined;
}
