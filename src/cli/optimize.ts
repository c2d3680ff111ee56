/**
 * `fconv optimize FILE --class NAME --input-shape …`: "make it fast". Reads the user's PyTorch FNO spectral
 * convolution (src/scan/optimize.ts), writes candidate rewrites of its forward(), and in the user's interpreter
 * (a process of its own) proves each against their class on their weights — outputs and, for training, the
 * gradients — then times the proven ones interleaved with theirs, with torch.compile of theirs as one more
 * candidate. The fastest proven rewrite that pays on the asked pass is written (`--out`, never over a file
 * without --force) with a comment on each change saying what it replaced and what it measured here; then the
 * per-line profile of theirs and of the rewrite. Exit 0 written (or printed); 1 nothing pays, the layer cannot
 * be rewritten, or its code failed; 2 a usage error.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { LayerMeasured } from '../core/layer-profile';
import { type CandidateInfo, type OptimizePass, annotate, choose, formatOptimize, gains } from '../core/optimize';
import { UsageError, parseWhole } from '../core/spec-input';
import { writeAtomic } from '../platform/files';
import { writeCandidates } from '../platform/rewrite-files';
import { loadParser } from '../platform/grammars';
import { type LayerExtract, extractLayer, initFor, initTemplate, layerSource } from '../scan/extract';
import { type RewritePlan, applyRewrite, planRewrite } from '../scan/optimize';
import { layerFailure, parseInputDtype, parseLayerLimits, parseShape, readPythonFile } from './profile-layer';
import { type CliIo, type EngineFlags, newClient, onCancelSignals, parseEngineChoice, statusLine } from './shared';

export interface OptimizeFlags extends EngineFlags {
  class?: string;
  init?: string;
  inputShape?: string;
  inputDtype?: string;
  pass?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
  reps: string;
  seed: string;
  timeLimit: string;
  maxMemory: string;
  compile: boolean;
  lines: boolean;
  progress: boolean;
}

const fmt = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/** The per-line summary of a profile: its slowest lines, forward and training step. */
function topLines(p: LayerMeasured, label: string, lineText: (l: number) => string, n = 6): string[] {
  const out = [
    `${label}: forward ${fmt(p.totalMs.median)} ms${p.train ? `, training step ${fmt(p.train.totalMs.median)} ms` : ''}`,
  ];
  const rows = [...p.lines].sort((a, b) => b.ms + (b.backwardMs ?? 0) - (a.ms + (a.backwardMs ?? 0))).slice(0, n);
  for (const r of rows)
    out.push(
      `  ${String(r.line).padStart(4)}  ${fmt(r.ms).padStart(7)} ms fwd${r.backwardMs !== undefined ? ` ${fmt(r.backwardMs).padStart(7)} ms bwd` : ''}  ${lineText(r.line).trim().slice(0, 90)}`,
    );
  return out;
}

export async function optimizeCommand(file: string, flags: OptimizeFlags, io: CliIo): Promise<number> {
  if (!flags.class) throw new UsageError('--class is required: the nn.Module class to rewrite');
  const inputShape = parseShape(flags.inputShape);
  const inputDtype = parseInputDtype(flags.inputDtype);
  const pass = (flags.pass ?? 'both').trim().toLowerCase() as OptimizePass;
  if (!['forward', 'train', 'both'].includes(pass))
    throw new UsageError(`--pass must be forward, train or both, got "${flags.pass}"`);
  const reps = parseWhole(flags.reps, '--reps', 3, 10000);
  const seed = parseWhole(flags.seed, '--seed', 0, 2 ** 31 - 1);
  const { timeLimitS, maxMemoryBytes } = parseLayerLimits(flags);
  const { abs, text } = readPythonFile(file, 'fconv optimize');
  const out = flags.out ? path.resolve(flags.out) : undefined;
  if (out && existsSync(out) && !flags.force)
    throw new UsageError(`--out ${flags.out} exists: give --force to replace it (or another path)`);
  if (out && out === abs && !flags.force) throw new UsageError('--out is the file itself: give --force to rewrite it');
  const parser = await loadParser();
  const tree = parser.parse('python', text);
  const x = extractLayer(tree, flags.class, flags.init);
  const plan = 'error' in x ? undefined : planRewrite(tree, text, flags.class);
  tree.delete();
  if ('error' in x) throw new UsageError(`${file}: ${x.error}`);
  const short = (f: string) => path.relative(process.cwd(), f) || f;
  if (!plan || 'refused' in plan) {
    const why = plan && 'refused' in plan ? plan.refused : 'not found';
    io.err(`fconv optimize: ${flags.class} cannot be rewritten: ${why}\n`);
    if (plan?.understood.length) io.err(`  what it read:\n${plan.understood.map((u) => `    ${u}\n`).join('')}`);
    io.err('  nothing was written\n');
    return 1;
  }
  const engine: 'torch' | 'tensorflow' = x.framework === 'keras' ? 'tensorflow' : 'torch';
  const choice = parseEngineChoice({ ...flags, engine });
  const init = initFor(x, flags.init);
  if ('missing' in init)
    throw new UsageError(
      `${flags.class}(${init.params.map((p) => p.name).join(', ')}) needs ${init.missing.join(', ')} and the file has no call of it with literal arguments: give them with --init "${initTemplate(init.params)}"`,
    );

  // Each candidate's rewritten file, in a temp folder of its own (the lines of its class are its own).
  const files = writeCandidates(abs, text, plan);
  const client = newClient(io);
  const cancel = onCancelSignals(io, 'the layer process is stopped', () => client.killNow());
  const tty = io.isTTY && flags.progress;
  const status = statusLine(io);
  try {
    const base = {
      ...layerSource(x as LayerExtract, abs, init.args),
      inputShape,
      seed,
      pass,
      framework: engine,
      ...(inputDtype ? { inputDtype } : {}),
    };
    const common = {
      python: choice.python,
      torchDevice: choice.torchDevice,
      threads: choice.threads,
      maxMemoryBytes,
      timeLimitMs: timeLimitS * 1000,
    };
    const onProgress = (p: { phase: string; index: number; count: number }) => {
      if (tty) status.show(`fconv: ${flags.class}: ${p.phase} ${p.count ? `${p.index + 1}/${p.count}` : ''}`);
    };
    io.err(
      `fconv: ${plan.candidates.length} rewrite${plan.candidates.length === 1 ? '' : 's'} of ${flags.class}${flags.compile ? (engine === 'torch' ? ' and torch.compile of it' : ' and XLA (jit_compile) of it') : ''}: proving each against yours on your weights, then timing them\n`,
    );
    let res;
    try {
      res = await client.optimizeLayer(
        {
          request: {
            ...base,
            warmup: 3,
            reps,
            traceReps: 1,
            candidates: files.candidates,
            compile: flags.compile,
          },
          ...common,
        },
        { signal: cancel.signal, onProgress },
      );
    } catch (e) {
      if (tty) status.clear();
      return layerFailure(e, io, short, x as LayerExtract);
    }
    if (tty) status.clear();
    const m = res.measured;
    const { best } = choose(m, pass);
    const where = `${m.framework === 'torch' ? 'torch' : 'TensorFlow'} ${m.version}, ${m.device}`;
    const chosen = best ? plan.candidates.find((c) => c.id === best.id) : undefined;
    const final = chosen ? annotate(chosen, m, plan.candidates, where) : undefined;
    const rewritten = final ? applyRewrite(text, plan, final) : undefined;

    // Per line: yours and the rewrite, forward and training step, by profile-layer's own passes.
    const lines: string[] = [];
    let profiles: { yours?: LayerMeasured; rewrite?: LayerMeasured } = {};
    if (final && rewritten && flags.lines) {
      const newFile = files.write('chosen', rewritten);
      const t2 = parser.parse('python', rewritten);
      const x2 = extractLayer(t2, flags.class, flags.init);
      t2.delete();
      if (!('error' in x2)) {
        try {
          const run = (req: typeof base & { importFrom?: string }) =>
            client.profileLayer(
              {
                request: { ...req, warmup: 3, reps: Math.min(reps, 10), traceReps: 5, compare: false },
                ...common,
              },
              { signal: cancel.signal, onProgress },
            );
          io.err('fconv: now per line, yours and the rewrite\n');
          const a = await run(base);
          const b = await run({
            ...base,
            file: newFile,
            chunks: x2.chunks,
            constants: x2.constants,
            classLine: x2.classLine,
            importFrom: abs,
          });
          profiles = { yours: a.measured, rewrite: b.measured };
          const src = text.split('\n');
          const src2 = rewritten.split('\n');
          lines.push(
            'Per line (profile-layer on each, the same interpreter, device and threads):',
            ...topLines(a.measured, 'yours', (l) => src[l - 1] ?? ''),
            ...topLines(b.measured, 'the rewrite', (l) => src2[l - 1] ?? ''),
          );
        } catch (e) {
          lines.push(`Per line: not measured (${(e as Error).message.split('\n')[0]})`);
        }
        if (tty) status.clear();
      }
    }
    let wrote: string | undefined;
    if (rewritten && out) {
      writeAtomic(out, rewritten);
      wrote = out;
    }
    const infos: CandidateInfo[] = plan.candidates.map((c) => ({
      id: c.id,
      titles: c.changes.map((ch) => `${ch.id}: ${ch.title}`),
    }));
    if (flags.json)
      io.out(
        `${JSON.stringify(
          {
            plan: {
              understood: plan.understood,
              candidates: plan.candidates.map((c) => ({ id: c.id, changes: c.changes })),
            },
            measured: m,
            python: res.python,
            chosen: best?.id ?? null,
            gains: best ? gains(m, best, pass) : null,
            source: final ? final.helpers + final.classSource : null,
            wrote: wrote ?? null,
            lines: profiles,
          },
          null,
          2,
        )}\n`,
      );
    else {
      io.out(
        `${formatOptimize(m, {
          file: short(abs),
          pass,
          understood: plan.understood,
          infos,
          python: `Python ${res.python.version} (${res.python.path})`,
          wrote: wrote && short(wrote),
          lines,
        })}\n`,
      );
      if (final && !out)
        io.out(`\nThe rewrite (give --out PATH to write the file with it):\n\n${final.helpers}${final.classSource}\n`);
    }
    return final && !cancel.signal.aborted ? 0 : 1;
  } finally {
    cancel.dispose();
    client.dispose();
    files.dispose();
  }
}

export type { RewritePlan };
