/**
 * `fconv`: the headless profiler. One file per command (profile, sweep, predict, devices, probe, scan);
 * what they share — io, flags, the worker client — is in ./shared.ts. Exit codes: 0 ok, 1 a failed or
 * cancelled run (or warnings found by scan), 2 a usage error with a one-line reason.
 */
import { Command, CommanderError } from 'commander';
import { GPU_TABLE } from '../core/model';
import { DEFAULT_PASS, DEFAULT_REPS, DEFAULT_WARMUP, VARIANT_NAMES } from '../core/run';
import { UsageError } from '../core/spec-input';
import { DEFAULT_KERNELS } from '../core/sweep';
import { devicesCommand } from './devices';
import { type PredictFlags, predictCommand } from './predict';
import { probeCommand } from './probe';
import { type OptimizeFlags, optimizeCommand } from './optimize';
import { type ProfileLayerFlags, profileLayerCommand } from './profile-layer';
import { type ProfileFlags, profileCommand } from './profile';
import { type ScanFlags, scanCommand } from './scan';
import {
  type CliIo,
  type EngineFlags,
  addCommonOptions,
  addEngineOptions,
  addSpecOptions,
  processIo,
  version,
} from './shared';
import { type SweepFlags, sweepCommand } from './sweep';

export type { CliIo } from './shared';

export async function main(argv: string[], io: CliIo): Promise<number> {
  const program = new Command();
  let code = 0;
  program
    .name('fconv')
    .description('Profile a Fourier-domain convolution layer against the spatial convolution it replaces.')
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
    .showHelpAfterError(false);
  addCommonOptions(
    addSpecOptions(
      program
        .command('profile')
        .description(
          'Run the spectral layers (the layer as written in the question and an optimized one) and the spatial convolutions on one spec; check they agree; time every step; explain the result.',
        ),
    ),
  )
    .option(
      '--variants <list>',
      `comma-separated: ${VARIANT_NAMES.join(',')} (default spatial,spatial-equivalent,seed,optimized; with --layer fno: fno,optimized)`,
    )
    .option('--warmup <n>', 'warm-up runs per variant', String(DEFAULT_WARMUP))
    .option('--reps <n>', 'timed repetitions per variant (more for fast pipelines)', String(DEFAULT_REPS))
    .option('--out-dir <dir>', 'where report.html, report.json and trace.json go', 'fconv-report')
    .option('--sweep', 'also sweep kernel sizes (spatial-equivalent vs optimized) and put the crossover in the report')
    .option('--no-model', 'skip the cost model, the roofline and the hints (no probe)')
    .option(
      '--pass <p>',
      'forward, train (forward + backward of a scalar loss, gradients checked) or both; the training step is timed on the torch engine',
      DEFAULT_PASS,
    )
    .option(
      '--crosscheck',
      "Python engines: also time each variant end to end with torch.utils.benchmark in the same process, beside the profile's figure",
    )
    .option(
      '--compile',
      'torch engine, torch ≥ 2: also torch.compile the layer as written and time it beside eager (compile time apart, output and gradients checked)',
    )
    .action(async (flags: ProfileFlags) => {
      code = await profileCommand(flags, io);
    });
  addCommonOptions(
    addSpecOptions(
      program
        .command('sweep')
        .description(
          'Measure spatial-equivalent vs optimized across kernel sizes (and channel counts): where FFT convolution starts to pay, measured and predicted.',
        ),
    ),
  )
    .option('--kernels <list>', `kernel sizes (default ${DEFAULT_KERNELS.join(',')}, clipped to the image)`)
    .option('--channels <list>', "IN:OUT channel pairs, e.g. 1:32,16:16,64:64 (default the spec's)")
    .option(
      '--modes-list <list>',
      'with --layer fno: the modes to sweep (default 4,8,12,16,24,32, clipped to the grid)',
    )
    .option('--grids <list>', "with --layer fno: grid sizes, e.g. 32,64 or 64x128 (default the spec's)")
    .option(
      '--pass <p>',
      "forward, or train: each cell's training step (forward + backward; the torch engine times it) and its crossover",
      'forward',
    )
    .option('--warmup <n>', 'warm-up runs per cell and variant', '1')
    .option('--reps <n>', 'timed repetitions per cell and variant', '3')
    .option('--out-dir <dir>', 'where sweep.html and sweep.json go', 'fconv-report')
    .action(async (flags: SweepFlags) => {
      code = await sweepCommand(flags, io);
    });
  addCommonOptions(
    addSpecOptions(
      program
        .command('predict')
        .description(
          'Predict spatial vs spectral time for a spec on a device, from the cost model, without running the layer.',
        ),
    ),
  )
    .option(
      '--device <name>',
      `a GPU from the table (${GPU_TABLE.map((x) => x.name).join(', ')}); default: this machine (probe)`,
    )
    .option('--peak-tflops <x>', 'peak FP32 TFLOP/s of another device (with --bandwidth-gbs)')
    .option('--bandwidth-gbs <x>', 'memory bandwidth in GB/s of another device (with --peak-tflops)')
    .option(
      '--backend <b>',
      'pipeline shape of the optimized layer: wasm | cpu | tensorflow (default: the probed backend, or tensorflow for a GPU)',
    )
    .action(async (flags: PredictFlags) => {
      code = await predictCommand(flags, io);
    });
  program
    .command('devices')
    .description(
      'Which GPU and CUDA libraries this machine has, every Python tried for the torch engine (torch, CUDA, GPUs, cuDNN), and why an engine is unavailable.',
    )
    .option('--python <path>', 'a Python interpreter to try first for the torch engine')
    .option(
      '--cuda-lib-dirs <dirs>',
      'extra folders (colon-separated) to search first for libcudart, libcufft, libcublas, libcudnn',
    )
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; cudaLibDirs?: string; python?: string }) => {
      code = await devicesCommand(flags, io);
    });
  addEngineOptions(
    program
      .command('probe')
      .description('Measure (or show the cached) rates of this machine the cost model is calibrated with.'),
  )
    .option('--refresh', 'measure again')
    .option('--json', 'print the probe as JSON')
    .action(async (flags: EngineFlags & { refresh?: boolean; json?: boolean }) => {
      code = await probeCommand(flags, io);
    });
  program
    .command('profile-layer')
    .description(
      "Profile your own layer as written — a PyTorch nn.Module or a Keras layer (on TensorFlow): time its forward()/call() and its training step per source line (and the ops each line runs), and, for an FNO layer or the question's layer, the profiler's formulations of the same spec beside it. Runs the class's code (and only the imports, functions and constants it needs) in a Python process of its own.",
    )
    .argument('<file>', 'the Python file that defines the class')
    .option('--class <name>', 'the nn.Module or Keras Layer class to profile')
    .option(
      '--engine <e>',
      'auto (default: torch for an nn.Module, tensorflow for a Keras layer) | torch | tensorflow',
      'auto',
    )
    .option('--init <args>', 'constructor arguments as Python literals, e.g. "32, 32, 12, 12" or "width=32, modes=12"')
    .option(
      '--input-shape <shape>',
      'the input of forward()/call(), e.g. 20,32,64,64 (NCHW for torch, NHWC for Keras; random data on the device of the parameters)',
    )
    .option(
      '--input-dtype <t>',
      "the input's dtype: float32 (Keras's default; torch: the parameters' real dtype), float64, float16, bfloat16, complex64 (a layer fed spectra), complex128",
    )
    .option('--python <path>', 'the Python interpreter (default: the first with torch ≥ 1.8 / TensorFlow ≥ 2.4 found)')
    .option('--torch-device <d>', 'cpu, cuda or cuda:N (default cuda when torch sees a GPU)')
    .option('--tf-device <d>', 'TensorFlow: cpu, cuda or cuda:N (default cuda when TensorFlow sees a GPU)')
    .option(
      '--tf-mode <m>',
      'TensorFlow: function (the call inside one tf.function, as model.fit runs it; default) | eager',
    )
    .option('--threads <n>', 'torch.set_num_threads / TF intra-op threads on a CPU')
    .option('--warmup <n>', 'warm-up runs (more while it still gets faster)', '3')
    .option('--reps <n>', 'timed runs of the plain forward()', '20')
    .option('--trace-reps <n>', 'runs under the line tracer (median per line)', '7')
    .option(
      '--pass <p>',
      'forward (forward() only) | train (the training step too: forward + backward, the backward per line) | both (default)',
    )
    .option('--seed <n>', 'seed of the random input', '1')
    .option('--time-limit <s>', 'stop the layer process after this many seconds', '300')
    .option('--max-memory <size>', "the layer process's memory budget (RSS, or torch's reserved GPU memory)", '4GB')
    .option('--no-compare', "skip the profiler's own formulations of the same spec")
    .option(
      '--compile',
      'torch ≥ 2: also torch.compile your class as written — compile time apart, checked against eager, timed beside it',
    )
    .option('--json', 'print the profile as JSON')
    .option('--out-dir <dir>', 'where profile-layer.html and profile-layer.json go', 'fconv-report')
    .option('--no-progress', 'no progress line on stderr')
    .action(async (file: string, flags: ProfileLayerFlags) => {
      code = await profileLayerCommand(file, flags, io);
    });
  program
    .command('optimize')
    .description(
      "Make it fast: write the optimized version of your PyTorch FNO spectral convolution, or of a Keras layer's einsum — the same constructor and parameters (your state_dict / weights load unchanged) — proven equal to yours on your weights (outputs and gradients), then timed against yours on your interpreter, device and threads; only a rewrite that pays on the asked pass is written. torch.compile of yours is tried too (torch ≥ 2). docs/optimize.md",
    )
    .argument('<file>', 'the Python file that defines the class')
    .option('--class <name>', 'the nn.Module (or Keras layer) class to rewrite')
    .option('--init <args>', 'constructor arguments as Python literals, e.g. "32, 32, 12, 12"')
    .option('--input-shape <shape>', 'the input of forward() / call(), e.g. 20,32,64,64 (NHWC for Keras)')
    .option(
      '--input-dtype <t>',
      "the input's dtype (as profile-layer): float32, float64, …, complex64 (a layer fed spectra)",
    )
    .option('--python <path>', 'the Python interpreter (default: the first with torch ≥ 1.8 / TensorFlow ≥ 2.4 found)')
    .option('--torch-device <d>', 'cpu, cuda or cuda:N (default cuda when torch sees a GPU)')
    .option('--threads <n>', 'torch.set_num_threads on a CPU')
    .option('--pass <p>', 'forward | train | both (default): the pass a rewrite must be faster on')
    .option(
      '--out <path>',
      'write the file with the rewritten class here (refused over an existing file without --force)',
    )
    .option('--force', 'replace --out when it exists')
    .option('--reps <n>', 'timed runs per pass, interleaved', '15')
    .option('--seed <n>', 'seed of the random inputs and weights', '1')
    .option('--time-limit <s>', 'stop the layer process after this many seconds', '300')
    .option('--max-memory <size>', "the layer process's memory budget", '4GB')
    .option('--no-compile', 'do not try torch.compile (TensorFlow: XLA) of your class')
    .option('--no-lines', 'skip the per-line profiles of yours and the rewrite')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress line on stderr')
    .action(async (file: string, flags: OptimizeFlags) => {
      code = await optimizeCommand(file, flags, io);
    });
  program
    .command('scan')
    .description(
      'Find the costly and the wrong patterns of Fourier-domain layers in Python (Keras/TF, PyTorch) and TypeScript/JavaScript (tfjs) source; exit 1 when a warning is found.',
    )
    .argument('[files...]', 'files or folders (folders: their .py, .ts, .tsx, .js, .mjs, .cjs, .jsx files)')
    .option('--json', 'print findings[] (file, line, rule, severity, message, …) and the layers found as JSON')
    .option(
      '--device <name>',
      `price each Conv2D with the cost model on this device: local (the cached probe) or ${GPU_TABLE.map((x) => x.name).join(', ')}`,
    )
    .option('--max-chars <n>', 'skip files larger than this many characters', String(1 << 20))
    .action(async (files: string[], flags: ScanFlags) => {
      code = await scanCommand(files, flags, io, version);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      if (e.code === 'commander.help') return 2; // no command given: the help went to stderr
      io.err(`fconv: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`fconv: ${e.message}\n`);
      return 2;
    }
    io.err(`fconv: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then((c) => {
    process.exitCode = c;
  });
}
