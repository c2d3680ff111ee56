import { cite } from '../../core/citations';
import { replace } from '../text';
import { type Emit, type Rule, type RuleContext, line, short } from './common';

/** Where the rule's claim comes from (docs/ sections). */
const SOURCE = cite(['tfSignal']);

/**
 * tf.spectral.* (Python): the module was removed in TensorFlow 2.0 — `tf.spectral.rfft2d` raises AttributeError
 * on any TF 2.x; tf.signal has the same functions with the same arguments. (tfjs keeps `tf.spectral`: JS files
 * are not flagged.)
 */
function tfSpectralRemoved(ctx: RuleContext, emit: Emit): void {
  if (ctx.model.dialect !== 'python') return;
  for (const c of ctx.model.calls) {
    if (!c.name.startsWith('tensorflow.signal.')) continue;
    const written = c.callee.text;
    if (!/(^|\.)spectral\./.test(written)) continue;
    const fixed = written.replace(/(^|\.)spectral\./, '$1signal.');
    emit({
      node: c.node,
      message: `${short(c.callee)}: tf.spectral was removed in TensorFlow 2.0 — this line raises AttributeError ("module 'tensorflow' has no attribute 'spectral'") on any TensorFlow 2.x. Its replacement is ${fixed}, with the same arguments and result. (${SOURCE})`,
      evidence: [`${written}(…) at line ${line(c.node)}`],
      suggestion: `Replace ${written} with ${fixed}.`,
      fixes: [{ title: `Replace with ${fixed}`, edits: [replace(c.callee, fixed)] }],
    });
  }
}

export const rule: Rule = {
  id: 'tf-spectral-removed',
  severity: 'warning',
  title: 'tf.spectral was removed in TensorFlow 2.0 (tf.signal replaces it)',
  source: SOURCE,
  check: (ctx, emit) => tfSpectralRemoved(ctx, emit),
};
