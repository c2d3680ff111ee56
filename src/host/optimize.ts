/**
 * "Write the optimized version" in the editor: a CodeLens on a PyTorch layer profiled as written. It reads the
 * class (src/scan/optimize.ts), has the candidate rewrites proven against the user's class on their weights and
 * timed against it in their interpreter (the worker's Python process, as "Profile … as written" runs), and shows
 * the fastest proven one that pays as a diff — replacing the class, or beside it under a new name, as the user
 * chooses — with the proof and the numbers; applied as one undoable edit, after which the new class is profiled
 * per line on the same input. Only in a trusted workspace, and only for a class the user already agreed to run.
 */
import * as vscode from 'vscode';
import { z } from 'zod';
import { WorkerError } from '../client/client';
import { INPUT_DTYPES } from '../core/layer-profile';
import { type OptimizeMeasured, annotate, choose, formatOptimize, gains } from '../core/optimize';
import { loadParser } from '../platform/grammars';
import { writeCandidates } from '../platform/rewrite-files';
import { extractLayer, layerSource } from '../scan/extract';
import { applyRewrite, planRewrite } from '../scan/optimize';
import type { ProfileRunner } from './runner';
import { readSettings } from './settings';
import type { UserLayerProfiler } from './user-layer';

export const OPTIMIZE_USER_LAYER = 'fourierConv.optimizeUserLayer';
const SCHEME = 'fconv-optimized';

const argsSchema = z.object({
  uri: z.string().min(1),
  className: z.string().regex(/^[A-Za-z_]\w*$/),
  /** Tests (and scripted use): skip the choice and the confirmation. */
  mode: z.enum(['replace', 'beside']).optional(),
  apply: z.boolean().optional(),
});

export interface OptimizeOutcome {
  measured?: OptimizeMeasured;
  chosen?: string;
  mode?: 'replace' | 'beside';
  className?: string;
  applied: boolean;
  why?: string;
}

const x2 = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}x`);

export class LayerOptimizer implements vscode.Disposable, vscode.CodeLensProvider, vscode.TextDocumentContentProvider {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly lensChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChange.event;
  /** The proposals and reports the diff and report views show, by path. */
  private readonly docs = new Map<string, string>();

  constructor(
    private readonly hooks: {
      runner: ProfileRunner;
      userLayer: UserLayerProfiler;
      log: { info(m: string): void; warn(m: string): void };
      grammarDirs: string[];
    },
  ) {
    this.disposables.push(
      vscode.languages.registerCodeLensProvider({ language: 'python' }, this),
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      vscode.commands.registerCommand(OPTIMIZE_USER_LAYER, (a?: unknown) => this.optimize(a)),
      hooks.userLayer.onDidChangeCodeLenses(() => this.lensChange.fire()),
      this.lensChange,
    );
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path) ?? '';
  }

  /** On a torch layer profiled as written (its input and arguments are then known): write its fast version. */
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const p = this.hooks.userLayer.current(doc.uri);
    if (!p || p.layer.line < 1 || p.layer.line > doc.lineCount) return [];
    const row = p.layer.line - 1;
    if (!new RegExp(`^\\s*class\\s+${p.layer.class}\\b`).test(doc.lineAt(row).text)) return [];
    return [
      new vscode.CodeLens(new vscode.Range(row, 0, row, 0), {
        title: `$(zap) Write the optimized version of ${p.layer.class}`,
        tooltip:
          'Rewrites forward() / call() (same constructor and weights: your checkpoint loads unchanged), proves it equal to yours on your weights — outputs and gradients — and times it against yours on this input; shows the diff before anything changes',
        command: OPTIMIZE_USER_LAYER,
        arguments: [{ uri: doc.uri.toString(), className: p.layer.class }],
      }),
    ];
  }

  private show(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${name}` });
    this.docs.set(uri.path, text);
    return uri;
  }

  async optimize(raw?: unknown): Promise<OptimizeOutcome> {
    const parsed = argsSchema.safeParse(raw);
    const fail = (why: string, level: 'error' | 'info' = 'error'): OptimizeOutcome => {
      void (level === 'error' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage)(
        `Fourier Conv: ${why}`,
      );
      return { applied: false, why };
    };
    if (!parsed.success) return fail('use the CodeLens above a profiled layer to write its optimized version.');
    const { className } = parsed.data;
    const uri = vscode.Uri.parse(parsed.data.uri);
    if (!vscode.workspace.isTrusted)
      return fail(`rewriting ${className} runs its code; this workspace is not trusted.`);
    const profile = this.hooks.userLayer.current(uri);
    if (!profile || profile.layer.class !== className)
      return fail(
        `profile ${className} as written first (the CodeLens above it; again if the file changed since): the rewrite is proven and timed on the input you profiled it with.`,
      );
    const doc = await vscode.workspace.openTextDocument(uri);
    const source = doc.getText();
    const parser = await loadParser(this.hooks.grammarDirs);
    const tree = parser.parse('python', source);
    const plan = planRewrite(tree, source, className);
    const x = extractLayer(tree, className, profile.init.args);
    tree.delete();
    if ('refused' in plan) {
      this.hooks.log.warn(`optimize ${className}: refused: ${plan.refused}; read: ${plan.understood.join(' | ')}`);
      return fail(`${className} cannot be rewritten: ${plan.refused}. Nothing was changed.`);
    }
    if ('error' in x) return fail(x.error);
    const settings = readSettings();
    const pass = profile.train ? 'both' : 'forward';
    const files = writeCandidates(uri.fsPath, source, plan);
    let res;
    try {
      res = await this.hooks.runner.optimizeLayer({
        request: {
          ...layerSource(x, uri.fsPath, profile.init.args),
          inputShape: profile.input.shape,
          ...((INPUT_DTYPES as readonly string[]).includes(profile.input.dtype)
            ? { inputDtype: profile.input.dtype as (typeof INPUT_DTYPES)[number] }
            : {}),
          warmup: 3,
          reps: 15,
          traceReps: 1,
          seed: settings.options.seed,
          pass,
          framework: profile.engine === 'tensorflow' ? 'tensorflow' : 'torch',
          candidates: files.candidates,
          compile: true,
        },
        python: await this.hooks.userLayer.interpreters(uri),
        torchDevice:
          profile.engine === 'tensorflow'
            ? undefined
            : profile.backend === 'cuda'
              ? (settings.options.torchDevice ?? 'cuda')
              : 'cpu',
        threads: settings.options.threads,
        maxMemoryBytes: settings.options.maxMemoryBytes,
        timeLimitMs: 300_000,
      });
    } finally {
      files.dispose();
    }
    if (!res) return fail('a profile is already running.', 'info');
    if ('error' in res) {
      const e = res.error;
      if (e instanceof WorkerError && e.kind === 'cancelled') return { applied: false, why: 'cancelled' };
      const where = e instanceof WorkerError && e.where ? `${e.where.file}:${e.where.line}: ` : '';
      return fail(`${where}${e.message}`);
    }
    const m = res.ok.measured;
    const { best, compiled, compileWins } = choose(m, pass);
    const where = `${m.framework === 'torch' ? 'torch' : 'TensorFlow'} ${m.version}, ${m.device}`;
    const chosen = best && plan.candidates.find((c) => c.id === best.id);
    const final = chosen && annotate(chosen, m, plan.candidates, where);
    const report = formatOptimize(m, {
      file: vscode.workspace.asRelativePath(uri),
      pass,
      understood: plan.understood,
      infos: plan.candidates.map((c) => ({ id: c.id, titles: c.changes.map((ch) => `${ch.id}: ${ch.title}`) })),
      python: `Python ${res.ok.python.version} (${res.ok.python.path})`,
    });
    const reportUri = this.show(`${className} — optimize report.txt`, report);
    this.hooks.log.info(`optimize ${className}:\n${report}`);
    const compileNote = compiled
      ? compileWins
        ? ` ${m.framework === 'torch' ? 'torch.compile' : 'XLA'} of yours was faster still (${x2(gains(m, compiled, pass).score)}): ${m.framework === 'torch' ? 'wrap it with torch.compile' : 'compile the model with jit_compile=True'}.`
        : ''
      : '';
    if (!best || !final) {
      void vscode.window
        .showInformationMessage(
          `Fourier Conv: nothing to write for ${className} — no rewrite was proven equal and faster on this machine.${compileNote}`,
          'Show report',
        )
        .then((b) => (b ? vscode.window.showTextDocument(reportUri, { preview: true }) : undefined));
      return { measured: m, applied: false, why: 'nothing pays' };
    }
    const g = gains(m, best, pass);
    const worst = Math.max(...Object.values(best.errors ?? {}).map((v) => v ?? 0));
    const summary = `${x2(g.forward)} forward${g.train !== undefined ? `, ${x2(g.train)} training step` : ''} on ${m.device}; proven equal on your weights (outputs${pass === 'both' ? ' and gradients' : ''}, largest difference ${worst.toExponential(1)})`;
    const used = new Set(source.match(/\bclass\s+(\w+)/g)?.map((s) => s.split(/\s+/)[1]) ?? []);
    let besideName = `${className}Fast`;
    for (let k = 2; used.has(besideName); k++) besideName = `${className}Fast${k}`;
    let mode = parsed.data.mode;
    if (!mode) {
      const pick = await vscode.window.showQuickPick(
        [
          {
            label: `Replace ${className}`,
            description: 'same name: your model and checkpoints use it unchanged',
            mode: 'replace' as const,
          },
          { label: `Add ${besideName} beside it`, description: 'keep yours to compare', mode: 'beside' as const },
        ],
        { title: `${className}: ${summary}`, ignoreFocusOut: true },
      );
      if (!pick) return { measured: m, chosen: best.id, applied: false, why: 'dismissed' };
      mode = pick.mode;
    }
    const newText = applyRewrite(source, plan, final, mode === 'beside' ? besideName : undefined);
    const proposal = this.show(`${className} (${best.id}).py`, newText);
    await vscode.commands.executeCommand(
      'vscode.diff',
      doc.uri,
      proposal,
      `${className} → optimized: ${x2(g.forward)} fwd${g.train !== undefined ? `, ${x2(g.train)} train` : ''} (proven)`,
    );
    let apply = parsed.data.apply;
    while (apply === undefined) {
      const b = await vscode.window.showInformationMessage(
        `Fourier Conv: apply the rewrite of ${className}? ${summary}.${compileNote}`,
        'Apply',
        'Show report',
        'Discard',
      );
      if (b === 'Show report') await vscode.window.showTextDocument(reportUri, { preview: true, preserveFocus: true });
      else apply = b === 'Apply';
    }
    const newClass = mode === 'beside' ? besideName : className;
    if (!apply) return { measured: m, chosen: best.id, mode, className: newClass, applied: false, why: 'discarded' };
    if (doc.getText() !== source)
      return { ...fail(`${doc.fileName} changed while the rewrite was measured: run it again.`), measured: m };
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(source.length)), newText);
    const ok = await vscode.workspace.applyEdit(edit);
    if (!ok) return { ...fail(`could not edit ${doc.fileName}.`), measured: m };
    await vscode.window.showTextDocument(doc);
    // The new class, per line, on the same input (no prompts: the profile's arguments and shape).
    const shape = `${profile.input.shape.join(', ')}${profile.input.dtype ? ` ${profile.input.dtype}` : ''}`;
    void this.hooks.userLayer.profile({ uri: uri.toString(), className: newClass, init: profile.init.args, shape });
    return { measured: m, chosen: best.id, mode, className: newClass, applied: true };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
