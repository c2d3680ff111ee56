/**
 * The scanner in the editor: diagnostics for Python, TypeScript and JavaScript documents (on open,
 * while typing — debounced, incremental re-parse — and on save), a "Profile this layer" CodeLens on
 * every Fourier layer and Conv2D, quick fixes, and the measured numbers of the last profile of a layer
 * on its diagnostics. The parser (wasm) loads on the first document; scans are a few ms to tens of ms,
 * so they run here rather than in the engine worker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import type { DeviceProfile } from '../core/model';
import type { Run } from '../core/run';
import { loadParser } from '../platform/grammars';
import {
  DocumentScanner,
  type Finding,
  type LayerSite,
  type ScanResult,
  type SourceLanguage,
  languageOfId,
  ruleHeading,
  ruleInfo,
} from '../scan/index';
import { measuredNote, measuredSummary, measuredTooltip } from '../scan/measured';
import { RULE_IDS, type RuleId } from '../scan/rules';
import type { SourceRange } from '../scan/types';

const RULES_DOC = path.join('docs', 'rules.md');

export const SOURCE = 'Fourier Conv';
export const PROFILE_LAYER = 'fourierConv.profileLayer';
const DEBOUNCE_MS = 300;
const SCHEMES = new Set(['file', 'untitled']);

/** Arguments of "Profile this layer" (CodeLens, quick fix): checked, as they can come from anywhere. */
export const profileLayerArgs = z.object({ uri: z.string().max(4096), site: z.string().max(512) });

interface DocState {
  version: number;
  result: ScanResult;
}

export interface LayerProfiler {
  /** Runs "Profile Fourier Conv" for a spec read from code; resolves with the run, if one ran. */
  profile(spec: LayerSite['spec'], origin?: { name: string; read: string[] }): Promise<{ run: Run } | undefined>;
  /** The device the last saved run was modelled on (its calibrated rates price the Conv2Ds). */
  lastDevice(): DeviceProfile | undefined;
}

const toRange = (r: SourceRange) => new vscode.Range(r.start.line, r.start.column, r.end.line, r.end.column);

export class SourceDiagnostics implements vscode.Disposable, vscode.CodeLensProvider, vscode.CodeActionProvider {
  readonly collection = vscode.languages.createDiagnosticCollection('fourierConv');
  private scanner: DocumentScanner | undefined;
  private loading: Promise<DocumentScanner | undefined> | undefined;
  private readonly docs = new Map<string, DocState>();
  private readonly pending = new Map<
    string,
    { timer: NodeJS.Timeout; changes: Array<{ offset: number; length: number; text: string }> }
  >();
  /** Last run per layer: `uri#site name` → run (the numbers on its diagnostics and CodeLens). */
  private readonly measured = new Map<string, Run>();
  /** The layer's source text when it was measured: numbers for a layer edited since are stale. */
  private readonly measuredText = new Map<string, string>();
  private readonly lensChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChange.event;
  private readonly scanned = new vscode.EventEmitter<{ uri: vscode.Uri; result: ScanResult }>();
  /** Fires after every scan (the tests wait on it). */
  readonly onDidScan = this.scanned.event;
  private readonly subs: vscode.Disposable[] = [];
  private rulesDocLines: Map<RuleId, number> | undefined;
  private device: DeviceProfile | undefined;

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly profiler: LayerProfiler,
  ) {
    const selector = ['python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'].flatMap((language) =>
      [...SCHEMES].map((scheme) => ({ language, scheme })),
    );
    this.subs.push(
      this.collection,
      this.lensChange,
      this.scanned,
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerCodeActionsProvider(selector, this, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      vscode.workspace.onDidSaveTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('fourierConv.diagnostics')) this.rescanAll();
      }),
    );
    this.rescanAll();
  }

  private get enabled(): boolean {
    return vscode.workspace.getConfiguration('fourierConv').get<boolean>('diagnostics.enabled', true);
  }

  private get maxChars(): number {
    const v = vscode.workspace.getConfiguration('fourierConv').get<number>('diagnostics.maxFileSize', 1 << 20);
    return Number.isInteger(v) && v > 0 ? v : 1 << 20;
  }

  private language(doc: vscode.TextDocument): SourceLanguage | undefined {
    return SCHEMES.has(doc.uri.scheme) ? languageOfId(doc.languageId) : undefined;
  }

  private rescanAll(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private async ready(): Promise<DocumentScanner | undefined> {
    if (this.scanner) return this.scanner;
    this.loading ??= (async () => {
      const t0 = performance.now();
      try {
        const parser = await loadParser([path.join(this.extensionPath, 'dist', 'grammars')]);
        this.device ??= this.profiler.lastDevice();
        this.scanner = new DocumentScanner(parser, () => ({ maxChars: this.maxChars, device: this.device }));
        this.log.info(
          `source scanner ready in ${(performance.now() - t0).toFixed(0)} ms (web-tree-sitter; Python, TypeScript, TSX, JavaScript grammars)`,
        );
        return this.scanner;
      } catch (e) {
        this.log.error(`the source scanner could not load, so there are no diagnostics: ${(e as Error).message}`);
        return undefined;
      }
    })();
    return this.loading;
  }

  private onChange(e: vscode.TextDocumentChangeEvent): void {
    if (!e.contentChanges.length || !this.language(e.document)) return;
    const key = e.document.uri.toString();
    const p = this.pending.get(key);
    const changes = [
      ...(p?.changes ?? []),
      ...e.contentChanges.map((c) => ({ offset: c.rangeOffset, length: c.rangeLength, text: c.text })),
    ];
    this.schedule(e.document, DEBOUNCE_MS, changes);
  }

  /** Scans `doc` after `delay` ms, replacing a scan already waiting; changes are kept for the incremental parse. */
  private schedule(
    doc: vscode.TextDocument,
    delay: number,
    changes?: Array<{ offset: number; length: number; text: string }>,
  ): void {
    if (!this.language(doc)) return;
    const key = doc.uri.toString();
    const prev = this.pending.get(key);
    if (prev) clearTimeout(prev.timer);
    const timer = setTimeout(() => {
      this.pending.delete(key);
      void this.scan(doc, changes);
    }, delay);
    this.pending.set(key, { timer, changes: changes ?? [] });
  }

  /** Scans a document now (the tests and "Profile this layer" call it directly). */
  async scan(
    doc: vscode.TextDocument,
    changes?: Array<{ offset: number; length: number; text: string }>,
  ): Promise<ScanResult | undefined> {
    const lang = this.language(doc);
    if (!lang) return undefined;
    const key = doc.uri.toString();
    if (!this.enabled) {
      this.collection.delete(doc.uri);
      this.docs.delete(key);
      return undefined;
    }
    const scanner = await this.ready();
    if (!scanner || doc.isClosed) return undefined;
    // The scanner re-parses incrementally when the changes turn the text it last saw into this one,
    // and from scratch otherwise.
    const result = scanner.scan(key, lang, doc.getText(), changes);
    if (result.skipped) this.log.info(`not scanned: ${doc.uri.fsPath || key} — ${result.skipped}`);
    for (const err of result.errors) this.log.warn(`scanner: ${doc.uri.fsPath || key}: ${err}`);
    this.docs.set(key, { version: doc.version, result });
    this.publish(doc.uri, result);
    this.lensChange.fire();
    this.scanned.fire({ uri: doc.uri, result });
    return result;
  }

  /** The line of each rule's heading in docs/rules.md (shipped with the extension). */
  private ruleLines(): Map<RuleId, number> {
    if (this.rulesDocLines) return this.rulesDocLines;
    const map = new Map<RuleId, number>();
    try {
      const lines = fs.readFileSync(path.join(this.extensionPath, RULES_DOC), 'utf8').split('\n');
      for (const id of RULE_IDS) {
        const i = lines.indexOf(ruleHeading(id));
        if (i >= 0) map.set(id, i + 1);
      }
    } catch (e) {
      this.log.warn(`${RULES_DOC} not readable, diagnostics link nowhere: ${(e as Error).message}`);
    }
    this.rulesDocLines = map;
    return map;
  }

  /** A rule's section in docs/rules.md (VS Code opens `file…#L<line>` at that line). */
  docsUri(rule: RuleId): vscode.Uri {
    const line = this.ruleLines().get(rule);
    return vscode.Uri.file(path.join(this.extensionPath, RULES_DOC)).with({ fragment: line ? `L${line}` : '' });
  }

  private siteOf(uri: vscode.Uri, id: string | undefined): LayerSite | undefined {
    return id ? this.docs.get(uri.toString())?.result.layers.find((l) => l.id === id) : undefined;
  }

  private measureKey(uri: vscode.Uri, site: LayerSite): string {
    return `${uri.toString()}#${site.kind}:${site.name}`;
  }

  /**
   * The source block a layer lives in: from its line to the next line that starts at column 0 (a new top-level
   * statement). What "the layer's text changed" is measured against.
   */
  private blockText(uri: vscode.Uri, site: LayerSite): string | undefined {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc) return undefined;
    const lines = doc.getText().split('\n');
    const start = site.range.start.line;
    let end = start + 1;
    while (end < lines.length && !/^[^\s)\]}#@/]/.test(lines[end]!)) end++;
    return lines.slice(start, end).join('\n');
  }

  /** The last run of a layer, unless the layer was edited since (then its numbers are stale). */
  private measuredFor(uri: vscode.Uri, site: LayerSite): { run: Run; stale: boolean } | undefined {
    const key = this.measureKey(uri, site);
    const run = this.measured.get(key);
    if (!run) return undefined;
    const then = this.measuredText.get(key);
    const now = this.blockText(uri, site);
    return { run, stale: then !== undefined && now !== undefined && then !== now };
  }

  /**
   * A finding as a diagnostic: one line that stands alone in the Problems panel (the rule's title); the whole
   * explanation, what to do and the measured numbers as related information (in the hover and under the line).
   */
  private diagnostic(uri: vscode.Uri, f: Finding): vscode.Diagnostic {
    const title = ruleInfo(f.rule).title;
    const range = toRange(f.range);
    const site = this.siteOf(uri, f.layer);
    const m = site && this.measuredFor(uri, site);
    const note = m && !m.stale ? measuredNote(m.run, f.rule) : undefined;
    const d = new vscode.Diagnostic(
      range,
      `${title[0]!.toUpperCase()}${title.slice(1)}`,
      f.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
    );
    const at = new vscode.Location(uri, range);
    d.relatedInformation = [
      f.message,
      ...(f.suggestion ? [`What to do: ${f.suggestion}`] : []),
      ...(note ? [note] : []),
      ...(m?.stale ? ['The numbers measured before your last edit of this layer are stale: profile it again.'] : []),
    ].map((text) => new vscode.DiagnosticRelatedInformation(at, text));
    d.source = SOURCE;
    d.code = { value: f.rule, target: this.docsUri(f.rule) };
    return d;
  }

  private publish(uri: vscode.Uri, result: ScanResult): void {
    this.collection.set(
      uri,
      result.findings.map((f) => this.diagnostic(uri, f)),
    );
  }

  /** A run's device: from now on each Conv2D whose shapes the code states is priced on it. */
  useDevice(device: DeviceProfile | undefined): void {
    if (!device || device === this.device) return;
    this.device = device;
    if (this.scanner) this.rescanAll();
  }

  /** The last scan of a document (tests, profile-layer). */
  resultFor(uri: vscode.Uri): ScanResult | undefined {
    return this.docs.get(uri.toString())?.result;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const state = this.docs.get(doc.uri.toString());
    if (!state || !this.enabled) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const site of state.result.layers) {
      const range = new vscode.Range(site.range.start.line, 0, site.range.start.line, 0);
      // A 1×1 convolution (an FNO's pointwise path, a channel projection) is a GEMM: no spatial-vs-Fourier question.
      if (site.kind === 'conv2d' && site.spec.kernelH === 1 && site.spec.kernelW === 1) continue;
      if (site.kind === 'fno' && site.dims !== 2) {
        // 1-D and 3-D FNO layers are found and explained, not profiled yet: say so where the lens would be.
        lenses.push(
          new vscode.CodeLens(range, {
            title: `$(info) ${site.dims}-D FNO layer: not profiled yet (2-D only)`,
            tooltip: site.notes?.join('; ') ?? '',
            command: '',
          }),
        );
        continue;
      }
      lenses.push(
        new vscode.CodeLens(range, {
          title: '$(pulse) Profile this layer',
          tooltip:
            site.kind === 'fno'
              ? `Profile ${site.name} as an FNO layer (as written vs optimized; ${describePartial(site)})`
              : `Profile ${site.name} against the spatial convolution (${describePartial(site)})`,
          command: PROFILE_LAYER,
          arguments: [{ uri: doc.uri.toString(), site: site.id }],
        }),
      );
      const m = this.measuredFor(doc.uri, site);
      const note = m && measuredSummary(m.run, site.kind);
      if (note && m.stale)
        lenses.push(
          new vscode.CodeLens(range, {
            title: '$(history) edited since it was measured: profile again',
            tooltip: `The numbers (${note}) are from before your last edit of this layer`,
            command: PROFILE_LAYER,
            arguments: [{ uri: doc.uri.toString(), site: site.id }],
          }),
        );
      else if (note)
        lenses.push(
          new vscode.CodeLens(range, {
            title: note,
            tooltip: measuredTooltip(m.run),
            command: 'fourierConv.openLastReport',
          }),
        );
    }
    return lenses;
  }

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    ctx: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const state = this.docs.get(doc.uri.toString());
    if (!state) return [];
    const ours = ctx.diagnostics.filter((d) => d.source === SOURCE);
    const actions: vscode.CodeAction[] = [];
    const profiled = new Set<string>();
    for (const f of state.result.findings) {
      const diag = ours.find(
        (d) => typeof d.code === 'object' && d.code.value === f.rule && d.range.isEqual(toRange(f.range)),
      );
      if (!diag && !toRange(f.range).intersection(range)) continue;
      for (const fix of f.fixes) {
        const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        a.edit = new vscode.WorkspaceEdit();
        for (const e of fix.edits) a.edit.replace(doc.uri, toRange(e.range), e.newText);
        if (diag) a.diagnostics = [diag];
        a.isPreferred = actions.every((x) => !x.isPreferred);
        actions.push(a);
      }
      const site = this.siteOf(doc.uri, f.layer) ?? state.result.layers.find((l) => l.kind === 'fourier');
      if (site && !profiled.has(site.id)) {
        profiled.add(site.id);
        const a = new vscode.CodeAction(`Profile this layer (${site.name})`, vscode.CodeActionKind.QuickFix);
        a.command = {
          command: PROFILE_LAYER,
          title: 'Profile this layer',
          arguments: [{ uri: doc.uri.toString(), site: site.id }],
        };
        if (diag) a.diagnostics = [diag];
        actions.push(a);
      }
    }
    return actions;
  }

  /** "Profile this layer": the spec read from the code, the rest asked for; the numbers go back on the diagnostics. */
  async profileLayer(raw: unknown): Promise<{ run: Run } | undefined> {
    const args = profileLayerArgs.safeParse(raw);
    if (!args.success) {
      this.log.warn(`profile this layer: ignored malformed arguments (${args.error.issues[0]?.message})`);
      return undefined;
    }
    const uri = vscode.Uri.parse(args.data.uri, true);
    const doc =
      vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) ??
      (await vscode.workspace.openTextDocument(uri));
    const result = this.docs.get(uri.toString())?.version === doc.version ? this.resultFor(uri) : await this.scan(doc);
    const site = result?.layers.find((l) => l.id === args.data.site);
    if (!site) {
      void vscode.window.showWarningMessage(
        'Fourier Conv: that layer is no longer in the file (it was edited); use the CodeLens above the layer again.',
      );
      return undefined;
    }
    this.log.info(
      `profile this layer: ${site.name} (${uri.fsPath || uri.toString()}:${site.range.start.line + 1}); from the code: ${
        Object.entries(site.specSources)
          .map(([k, v]) => `${k} ← ${v}`)
          .join('; ') || 'nothing'
      }`,
    );
    const stored = await this.profiler.profile(site.spec, {
      name: site.name,
      read: Object.entries(site.specSources).map(([k, v]) => `${k} ← ${v}`),
    });
    if (stored) {
      this.measured.set(this.measureKey(uri, site), stored.run);
      const text = this.blockText(uri, site);
      if (text !== undefined) this.measuredText.set(this.measureKey(uri, site), text);
      this.useDevice(stored.run.analysis?.device);
      const current = this.resultFor(uri);
      if (current) this.publish(uri, current);
      this.lensChange.fire();
    }
    return stored;
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    const p = this.pending.get(key);
    if (p) clearTimeout(p.timer);
    this.pending.delete(key);
    this.docs.delete(key);
    this.scanner?.forget(key);
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.scanner?.dispose();
    for (const s of this.subs) s.dispose();
  }
}

export function describePartial(site: LayerSite): string {
  const s = site.spec;
  const have = [
    s.batch && `batch ${s.batch}`,
    s.height && s.width && `${s.height}×${s.width}`,
    (s.inChannels || s.outChannels) && `${s.inChannels ?? '?'}→${s.outChannels ?? '?'}`,
    s.kernelH && `kernel ${s.kernelH}×${s.kernelW ?? s.kernelH}`,
    s.modes && `modes ${s.modes[0]}×${s.modes[1]} (${s.modesConvention ?? 'corners'})`,
  ].filter(Boolean);
  return have.length ? `read from the code: ${have.join(', ')}` : 'nothing read from the code; you will be asked';
}
