/**
 * Entry of the report bundle. Standalone (CLI): the run is inlined as JSON in #fconv-run. In the
 * extension's panel the same renderer gets runs through schema-checked messages (panel.ts).
 */
import { parseRun } from '../src/core/run';
import { h } from './dom';
import { bootPanel } from './panel';
import { fnoSweepSchema, sweepSchema } from '../src/core/insight-schema';
import { renderFnoSweepOnly, renderSweepOnly } from './insights';
import { renderReport } from './report';
import { enginesCompareSchema } from '../src/core/engines-compare';
import { renderEngines } from './engine-table';
import { installTooltips } from './tooltip';
import { layerProfileSchema } from '../src/core/layer-profile';
import { renderLayerProfile } from './layer';

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
    const doc = JSON.parse(data.textContent) as unknown;
    if (doc && typeof doc === 'object' && 'sweep' in doc && !('schemaVersion' in doc)) {
      renderSweepOnly(sweepSchema.parse((doc as { sweep: unknown }).sweep), root);
    } else if (doc && typeof doc === 'object' && 'fnoSweep' in doc && !('schemaVersion' in doc)) {
      renderFnoSweepOnly(fnoSweepSchema.parse((doc as { fnoSweep: unknown }).fnoSweep), root);
    } else if (doc && typeof doc === 'object' && 'engines' in doc && !('schemaVersion' in doc)) {
      renderEngines(enginesCompareSchema.parse((doc as { engines: unknown }).engines), root);
    } else if (doc && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'layer-profile') {
      renderLayerProfile(layerProfileSchema.parse(doc), root);
    } else renderReport(parseRun(doc), root);
    installTooltips(root);
  } catch (e) {
    root.replaceChildren(h('p', { class: 'error' }, `This report could not be shown: ${(e as Error).message}`));
  }
}

boot();
