/**
 * "Make it fast" (`fconv optimize`): reads a PyTorch FNO spectral convolution as people write it — the forward
 * transform, an optional fftshift, a zero-filled spectrum, one product per block of kept modes (an einsum inline,
 * in a helper, a method, a staticmethod or a partial), an optional ifftshift and the inverse transform — and
 * writes candidate rewrites of its forward(), each a set of changes:
 *
 * - `partial`: transforms of only the kept columns (rfft over the last axis, sliced, then the other axes on those
 *   columns alone) and an inverse that zero-pads the columns itself: no full-size zero-filled spectrum;
 * - `batched`: the per-block einsums as one batched matmul over all kept modes, operands mode-major and
 *   contiguous (the layout the GEMM wants);
 * - `matmul-grad`: in training, the kept columns as one real matmul (its backward is a matmul; rfft's backward
 *   is a full-size complex FFT).
 *
 * The constructor and every other method are copied as written, so the parameters (names, shapes, dtypes) and
 * a trained state_dict stay the same. What it does not recognise it refuses, saying what it understood and why.
 * Nothing here proves a rewrite right: the Python side checks each candidate against the user's class on
 * their weights (forward and gradients) before anything is written. Host-free: a tree-sitter tree in, text out.
 */
import type { Node, Tree } from 'web-tree-sitter';
import { classNode, definition, method } from './extract';

export type ChangeId = 'partial' | 'batched' | 'matmul-grad' | 'broadcast' | 'matmul';

export interface RewriteChange {
  id: ChangeId;
  /** One line: what it replaces with what. */
  title: string;
  /** 1-based lines of the original forward this change replaces. */
  replaces: number[];
}

export interface RewriteCandidate {
  id: string;
  changes: RewriteChange[];
  /** The class as it would stand in the file (top level, the user's indentation inside). */
  classSource: string;
  /** Module-level definitions the class needs, to put right above it ('' when none). */
  helpers: string;
}

export interface RewritePlan {
  className: string;
  /** 0-based offsets of the class (decorators included) in the file. */
  start: number;
  end: number;
  /** 1-based line of `class`. */
  classLine: number;
  /** What was understood of the layer, one line each. */
  understood: string[];
  candidates: RewriteCandidate[];
}

export type RewriteResult = RewritePlan | { refused: string; understood: string[] };

interface Block {
  line: number;
  /** The subscript of the zero-filled spectrum, and of the input spectrum, as written. */
  outIndex: string;
  inIndex: string;
  weight: string;
  /** Permutation of the weight's axes to (in, out, modes…), or undefined when it is that already. */
  perm?: number[];
}

interface Parsed {
  input: string;
  spec: string;
  out: string;
  dims: number;
  norm?: string;
  inverseNorm?: string;
  /** The last-axis size the inverse produces, as an expression (undefined: from the input's width). */
  lastSize?: string;
  /** The kept columns on the last axis, as an expression (undefined: not a prefix slice). */
  kept?: string;
  blocks: Block[];
  equation: string;
  assumed: boolean;
  stmts: Stmt[];
  transform: Stmt;
  shift?: Stmt;
  zeros: Stmt;
  inverse: Stmt;
  inverseCall: Node;
  indent: string;
}

interface Stmt {
  node: Node;
  kind: 'transform' | 'shift' | 'zeros' | 'block' | 'unshift' | 'inverse' | 'other';
  line: number;
}

const FFT_NS = /^(torch\.fft|fft)\./;
const EINSUM = /^(torch|tl|tensorly|np|numpy|opt_einsum|oe)\.(einsum|contract)$|^einsum$/;

class Refuse extends Error {}

const refuse = (why: string): never => {
  throw new Refuse(why);
};

function call(node: Node | null | undefined): Node | undefined {
  return node?.type === 'call' ? node : undefined;
}

function fnName(c: Node): string {
  return c.childForFieldName('function')?.text ?? '';
}

function args(c: Node): { pos: Node[]; kw: Map<string, Node> } {
  const pos: Node[] = [];
  const kw = new Map<string, Node>();
  for (const a of c.childForFieldName('arguments')?.namedChildren ?? []) {
    if (!a || a.type === 'comment') continue;
    if (a.type === 'keyword_argument') kw.set(a.childForFieldName('name')!.text, a.childForFieldName('value')!);
    else pos.push(a);
  }
  return { pos, kw };
}

function assignment(stmt: Node): { left: Node; right: Node } | undefined {
  const a = stmt.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
  if (a?.type !== 'assignment') return undefined;
  const left = a.childForFieldName('left');
  const right = a.childForFieldName('right');
  return left && right ? { left, right } : undefined;
}

function identifiers(node: Node, out = new Set<string>()): Set<string> {
  if (node.type === 'identifier') out.add(node.text);
  for (const c of node.namedChildren) if (c) identifiers(c, out);
  return out;
}

/** A literal tuple / list of negative ints, or a name bound to one earlier in forward(). */
function axes(node: Node | undefined, locals: Map<string, Node>): number[] | undefined {
  if (!node) return undefined;
  if (node.type === 'identifier' && locals.has(node.text)) return axes(locals.get(node.text), new Map());
  if (node.type === 'integer' || node.type === 'unary_operator')
    return /^-?\d+$/.test(node.text) ? [Number(node.text)] : undefined;
  if (node.type === 'tuple' || node.type === 'list' || node.type === 'parenthesized_expression') {
    const v = node.namedChildren.filter((n) => n && n.type !== 'comment').map((n) => n!.text.replace(/\s/g, ''));
    return v.every((t) => /^-?\d+$/.test(t)) ? v.map(Number) : undefined;
  }
  return undefined;
}

/** The einsum a product runs: `torch.einsum(eq, a, w)` inline, or in a helper / method / partial the file defines. */
function product(
  rhs: Node,
  spec: string,
  root: Node,
  cls: Node,
): { specArg: Node; weightArg: Node; equation?: string; via: string } {
  const c = call(rhs) ?? refuse(`the block's value is not a call (${rhs.text.slice(0, 60)})`);
  const name = fnName(c);
  const { pos } = args(c);
  const isSpec = (n: Node) => n.type === 'subscript' && n.childForFieldName('value')?.text === spec;
  if (EINSUM.test(name)) {
    const eq = pos[0]?.type === 'string' ? stringValue(pos[0]) : undefined;
    const ops = pos.slice(1);
    if (ops.length !== 2) refuse(`${name} with ${ops.length} operands: one spectrum and one weight expected`);
    const si = ops.findIndex(isSpec);
    if (si < 0) refuse(`${name}(…) does not take a slice of ${spec}`);
    const eqn = eq && si === 1 ? swapEquation(eq) : eq;
    return { specArg: ops[si]!, weightArg: ops[1 - si]!, equation: eqn, via: name };
  }
  if (pos.length !== 2) refuse(`${name}(…) with ${pos.length} arguments: a spectrum slice and a weight expected`);
  const si = pos.findIndex(isSpec);
  if (si < 0) refuse(`${name}(…) does not take a slice of ${spec}`);
  // The helper: self.NAME (a method or staticmethod), a module function, or NAME = partial(torch.einsum, "eq").
  const short = name.replace(/^self\./, '');
  let def: Node | undefined = name.startsWith('self.') ? method(cls, short) : undefined;
  if (!def)
    for (const c2 of root.namedChildren) {
      const d = c2 && definition(c2);
      if (d?.type === 'function_definition' && d.childForFieldName('name')?.text === short) def = d;
      const a = c2 && assignment(c2);
      if (a && a.left.text === short) {
        const pc = call(a.right);
        if (pc && /(^|\.)partial$/.test(fnName(pc))) {
          const pa = args(pc).pos;
          if (EINSUM.test(pa[0]?.text ?? '') && pa[1]?.type === 'string') {
            const eq = stringValue(pa[1]);
            return {
              specArg: pos[si]!,
              weightArg: pos[1 - si]!,
              equation: eq && si === 1 ? swapEquation(eq) : eq,
              via: `${short} = partial(${pa[0]!.text}, …)`,
            };
          }
        }
      }
    }
  if (!def) refuse(`${name}(…): no such function, method or partial in the file`);
  const ps = (def!.childForFieldName('parameters')?.namedChildren ?? [])
    .filter((p) => p && p.type !== 'comment')
    .map((p) => (p!.type === 'identifier' ? p!.text : (p!.childForFieldName('name')?.text ?? p!.text)))
    .filter((p) => p !== 'self');
  const inner = def!.descendantsOfType('call').find((n) => n && EINSUM.test(fnName(n)));
  if (inner) {
    const ia = args(inner).pos;
    const eq = ia[0]?.type === 'string' ? stringValue(ia[0]) : undefined;
    const opNames = ia.slice(1).map((n) => n.text);
    const specParam = ps[si];
    const k = opNames.indexOf(specParam ?? '');
    if (eq && opNames.length === 2 && k >= 0)
      return { specArg: pos[si]!, weightArg: pos[1 - si]!, equation: k === 1 ? swapEquation(eq) : eq, via: name };
  }
  return { specArg: pos[si]!, weightArg: pos[1 - si]!, via: name };
}

function stringValue(n: Node): string | undefined {
  const m = /^[rRbBuU]?(['"])(.*)\1$/s.exec(n.text);
  return m ? m[2] : undefined;
}

function swapEquation(eq: string): string {
  const [l, r] = eq.split('->');
  const [a, b] = (l ?? '').split(',');
  return `${b},${a}->${r}`;
}

/** `bixy,ioxy->boxy` (spectrum first): the weight permutation to (i, o, modes…), or why it is not a channel mixing. */
function channelMixing(eq: string, dims: number): { perm?: number[] } | { why: string } {
  const m = /^\s*([a-zA-Z]+)\s*,\s*([a-zA-Z]+)\s*->\s*([a-zA-Z]+)\s*$/.exec(eq);
  if (!m) return { why: `equation "${eq}" (ellipsis or more than two operands)` };
  const [, x, w, o] = m as unknown as [string, string, string, string];
  if (x.length !== dims + 2 || o.length !== dims + 2 || w.length !== dims + 2)
    return { why: `equation "${eq}": expected ${dims + 2} axes per operand (batch, channel, ${dims} mode axes)` };
  const [b, i] = [x[0]!, x[1]!];
  const oc = o[1]!;
  const modes = x.slice(2);
  if (o[0] !== b || o.slice(2) !== modes || w.includes(b) || !w.includes(i) || !w.includes(oc) || x.includes(oc))
    return { why: `equation "${eq}" is not a channel mixing (batch·in·modes, in·out·modes → batch·out·modes)` };
  const want = [i, oc, ...modes];
  if ([...w].sort().join('') !== [...want].sort().join(''))
    return { why: `equation "${eq}": the weight's axes are not in, out and the modes` };
  const perm = want.map((c) => w.indexOf(c));
  return perm.every((p, k) => p === k) ? {} : { perm };
}

/** Reads the class's forward() into the parts the rewrite needs, or refuses saying why. */
function parseForward(text: string, root: Node, cls: Node, understood: string[]): Parsed {
  const fwd = method(cls, 'forward') ?? refuse('the class has no forward() method');
  const body = fwd.childForFieldName('body')!;
  const nodes = body.namedChildren.filter((n) => n && n.type !== 'comment') as Node[];
  const params = (fwd.childForFieldName('parameters')?.namedChildren ?? []).filter((p) => p?.type === 'identifier');
  if (params.length !== 2) refuse(`forward() takes ${params.length - 1} inputs: the rewrite handles forward(self, x)`);
  const lineOf = (n: Node) => n.startPosition.row + 1;
  const locals = new Map<string, Node>();
  const stmts: Stmt[] = [];
  let transform: Stmt | undefined, shift: Stmt | undefined, zeros: Stmt | undefined, inverse: Stmt | undefined;
  let inverseCall: Node | undefined;
  let input = '',
    spec = '',
    out = '';
  let dims = 0;
  let norm: string | undefined, inverseNorm: string | undefined, lastSize: string | undefined;
  const blocks: Block[] = [];
  let equation: string | undefined;
  let assumed = false;
  for (const node of nodes) {
    const a = assignment(node);
    const rc = call(a?.right);
    const name = rc ? fnName(rc) : '';
    const base = name.replace(FFT_NS, '');
    const line = lineOf(node);
    const st: Stmt = { node, kind: 'other', line };
    if (a && a.left.type === 'identifier' && a.right.type !== 'call') locals.set(a.left.text, a.right);
    if (a && rc && FFT_NS.test(name) && /^(rfft|rfft2|rfftn)$/.test(base)) {
      if (transform) refuse(`two forward transforms (lines ${transform.line} and ${line})`);
      const { pos, kw } = args(rc);
      if (a.left.type !== 'identifier' || pos[0]?.type !== 'identifier')
        refuse(`line ${line}: the transform's input and result must be plain names`);
      if (kw.has('s') || kw.has('n') || pos.length > 1)
        refuse(
          `line ${line}: the transform is given a size (padded): this is not an FNO's periodic spectral convolution`,
        );
      const ax =
        base === 'rfft'
          ? (axes(kw.get('dim'), locals) ?? [-1])
          : base === 'rfft2'
            ? (axes(kw.get('dim'), locals) ?? [-2, -1])
            : (axes(kw.get('dim'), locals) ??
              refuse(
                kw.has('dim')
                  ? `line ${line}: ${name}(…, dim=${kw.get('dim')!.text}) takes its axes from a value computed at run time; the rewrite needs them written out (e.g. dim=(-2, -1))`
                  : `line ${line}: ${name} without a literal dim= transforms every axis, the batch's too`,
              ));
      dims = ax.length;
      if (ax.some((v, k) => v !== k - dims))
        refuse(
          `line ${line}: transform axes ${JSON.stringify(ax)}: the rewrite handles the last axes, written negative`,
        );
      if (dims > 3) refuse(`line ${line}: a ${dims}-D transform (1-D, 2-D and 3-D are rewritten)`);
      input = pos[0]!.text;
      spec = a.left.text;
      norm = kw.get('norm')?.text;
      transform = { ...st, kind: 'transform' };
      stmts.push(transform);
      understood.push(`line ${line}: ${name} over the last ${dims} axes of ${input}${norm ? `, norm=${norm}` : ''}`);
      continue;
    }
    if (a && rc && transform && FFT_NS.test(name) && base === 'fftshift' && !zeros) {
      const src = args(rc).pos[0]?.text;
      const d = axes(args(rc).kw.get('dim'), locals);
      if (src !== spec || a.left.text !== spec) refuse(`line ${line}: fftshift of something other than ${spec}`);
      if (!d || d.includes(-1)) refuse(`line ${line}: fftshift without dim= or over the last axis`);
      shift = { ...st, kind: 'shift' };
      stmts.push(shift);
      understood.push(`line ${line}: modes centred with fftshift over ${JSON.stringify(d)}`);
      continue;
    }
    if (a && rc && transform && /(^torch\.(zeros|zeros_like)|\.new_zeros)$/.test(name) && !zeros) {
      if (a.left.type !== 'identifier') refuse(`line ${line}: the zero-filled spectrum must be a plain name`);
      out = a.left.text;
      zeros = { ...st, kind: 'zeros' };
      stmts.push(zeros);
      understood.push(`line ${line}: ${out}, a zero-filled spectrum`);
      continue;
    }
    if (a && zeros && a.left.type === 'subscript' && a.left.childForFieldName('value')?.text === out) {
      const p = product(a.right, spec, root, cls);
      if (p.specArg.type !== 'subscript') refuse(`line ${line}: the product does not take a slice of ${spec}`);
      const blk: Block = {
        line,
        outIndex: a.left.text.slice(out.length),
        inIndex: p.specArg.text.slice(spec.length),
        weight: p.weightArg.text,
      };
      if (p.equation) {
        const mix = channelMixing(p.equation, dims);
        if ('why' in mix) refuse(`line ${line}: ${mix.why}`);
        blk.perm = (mix as { perm?: number[] }).perm;
        if (equation && equation !== p.equation)
          refuse(`line ${line}: blocks with different equations (${equation}, ${p.equation})`);
        equation = p.equation;
      } else assumed = true;
      blocks.push(blk);
      stmts.push({ ...st, kind: 'block' });
      understood.push(
        `line ${line}: ${out}${blk.outIndex} ← ${p.via}(${spec}${blk.inIndex}, ${blk.weight})${p.equation ? ` — einsum "${p.equation}"` : ' — its equation is built at run time: taken as the channel mixing, which the proof checks'}`,
      );
      continue;
    }
    if (a && rc && blocks.length && FFT_NS.test(name) && base === 'ifftshift' && a.left.text === out) {
      stmts.push({ ...st, kind: 'unshift' });
      continue;
    }
    const inv = node
      .descendantsOfType('call')
      .find((c) => c && FFT_NS.test(fnName(c)) && /^(irfft|irfft2|irfftn)$/.test(fnName(c).replace(FFT_NS, '')));
    if (inv && blocks.length && !inverse) {
      const { pos, kw } = args(inv);
      if (pos[0]?.text !== out) refuse(`line ${line}: the inverse transform is not of ${out}`);
      const ib = fnName(inv).replace(FFT_NS, '');
      const sizeArg = kw.get(ib === 'irfft' ? 'n' : 's') ?? pos[1];
      // irfftn without dim= transforms the last len(s) axes.
      const sLen =
        sizeArg && (sizeArg.type === 'tuple' || sizeArg.type === 'list')
          ? sizeArg.namedChildren.filter((n) => n && n.type !== 'comment').length
          : undefined;
      const ax =
        axes(kw.get('dim') ?? (ib === 'irfft' ? undefined : pos[2]), locals) ??
        (ib === 'irfft'
          ? [-1]
          : ib === 'irfft2'
            ? [-2, -1]
            : sLen
              ? Array.from({ length: sLen }, (_, k) => k - sLen)
              : undefined);
      if (!ax || ax.length !== dims || ax.some((v, k) => v !== k - dims))
        refuse(`line ${line}: the inverse's axes differ from the forward transform's`);
      const size = sizeArg;
      if (size) {
        const el =
          size.type === 'tuple' || size.type === 'list'
            ? size.namedChildren.filter((n) => n && n.type !== 'comment')
            : undefined;
        lastSize = ib === 'irfft' ? size.text : el?.length ? el[el.length - 1]!.text : `(${size.text})[-1]`;
      }
      inverseNorm = kw.get('norm')?.text;
      inverse = { ...st, kind: 'inverse' };
      inverseCall = inv;
      stmts.push(inverse);
      understood.push(`line ${line}: ${fnName(inv)} back to the signal`);
      continue;
    }
    // Anything else is kept as written, provided it does not touch the spectra between the transforms.
    if (transform && !inverse) {
      const ids = identifiers(node);
      if (ids.has(spec) || (out && ids.has(out)))
        refuse(
          `line ${line}: "${node.text.split('\n')[0]!.slice(0, 70)}" uses the spectrum in a way the rewrite does not know`,
        );
    }
    if (inverse && out && identifiers(node).has(out))
      refuse(`line ${line}: ${out} is used after the inverse transform`);
    stmts.push(st);
  }
  if (!transform) {
    const legacy = /\btorch\.(rfft|irfft)\s*\(/.test(text.slice(fwd.startIndex, fwd.endIndex));
    refuse(
      legacy
        ? 'forward() uses torch.rfft/torch.irfft with real-pair [..., 2] spectra, removed in PyTorch 1.8: port it to torch.fft.rfft2 / irfft2 with complex weights first (docs/fno.md)'
        : 'no torch.fft.rfft / rfft2 / rfftn in forward()',
    );
  }
  if (!zeros) refuse('no zero-filled spectrum (torch.zeros) that the kept modes are written into');
  if (!blocks.length) refuse(`no block of kept modes written into ${out}`);
  if (!inverse) refuse(`no torch.fft.irfft / irfft2 / irfftn of ${out}`);
  // The kept columns: every block's last index a prefix slice (`:self.modes2`) — the partial transform's width.
  const lasts = blocks.flatMap((b) => [b.inIndex, b.outIndex]).map(lastIndex);
  let kept: string | undefined;
  if (lasts.every((l) => l !== undefined)) {
    const uniq = [...new Set(lasts as string[])];
    kept = uniq.length === 1 ? uniq[0] : `max(${uniq.join(', ')})`;
  }
  const first = body.namedChildren.find((n) => n && n.type !== 'comment')!;
  const lineStart = text.lastIndexOf('\n', first.startIndex) + 1;
  return {
    input,
    spec,
    out,
    dims,
    norm,
    inverseNorm,
    lastSize,
    kept,
    blocks,
    equation: equation ?? `bi${'xyz'.slice(0, dims)},io${'xyz'.slice(0, dims)}->bo${'xyz'.slice(0, dims)}`,
    assumed,
    stmts,
    transform: transform!,
    shift,
    zeros: zeros!,
    inverse: inverse!,
    inverseCall: inverseCall!,
    indent: text.slice(lineStart, first.startIndex),
  };
}

/** The upper bound of a block index's last part when it is a prefix slice (`:m2`, `0:m2`). */
function lastIndex(index: string): string | undefined {
  const inner = index.trim().replace(/^\[/, '').replace(/\]$/, '');
  const parts = splitTop(inner);
  const m = /^(?:0\s*)?:\s*([^:]+?)\s*$/.exec(parts[parts.length - 1] ?? '');
  return m ? m[1] : undefined;
}

function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0,
    cur = '';
  for (const ch of s) {
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const CANDIDATES: ChangeId[][] = [
  ['partial'],
  ['batched'],
  ['partial', 'batched'],
  ['partial', 'batched', 'matmul-grad'],
];

/** The candidate rewrites of a class, or why it cannot be rewritten (with what was understood of it). */
export function planRewrite(tree: Tree, text: string, className: string): RewriteResult {
  const understood: string[] = [];
  const root = tree.rootNode;
  const top = classNode(root, className);
  if (!top) return { refused: `no class ${className} at the top level of the file`, understood };
  const cls = definition(top);
  try {
    const bases = cls.childForFieldName('superclasses')?.text ?? '';
    if (/Layer\b/.test(bases) && !/\bnn\.Module\b/.test(bases)) return kerasPlan(top, text, className, understood);
    if (!/\b(nn\.Module|Module)\b/.test(bases)) refuse('not a torch.nn.Module subclass nor a Keras layer');
    const p = parseForward(text, root, cls, understood);
    const candidates: RewriteCandidate[] = [];
    for (const ids of CANDIDATES) {
      if (ids.includes('partial') && !p.kept) continue;
      const c = render(p, ids, text, top, className);
      candidates.push(c);
    }
    if (!p.kept)
      understood.push("the blocks' last index is not a prefix slice (:modes): only the batched product is tried");
    return {
      className,
      start: top.startIndex,
      end: top.endIndex,
      classLine: cls.startPosition.row + 1,
      understood,
      candidates,
    };
  } catch (e) {
    if (e instanceof Refuse) return { refused: e.message, understood };
    throw e;
  }
}

/**
 * A Keras layer (the question's): each `tf.einsum` with a literal two-operand equation in call() is rewritten, the rest
 * of the class (build, the weights) as written. `broadcast`: a broadcast multiply summed over the contracted axes —
 * TF's complex einsum runs a batch matmul per position, tiny ones when the contraction is small; `matmul`: transposes
 * around one tf.linalg.matmul (one free axis per operand and one contracted axis).
 */
function kerasPlan(top: Node, text: string, className: string, understood: string[]): RewritePlan {
  const cls = definition(top);
  const fn = method(cls, 'call') ?? refuse('the Keras layer has no call() method');
  const einsums = fn
    .descendantsOfType('call')
    .filter((c): c is Node => !!c && /^(tf\.|tensorflow\.)?(einsum|linalg\.einsum)$/.test(fnName(c)));
  if (!einsums.length)
    refuse("no tf.einsum in call(): the Keras rewrite replaces an einsum (the question's per-position channel mixing)");
  const rewrites = einsums.map((c) => {
    const { pos } = args(c);
    const eq = pos[0]?.type === 'string' ? stringValue(pos[0]) : undefined;
    const line = c.startPosition.row + 1;
    if (!eq || pos.length !== 3) refuse(`line ${line}: tf.einsum needs a literal equation and two operands to rewrite`);
    const m = /^\s*([a-zA-Z]+)\s*,\s*([a-zA-Z]+)\s*->\s*([a-zA-Z]*)\s*$/.exec(eq!);
    if (!m) refuse(`line ${line}: equation "${eq}" (ellipsis or more than two operands)`);
    const [, a, b, out] = m as unknown as [string, string, string, string];
    const dup = (s: string) => new Set(s).size !== s.length;
    if (dup(a) || dup(b) || dup(out) || [...out].some((ch) => !a.includes(ch) && !b.includes(ch)))
      refuse(`line ${line}: equation "${eq}" repeats a letter (a diagonal) or outputs a letter no operand has`);
    understood.push(`line ${line}: tf.einsum("${eq}", ${pos[1]!.text}, ${pos[2]!.text})`);
    return { node: c, line, a, b, out, A: pos[1]!.text, B: pos[2]!.text, eq: eq! };
  });
  const used = identifiers(fn);
  const candidates: RewriteCandidate[] = [];
  for (const id of ['broadcast', 'matmul'] as const) {
    const exprs = rewrites.map((r) => (id === 'broadcast' ? broadcastExpr(r) : matmulExpr(r)));
    if (exprs.some((e) => e === undefined)) continue;
    let src = text.slice(top.startIndex, top.endIndex);
    // Replace from the last einsum up, so earlier offsets hold; a comment line above each statement.
    const order = rewrites
      .map((r, k) => ({ r, e: exprs[k]! }))
      .sort((x, y) => y.r.node.startIndex - x.r.node.startIndex);
    for (const { r, e } of order) {
      const at = r.node.startIndex - top.startIndex;
      src = src.slice(0, at) + e + src.slice(at + r.node.text.length);
      const lineStart = src.lastIndexOf('\n', at) + 1;
      const indent = /^[ \t]*/.exec(src.slice(lineStart))![0];
      const note =
        id === 'broadcast'
          ? `# fconv optimize [broadcast]: tf.einsum("${r.eq}") of line ${r.line} as a broadcast multiply summed over the contracted axes (TF runs a complex einsum as one small matmul per position)`
          : `# fconv optimize [matmul]: tf.einsum("${r.eq}") of line ${r.line} as one tf.linalg.matmul between transposes`;
      src = `${src.slice(0, lineStart)}${indent}${note}\n${src.slice(lineStart)}`;
    }
    void used;
    candidates.push({
      id,
      changes: [
        {
          id,
          title:
            id === 'broadcast'
              ? 'tf.einsum → a broadcast multiply and tf.reduce_sum over the contracted axes (no per-position matmuls)'
              : 'tf.einsum → tf.linalg.matmul with the shared axes as its batch, between transposes',
          replaces: rewrites.map((r) => r.line),
        },
      ],
      classSource: src,
      helpers: '',
    });
  }
  if (!candidates.length) refuse('the einsum has no broadcast or matmul form this rewrite writes');
  void className;
  return {
    className,
    start: top.startIndex,
    end: top.endIndex,
    classLine: cls.startPosition.row + 1,
    understood,
    candidates,
  };
}

interface EinsumParts {
  a: string;
  b: string;
  out: string;
  A: string;
  B: string;
}

const perm = (from: string, to: string) => [...to].map((c) => from.indexOf(c));
const isId = (p: number[]) => p.every((v, k) => v === k);
const transposed = (x: string, from: string, to: string) =>
  isId(perm(from, to)) ? x : `tf.transpose(${x}, perm=[${perm(from, to).join(', ')}])`;

/** `A[..., None] * B[None]` summed over the contracted letters, transposed to the output's order when needed. */
function broadcastExpr(r: EinsumParts): string {
  const extra = [...r.b].filter((c) => !r.a.includes(c)).join('');
  const u = r.a + extra;
  // B in the order its letters have in u (a transpose when they do not already).
  const bOrder = [...u].filter((c) => r.b.includes(c)).join('');
  const B = transposed(r.B, r.b, bOrder);
  const aIdx = extra.length ? `[..., ${Array(extra.length).fill('None').join(', ')}]` : '';
  const bParts = [...u].map((c) => (r.b.includes(c) ? ':' : 'None'));
  while (bParts.length && bParts[bParts.length - 1] === ':') bParts.pop();
  const bIdx = bParts.length ? `[${bParts.join(', ')}]` : '';
  const wrap = (s: string) => (/^[\w.]+$/.test(s) ? s : `(${s})`);
  let expr = `${wrap(r.A)}${aIdx} * ${wrap(B)}${bIdx}`;
  const summed = [...u].map((c, k) => (r.out.includes(c) ? -1 : k)).filter((k) => k >= 0);
  if (summed.length)
    expr = `tf.reduce_sum(${expr}, axis=${summed.length === 1 ? summed[0] : `[${summed.join(', ')}]`})`;
  const left = [...u].filter((c) => r.out.includes(c)).join('');
  return transposed(expr, left, r.out);
}

/** One free letter per operand and one contracted: the shared letters as matmul's batch, between transposes. */
function matmulExpr(r: EinsumParts): string | undefined {
  const batch = [...r.out].filter((c) => r.a.includes(c) && r.b.includes(c)).join('');
  const fa = [...r.a].filter((c) => !r.b.includes(c));
  const fb = [...r.b].filter((c) => !r.a.includes(c));
  const con = [...r.a].filter((c) => r.b.includes(c) && !r.out.includes(c));
  if (fa.length !== 1 || fb.length !== 1 || con.length !== 1 || !fa.every((c) => r.out.includes(c))) return undefined;
  if (batch.length + 2 !== r.out.length || batch.length + 2 !== r.a.length || batch.length + 2 !== r.b.length)
    return undefined;
  const A = transposed(r.A, r.a, batch + fa[0] + con[0]);
  const B = transposed(r.B, r.b, batch + con[0] + fb[0]);
  return transposed(`tf.linalg.matmul(${A}, ${B})`, batch + fa[0] + fb[0], r.out);
}

/** Names the rewrite introduces, made unique against the names forward() already uses. */
function fresh(used: Set<string>, want: string): string {
  let n = want;
  for (let k = 2; used.has(n); k++) n = `${want}${k}`;
  used.add(n);
  return n;
}

export const RDFT_HELPER = '_fconv_rdft';

/** The module-level helper matmul-grad needs: the first `kept` rfft bins as a real matrix, cached. */
function rdftHelper(): string {
  return `def ${RDFT_HELPER}(n, kept, norm, like, _cache={}):
    # fconv optimize: the first \`kept\` rfft bins of a length-n signal as a real (n, 2*kept) matrix, so that
    # torch.view_as_complex((x @ M).view(..., kept, 2)) equals torch.fft.rfft(x, norm=norm)[..., :kept]
    key = (n, kept, norm, like.dtype, like.device)
    if key not in _cache:
        k = torch.arange(kept, dtype=torch.float64)
        t = torch.arange(n, dtype=torch.float64)
        angle = torch.outer(t, k) * (-6.283185307179586 / n)  # -2*pi*t*k/n
        scale = {None: 1.0, "backward": 1.0, "ortho": n ** -0.5, "forward": 1.0 / n}[norm]
        m = torch.stack([angle.cos(), angle.sin()], dim=-1).reshape(n, 2 * kept) * scale
        _cache[key] = m.to(dtype=like.dtype, device=like.device)
    return _cache[key]

`;
}

function render(p: Parsed, ids: ChangeId[], text: string, top: Node, className: string): RewriteCandidate {
  const has = (c: ChangeId) => ids.includes(c);
  const fwd = method(definition(top), 'forward')!;
  const used = identifiers(fwd);
  const I = p.indent;
  const lines: string[] = [];
  const changes: RewriteChange[] = [];
  const norm = p.norm ? `, norm=${p.norm}` : '';
  const inorm = p.inverseNorm ? `, norm=${p.inverseNorm}` : '';
  const other = p.dims === 3 ? '(-3, -2)' : '-2';
  const fftOther = p.dims === 3 ? 'fftn' : 'fft';
  const stmtText = (s: Stmt) => s.node.text.split('\n').map((l, k) => (k ? l : I + l));
  const blockLines = p.stmts.filter((s) => s.kind === 'block').map((s) => s.line);
  // The transform goes where it was, unless the kept width is named later (then right before the first block).
  const firstBlock = p.stmts.findIndex((s) => s.kind === 'block');
  const tIdx = p.stmts.indexOf(p.transform);
  const definedBefore = (k: number) =>
    new Set(
      p.stmts.slice(0, k).flatMap((s) => {
        const a = assignment(s.node);
        return a ? [...identifiers(a.left)] : [];
      }),
    );
  const keptNames = p.kept ? [...(p.kept.match(/\b(?!self\b)[A-Za-z_]\w*/g) ?? [])] : [];
  const fwdParams = new Set(
    (fwd.childForFieldName('parameters')?.namedChildren ?? []).map((n) => n?.text ?? '').filter(Boolean),
  );
  const moveDown =
    has('partial') &&
    keptNames.some((n) => !definedBefore(tIdx).has(n) && !fwdParams.has(n) && !/^(max|min|int|len)$/.test(n));
  let width: string | undefined;
  const emitTransform = () => {
    if (!has('partial')) {
      lines.push(...stmtText(p.transform));
      if (p.shift) lines.push(...stmtText(p.shift));
      return;
    }
    const t = p.transform.line;
    changes.push({
      id: 'partial',
      title: `partial transforms: only the ${p.kept} kept columns are transformed (rfft over the last axis, sliced${p.dims > 1 ? ', then the other axes on those columns alone' : ''}), and the inverse zero-pads them itself — no full-size zero-filled spectrum`,
      replaces: [t, p.zeros.line, p.inverse.line],
    });
    if (!p.lastSize) {
      width = fresh(used, 'n_last');
      lines.push(`${I}${width} = ${p.input}.shape[-1]  # the signal's width, for the inverse`);
    }
    lines.push(
      `${I}# fconv optimize [partial]: the transform of line ${t}, on the kept columns only (they are all the blocks read)`,
    );
    const cols = `torch.fft.rfft(${p.input}, dim=-1${norm})[..., :${p.kept}]`;
    if (has('matmul-grad')) {
      changes.push({
        id: 'matmul-grad',
        title:
          "in training, the kept columns as one real matmul: its backward is a matmul too, where rfft's backward is a full-size complex FFT",
        replaces: [t],
      });
      lines.push(`${I}if ${p.input}.requires_grad and torch.is_grad_enabled():`);
      lines.push(
        `${I}    # fconv optimize [matmul-grad]: training — the kept columns as a real matmul (a cheap backward)`,
      );
      lines.push(
        `${I}    ${p.spec} = torch.view_as_complex((${p.input} @ ${RDFT_HELPER}(${p.input}.shape[-1], ${p.kept}, ${p.norm ?? 'None'}, ${p.input})).view(*${p.input}.shape[:-1], -1, 2))`,
      );
      lines.push(`${I}else:`);
      lines.push(`${I}    ${p.spec} = ${cols}`);
    } else lines.push(`${I}${p.spec} = ${cols}`);
    if (p.dims > 1) lines.push(`${I}${p.spec} = torch.fft.${fftOther}(${p.spec}, dim=${other}${norm})`);
    if (p.shift) lines.push(...stmtText(p.shift));
  };
  const emitBlocks = () => {
    const blocks = p.stmts.filter((s) => s.kind === 'block');
    if (!has('batched')) {
      // The products as written; the zero-filled spectrum made after the first, as wide as the kept columns.
      if (!has('partial')) {
        lines.push(...stmtText(p.zeros));
        for (const b of blocks) lines.push(...stmtText(b));
        return;
      }
      const first = fresh(used, 'first');
      const a0 = assignment(blocks[0]!.node)!;
      lines.push(`${I}${first} = ${a0.right.text}`);
      lines.push(
        `${I}${p.out} = ${first}.new_zeros(*${first}.shape[:2], *${p.spec}.shape[2:])  # only the kept columns`,
      );
      lines.push(`${I}${p.out}${p.blocks[0]!.outIndex} = ${first}`);
      for (const b of blocks.slice(1)) lines.push(...stmtText(b));
      return;
    }
    const n = p.blocks.length;
    changes.push({
      id: 'batched',
      title: `${n === 1 ? 'the einsum' : `${n} einsums over blocks of modes`} → one batched matmul over all kept modes, operands mode-major and contiguous (the layout the GEMM wants)`,
      replaces: blockLines,
    });
    const [kept, modesIn, modesW, mixed, parts, k] = ['kept', 'modes_in', 'modes_w', 'mixed', 'parts', 'k'].map((w) =>
      fresh(used, w),
    );
    const w = (b: Block) => `${b.perm ? `${b.weight}.permute(${b.perm.join(', ')})` : b.weight}.flatten(2)`;
    lines.push(
      `${I}# fconv optimize [batched]: the product${n > 1 ? 's' : ''} of line${n > 1 ? 's' : ''} ${blockLines.join(', ')} as one batched matmul over every kept mode`,
    );
    lines.push(`${I}${kept} = [${p.blocks.map((b) => `${p.spec}${b.inIndex}`).join(', ')}]`);
    lines.push(
      `${I}${modesIn} = torch.cat([${k}.flatten(2) for ${k} in ${kept}], dim=-1).permute(2, 0, 1).contiguous()  # (modes, batch, in)`,
    );
    lines.push(
      `${I}${modesW} = torch.cat([${p.blocks.map(w).join(', ')}], dim=-1).permute(2, 0, 1).contiguous()  # (modes, in, out)`,
    );
    lines.push(`${I}${mixed} = torch.bmm(${modesIn}, ${modesW}).permute(1, 2, 0)  # (batch, out, modes)`);
    lines.push(
      `${I}${p.out} = ${mixed}.new_zeros(*${mixed}.shape[:2], *${p.spec}.shape[2:])${has('partial') ? '  # only the kept columns' : ''}`,
    );
    lines.push(`${I}${parts} = ${mixed}.split([${k}[0, 0].numel() for ${k} in ${kept}], dim=-1)`);
    p.blocks.forEach((b, j) =>
      lines.push(`${I}${p.out}${b.outIndex} = ${parts}[${j}].reshape(*${mixed}.shape[:2], *${kept}[${j}].shape[2:])`),
    );
  };
  const emitInverse = (s: Stmt) => {
    if (!has('partial')) {
      lines.push(...stmtText(s));
      return;
    }
    const size = p.lastSize ?? `2 * (${width} // 2)`;
    const inner = p.dims > 1 ? `torch.fft.i${fftOther}(${p.out}, dim=${other}${inorm})` : p.out;
    const expr = `torch.fft.irfft(${inner}, n=${size}, dim=-1${inorm})`;
    lines.push(
      `${I}# fconv optimize [partial]: the inverse of line ${s.line} on the kept columns (irfft zero-pads them itself)`,
    );
    const c = p.inverseCall;
    const st = s.node.text;
    const rel = c.startIndex - s.node.startIndex;
    const replaced = st.slice(0, rel) + expr + st.slice(rel + c.text.length);
    lines.push(...replaced.split('\n').map((l, k) => (k ? l : I + l)));
  };
  let blocksDone = false;
  p.stmts.forEach((s, idx) => {
    if (s === p.transform) {
      if (!moveDown) emitTransform();
      return;
    }
    if (s === p.shift) {
      if (!has('partial')) return; // emitted with the transform
      if (!moveDown) return;
      return;
    }
    if (s.kind === 'zeros') {
      if (!has('partial') && !has('batched') && idx < firstBlock) return; // emitted with the blocks
      return;
    }
    if (s.kind === 'block') {
      if (blocksDone) return;
      blocksDone = true;
      if (moveDown) emitTransform();
      emitBlocks();
      return;
    }
    if (s.kind === 'inverse') {
      emitInverse(s);
      return;
    }
    lines.push(...stmtText(s));
  });
  // The class: as written, forward()'s body replaced.
  const body = fwd.childForFieldName('body')!;
  const first = body.namedChildren.find((n) => n && n.type !== 'comment')!;
  const from = text.lastIndexOf('\n', first.startIndex) + 1;
  const classText = text.slice(top.startIndex, from) + lines.join('\n') + text.slice(body.endIndex, top.endIndex);
  void className;
  return {
    id: ids.join('+'),
    changes,
    classSource: classText,
    helpers: has('matmul-grad') ? rdftHelper() : '',
  };
}

/** The file with the class replaced by (or, with a new name, followed by) a candidate's class. */
export function applyRewrite(
  text: string,
  plan: Pick<RewritePlan, 'start' | 'end' | 'className'>,
  cand: Pick<RewriteCandidate, 'classSource' | 'helpers'>,
  newName?: string,
): string {
  let cls = cand.classSource;
  if (newName) cls = cls.replace(new RegExp(`^((?:@.*\\n)*class\\s+)${plan.className}\\b`), `$1${newName}`);
  const helpers = cand.helpers && !text.includes(`def ${RDFT_HELPER}(`) ? cand.helpers : '';
  if (newName) return `${text.slice(0, plan.end)}\n\n\n${helpers}${cls}${text.slice(plan.end)}`;
  return text.slice(0, plan.start) + helpers + cls + text.slice(plan.end);
}
