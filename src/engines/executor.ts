/**
 * Binds a variant's plan to an engine's executors: each planned step gets how it runs and the label of
 * what ran, nothing else. A plan step without an executor, or an executor for a step the plan does not
 * have, is an internal error — so what an engine runs is always what the cost model priced. Worker side.
 */
import type { PlannedStep, VariantPlan } from '../core/variants';
import type { Env, PreparedVariant, StepDef } from './engine';

export interface StepExecutor {
  implementation: string;
  run(env: Env): unknown;
  /** Env keys read; by default the value the previous step wrote (none for a one-off step). */
  reads?: string[];
  /** Env key written; by default the step's id. */
  writes?: string;
}

export type Executors = Record<string, StepExecutor>;

export interface Bound {
  persistent: Env;
  dispose(): void;
  /** The env key of the output; by default what the last step writes. */
  output?: string;
  algorithms?: PreparedVariant['algorithms'];
  trainable?: PreparedVariant['trainable'];
}

export function bindPlan(plan: VariantPlan, executors: Executors, bound: Bound): PreparedVariant {
  const used = new Set<string>();
  const attach = (list: PlannedStep[], chained: boolean): StepDef[] => {
    let prev: string | undefined;
    return list.map((p) => {
      const x = executors[p.id];
      if (!x)
        throw new Error(`internal: the ${plan.name} plan has a step "${p.id}" that this engine has no executor for`);
      used.add(p.id);
      const writes = x.writes ?? p.id;
      const reads = x.reads ?? (chained && prev ? [prev] : []);
      prev = writes;
      return { ...p, implementation: x.implementation, reads, writes, run: x.run };
    });
  };
  const oneOff = attach(plan.oneOff, false);
  const steps = attach(plan.steps, true);
  const extra = Object.keys(executors).filter((id) => !used.has(id));
  if (extra.length)
    throw new Error(`internal: executors for steps the ${plan.name} plan does not have: ${extra.join(', ')}`);
  if (!steps.length) throw new Error(`internal: the ${plan.name} plan has no steps`);
  return {
    name: plan.name,
    title: plan.title,
    description: plan.description,
    kind: plan.kind,
    reference: plan.reference,
    oneOff,
    steps,
    persistent: bound.persistent,
    output: bound.output ?? steps[steps.length - 1]!.writes,
    dispose: bound.dispose,
    ...(bound.algorithms ? { algorithms: bound.algorithms } : {}),
    ...(bound.trainable ? { trainable: bound.trainable } : {}),
  };
}
