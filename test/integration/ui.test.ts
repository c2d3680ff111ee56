/**
 * One test through the real workbench, as a user does it: F1 → "Profile Fourier Conv" → the MNIST
 * preset → the report panel shows the timeline. Checks the step bars against the saved report, the
 * hover card, light and dark theme (screenshots under .vscode-test/ui/), and that the panel comes back
 * after a reload (the serializer).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { type Workbench, startWorkbench } from '../host/workbench.mjs';

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, '.vscode-test', 'ui');
/** Both workbenches: no git, the embedded engine, short runs. */
const BASE_SETTINGS = {
  'git.enabled': false,
  'fourierConv.engine': 'wasm',
  'fourierConv.warmup': 1,
  'fourierConv.repetitions': 3,
};

async function poll<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The webview's content frame (code-server nests it in two iframes) once it shows a timeline. */
function reportFrame(page: Page, ms = 90_000): Promise<Frame> {
  return poll('the report panel with a timeline', ms, async () => {
    for (const f of page.frames()) {
      if (
        await f
          .locator('svg.timelines .seg')
          .count()
          .catch(() => 0)
      )
        return f;
    }
    return undefined;
  });
}

function savedReports(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'index.json' && path.basename(d) === 'reports') found.push(p);
    }
  };
  walk(dir);
  return found;
}

/**
 * F1, type `query`, wait for the row `label`, Enter. The list fills once the extension host has scanned the
 * extensions: retry.
 */
async function palette(page: Page, query: string, label: string): Promise<void> {
  await poll(`"${label}" in the command palette`, 60_000, async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(`>${query}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label });
    await row.first().waitFor({ state: 'visible', timeout: 3000 });
    return true;
  });
  await page.keyboard.press('Enter');
}

/** Opens a workspace file as a user does: Go to File, its name, Enter. */
async function openFile(page: Page, name: string): Promise<void> {
  await palette(page, 'Go to File', 'Go to File');
  await page.keyboard.type(name);
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: name })
    .first()
    .waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.press('Enter');
}

async function runFromPalette(page: Page): Promise<void> {
  await palette(page, 'Profile Fourier Conv', 'Fourier Conv: Profile Fourier Conv');
  const preset = page.locator('.quick-input-list .monaco-list-row', { hasText: "MNIST — the question's layer" });
  await preset.first().waitFor({ state: 'visible', timeout: 30_000 });
  await preset.first().click();
}

test(
  'F1 → Profile Fourier Conv → MNIST preset shows the timeline, in light and dark, and survives a reload',
  { timeout: 6 * 60 * 1000 },
  async () => {
    fs.rmSync(out, { recursive: true, force: true });
    const dir = path.join(out, 'host');
    const workspace = path.join(out, 'workspace');
    fs.mkdirSync(workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'layer.py'), '# a workspace for the UI test\n');
    const settings = {
      'workbench.colorTheme': 'Default Light Modern',
      'workbench.preferredDarkColorTheme': 'Default Dark Modern',
      'workbench.preferredLightColorTheme': 'Default Light Modern',
      'git.openRepositoryInParentFolders': 'never',
      ...BASE_SETTINGS,
    };
    let wb: Workbench | undefined;
    try {
      wb = await startWorkbench({ dir, folder: workspace, extensionDevelopmentPath: root, settings, log: () => {} });
      const { page } = wb;
      await page.goto(wb.url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await runFromPalette(page);

      const frame = await reportFrame(page);
      const bars = await frame.locator('svg.timelines .seg').count();
      const index = await poll('the saved report', 30_000, async () => savedReports(path.join(dir, 'user-data'))[0]);
      const ids = JSON.parse(fs.readFileSync(index, 'utf8')) as Array<{ runId: string }>;
      const run = JSON.parse(fs.readFileSync(path.join(path.dirname(index), `${ids.at(-1)!.runId}.json`), 'utf8'));
      // One bar per timed forward step; with the training step, the training chart's forward and backward lanes
      // (one bar per step each; the one-off steps run on every training step).
      const expected = run.variants.reduce(
        (n: number, v: { steps: Array<{ oneOff: boolean }>; train?: { steps: unknown[] } }) =>
          n + v.steps.filter((s) => !s.oneOff).length + 2 * (v.train?.steps.length ?? 0),
        0,
      );
      assert.equal(run.status, 'ok');
      assert.ok(expected >= 8, `the MNIST run has ${expected} timed steps`);
      assert.equal(bars, expected, 'one bar per timed step of the saved run');
      // One timeline row per variant; the training chart adds a forward and a backward row per trained variant.
      const trained = run.variants.filter((v: { train?: unknown }) => v.train).length;
      assert.equal(
        await frame.locator('svg.timelines text.label').count(),
        run.variants.length + 2 * trained,
        'one timeline row per variant, two per trained variant in the training chart',
      );
      assert.ok(await frame.locator('body.vscode-light').count(), 'the panel follows the light theme');

      assert.ok(await frame.locator('nav.toolbar button#rerun').count(), 'the panel has its toolbar');
      await page.screenshot({ path: path.join(out, 'panel-light.png') });

      // Hovering a step shows its implementation, timing source, spread, FLOPs and bytes.
      // (on the forward timeline: the training chart's cards are shorter)
      const forwardBars = run.variants.reduce(
        (n: number, v: { steps: Array<{ oneOff: boolean }> }) => n + v.steps.filter((s) => !s.oneOff).length,
        0,
      );
      await frame
        .locator('svg.timelines:not(.training) .step')
        .nth(Math.floor(forwardBars / 2))
        .hover();
      const card = frame.locator('#fconv-tip');
      await card.waitFor({ state: 'visible', timeout: 5000 });
      const tipText = await card.innerText();
      for (const part of ['implementation:', 'timing:', 'p10–p90', 'FLOP', 'moved'])
        assert.ok(tipText.includes(part), `hover card shows "${part}": ${tipText}`);
      await page.screenshot({ path: path.join(out, 'panel-light-hover.png') });

      // Dark theme: VS Code re-themes the webview live.
      await page.mouse.move(5, 400);
      await palette(page, 'Toggle between Light/Dark Themes', 'Toggle between Light/Dark Themes');
      await poll('the dark theme in the panel', 30_000, async () =>
        (await frame.locator('body.vscode-dark').count()) ? true : undefined,
      );
      await frame.locator('body').evaluate(() => window.scrollTo(0, 0));
      await new Promise((r) => setTimeout(r, 500));
      await page.screenshot({ path: path.join(out, 'panel-dark.png') });
      // The why: hints and the roofline, as a user scrolls to them.
      assert.ok((await frame.locator('#hints li.hint').count()) >= 3, 'the panel lists the hints');
      await frame.locator('#hints').evaluate((el) => el.scrollIntoView());
      await new Promise((r) => setTimeout(r, 300));
      await page.screenshot({ path: path.join(out, 'panel-dark-hints.png') });
      await frame.locator('#analysis').evaluate((el) => el.scrollIntoView());
      await new Promise((r) => setTimeout(r, 300));
      await page.screenshot({ path: path.join(out, 'panel-dark-roofline.png') });

      // Custom…: the input boxes validate as the user types, with the CLI's messages.
      await palette(page, 'Profile Fourier Conv', 'Fourier Conv: Profile Fourier Conv');
      const custom = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Custom…' });
      await custom.first().waitFor({ state: 'visible', timeout: 30_000 });
      await custom.first().click();
      const box = page.locator('.quick-input-widget input');
      await page
        .locator('.quick-input-widget', { hasText: 'batch × height × width × in-channels' })
        .waitFor({ state: 'visible', timeout: 10_000 });
      await box.fill('32x28x28');
      await page
        .locator('.quick-input-widget', {
          hasText: 'input shape must be batch×height×width×channels (e.g. 32×28×28×1), got "32x28x28"',
        })
        .waitFor({ state: 'visible', timeout: 10_000 });
      await box.fill('32x0x28x1');
      await page
        .locator('.quick-input-widget', { hasText: 'height must be positive, got 0' })
        .waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('Escape');

      // After a reload the serializer restores the panel with the same report.
      await page.reload();
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      const restored = await reportFrame(page);
      assert.equal(
        await restored.locator('svg.timelines .seg').count(),
        expected,
        'the restored panel shows the same run',
      );
    } catch (e) {
      await wb?.page.screenshot({ path: path.join(out, 'failure.png') }).catch(() => {});
      throw e;
    } finally {
      await wb?.close();
    }
  },
);

test(
  'a Python file with the seed layer: squiggles, the CodeLens, the hover, the quick-fix menu, and the measured numbers after "Profile this layer"',
  { timeout: 6 * 60 * 1000 },
  async () => {
    const dir = path.join(out, 'host-diagnostics');
    const workspace = path.join(out, 'workspace-diagnostics');
    fs.mkdirSync(workspace, { recursive: true });
    fs.copyFileSync(
      path.join(root, 'test', 'scan', 'fixtures', 'seed_layer.py'),
      path.join(workspace, 'seed_layer.py'),
    );
    const settings = {
      'workbench.colorTheme': 'Default Dark Modern',
      'workbench.startupEditor': 'none',
      'editor.minimap.enabled': false,
      ...BASE_SETTINGS,
    };
    let wb: Workbench | undefined;
    try {
      wb = await startWorkbench({ dir, folder: workspace, extensionDevelopmentPath: root, settings, log: () => {} });
      const { page } = wb;
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(wb.url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await openFile(page, 'seed_layer.py');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Profile this layer' });
      await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
      assert.equal(await lens.count(), 2, 'a CodeLens on the Fourier layer and one on the Conv2D');
      await poll('the squiggles', 30_000, async () =>
        (await page.locator('.squiggly-warning').count()) >= 3 ? true : undefined,
      );

      // Hover the einsum (line 21): the message cites its source and links to docs/rules.md.
      const line = page.locator('.view-line', { hasText: "tf.einsum('ijkl,jklo->ijko'" });
      await line.locator('span', { hasText: 'einsum' }).first().hover();
      const hover = page.locator('.monaco-hover', { hasText: 'einsum-channel-mixing' });
      await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
      const hoverText = await hover.first().innerText();
      assert.match(hoverText, /BatchMatMul/);
      await page.screenshot({ path: path.join(out, 'diagnostics-hover.png') });

      // Ctrl+. on the einsum: the broadcast multiply and "Profile this layer".
      await line.locator('span', { hasText: 'einsum' }).first().click();
      await page.keyboard.press('Control+.');
      const menu = page.locator('.action-widget', { hasText: 'Replace the K = 1 einsum by a broadcast multiply' });
      await menu.first().waitFor({ state: 'visible', timeout: 15_000 });
      assert.match(await menu.first().innerText(), /Profile this layer \(Fourier_Conv2D\)/);
      await page.screenshot({ path: path.join(out, 'diagnostics-quickfix.png') });
      await page.keyboard.press('Escape');

      // The CodeLens runs the profile with the spec read from the code; the numbers come back.
      await lens.first().click();
      await reportFrame(page);
      await page.screenshot({ path: path.join(out, 'diagnostics-report.png') });
      await page.locator('.tabs-container .tab', { hasText: 'seed_layer.py' }).first().click();
      await page
        .locator('.codelens-decoration a', { hasText: 'tfjs/wasm: inside the layer' })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await page.mouse.move(5, 5);
      await line.locator('span', { hasText: 'einsum' }).first().hover();
      const measured = page.locator('.monaco-hover', { hasText: 'measured on' });
      await measured.first().waitFor({ state: 'visible', timeout: 15_000 });
      await page.screenshot({ path: path.join(out, 'diagnostics-measured.png') });
    } catch (e) {
      await wb?.page.screenshot({ path: path.join(out, 'failure-diagnostics.png') }).catch(() => {});
      throw e;
    } finally {
      await wb?.close();
    }
  },
);

test(
  'your own class: the "as written" CodeLens, the consent dialog, the per-line times at the line ends, the line-by-line report',
  { timeout: 6 * 60 * 1000 },
  async () => {
    const dir = path.join(out, 'host-user-layer');
    const workspace = path.join(out, 'workspace-user-layer');
    fs.mkdirSync(workspace, { recursive: true });
    fs.copyFileSync(path.join(root, 'test', 'layer', 'fixtures', 'train_fno.py'), path.join(workspace, 'train_fno.py'));
    const settings = {
      'workbench.colorTheme': 'Default Dark Modern',
      'workbench.startupEditor': 'none',
      'editor.minimap.enabled': false,
      ...BASE_SETTINGS,
      'fourierConv.pythonPath': '/usr/bin/python3',
    };
    let wb: Workbench | undefined;
    try {
      wb = await startWorkbench({ dir, folder: workspace, extensionDevelopmentPath: root, settings, log: () => {} });
      const { page } = wb;
      await page.setViewportSize({ width: 1500, height: 950 });
      await page.goto(wb.url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await openFile(page, 'train_fno.py');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Profile FNOBlock as written' });
      await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
      await lens.first().click();
      // The one-time consent names the file and the interpreter.
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(await dialog.innerText(), /Run FNOBlock from train_fno\.py in \/usr\/bin\/python3\?/);
      await page.screenshot({ path: path.join(out, 'user-layer-consent.png') });
      await dialog.locator('a.monaco-button', { hasText: 'Run my code' }).click();
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill('20, 16, 64, 64');
      await page.keyboard.press('Enter');
      const frame = await poll('the line-by-line report', 180_000, async () => {
        for (const f of page.frames())
          if (
            (await f
              .locator('#layer-lines tbody tr')
              .count()
              .catch(() => 0)) > 3
          )
            return f;
        return undefined;
      });
      // The training step is timed by default: the headline leads with it, forward() beside it.
      assert.match(
        await frame.locator('#layer-total').innerText(),
        /A training step takes [\d.]+ (ms|µs): the backward [\d.]+ (ms|µs) \(\d+ %\), forward\(\) [\d.]+ (ms|µs)/,
      );
      await page.screenshot({ path: path.join(out, 'user-layer-report.png') });
      await page.locator('.tabs-container .tab', { hasText: 'train_fno.py' }).first().click();
      await page
        .locator('.codelens-decoration a', { hasText: 'FNOBlock as written:' })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      // Scroll forward() of the spectral conv into view and hover its costliest line.
      await palette(page, 'Go to Line', 'Go to Line');
      await page.keyboard.type('38');
      await page.keyboard.press('Enter');
      await page.mouse.move(5, 5);
      const irfft = page.locator('.view-line', { hasText: 'torch.fft.irfft2(out_ft' });
      await irfft.locator('span', { hasText: 'irfft2' }).first().hover();
      const hover = page.locator('.monaco-hover', { hasText: 'per forward' });
      await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
      assert.match(await hover.first().innerText(), /torch\.fft\.irfft2/);
      await page.screenshot({ path: path.join(out, 'user-layer-editor.png') });
    } catch (e) {
      await wb?.page.screenshot({ path: path.join(out, 'failure-user-layer.png') }).catch(() => {});
      throw e;
    } finally {
      await wb?.close();
    }
  },
);

test(
  '"Write the optimized version": the lens on a profiled layer, the choice, the diff with the numbers, applied',
  { timeout: 6 * 60 * 1000 },
  async () => {
    const dir = path.join(out, 'host-optimize');
    const workspace = path.join(out, 'workspace-optimize');
    fs.mkdirSync(workspace, { recursive: true });
    fs.copyFileSync(path.join(root, 'test', 'layer', 'fixtures', 'train_fno.py'), path.join(workspace, 'train_fno.py'));
    const settings = {
      'workbench.colorTheme': 'Default Light Modern',
      'workbench.startupEditor': 'none',
      'editor.minimap.enabled': false,
      ...BASE_SETTINGS,
      'fourierConv.pythonPath': '/usr/bin/python3',
    };
    let wb: Workbench | undefined;
    try {
      wb = await startWorkbench({ dir, folder: workspace, extensionDevelopmentPath: root, settings, log: () => {} });
      const { page } = wb;
      await page.setViewportSize({ width: 1500, height: 950 });
      await page.goto(wb.url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await openFile(page, 'train_fno.py');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Profile SpectralConv2d as written' });
      await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
      await lens.first().click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 30_000 });
      await dialog.locator('a.monaco-button', { hasText: 'Run my code' }).click();
      // The constructor's arguments (the file's call is not literal), then the input.
      const input = page.locator('.quick-input-widget input');
      for (const answer of ['8, 8, 4, 4', '8, 8, 64, 64']) {
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        await input.fill(answer);
        await page.keyboard.press('Enter');
        await page.waitForTimeout(500);
      }
      await poll('the line-by-line report', 180_000, async () => {
        for (const f of page.frames())
          if (
            (await f
              .locator('#layer-lines tbody tr')
              .count()
              .catch(() => 0)) > 3
          )
            return f;
        return undefined;
      });
      await page.locator('.tabs-container .tab', { hasText: 'train_fno.py' }).first().click();
      const fast = page.locator('.codelens-decoration a', { hasText: 'Write the optimized version of SpectralConv2d' });
      await fast.first().waitFor({ state: 'visible', timeout: 180_000 });
      await page.screenshot({ path: path.join(out, 'optimize-lens.png') });
      await fast.first().click();
      // Proven and timed, then the choice: replace the class or add it beside.
      const pick = page.locator('.quick-input-widget', { hasText: 'Replace SpectralConv2d' });
      await pick.waitFor({ state: 'visible', timeout: 180_000 });
      assert.match(await pick.innerText(), /forward.*proven equal on your weights/s);
      await page.screenshot({ path: path.join(out, 'optimize-choice.png') });
      await page.keyboard.press('Enter');
      const diff = page.locator('.monaco-diff-editor');
      await diff.first().waitFor({ state: 'visible', timeout: 30_000 });
      const toast = page.locator('.notification-toast', { hasText: 'apply the rewrite of SpectralConv2d' });
      await toast.first().waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(await toast.first().innerText(), /x forward.*proven equal/s);
      await page.waitForTimeout(800);
      await page.screenshot({ path: path.join(out, 'optimize-diff.png') });
      await toast.first().locator('.monaco-button', { hasText: 'Apply' }).click();
      await page
        .locator('.view-line', { hasText: 'fconv optimize [partial]' })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await page.screenshot({ path: path.join(out, 'optimize-applied.png') });
    } catch (e) {
      await wb?.page.screenshot({ path: path.join(out, 'failure-optimize.png') }).catch(() => {});
      throw e;
    } finally {
      await wb?.close();
    }
  },
);

test(
  "the question's Keras layer on TensorFlow: the lens, the spectra's dtype in the shape box, its call() annotated fwd/bwd, the TF ops in the hover",
  { timeout: 6 * 60 * 1000 },
  async () => {
    const dir = path.join(out, 'host-keras-layer');
    const workspace = path.join(out, 'workspace-keras-layer');
    fs.mkdirSync(workspace, { recursive: true });
    fs.copyFileSync(
      path.join(root, 'test', 'layer', 'fixtures', 'keras_question.py'),
      path.join(workspace, 'keras_question.py'),
    );
    const tfPython = process.env.FCONV_TF_PYTHON ?? path.join(root, '.venv-tf', 'bin', 'python');
    const settings = {
      'workbench.colorTheme': 'Default Dark Modern',
      'workbench.startupEditor': 'none',
      'editor.minimap.enabled': false,
      ...BASE_SETTINGS,
      'fourierConv.pythonPath': tfPython,
      'fourierConv.threads': 1,
    };
    let wb: Workbench | undefined;
    try {
      wb = await startWorkbench({ dir, folder: workspace, extensionDevelopmentPath: root, settings, log: () => {} });
      const { page } = wb;
      await page.setViewportSize({ width: 1500, height: 950 });
      await page.goto(wb.url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await openFile(page, 'keras_question.py');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Profile Fourier_Conv2D as written' });
      await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
      assert.match(await lens.first().innerText(), /on TensorFlow/);
      await lens.first().click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(await dialog.innerText(), /Run Fourier_Conv2D from keras_question\.py in .*\.venv-tf/);
      await dialog.locator('a.monaco-button', { hasText: 'Run my code' }).click();
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      assert.match(await page.locator('.quick-input-widget').innerText(), /NHWC/);
      await input.fill('32, 28, 28, 1 complex64');
      await page.keyboard.press('Enter');
      await poll('the line-by-line report', 180_000, async () => {
        for (const f of page.frames())
          if (
            (await f
              .locator('#layer-lines tbody tr')
              .count()
              .catch(() => 0)) >= 3
          )
            return f;
        return undefined;
      });
      await page.screenshot({ path: path.join(out, 'keras-layer-report.png') });
      await page.locator('.tabs-container .tab', { hasText: 'keras_question.py' }).first().click();
      await page
        .locator('.codelens-decoration a', { hasText: 'Fourier_Conv2D as written:' })
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await page.mouse.move(5, 5);
      // call() annotated: each costly line's forward, backward and share of the training step at its end.
      await page.screenshot({ path: path.join(out, 'keras-layer-editor.png') });
      const einsum = page.locator('.view-line', { hasText: 'tf.einsum(' });
      await einsum.locator('span', { hasText: 'einsum' }).first().hover();
      const hover = page.locator('.monaco-hover', { hasText: 'per call' });
      await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
      const card = await hover.first().innerText();
      assert.match(card, /Einsum/);
      assert.match(card, /TensorFlow 2\.\d+/);
      await page.screenshot({ path: path.join(out, 'keras-layer-hover.png') });
    } catch (e) {
      await wb?.page.screenshot({ path: path.join(out, 'failure-keras-layer.png') }).catch(() => {});
      throw e;
    } finally {
      await wb?.close();
    }
  },
);

test(
  'your own class in an untrusted workspace: the lens is there, running it is refused with the reason, nothing runs',
  { timeout: 4 * 60 * 1000 },
  async () => {
    const dir = path.join(out, 'host-untrusted');
    const workspace = path.join(out, 'workspace-untrusted');
    fs.mkdirSync(workspace, { recursive: true });
    fs.copyFileSync(path.join(root, 'test', 'layer', 'fixtures', 'train_fno.py'), path.join(workspace, 'train_fno.py'));
    let wb: Workbench | undefined;
    try {
      wb = await startWorkbench({
        dir,
        folder: workspace,
        extensionDevelopmentPath: root,
        settings: { ...BASE_SETTINGS, 'workbench.startupEditor': 'none' },
        untrusted: true,
        log: () => {},
      });
      const { page } = wb;
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(wb.url);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await openFile(page, 'train_fno.py');
      const lens = page.locator('.codelens-decoration a', { hasText: 'Profile SpectralConv2d as written' });
      await lens.first().waitFor({ state: 'visible', timeout: 60_000 });
      await lens.first().click();
      const refused = page.locator('.notifications-toasts', { hasText: 'this workspace is not trusted' });
      await refused.first().waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no consent dialog: nothing is offered to run');
      await page.screenshot({ path: path.join(out, 'user-layer-untrusted.png') });
    } catch (e) {
      await wb?.page.screenshot({ path: path.join(out, 'failure-untrusted.png') }).catch(() => {});
      throw e;
    } finally {
      await wb?.close();
    }
  },
);
