/**
 * The scanner in a real extension host: diagnostics on the seed's layer at the expected lines with
 * links to docs/rules.md, a quick fix applied to the document, the CodeLens running a profile with the spec read
 * from the code, the measured numbers on the diagnostics afterwards, and re-scans while typing.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FourierConvApi } from '../../src/extension';
import type { ScanResult } from '../../src/scan/types';

const EXT_ID = 'fourier-conv-profiler.fourier-conv-profiler';
const FIXTURES = path.resolve(__dirname, '..', '..', 'test', 'scan', 'fixtures');
let api: FourierConvApi;

/** Waits until `uri` has been scanned and `cond` holds for its diagnostics. */
async function diagnosticsWhere(
  uri: vscode.Uri,
  cond: (d: vscode.Diagnostic[]) => boolean,
  what: string,
  ms = 20_000,
): Promise<vscode.Diagnostic[]> {
  const end = Date.now() + ms;
  for (;;) {
    const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'Fourier Conv');
    if (cond(d)) return d;
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}; have: ${d.map((x) => `${code(x)}@${x.range.start.line + 1}`).join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A diagnostic's whole text: its one-line message and its related information (the explanation, the numbers). */
const full = (d: vscode.Diagnostic) => [d.message, ...(d.relatedInformation ?? []).map((r) => r.message)].join('\n');
const code = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? String(d.code.value) : String(d.code));
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

async function openFixture(name: string, as = name): Promise<vscode.TextDocument> {
  const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const file = path.join(folder, as);
  fs.writeFileSync(file, fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  return doc;
}

describe('Diagnostics, quick fixes and "Profile this layer" in source files', () => {
  before(async () => {
    api = await vscode.extensions.getExtension<FourierConvApi>(EXT_ID)!.activate();
    const cfg = vscode.workspace.getConfiguration('fourierConv');
    await cfg.update('warmup', 1, vscode.ConfigurationTarget.Global);
    await cfg.update('repetitions', 3, vscode.ConfigurationTarget.Global);
    await cfg.update('engine', 'wasm', vscode.ConfigurationTarget.Global);
  });

  it("shows the seed layer's findings at their lines, each with a code linking to its section of docs/rules.md", async () => {
    const doc = await openFixture('seed_layer.py');
    assert.equal(doc.languageId, 'python');
    const text = doc.getText();
    const d = await diagnosticsWhere(doc.uri, (x) => x.length >= 8, 'the seed diagnostics');
    const got = d.map((x) => `${code(x)}@${x.range.start.line + 1}`).sort();
    const want = [
      `rfft-axes@${lineOf(text, 'rfft2d(self.kernel)')}`,
      `kernel-spectrum-per-call@${lineOf(text, 'rfft2d(self.kernel)')}`,
      `complex-transpose@${lineOf(text, 'perm=[2, 1, 0, 3]')}`,
      `circular-convolution@${lineOf(text, "tf.einsum('ijkl")}`,
      `einsum-channel-mixing@${lineOf(text, "tf.einsum('ijkl")}`,
      `output-shape-mismatch@${lineOf(text, 'return (input_shape[0]')}`,
      `tf-spectral-removed@${lineOf(text, 'tf.spectral.rfft2d(')}`,
      `uneven-comparison@${lineOf(text, 'Conv2D(32, (3, 3)')}`,
      `conv2d-fft-payoff@${lineOf(text, 'Conv2D(32, (3, 3)')}`,
    ].sort();
    assert.deepEqual(got, want);
    // Each stands alone on one line in the Problems panel; the explanation is its related information.
    for (const x of d) {
      assert.ok(!x.message.includes('\n') && x.message.length <= 90, `one short line: ${x.message}`);
      assert.ok(x.relatedInformation?.[0]?.message.includes('docs/'), `explained, with its source: ${code(x)}`);
    }
    const axes = d.find((x) => code(x) === 'rfft-axes')!;
    assert.equal(axes.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(d.find((x) => code(x) === 'einsum-channel-mixing')!.severity, vscode.DiagnosticSeverity.Information);
    const target = (axes.code as { target: vscode.Uri }).target;
    assert.equal(
      path.relative(path.dirname(path.dirname(target.fsPath)), target.fsPath),
      path.join('docs', 'rules.md'),
    );
    const rulesDoc = fs.readFileSync(target.fsPath, 'utf8').split('\n');
    assert.equal(rulesDoc[Number(target.fragment.slice(1)) - 1], '### `rfft-axes`: rfft2d runs over the wrong axes');
  });

  it('applies the broadcast-multiply quick fix: the document text is the expected one, and the finding goes', async () => {
    const doc = await openFixture('seed_layer.py', 'seed_fix.py');
    const d = await diagnosticsWhere(
      doc.uri,
      (x) => x.some((y) => code(y) === 'einsum-channel-mixing'),
      'the einsum finding',
    );
    const einsum = d.find((x) => code(x) === 'einsum-channel-mixing')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      einsum.range,
    );
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Profile this layer (Fourier_Conv2D)'), titles.join(' | '));
    const fix = actions.find((a) => a.title === 'Replace the K = 1 einsum by a broadcast multiply');
    assert.ok(fix?.edit, titles.join(' | '));
    const before = doc.getText();
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(
      doc.getText(),
      before.replace(
        "tf.einsum('ijkl,jklo->ijko', fft_x, fft_kernel)",
        'fft_x[:, :, :, 0, None] * fft_kernel[None, :, :, 0, :]',
      ),
    );
    await diagnosticsWhere(
      doc.uri,
      (x) => !x.some((y) => code(y) === 'einsum-channel-mixing') && x.some((y) => code(y) === 'rfft-axes'),
      'the re-scan after the edit',
    );
    const axes = vscode.languages.getDiagnostics(doc.uri).find((x) => code(x) === 'rfft-axes')!;
    const axesActions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      axes.range,
    );
    const move = axesActions.find((a) => a.title.startsWith('Transform over (H, W)'))!;
    // The einsum was replaced above, so no product says which layout the spectrum must have: the fix transforms
    // over (H, W) and its suggestion says to check the later transposes (with the einsum, it fixes the perm too:
    // test/scan/fixes.test.ts).
    assert.equal(move.title, 'Transform over (H, W): move the channels axis in front, and back after');
    assert.match(full(axes), /check every later transpose and einsum of the spectrum/);
    assert.ok(await vscode.workspace.applyEdit(move.edit!));
    assert.match(
      doc.getText(),
      /fft_kernel = tf\.transpose\(tf\.spectral\.rfft2d\(tf\.transpose\(self\.kernel, \[0, 3, 1, 2\]\)\), \[0, 2, 3, 1\]\)/,
    );
    await diagnosticsWhere(doc.uri, (x) => !x.some((y) => code(y) === 'rfft-axes'), 'the rfft-axes finding to go');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('re-scans as the user types (debounced), on the edited text', async () => {
    const doc = await openFixture('fno.py', 'fno_typing.py');
    await diagnosticsWhere(doc.uri, (x) => x.some((y) => code(y) === 'rfft-axes'), 'the FNO rfft-axes finding');
    const editor = vscode.window.activeTextEditor!;
    const at = doc.getText().indexOf('torch.fft.rfft2(y)') + 'torch.fft.rfft2(y'.length;
    // Type ", dim=(1, 2)" one character at a time, as a user would.
    for (const ch of ', dim=(1, 2)') {
      const pos = doc.positionAt(
        at + (doc.getText().length - fs.readFileSync(path.join(FIXTURES, 'fno.py'), 'utf8').length),
      );
      await editor.edit((e) => e.insert(pos, ch));
    }
    assert.match(doc.getText(), /torch\.fft\.rfft2\(y, dim=\(1, 2\)\)/);
    await diagnosticsWhere(
      doc.uri,
      (x) => !x.some((y) => code(y) === 'rfft-axes') && x.some((y) => code(y) === 'einsum-channel-mixing'),
      'the finding to go after typing',
    );
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('puts a "Profile this layer" CodeLens above the layer and the Conv2D; it profiles the spec read from the code, and the numbers come back on the diagnostics', async () => {
    const doc = await openFixture('seed_layer.py', 'seed_lens.py');
    await diagnosticsWhere(doc.uri, (x) => x.length >= 8, 'the seed diagnostics');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const profileLenses = lenses.filter((l) => l.command?.title === '$(pulse) Profile this layer');
    const text = doc.getText();
    assert.deepEqual(
      profileLenses.map((l) => l.range.start.line + 1),
      [lineOf(text, 'class Fourier_Conv2D'), lineOf(text, 'Conv2D(32, (3, 3)')],
    );
    const result: ScanResult = api.diagnostics.resultFor(doc.uri)!;
    const site = result.layers.find((l) => l.kind === 'fourier')!;
    const lens = profileLenses[0]!;
    const stored = await vscode.commands.executeCommand<{ run: import('../../src/core/run').Run } | undefined>(
      lens.command!.command,
      ...(lens.command!.arguments ?? []),
    );
    assert.ok(stored, 'a run was made');
    assert.deepEqual({ ...stored.run.spec }, { dtype: 'float32', ...site.spec });
    assert.deepEqual(
      [
        stored.run.spec.batch,
        stored.run.spec.height,
        stored.run.spec.inChannels,
        stored.run.spec.outChannels,
        stored.run.spec.kernelH,
        stored.run.spec.spatialKernel,
        stored.run.spec.padding,
      ],
      [32, 28, 1, 32, 28, 3, 'circular'],
    );
    const d = await diagnosticsWhere(
      doc.uri,
      (x) => x.some((y) => full(y).includes('measured on')),
      'the measured numbers',
    );
    const einsum = d.find((x) => code(x) === 'einsum-channel-mixing')!;
    // One line in the Problems panel; the explanation and the numbers under it.
    assert.equal(einsum.message, 'Einsum channel mixing lowers to transposes + tiny BatchMatMuls');
    assert.match(
      full(einsum),
      /\nmeasured on .+, tfjs\/wasm: inside the layer [\d.]+x (slower|faster) than Conv2D 3×3 .*einsum \d+ % of the layer/,
    );
    const after = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const lensLine = after.find((l) => l.command?.title.startsWith('tfjs/wasm: inside the layer'));
    assert.ok(lensLine, 'a CodeLens shows the measured verdict');
    assert.ok(lensLine.command!.title.length <= 110, `short enough not to be clipped: ${lensLine.command!.title}`);
    // Editing the layer makes the numbers stale: the lens says so, the diagnostics drop them.
    const einsumLine = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.includes("tf.einsum('ijkl,jklo->ijko'"));
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(einsumLine, 0), '        # edited\n');
    await vscode.workspace.applyEdit(edit);
    await api.diagnostics.scan(doc);
    const staleLenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
    );
    assert.ok(staleLenses.some((l) => l.command?.title === '$(history) edited since it was measured: profile again'));
    assert.ok(!staleLenses.some((l) => l.command?.title.startsWith('tfjs/wasm: inside the layer')));
    const staleDiags = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'Fourier Conv');
    assert.ok(!staleDiags.some((y) => full(y).includes('measured on')), 'no stale numbers on the diagnostics');
    assert.ok(staleDiags.some((y) => full(y).includes('are stale: profile it again')));
    await vscode.commands.executeCommand('undo');
    await api.diagnostics.scan(doc);
    // The run's calibrated device now prices the Conv2D with the cost model.
    const priced = await diagnosticsWhere(
      doc.uri,
      (x) => x.some((y) => code(y) === 'conv2d-fft-payoff' && full(y).includes('Cost model on')),
      "the Conv2D priced on the run's device",
    );
    assert.match(
      full(priced.find((y) => code(y) === 'conv2d-fft-payoff')!),
      /Cost model on .+: spatial [\d.]+ ms vs FFT [\d.]+ ms per call/,
    );
  });

  it('asks only for what the code does not state: the tfjs Conv2D lacks the batch, one input box', async () => {
    const doc = await openFixture('spectral.ts');
    await diagnosticsWhere(doc.uri, (x) => x.some((y) => code(y) === 'tfjs-complex-matmul'), 'the tfjs diagnostics');
    const site = api.diagnostics.resultFor(doc.uri)!.layers.find((l) => l.kind === 'conv2d')!;
    assert.equal(site.spec.batch, undefined);
    let done = false;
    const running = vscode.commands
      .executeCommand<{ run: import('../../src/core/run').Run } | undefined>('fourierConv.profileLayer', {
        uri: doc.uri.toString(),
        site: site.id,
      })
      .then((r) => {
        done = true;
        return r;
      });
    // Accept each box with its proposed value, as a user pressing Enter would; count the boxes.
    let accepted = 0;
    for (let i = 0; i < 40 && !done; i++) {
      await new Promise((r) => setTimeout(r, 250));
      if (done || api.controller.runner.running) break;
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      accepted++;
    }
    const stored = await running;
    assert.ok(stored, 'the run was made after the box was accepted');
    const spec = stored.run.spec;
    assert.deepEqual(
      [
        spec.kernelH,
        spec.kernelW,
        spec.spatialKernel,
        spec.outChannels,
        spec.padding,
        spec.layout,
        spec.height,
        spec.width,
        spec.inChannels,
      ],
      [3, 3, 3, 32, 'same', 'NHWC', 28, 28, 1],
      'what the code says is kept',
    );
    // The box proposed the documented default (32), not a value from an unrelated earlier run.
    assert.equal(spec.batch, 32);
    assert.ok(accepted >= 1 && accepted <= 3, `accepted ${accepted} box(es)`);
  });

  it('puts no "Profile this layer" lens on a 1×1 convolution (a GEMM: an FNO\'s pointwise path), only on the layer and the 3×3', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = path.join(folder, 'fno_pointwise.py');
    fs.writeFileSync(
      file,
      `${fs.readFileSync(path.join(FIXTURES, 'fno.py'), 'utf8')}\npointwise = nn.Conv2d(32, 32, 1)\n`,
    );
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const end = Date.now() + 20_000;
    while (!api.diagnostics.resultFor(doc.uri) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const text = doc.getText();
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const lines = lenses
      .filter((l) => l.command?.title === '$(pulse) Profile this layer')
      .map((l) => l.range.start.line + 1);
    assert.ok(lines.includes(lineOf(text, 'class SpectralConv2d')), JSON.stringify(lines));
    assert.ok(lines.includes(lineOf(text, 'nn.Conv2d(1, 32, 3')), JSON.stringify(lines));
    assert.ok(!lines.includes(lineOf(text, 'nn.Conv2d(32, 32, 1)')), JSON.stringify(lines));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
  it('ignores malformed "Profile this layer" arguments and a layer that is gone', async () => {
    assert.equal(await vscode.commands.executeCommand('fourierConv.profileLayer', { uri: 42 }), undefined);
    assert.equal(await vscode.commands.executeCommand('fourierConv.profileLayer', 'nonsense'), undefined);
    const doc = await openFixture('fno.py', 'fno_gone.py');
    await diagnosticsWhere(doc.uri, (x) => x.length > 0, 'the FNO diagnostics');
    assert.equal(
      await vscode.commands.executeCommand('fourierConv.profileLayer', {
        uri: doc.uri.toString(),
        site: 'fourier:NoSuchLayer:1',
      }),
      undefined,
    );
  });

  it('clears the diagnostics when the setting turns them off, and brings them back', async () => {
    const doc = await openFixture('fno.py', 'fno_setting.py');
    await diagnosticsWhere(doc.uri, (x) => x.length > 0, 'the FNO diagnostics');
    const cfg = vscode.workspace.getConfiguration('fourierConv');
    await cfg.update('diagnostics.enabled', false, vscode.ConfigurationTarget.Global);
    await diagnosticsWhere(doc.uri, (x) => x.length === 0, 'no diagnostics');
    await cfg.update('diagnostics.enabled', true, vscode.ConfigurationTarget.Global);
    await diagnosticsWhere(doc.uri, (x) => x.length > 0, 'the diagnostics back');
  });
});

describe('"Profile … as written": the user\'s own class, per line', () => {
  it('puts the lens on nn.Module classes, asks consent naming the interpreter and file, then decorates the costly lines, hovers their ops and shows the report', async () => {
    api ??= await vscode.extensions.getExtension<FourierConvApi>(EXT_ID)!.activate();
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = path.join(folder, 'train_fno.py');
    fs.writeFileSync(
      file,
      fs.readFileSync(path.resolve(__dirname, '..', '..', 'test', 'layer', 'fixtures', 'train_fno.py'), 'utf8'),
    );
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const mine = lenses.filter((l) => l.command?.command === 'fourierConv.profileUserLayer');
    assert.deepEqual(
      mine.map((l) => [l.command!.title, l.range.start.line + 1]),
      [
        ['$(play) Profile SpectralConv2d as written (your code, per line)', 21],
        ['$(play) Profile FNOBlock as written (your code, per line)', 42],
      ],
    );
    // The consent and the shape prompt, answered here (the extension shares this vscode API object).
    const win = vscode.window as unknown as Record<string, unknown>;
    const saved = { warn: win.showWarningMessage, input: win.showInputBox };
    const asked: string[] = [];
    win.showWarningMessage = async (msg: string, ...rest: unknown[]) => {
      asked.push(msg);
      return rest.includes('Run my code') ? 'Run my code' : undefined;
    };
    win.showInputBox = async () => '2, 16, 16, 16';
    let profile;
    try {
      profile = await vscode.commands.executeCommand<import('../../src/core/layer-profile').LayerProfile | undefined>(
        'fourierConv.profileUserLayer',
        ...mine[1]!.command!.arguments!,
      );
    } finally {
      win.showWarningMessage = saved.warn;
      win.showInputBox = saved.input;
    }
    assert.ok(profile, 'profiled');
    assert.match(asked[0] ?? '', /^Run FNOBlock from train_fno\.py in .*[Pp]ython/);
    assert.deepEqual(profile.input.shape, [2, 16, 16, 16]);
    // The status bar shows the latest result, whatever its kind: this class as written.
    assert.match(
      api.controller.statusText,
      /FNOBlock as written: [\d.]+ (ms|µs) per forward, [\d.]+ (ms|µs) per training step \(PyTorch \d/,
    );
    const decos = api.userLayer.decorationsFor(doc.uri);
    assert.ok(decos.length >= 2, JSON.stringify(decos));
    // The training step is timed by default: each line's forward and backward, its share of the step.
    for (const d of decos)
      assert.match(d.text, /^— fwd [\d.]+ (ms|µs) · bwd [\d.]+ (ms|µs|0) · \d+ % of the training step/);
    assert.ok(
      decos.some((d) => d.line === 38 || d.line === 34),
      'an FFT line is among the costly ones',
    );
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      new vscode.Position(33, 10),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /torch\.fft\.rfft2/);
    assert.ok(api.panel, 'the report panel is open');
    // A second run in this workspace does not ask again.
    asked.length = 0;
    win.showWarningMessage = async (msg: string) => {
      asked.push(msg);
      return undefined;
    };
    win.showInputBox = async () => '1, 16, 16, 16';
    try {
      const again = await vscode.commands.executeCommand<unknown>(
        'fourierConv.profileUserLayer',
        ...mine[1]!.command!.arguments!,
      );
      assert.ok(again);
    } finally {
      win.showWarningMessage = saved.warn;
      win.showInputBox = saved.input;
    }
    assert.deepEqual(asked, []);
    // An edit hides the numbers (they would point at the wrong lines) and the lens says so; an undo brings them back.
    const before = api.userLayer.decorationsFor(doc.uri);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(0, 0), '# edited\n');
    await vscode.workspace.applyEdit(edit);
    assert.deepEqual(api.userLayer.decorationsFor(doc.uri), []);
    const staleLenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
    );
    assert.ok(
      staleLenses.some((l) => /^\$\(history\) FNOBlock: edited since it was measured/.test(l.command?.title ?? '')),
      staleLenses.map((l) => l.command?.title).join(' | '),
    );
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('undo');
    assert.deepEqual(api.userLayer.decorationsFor(doc.uri), before);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
  it('writes the optimized version of a profiled layer: proven, applied as one undoable edit, then profiled per line', async () => {
    api ??= await vscode.extensions.getExtension<FourierConvApi>(EXT_ID)!.activate();
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = path.join(folder, 'fast_fno.py');
    const original = fs.readFileSync(
      path.resolve(__dirname, '..', '..', 'test', 'layer', 'fixtures', 'train_fno.py'),
      'utf8',
    );
    fs.writeFileSync(file, original);
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const win = vscode.window as unknown as Record<string, unknown>;
    const saved = { warn: win.showWarningMessage, input: win.showInputBox };
    win.showWarningMessage = async (_m: string, ...rest: unknown[]) =>
      rest.includes('Run my code') ? 'Run my code' : undefined;
    // Its constructor call in the file is not literal: the arguments box, then the shape box. Few modes of a
    // 64-wide input: the partial transforms pay clearly here.
    win.showInputBox = async (o: { title?: string }) =>
      /constructor/.test(o.title ?? '') ? '8, 8, 4, 4' : '8, 8, 64, 64';
    try {
      // Before a profile there is nothing to rewrite against: no lens.
      const before = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      assert.ok(!before.some((l) => l.command?.command === 'fourierConv.optimizeUserLayer'));
      const profile = await vscode.commands.executeCommand<unknown>('fourierConv.profileUserLayer', {
        uri: doc.uri.toString(),
        className: 'SpectralConv2d',
      });
      assert.ok(profile, 'profiled');
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      const lens = lenses.find((l) => l.command?.command === 'fourierConv.optimizeUserLayer');
      assert.ok(lens, 'the "Write the optimized version" lens');
      assert.equal(lens.command!.title, '$(zap) Write the optimized version of SpectralConv2d');
      assert.equal(lens.range.start.line + 1, 21);
      const outcome = await vscode.commands.executeCommand<import('../../src/host/optimize').OptimizeOutcome>(
        'fourierConv.optimizeUserLayer',
        { ...lens.command!.arguments![0], mode: 'replace', apply: true },
      );
      assert.ok(outcome.applied, JSON.stringify({ why: outcome.why, c: outcome.measured?.candidates }));
      assert.ok(outcome.chosen);
      const text = doc.getText();
      assert.match(text, /# fconv optimize \[partial\]/);
      assert.match(text, /# {3}measured .* ms/);
      assert.match(text, /^class SpectralConv2d\(nn\.Module\):$/m);
      assert.match(text, /^class FNOBlock\(nn\.Module\):$/m);
      assert.equal(text.split('\n').slice(0, 20).join('\n'), original.split('\n').slice(0, 20).join('\n'));
      // The new class, profiled per line on the same input (started by the apply).
      const deadline = Date.now() + 120_000;
      while (!api.userLayer.current(doc.uri) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const again = api.userLayer.current(doc.uri);
      assert.ok(again, 'the rewrite profiled');
      assert.deepEqual(again.input.shape, [8, 8, 64, 64]);
      assert.ok(
        again.lines.some((l) => /torch\.fft\.rfft\(x, dim=-1\)/.test(l.text)),
        'its own lines',
      );
      // One undo restores the file as it was.
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('undo');
      assert.equal(doc.getText(), original);
    } finally {
      win.showWarningMessage = saved.warn;
      win.showInputBox = saved.input;
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
  it("runs a Keras layer on TensorFlow: the question's class, its call() lines decorated with fwd/bwd, TF ops in the hover", async () => {
    api ??= await vscode.extensions.getExtension<FourierConvApi>(EXT_ID)!.activate();
    const root = path.resolve(__dirname, '..', '..');
    const tfPython = process.env.FCONV_TF_PYTHON ?? path.join(root, '.venv-tf', 'bin', 'python');
    assert.ok(fs.existsSync(tfPython), `TensorFlow's Python at ${tfPython}`);
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const file = path.join(folder, 'keras_question.py');
    fs.writeFileSync(file, fs.readFileSync(path.join(root, 'test', 'layer', 'fixtures', 'keras_question.py'), 'utf8'));
    const cfg = vscode.workspace.getConfiguration('fourierConv');
    await cfg.update('pythonPath', tfPython, vscode.ConfigurationTarget.Global);
    await cfg.update('threads', 1, vscode.ConfigurationTarget.Global);
    const win = vscode.window as unknown as Record<string, unknown>;
    const saved = { warn: win.showWarningMessage, input: win.showInputBox };
    try {
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      const mine = lenses.filter((l) => l.command?.command === 'fourierConv.profileUserLayer');
      assert.deepEqual(
        mine.map((l) => [l.command!.title, l.range.start.line + 1]),
        [['$(play) Profile Fourier_Conv2D as written (your code, per line, on TensorFlow)', 7]],
      );
      const asked: string[] = [];
      win.showWarningMessage = async (msg: string, ...rest: unknown[]) => {
        asked.push(msg);
        return rest.includes('Run my code') ? 'Run my code' : undefined;
      };
      // The file's own call Fourier_Conv2D(32) builds it; the shape box takes the spectra's dtype too.
      win.showInputBox = async () => '4, 28, 28, 1 complex64';
      const profile = await vscode.commands.executeCommand<
        import('../../src/core/layer-profile').LayerProfile | undefined
      >('fourierConv.profileUserLayer', ...mine[0]!.command!.arguments!);
      assert.ok(profile, 'profiled');
      assert.match(asked[0] ?? '', /^Run Fourier_Conv2D from keras_question\.py in .*\.venv-tf/);
      assert.equal(profile.engine, 'tensorflow');
      assert.deepEqual(profile.input, { shape: [4, 28, 28, 1], dtype: 'complex64' });
      assert.deepEqual(profile.init, { args: '32', from: 'file', line: 26 });
      assert.ok(fs.existsSync(path.join(folder, 'SHOULD_NOT_EXIST.txt')) === false, 'the top level did not run');
      const decos = api.userLayer.decorationsFor(doc.uri);
      assert.ok(
        decos.some((d) => d.line === 21),
        JSON.stringify(decos),
      );
      for (const d of decos) {
        assert.ok(d.line >= 18 && d.line <= 22, `line ${d.line} is in call()`);
        assert.match(d.text, /^— fwd [\d.]+ (ms|µs) · bwd [\d.]+ (ms|µs|0) · \d+ % of the training step/);
      }
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        doc.uri,
        new vscode.Position(20, 20),
      );
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.match(text, /`Einsum`/);
      assert.match(text, /TensorFlow 2\.\d+/);
      assert.match(text, /TF op callback/);
      const lensesAfter = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        doc.uri,
      );
      assert.ok(
        lensesAfter.some((l) =>
          /Fourier_Conv2D as written: .* per call, .* per training step/.test(l.command?.title ?? ''),
        ),
      );
    } finally {
      win.showWarningMessage = saved.warn;
      win.showInputBox = saved.input;
      await cfg.update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('threads', undefined, vscode.ConfigurationTarget.Global);
    }
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
