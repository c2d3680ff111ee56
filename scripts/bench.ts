/**
 * `npm run bench`: the speed goals of the foundation, as ratios measured within one run.
 *   1. optimized ≥ 5x faster than seed, end to end — on the embedded engine (wasm) and on cpu;
 *   2. optimized ≥ 10x faster than spatial-equivalent at the seed's image-sized 28×28 kernel;
 *   3. Σ step medians within ±15 % of the un-instrumented end-to-end median, per variant;
 *   4. the default `fconv profile` ≤ 10 s wall on this machine.
 * Prints a table and writes bench-results.json. Exit code 0 whatever the outcome (goals are
 * reported, not asserted: timing belongs to benchmarks, not to tests).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmtMs } from '../src/core/format';
import { type Run, parseRun } from '../src/core/run';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Goal {
  goal: string;
  measured: string;
  target: string;
  met: boolean;
}

function profile(args: string[]): { run: Run; wallMs: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-bench-'));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'profile', '--no-progress', '--out-dir', dir, ...args], { encoding: 'utf8' });
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

function main(): void {
  const goals: Goal[] = [];
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim()} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  console.log(`machine: ${machine}\n`);

  // The default profile, exactly as the README runs it (embedded engine, all four variants).
  console.error('bench: default profile (wasm)…');
  const def = profile([]);
  const wasm = def.run;
  const opt = v(wasm, 'optimized'), seed = v(wasm, 'seed'), eq = v(wasm, 'spatial-equivalent');
  const r1 = seed.totalMs.median / opt.totalMs.median;
  goals.push({ goal: `optimized vs seed, end to end (${wasm.backend})`, measured: `${r1.toFixed(1)}x (${fmtMs(opt.totalMs.median)} vs ${fmtMs(seed.totalMs.median)})`, target: '≥ 5x', met: r1 >= 5 });
  const r2 = eq.totalMs.median / opt.totalMs.median;
  goals.push({ goal: `optimized vs spatial-equivalent, 28×28 kernel (${wasm.backend})`, measured: `${r2.toFixed(1)}x (${fmtMs(opt.totalMs.median)} vs ${fmtMs(eq.totalMs.median)})`, target: '≥ 10x', met: r2 >= 10 });
  for (const x of wasm.variants) {
    const drift = (x.stepSumMs - x.totalMs.median) / x.totalMs.median;
    goals.push({ goal: `Σ step medians vs end to end: ${x.name} (${wasm.backend})`, measured: `${(drift * 100).toFixed(1)}% (${fmtMs(x.stepSumMs)} vs ${fmtMs(x.totalMs.median)})`, target: '±15 %', met: Math.abs(drift) <= 0.15 });
  }
  goals.push({ goal: 'default `fconv profile` wall time', measured: fmtMs(def.wallMs), target: '≤ 10 s', met: def.wallMs <= 10_000 });

  // The cpu backend: the seed runs on tfjs's own complex kernels there (seconds per call), so fewer reps.
  console.error('bench: seed vs optimized on cpu (the seed takes seconds per call here)…');
  const cpu = profile(['--engine', 'cpu', '--variants', 'seed,optimized', '--warmup', '1', '--reps', '3']).run;
  const r3 = v(cpu, 'seed').totalMs.median / v(cpu, 'optimized').totalMs.median;
  goals.push({ goal: 'optimized vs seed, end to end (cpu)', measured: `${r3.toFixed(1)}x (${fmtMs(v(cpu, 'optimized').totalMs.median)} vs ${fmtMs(v(cpu, 'seed').totalMs.median)})`, target: '≥ 5x', met: r3 >= 5 });

  const w = [Math.max(...goals.map((g) => g.goal.length)), Math.max(...goals.map((g) => g.measured.length)), 8];
  console.log(`${'goal'.padEnd(w[0]!)}  ${'measured'.padEnd(w[1]!)}  ${'target'.padEnd(w[2]!)}  met`);
  for (const g of goals) console.log(`${g.goal.padEnd(w[0]!)}  ${g.measured.padEnd(w[1]!)}  ${g.target.padEnd(w[2]!)}  ${g.met ? 'yes' : 'NO'}`);
  const missed = goals.filter((g) => !g.met);
  console.log(missed.length ? `\n${missed.length} goal(s) missed.` : '\nall goals met.');
  fs.writeFileSync(path.join(ROOT, 'bench-results.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, goals }, null, 2)}\n`);
}

main();
