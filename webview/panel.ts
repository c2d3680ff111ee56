/**
 * The report inside VS Code: the same renderer as the standalone page, plus a toolbar (rerun, export,
 * compare with the previous run, log) and a busy banner. Talks to the extension host only through
 * schema-checked messages; anything else is ignored (and said so in the console).
 */
import type { EnginesCompare } from '../src/core/engines-compare';
import { engineLabel } from '../src/core/format';
import { variantLabel } from '../src/core/glossary';
import { ENGINE_REQUESTS } from '../src/protocol/worker-protocol';
import { renderEngines } from './engines';
import type { LayerProfile } from '../src/core/layer-profile';
import { renderLayerProfile } from './layer';
import type { Run } from '../src/core/run';
import { type FromWebview, fromWebviewSchema, toWebviewSchema } from '../src/protocol/webview-protocol';
import { compareSection } from './compare';
import { h } from './dom';
import { renderReport } from './report';
import { installTooltips } from './tooltip';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

interface Shown {
  runId: string;
  run: Run;
  previous: { runId: string; run: Run } | null;
}

export function bootPanel(root: HTMLElement): void {
  const api = acquireVsCodeApi();
  const saved = api.getState() as { compare?: boolean } | undefined;
  let shown: Shown | undefined;
  let compare = saved?.compare === true;
  let busy: { busy: boolean; label?: string } = { busy: false };
  let engines: EnginesCompare | undefined;
  let layer: LayerProfile | undefined;

  const send = (msg: FromWebview) => api.postMessage(fromWebviewSchema.parse(msg));

  const button = (
    label: string,
    title: string,
    onClick: () => void,
    opts: { disabled?: boolean; pressed?: boolean; primary?: boolean; id?: string } = {},
  ) => {
    const b = h(
      'button',
      {
        type: 'button',
        title,
        class: opts.primary ? 'primary' : 'secondary',
        id: opts.id,
        disabled: opts.disabled,
        'aria-pressed': opts.pressed === undefined ? undefined : String(opts.pressed),
      },
      label,
    );
    b.addEventListener('click', onClick);
    return b;
  };

  /** "Rerun on …": the same layer on another engine (torch in your Python, the embedded wasm, …). */
  const engineSelect = () => {
    const sel = h(
      'select',
      { id: 'rerun-engine', title: 'Profile this layer again on another engine', disabled: busy.busy || !shown },
      h('option', { value: '' }, `Rerun on… (this run: ${shown ? engineLabel(shown.run, true) : '—'})`),
      ...ENGINE_REQUESTS.map((e) => h('option', { value: e }, e === 'auto' ? 'auto (the best found)' : e)),
    ) as HTMLSelectElement;
    sel.addEventListener('change', () => {
      if (sel.value) send({ type: 'rerun', engine: sel.value as (typeof ENGINE_REQUESTS)[number] });
    });
    return sel;
  };

  /** The pass toggle: rerun timing the training step and the forward pass, or the forward pass alone. */
  const passSelect = () => {
    const now = shown?.run.settings.pass ?? 'forward';
    const sel = h(
      'select',
      {
        id: 'rerun-pass',
        title: 'Profile this layer again timing the training step (forward + backward) or the forward pass only',
        disabled: busy.busy || !shown,
      },
      h('option', { value: '' }, `Pass… (this run: ${now === 'forward' ? 'forward' : 'training + forward'})`),
      h('option', { value: 'both' }, 'training step + forward'),
      h('option', { value: 'forward' }, 'forward only'),
    ) as HTMLSelectElement;
    sel.addEventListener('change', () => {
      if (sel.value === 'both' || sel.value === 'forward') send({ type: 'rerun', pass: sel.value });
    });
    return sel;
  };

  /**
   * "torch.compile it": on a torch ≥ 2 run of a layer as written that has no compiled row yet, rerun with one (the
   * setting fourierConv.torchCompile does it for every run).
   */
  const compileButton = () => {
    const run = shown?.run;
    const offer =
      run?.framework?.name === 'torch' &&
      /^[2-9]|^\d{2,}/.test(run.framework.version) &&
      run.variants.some((v) => variantLabel(v.name) === 'as written' && !v.compiled);
    return offer
      ? button(
          'torch.compile it',
          'Profile this layer again with torch.compile of the layer as written beside it: compile time apart, timed against eager in the same rounds, output and gradients checked (adds seconds of compiling)',
          () =>
            send({
              type: 'rerun',
              engine: 'torch',
              compile: true,
              ...(run.settings.pass ? { pass: run.settings.pass } : {}),
            }),
          { disabled: busy.busy, id: 'rerun-compile' },
        )
      : null;
  };

  const toolbar = () =>
    h(
      'nav',
      { class: 'toolbar', 'aria-label': 'Report actions' },
      button('Rerun', 'Profile the same layer again with the current settings', () => send({ type: 'rerun' }), {
        disabled: busy.busy,
        primary: true,
        id: 'rerun',
      }),
      button(
        compare ? 'Hide comparison' : 'Compare with previous run',
        shown?.previous ? 'Step medians of this run against the run before it' : 'No earlier run saved yet',
        () => {
          compare = !compare;
          send({ type: 'compareToggled', show: compare });
          draw();
        },
        { disabled: !shown?.previous, pressed: compare, id: 'compare-toggle' },
      ),
      engineSelect(),
      passSelect(),
      compileButton(),
      button(
        'Compare engines',
        'Profile this layer on PyTorch (your Python) and on the embedded engine, and show their verdicts side by side',
        () => send({ type: 'compareEngines', engines: ['torch', 'wasm'] }),
        { disabled: busy.busy || !shown, id: 'compare-engines' },
      ),
      button(
        shown?.run.spec.layer === 'fno' ? 'Sweep modes' : 'Sweep kernel sizes',
        shown?.run.spec.layer === 'fno'
          ? 'Measure the FNO layer as written against the optimized formulation across modes on this grid, and mark where each wins'
          : 'Measure spatial vs spectral across kernel sizes on this layer and mark where FFT starts to pay',
        () => send({ type: 'sweep' }),
        { disabled: busy.busy, id: 'sweep' },
      ),
      button('Export report.html', 'Save a standalone HTML report', () => send({ type: 'export', format: 'html' }), {
        id: 'export-html',
      }),
      button(
        'Export trace.json',
        'Save a Chrome trace (opens in ui.perfetto.dev)',
        () => send({ type: 'export', format: 'trace' }),
        { id: 'export-trace' },
      ),
      button('Show log', 'Engine detection and run log', () => send({ type: 'showLog' }), { id: 'show-log' }),
    );

  /** "Back to the report" under the header of a view shown over the report (engines, the user's layer). */
  const backTo = (label: string, id: string, leave: () => void) =>
    root.querySelector('header')?.after(
      h(
        'nav',
        { class: 'toolbar', 'aria-label': label },
        button(
          'Back to the report',
          'The last profile shown',
          () => {
            leave();
            draw();
          },
          { id, primary: true, disabled: !shown },
        ),
      ),
    );

  const draw = () => {
    api.setState({ runId: shown?.runId, compare });
    if (layer) {
      renderLayerProfile(layer, root);
      if (shown)
        backTo('Layer actions', 'layer-back', () => {
          layer = undefined;
        });
      installTooltips(root);
      return;
    }
    if (engines) {
      renderEngines(engines, root);
      backTo('Engines actions', 'engines-back', () => {
        engines = undefined;
      });
      return;
    }
    if (!shown) {
      root.replaceChildren(
        busy.busy
          ? h('p', { class: 'busy-banner' }, busy.label ?? 'Profiling…')
          : h('p', { class: 'empty' }, 'No profile yet. Run "Profile Fourier Conv" from the command palette.'),
      );
      return;
    }
    renderReport(shown.run, root);
    const header = root.querySelector('header');
    const extras: HTMLElement[] = [toolbar()];
    if (busy.busy) extras.push(h('p', { class: 'busy-banner', role: 'status' }, busy.label ?? 'Profiling…'));
    header?.after(...extras);
    const showCompare = compare && !!shown.previous;
    if (showCompare && shown.previous) extras[extras.length - 1]!.after(compareSection(shown.previous.run, shown.run));
    installTooltips(root);
    send({
      type: 'rendered',
      runId: shown.runId,
      stepBars: root.querySelectorAll('svg.timelines .seg').length,
      compared:
        showCompare && shown.previous
          ? { previousRunId: shown.previous.runId, rows: root.querySelectorAll('#compare tbody tr').length }
          : null,
      hints: root.querySelectorAll('#hints li.hint').length,
      sweepCells: root.querySelectorAll('#sweep tbody tr').length,
      rooflinePoints: root.querySelectorAll('svg.roofline .dot').length,
    });
  };

  window.addEventListener('message', (ev: MessageEvent) => {
    const p = toWebviewSchema.safeParse(ev.data);
    if (!p.success) {
      console.warn('fconv: ignored a malformed message from the extension host');
      return;
    }
    const msg = p.data;
    if (msg.type === 'show') {
      // The comparison belongs to the run that asked for it: a new run opens without it.
      if (shown && shown.runId !== msg.runId) compare = false;
      shown = { runId: msg.runId, run: msg.run, previous: msg.previous };
      engines = undefined;
      layer = undefined;
    } else if (msg.type === 'compare') compare = msg.show;
    else if (msg.type === 'engines') {
      engines = msg.engines;
      layer = undefined;
    } else if (msg.type === 'layer') {
      layer = msg.layer;
      engines = undefined;
    } else busy = { busy: msg.busy, label: msg.label };
    draw();
  });
  draw();
  send({ type: 'ready' });
}
