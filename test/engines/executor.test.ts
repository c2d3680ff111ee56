import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planVariant, tfjsTraits } from '../../src/core/variants';
import { bindPlan } from '../../src/engines/executor';
import { spec } from '../helpers';

const S = spec({
  batch: 2,
  height: 6,
  width: 6,
  inChannels: 1,
  outChannels: 2,
  kernelH: 3,
  kernelW: 3,
  padding: 'same',
  layout: 'NCHW',
});
const bound = { persistent: new Map(), dispose: () => {} };
const run = () => 0;

test('binding attaches each executor to its planned step and chains reads by default', () => {
  const plan = planVariant('spatial', S, tfjsTraits('wasm'));
  assert.deepEqual(
    plan.steps.map((s) => s.id),
    ['to-nhwc', 'conv2d', 'to-nchw'],
  );
  const p = bindPlan(
    plan,
    {
      'to-nhwc': { implementation: 'a', run },
      conv2d: { implementation: 'b', run },
      'to-nchw': { implementation: 'c', run },
    },
    bound,
  );
  assert.deepEqual(
    p.steps.map((s) => [s.id, s.implementation, s.reads, s.writes]),
    [
      ['to-nhwc', 'a', [], 'to-nhwc'],
      ['conv2d', 'b', ['to-nhwc'], 'conv2d'],
      ['to-nchw', 'c', ['conv2d'], 'to-nchw'],
    ],
  );
  assert.equal(p.output, 'to-nchw');
  assert.equal(p.steps[1]!.flops, plan.steps[1]!.flops);
});

test('a planned step without an executor, or an executor the plan does not have, is refused by name', () => {
  const plan = planVariant('spatial', S, tfjsTraits('wasm'));
  assert.throws(
    () => bindPlan(plan, { 'to-nhwc': { implementation: 'a', run }, conv2d: { implementation: 'b', run } }, bound),
    /step "to-nchw" that this engine has no executor for/,
  );
  assert.throws(
    () =>
      bindPlan(
        plan,
        {
          'to-nhwc': { implementation: 'a', run },
          conv2d: { implementation: 'b', run },
          'to-nchw': { implementation: 'c', run },
          extra: { implementation: 'd', run },
        },
        bound,
      ),
    /executors for steps the spatial plan does not have: extra/,
  );
});
