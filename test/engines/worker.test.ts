import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRun } from '../../src/core/run';
import { WorkerClient, WorkerError } from '../../src/client/client';
import { type RunOptions, fromWorkerSchema, toWorkerSchema } from '../../src/protocol/worker-protocol';
import { SMALL, WORKER, spec } from '../helpers';

const OPTS: RunOptions = {
  engine: 'wasm',
  variants: ['spatial', 'spatial-equivalent', 'seed', 'optimized'],
  warmup: 1,
  reps: 2,
  seed: 1,
  maxMemoryBytes: 4e9,
};

test('the protocol schemas reject malformed messages in both directions', () => {
  const ok = { type: 'run', id: 'a', spec: SMALL, options: OPTS };
  assert.equal(toWorkerSchema.safeParse(ok).success, true);
  for (const bad of [
    {},
    null,
    'run',
    { type: 'run' },
    { ...ok, id: '' },
    { ...ok, type: 'launch' },
    { ...ok, spec: { ...SMALL, batch: 0 } },
    { ...ok, spec: { ...SMALL, padding: 'reflect' } },
    { ...ok, options: { ...OPTS, variants: [] } },
    { ...ok, options: { ...OPTS, variants: ['fast'] } },
    { ...ok, options: { ...OPTS, reps: 0 } },
    { ...ok, options: { ...OPTS, engine: 'gpu' } },
    { type: 'cancel' },
  ]) {
    assert.equal(toWorkerSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(fromWorkerSchema.safeParse({ type: 'progress', id: 'a', progress: { variant: 'seed' } }).success, false);
  assert.equal(fromWorkerSchema.safeParse({ type: 'result', id: 'a', run: { schemaVersion: 1 } }).success, false);
  assert.equal(fromWorkerSchema.safeParse({ type: 'ready', pid: 1 }).success, true);
});

test('the worker rejects a malformed message with a protocol error and keeps serving', async () => {
  const c = new WorkerClient({ workerPath: WORKER });
  try {
    const answer = await c.sendRaw({ type: 'run', id: 'x', spec: { batch: 'many' } });
    assert.equal(answer.type, 'error');
    assert.ok(
      answer.type === 'error' &&
        answer.error.kind === 'protocol' &&
        /rejected malformed message/.test(answer.error.message),
    );
    const again = await c.sendRaw({ hello: 'world' });
    assert.ok(again.type === 'error' && again.id === null);
    const run = await c.run(SMALL, { ...OPTS, variants: ['spatial'] });
    assert.equal(run.status, 'ok');
  } finally {
    c.dispose();
  }
});

test('a run through the worker returns a schema-valid run with progress on the way', async () => {
  const c = new WorkerClient({ workerPath: WORKER });
  try {
    const phases = new Set<string>();
    const stepsSeen = new Set<string>();
    const variants: string[] = [];
    let engine = '';
    const run = await c.run(SMALL, OPTS, {
      onProgress: (p) => {
        phases.add(p.phase);
        if (p.phase === 'per-step' && p.step) stepsSeen.add(`${p.variant}:${p.step}`);
      },
      onVariant: (v) => variants.push(v.name),
      onEngine: (i) => {
        engine = i.backend;
      },
    });
    parseRun(run);
    assert.equal(run.status, 'ok');
    assert.equal(engine, 'wasm');
    assert.deepEqual(variants, ['spatial', 'spatial-equivalent', 'seed', 'optimized']);
    for (const p of ['prepare', 'warm-up', 'per-step', 'end-to-end', 'layer-only', 'check'])
      assert.ok(phases.has(p), p);
    // the per-step phase names the step being timed (the first of each variant is never throttled away)
    assert.ok(stepsSeen.has('spatial:conv2d'), [...stepsSeen].join(', '));
    assert.ok([...stepsSeen].some((s) => s.startsWith('seed:')));
  } finally {
    c.dispose();
  }
});

test('memory above the budget is refused before anything is allocated', async () => {
  const c = new WorkerClient({ workerPath: WORKER });
  try {
    await assert.rejects(
      c.run(SMALL, { ...OPTS, maxMemoryBytes: 1000 }),
      (e: unknown) => e instanceof WorkerError && e.kind === 'memory' && /above the budget/.test(e.message),
    );
  } finally {
    c.dispose();
  }
});

test('a spec that fits the budget but not the 4 GiB WebAssembly heap is refused with both numbers', async () => {
  const c = new WorkerClient({ workerPath: WORKER });
  try {
    const big = spec({ batch: 256, height: 128, width: 128, outChannels: 64, kernelH: 5, kernelW: 5, padding: 'same' });
    await assert.rejects(
      c.run(big, { ...OPTS, maxMemoryBytes: 64e9 }),
      (e: unknown) =>
        e instanceof WorkerError &&
        e.kind === 'memory' &&
        /does not fit the 4\.29 GB heap of the wasm engine/.test(e.message),
    );
  } finally {
    c.dispose();
  }
});

test('cancel stops the run within 1 s and keeps the variants already measured', async () => {
  const c = new WorkerClient({ workerPath: WORKER });
  try {
    const ac = new AbortController();
    let abortedAt = 0;
    const run = await c.run(
      spec(),
      { ...OPTS, reps: 40, warmup: 2 },
      {
        signal: ac.signal,
        onVariant: (v) => {
          if (v.name === 'spatial-equivalent' && !abortedAt) {
            abortedAt = Date.now();
            ac.abort();
          }
        },
      },
    );
    const took = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'aborted');
    assert.equal(run.status, 'cancelled');
    assert.ok(took < 1000, `stopped after ${took} ms`);
    assert.deepEqual(
      run.variants.map((v) => v.name),
      ['spatial', 'spatial-equivalent'],
    );
    parseRun(run);
  } finally {
    c.dispose();
  }
});

test('a worker killed with SIGKILL mid-run gives a clear error, and the next run works', async () => {
  const c = new WorkerClient({ workerPath: WORKER });
  try {
    let killedPid: number | undefined;
    await assert.rejects(
      c.run(
        spec(),
        { ...OPTS, reps: 20 },
        {
          onProgress: (p) => {
            if (p.phase === 'per-step' && !killedPid) {
              killedPid = c.pid;
              process.kill(killedPid!, 'SIGKILL');
            }
          },
        },
      ),
      (e: unknown) =>
        e instanceof WorkerError &&
        e.kind === 'crashed' &&
        /killed by SIGKILL/.test(e.message) &&
        /next run starts a fresh worker/.test(e.message),
    );
    const run = await c.run(SMALL, { ...OPTS, variants: ['optimized'] });
    assert.equal(run.status, 'ok');
    assert.notEqual(c.pid, killedPid);
  } finally {
    c.dispose();
  }
});

test('cancel during one long kernel kills the worker after the grace period and still keeps the results', async () => {
  const c = new WorkerClient({ workerPath: WORKER, cancelGraceMs: 300 });
  try {
    const ac = new AbortController();
    let abortedAt = 0;
    let pidBefore: number | undefined;
    let scheduled = false;
    // On the cpu backend spatial-equivalent's 28×28 conv2d is one second-long kernel: the worker cannot
    // look at its messages until it ends, so the client must stop it.
    const run = await c.run(
      spec({ batch: 32 }),
      { ...OPTS, engine: 'cpu', variants: ['spatial', 'spatial-equivalent'], warmup: 0, reps: 1 },
      {
        signal: ac.signal,
        onProgress: (p) => {
          // Its first per-step event is the quick wrap padding; the 1.4 s conv2d starts right after it
          // (progress is throttled, so its own event may never come): abort 200 ms into the kernel.
          if (p.variant === 'spatial-equivalent' && p.phase === 'per-step' && !scheduled) {
            scheduled = true;
            setTimeout(() => {
              abortedAt = Date.now();
              pidBefore = c.pid;
              ac.abort();
            }, 200);
          }
        },
      },
    );
    const took = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'reached the long step');
    assert.equal(run.status, 'cancelled');
    assert.ok(took < 1000, `stopped after ${took} ms`);
    assert.deepEqual(
      run.variants.map((v) => v.name),
      ['spatial'],
    );
    parseRun(run);
    const next = await c.run(SMALL, { ...OPTS, variants: ['spatial'] });
    assert.equal(next.status, 'ok');
    assert.notEqual(c.pid, pidBefore);
  } finally {
    c.dispose();
  }
});
