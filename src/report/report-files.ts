/** Writes a run's three files: report.json (the schema), trace.json (Chrome trace), report.html (standalone). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type FnoSweep, type Sweep, fnoSweepSchema, sweepSchema } from '../core/insight-schema';
import { type Run, runSchema } from '../core/run';
import { toChromeTrace } from '../core/trace';
import { makeDirs, writeAtomic } from '../platform/files';
import type { PageDoc } from '../protocol/webview-protocol';

/** The webview bundle and stylesheet, built next to this file in dist/. */
export function reportAssets(dir = __dirname): { js: string; css: string } {
  const js = path.join(dir, 'webview.js');
  const css = path.join(dir, 'report.css');
  if (!fs.existsSync(js) || !fs.existsSync(css))
    throw new Error(`report bundle not found in ${dir}: run "npm run build"`);
  return { js: fs.readFileSync(js, 'utf8'), css: fs.readFileSync(css, 'utf8') };
}

/** JSON that is safe inside a <script> element. */
export function scriptSafeJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function standaloneHtml(run: Run, assets = reportAssets()): string {
  const title = `Fourier Conv Profile — ${run.spec.batch}×${run.spec.height}×${run.spec.width}, ${run.spec.inChannels}→${run.spec.outChannels}, k ${run.spec.kernelH}×${run.spec.kernelW}`;
  return htmlPage(title, { kind: 'run', run }, assets);
}

/** The page around any document: the webview validates it and shows an error for a bad one. */
export function htmlPage(title: string, doc: PageDoc, assets = reportAssets()): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<>&]/g, '')}</title>
<style>${assets.css}</style>
</head>
<body class="standalone">
<div id="app"></div>
<script type="application/json" id="fconv-run">${scriptSafeJson(doc)}</script>
<script>${assets.js.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}

export interface WrittenFiles {
  json: string;
  trace: string;
  html: string;
}

export function writeReport(run: Run, outDir: string): WrittenFiles {
  runSchema.parse(run);
  makeDirs(outDir);
  const files = {
    json: path.join(outDir, 'report.json'),
    trace: path.join(outDir, 'trace.json'),
    html: path.join(outDir, 'report.html'),
  };
  writeAtomic(files.json, `${JSON.stringify(run, null, 2)}\n`);
  writeAtomic(files.trace, JSON.stringify(toChromeTrace(run)));
  writeAtomic(files.html, standaloneHtml(run));
  return files;
}

/** `fconv sweep`'s files: sweep.json and sweep.html (the report app renders a sweep document alone). */
export function writeSweepReport(sweep: Sweep, outDir: string): { json: string; html: string } {
  sweepSchema.parse(sweep);
  makeDirs(outDir);
  const files = { json: path.join(outDir, 'sweep.json'), html: path.join(outDir, 'sweep.html') };
  writeAtomic(files.json, `${JSON.stringify(sweep, null, 2)}\n`);
  writeAtomic(
    files.html,
    htmlPage(`Fourier Conv sweep — batch ${sweep.base.batch}, ${sweep.base.height}×${sweep.base.width}`, {
      kind: 'sweep',
      sweep,
    }),
  );
  return files;
}

/** An FNO modes sweep as fno-sweep.json and fno-sweep.html. */
export function writeFnoSweepReport(sweep: FnoSweep, outDir: string): { json: string; html: string } {
  fnoSweepSchema.parse(sweep);
  makeDirs(outDir);
  const files = { json: path.join(outDir, 'fno-sweep.json'), html: path.join(outDir, 'fno-sweep.html') };
  writeAtomic(files.json, `${JSON.stringify(sweep, null, 2)}\n`);
  writeAtomic(
    files.html,
    htmlPage(
      `Fourier Conv FNO modes sweep — batch ${sweep.base.batch}, ${sweep.base.inChannels}→${sweep.base.outChannels}`,
      { kind: 'fno-sweep', fnoSweep: sweep },
    ),
  );
  return files;
}
