/**
 * Runs inside a real VS Code extension host (code-server 4.100.3 here, desktop VS Code elsewhere):
 * the command, the worker, the panel and its messages, cancel, a killed worker, export, compare.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FourierConvApi } from '../../src/extension';
import type { ReportPanel, Rendered } from '../../src/host/panel';

const EXT_ID = 'fourier-conv-profiler.fourier-conv-profiler';
let api: FourierConvApi;

function panel(): ReportPanel {
  const p = api.panel;
  assert.ok(p, 'the report panel is open');
  return p;
}

/** Resolves when the panel reports it has drawn `runId` (and, if asked, with the comparison on screen). */
function rendered(runId: string, compared = false, ms = 30_000): Promise<Rendered> {
  return new Promise((resolve, reject) => {
    const p = panel();
    const ok = (r: Rendered | undefined) => r && r.runId === runId && (!compared || r.compared);
    if (ok(p.lastRendered)) return resolve(p.lastRendered!);
    const t = setTimeout(() => {
      sub.dispose();
      reject(new Error(`the panel did not render ${runId} within ${ms} ms (last: ${JSON.stringify(p.lastRendered)})`));
    }, ms);
    const sub = p.onDidRender((r) => {
      if (!ok(r)) return;
      clearTimeout(t);
      sub.dispose();
      resolve(r);
    });
  });
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * One bar per timed forward step; with the training step, the training chart's two lanes per variant: its forward
 * (the one-off steps too: they run on every training step) and its backward, one bar per step each.
 */
function timelineBars(run: {
  variants: Array<{ steps: Array<{ oneOff: boolean }>; train?: { steps: unknown[] } }>;
}): number {
  return run.variants.reduce(
    (n, v) => n + v.steps.filter((s) => !s.oneOff).length + 2 * (v.train?.steps.length ?? 0),
    0,
  );
}

type Stored = { runId: string; run: import('../../src/core/run').Run } | undefined;
const profile = (args: object) => vscode.commands.executeCommand<Stored>('fourierConv.profile', args);

describe('Fourier Conv Profiler in a VS Code extension host', () => {
  before(async () => {
    const ext = vscode.extensions.getExtension<FourierConvApi>(EXT_ID);
    assert.ok(ext, `${EXT_ID} is installed in the development host`);
    api = await ext.activate();
    const cfg = vscode.workspace.getConfiguration('fourierConv');
    await cfg.update('warmup', 1, vscode.ConfigurationTarget.Global);
    await cfg.update('repetitions', 3, vscode.ConfigurationTarget.Global);
    await cfg.update('engine', 'wasm', vscode.ConfigurationTarget.Global);
  });

  it('contributes "Profile Fourier Conv" under the Fourier Conv category and registers every command', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const contributed = ext.packageJSON.contributes.commands as Array<{
      command: string;
      title: string;
      category: string;
    }>;
    const profileCmd = contributed.find((c) => c.command === 'fourierConv.profile');
    assert.equal(profileCmd?.title, 'Profile Fourier Conv');
    assert.equal(profileCmd?.category, 'Fourier Conv');
    const all = await vscode.commands.getCommands(true);
    for (const c of contributed) assert.ok(all.includes(c.command), `${c.command} is registered`);
    assert.ok(
      contributed.every((c) => c.command.startsWith('fourierConv.')),
      'one command prefix',
    );
    assert.deepEqual(ext.packageJSON.extensionKind, ['workspace']);
  });

  it('loads no engine code in the extension host at activation', () => {
    const tfjs = Object.keys(require.cache).filter((k) => k.includes('@tensorflow'));
    assert.deepEqual(tfjs, [], 'tfjs modules loaded in the extension host');
    assert.ok(Number.isFinite(api.activationMs) && api.activationMs > 0);
    console.log(`      activation: ${api.activationMs.toFixed(1)} ms (module load + activate)`);
  });

  let first: Stored;
  it('profiles a preset in the worker and shows a valid report in the panel', async () => {
    first = await profile({ preset: 'mnist-question' });
    assert.ok(first, 'the command resolved with the saved run');
    assert.equal(first.run.status, 'ok');
    assert.deepEqual(
      first.run.variants.map((v) => v.name),
      ['spatial', 'spatial-equivalent', 'seed', 'optimized'],
    );
    assert.ok(
      first.run.variants.every((v) => v.correct),
      'every variant matches its reference',
    );
    assert.equal(first.run.spec.kernelH, 28);
    const r = await rendered(first.runId);
    assert.equal(r.stepBars, timelineBars(first.run), 'one timeline bar per (non one-off) step');
    assert.ok(first.run.analysis && first.run.hints?.length, 'the run carries the model analysis and hints');
    assert.equal(r.hints, first.run.hints!.length, 'every hint is on screen');
    assert.ok(r.rooflinePoints > 0, 'the roofline shows the steps');
    assert.ok(
      first.run.hints!.some((h) => h.id === 'uneven-comparison'),
      "the seed's uneven comparison is flagged",
    );
    assert.notEqual(api.controller.runner.workerPid, process.pid, 'the engine runs in another process');
    assert.match(
      api.controller.statusText,
      /FFT end to end: [\d.]+x (faster|slower) than conv 28×28, [\d.]+x (faster|slower) than 3×3 \(tfjs\/wasm\)/,
    );
    assert.equal(api.controller.store.last()?.runId, first.runId, 'the report was saved');
  });

  it('rejects malformed and unknown webview messages without acting on them', () => {
    const p = panel();
    const before = p.rejected;
    const shown = p.shownRun?.runId;
    assert.equal(p.receive({ type: 'rerun', extra: 1 }), true, 'a valid message (extra fields are stripped)');
    assert.equal(p.receive({ type: 'delete-everything' }), false);
    assert.equal(p.receive({ type: 'export', format: 'exe' }), false);
    assert.equal(p.receive('rerun'), false);
    assert.equal(p.receive(null), false);
    assert.equal(
      p.receive({
        type: 'rendered',
        runId: 'x',
        stepBars: -1,
        compared: null,
        hints: 0,
        sweepCells: 0,
        rooflinePoints: 0,
      }),
      false,
    );
    assert.equal(p.rejected, before + 5);
    assert.equal(p.shownRun?.runId, shown);
  });

  it('compares with the previous run: the panel shows both runs in one diff table', async () => {
    // the valid "rerun" above started a second profile of the same layer
    await until(() => !api.controller.runner.running && api.controller.store.list().length >= 2, 120_000, 'the rerun');
    const second = api.controller.store.last()!;
    assert.notEqual(second.runId, first!.runId);
    await rendered(second.runId);
    assert.equal(await vscode.commands.executeCommand('fourierConv.compareWithPrevious'), true);
    const r = await rendered(second.runId, true);
    assert.equal(r.compared?.previousRunId, first!.runId);
    const steps = second.run.variants.reduce((n, v) => n + v.steps.length + 1, 0);
    assert.equal(r.compared?.rows, steps, 'one row per step and one end-to-end row per variant');
  });

  it('sweeps kernel sizes on the shown layer and adds the crossover to its report', async () => {
    const shown = panel().shownRun!;
    const stored = await vscode.commands.executeCommand<Stored>('fourierConv.sweep');
    assert.ok(stored?.run.sweep, 'the sweep joined the run');
    assert.equal(stored.runId, shown.runId, 'the same report, updated');
    assert.equal(stored.run.sweep.status, 'ok');
    assert.deepEqual(stored.run.sweep.kernels, [3, 5, 7, 9, 11, 15, 21, 28]);
    assert.ok(stored.run.sweep.cells.every((c) => c.spatialMs !== null && c.spectralMs !== null));
    const r = await rendered(stored.runId);
    await until(() => (panel().lastRendered?.sweepCells ?? 0) === 8, 10_000, 'the sweep table');
    assert.equal(api.controller.store.load(stored.runId)?.run.sweep?.cells.length, 8, 'saved with the report');
    void r;
  });

  it("measures the machine's rates again on request: a new probe, the shown report's model and sweep kept", async () => {
    const shown = panel().shownRun!;
    const before = shown.run.analysis?.device.probe?.measuredAt;
    const device =
      await vscode.commands.executeCommand<import('../../src/core/model').DeviceProfile>('fourierConv.refreshProbe');
    assert.ok(device?.probe, 'a probe was measured');
    if (before) assert.ok(device.probe.measuredAt > before, `${device.probe.measuredAt} after ${before}`);
    const now = panel().shownRun!;
    assert.equal(now.run.analysis?.device.probe?.measuredAt, device.probe.measuredAt, 'the report uses the new rates');
    assert.equal(now.run.sweep?.cells.length, shown.run.sweep?.cells.length, 'the sweep stays with the report');
  });

  it('exports report.html, trace.json and report.json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-export-'));
    try {
      await exportsTo(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  async function exportsTo(dir: string): Promise<void> {
    const shown = panel().shownRun!;
    const html = await vscode.commands.executeCommand<vscode.Uri>(
      'fourierConv.exportReport',
      'html',
      vscode.Uri.file(path.join(dir, 'r.html')),
    );
    const trace = await vscode.commands.executeCommand<vscode.Uri>(
      'fourierConv.exportReport',
      'trace',
      vscode.Uri.file(path.join(dir, 't.json')),
    );
    const json = await vscode.commands.executeCommand<vscode.Uri>(
      'fourierConv.exportReport',
      'json',
      vscode.Uri.file(path.join(dir, 'r.json')),
    );
    assert.ok(html && trace && json);
    const page = fs.readFileSync(html.fsPath, 'utf8');
    assert.match(page, /<script type="application\/json" id="fconv-run">/);
    assert.match(page, /default-src 'none'/);
    const events = JSON.parse(fs.readFileSync(trace.fsPath, 'utf8')).traceEvents as Array<{
      name: string;
      ph: string;
      args?: { name?: string };
    }>;
    const tracks = events.filter((e) => e.name === 'thread_name').map((e) => e.args?.name);
    assert.deepEqual(
      tracks,
      [
        ...shown.run.variants.map((v) => v.name),
        ...shown.run.variants.filter((v) => v.train).map((v) => `${v.name} backward`),
      ],
      'one track per variant, and one for its backward when the training step was measured',
    );
    assert.ok(
      events.some((e) => e.ph === 'X' && e.name.startsWith('rfft2d')),
      'transform steps on the timeline',
    );
    assert.equal(JSON.parse(fs.readFileSync(json.fsPath, 'utf8')).createdAt, shown.run.createdAt);
  }

  it('cancels a run within a second and keeps what was measured', async () => {
    const pending = profile({ preset: 'imagenet-k7' });
    await until(() => api.controller.runner.running, 10_000, 'the run to start');
    await until(() => api.controller.runner.measuredVariants >= 1, 60_000, 'the first variant to be measured');
    const t0 = Date.now();
    assert.equal(await vscode.commands.executeCommand('fourierConv.cancel'), true);
    const stored = await pending;
    const ms = Date.now() - t0;
    console.log(`      cancel took ${ms} ms`);
    assert.ok(ms < 2000, `cancel took ${ms} ms`);
    assert.ok(stored, 'the partial run is saved');
    assert.equal(stored.run.status, 'cancelled');
    assert.equal(stored.run.spec.kernelH, 7);
    await rendered(stored.runId);
    assert.equal(await vscode.commands.executeCommand('fourierConv.cancel'), false, 'nothing left to cancel');
  });

  it('a run cancelled before any variant was measured leaves the last report as it was', async () => {
    const last = api.controller.store.last();
    assert.ok(last, 'a report from an earlier test');
    const pending = profile({ preset: 'imagenet-k7' });
    await until(() => api.controller.runner.running, 10_000, 'the run to start');
    assert.equal(await vscode.commands.executeCommand('fourierConv.cancel'), true);
    const stored = await pending;
    assert.equal(stored, undefined, 'nothing is saved');
    assert.equal(api.controller.store.last()?.runId, last.runId, 'the last report is unchanged');
  });

  it('reports a worker killed mid-run, survives it, and the next run starts a fresh worker', async () => {
    const pending = profile({ preset: 'mnist-question' });
    await until(
      () => api.controller.runner.running && api.controller.runner.workerPid !== undefined,
      10_000,
      'the worker',
    );
    await new Promise((r) => setTimeout(r, 800));
    const pid = api.controller.runner.workerPid!;
    process.kill(pid, 'SIGKILL');
    await pending;
    assert.match(api.controller.lastError ?? '', /engine worker was killed by SIGKILL/);
    const next = await profile({ preset: 'mnist-question' });
    assert.equal(next?.run.status, 'ok');
    assert.notEqual(api.controller.runner.workerPid, pid);
    await rendered(next!.runId);
  });

  it('refuses a layer over the memory budget with a clear error and saves nothing', async () => {
    const cfg = vscode.workspace.getConfiguration('fourierConv');
    await cfg.update('maxMemory', '1MB', vscode.ConfigurationTarget.Global);
    try {
      const count = api.controller.store.list().length;
      const r = await profile({ preset: 'mnist-question' });
      assert.equal(r, undefined);
      assert.match(api.controller.lastError ?? '', /estimated memory .* above the budget of 1\.0 MB/);
      assert.equal(api.controller.store.list().length, count);
    } finally {
      await cfg.update('maxMemory', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it("rejects an invalid layer from a caller with the CLI's message", async () => {
    const r = await profile({
      spec: {
        batch: 2,
        height: 8,
        width: 8,
        inChannels: 1,
        outChannels: 2,
        kernelH: 9,
        kernelW: 9,
        spatialKernel: 3,
        padding: 'valid',
        layout: 'NHWC',
      },
    });
    assert.equal(r, undefined);
    assert.match(api.controller.lastError ?? '', /kernel .* larger than the image|valid/i);
  });

  it('names the presets when asked for one that does not exist', async () => {
    assert.equal(await profile({ preset: 'nope' }), undefined);
    assert.match(
      api.controller.lastError ?? '',
      /unknown preset "nope" \(choose from mnist-question, cifar-k5, imagenet-k3, imagenet-k7, fno-64, fno-128, last\)/,
    );
  });

  it('reopens the last report after the panel was closed', async () => {
    panel().dispose();
    assert.equal(api.panel, undefined);
    const last = await vscode.commands.executeCommand<Stored>('fourierConv.openLastReport');
    assert.ok(last);
    const r = await rendered(last.runId);
    assert.equal(r.stepBars, timelineBars(last.run));
  });
  it("profiles on the PyTorch engine in the user's Python when asked: the run, the report and the status bar name it", async () => {
    const cfg = vscode.workspace.getConfiguration('fourierConv');
    await cfg.update('engine', 'torch', vscode.ConfigurationTarget.Global);
    // The Python extension (a stand-in with its public API, installed in the test host) names the workspace's
    // interpreter: a link to this machine's Python with torch, at a path only it knows.
    const pyExt = vscode.extensions.getExtension<{ fconvTestAsked(): number }>('ms-python.python');
    assert.ok(pyExt, 'the Python extension stand-in is installed');
    const linkDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fconv-pyext-'));
    const link = path.join(linkDir, 'python3');
    const withTorch = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => fs.existsSync(p))!;
    fs.symlinkSync(withTorch, link);
    fs.writeFileSync(path.join(pyExt.extensionPath, 'fake-python-path'), link);
    try {
      const stored = await profile({
        spec: {
          batch: 2,
          height: 8,
          width: 8,
          inChannels: 1,
          outChannels: 2,
          kernelH: 8,
          kernelW: 8,
          spatialKernel: 3,
          padding: 'circular',
          layout: 'NHWC',
        },
      });
      assert.ok(stored, 'the torch run is saved');
      assert.equal(stored.run.status, 'ok', stored.run.failure);
      assert.equal(stored.run.engine, 'torch');
      assert.equal(stored.run.framework?.name, 'torch');
      assert.ok(
        stored.run.engineNotes.some((n) => n.includes(`in ${link} (the Python extension)`)),
        stored.run.engineNotes.join('\n'),
      );
      assert.ok((await pyExt.activate()).fconvTestAsked() > 0, "the Python extension's API was asked");
      assert.ok(stored.run.variants.every((v) => v.correct));
      assert.match(api.controller.statusText, /\(PyTorch \d+\.\d+ on cpu\)/);
      const r = await rendered(stored.runId);
      assert.ok(r.stepBars > 0);
    } finally {
      await cfg.update('engine', 'wasm', vscode.ConfigurationTarget.Global);
      fs.rmSync(path.join(pyExt.extensionPath, 'fake-python-path'), { force: true });
      fs.rmSync(linkDir, { recursive: true, force: true });
    }
  });
  it('compares engines on a layer: each run saved, the panel shows their verdicts side by side', async () => {
    const before = api.controller.store.last()?.runId;
    const c = await vscode.commands.executeCommand<{ runs: Array<{ engine: string }>; verdicts: unknown[] }>(
      'fourierConv.compareEngines',
      {
        engines: ['torch', 'wasm'],
        spec: {
          batch: 2,
          height: 8,
          width: 8,
          inChannels: 2,
          outChannels: 2,
          kernelH: 5,
          kernelW: 5,
          spatialKernel: 3,
          padding: 'same',
          layout: 'NCHW',
          dtype: 'float32',
        },
      },
    );
    assert.ok(c, 'the comparison ran');
    assert.deepEqual(
      c.runs.map((r) => r.engine),
      ['torch', 'tfjs'],
    );
    assert.equal(c.verdicts.length, 3);
    assert.equal(api.panel?.enginesShown?.runs.length, 2, 'the panel shows the engines');
    assert.notEqual(api.controller.store.last()?.runId, before, 'the runs were saved');
  });
});
