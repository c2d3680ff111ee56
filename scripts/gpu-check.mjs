// The GPU check, run by scripts/gpu-check.sh on a Linux machine with an NVIDIA GPU and no network:
// addon load and library discovery, then the CUDA engine on the seed case and at k = 7 and k = 28
// ('same'), each twice — every variant's correctness error, per-step GPU times (CUDA events), the
// cuDNN algorithm table, optimized vs seed and spectral vs spatial ratios, and how far the per-step
// times moved between the two runs; then the PyTorch engine on the same cases when the machine's Python
// has torch with CUDA, both engines' step times side by side. Also: the driver's CUDA version, the toolkit
// major the libraries came from, how the kernels were loaded (embedded PTX or an NVRTC CUBIN), the cuDNN math
// type of the reference, and the plans / convolutions / buffers left after each run (0 expected). Writes one
// JSON file. Needs only Node and the built extension.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const [extDir, outFile] = process.argv.slice(2);
const cli = join(extDir, 'dist', 'cli.js');
const started = Date.now();
const fconv = (args) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 280_000 });

const result = {
  tool: 'fourier-conv-profiler gpu-check',
  startedAt: new Date(started).toISOString(),
  node: process.version,
  host: `${cpus()[0]?.model} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  env: {
    CUDA_HOME: process.env.CUDA_HOME ?? null,
    LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? null,
    FCONV_CUDA_LIB_DIRS: process.env.FCONV_CUDA_LIB_DIRS ?? null,
  },
};
const dev = fconv(['devices', '--json']);
try {
  result.devices = JSON.parse(dev.stdout);
} catch {
  result.devices = { error: `fconv devices failed (${dev.status}): ${dev.stderr}` };
}
result.cudaAvailable = !!result.devices?.cuda?.available;
// The driver's CUDA version and the toolkit major every library was taken from (never newer than the driver).
result.driverVersion = result.devices?.cuda?.discovery?.driver?.version ?? null;
result.toolkitMajor = result.devices?.cuda?.discovery?.toolkit?.major ?? null;
result.toolkitSkipped = result.devices?.cuda?.discovery?.toolkit?.skipped ?? [];

const CASES = [
  { name: 'seed case: batch 32, 28×28, 1→32, 28×28 kernel, circular', args: [] },
  { name: "k = 7, 'same': batch 32, 28×28, 1→32", args: ['--kernel', '7', '--padding', 'same'] },
  { name: "k = 28, 'same': batch 32, 28×28, 1→32", args: ['--kernel', '28', '--padding', 'same'] },
  // An FNO layer (issue 10): as written vs optimized on the FNO preset, checked against the naive convolution.
  { name: 'FNO preset: batch 20, 64×64, 32→32, modes 12 per corner', args: ['--preset', 'fno-64'] },
];

function summarize(run) {
  const v = (n) => run.variants.find((x) => x.name === n);
  const ratio = (a, b) => (v(a) && v(b) ? v(b).totalMs.median / v(a).totalMs.median : null);
  return {
    status: run.status,
    failure: run.failure ?? null,
    engine: `${run.engine}/${run.backend}`,
    device: run.device,
    timing: run.timingNote,
    // What the worker still held after the run: cuFFT plans, cuDNN convolutions, buffers (all 0 expected).
    resourcesAfter: run.resources ?? null,
    // How the kernels were loaded, the toolkit family, cuDNN: the engine's own notes.
    engineNotes: run.engineNotes.filter((n) =>
      /^(kernels|PTX|CUDA toolkit|passed over|cuDNN|libcudnn|toolkit)/.test(n),
    ),
    // The cuDNN math type the reference convolution ran with (FMA: FP32, no TF32).
    convMath:
      run.variants
        .find((x) => x.name === 'spatial-equivalent')
        ?.steps.find((s) => s.id === 'conv2d')
        ?.implementation.match(/FP32 FMA math, TF32 off|\w+ math/)?.[0] ?? null,
    variants: run.variants.map((x) => ({
      name: x.name,
      correct: x.correct,
      maxAbsError: x.maxAbsError,
      tolerance: x.tolerance,
      reference: x.reference,
      totalMs: x.totalMs.median,
      totalP10: x.totalMs.p10,
      totalP90: x.totalMs.p90,
      layerMs: x.layerMs?.median ?? null,
      steps: x.steps.map((s) => ({
        id: s.id,
        name: s.name,
        medianMs: s.median,
        p10: s.p10,
        p90: s.p90,
        timing: s.timing,
        oneOff: s.oneOff,
        implementation: s.implementation,
      })),
      algorithms: x.algorithms ?? null,
    })),
    ratios: {
      optimizedVsSeed: ratio('optimized', 'seed'),
      optimizedVsSpatialEquivalent: ratio('optimized', 'spatial-equivalent'),
      optimizedVsConv: ratio('optimized', 'spatial'),
      optimizedVsFno: ratio('optimized', 'fno'),
    },
  };
}

/** Largest relative change of a step median between two runs (steps over 5 µs). */
function stability(a, b) {
  let worst = 0,
    where = null;
  for (const va of a.variants) {
    const vb = b.variants.find((x) => x.name === va.name);
    if (!vb) continue;
    for (const s of va.steps) {
      const t = vb.steps.find((x) => x.id === s.id);
      if (!t || Math.max(s.medianMs, t.medianMs) < 0.005) continue;
      const d = Math.abs(s.medianMs - t.medianMs) / Math.max(s.medianMs, t.medianMs);
      if (d > worst) [worst, where] = [d, `${va.name}/${s.id}`];
    }
  }
  return { maxRelativeChange: worst, step: where };
}

result.cases = [];
if (result.cudaAvailable) {
  for (const c of CASES) {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'fconv-gpu-'));
      const r = fconv(['profile', '--engine', 'cuda', '--no-model', '--no-progress', '--out-dir', dir, ...c.args]);
      try {
        runs.push(summarize(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))));
      } catch {
        runs.push({
          status: 'error',
          failure: `fconv profile exited ${r.status}: ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`,
        });
      }
    }
    const ok = runs.every((r) => r.variants);
    result.cases.push({ name: c.name, args: c.args, runs, stability: ok ? stability(runs[0], runs[1]) : null });
  }
}
// The PyTorch engine on the same GPU, when this machine's Python has torch with CUDA: each case once,
// and both engines' step times side by side (steps matched by id: both run the same plans).
const torchPy = (result.devices?.python ?? []).find((p) => p.torch && p.cuda && !p.problem);
result.torch = { python: torchPy ?? null, cases: [] };
if (torchPy) {
  for (const [i, c] of CASES.entries()) {
    const dir = mkdtempSync(join(tmpdir(), 'fconv-gpu-torch-'));
    const r = fconv([
      'profile',
      '--engine',
      'torch',
      '--python',
      torchPy.path,
      '--torch-device',
      'cuda',
      '--no-model',
      '--no-progress',
      '--out-dir',
      dir,
      ...c.args,
    ]);
    let run;
    try {
      run = summarize(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
    } catch {
      run = {
        status: 'error',
        failure: `fconv profile --engine torch exited ${r.status}: ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`,
      };
    }
    const native = result.cases[i]?.runs?.[0];
    const sideBySide =
      run.variants && native?.variants
        ? run.variants.map((tv) => {
            const nv = native.variants.find((x) => x.name === tv.name);
            const ids = [...new Set([...(nv?.steps ?? []).map((s) => s.id), ...tv.steps.map((s) => s.id)])];
            return {
              variant: tv.name,
              totalMs: { cuda: nv?.totalMs ?? null, torch: tv.totalMs },
              steps: ids.map((id) => ({
                id,
                cudaMs: nv?.steps.find((s) => s.id === id)?.medianMs ?? null,
                torchMs: tv.steps.find((s) => s.id === id)?.medianMs ?? null,
              })),
            };
          })
        : null;
    result.torch.cases.push({ name: c.name, run, sideBySide });
  }
}
const seedCase = result.cases[0]?.runs?.[0];
result.goals = {
  optimizedVsSeedAtLeast10x: seedCase?.ratios ? seedCase.ratios.optimizedVsSeed >= 10 : null,
  stepTimesWithin10Percent: result.cases.length
    ? result.cases.every((c) => c.stability && c.stability.maxRelativeChange <= 0.1)
    : null,
  noResourcesLeft: result.cases.length
    ? result.cases.every((c) =>
        c.runs.every((r) => !r.resourcesAfter || (r.resourcesAfter.plans === 0 && r.resourcesAfter.convs === 0)),
      )
    : null,
  allCorrect: result.cases.length
    ? result.cases.every((c) => c.runs.every((r) => r.variants?.every((v) => v.correct)))
    : null,
};
result.wallSeconds = (Date.now() - started) / 1000;
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `gpu-check: wrote ${outFile} (${result.cudaAvailable ? `${result.cases.length} cases` : `CUDA engine unavailable: ${result.devices?.cuda?.reason}`}; torch: ${torchPy ? `${result.torch.cases.length} cases with ${torchPy.path}` : 'no Python with CUDA torch'}) in ${result.wallSeconds.toFixed(0)} s`,
);
process.exit(result.cudaAvailable || torchPy ? 0 : 3);
