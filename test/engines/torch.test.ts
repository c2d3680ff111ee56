/**
 * The PyTorch engine on the real torch of this machine (Debian's python3-torch, CI installs it): every
 * variant against its reference on random shapes, the plans it ran, timing, cancel, a killed Python,
 * interpreters that cannot run it, and a protocol that refuses what it cannot parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flipKernel, makeLayerData, rng } from '../../src/core/data';
import { loopPolicy } from '../../src/core/loop-policy';
import { correlateAt, equivalentCorrelation, lossWeights, maxAbs, maxAbsDiff } from '../../src/core/reference';
import { parseRun } from '../../src/core/run';
import { PADDINGS, geometry } from '../../src/core/spec';
import { allSteps, planVariant, torchTraits } from '../../src/core/variants';
import { WorkerClient, WorkerError } from '../../src/client/client';
import { profile } from '../../src/engines/profiler';
import { toChromeTrace } from '../../src/core/trace';
import { tryInterpreter } from '../../src/engines/python/discovery';
import { TORCH } from '../../src/engines/torch/framework';
import { cudnnAlgorithmOf } from '../../src/engines/torch/cudnn';
import { TorchEngine } from '../../src/engines/torch/framework';
import { PythonProcess } from '../../src/engines/python/process';
import { CLI, WORKER, randomEngineSpec, spec, tempDir, torchPython } from '../helpers';

const ALL = ['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const;
const QUICK = { variants: [...ALL], warmup: 0, reps: 1, seed: 1, adaptiveBudgetMs: 0 };

/** The interpreter with torch that discovery finds here (CI: /usr/bin/python3 with python3-torch). */
const found = torchPython();
assert.ok(found, 'a Python with torch is installed (the CI installs python3-torch)');
const PY = found;

test('on torch every variant equals its spatial reference on random shapes (all paddings, both layouts), and runs its plan', async () => {
  const engine = await TorchEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu' });
  try {
    assert.equal(engine.name, 'torch');
    assert.equal(engine.backend, 'cpu');
    const r = rng(21);
    for (let i = 0; i < 24; i++) {
      const s = randomEngineSpec(r, i);
      const run = await profile(engine, s, { ...QUICK, seed: i + 1 });
      parseRun(JSON.parse(JSON.stringify(run)));
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      assert.equal(run.framework?.name, 'torch');
      for (const v of run.variants) {
        assert.ok(v.correct, `${v.name} wrong for ${JSON.stringify(s)}: ${v.maxAbsError}`);
        const plan = allSteps(planVariant(v.name, s, torchTraits('cpu')));
        assert.deepEqual(
          v.steps.map((x) => [x.id, x.kind, x.category, x.flops, x.bytes, x.inLayer, x.oneOff]),
          plan.map((x) => [x.id, x.kind, x.category, x.flops, x.bytes, x.inLayer, x.oneOff]),
          `${v.name} plan for ${JSON.stringify(s)}`,
        );
        for (const st of v.steps) assert.match(st.implementation, /\S/, `${v.name}/${st.id} says how it ran`);
        // Outside the layer every spectral variant transforms with torch.fft (issue 15's fair end to end).
        if (v.kind === 'spectral')
          for (const st of v.steps.filter((x) => !x.inLayer && /transform/.test(x.category ?? '')))
            assert.match(st.implementation, /torch\.fft\.i?rfft2/, `${v.name}/${st.id}`);
      }
    }
  } finally {
    engine.shutdown();
  }
});

test('torch timings are complete and sane: per-step samples, end to end, layer only, and their sources', async () => {
  const engine = await TorchEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    const s = spec({ batch: 4, height: 16, width: 16, inChannels: 2, outChannels: 4, kernelH: 16, kernelW: 16 });
    const run = await profile(engine, s, { ...QUICK, warmup: 1, reps: 5 });
    assert.equal(run.status, 'ok', run.failure);
    const opt = run.variants.find((v) => v.name === 'optimized')!;
    assert.ok(
      opt.steps.find((st) => st.id === 'irfft2d')!.kernels!.some((k) => /fft/.test(k.name)),
      'irfft2d ran an FFT op',
    );
    assert.ok(
      opt.steps.find((st) => st.id === 'multiply')!.kernels!.some((k) => /bmm/.test(k.name)),
      'the product ran bmm',
    );
    const trace = toChromeTrace(run);
    assert.ok(
      trace.traceEvents.some((e) => e.cat === 'op' && /aten::/.test(e.name)),
      'the ops nest under their steps in trace.json',
    );
    assert.deepEqual(run.framework, { name: 'torch', version: run.framework!.version, device: 'cpu', threads: 1 });
    assert.match(run.device, /CPU via PyTorch .* \(1 thread\)/);
    // End to end in two passes, the second in reverse order, merged: drift over the run hits every variant alike.
    assert.ok(
      run.engineNotes.some((n) => /timed in two passes .* then in reverse/.test(n)),
      run.engineNotes.join('\n'),
    );
    for (const v of run.variants) assert.equal(v.totalMs.reps % 2, 0, `${v.name}: both passes' samples`);
    for (const v of run.variants) {
      assert.equal(v.totalMs.timing, 'wall-clock-sync');
      // The engine keeps freed memory (mallopt): its timed calls map nothing in again.
      assert.ok(v.minorFaultsPerCall !== undefined, `${v.name}: page faults per call measured`);
      assert.ok(v.minorFaultsPerCall < 200, `${v.name}: ${v.minorFaultsPerCall} page faults per call`);
      assert.ok(v.totalMs.reps >= 5 && v.totalMs.samples.length === v.totalMs.reps);
      assert.ok(v.totalMs.median > 0 && v.totalMs.median < 1000);
      for (const st of v.steps) {
        assert.ok(st.samples.length >= 1 && st.samples.every((x) => x >= 0 && Number.isFinite(x)));
        assert.ok(st.p10 <= st.median && st.median <= st.p90);
      }
      if (v.kind === 'spectral') assert.ok(v.layerMs && v.layerMs.median <= v.totalMs.median * 1.5);
      // One profiled pass says which framework ops each step ran.
      const perCall = v.steps.filter((st) => !st.oneOff);
      assert.ok(
        perCall.every((st) => st.kernels?.length),
        `${v.name}: every step lists its ops`,
      );
      // The steps timed one by one add up to about the end-to-end time (generous: tiny ops, a shared CPU).
      assert.ok(v.stepSumMs < 5 * v.totalMs.median + 0.5, `${v.name}: steps ${v.stepSumMs} vs ${v.totalMs.median}`);
    }
  } finally {
    engine.shutdown();
  }
});

test('an interpreter that is not a Python, has no torch, or a torch older than 1.8 is named with what to do', async () => {
  const dir = tempDir('fconv-fakepy-');
  const fake = (name: string, body: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return p;
  };
  const hello = (over: object) =>
    JSON.stringify({
      type: 'hello',
      protocol: 1,
      python: '3.8.10',
      executable: '/opt/py/bin/python',
      framework: 'torch',
      version: null,
      importError: null,
      cuda: false,
      cudaVersion: null,
      cudnn: null,
      gpus: [],
      threads: null,
      ...over,
    });
  const notPython = fake('not-python', 'echo "this is not python"');
  const noTorch = fake('no-torch', `echo '${hello({ importError: "ModuleNotFoundError: No module named 'torch'" })}'`);
  const old = fake('old-torch', `echo '${hello({ version: '1.7.1', threads: 1, hasFft: false })}'`);
  assert.match(
    (await tryInterpreter({ path: notPython, from: '--python' }, TORCH)).problem!,
    /not a Python that can run the worker/,
  );
  assert.match(
    (await tryInterpreter({ path: noTorch, from: '--python' }, TORCH)).problem!,
    /no torch \(ModuleNotFoundError.*\); install it: \/opt\/py\/bin\/python -m pip install torch/,
  );
  assert.match(
    (await tryInterpreter({ path: old, from: '--python' }, TORCH)).problem!,
    /torch 1\.7\.1 is older than 1\.8 \(no torch\.fft\); upgrade/,
  );
  // On the command line: one line, exit 2, nothing written.
  for (const [py, want] of [
    [notPython, /engine torch is not available with .*not-python: not a Python/],
    [noTorch, /engine torch is not available with .*no-torch: no torch/],
    [old, /older than 1\.8/],
    [path.join(dir, 'missing'), /--python .*missing: no such file/],
  ] as const) {
    const out = path.join(dir, 'o');
    const r = spawnCli([
      'profile',
      '--engine',
      'torch',
      '--python',
      py,
      '--out-dir',
      out,
      '--batch',
      '2',
      '--height',
      '8',
      '--width',
      '8',
    ]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, want);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const cuda = spawnCli([
    'profile',
    '--engine',
    'torch',
    '--python',
    PY,
    '--torch-device',
    'cuda',
    '--out-dir',
    path.join(dir, 'o'),
  ]);
  assert.equal(cuda.code, 2, cuda.err);
  assert.match(cuda.err, /--torch-device cuda: torch .* has no CUDA \(torch\.cuda\.is_available\(\) is False/);
});

/** The CLI, with a probe cache of its own (`cache`, else a fresh one). */
function spawnCli(args: string[], cache = tempDir('fconv-torchcache-')) {
  const r = require('node:child_process').spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, FCONV_CACHE_DIR: cache },
  });
  return { code: r.status as number | null, out: r.stdout as string, err: r.stderr as string };
}

test('lines from Python that are not protocol messages are rejected and logged, never acted on', async () => {
  const dir = tempDir('fconv-fakepy-');
  const script = path.join(dir, 'noisy.py');
  // A stand-in worker: says hello, then answers a probe with garbage first, a wrong shape, then the answer.
  fs.writeFileSync(
    script,
    [
      'import json, sys',
      'print(json.dumps({"type":"hello","protocol":1,"python":"3","executable":"x","framework":"torch","version":"2.0","importError":None,"cuda":False,"cudaVersion":None,"cudnn":None,"gpus":[],"threads":1}), flush=True)',
      'req = json.loads(sys.stdin.readline())',
      'print("Warning: something chatty", flush=True)',
      'print(json.dumps({"type":"probe","id":req["id"],"probe":{"gemmGflops":"fast"}}), flush=True)',
      'print(json.dumps({"type":"error","id":req["id"],"kind":"internal","message":"it broke"}), flush=True)',
    ].join('\n'),
  );
  const previous = process.env.FCONV_PYTHON_WORKER;
  process.env.FCONV_PYTHON_WORKER = script;
  try {
    const py = new PythonProcess(PY, TORCH);
    await py.hello;
    await assert.rejects(py.request({ type: 'probe' }, 'probe'), /it broke/);
    assert.ok(
      py.rejected.some((r) => /not JSON.*Warning: something chatty/.test(r)),
      py.rejected.join('\n'),
    );
    assert.ok(
      py.rejected.some((r) => /malformed message from Python/.test(r)),
      py.rejected.join('\n'),
    );
    py.close();
  } finally {
    if (previous === undefined) delete process.env.FCONV_PYTHON_WORKER;
    else process.env.FCONV_PYTHON_WORKER = previous;
  }
});

test('a Python process that hangs (no heartbeat) is killed and named within its watchdog time', async () => {
  const dir = tempDir('fconv-fakepy-');
  const script = path.join(dir, 'hangs.py');
  fs.writeFileSync(
    script,
    [
      'import json, sys, time',
      'print(json.dumps({"type":"hello","protocol":1,"python":"3","executable":"x","framework":"torch","version":"2.0","importError":None,"cuda":False,"cudaVersion":None,"cudnn":None,"gpus":[],"threads":1}), flush=True)',
      'sys.stdin.readline()',
      'time.sleep(60)',
    ].join('\n'),
  );
  const previous = process.env.FCONV_PYTHON_WORKER;
  process.env.FCONV_PYTHON_WORKER = script;
  try {
    const py = new PythonProcess(PY, TORCH, { hangMs: 800 });
    await py.hello;
    const t0 = Date.now();
    await assert.rejects(
      py.request({ type: 'probe' }, 'probe'),
      /stopped responding \(no heartbeat for \d\.\d s\); it was killed/,
    );
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(py.alive, false);
    // Killed for real, not only given up on.
    assert.throws(() => process.kill(py.pid!, 0), /ESRCH/);
  } finally {
    if (previous === undefined) delete process.env.FCONV_PYTHON_WORKER;
    else process.env.FCONV_PYTHON_WORKER = previous;
  }
});

test('a blocked event loop on this side is not a hang: the beats sent meanwhile are read, the answer arrives', async () => {
  const dir = tempDir('fconv-fakepy-');
  const script = path.join(dir, 'beats.py');
  fs.writeFileSync(
    script,
    [
      'import json, sys, time, threading',
      'print(json.dumps({"type":"hello","protocol":1,"python":"3","executable":"x","framework":"torch","version":"2.0","importError":None,"cuda":False,"cudaVersion":None,"cudnn":None,"gpus":[],"threads":1}), flush=True)',
      'req = json.loads(sys.stdin.readline())',
      'def beat():',
      '    while True:',
      '        print(json.dumps({"type":"heartbeat"}), flush=True)',
      '        time.sleep(0.2)',
      'threading.Thread(target=beat, daemon=True).start()',
      'time.sleep(3)',
      'print(json.dumps({"type":"error","id":req["id"],"kind":"internal","message":"answered after 3 s"}), flush=True)',
      'time.sleep(5)',
    ].join('\n'),
  );
  const previous = process.env.FCONV_PYTHON_WORKER;
  process.env.FCONV_PYTHON_WORKER = script;
  try {
    const py = new PythonProcess(PY, TORCH, { hangMs: 1000 });
    await py.hello;
    const answer = py.request({ type: 'probe' }, 'probe');
    // 2 s of synchronous work here (twice the watchdog time): the beats pile up in the pipe meanwhile.
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      /* blocked */
    }
    await assert.rejects(answer, /answered after 3 s/);
    py.kill();
  } finally {
    if (previous === undefined) delete process.env.FCONV_PYTHON_WORKER;
    else process.env.FCONV_PYTHON_WORKER = previous;
  }
});

test('the Python worker refuses a malformed request by name and keeps serving', async () => {
  const py = spawn(PY, ['-u', path.join(__dirname, '..', '..', 'python', 'fconv_worker.py'), 'torch'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const lines = () =>
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; id?: string | null; kind?: string; message?: string });
  py.stdout.on('data', (d: Buffer) => (out += d.toString()));
  py.stdin.write('this is not json\n');
  py.stdin.write(`${JSON.stringify({ type: 'load', id: 'l1', spec: { batch: -1 } })}\n`);
  py.stdin.write(
    `${JSON.stringify({ type: 'measure', id: 'm1', variant: 'seed', plan: { oneOff: [], steps: [] } })}\n`,
  );
  const until = Date.now() + 30_000;
  while (lines().filter((l) => l.type === 'error').length < 3 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50));
  py.stdin.end();
  await new Promise((r) => py.on('exit', r));
  const got = lines();
  assert.equal(got[0]!.type, 'hello');
  assert.ok(
    got.some((l) => l.type === 'error' && l.id === null && /rejected malformed request/.test(l.message!)),
    out,
  );
  assert.ok(
    got.some(
      (l) =>
        l.type === 'error' &&
        l.id === 'l1' &&
        l.kind === 'protocol' &&
        /spec\.batch must be a positive integer/.test(l.message!),
    ),
    out,
  );
  assert.ok(
    got.some((l) => l.type === 'error' && l.id === 'm1' && /load a layer first/.test(l.message!)),
    out,
  );
});

/** The pids of a process's children. */
function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number)
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Running (a zombie waiting for its reaper has exited). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const SLOW = spec({ batch: 8, height: 48, width: 48, inChannels: 16, outChannels: 16, kernelH: 48, kernelW: 48 });
const SLOW_OPTS = {
  engine: 'torch' as const,
  python: [{ path: PY, from: 'test' }],
  variants: [...ALL],
  warmup: 2,
  reps: 30,
  seed: 1,
  maxMemoryBytes: 4e9,
};

test('a cancel stops the torch run within a second and keeps what was measured; the worker and Python survive it', async () => {
  const client = new WorkerClient({ workerPath: WORKER });
  try {
    const ac = new AbortController();
    let cancelledAt = 0;
    const pending = client.run(SLOW, SLOW_OPTS, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.variant === 'seed' && !cancelledAt) {
          cancelledAt = Date.now();
          ac.abort();
        }
      },
    });
    const run = await pending;
    const ms = Date.now() - cancelledAt;
    assert.equal(run.status, 'cancelled');
    assert.ok(ms < 1000, `cancel took ${ms} ms`);
    assert.ok(run.variants.length >= 2, 'the spatial variants are kept');
    assert.equal(run.engine, 'torch');
  } finally {
    client.dispose();
  }
});

test('a Python process killed mid-run fails the run with a clear error within a second; the next run starts a fresh one', async () => {
  const client = new WorkerClient({ workerPath: WORKER });
  try {
    let killed = 0,
      pyPid = 0;
    const failed = await client
      .run(SLOW, SLOW_OPTS, {
        onProgress: (p) => {
          if (killed || p.variant !== 'spatial-equivalent') return;
          pyPid = children(client.pid!)[0]!;
          killed = Date.now();
          process.kill(pyPid, 'SIGKILL');
        },
      })
      .then(
        (r) => r,
        (e: unknown) => e,
      );
    const ms = Date.now() - killed;
    assert.ok(failed instanceof WorkerError || (failed as { status?: string }).status === 'failed', String(failed));
    const message = failed instanceof Error ? failed.message : (failed as { failure: string }).failure;
    assert.match(message, /the Python process .* was killed by SIGKILL/);
    assert.ok(ms < 1000, `reported ${ms} ms after the kill`);
    const next = await client.run(spec({ batch: 2, height: 8, width: 8, kernelH: 8, kernelW: 8, outChannels: 2 }), {
      ...SLOW_OPTS,
      warmup: 0,
      reps: 1,
    });
    assert.equal(next.status, 'ok', next.failure);
    assert.notEqual(children(client.pid!)[0], pyPid, 'a fresh Python process');
    assert.ok(!alive(pyPid));
  } finally {
    client.dispose();
  }
});

test('the Python process exits with its engine worker, however the worker ends', async () => {
  const client = new WorkerClient({ workerPath: WORKER });
  const pending = client.run(SLOW, SLOW_OPTS, {}).catch(() => undefined);
  const until = Date.now() + 30_000;
  let py: number | undefined;
  while (!py && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    py = client.pid ? children(client.pid)[0] : undefined;
  }
  assert.ok(py, 'a Python process under the worker');
  await new Promise((r) => setTimeout(r, 500));
  process.kill(client.pid!, 'SIGKILL');
  await pending;
  const deadline = Date.now() + 1500;
  while (alive(py) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(py), 'Python left with its parent (stdin closed)');
  client.dispose();
});

test('the cuDNN algorithm of a torch convolution, from the kernels torch.profiler saw', () => {
  const k = (name: string) => ({ name, device: 'cuda' as const, ms: 1 });
  assert.equal(cudnnAlgorithmOf([k('void fft2d_r2c_32x32<float, false, 1u, true>(...)')]), 'FFT');
  assert.equal(
    cudnnAlgorithmOf([k('void cudnn::winograd_nonfused::winogradForwardData4x4<float, float>(...)')]),
    'WINOGRAD_NONFUSED',
  );
  assert.equal(
    cudnnAlgorithmOf([k('void implicit_convolve_sgemm<float, float, 128, 5, 5, 3, 3, 3, 1, false, false, true>(...)')]),
    'IMPLICIT_GEMM',
  );
  assert.equal(
    cudnnAlgorithmOf([k('sm80_xmma_fprop_implicit_gemm_indexed_tf32f32_tf32f32_f32_nhwckrsc_nchw')]),
    'IMPLICIT_GEMM',
  );
  assert.equal(cudnnAlgorithmOf([{ name: 'aten::conv2d', device: 'cpu', ms: 1 }]), undefined);
  assert.equal(cudnnAlgorithmOf([k('void at::native::elementwise_kernel<128, 2>(...)')]), undefined);
});

test('the training step on torch: every spectral variant gradient equals spatial-equivalent, per-step backward for every step, all paddings and layouts', async () => {
  const engine = await TorchEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    const r = rng(33);
    for (let i = 0; i < 8; i++) {
      const s = randomEngineSpec(r, i);
      const run = await profile(engine, s, { ...QUICK, seed: i + 1, pass: 'both' });
      parseRun(JSON.parse(JSON.stringify(run)));
      assert.equal(run.status, 'ok', `${JSON.stringify(s)}: ${run.failure}`);
      assert.equal(run.settings.pass, 'both');
      for (const v of run.variants) {
        const t = v.train!;
        assert.ok(t, `${v.name}: a training step`);
        assert.ok(t.totalMs.median > 0 && t.backwardMs.median > 0 && t.backwardMs.median < t.totalMs.median * 1.5);
        // One backward step per step of the call, the one-off ones included (made per step while training).
        const plan = allSteps(planVariant(v.name, s, torchTraits('cpu')));
        assert.deepEqual(
          t.steps.map((x) => x.id),
          plan.map((x) => `${x.id}.backward`),
        );
        assert.ok(t.steps.every((x) => x.pass === 'backward' && x.median >= 0));
        if (v.name === 'seed' || v.name === 'optimized') {
          assert.deepEqual(
            t.gradients.map((g) => g.name),
            ['input', 'kernel'],
          );
          assert.ok(
            t.gradients.every((g) => g.correct && g.reference === "spatial-equivalent's gradient"),
            `${v.name} ${JSON.stringify(s)}: ${JSON.stringify(t.gradients)}`,
          );
        }
        if (v.name === 'optimized') assert.match(t.notes.join(' '), /cannot be cached while the kernel trains/);
        if (v.name === 'spatial') assert.deepEqual(t.gradients, []);
      }
    }
  } finally {
    engine.shutdown();
  }
});

test("spatial-equivalent's input gradient on torch equals the naive convolution's (linear loss: dL/dx_k = L(e_k))", async () => {
  const engine = await TorchEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    for (const padding of PADDINGS) {
      const s = spec({ batch: 1, height: 5, width: 4, inChannels: 2, outChannels: 2, kernelH: 3, kernelW: 2, padding });
      const data = makeLayerData(s, 3);
      await engine.remote.load(s, data);
      const policy = loopPolicy(0, 1, 0);
      const t = await engine.remote.measureTrain!(planVariant('spatial-equivalent', s, torchTraits('cpu')), policy, {
        onProgress: () => {},
        isCancelled: () => false,
      });
      const corr = equivalentCorrelation(s);
      const w = flipKernel(data.kernel, s.kernelH, s.kernelW, s.inChannels, s.outChannels);
      const g = geometry(s);
      // The loss is sum(out ⊙ R): linear in x, so dL/dx_k = L(e_k), with R indexed in the output's layout.
      const R = lossWeights(g.outH * g.outW * s.outChannels);
      const at = (i: number, j: number, o: number) =>
        s.layout === 'NHWC' ? (i * g.outW + j) * s.outChannels + o : (o * g.outH + i) * g.outW + j;
      const naive = new Float32Array(data.input.length);
      for (let k = 0; k < naive.length; k++) {
        const e = new Float32Array(data.input.length);
        e[k] = 1;
        let sum = 0;
        for (let i = 0; i < g.outH; i++)
          for (let j = 0; j < g.outW; j++)
            for (let o = 0; o < s.outChannels; o++) sum += R[at(i, j, o)]! * correlateAt(corr, e, w, 0, i, j, o);
        naive[k] = sum;
      }
      const got = t.gradients.input!;
      assert.equal(got.length, naive.length);
      assert.ok(maxAbsDiff(got, naive) <= 1e-4 * Math.max(1, maxAbs(naive)), `${padding}: ${maxAbsDiff(got, naive)}`);
    }
  } finally {
    engine.shutdown();
  }
});

test('a cancel during the training step keeps the forward pass of that variant, measured and checked', async () => {
  const engine = await TorchEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    let cancel = false;
    let checked = false;
    const run = await profile(
      engine,
      spec({ batch: 16, height: 28, width: 28, kernelH: 28, kernelW: 28, outChannels: 16 }),
      { ...QUICK, variants: ['spatial-equivalent', 'seed'], reps: 200, pass: 'both' },
      {
        isCancelled: () => cancel,
        onProgress: (p) => {
          // The seed's forward is measured and checked; its training step starts after the check.
          if (p.variant === 'seed' && p.phase === 'check') checked = true;
          else if (checked && p.variant === 'seed') cancel = true;
        },
      },
    );
    assert.equal(run.status, 'cancelled');
    const seed = run.variants.find((v) => v.name === 'seed');
    assert.ok(seed, 'the forward pass of the variant whose training step was cancelled is kept');
    assert.ok(seed.correct && seed.totalMs.median > 0);
    assert.equal(seed.train, undefined);
    assert.ok(run.variants.find((v) => v.name === 'spatial-equivalent')!.train, 'the one before it is whole');
  } finally {
    engine.shutdown();
  }
});

test('a cuBLAS / cuDNN / cuFFT workspace that could not be allocated is a memory error, not an internal one', () => {
  const code = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'python'))})`,
    'import fconv_torch as f',
    'cases = ["CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`", "cuDNN error: CUDNN_STATUS_ALLOC_FAILED", "cuFFT error: CUFFT_ALLOC_FAILED", "CUDA out of memory. Tried to allocate 2.00 GiB", "shape mismatch"]',
    'print([f.is_oom(RuntimeError(c)) for c in cases])',
  ].join('\n');
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '[True, True, True, True, False]');
});

test('a sticky CUDA error (device-side assert, illegal address) is said, and ends the Python process so the next run gets a fresh context', () => {
  const code = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'python'))})`,
    'import fconv_worker as w',
    'class F:',
    '    IMPORT_ERROR = None',
    '    @staticmethod',
    '    def is_oom(e): return "out of memory" in str(e)',
    'cases = ["CUDA error: device-side assert triggered", "CUDA error: an illegal memory access was encountered", "CUDA error: unspecified launch failure", "CUDA out of memory. Tried to allocate 2.00 GiB", "shape mismatch", "illegal memory access in a C extension"]',
    'out = [w.failure(F, RuntimeError(c), "measure", "r1") for c in cases]',
    'print([s for _, s in out])',
    'print(out[0][0]["message"])',
    'print(out[3][0]["kind"])',
  ].join('\n');
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [flags, message, oomKind] = r.stdout.trim().split('\n');
  assert.equal(flags, '[True, True, True, False, False, False]');
  assert.match(
    message!,
    /^RuntimeError: CUDA error: device-side assert triggered \(a CUDA error that breaks the process's CUDA context: this Python process ends, the next run starts a fresh one\)$/,
  );
  assert.equal(oomKind, 'memory');
  // The worker ends itself after saying so (REAL_EXIT after the message, in its request loop).
  const src = fs.readFileSync(path.join(__dirname, '..', '..', 'python', 'fconv_worker.py'), 'utf8');
  assert.match(
    src,
    /err, sticky = failure\(fw, e, kind, rid\)\n\s+send\(err\)\n\s+if sticky:[\s\S]{0,200}REAL_EXIT\(4\)/,
  );
});

test('"driver too old" is kept: the warning torch gives when CUDA is unusable becomes the hello\'s cudaError', () => {
  // A stand-in torch.cuda.is_available that warns as torch does with a CUDA build newer than the driver.
  const code = [
    'import sys, warnings',
    `sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'python'))})`,
    'import fconv_torch as f',
    'def unavailable():',
    '    warnings.warn("CUDA initialization: The NVIDIA driver on your system is too old (found version 11040).", UserWarning)',
    '    return False',
    'f.torch.cuda.is_available = unavailable',
    'f.torch.version.cuda = "12.4"',
    'import json; print(json.dumps(f.hello_fields()))',
  ].join('\n');
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const hello = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cuda: boolean; cudaError?: string };
  assert.equal(hello.cuda, false);
  assert.match(hello.cudaError ?? '', /driver on your system is too old/);
});

test("CUDA timing on cuda:N: events recorded on that device's current stream, the pair made once (a stand-in torch.cuda)", () => {
  const code = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'python'))})`,
    'from fconv_protocol import cuda_event_timer',
    'log = []',
    'class Event:',
    '    made = 0',
    '    def __init__(self, enable_timing=False):',
    '        Event.made += 1; self.n = Event.made',
    '    def record(self, stream=None):',
    '        log.append(("record", self.n, stream))',
    '    def synchronize(self):',
    '        log.append(("sync", self.n))',
    '    def elapsed_time(self, other):',
    '        return 1.5',
    'class Cuda:',
    '    Event = Event',
    '    @staticmethod',
    '    def current_stream(device):',
    '        return "stream of %s" % device',
    'class Torch:',
    '    cuda = Cuda',
    'timed = cuda_event_timer(Torch, "cuda:1")',
    'vals = [timed(lambda: log.append(("work",)) or 7) for _ in range(3)]',
    'print(vals, Event.made, all(e[2] == "stream of cuda:1" for e in log if e[0] == "record"), log[:4])',
  ].join('\n');
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout.trim(),
    "[(7, 1.5), (7, 1.5), (7, 1.5)] 2 True [('record', 1, 'stream of cuda:1'), ('work',), ('record', 2, 'stream of cuda:1'), ('sync', 2)]",
  );
});

/** A tiny layer on the torch engine in the test's interpreter, forward only. */
const TINY_TORCH = ['--engine', 'torch', '--python', PY, '--height', '8', '--width', '8', '--no-progress'];

test('one probe cache for every command: profile and sweep on torch read the same rates (torch-cpu), measured once', () => {
  const cache = tempDir('fconv-onecache-');
  const p = spawnCli(
    ['profile', ...TINY_TORCH, '--batch', '1', '--pass', 'forward', '--out-dir', tempDir('fconv-oc-')],
    cache,
  );
  assert.equal(p.code, 0, p.err);
  assert.match(p.err, /device rates: probed this machine in .* on torch-cpu/);
  const s = spawnCli(
    ['sweep', ...TINY_TORCH, '--kernels', '3,5', '--reps', '2', '--out-dir', tempDir('fconv-os-')],
    cache,
  );
  assert.equal(s.code, 0, s.err);
  assert.match(s.err, /device rates: cached probe of .*probe-v7-torch-cpu-/);
  assert.equal(
    fs.readdirSync(cache).filter((f) => f.startsWith('probe-')).length,
    1,
    'one cached probe, not one per command',
  );
});

test('--crosscheck puts each variant beside torch.utils.benchmark of the same ops, in the run and its text', () => {
  const dir = tempDir('fconv-cross-');
  const r = spawnCli([
    'profile',
    ...TINY_TORCH,
    '--batch',
    '2',
    '--pass',
    'forward',
    '--crosscheck',
    '--no-model',
    '--out-dir',
    dir,
  ]);
  assert.equal(r.code, 0, r.err);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')));
  for (const v of run.variants) {
    assert.ok(v.crosscheckMs !== undefined && v.crosscheckMs > 0, `${v.name}: ${v.crosscheckMs}`);
    // Two clocks on the same ops of a shared 2-core machine: the same order of magnitude (the bench holds ±10 %).
    assert.ok(v.crosscheckMs < 5 * v.totalMs.median + 0.05 && v.totalMs.median < 5 * v.crosscheckMs + 0.05);
  }
  assert.match(r.out, /torch\.utils\.benchmark [\d.]+ (µs|ms) \(-?\d+ %\)/);
});

test('after the variants are timed: the reverse end-to-end pass first, then --compile, the profiled kernel pass last (no timing after a profiler session)', async () => {
  const engine = await TorchEngine.create({ python: [{ path: PY, from: 'test' }], device: 'cpu', threads: 1 });
  try {
    const order: string[] = [];
    const loop = engine.remote;
    const [measure, endToEnd, kernels, compiled] = [loop.measure, loop.endToEnd!, loop.kernels!, loop.compiled!];
    Object.assign(loop, {
      measure: (...a: Parameters<typeof measure>) => (order.push(`measure ${a[0].name}`), measure(...a)),
      endToEnd: (...a: Parameters<typeof endToEnd>) => (order.push(`end-to-end ${a[0].name}`), endToEnd(...a)),
      kernels: (...a: Parameters<typeof kernels>) => (order.push(`kernels ${a[0].name}`), kernels(...a)),
      compiled: (...a: Parameters<typeof compiled>) => (order.push(`compiled ${a[0].name}`), compiled(...a)),
    });
    const run = await profile(engine, spec({ batch: 1, height: 8, width: 8, kernelH: 8, kernelW: 8 }), {
      variants: ['spatial', 'seed', 'optimized'],
      warmup: 1,
      reps: 2,
      seed: 1,
      adaptiveBudgetMs: 0,
      compile: true,
    });
    assert.equal(run.status, 'ok', run.failure);
    assert.deepEqual(order, [
      'measure spatial',
      'measure seed',
      'measure optimized',
      'end-to-end optimized',
      'end-to-end seed',
      'end-to-end spatial',
      'compiled seed',
      'kernels spatial',
      'kernels seed',
      'kernels optimized',
    ]);
    // Half the per-step repetitions in each pass, merged: every step has as many as the end to end had in one pass.
    for (const v of run.variants) {
      const timed = v.steps.filter((s) => !s.oneOff);
      assert.ok(
        timed.every((s) => s.reps === v.totalMs.reps / 2 && s.samples.length === s.reps),
        `${v.name}: steps ${timed.map((s) => s.reps)} vs ${v.totalMs.reps} end-to-end calls`,
      );
      assert.ok(Math.abs(v.stepSumMs - timed.reduce((a, s) => a + s.median, 0)) < 1e-9);
    }
    assert.ok(run.engineNotes.some((n) => /^end to end and per step: each variant timed in two passes/.test(n)));
    // Debian's torch 1.13 has no torch.compile: the row says so, the run stands.
    assert.match(run.variants[1]!.compiled!.failed!, /has no torch\.compile/);
    assert.ok(
      run.variants.every((v) => v.steps.some((s) => s.kernels?.length)),
      'the kernels still reach the steps',
    );
  } finally {
    engine.shutdown();
  }
});
