import { cite } from '../../core/citations';
import { type Node } from 'web-tree-sitter';
import { weightShape } from '../layers';
import { type CallInfo } from '../source-model';
import { replace } from '../text';
import { type Fix } from '../types';
import {
  EINSUM,
  INPUT,
  TF_INNERMOST_2D,
  TORCH_2D,
  TRANSPOSE,
  TRANSPOSE_METHODS,
  permutation,
  stringLiteral,
} from '../values';
import { type Emit, PER_CALL, type Rule, type RuleContext, SPATIAL_AXIS, line, short, tfName } from './common';

/** Where the rule's claim comes from (docs/ sections, the paper). */
const SOURCE = cite(['rfftAxes']);

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
        node: c.node,
        message: `${short(c.callee)} transforms the innermost two axes; ${what}, not (H, W). The spectrum is over the wrong axes (${SOURCE}).`,
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
        node: c.node,
        message: `${short(c.callee)} transforms the last two dims; its input was permuted to channels last (${short(oc.node, 40)}), so those are (W, C), not (H, W) (${SOURCE}).`,
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

export const rule: Rule = {
  id: 'rfft-axes',
  severity: 'warning',
  title: 'rfft2d runs over the wrong axes',
  source: SOURCE,
  check: (ctx, emit) => rfftAxes(ctx, emit),
};
