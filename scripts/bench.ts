/**
 * `npm run bench`: the speed goals of the foundation, as ratios measured within one run.
 *   1. optimized ≥ 5x faster than seed, end to end — on the embedded engine (wasm) and on cpu;
 *   2. optimized ≥ 10x faster than spatial-equivalent at the seed's image-sized 28×28 kernel;
 *   3. Σ step medians within ±15 % of the un-instrumented end-to-end median, per variant;
 *   4. the default `fconv profile` ≤ 10 s wall on this machine;
 *   5. the cost model (after the probe) picks the faster of spatial and spectral in ≥ 90 % of the cells
 *      of a 7-kernel × 3-channel grid, and its step times are within 2x of the measured medians for
 *      ≥ 80 % of the steps (spatial-equivalent and optimized);
 *   6. the default `fconv sweep` ≤ 60 s wall (probe included);
 *   7. the scanner: a 5,000-line Python file scanned (parse + rules) in ≤ 50 ms once the parser is
 *      loaded, and re-scanned incrementally after a one-character edit (what the editor does).
 * `npm run bench -- --only scan` runs goal 7 alone; `--only keras` profile-layer on the question's Keras class.
 * `--only optimize`: fconv optimize on the FNO preset (issue 27). `--only compile`: profile --compile on it (issue 28).
 * Prints a table and writes bench-results.json. Exit code 0 whatever the outcome (goals are
 * reported, not asserted: timing belongs to benchmarks, not to tests).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmtMs } from '../src/core/format';
import { costOf, cpuProfile, estimateStep, ratesFor } from '../src/core/model';
import { predict } from '../src/core/predict';
import { DEFAULT_SPEC } from '../src/core/spec';
import { cellSpec } from '../src/core/sweep';
import { WorkerClient } from '../src/client/client';
import { planVariant } from '../src/core/variants';
import { profile as profileIn } from '../src/engines/profiler';
import { TorchEngine } from '../src/engines/torch/framework';
import { TensorflowEngine } from '../src/engines/tensorflow/framework';
import { fnoAgreement } from '../src/core/fno-model';
import { gainLine, gainsOf } from '../src/core/gains';
import type { FnoSweep } from '../src/core/insight-schema';
import { type Run, type VariantName, type VariantResult, parseRun } from '../src/core/run';
import { variantLabel } from '../src/core/glossary';
import { makeLayerData } from '../src/core/data';
import { layerProfileSchema } from '../src/core/layer-profile';
import { type OptimizeMeasured, choose, gains } from '../src/core/optimize';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Goal {
  goal: string;
  measured: string;
  target: string;
  met: boolean;
}

function profile(args: string[], env: NodeJS.ProcessEnv = process.env): { run: Run; wallMs: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-'));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'profile', '--no-progress', '--out-dir', dir, ...args], {
    encoding: 'utf8',
    env,
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`fconv profile ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const run = parseRun(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')));
  fs.rmSync(dir, { recursive: true, force: true });
  return { run, wallMs };
}

const v = (run: Run, name: string) => {
  const x = run.variants.find((y) => y.name === name);
  if (!x) throw new Error(`variant ${name} missing`);
  return x;
};

async function modelGoals(goals: Goal[]): Promise<unknown> {
  const client = new WorkerClient({ workerPath: path.join(ROOT, 'dist', 'worker.js') });
  try {
    const { probe } = await client.probe('wasm');
    const device = cpuProfile(probe);
    const rates = ratesFor(device);
    const base = { ...DEFAULT_SPEC, batch: 16, padding: 'same' as const };
    const kernels = [3, 5, 7, 9, 11, 15, 21];
    const channels = [
      [1, 32],
      [4, 16],
      [16, 16],
    ] as const;
    const cells: Array<{
      kernel: number;
      channels: string;
      spatialMs: number;
      spectralMs: number;
      predicted: string;
      measured: string;
      predictedSpatialMs: number;
      predictedSpectralMs: number;
    }> = [];
    let steps = 0,
      within = 0,
      timed = 0,
      timedWithin = 0;
    const misses: string[] = [];
    for (const [ci, co] of channels) {
      for (const k of kernels) {
        console.error(`bench: model grid k = ${k}, ${ci}→${co}…`);
        const spec = cellSpec(base, k, ci, co);
        const run = await client.run(spec, {
          engine: 'wasm',
          variants: ['spatial-equivalent', 'optimized'],
          warmup: 1,
          reps: 3,
          seed: 1,
          maxMemoryBytes: 4e9,
        });
        const sp = v(run, 'spatial-equivalent'),
          fp = v(run, 'optimized');
        const pred = predict(spec, device, 'wasm');
        cells.push({
          kernel: k,
          channels: `${ci}→${co}`,
          spatialMs: sp.totalMs.median,
          spectralMs: fp.totalMs.median,
          predicted: pred.winner,
          measured: fp.totalMs.median < sp.totalMs.median ? 'spectral' : 'spatial',
          predictedSpatialMs: pred.spatialMs,
          predictedSpectralMs: pred.spectralMs,
        });
        for (const x of [sp, fp])
          for (const st of x.steps) {
            const m = estimateStep(costOf(st, spec), rates).ms;
            const r = m / st.median;
            steps++;
            const ok = r >= 0.5 && r <= 2;
            if (ok) within++;
            if (!st.oneOff) {
              timed++;
              if (ok) timedWithin++;
            }
            if (!ok) misses.push(`${x.name}/${st.id} k=${k} ${ci}→${co}: model ${fmtMs(m)} vs ${fmtMs(st.median)}`);
          }
      }
    }
    const agree = cells.filter((c) => c.predicted === c.measured).length;
    const wrong = cells.filter((c) => c.predicted !== c.measured);
    console.log('model vs measured winner, per cell (k, channels: spatial / spectral measured; model):');
    for (const c of cells)
      console.log(
        `  k ${String(c.kernel).padStart(2)}  ${c.channels.padEnd(6)} ${fmtMs(c.spatialMs).padStart(9)} / ${fmtMs(c.spectralMs).padEnd(9)} model ${fmtMs(c.predictedSpatialMs).padStart(9)} / ${fmtMs(c.predictedSpectralMs).padEnd(9)} ${c.measured}${c.predicted !== c.measured ? `  ✗ model said ${c.predicted}` : ''}`,
      );
    const m = { ss: 0, sf: 0, fs: 0, ff: 0 };
    for (const c of cells)
      m[`${c.predicted === 'spatial' ? 's' : 'f'}${c.measured === 'spatial' ? 's' : 'f'}` as keyof typeof m]++;
    console.log(
      `confusion (model → measured): spatial→spatial ${m.ss}, spatial→spectral ${m.sf}, spectral→spatial ${m.fs}, spectral→spectral ${m.ff}`,
    );
    if (misses.length) console.log(`steps outside 2x (${misses.length}):\n  ${misses.join('\n  ')}`);
    goals.push({
      goal: `model picks the faster form (${kernels.length} kernels × ${channels.length} channel configs, wasm)`,
      measured: `${agree}/${cells.length} (${((100 * agree) / cells.length).toFixed(0)} %)${wrong.length ? `; wrong: ${wrong.map((c) => `k ${c.kernel} ${c.channels}`).join(', ')}` : ''}`,
      target: '≥ 90 %',
      met: agree >= 0.9 * cells.length,
    });
    goals.push({
      goal: 'model step time within 2x of the measured median (all steps)',
      measured: `${within}/${steps} steps (${((100 * within) / steps).toFixed(0)} %); per-call steps only: ${timedWithin}/${timed} (${((100 * timedWithin) / timed).toFixed(0)} %)`,
      target: '≥ 80 %',
      met: within >= 0.8 * steps,
    });
    return { probe, cells, stepsWithin2x: within, steps };
  } finally {
    client.dispose();
  }
}

const fixtureText = (n: string) =>
  fs.readFileSync(path.join(ROOT, 'test', 'scan', 'fixtures', n), 'utf8').replace(/^(import|from) .*$/gm, '');

/**
 * A 5,000-line model file: training and data code (loops, optimiser, nn.Sequential of Conv2d) with
 * `layers` Fourier layers (the seed's Keras layer and the FNO's SpectralConv2d, alternating) spread
 * through it. Every class and function is renamed so nothing repeats.
 */
function bigPython(layers: number, lines = 5000): string {
  const filler = fixtureText('training_filler.py');
  const layerParts = [fixtureText('seed_layer.py'), fixtureText('fno.py')];
  let out =
    'import os\nimport numpy as np\nimport tensorflow as tf\nimport torch\nimport torch.nn as nn\nfrom PIL import Image\nfrom tensorflow.keras.layers import Layer, Conv2D\n\n';
  const fillerLines = filler.split('\n').length;
  const layerEvery = layers ? Math.max(1, Math.floor(lines / fillerLines / layers)) : Infinity;
  for (let i = 0, placed = 0; out.split('\n').length < lines; i++) {
    const part = i % (layerEvery + 1) === layerEvery && placed < layers ? layerParts[placed++ % 2]! : filler;
    out += part.replace(/Fourier_Conv2D|SpectralConv2d|ChannelsLast|_N\b/g, (m) => `${m}_${i}`);
  }
  return out.split('\n').slice(0, lines).join('\n');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function scanGoals(goals: Goal[]): Promise<void> {
  const { loadParser } = await import('../src/platform/grammars');
  const { DocumentScanner, scanSource } = await import('../src/scan/index');
  const t0 = performance.now();
  const parser = await loadParser();
  const loadMs = performance.now() - t0;
  await scanFile(goals, 'a 5,000-line model file with 10 Fourier layers', bigPython(10), loadMs, true);
  await scanFile(goals, 'a 5,000-line file that is ~280 Fourier layers (worst case)', bigPython(1000), loadMs, false);

  async function scanFile(goals: Goal[], what: string, text: string, loadMs: number, isGoal: boolean) {
    const reps = 30;
    const full: number[] = [],
      parse: number[] = [],
      rules: number[] = [];
    let findings = 0;
    for (let i = 0; i < reps + 5; i++) {
      const t = performance.now();
      const r = scanSource(parser, 'big.py', 'python', text);
      const ms = performance.now() - t;
      if (i >= 5) {
        full.push(ms);
        parse.push(r.ms.parse);
        rules.push(r.ms.rules);
      }
      findings = r.findings.length;
    }
    const ds = new DocumentScanner(parser);
    ds.scan('big', 'python', text);
    const inc: number[] = [];
    let cur = text;
    for (let i = 0; i < reps + 5; i++) {
      const offset = Math.max(0, cur.indexOf('loss.backward()', (i * 997) % cur.length));
      const next = `${cur.slice(0, offset)}y${cur.slice(offset)}`;
      const t = performance.now();
      ds.scan('big', 'python', next, [{ offset, length: 0, text: 'y' }]);
      if (i >= 5) inc.push(performance.now() - t);
      cur = next;
    }
    ds.dispose();
    const m = median(full);
    const target = isGoal ? '≤ 50 ms' : '(report)';
    goals.push({
      goal: `scan ${what}, parser loaded (${findings} findings; warm median of ${reps}, wall-clock)`,
      measured: `${m.toFixed(1)} ms (parse ${median(parse).toFixed(1)} + rules ${median(rules).toFixed(1)}; p90 ${[...full].sort((a, b) => a - b)[Math.floor(reps * 0.9)]!.toFixed(1)}); parser load ${loadMs.toFixed(0)} ms once`,
      target,
      met: !isGoal || m <= 50,
    });
    goals.push({
      goal: `  incremental re-scan after a one-character edit (editor path)`,
      measured: `${median(inc).toFixed(1)} ms (median of ${reps})`,
      target,
      met: !isGoal || median(inc) <= 50,
    });
  }
}

function printGoals(goals: Goal[]): void {
  const w = [Math.max(...goals.map((g) => g.goal.length)), Math.max(...goals.map((g) => g.measured.length)), 8];
  console.log(`${'goal'.padEnd(w[0]!)}  ${'measured'.padEnd(w[1]!)}  ${'target'.padEnd(w[2]!)}  met`);
  for (const g of goals)
    console.log(
      `${g.goal.padEnd(w[0]!)}  ${g.measured.padEnd(w[1]!)}  ${g.target.padEnd(w[2]!)}  ${g.met ? 'yes' : 'NO'}`,
    );
  const missed = goals.filter((g) => !g.met);
  console.log(missed.length ? `\n${missed.length} goal(s) missed.` : '\nall goals met.');
}

/**
 * The PyTorch engine: the default profile on torch (interpreter start included), each variant's end to
 * end against an independent clock (torch.utils.benchmark on the same ops), wasm and torch side by side,
 * and the crossover on torch.
 */
/**
 * The TensorFlow engine (issue #26), 1 thread as the question's numbers were taken: each variant's forward and
 * training step against timeit of the same tf.functions in the same interpreter (before and after the profile,
 * averaged), the per-step backward against the whole, and the question's layer vs Conv2D 3×3 on TensorFlow.
 */
async function tensorflowGoals(goals: Goal[]): Promise<void> {
  const py = process.env.FCONV_TF_PYTHON ?? path.join(ROOT, '.venv-tf', 'bin', 'python');
  console.error(`bench: the TensorFlow engine (${py})…`);
  const engine = await TensorflowEngine.create({ python: [{ path: py, from: 'bench' }], device: 'cpu', threads: 1 });
  let run: Run | undefined;
  try {
    await engine.remote.load(DEFAULT_SPEC, makeLayerData(DEFAULT_SPEC, 1));
    const variants = ['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const;
    const rows: VariantResult[] = [];
    for (const variant of variants) {
      const plan = planVariant(variant, DEFAULT_SPEC, engine.remote.traits);
      const fb = await engine.crosscheck(plan, 0.5);
      const tb = await engine.crosscheckTrain(plan, 0.5);
      const r = await profileIn(engine, DEFAULT_SPEC, {
        variants: [variant],
        warmup: 3,
        reps: 10,
        seed: 1,
        adaptiveBudgetMs: 250,
        pass: 'both',
      });
      const fa = await engine.crosscheck(plan, 0.5);
      const ta = await engine.crosscheckTrain(plan, 0.5);
      const x = v(r, variant);
      rows.push(x);
      run = r;
      for (const [what, ms, before, after] of [
        ['end to end', x.totalMs.median, fb, fa],
        ['training step', x.train!.totalMs.median, tb, ta],
      ] as const) {
        const ref = (before + after) / 2;
        const d = (ms - ref) / ref;
        goals.push({
          goal: `TensorFlow ${what} vs timeit of the same tf.functions (before and after): ${variantLabel(variant)}`,
          measured: `${(d * 100).toFixed(1)}% (${fmtMs(ms)} vs ${fmtMs(ref)}: ${fmtMs(before)} before, ${fmtMs(after)} after)`,
          target: '±15 %',
          met: Math.abs(d) <= 0.15,
        });
      }
      const t = x.train!;
      const s = (t.backwardStepSumMs - t.backwardMs.median) / t.backwardMs.median;
      goals.push({
        goal: `Σ per-step backward vs the whole backward (TensorFlow): ${variantLabel(variant)}`,
        measured: `${(s * 100).toFixed(1)}% (${fmtMs(t.backwardStepSumMs)} vs ${fmtMs(t.backwardMs.median)})`,
        target: '(report)',
        met: true,
      });
    }
    const seed = rows.find((x) => x.name === 'seed')!,
      sp = rows.find((x) => x.name === 'spatial')!;
    goals.push({
      goal: "the question's layer vs Conv2D 3×3 on TensorFlow (1 thread): forward (end to end; inside the layer) and training step — the question reports ~4x in training",
      measured: `forward ${(seed.totalMs.median / sp.totalMs.median).toFixed(1)}x end to end, ${(seed.layerMs!.median / sp.totalMs.median).toFixed(1)}x inside the layer; training step ${(seed.train!.totalMs.median / sp.train!.totalMs.median).toFixed(1)}x (${fmtMs(seed.train!.totalMs.median)} vs ${fmtMs(sp.train!.totalMs.median)}); ${run?.device}`,
      target: '(report)',
      met: true,
    });
  } finally {
    engine.shutdown();
  }
}

async function torchGoals(goals: Goal[], wasm: Run): Promise<unknown> {
  console.error('bench: the first profile on torch, cold (no cached rates), then the default profile…');
  // The first report a new user waits for: a fresh worker and Python, interpreter discovery, the machine's rates
  // probed (nothing cached), every default variant's forward and training step.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-cache-'));
  const cold = profile(['--engine', 'torch'], { ...process.env, FCONV_CACHE_DIR: cache });
  fs.rmSync(cache, { recursive: true, force: true });
  goals.push({
    goal: 'first report on torch, cold: fresh processes, discovery, the rates probed (nothing cached), forward + training step',
    measured: fmtMs(cold.wallMs),
    target: '≤ 8 s',
    met: cold.wallMs <= 8_000,
  });
  profile(['--engine', 'torch']); // reads (and caches) the machine's rates on torch once
  const t = profile(['--engine', 'torch']);
  const run = t.run;
  goals.push({
    goal: 'default `fconv profile --engine torch` wall time (Python start included, probe cached)',
    measured: fmtMs(t.wallMs),
    target: '≤ 10 s',
    met: t.wallMs <= 10_000,
  });
  // An independent clock on the same ops: torch.utils.benchmark in the engine's own Python process
  // (same allocator and thread state), right after the profile's own measurement of the same layer.
  console.error('bench: the torch profile against torch.utils.benchmark on the same ops…');
  const engine = await TorchEngine.create({ python: [], device: 'cpu' });
  const independent: Record<string, { profile: number; benchmark: number }> = {};
  try {
    // Per variant, the independent clock brackets the profile's measurement: torch.utils.benchmark just before
    // and just after it, averaged — on this shared 2-core machine the speed drifts by ±25 % over seconds, and a
    // single benchmark taken seconds after the profile compared two different machines.
    const name = (x: VariantName) => x;
    /** The variant's profile in this process, with torch.utils.benchmark of the same pass just before and after. */
    const bracketed = async (variant: VariantName, pass: 'forward' | 'train') => {
      const plan = planVariant(variant, DEFAULT_SPEC, engine.remote.traits);
      const clock = (p: typeof plan) => (pass === 'train' ? engine.crosscheckTrain(p, 0.5) : engine.crosscheck(p, 0.5));
      const before = await clock(plan);
      const inproc = await profileIn(engine, DEFAULT_SPEC, {
        variants: [variant],
        warmup: 3,
        reps: 10,
        seed: 1,
        adaptiveBudgetMs: 250,
        ...(pass === 'train' ? { pass: 'both' as const } : {}),
      });
      return { inproc, before, after: await clock(plan) };
    };
    await engine.remote.load(DEFAULT_SPEC, makeLayerData(DEFAULT_SPEC, 1)); // the profile below loads the same
    for (const variant of (['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const).map(name)) {
      const { inproc, before, after } = await bracketed(variant, 'forward');
      const x = v(inproc, variant);
      const ref = (before + after) / 2;
      independent[x.name] = { profile: x.totalMs.median, benchmark: ref };
      const d = (x.totalMs.median - ref) / ref;
      goals.push({
        goal: `torch end to end vs torch.utils.benchmark (same ops, same process, before and after): ${variantLabel(x.name)}`,
        measured: `${(d * 100).toFixed(1)}% (${fmtMs(x.totalMs.median)} vs ${fmtMs(ref)}: ${fmtMs(before)} before, ${fmtMs(after)} after)`,
        target: '±15 %',
        met: Math.abs(d) <= 0.15,
      });
    }
    // The training step (issue #25): each variant's forward + backward against torch.utils.benchmark of the same
    // forward + backward, bracketing the profile's measurement like the forward goals; and the per-step backward
    // summed against the whole backward.
    console.error('bench: the torch training step against torch.utils.benchmark…');
    for (const variant of (['spatial', 'spatial-equivalent', 'seed', 'optimized'] as const).map(name)) {
      const { inproc, before, after } = await bracketed(variant, 'train');
      const t = v(inproc, variant).train!;
      const ref = (before + after) / 2;
      const d = (t.totalMs.median - ref) / ref;
      goals.push({
        goal: `torch training step vs torch.utils.benchmark (same forward + backward, before and after): ${variantLabel(variant)}`,
        measured: `${(d * 100).toFixed(1)}% (${fmtMs(t.totalMs.median)} vs ${fmtMs(ref)}: ${fmtMs(before)} before, ${fmtMs(after)} after)`,
        target: '±15 %',
        met: Math.abs(d) <= 0.15,
      });
      const s = (t.backwardStepSumMs - t.backwardMs.median) / t.backwardMs.median;
      goals.push({
        goal: `Σ per-step backward vs the whole backward (torch): ${variantLabel(variant)}`,
        measured: `${(s * 100).toFixed(1)}% (${fmtMs(t.backwardStepSumMs)} vs ${fmtMs(t.backwardMs.median)})`,
        target: '±15 %',
        met: Math.abs(s) <= 0.15,
      });
    }
  } finally {
    engine.shutdown();
  }
  const tv = (name: VariantName) => v(run, name).train;
  if (tv('seed') && tv('spatial'))
    goals.push({
      goal: "the question's layer vs Conv2D 3×3 on torch: forward (end to end; inside the layer) and training step — the question reports ~4x in training",
      measured: `forward ${(v(run, 'seed').totalMs.median / v(run, 'spatial').totalMs.median).toFixed(1)}x end to end, ${(v(run, 'seed').layerMs!.median / v(run, 'spatial').totalMs.median).toFixed(1)}x inside the layer; training step ${(tv('seed')!.totalMs.median / tv('spatial')!.totalMs.median).toFixed(1)}x (${fmtMs(tv('seed')!.totalMs.median)} vs ${fmtMs(tv('spatial')!.totalMs.median)})`,
      target: '(report)',
      met: true,
    });
  const ratio = (r: Run) => v(r, 'spatial-equivalent').totalMs.median / v(r, 'optimized').totalMs.median;
  goals.push({
    goal: 'default spec, spectral (optimized) vs spatial-equivalent: wasm | torch',
    measured: `${ratio(wasm).toFixed(1)}x | ${ratio(run).toFixed(1)}x (torch: ${fmtMs(v(run, 'optimized').totalMs.median)} vs ${fmtMs(v(run, 'spatial-equivalent').totalMs.median)}; Conv2D 3×3 ${fmtMs(v(run, 'spatial').totalMs.median)})`,
    target: '(report)',
    met: true,
  });
  console.error('bench: fconv sweep on torch…');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-sweep-'));
  const t0 = performance.now();
  const sw = spawnSync(
    process.execPath,
    [CLI, 'sweep', '--engine', 'torch', '--no-progress', '--json', '--out-dir', dir],
    { encoding: 'utf8' },
  );
  const ms = performance.now() - t0;
  fs.rmSync(dir, { recursive: true, force: true });
  if (sw.status !== 0) throw new Error(`fconv sweep --engine torch failed: ${sw.stderr}`);
  const sweep = JSON.parse(sw.stdout) as {
    cells: unknown[];
    crossover: { measured: number | null; predicted: number | null };
  };
  goals.push({
    goal: `\`fconv sweep --engine torch\` (${sweep.cells.length} kernels)`,
    measured: `${fmtMs(ms)}; crossover measured ${sweep.crossover.measured === null ? 'none (spatial wins at every kernel)' : `k = ${sweep.crossover.measured}`}, model ${sweep.crossover.predicted === null ? 'none' : `k = ${sweep.crossover.predicted}`}`,
    target: '(report)',
    met: true,
  });
  return {
    torchRun: {
      device: run.device,
      framework: run.framework,
      variants: run.variants.map((x) => ({ name: x.name, ms: x.totalMs.median })),
    },
    independent,
    sweep,
  };
}

/**
 * FNO layers (issue 10): optimized vs the layer as written on the FNO preset, on wasm and on torch CPU;
 * a modes sweep on each with its crossover and the model's winner agreement.
 */
async function fnoGoals(goals: Goal[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const engine of ['wasm', 'torch'] as const) {
    console.error(`bench: FNO preset on ${engine}…`);
    // 20 repetitions: torch's CPU allocator makes single calls vary by ±30 % (page faults on fresh buffers).
    const { run } = profile(['--engine', engine, '--preset', 'fno-64', '--no-model', '--reps', '20']);
    const a = v(run, 'fno'),
      b = v(run, 'optimized');
    const r = a.totalMs.median / b.totalMs.median;
    goals.push({
      goal: `FNO preset (64×64, width 32, modes 12, batch 20): optimized vs fno, end to end (${engine === 'torch' ? 'torch CPU' : 'wasm'})`,
      measured: `${r.toFixed(2)}x (${fmtMs(b.totalMs.median)} vs ${fmtMs(a.totalMs.median)}; max |err| ${b.maxAbsError.toExponential(1)} vs the naive convolution)`,
      target: '≥ 1.3x',
      met: r >= 1.3 && a.correct && b.correct,
    });
    console.error(`bench: FNO modes sweep on ${engine}…`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-fno-'));
    const t0 = performance.now();
    const sw = spawnSync(
      process.execPath,
      [
        CLI,
        'sweep',
        '--engine',
        engine,
        '--layer',
        'fno',
        '--batch',
        '8',
        '--grids',
        '32,64',
        '--warmup',
        '2',
        '--reps',
        '5',
        '--no-progress',
        '--json',
        '--out-dir',
        dir,
      ],
      { encoding: 'utf8' },
    );
    const ms = performance.now() - t0;
    fs.rmSync(dir, { recursive: true, force: true });
    if (sw.status !== 0) throw new Error(`fconv sweep --layer fno --engine ${engine} failed: ${sw.stderr}`);
    const sweep = JSON.parse(sw.stdout) as {
      cells: Array<{
        measuredWinner: string | null;
        predictedWinner: string;
        modes: number;
        height: number;
        fnoMs: number;
        optimizedMs: number;
      }>;
      crossovers: Array<{ height: number; width: number; measured: number | null; predicted: number | null }>;
    };
    const agreement = fnoAgreement(sweep as unknown as FnoSweep);
    goals.push({
      goal: `FNO modes sweep (${engine === 'torch' ? 'torch CPU' : 'wasm'}; batch 8, 32→32, grids 32 and 64, modes 4…32): crossover, and the model's winner agreement`,
      measured: `${sweep.crossovers.map((x) => `${x.height}×${x.width}: fno wins from ${x.measured === null ? 'nowhere (optimized throughout)' : `modes ${x.measured}`} (model ${x.predicted === null ? 'nowhere' : `modes ${x.predicted}`})`).join('; ')}; model agrees in ${agreement.agree}/${agreement.measured} cells; in ${agreement.agreeDecided}/${agreement.decided} cells where fno and optimized differ by > 5 % (${Math.round((100 * agreement.agreeDecided) / Math.max(1, agreement.decided))} %); ${fmtMs(ms)}`,
      target: '≥ 90 % agreement (decided cells)',
      met: agreement.agreeDecided >= 0.9 * agreement.decided,
    });
    out[engine] = { run: run.variants.map((x) => ({ name: x.name, ms: x.totalMs.median })), sweep };
  }
  return out;
}

/** `fconv profile-layer … --json` in a temporary output folder: the profile, or an error with its stderr. */
function profileLayerJson(args: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-layer-'));
  const r = spawnSync(process.execPath, [CLI, 'profile-layer', ...args, '--json', '--no-progress', '--out-dir', dir], {
    encoding: 'utf8',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`fconv profile-layer failed (${r.status}): ${r.stderr}`);
  return layerProfileSchema.parse(JSON.parse(r.stdout));
}

/**
 * profile-layer (issue #11): on the FNO preset's shapes (20×32×64×64, modes 12), CPU: the reported total is the
 * un-instrumented forward's, the line tracer's cost, and the per-line shares of two runs within ±5 points.
 */
/** The original FNO code's SpectralConv2d on the FNO preset's shapes, on the CPU: profile-layer's and optimize's. */
const FNO_LAYER = [
  path.join(ROOT, 'test', 'layer', 'fixtures', 'train_fno.py'),
  '--class',
  'SpectralConv2d',
  '--init',
  '32, 32, 12, 12',
  '--input-shape',
  '20,32,64,64',
  '--torch-device',
  'cpu',
];

function layerGoals(goals: Goal[]): void {
  const once = () => profileLayerJson([...FNO_LAYER, '--no-compare']);
  const a = once();
  const b = once();
  const traced = (p: typeof a) => p.lines.reduce((s, l) => s + l.tracedMs, 0);
  const over = traced(a) / a.totalMs.median - 1;
  goals.push({
    goal: 'profile-layer: instrumented (line tracer, sync per line) vs plain forward, FNO preset shapes, CPU',
    measured: `plain ${fmtMs(a.totalMs.median)} (the reported totalMs); traced lines sum ${fmtMs(traced(a))} (${(over * 100).toFixed(1)} % overhead)`,
    target: '(report)',
    met: true,
  });
  const share = (p: typeof a) => new Map(p.lines.map((l) => [`${l.file}:${l.line}`, l.share]));
  const sa = share(a);
  const sb = share(b);
  let worst = 0;
  let where = '';
  for (const k of new Set([...sa.keys(), ...sb.keys()])) {
    const d = Math.abs((sa.get(k) ?? 0) - (sb.get(k) ?? 0));
    if (d > worst) [worst, where] = [d, k.split(':').pop()!];
  }
  goals.push({
    goal: 'profile-layer: per-line shares, two runs',
    measured: `largest difference ${(worst * 100).toFixed(1)} points (line ${where})`,
    target: '≤ 5 points',
    met: worst <= 0.05,
  });
}

/** `fconv optimize … --json`: its result (exit 0 written, 1 nothing paid), or an error with its stderr. */
function optimizeJson(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'optimize', ...args, '--json', '--no-progress'], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`fconv optimize failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as {
    measured: OptimizeMeasured;
    chosen: string | null;
    gains: { forward?: number; train?: number } | null;
  };
}

/** torch 2.x for the goals that need it: FCONV_TORCH_PYTHON, else .venv-torch, else undefined (the first torch). */
function torch2Python(): string | undefined {
  const venv = path.join(ROOT, '.venv-torch', 'bin', 'python');
  return process.env.FCONV_TORCH_PYTHON ?? (fs.existsSync(venv) ? venv : undefined);
}

/**
 * `fconv profile --compile` on the FNO preset (issue 28): torch.compile of the layer as written beside eager (same
 * rounds), after its compile, against the optimized formulation — torch 2.x CPU.
 */
function compileGoal(goals: Goal[]): void {
  const py = torch2Python();
  console.error(`bench: fconv profile --compile on the FNO preset (${py ?? 'the first torch found'})…`);
  const { run, wallMs } = profile([
    '--engine',
    'torch',
    '--preset',
    'fno-64',
    '--no-model',
    '--compile',
    '--pass',
    'both',
    '--reps',
    '10',
    ...(py ? ['--python', py] : []),
  ]);
  const c = v(run, 'fno').compiled;
  const opt = v(run, 'optimized');
  const ratio = (e?: { median: number }, x?: { median: number }) => (e && x ? (e.median / x.median).toFixed(2) : '—');
  goals.push({
    goal: `fconv profile --compile, FNO preset, ${run.framework?.name} ${run.framework?.version} CPU: torch.compile of the layer as written vs eager (same rounds), and vs optimized`,
    measured: c?.forward
      ? `compiled ${fmtMs(c.forward.median)} vs eager ${fmtMs(c.eagerForward!.median)} forward (${ratio(c.eagerForward, c.forward)}x), ${c.train ? `${fmtMs(c.train.median)} vs ${fmtMs(c.eagerTrain!.median)} training step (${ratio(c.eagerTrain, c.train)}x)` : 'no training step'}, after ${fmtMs((c.compileMs ?? 0) + (c.compileTrainMs ?? 0))} of compiling; optimized ${fmtMs(opt.totalMs.median)} forward, ${opt.train ? fmtMs(opt.train.totalMs.median) : '—'} training step; max rel. error vs eager ${(c.maxRelError ?? 0).toExponential(1)}; ${fmtMs(wallMs)} in all`
      : `no compiled figure: ${c?.failed ?? 'no row'}`,
    target: 'a compiled row checked against eager (or the reason there is none)',
    met: !!c && (c.failed !== undefined || (c.maxRelError ?? 1) <= 1e-4),
  });
}

/**
 * `fconv optimize` (issue 27) on the original FNO code's SpectralConv2d (the FNO preset: batch 20, width 32, 64×64,
 * modes 12; torch CPU, 1 thread), in torch 2.x when there is one (FCONV_TORCH_PYTHON, else .venv-torch, else the
 * first torch found): the rewrite it writes vs the original, forward and training step (interleaved, its own
 * timing), not slower than torch.compile of the original (or it says compile wins), and its wall time.
 */
function optimizeGoals(goals: Goal[]): void {
  const py = torch2Python();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-opt-')), 'fast.py');
  console.error(`bench: fconv optimize on the FNO preset (${py ?? 'the first torch found'})…`);
  const t0 = performance.now();
  const j = optimizeJson([
    ...FNO_LAYER,
    '--threads',
    '1',
    '--reps',
    '20',
    '--out',
    out,
    ...(py ? ['--python', py] : []),
  ]);
  const wallMs = performance.now() - t0;
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const m = j.measured;
  const { compiled, compileWins } = choose(m, 'both');
  const where = `torch ${m.version}, ${m.device}`;
  const g = j.gains ?? {};
  goals.push({
    goal: `fconv optimize, FNO preset (${where}): the rewrite it wrote (${j.chosen ?? 'none'}) vs the original, forward`,
    measured: `${g.forward?.toFixed(2) ?? '—'}x (${fmtMs(m.original.forward?.median ?? 0)} → ${fmtMs((m.original.forward?.median ?? 0) / (g.forward ?? 1))})`,
    target: '≥ 1.5x',
    met: (g.forward ?? 0) >= 1.5,
  });
  goals.push({
    goal: `fconv optimize, FNO preset (${where}): the rewrite vs the original, training step`,
    measured: `${g.train?.toFixed(2) ?? '—'}x (${fmtMs(m.original.train?.median ?? 0)} → ${fmtMs((m.original.train?.median ?? 0) / (g.train ?? 1))})`,
    target: '≥ 1.3x',
    met: (g.train ?? 0) >= 1.3,
  });
  const cg = compiled ? gains(m, compiled, 'both') : undefined;
  const failedCompile = m.candidates.find((c) => c.compile && c.failed)?.failed;
  goals.push({
    goal: 'fconv optimize: the rewrite vs torch.compile of the original (torch ≥ 2)',
    measured: cg
      ? `compile ${cg.forward?.toFixed(2)}x forward, ${cg.train?.toFixed(2)}x training step of the original${compileWins ? ' — compile wins, and the report says so' : ''}`
      : `torch.compile not measured: ${failedCompile ?? 'not tried'}`,
    target: 'not slower than compile, or compile offered',
    met: !!cg && (compileWins || (g.forward ?? 0) >= (cg.forward ?? 0)),
  });
  goals.push({
    goal: 'fconv optimize wall time, FNO preset (candidates proven and timed, compile, per-line profiles of both)',
    measured: fmtMs(wallMs),
    target: '≤ 60 s',
    met: wallMs <= 60_000,
  });

  // The question's Keras layer (TensorFlow, 1 thread, batch 32, 28×28×1 complex64 spectra, 32 kernels).
  const tfPy = process.env.FCONV_TF_PYTHON ?? path.join(ROOT, '.venv-tf', 'bin', 'python');
  console.error(`bench: fconv optimize on the question's Keras class (${tfPy})…`);
  const kj = optimizeJson([
    path.join(ROOT, 'test', 'layer', 'fixtures', 'keras_question.py'),
    '--class',
    'Fourier_Conv2D',
    '--init',
    '32',
    '--input-shape',
    '32,28,28,1',
    '--input-dtype',
    'complex64',
    '--threads',
    '1',
    '--reps',
    '30',
    '--no-lines',
    '--python',
    tfPy,
  ]);
  const km = kj.measured;
  const rows = km.candidates
    .filter((c) => !c.failed)
    .map((c) => {
      const kg = gains(km, c, 'both');
      return `${c.id} ${kg.forward?.toFixed(2)}x fwd / ${kg.train?.toFixed(2)}x train`;
    });
  const chosenK = km.candidates.find((c) => c.id === kj.chosen);
  const kg: { forward?: number; train?: number } = chosenK ? gains(km, chosenK, 'both') : {};
  goals.push({
    goal: `fconv optimize, the question's Keras layer (TensorFlow ${km.version}, ${km.device}, batch 32): the rewrite it wrote (${kj.chosen ?? 'none'}) vs as written, training step`,
    measured: `${kg.train?.toFixed(2) ?? '—'}x (${fmtMs(km.original.train?.median ?? 0)} as written); every candidate: ${rows.join('; ')}`,
    target: '≥ 2x',
    met: (kg.train ?? 0) >= 2,
  });
}

/**
 * profile-layer on the question's own Keras class (TensorFlow, 1 thread, batch 32, complex64 spectra): per-line shares
 * of two runs within ±5 points; the plain total and the training step vs `timeit` of the same tf.functions in the
 * same interpreter within ±15 %; the Conv2D comparison the question asks about.
 */
function kerasLayerGoals(goals: Goal[]): void {
  const py = process.env.FCONV_TF_PYTHON ?? path.join(ROOT, '.venv-tf', 'bin', 'python');
  const fixture = path.join(ROOT, 'test', 'layer', 'fixtures', 'keras_question.py');
  console.error(`bench: profile-layer on the question's Keras class (${py})…`);
  const once = (compare: boolean) =>
    profileLayerJson([
      fixture,
      '--class',
      'Fourier_Conv2D',
      '--init',
      '32',
      '--input-shape',
      '32,28,28,1',
      '--input-dtype',
      'complex64',
      '--python',
      py,
      '--threads',
      '1',
      ...(compare ? [] : ['--no-compare']),
    ]);
  // timeit of the same layer's call and training step as one tf.function each, the class's source only.
  const script = `
import os, sys, timeit, statistics
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
src = open(sys.argv[1]).read().split("open('SHOULD_NOT_EXIST")[0]
ns = {}
exec(compile(src, sys.argv[1], "exec"), ns)
L = ns["Fourier_Conv2D"](32)
L.build((32, 28, 28, 1))
g = tf.random.Generator.from_seed(1)
x = tf.complex(g.normal((32, 28, 28, 1)), g.normal((32, 28, 28, 1)))
f = tf.function(lambda t: L(t))
n = 32 * 28 * 28 * 17 * 2
R = tf.reshape(tf.sin(tf.range(n, dtype=tf.float64) * 0.7 + 0.3), (32, 28, 28, 17, 2))
R = tf.cast(R, tf.float32)
def step(t):
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = L(t)
        loss = tf.reduce_sum(tf.stack([tf.math.real(y), tf.math.imag(y)], -1) * R)
    return tape.gradient(loss, [t] + L.trainable_variables)
s = tf.function(step)
out = []
for fn in (f, s):
    for _ in range(5):
        fn(x)
    runs = timeit.repeat(lambda: fn(x), number=10, repeat=15)
    out.append(statistics.median(runs) / 10 * 1000)
print(out[0], out[1])
`;
  const timeit = () => {
    const t = spawnSync(py, ['-c', script, fixture], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`timeit of the Keras layer failed: ${t.stderr}`);
    return t.stdout.trim().split(/\s+/).map(Number) as [number, number];
  };
  // This machine's timings drift by tens of % between processes: timeit and profile-layer alternate, twice, and
  // the medians of each side are compared.
  const t1 = timeit();
  const a = once(true);
  const t2 = timeit();
  const b = once(false);
  const t3 = timeit();
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const fwdRef = mid([t1[0], t2[0], t3[0]]);
  const trainRef = mid([t1[1], t2[1], t3[1]]);
  const mine = (get: (p: typeof a) => number) => (get(a) + get(b)) / 2;
  for (const [what, ms, ref] of [
    ['plain total (the call in one tf.function)', mine((p) => p.totalMs.median), fwdRef],
    ['training step (one tf.function)', mine((p) => p.train?.totalMs.median ?? NaN), trainRef],
  ] as const) {
    const d = (ms - ref) / ref;
    goals.push({
      goal: `profile-layer on the question's Keras class: ${what} vs timeit of the same tf.function`,
      measured: `${(d * 100).toFixed(1)}% (${fmtMs(ms)}, the mean of two runs, vs ${fmtMs(ref)}, the median of three timeit runs around them: ${[t1, t2, t3].map((t) => fmtMs(what.startsWith('plain') ? t[0] : t[1])).join(', ')})`,
      target: '±15 %',
      met: Math.abs(d) <= 0.15,
    });
  }
  const diff = (get: (l: (typeof a.lines)[number]) => number) => {
    const sa = new Map(a.lines.map((l) => [l.line, get(l)]));
    const sb = new Map(b.lines.map((l) => [l.line, get(l)]));
    let worst = 0;
    let where = 0;
    for (const k of new Set([...sa.keys(), ...sb.keys()])) {
      const d = Math.abs((sa.get(k) ?? 0) - (sb.get(k) ?? 0));
      if (d > worst) [worst, where] = [d, k];
    }
    return { worst, where };
  };
  const f = diff((l) => l.share);
  goals.push({
    goal: "profile-layer on the question's Keras class: per-line forward shares, two runs",
    measured: `largest difference ${(f.worst * 100).toFixed(1)} points (line ${f.where}); ${a.lines
      .filter((l) => l.share >= 0.05)
      .map((l) => `line ${l.line} ${Math.round(l.share * 100)} %`)
      .join(', ')}`,
    target: '≤ 5 points',
    met: f.worst <= 0.05,
  });
  const bw = diff((l) => l.backwardShare ?? 0);
  goals.push({
    goal: "profile-layer on the question's Keras class: per-line backward shares, two runs",
    measured: `largest difference ${(bw.worst * 100).toFixed(1)} points (line ${bw.where})`,
    target: '≤ 5 points',
    met: bw.worst <= 0.05,
  });
  const bl = a.baseline;
  const tr = a.train;
  const x = (p?: { median: number }, q?: { median: number }) => (p && q ? `${(p.median / q.median).toFixed(1)}x` : '—');
  goals.push({
    goal: "the question's Keras class vs Keras Conv2D(32, 3, padding='same') in the same process (1 thread, batch 32): forward, training step, as a first layer (weights' gradients only — model.fit's step for a layer fed the data; the question says ~4x)",
    measured: bl
      ? `forward ${x(a.totalMs, bl.totalMs)} (${fmtMs(a.totalMs.median)} vs ${fmtMs(bl.totalMs.median)}); training step ${x(tr?.totalMs, bl.trainMs)} (${fmtMs(tr?.totalMs.median ?? NaN)} vs ${fmtMs(bl.trainMs?.median ?? NaN)}); as a first layer ${x(tr?.weightsOnlyMs, bl.weightsOnlyMs)} (${fmtMs(tr?.weightsOnlyMs?.median ?? NaN)} vs ${fmtMs(bl.weightsOnlyMs?.median ?? NaN)})`
      : 'no baseline',
    target: '(report)',
    met: true,
  });
  const c = a.comparison;
  const conv = c?.rows.find((r) => r.variant === 'spatial');
  goals.push({
    goal: "the question's Keras class as written vs the profiler's Conv2D 3×3, TensorFlow, 1 thread (the question says ~4x in training)",
    measured:
      c && conv && c.asWritten.trainMs && conv.trainMs
        ? `forward ${(c.asWritten.ms.median / conv.ms.median).toFixed(1)}x (${fmtMs(c.asWritten.ms.median)} vs ${fmtMs(conv.ms.median)}), training step ${(c.asWritten.trainMs.median / conv.trainMs.median).toFixed(1)}x (${fmtMs(c.asWritten.trainMs.median)} vs ${fmtMs(conv.trainMs.median)})`
        : `no comparison: ${a.noComparison ?? '?'}`,
    target: '(report)',
    met: true,
  });
}

const layerOf = (x: VariantResult) => x.layerMs?.median ?? x.totalMs.median;

/**
 * The default profile, as the README runs it (wasm): the formulation's gains, Σ steps vs end to end, its wall
 * time, the training step.
 */
function wasmGoals(goals: Goal[]): Run {
  // The default profile, exactly as the README runs it (embedded engine, all four variants).
  console.error('bench: default profile (wasm)…');
  const def = profile(['--engine', 'wasm']);
  const wasm = def.run;
  const opt = v(wasm, 'optimized'),
    seed = v(wasm, 'seed'),
    eq = v(wasm, 'spatial-equivalent');
  // The formulation's own gain is inside the layer; end to end both spectral variants share the transforms
  // outside it (issue 15), so end to end is reported with where its difference comes from.
  const r1 = layerOf(seed) / layerOf(opt);
  goals.push({
    goal: `optimized vs the question's layer, inside the layer (${wasm.backend})`,
    measured: `${r1.toFixed(1)}x (${fmtMs(layerOf(opt))} vs ${fmtMs(layerOf(seed))})`,
    target: '≥ 10x',
    met: r1 >= 10,
  });
  const g1 = gainsOf(wasm).find((g) => g.from === 'seed')!;
  goals.push({
    goal: `optimized vs the question's layer, end to end (${wasm.backend}), and where the difference comes from`,
    measured: `${(seed.totalMs.median / opt.totalMs.median).toFixed(1)}x (${fmtMs(opt.totalMs.median)} vs ${fmtMs(seed.totalMs.median)}); ${gainLine(g1)}`,
    target: '(report)',
    met: true,
  });
  const r2 = eq.totalMs.median / opt.totalMs.median;
  goals.push({
    goal: `optimized vs spatial-equivalent, 28×28 kernel (${wasm.backend})`,
    measured: `${r2.toFixed(1)}x (${fmtMs(opt.totalMs.median)} vs ${fmtMs(eq.totalMs.median)})`,
    target: '≥ 10x',
    met: r2 >= 10,
  });
  for (const x of wasm.variants) {
    const drift = (x.stepSumMs - x.totalMs.median) / x.totalMs.median;
    goals.push({
      goal: `Σ step medians vs end to end: ${x.name} (${wasm.backend})`,
      measured: `${(drift * 100).toFixed(1)}% (${fmtMs(x.stepSumMs)} vs ${fmtMs(x.totalMs.median)})`,
      target: '±15 %',
      met: Math.abs(drift) <= 0.15,
    });
  }
  goals.push({
    goal: 'default `fconv profile` wall time',
    measured: fmtMs(def.wallMs),
    target: '≤ 10 s',
    met: def.wallMs <= 10_000,
  });
  // The training step on wasm (issue #25): each variant's per-step backward against its whole backward, and the
  // question's comparison — its layer vs Conv2D 3×3, forward and training step — beside the 4x it reports.
  for (const x of wasm.variants) {
    const t = x.train;
    if (!t) continue;
    const s = (t.backwardStepSumMs - t.backwardMs.median) / t.backwardMs.median;
    goals.push({
      goal: `Σ per-step backward vs the whole backward (${wasm.backend}): ${x.name}`,
      measured: `${(s * 100).toFixed(1)}% (${fmtMs(t.backwardStepSumMs)} vs ${fmtMs(t.backwardMs.median)})`,
      target: '±15 %',
      met: Math.abs(s) <= 0.15,
    });
  }
  const sp = v(wasm, 'spatial');
  if (seed.train && sp.train)
    goals.push({
      goal: "the question's layer vs Conv2D 3×3 on wasm: forward (end to end; inside the layer) and training step — the question reports ~4x in training",
      measured: `forward ${(seed.totalMs.median / sp.totalMs.median).toFixed(1)}x end to end, ${(layerOf(seed) / sp.totalMs.median).toFixed(1)}x inside the layer; training step ${(seed.train.totalMs.median / sp.train.totalMs.median).toFixed(1)}x (${fmtMs(seed.train.totalMs.median)} vs ${fmtMs(sp.train.totalMs.median)})`,
      target: '(report)',
      met: true,
    });
  const fwdOnly = profile(['--engine', 'wasm', '--pass', 'forward']);
  goals.push({
    goal: 'default `fconv profile --pass forward` wall time (the forward pass alone, as before the training step)',
    measured: fmtMs(fwdOnly.wallMs),
    target: '≤ 5 s',
    met: fwdOnly.wallMs <= 5_000,
  });

  return wasm;
}

async function main(): Promise<void> {
  const goals: Goal[] = [];
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim()} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  console.log(`machine: ${machine}\n`);
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (only === 'scan') {
    await scanGoals(goals);
    printGoals(goals);
    return;
  }
  if (only === 'model') {
    await modelGoals(goals);
    printGoals(goals);
    return;
  }
  if (only === 'torch') {
    console.error('bench: default profile (wasm), for the side-by-side…');
    await torchGoals(goals, profile(['--engine', 'wasm']).run);
    printGoals(goals);
    return;
  }
  if (only === 'fno') {
    await fnoGoals(goals);
    compileGoal(goals);
    printGoals(goals);
    return;
  }
  if (only === 'compile') {
    compileGoal(goals);
    printGoals(goals);
    return;
  }
  if (only === 'tensorflow') {
    await tensorflowGoals(goals);
    printGoals(goals);
    return;
  }
  if (only === 'wasm') {
    wasmGoals(goals);
    printGoals(goals);
    return;
  }
  if (only === 'layer') {
    layerGoals(goals);
    printGoals(goals);
    return;
  }
  if (only === 'optimize') {
    optimizeGoals(goals);
    printGoals(goals);
    return;
  }
  if (only === 'keras') {
    kerasLayerGoals(goals);
    printGoals(goals);
    return;
  }

  const wasm = wasmGoals(goals);

  // The cpu backend: the seed runs on tfjs's own complex kernels there (seconds per call), so fewer reps.
  console.error('bench: seed vs optimized on cpu (the seed takes seconds per call here)…');
  const cpu = profile([
    '--engine',
    'cpu',
    '--variants',
    'seed,optimized',
    '--warmup',
    '1',
    '--reps',
    '3',
    '--pass',
    'forward',
  ]).run;
  const r3 = layerOf(v(cpu, 'seed')) / layerOf(v(cpu, 'optimized'));
  goals.push({
    goal: "optimized vs the question's layer, inside the layer (cpu)",
    measured: `${r3.toFixed(1)}x (${fmtMs(layerOf(v(cpu, 'optimized')))} vs ${fmtMs(layerOf(v(cpu, 'seed')))}); end to end ${(v(cpu, 'seed').totalMs.median / v(cpu, 'optimized').totalMs.median).toFixed(1)}x`,
    target: '≥ 10x',
    met: r3 >= 10,
  });

  const modelData = await modelGoals(goals);
  const torchData = await torchGoals(goals, wasm);
  await tensorflowGoals(goals);
  const fnoData = await fnoGoals(goals);
  compileGoal(goals);
  layerGoals(goals);
  optimizeGoals(goals);
  kerasLayerGoals(goals);

  console.error('bench: default fconv sweep (fresh probe cache)…');
  const sweepDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-sweep-'));
  const t0 = performance.now();
  const sw = spawnSync(
    process.execPath,
    [CLI, 'sweep', '--engine', 'wasm', '--no-progress', '--json', '--out-dir', sweepDir],
    {
      encoding: 'utf8',
      env: { ...process.env, FCONV_CACHE_DIR: sweepDir },
    },
  );
  const sweepMs = performance.now() - t0;
  if (sw.status !== 0) throw new Error(`fconv sweep failed: ${sw.stderr}`);
  const sweep = JSON.parse(sw.stdout) as {
    cells: unknown[];
    crossover: { measured: number | null; predicted: number | null };
  };
  goals.push({
    goal: `default \`fconv sweep\` wall time (${sweep.cells.length} kernels, probe included)`,
    measured: `${fmtMs(sweepMs)}; crossover measured k = ${sweep.crossover.measured}, model k = ${sweep.crossover.predicted}`,
    target: '≤ 60 s',
    met: sweepMs <= 60_000,
  });
  fs.rmSync(sweepDir, { recursive: true, force: true });

  console.error('bench: scanner…');
  await scanGoals(goals);
  printGoals(goals);
  fs.writeFileSync(
    path.join(ROOT, 'bench-results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), machine, goals, model: modelData, torch: torchData, fno: fnoData }, null, 2)}\n`,
  );
}

void main();
