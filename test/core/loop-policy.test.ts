/**
 * The measuring loop's policy (src/core/loop-policy.ts), the one both loops obey: warm-up until stable within a
 * cap, repetitions from the budget; and the local loop recording and following it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopPolicy, repetitions, trainPolicy, trainRepetitions, warmAgain } from '../../src/core/loop-policy';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { spec } from '../helpers';

test('warm-up: at least the runs asked for, more while a run is over 5 % faster than the one before, within the caps', () => {
  const p = loopPolicy(3, 10, 250);
  assert.equal(p.warmupMax, 12);
  assert.equal(warmAgain(p, []), true);
  assert.equal(warmAgain(p, [10, 9]), true, 'fewer than asked');
  assert.equal(warmAgain(p, [10, 9, 8]), true, '8 is over 5 % faster than 9');
  assert.equal(warmAgain(p, [10, 9, 8.9]), false, 'within 5 %: stable');
  assert.equal(warmAgain(p, [10, 9, 9.5]), false, 'slower: stable');
  const still = Array.from({ length: 12 }, (_, i) => 10 * 0.9 ** i);
  assert.equal(warmAgain(p, still), false, 'at most warmupMax runs');
  assert.equal(warmAgain({ ...p, warmupMaxMs: 20 }, [10, 9, 8]), false, 'at most warmupMaxMs of warm-up');
  assert.equal(warmAgain(loopPolicy(0, 5, 0), []), false, 'no warm-up asked: none');
});

test('repetitions: at least reps, as many as fit the budget at the warm-up speed, at most 5× reps', () => {
  const p = loopPolicy(3, 10, 250);
  assert.equal(repetitions(p, 100), 10);
  assert.equal(repetitions(p, 10), 25);
  assert.equal(repetitions(p, 0.001), 50);
  assert.equal(repetitions(loopPolicy(3, 10, 0), 1), 10);
});

test('the local loop records the policy in the run and warms up at least as asked', async () => {
  const engine = await TfjsEngine.create('wasm');
  const run = await profile(engine, spec({ batch: 1, height: 8, width: 8, kernelH: 3, kernelW: 3 }), {
    variants: ['spatial', 'optimized'],
    warmup: 2,
    reps: 3,
    seed: 1,
    adaptiveBudgetMs: 0,
  });
  assert.deepEqual(run.settings.loop, loopPolicy(2, 3, 0));
  for (const v of run.variants) {
    const perCall = v.steps.filter((s) => !s.oneOff);
    assert.ok(perCall.every((s) => s.warmup >= 2 && s.warmup <= run.settings.loop!.warmupMax && s.reps === 3));
    assert.ok(v.firstCallMs! > 0, 'the first warm-up call is reported as the first call');
  }
});

test("the training step's rules: one warm-up run, repetitions within 2 × the budget per phase (at least 3), no cap without a budget", () => {
  const p = loopPolicy(3, 10, 250);
  assert.equal(trainPolicy(p).warmup, 1);
  assert.ok(trainPolicy(p).warmupMax <= 3);
  // A fast step: the forward's rule (more repetitions within the budget, up to repsMax).
  assert.equal(trainRepetitions(p, 1), repetitions(p, 1));
  // A 450 ms step: 3 (500 ms / 450 ms is 1, never fewer than 3); a 60 ms step: 8.
  assert.equal(trainRepetitions(p, 450), 3);
  assert.equal(trainRepetitions(p, 60), 8);
  // Without an adaptive budget (exactly the reps asked): no cap either.
  assert.equal(trainRepetitions(loopPolicy(0, 7, 0), 450), 7);
  // An explicit training budget wins; fewer reps asked than 3 stay as asked.
  assert.equal(trainRepetitions({ ...p, trainBudgetMs: 5000 }, 450), 10);
  assert.equal(trainRepetitions(loopPolicy(0, 2, 250), 450), 2);
});

test("a GPU's warm-up has a time floor (its clock ramps up), past the run cap, in the TS rule and the Python one alike", () => {
  const p = { ...loopPolicy(3, 10, 250), warmupMinMs: 200 };
  const fast = Array.from({ length: 50 }, () => 0.02); // 50 calls of a 20 µs kernel: 1 ms, far below the floor
  assert.equal(warmAgain(p, fast), true, 'below the floor: on, although past warmupMax and stable');
  assert.equal(warmAgain(p, [...fast, 199]), false, 'the floor reached and stable: off');
  assert.equal(warmAgain(loopPolicy(3, 10, 250), fast), false, 'without the floor (a CPU): the run cap');
  // python/fconv_protocol.py's warm_again: the same answers on the same cases.
  const script = [
    'import json, sys',
    'sys.path.insert(0, sys.argv[1])',
    'from fconv_protocol import loop_policy, warm_again',
    'p = loop_policy(json.loads(sys.argv[2]))',
    'fast = [0.02] * 50',
    'q = loop_policy({k: v for k, v in json.loads(sys.argv[2]).items() if k != "warmupMinMs"})',
    'print(json.dumps([warm_again(p, fast), warm_again(p, fast + [199]), warm_again(q, fast)]))',
  ].join('\n');
  const r = require('node:child_process').spawnSync(
    'python3',
    ['-c', script, require('node:path').join(__dirname, '..', '..', 'python'), JSON.stringify(p)],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [true, false, false]);
});
