/**
 * "Profile … as written" in the editor: a CodeLens on every nn.Module and Keras Layer class of a Python file (Fourier
 * layers first, then Conv2d-bearing ones; torch runs the first, TensorFlow the second), which runs the user's own
 * class — only in a trusted workspace, after a
 * one-time confirmation per workspace naming the interpreter and the file — then puts each costly line's
 * time and share at the end of the line, its ops in a hover, their traceback's line as a diagnostic when
 * their code fails, and the line-by-line report (with the profiler's formulations beside it) in the panel.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { candidates } from '../platform/python-candidates';
import { z } from 'zod';
import { WorkerError } from '../client/client';
import { fmtMs } from '../core/format';
import {
  type LayerProfile,
  assembleLayerProfile,
  comparisonOf,
  costlyLines,
  lineLabel,
  lineShare,
  parseShapeInput,
  wholeMs,
  specOfLayer,
} from '../core/layer-profile';
import { decodePythonSource } from '../platform/files';
import { loadParser } from '../platform/grammars';
import {
  extractLayer,
  initFor,
  initProblem,
  initTemplate,
  inputShapeGuess,
  layerSource,
  moduleClasses,
} from '../scan/extract';
import { pythonExtensionInterpreter } from './python';
import type { ProfileRunner } from './runner';
import { readSettings } from './settings';

export const PROFILE_USER_LAYER = 'fourierConv.profileUserLayer';
const CONSENT = 'fourierConv.userCodeConsent';
const LAST_SHAPE = 'fourierConv.userLayerShape';

/**
 * The file as Python reads it (PEP 263: its coding cookie) when the editor holds no unsaved change — VS Code decodes
 * by its own settings — else the editor's text.
 */
function sourceOf(doc: vscode.TextDocument): string {
  if (doc.isDirty || doc.uri.scheme !== 'file') return doc.getText();
  try {
    return decodePythonSource(readFileSync(doc.uri.fsPath));
  } catch {
    return doc.getText();
  }
}

const argsSchema = z.object({
  uri: z.string().min(1),
  className: z.string().regex(/^[A-Za-z_]\w*$/),
  /** Given (the rewrite of a profiled class, profiled on the same input): no prompts for them. */
  init: z.string().max(4000).optional(),
  shape: z.string().max(200).optional(),
});

export interface UserLayerHooks {
  runner: ProfileRunner;
  log: { info(m: string): void; warn(m: string): void };
  showLayer: (p: LayerProfile) => void;
  /** Where the tree-sitter grammars are (the extension's dist/grammars). */
  grammarDirs: string[];
}

export class UserLayerProfiler implements vscode.Disposable, vscode.CodeLensProvider, vscode.HoverProvider {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly lensChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChange.event;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' },
    isWholeLine: false,
  });
  private readonly hot = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorWarning.foreground'), fontStyle: 'italic' },
  });
  readonly diagnostics = vscode.languages.createDiagnosticCollection('fourier-conv-layer');
  /**
   * Last profile per file (uri string): its decorations and hovers. An edit makes it stale (hidden, the lens says
   * so); an undo back to the measured text brings it back.
   */
  readonly profiles = new Map<string, LayerProfile>();
  /** The file's text when its profile was measured. */
  private readonly measuredText = new Map<string, string>();

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly hooks: UserLayerHooks,
  ) {
    const selector = { language: 'python' };
    this.disposables.push(
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerHoverProvider(selector, this),
      vscode.commands.registerCommand(PROFILE_USER_LAYER, (a?: unknown) => this.profile(a)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorateAll()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        // Numbers from before an edit would point at the wrong lines: hidden while the text differs from the
        // measured one (an undo back to it shows them again); the error marks go.
        if (!e.contentChanges.length) return;
        if (this.profiles.has(e.document.uri.toString())) {
          this.decorateAll();
          this.lensChange.fire();
        }
        this.diagnostics.delete(e.document.uri);
      }),
      this.diagnostics,
      this.decoration,
      this.hot,
      this.lensChange,
    );
  }

  /** Whether the file was edited since its profile was measured (its numbers would point at the wrong lines). */
  isStale(uri: vscode.Uri): boolean {
    const key = uri.toString();
    const measured = this.measuredText.get(key);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    return measured !== undefined && !!doc && doc.getText() !== measured;
  }

  /** The file's profile when its numbers still hold (not edited since). */
  current(uri: vscode.Uri): LayerProfile | undefined {
    return this.isStale(uri) ? undefined : this.profiles.get(uri.toString());
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (doc.getText().length > 1 << 20) return [];
    let classes;
    try {
      const parser = await loadParser(this.hooks.grammarDirs);
      const tree = parser.parse('python', doc.getText());
      classes = moduleClasses(tree);
      tree.delete();
    } catch {
      return [];
    }
    const profile = this.profiles.get(doc.uri.toString());
    const stale = this.isStale(doc.uri);
    return classes
      .filter((c) => c.fourier || c.conv)
      .sort((a, b) => Number(b.fourier) - Number(a.fourier) || a.line - b.line)
      .map((c) => {
        const mine = profile?.layer.class === c.name ? profile : undefined;
        const keras = c.framework === 'keras';
        return new vscode.CodeLens(new vscode.Range(c.row, 0, c.row, 0), {
          title:
            mine && stale
              ? `$(history) ${c.name}: edited since it was measured (${fmtMs(mine.totalMs.median)} per ${keras ? 'call' : 'forward'}) — profile again`
              : mine
                ? `$(play) ${c.name} as written: ${fmtMs(mine.totalMs.median)} per ${keras ? 'call' : 'forward'}${mine.train ? `, ${fmtMs(mine.train.totalMs.median)} per training step` : ''}${mine.comparison?.gain ? `, optimized ${mine.comparison.gain.factor.toFixed(1)}x` : ''} — profile again`
                : `$(play) Profile ${c.name} as written (your code, per line${keras ? ', on TensorFlow' : ''})`,
          tooltip: `Runs ${c.name} from this file (its imports, and the functions and constants it uses — not the rest of the file) in your Python${keras ? ' with TensorFlow' : ' with torch'}, and times each line of ${keras ? 'call()' : 'forward()'} and of the training step`,
          command: PROFILE_USER_LAYER,
          arguments: [{ uri: doc.uri.toString(), className: c.name }],
        });
      });
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const p = this.current(doc.uri);
    const l = p?.lines.find((x) => x.file === doc.uri.fsPath && x.line === pos.line + 1);
    if (!p || !l) return undefined;
    const md = new vscode.MarkdownString();
    const tf = p.engine === 'tensorflow';
    md.appendMarkdown(
      `**${fmtMs(l.ms)}** per ${tf ? 'call' : 'forward'} (${Math.round(l.share * 100)} % of ${fmtMs(p.totalMs.median)})${l.hits > 1 ? `, ${l.hits} calls` : ''} — ${p.framework.name} ${p.framework.version} on ${p.device}\n\n`,
    );
    if (p.train && l.backwardMs !== undefined)
      md.appendMarkdown(
        `**${fmtMs(l.backwardMs)}** in the backward (${tf ? "the gradients of this line's ops" : 'the autograd nodes this line made'}; ${Math.round((l.backwardShare ?? 0) * 100)} % of the ${fmtMs(p.train.backwardMs.median)} backward) — fwd + bwd ${Math.round(lineShare(p, l) * 100)} % of the training step\n\n`,
      );
    if (l.ops.length) {
      // The line's figure above is its share of the plain forward; the ops are timed one by one with a sync around
      // each (another measure): their sum is said as such, not as a second time for the line.
      md.appendMarkdown(`| ${tf ? 'TF op' : 'op'} | inputs | op by op |\n|---|---|---:|\n`);
      for (const o of l.ops)
        md.appendMarkdown(
          `| \`${o.name}\`${o.calls && o.calls > 1 ? ` ×${o.calls}` : ''} | ${o.shapes.join(', ') || '—'} | ${fmtMs(o.ms)} |\n`,
        );
      if (l.ops.length > 1) md.appendMarkdown(`| _Σ op by op_ | | _${fmtMs(l.ops.reduce((a, o) => a + o.ms, 0))}_ |\n`);
    }
    if (l.kernels.length)
      md.appendMarkdown(
        `\n${l.kernels[0]!.device === 'cuda' ? 'CUDA kernels' : 'aten ops'} (torch.profiler, a warmed pass; its own overhead included): ${l.kernels
          .slice(0, 4)
          .map((k) => `\`${k.name}\` ${fmtMs(k.ms)}`)
          .join(', ')}\n`,
      );
    md.appendMarkdown(
      `\n_${p.attribution.split(';')[0]}; ${tf ? 'op times from a TF op callback after each op (the time since the op before)' : 'op times with a sync before and after each op'}._`,
    );
    return new vscode.Hover(md);
  }

  private decorateAll(): void {
    for (const ed of vscode.window.visibleTextEditors) {
      const p = this.current(ed.document.uri);
      const mine = p ? costlyLines(p, 0.02).filter((l) => l.file === ed.document.uri.fsPath) : [];
      const deco = (hot: boolean) =>
        mine
          .filter((l) => lineShare(p!, l) >= 0.2 === hot && l.line <= ed.document.lineCount)
          .map((l) => {
            const line = ed.document.lineAt(l.line - 1);
            return {
              range: new vscode.Range(line.range.end, line.range.end),
              renderOptions: { after: { contentText: `— ${lineLabel(l, fmtMs, p!.train && wholeMs(p!))}` } },
            };
          });
      ed.setDecorations(this.decoration, deco(false));
      ed.setDecorations(this.hot, deco(true));
    }
  }

  /** The decorations now on `uri`'s editor (tests). */
  decorationsFor(uri: vscode.Uri): Array<{ line: number; text: string }> {
    const p = this.current(uri);
    if (!p) return [];
    return costlyLines(p, 0.02)
      .filter((l) => l.file === uri.fsPath)
      .map((l) => ({ line: l.line, text: `— ${lineLabel(l, fmtMs, p.train && wholeMs(p))}` }));
  }

  async profile(raw?: unknown): Promise<LayerProfile | undefined> {
    const parsed = argsSchema.safeParse(raw);
    if (!parsed.success) {
      void vscode.window.showErrorMessage(
        'Fourier Conv: use the CodeLens above an nn.Module or Keras Layer class to profile it.',
      );
      return undefined;
    }
    const { className } = parsed.data;
    const uri = vscode.Uri.parse(parsed.data.uri);
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(
        `Fourier Conv: profiling ${className} runs its code; this workspace is not trusted. Trust it (Manage Workspace Trust) to profile your own layers.`,
      );
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const parser = await loadParser(this.hooks.grammarDirs);
    const source = sourceOf(doc);
    const measuredText = doc.getText();
    const tree = parser.parse('python', source);
    let x = extractLayer(tree, className);
    tree.delete();
    if ('error' in x) {
      void vscode.window.showErrorMessage(`Fourier Conv: ${x.error}`);
      return undefined;
    }
    const settings = readSettings();
    const python = await this.interpreters(uri);
    const keras = x.framework === 'keras';
    // None set: the worker will take the first of these with the framework, in this order — name them.
    // The worker runs in the extension's folder (src/host/runner.ts): the same candidates as it will try.
    const found = python.length ? [] : candidates([], process.env, this.ctx.extensionPath).map((c) => c.path);
    const interpreter =
      python[0]?.path ??
      (found.length
        ? `the first Python with ${keras ? 'TensorFlow' : 'torch'} of ${found.join(', ')}`
        : `a Python with ${keras ? 'TensorFlow' : 'torch'} (none found on the PATH: set fourierConv.pythonPath)`);
    const file = vscode.workspace.asRelativePath(uri);
    const consented = this.ctx.workspaceState.get<string[]>(CONSENT, []);
    const consentKey = `${interpreter}\u0000${uri.fsPath}`;
    if (!consented.includes(consentKey)) {
      const go = await vscode.window.showWarningMessage(
        `Run ${className} from ${file} in ${interpreter}?`,
        {
          modal: true,
          detail: `Fourier Conv runs the file's imports and the functions, classes and constants ${className} uses — not the rest of the file — in a Python process of its own (time limit and memory budget from the settings). Asked once per file and interpreter in this workspace.`,
        },
        'Run my code',
      );
      if (go !== 'Run my code') return undefined;
      await this.ctx.workspaceState.update(CONSENT, [...consented, consentKey]);
    }
    let init = initFor(x);
    if (parsed.data.init !== undefined) {
      init = { args: parsed.data.init, from: '--init' };
      const again = parser.parse('python', source);
      const withInit = extractLayer(again, className, parsed.data.init);
      again.delete();
      if (!('error' in withInit)) x = withInit;
    } else if ('missing' in init) {
      const constants = x.constants;
      const args = await vscode.window.showInputBox({
        title: `${className}: constructor arguments (Python literals)`,
        prompt: `The file has no call of ${className} with literal arguments; ${init.missing.join(', ')} ${init.missing.length === 1 ? 'has' : 'have'} no default`,
        value: initTemplate(init.params),
        ignoreFocusOut: true,
        validateInput: (v) => initProblem(v, constants, (s) => parser.parse('python', s)),
      });
      if (args === undefined) return undefined;
      init = { args, from: '--init' };
      // The arguments may name any module constant of the file: take those along too.
      const again = parser.parse('python', source);
      const withInit = extractLayer(again, className, args);
      again.delete();
      if (!('error' in withInit)) x = withInit;
    }
    const shapeText =
      parsed.data.shape ??
      (await vscode.window.showInputBox({
        title: `${className}: the input of ${keras ? 'call()' : 'forward()'}`,
        prompt: keras
          ? 'Shape of the random input, NHWC (batch, height, width, channels); add a dtype for a layer fed spectra, e.g. 32, 28, 28, 1 complex64'
          : 'Shape of the random input, e.g. batch, channels, height, width (optionally a dtype: … complex64)',
        // The last shape given for this class, else what the file feeds it (model(torch.randn(20, 64, 64, 3))),
        // else a default of the layer's kind.
        value: this.ctx.workspaceState.get<string>(
          `${LAST_SHAPE}:${className}`,
          inputShapeGuess(measuredText, className)?.join(', ') ?? (keras ? '32, 28, 28, 1' : '20, 32, 64, 64'),
        ),
        ignoreFocusOut: true,
        validateInput: (v) =>
          parseShapeInput(v)
            ? undefined
            : 'Give 1–6 positive integers, e.g. 20, 32, 64, 64, and optionally a dtype (float32, complex64, …)',
      }));
    if (shapeText === undefined) return undefined;
    const { shape: inputShape, dtype: inputDtype } = parseShapeInput(shapeText)!;
    await this.ctx.workspaceState.update(`${LAST_SHAPE}:${className}`, shapeText);
    const torchDevice = settings.options.torchDevice;
    const res = await this.hooks.runner.profileLayer({
      request: {
        ...layerSource(x, uri.fsPath, init.args),
        inputShape,
        warmup: 3,
        reps: 20,
        traceReps: 7,
        seed: settings.options.seed,
        framework: keras ? 'tensorflow' : 'torch',
        ...(inputDtype ? { inputDtype } : {}),
        // fourierConv.torchCompile: torch.compile of the class as written, one more row (torch ≥ 2 says why not).
        ...(settings.options.compile && !keras ? { compile: true } : {}),
      },
      python,
      torchDevice: keras ? undefined : torchDevice,
      threads: settings.options.threads,
      maxMemoryBytes: settings.options.maxMemoryBytes,
      timeLimitMs: 300_000,
    });
    if (!res) {
      void vscode.window.showWarningMessage('Fourier Conv: a profile is already running.');
      return undefined;
    }
    this.diagnostics.delete(uri);
    if ('error' in res) {
      const e = res.error;
      const where = e instanceof WorkerError ? e.where : undefined;
      if (where) {
        const target = vscode.Uri.file(where.file);
        const d = new vscode.Diagnostic(
          new vscode.Range(where.line - 1, 0, where.line - 1, Number.MAX_SAFE_INTEGER),
          e.message,
          vscode.DiagnosticSeverity.Error,
        );
        d.source = 'Fourier Conv (your layer)';
        this.diagnostics.set(target, [d]);
        void vscode.window.showErrorMessage(`Fourier Conv: ${path.basename(where.file)}:${where.line}: ${e.message}`);
      } else if (!(e instanceof WorkerError && e.kind === 'cancelled'))
        void vscode.window.showErrorMessage(`Fourier Conv: ${e.message}`);
      this.hooks.log.warn(`profile ${className}: ${e.message}`);
      return undefined;
    }
    let profile = assembleLayerProfile(res.ok.measured, {
      classLine: x.classLine,
      init:
        init.from === 'file'
          ? { args: init.args, from: 'file', line: init.line }
          : { args: init.args, from: init.from },
      python: res.ok.python,
      notes: x.notes,
      measuredAt: new Date(),
    });
    profile = await this.compare(profile, res.ok.measured, { python, torchDevice, settings });
    this.profiles.set(uri.toString(), profile);
    this.measuredText.set(uri.toString(), measuredText);
    this.decorateAll();
    this.lensChange.fire();
    this.hooks.showLayer(profile);
    return profile;
  }

  /** The interpreters to try, in order: the setting, then the Python extension's for this file. */
  async interpreters(uri: vscode.Uri): Promise<Array<{ path: string; from: string }>> {
    const fromExt = await pythonExtensionInterpreter(this.hooks.log, uri);
    return [
      ...(readSettings().options.python ?? []),
      ...(fromExt ? [{ path: fromExt, from: 'the Python extension' }] : []),
    ];
  }

  private async compare(
    profile: LayerProfile,
    measured: Parameters<typeof specOfLayer>[0],
    o: {
      python: Array<{ path: string; from: string }>;
      torchDevice?: string;
      settings: ReturnType<typeof readSettings>;
    },
  ): Promise<LayerProfile> {
    const found = specOfLayer(measured);
    if ('why' in found) return { ...profile, noComparison: found.why };
    const outcome = await this.hooks.runner.run(found.spec, {
      ...o.settings.options,
      engine: profile.engine,
      python: o.python,
      torchDevice: profile.backend === 'cuda' ? (o.torchDevice ?? 'cuda') : 'cpu',
      variants: found.variants,
      pass: profile.train ? 'both' : 'forward',
      // The comparison beside the user's class: torch.compile is the class's own row (profile-layer), not this run's.
      compile: false,
    });
    if (outcome.kind !== 'done' || !outcome.run.variants.length)
      return {
        ...profile,
        noComparison: `the profiler's run did not complete${outcome.kind === 'done' ? '' : `: ${outcome.error.message}`}`,
      };
    const run = outcome.run;
    return {
      ...profile,
      comparison: comparisonOf(
        found,
        `${run.engine}/${run.backend} — ${run.device}`,
        run.variants,
        profile.train?.totalMs,
      ),
    };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
