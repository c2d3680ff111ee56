/**
 * Runs profiles in the engine worker process (never in the extension host), with a progress
 * notification that names the step being timed and a Cancel that stops the run within a second and
 * keeps what was measured. In desktop VS Code the worker is forked from the Electron binary with
 * ELECTRON_RUN_AS_NODE=1; under code-server or a remote host process.execPath is Node already.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type LayerSpec, describeSpec } from '../core/spec';
import { WorkerClient, WorkerError } from '../client/client';
import type { DeviceProfile } from '../core/model';
import { deviceFor, needsProbe } from '../client/device-cache';
import { type AnySweep, type SweepPlan, type SweepRun, runAnySweep } from '../client/sweep-runner';
import { type RunOutcome, describePlan } from '../client/session';
import type { EngineChoice, ProgressMsg, RunOptions } from '../protocol/worker-protocol';
import { variantsForSpec } from '../core/run';
import { progressFraction, progressText } from '../core/format';

export type { RunOutcome };

export interface RunnerOptions {
  workerPath: string;
  version: string;
  log: vscode.LogOutputChannel;
}

export class ProfileRunner implements vscode.Disposable {
  private readonly client: WorkerClient;
  private abort: AbortController | undefined;

  constructor(private readonly opts: RunnerOptions) {
    const electron = !!process.versions.electron;
    this.client = new WorkerClient({
      workerPath: opts.workerPath,
      tool: { name: 'fourier-conv-profiler', version: opts.version },
      execPath: process.execPath,
      // In desktop VS Code process.execPath is Electron: make it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      execArgv: [],
      // The extension's own folder: discovery's ./.venv is never a workspace's (the Python extension's interpreter,
      // asked in trusted workspaces only, is how a workspace's environment is found).
      cwd: path.dirname(path.dirname(opts.workerPath)),
      onNote: (text) => opts.log.info(text),
    });
    opts.log.info(
      `engine worker: ${opts.workerPath}, forked from ${process.execPath}${electron ? ' (Electron as Node)' : ''}`,
    );
    opts.log.info(
      `optional engines (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) are looked up in ${path.join(path.dirname(path.dirname(opts.workerPath)), 'node_modules')}`,
    );
  }

  private measured = 0;

  get running(): boolean {
    return this.abort !== undefined;
  }

  get workerPid(): number | undefined {
    return this.client.pid;
  }

  /** Variants measured so far in the run in progress (for the status and tests). */
  get measuredVariants(): number {
    return this.measured;
  }

  /** Cancels the running profile; false when none runs. */
  cancel(): boolean {
    if (!this.abort) return false;
    this.opts.log.info('cancel requested');
    this.abort.abort();
    return true;
  }

  /**
   * One job on the worker at a time, under a cancellable progress notification: the notification's
   * Cancel, the cancel command and `cancel()` all abort `signal`. Undefined when another job runs.
   */
  private async exclusive<T>(
    title: string,
    body: (progress: vscode.Progress<{ message?: string; increment?: number }>, signal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    if (this.abort) return undefined;
    const ac = new AbortController();
    this.abort = ac;
    void vscode.commands.executeCommand('setContext', 'fourierConv.running', true);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => this.cancel());
          return body(progress, ac.signal);
        },
      );
    } finally {
      this.abort = undefined;
      void vscode.commands.executeCommand('setContext', 'fourierConv.running', false);
    }
  }

  /**
   * The user's own class, in a Python process of its own (their code: the caller has checked trust and
   * consent), under the cancellable progress notification. Undefined when another job runs.
   */
  async profileLayer(
    msg: Parameters<WorkerClient['profileLayer']>[0],
  ): Promise<{ ok: Awaited<ReturnType<WorkerClient['profileLayer']>> } | { error: Error } | undefined> {
    return this.exclusive(`Profiling ${msg.request.className} as written`, async (progress, signal) => {
      try {
        const ok = await this.client.profileLayer(msg, {
          signal,
          onProgress: (p) =>
            progress.report({ message: `${p.phase}${p.count > 1 ? ` ${p.index + 1}/${p.count}` : ''}` }),
        });
        return { ok };
      } catch (e) {
        return { error: e as Error };
      }
    });
  }

  /** "Make it fast": the rewrites of the user's class proven and timed against it, with progress and cancel. */
  async optimizeLayer(
    msg: Parameters<WorkerClient['optimizeLayer']>[0],
  ): Promise<{ ok: Awaited<ReturnType<WorkerClient['optimizeLayer']>> } | { error: Error } | undefined> {
    return this.exclusive(
      `Writing and proving the fast version of ${msg.request.className}`,
      async (progress, signal) => {
        try {
          const ok = await this.client.optimizeLayer(msg, {
            signal,
            onProgress: (p) =>
              progress.report({ message: `${p.phase}${p.count > 1 ? ` ${p.index + 1}/${p.count}` : ''}` }),
          });
          return { ok };
        } catch (e) {
          return { error: e as Error };
        }
      },
    );
  }

  /** Folders the worker searches first for the CUDA libraries (a new worker is started when they change). */
  setCudaLibraryPaths(paths: string[]): void {
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    if (paths.length) env.FCONV_CUDA_LIB_DIRS = paths.join(':');
    this.client.setEnv(env);
  }

  async run(spec: LayerSpec, opts: RunOptions, onProgress?: (p: ProgressMsg) => void): Promise<RunOutcome> {
    const log = this.opts.log;
    const options = { ...opts, variants: variantsForSpec(spec, opts.variants) };
    const outcome = await this.exclusive('Profiling Fourier conv', async (progress, signal): Promise<RunOutcome> => {
      log.info(
        `profile: ${describeSpec(spec)}; engine ${options.engine}, ${options.warmup} warm-up, ${options.reps} reps, variants ${options.variants.join(', ')}`,
      );
      const started = Date.now();
      let done = 0;
      this.measured = 0;
      progress.report({ message: 'starting the engine worker…' });
      try {
        const run = await this.client.run(spec, options, {
          signal,
          onEngine: (info) => {
            log.info(`engine ${info.engine}/${info.backend} on ${info.device}`);
            for (const n of info.notes) log.info(`  engine detection: ${n}`);
            log.info(`  timing: ${info.timingNote}`);
            progress.report({ message: `${info.engine}/${info.backend} on ${info.device}` });
          },
          onProgress: (p) => {
            this.measured = p.variantIndex;
            const f = progressFraction(p) * 100;
            const inc = Math.max(0, f - done);
            done = Math.max(done, f);
            progress.report({ message: progressText(p), increment: inc });
            onProgress?.(p);
          },
          onVariant: (v) =>
            log.info(
              `  ${v.name}: end to end ${v.totalMs.median.toFixed(3)} ms (p10 ${v.totalMs.p10.toFixed(3)}, p90 ${v.totalMs.p90.toFixed(3)}, ${v.totalMs.reps} reps), max |err| ${v.maxAbsError.toExponential(2)} ${v.correct ? 'ok' : 'MISMATCH'}`,
            ),
          onRejected: (why) => log.warn(`worker: ${why}`),
        });
        log.info(`profile ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return { kind: 'done', run } as RunOutcome;
      } catch (e) {
        const err = e as Error;
        log.error(`profile failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${err.message}`);
        return { kind: 'error', error: err, partial: e instanceof WorkerError ? e.partial : undefined };
      }
    });
    return (
      outcome ?? {
        kind: 'error',
        error: new WorkerError('busy', 'a profile is already running: wait for it or cancel it'),
      }
    );
  }

  /**
   * The device profile for the model: the cached probe in `cacheDir`, or a fresh one — measured under a
   * progress notification that names each measurement and can be cancelled (then: no model, no hints).
   */
  async device(
    engine: EngineChoice,
    cacheDir: string,
    engineDevice: string,
    refresh = false,
    engineId?: string,
  ): Promise<DeviceProfile | undefined> {
    const log = this.opts.log;
    const read = async (signal?: AbortSignal, progress?: vscode.Progress<{ message?: string; increment?: number }>) => {
      try {
        const d = await deviceFor(this.client, engine, this.opts.version, {
          dir: cacheDir,
          engineDevice,
          refresh,
          engineId,
          signal,
          refreshHint: 'run "Fourier Conv: Measure This Machine\'s Rates Again" to measure again',
          onProgress: (p) =>
            progress?.report({ message: `${p.what} (${p.index + 1}/${p.count})`, increment: 100 / p.count }),
        });
        log.info(d.note);
        return d.device;
      } catch (e) {
        const cancelled = e instanceof WorkerError && e.kind === 'cancelled';
        log.warn(
          `no device profile, so no roofline or model-based hints: ${cancelled ? 'the probe was cancelled' : (e as Error).message}`,
        );
        return undefined;
      }
    };
    if (!needsProbe(engine, this.opts.version, { dir: cacheDir, engineDevice, refresh, engineId })) return read();
    const title = "Fourier Conv: reading this machine's rates (once, then cached)";
    return (await this.exclusive(title, (progress, signal) => read(signal, progress))) ?? undefined;
  }

  /**
   * A sweep of either kind (kernel sizes, FNO modes) under a cancellable progress notification; a cancelled
   * sweep keeps its finished cells.
   */
  async sweep(base: LayerSpec, plan: SweepPlan, o: SweepRun): Promise<{ sweep?: AnySweep; error?: Error }> {
    const log = this.opts.log;
    const result = await this.exclusive(`Sweeping ${describePlan(plan)}`, async (progress, signal) => {
      log.info(`sweep: ${describePlan(plan)}; base ${describeSpec(base)}`);
      let done = 0;
      try {
        const sweep = await runAnySweep(this.client, base, plan, o, {
          signal,
          onProgress: (p) => {
            const f = (100 * p.cell) / p.cells;
            progress.report({ message: `(${p.cell + 1}/${p.cells}) ${p.detail}`, increment: Math.max(0, f - done) });
            done = Math.max(done, f);
          },
          onCell: (line) => log.info(`  ${line}`),
        });
        log.info(`sweep ${sweep.sweep.status} in ${(sweep.sweep.wallMs / 1000).toFixed(1)} s`);
        return { sweep };
      } catch (e) {
        log.error(`sweep failed: ${(e as Error).message}`);
        return { error: e as Error };
      }
    });
    return result ?? { error: new WorkerError('busy', 'a profile is already running: wait for it or cancel it') };
  }

  dispose(): void {
    this.abort?.abort();
    this.client.dispose();
  }
}
