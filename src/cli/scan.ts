/**
 * `fconv scan FILES…`: the editor's diagnostics on the command line, for CI and pre-commit hooks.
 * Exit 1 when a warning-level finding exists, 0 otherwise, 2 for usage errors (no such file, a file
 * type the scanner does not read).
 */
import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type DeviceProfile, GPU_TABLE, cpuProfile, gpuProfile } from '../core/model';
import { UsageError } from '../core/spec-input';
import { readCachedProbe } from '../client/device-cache';
import { cacheDir, decodePythonSource } from '../platform/files';
import { loadParser } from '../platform/grammars';
import { type Finding, type LayerSite, type ScanResult, languageOf, ruleDocs, scanSource } from '../scan/index';
import { DEFAULT_MAX_CHARS } from '../scan/index';
import { SCAN_SCHEMA_VERSION, type ScanReport } from '../scan/report-schema';
import type { CliIo } from './shared';

const SPEC_FIELDS = [
  'batch',
  'height',
  'width',
  'inChannels',
  'outChannels',
  'kernelH',
  'kernelW',
  'spatialKernel',
  'padding',
  'layout',
] as const;
const SKIP_DIRS = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', 'dist', 'build', '.vscode-test']);

export interface ScanFlags {
  json?: boolean;
  device?: string;
  maxChars?: string;
}

/** An input that could not be read, and why (e.g. "EACCES"). */
export interface Unreadable {
  path: string;
  reason: string;
}

const reasonOf = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Files to scan: the named files, and the sources under named folders. A folder that cannot be listed
 * is reported in `unreadable` and the rest is scanned; a named path that does not exist, or a named file
 * the scanner does not read, is a usage error.
 */
/** At most `cap` bytes of a file: a source over --max-chars is skipped by the scanner either way, never read whole. */
function readCapped(file: string, cap: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(cap, Math.max(0, fstatSync(fd).size) || cap));
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got <= 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function expandFiles(args: string[]): { files: string[]; unreadable: Unreadable[] } {
  const out: string[] = [];
  const unreadable: Unreadable[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 20) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      unreadable.push({ path: dir, reason: reasonOf(e) });
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(path.join(dir, e.name), depth + 1);
      } else if (e.isFile() && languageOf(e.name)) out.push(path.join(dir, e.name));
      else if (languageOf(e.name))
        // A source name on something else: said, never read (a FIFO blocks, a link may lead to /dev/zero).
        unreadable.push({
          path: path.join(dir, e.name),
          reason: e.isSymbolicLink()
            ? 'a symbolic link: links inside a scanned folder are not followed'
            : 'not a regular file (a FIFO, socket or device): not read',
        });
    }
  };
  for (const a of args) {
    let st;
    try {
      st = statSync(a);
    } catch {
      throw new UsageError(`no such file or folder: ${a}`);
    }
    if (st.isDirectory()) walk(a, 0);
    else if (!languageOf(a))
      throw new UsageError(`${a}: not a Python, TypeScript or JavaScript file (.py, .ts, .tsx, .js, .mjs, .cjs, .jsx)`);
    else if (!st.isFile())
      unreadable.push({ path: a, reason: 'not a regular file (a FIFO, socket or device): not read' });
    else out.push(a);
  }
  return { files: [...new Set(out)], unreadable };
}

function deviceFrom(name: string | undefined): DeviceProfile | undefined {
  if (!name) return undefined;
  if (name === 'local') {
    let newest: { file: string; mtime: number } | undefined;
    try {
      for (const f of readdirSync(cacheDir())) {
        if (!f.startsWith('probe-')) continue;
        const m = statSync(path.join(cacheDir(), f)).mtimeMs;
        if (!newest || m > newest.mtime) newest = { file: path.join(cacheDir(), f), mtime: m };
      }
    } catch {
      /* no cache folder */
    }
    const probe = newest && readCachedProbe(newest.file);
    if (!probe) throw new UsageError('--device local needs a cached probe of this machine: run `fconv probe` first');
    return cpuProfile(probe);
  }
  const d = gpuProfile(name);
  if (!d)
    throw new UsageError(
      `unknown device "${name}" (choose local or one of ${GPU_TABLE.map((g) => g.name).join(', ')})`,
    );
  return d;
}

const FNO_FIELDS = ['batch', 'height', 'width', 'inChannels', 'outChannels', 'modes'] as const;

export function missingFields(site: LayerSite): string[] {
  if (site.kind === 'fno') return FNO_FIELDS.filter((f) => site.spec[f] === undefined);
  return SPEC_FIELDS.filter((f) => site.spec[f] === undefined);
}

function specText(site: LayerSite): string {
  const s = site.spec;
  const parts: string[] = [];
  if (s.batch) parts.push(`batch ${s.batch}`);
  if (s.height && s.width) parts.push(`${s.height}×${s.width}`);
  if (s.inChannels || s.outChannels) parts.push(`${s.inChannels ?? '?'}→${s.outChannels ?? '?'} channels`);
  if (site.kind === 'fno') parts.unshift(`${site.dims ?? 2}-D`);
  if (s.modes) parts.push(`modes ${s.modes[0]}×${s.modes[1]} (${s.modesConvention ?? 'corners'})`);
  if (s.kernelH && s.kernelW) parts.push(`kernel ${s.kernelH}×${s.kernelW}`);
  if (s.spatialKernel && site.kind === 'fourier') parts.push(`vs Conv2D ${s.spatialKernel}×${s.spatialKernel}`);
  if (s.padding) parts.push(s.padding);
  if (s.layout) parts.push(s.layout);
  const missing = missingFields(site);
  return `${parts.join(', ') || 'nothing stated'}${missing.length ? ` (not in the code: ${missing.join(', ')})` : ''}`;
}

export function findingJson(file: string, f: Finding): ScanReport['findings'][number] {
  return {
    file,
    line: f.range.start.line + 1,
    column: f.range.start.column + 1,
    endLine: f.range.end.line + 1,
    endColumn: f.range.end.column + 1,
    rule: f.rule,
    severity: f.severity,
    message: f.message,
    evidence: f.evidence,
    suggestion: f.suggestion,
    fixes: f.fixes.map((x) => ({
      title: x.title,
      edits: x.edits.map((e) => ({
        line: e.range.start.line + 1,
        column: e.range.start.column + 1,
        endLine: e.range.end.line + 1,
        endColumn: e.range.end.column + 1,
        newText: e.newText,
      })),
    })),
    layer: f.layer ?? null,
    docs: ruleDocs(f.rule),
  };
}

export async function scanCommand(files: string[], flags: ScanFlags, io: CliIo, version: string): Promise<number> {
  if (!files.length) throw new UsageError('scan needs at least one file or folder');
  const maxChars = flags.maxChars === undefined ? DEFAULT_MAX_CHARS : Number(flags.maxChars);
  if (!Number.isInteger(maxChars) || maxChars <= 0)
    throw new UsageError(`--max-chars must be a positive whole number, got "${flags.maxChars}"`);
  const device = deviceFrom(flags.device);
  const { files: list, unreadable } = expandFiles(files);
  const parser = await loadParser();
  const results: ScanResult[] = [];
  for (const file of list) {
    let text: string;
    try {
      const bytes = readCapped(file, maxChars * 4 + 4);
      text = /\.pyi?$/i.test(file) ? decodePythonSource(bytes) : bytes.toString('utf8');
    } catch (e) {
      unreadable.push({ path: file, reason: reasonOf(e) });
      continue;
    }
    results.push(scanSource(parser, file, languageOf(file)!, text, { maxChars, device }));
  }
  for (const u of unreadable)
    io.err(`fconv scan: cannot read ${u.path} (${u.reason}); the other inputs were scanned\n`);
  const all = results.flatMap((r) => r.findings.map((f) => ({ file: r.file, f })));
  const warnings = all.filter((x) => x.f.severity === 'warning').length;
  const summary = {
    files: results.length,
    skipped: results.filter((r) => r.skipped).length,
    unreadable: unreadable.length,
    warnings,
    information: all.length - warnings,
  };
  if (flags.json) {
    const report: ScanReport = {
      schemaVersion: SCAN_SCHEMA_VERSION,
      tool: { name: 'fconv scan', version },
      files: results.map((r) => ({
        file: r.file,
        language: r.language,
        skipped: r.skipped ?? null,
        syntaxErrors: r.syntaxErrors,
        errors: r.errors,
        layers: r.layers.map((l) => ({
          id: l.id,
          kind: l.kind,
          name: l.name,
          line: l.range.start.line + 1,
          spec: l.spec,
          specSources: l.specSources,
          missing: missingFields(l),
          ...(l.dims !== undefined ? { dims: l.dims } : {}),
          ...(l.notes?.length ? { notes: l.notes } : {}),
        })),
      })),
      findings: all.map(({ file, f }) => findingJson(file, f)),
      ...(unreadable.length ? { unreadable } : {}),
      summary,
    };
    io.out(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const r of results) {
      if (r.skipped) io.err(`fconv scan: skipped ${r.file}: ${r.skipped}\n`);
      for (const e of r.errors) io.err(`fconv scan: ${r.file}: ${e}\n`);
      for (const f of r.findings) {
        io.out(
          `${r.file}:${f.range.start.line + 1}:${f.range.start.column + 1}: ${f.severity} [${f.rule}] ${f.message}\n`,
        );
        for (const fix of f.fixes) io.out(`    quick fix: ${fix.title}\n`);
      }
      for (const l of r.layers)
        io.out(
          `${r.file}:${l.range.start.line + 1}: layer ${l.kind === 'fourier' ? 'Fourier' : l.kind === 'fno' ? 'FNO' : 'Conv2D'} ${l.name}: ${specText(l)}\n`,
        );
      if (r.syntaxErrors) io.err(`fconv scan: ${r.file} has syntax errors; findings near them may be missing\n`);
    }
    io.out(
      `${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}, ${summary.information} information in ${summary.files} file${summary.files === 1 ? '' : 's'}${summary.skipped ? ` (${summary.skipped} skipped)` : ''}; rules explained in docs/rules.md\n`,
    );
  }
  // Exit 2 when an input could not be read or nothing at all was scanned (every file over --max-chars):
  // a hook must not pass on files it never saw. Otherwise 1 for a warning, 0 for none.
  const scanned = results.filter((r) => !r.skipped).length;
  if (unreadable.length) return 2;
  if (!scanned) {
    io.err(
      `fconv scan: nothing was scanned: every input was skipped (over --max-chars ${maxChars}, or no source files)\n`,
    );
    return 2;
  }
  return warnings ? 1 : 0;
}
