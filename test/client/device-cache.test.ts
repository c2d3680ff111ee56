/**
 * The probe cache: one probe per setup that changes the rates — another interpreter, thread count or TF mode gets its
 * own file, and a cached probe measured on another device name (another torch, other threads) than the run reports is
 * measured again rather than reused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceFor, needsProbe } from '../../src/client/device-cache';
import type { WorkerClient } from '../../src/client/client';
import type { Probe } from '../../src/core/model';
import { tempDir } from '../helpers';

function probe(device: string, gemm: number): Probe {
  const pt = [{ inner: 1, gflops: 1 }];
  return {
    backend: 'torch-cpu',
    device,
    gemmGflops: gemm,
    bmm: pt,
    conv: pt,
    fftGflops: 1,
    ifftGflops: 1,
    elementwiseGBs: 1,
    pad: pt,
    copyGBs: 1,
    overheadUs: 1,
    measuredAt: '2026-12-02T00:00:00.000Z',
    seconds: 1,
    reps: 3,
  };
}

/**
 * A client whose probe answers with the next device/rate and counts the calls; its engine information names the
 * device each interpreter and thread count reports (the torch behind /envs/a is 1.13, /envs/b 2.13).
 */
function fakeClient(answers: Probe[]): { client: WorkerClient; calls: () => number; asked: () => number } {
  let n = 0;
  let asked = 0;
  const client = {
    probe: async () => ({ probe: answers[n++]!, info: {} }),
    engineInfo: async (e: { python?: Array<{ path: string }>; threads?: number }) => {
      asked++;
      const v = e.python?.[0]?.path.includes('/a/') ? '1.13.0' : '2.13.0';
      const t = e.threads ?? 1;
      return { engine: 'torch', backend: 'cpu', device: `CPU via PyTorch ${v} (${t} thread${t === 1 ? '' : 's'})` };
    },
  } as unknown as WorkerClient;
  return { client, calls: () => n, asked: () => asked };
}

test('probes are cached per interpreter, thread count and device name; another setup is measured again', async () => {
  const dir = tempDir('fconv-probe-cache-');
  const a = { engine: 'torch' as const, python: [{ path: '/envs/a/bin/python', from: '--python' }], threads: 1 };
  const b = { ...a, python: [{ path: '/envs/b/bin/python', from: '--python' }] };
  const { client, calls } = fakeClient([
    probe('CPU via PyTorch 1.13.0 (1 thread)', 3.5),
    probe('CPU via PyTorch 2.13.0 (1 thread)', 150),
    probe('CPU via PyTorch 2.13.0 (2 threads)', 290),
    probe('CPU via PyTorch 1.13.0 (1 thread)', 3.6),
  ]);
  const first = await deviceFor(client, a, '1.0.0', { dir, engineId: 'torch-cpu' });
  assert.equal(calls(), 1);
  // The same setup: the cache.
  const again = await deviceFor(client, a, '1.0.0', { dir, engineId: 'torch-cpu' });
  assert.equal(calls(), 1);
  assert.equal(again.device.probe!.gemmGflops, first.device.probe!.gemmGflops);
  assert.match(again.note, /cached probe/);
  // Another interpreter: its own probe, not the first one's 3.5 GFLOP/s.
  const other = await deviceFor(client, b, '1.0.0', { dir, engineId: 'torch-cpu' });
  assert.equal(calls(), 2);
  assert.equal(other.device.probe!.gemmGflops, 150);
  // Other threads: its own file too.
  assert.equal(needsProbe({ ...b, threads: 2 }, '1.0.0', { dir, engineId: 'torch-cpu' }), true);
  const two = await deviceFor(client, { ...b, threads: 2 }, '1.0.0', { dir, engineId: 'torch-cpu' });
  assert.equal(two.device.probe!.gemmGflops, 290);
  // A run that reports another device than the cached probe's (the interpreter behind the same path changed):
  // measured again.
  assert.equal(
    needsProbe(a, '1.0.0', { dir, engineId: 'torch-cpu', engineDevice: 'CPU via PyTorch 2.13.0 (1 thread)' }),
    true,
  );
  assert.equal(
    needsProbe(a, '1.0.0', { dir, engineId: 'torch-cpu', engineDevice: 'CPU via PyTorch 1.13.0 (1 thread)' }),
    false,
  );
  const changed = await deviceFor(client, a, '1.0.0', {
    dir,
    engineId: 'torch-cpu',
    engineDevice: 'CPU via PyTorch 1.13.0 (2 threads)',
  });
  assert.equal(calls(), 4);
  assert.match(changed.note, /probed this machine/);
});

test('a command with no run yet (sweep, predict, probe) asks the worker which engine the choice is: the same key as a profile', async () => {
  const dir = tempDir('fconv-probe-key-');
  const a = { engine: 'torch' as const, python: [{ path: '/envs/a/bin/python', from: '--python' }], threads: 1 };
  const { client, calls, asked } = fakeClient([probe('CPU via PyTorch 1.13.0 (1 thread)', 3.5)]);
  // The profile knows its run's engine and device: no question.
  await deviceFor(client, a, '1.0.0', {
    dir,
    engineId: 'torch-cpu',
    engineDevice: 'CPU via PyTorch 1.13.0 (1 thread)',
  });
  assert.deepEqual([calls(), asked()], [1, 0]);
  // The sweep does not: it asks, gets torch-cpu, and reads the profile's probe.
  const sweep = await deviceFor(client, a, '1.0.0', { dir });
  assert.deepEqual([calls(), asked()], [1, 1]);
  assert.match(sweep.note, /cached probe .*probe-v7-torch-cpu-/);
});
