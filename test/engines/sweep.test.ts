import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sweepSchema } from '../../src/core/insight-schema';
import { WorkerClient } from '../../src/client/client';
import { runSweep } from '../../src/client/sweep-runner';
import { CPU } from '../fixtures';
import { WORKER, spec } from '../helpers';

const RUN = { engine: 'wasm' as const, warmup: 0, reps: 2, seed: 1, maxMemoryBytes: 4e9 };

test('a cancelled sweep keeps the finished cells, marks the rest, and still validates', async () => {
  const client = new WorkerClient({ workerPath: WORKER });
  try {
    const ac = new AbortController();
    const base = spec({ batch: 4, height: 16, width: 16, outChannels: 8 });
    const sw = await runSweep(
      client,
      base,
      { kernels: [3, 5, 7, 9, 11], channels: [{ inChannels: 1, outChannels: 8 }], run: RUN, device: CPU },
      {
        signal: ac.signal,
        onCell: (line) => {
          if (/^sweep k = +5, /.test(line)) ac.abort();
        },
      },
    );
    sweepSchema.parse(sw);
    assert.equal(sw.status, 'cancelled');
    assert.deepEqual(
      sw.cells.map((c) => c.kernel),
      [3, 5, 7, 9, 11],
      'every cell listed',
    );
    const done = sw.cells.filter((c) => c.measuredWinner !== null);
    assert.deepEqual(
      done.map((c) => c.kernel),
      [3, 5],
      'the measured cells are kept',
    );
    assert.ok(
      sw.cells.slice(2).every((c) => c.spatialMs === null && /cancel/.test(c.note ?? '')),
      'the rest are marked not run',
    );
    assert.ok(
      sw.cells.every((c) => c.predictedSpatialMs > 0 && c.predictedSpectralMs > 0),
      'predictions for every cell',
    );
    // the worker is still usable afterwards
    const again = await runSweep(client, base, {
      kernels: [3],
      channels: [{ inChannels: 1, outChannels: 8 }],
      run: RUN,
      device: CPU,
    });
    assert.equal(again.status, 'ok');
    assert.equal(again.crossover?.measured === null || again.crossover?.measured === 3, true);
  } finally {
    client.dispose();
  }
});
