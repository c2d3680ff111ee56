/**
 * The profile session (src/client/session.ts) is the one sequence both front ends run: the run, the rates, the
 * sweep, the insights, the save. These drive it with stand-in steps and a real run (wasm) and check the order,
 * what is saved, and what a failed step leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerError } from '../../src/client/client';
import { defaultSweepPlan, describePlan, profileSession, type SessionSteps } from '../../src/client/session';
import type { Run } from '../../src/core/run';
import { fnoSpec } from '../../src/core/spec';
import { profile } from '../../src/engines/profiler';
import { TfjsEngine } from '../../src/engines/tfjs/engine';
import { CPU } from '../fixtures';
import { spec } from '../helpers';

const OPTIONS = {
  engine: 'wasm' as const,
  variants: ['spatial-equivalent' as const, 'seed' as const, 'optimized' as const],
  warmup: 0,
  reps: 2,
  seed: 1,
  maxMemoryBytes: 4e9,
};

async function realRun(): Promise<Run> {
  const engine = await TfjsEngine.create('wasm');
  return profile(engine, spec({ batch: 2, height: 8, width: 8, kernelH: 8, kernelW: 8 }), {
    ...OPTIONS,
    adaptiveBudgetMs: 0,
  });
}

function steps(run: Run | Error, log: string[], device: 'ok' | 'none' | 'fails' = 'ok'): SessionSteps<string> {
  return {
    run: async () => {
      log.push('run');
      return run instanceof Error ? { kind: 'error', error: run } : { kind: 'done', run };
    },
    device: async () => {
      log.push('device');
      if (device === 'fails') throw new WorkerError('cancelled', 'cancelled');
      return device === 'ok' ? CPU : undefined;
    },
    save: (r, outcome) => {
      log.push(`save:${outcome.kind}:${r.analysis ? 'insights' : 'bare'}`);
      return 'id-1';
    },
  };
}

test('run → rates → insights → save, in that order; the saved run carries its analysis and hints', async () => {
  const run = await realRun();
  const log: string[] = [];
  const s = await profileSession(steps(run, log), run.spec, OPTIONS, { model: true });
  assert.deepEqual(log, ['run', 'device', 'save:done:insights']);
  assert.equal(s.saved, 'id-1');
  assert.ok(s.run?.analysis && s.run.hints, 'insights joined');
  assert.equal(s.modelNote, undefined);
});

test('no rates: the run is saved as measured, and a failed probe says why in modelNote', async () => {
  const run = await realRun();
  const none: string[] = [];
  const a = await profileSession(steps(run, none, 'none'), run.spec, OPTIONS, { model: true });
  assert.deepEqual(none, ['run', 'device', 'save:done:bare']);
  assert.equal(a.modelNote, undefined);
  const fails: string[] = [];
  const b = await profileSession(steps(run, fails, 'fails'), run.spec, OPTIONS, { model: true });
  assert.deepEqual(fails, ['run', 'device', 'save:done:bare']);
  assert.match(b.modelNote!, /cancelled while reading the machine's rates/);
  const off: string[] = [];
  await profileSession(steps(run, off), run.spec, OPTIONS, { model: false });
  assert.deepEqual(off, ['run', 'save:done:bare'], '--no-model: no probe');
});

test('a run that failed before measuring anything is not saved (the last report stays)', async () => {
  const log: string[] = [];
  const s = await profileSession(steps(new Error('engine crashed'), log), spec(), OPTIONS, { model: true });
  assert.deepEqual(log, ['run']);
  assert.equal(s.saved, undefined);
  assert.equal(s.outcome.kind, 'error');
});

test('the default sweep: kernel sizes up to the image for the seed layer, the modes the grid allows for an FNO', () => {
  const k = defaultSweepPlan(spec({ height: 16, width: 16 }));
  assert.ok(typeof k !== 'string' && k.kind === 'kernel');
  assert.deepEqual(k.kernels, [3, 5, 7, 9, 11, 15, 16]);
  assert.equal(describePlan(k), 'kernel sizes 3, 5, 7, 9, 11, 15, 16');
  const f = defaultSweepPlan(
    fnoSpec({ ...spec({ height: 16, width: 16 }), modes: [2, 2], modesConvention: 'corners' }),
  );
  assert.ok(typeof f !== 'string' && f.kind === 'fno');
  assert.ok(f.modes.every((m) => 2 * m <= 16 && m <= 9));
  assert.deepEqual(f.grids, [{ height: 16, width: 16 }]);
});
