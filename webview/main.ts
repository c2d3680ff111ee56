/**
 * Entry of the report bundle. Standalone (CLI): the run is inlined as JSON in #fconv-run. In the
 * extension's panel the same renderer gets runs through schema-checked messages (panel.ts).
 */
import { parseRun } from '../src/core/run';
import { h } from './dom';
import { bootPanel } from './panel';
import { renderFnoSweepOnly, renderSweepOnly } from './sweeps';
import { renderReport } from './report';
import { renderEngines } from './engines';
import { installTooltips } from './tooltip';
import { type PageDoc, pageDocSchema } from '../src/protocol/webview-protocol';
import { renderLayerProfile } from './layer';

/** One renderer per kind of page document (src/protocol/webview-protocol.ts, pageDocSchema). */
const RENDER: { [K in PageDoc['kind']]: (doc: Extract<PageDoc, { kind: K }>, root: HTMLElement) => void } = {
  run: (d, root) => renderReport(parseRun(d.run), root),
  sweep: (d, root) => renderSweepOnly(d.sweep, root),
  'fno-sweep': (d, root) => renderFnoSweepOnly(d.fnoSweep, root),
  engines: (d, root) => renderEngines(d.engines, root),
  'layer-profile': (d, root) => renderLayerProfile(d.layer, root),
};

const PAGE_KINDS = Object.keys(RENDER).join(', ');

function boot(): void {
  const root = document.getElementById('app');
  if (!root) return;
  if (typeof (globalThis as { acquireVsCodeApi?: unknown }).acquireVsCodeApi === 'function') {
    bootPanel(root);
    return;
  }
  const data = document.getElementById('fconv-run');
  if (!data?.textContent) {
    root.replaceChildren(h('p', { class: 'empty' }, 'No profile yet.'));
    return;
  }
  try {
    const parsed = pageDocSchema.safeParse(JSON.parse(data.textContent));
    if (!parsed.success)
      throw new Error(
        `not a report document (${parsed.error.issues[0]?.path.join('.') || 'kind'}: expected one of ${PAGE_KINDS})`,
      );
    const doc = parsed.data;
    RENDER[doc.kind](doc as never, root);
    installTooltips(root);
  } catch (e) {
    root.replaceChildren(h('p', { class: 'error' }, `This report could not be shown: ${(e as Error).message}`));
  }
}

boot();
