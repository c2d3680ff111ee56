/**
 * "Make it fast" (`fconv optimize`): the request the Python side proves and times candidates with, what it
 * answers, which candidate is chosen (only what pays on the user's device and pass), and the report.
 */
import { z } from 'zod';
import { layerRequestSchema } from './layer-profile';

const ms = z.number().finite().nonnegative();
const stats = z.object({ median: ms, p10: ms, p90: ms });
const passTiming = z.object({ forward: stats.optional(), train: stats.optional() });

export const optimizeRequestSchema = layerRequestSchema.extend({
  candidates: z
    .array(
      z.object({
        id: z.string().max(100),
        /** The rewritten file (written by the host) the candidate's lines are compiled under. */
        file: z.string().min(1).max(4096),
        /** 1-based line of `source` in that file, and the helpers + class to execute. */
        line: z.number().int().positive(),
        source: z.string().max(1 << 20),
      }),
    )
    .max(16),
  /** Also try torch.compile of the original (torch >= 2), or XLA (tf.function(jit_compile=True)) on TensorFlow. */
  compile: z.boolean(),
});
export type OptimizeRequest = z.infer<typeof optimizeRequestSchema>;

export const candidateResultSchema = z.object({
  id: z.string(),
  compile: z.boolean().optional(),
  compileMs: ms.optional(),
  /** Largest |difference| per compared tensor (output, d/dinput, grad NAME), relative to the original's largest. */
  errors: z.record(z.string(), z.number().nonnegative().or(z.literal(Infinity)).or(z.null())).optional(),
  tolerance: z.number().positive().optional(),
  failed: z.string().optional(),
  timing: passTiming.optional(),
});
export type CandidateResult = z.infer<typeof candidateResultSchema>;

export const optimizeMeasuredSchema = z.object({
  className: z.string(),
  inputShape: z.array(z.number().int()),
  inputDtype: z.string(),
  device: z.string(),
  backend: z.enum(['cpu', 'cuda']),
  framework: z.enum(['torch', 'tensorflow']),
  version: z.string(),
  threads: z.number().int(),
  original: passTiming,
  candidates: z.array(candidateResultSchema),
  notes: z.array(z.string()),
  proof: z.string(),
  timing: z.string(),
});
export type OptimizeMeasured = z.infer<typeof optimizeMeasuredSchema>;

export type OptimizePass = 'forward' | 'train' | 'both';

/** A candidate's gain over the original on the asked pass: per pass, and the one it is judged by. */
export function gains(m: OptimizeMeasured, c: CandidateResult, pass: OptimizePass) {
  const g = (p: 'forward' | 'train') => {
    const o = m.original[p]?.median;
    const n = c.timing?.[p]?.median;
    return o && n ? o / n : undefined;
  };
  const forward = g('forward');
  const train = g('train');
  // both: the geometric mean (a rewrite that wins one pass and loses the other is judged on both).
  const score =
    pass === 'forward'
      ? forward
      : pass === 'train'
        ? train
        : forward !== undefined && train !== undefined
          ? Math.sqrt(forward * train)
          : (forward ?? train);
  return { forward, train, score };
}

/** Within this the candidate is not faster: the machine's noise between interleaved rounds. */
export const PAYS_ABOVE = 1.05;

/**
 * The rewrite to write: the proven candidate (torch.compile apart) with the best gain on the asked pass, when it
 * pays (>= 5 %) and, with both passes, is not slower on either. And whether torch.compile beat it.
 */
export function choose(m: OptimizeMeasured, pass: OptimizePass) {
  const proven = m.candidates.filter((c) => !c.failed && c.timing);
  const rank = (c: CandidateResult) => gains(m, c, pass).score ?? 0;
  const rewrites = proven
    .filter((c) => !c.compile)
    .filter((c) => {
      const g = gains(m, c, pass);
      if ((g.score ?? 0) < PAYS_ABOVE) return false;
      return pass !== 'both' || ((g.forward ?? 1) >= 0.97 && (g.train ?? 1) >= 0.97);
    })
    .sort((a, b) => rank(b) - rank(a));
  const best = rewrites[0];
  const compiled = proven.find((c) => c.compile);
  const compileWins = !!compiled && rank(compiled) >= PAYS_ABOVE && (!best || rank(compiled) > rank(best));
  return { best, compiled, compileWins };
}

/** A rewrite candidate as annotate needs it (src/scan/optimize.ts makes them). */
export interface Annotatable {
  id: string;
  changes: Array<{ id: string }>;
  classSource: string;
}

const fmt = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/** The measured effect of each change of the chosen rewrite: the candidate without it against the one with it. */
export function annotate<C extends Annotatable>(cand: C, m: OptimizeMeasured, candidates: C[], where: string): C {
  const byId = new Map(m.candidates.map((c) => [c.id, c]));
  const me = byId.get(cand.id);
  let src = cand.classSource;
  const set = (c: C) => new Set(c.changes.map((x) => x.id));
  for (const ch of cand.changes) {
    // The change's own effect: a measured pair that differs by it alone (the largest first), else against yours.
    const pairs = candidates
      .flatMap((b) =>
        candidates
          .filter((a) => {
            const [sa, sb] = [set(a), set(b)];
            return sb.has(ch.id) && !sa.has(ch.id) && sb.size === sa.size + 1 && [...sa].every((i) => sb.has(i));
          })
          .map((a) => ({ a: byId.get(a.id), b: byId.get(b.id), size: b.changes.length })),
      )
      .filter((p) => p.a?.timing && p.b?.timing && !p.a.failed && !p.b.failed)
      .sort((p, q) => q.size - p.size);
    const solo = cand.changes.length === 1 || !pairs.length;
    const pair = solo ? { a: { timing: m.original }, b: me } : pairs[0]!;
    const parts: string[] = [];
    for (const p of ['forward', 'train'] as const) {
      const a = pair.a?.timing?.[p]?.median;
      const b = pair.b?.timing?.[p]?.median;
      if (a !== undefined && b !== undefined)
        parts.push(`${p === 'train' ? 'training step' : 'forward'} ${fmt(a)} → ${fmt(b)} ms`);
    }
    const note = parts.length
      ? `measured ${solo ? 'against yours' : `${pair.b?.id ?? ''} against ${pair.a && 'id' in pair.a ? pair.a.id : ''}`}: ${parts.join(', ')} (${where})`
      : '';
    src = src.replace(new RegExp(`(# fconv optimize \\[${ch.id}\\]:[^\\n]*)`), (line) => `${line}\n__NOTE__${note}`);
    // The note goes on its own comment line, indented as the line above it.
    src = src.replace(
      /\n([ \t]*)(# fconv optimize [^\n]*)\n__NOTE__([^\n]*)/,
      (_m, ind: string, c: string, n: string) => (n ? `\n${ind}${c}\n${ind}#   ${n}` : `\n${ind}${c}`),
    );
  }
  return { ...cand, classSource: src };
}

const f2 = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}x`);
const fms = (x: number | undefined) => (x === undefined ? '—' : x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`);
const spread = (s: { median: number; p10: number; p90: number } | undefined) =>
  s ? `${fms(s.median)} (p10–p90 ${fms(s.p10)}–${fms(s.p90)})` : '—';
const worstError = (c: CandidateResult) => {
  const e = Object.entries(c.errors ?? {});
  if (!e.length) return '';
  const [k, v] = e.reduce((a, b) => ((b[1] ?? 0) > (a[1] ?? 0) ? b : a));
  return `max error ${(v ?? 0).toExponential(1)} (${k})`;
};

export interface CandidateInfo {
  id: string;
  titles: string[];
}

/** The report: what was understood, every candidate with its proof and times, what was chosen and why. */
export function formatOptimize(
  m: OptimizeMeasured,
  o: {
    file: string;
    pass: OptimizePass;
    understood: string[];
    infos: CandidateInfo[];
    python: string;
    wrote?: string;
    lines?: string[];
  },
): string {
  const out: string[] = [];
  const { best, compiled, compileWins } = choose(m, o.pass);
  out.push(
    `fconv optimize — ${m.className} in ${o.file}, input ${m.inputShape.join('×')} ${m.inputDtype}, pass ${o.pass}`,
  );
  const tf = m.framework === 'tensorflow';
  out.push(`  ${tf ? 'TensorFlow' : 'torch'} ${m.version} on ${m.device}, ${o.python}`);
  out.push('', 'What it read of your layer:');
  for (const u of o.understood) out.push(`  ${u}`);
  out.push('', 'Candidates (proven against yours on your weights first, then timed interleaved with it):');
  out.push(`  ${'candidate'.padEnd(30)} ${'forward'.padEnd(34)} ${'training step'.padEnd(34)} proof`);
  out.push(
    `  ${'yours, as written'.padEnd(30)} ${spread(m.original.forward).padEnd(34)} ${spread(m.original.train).padEnd(34)} —`,
  );
  for (const c of m.candidates) {
    const g = gains(m, c, o.pass);
    const label = c.compile ? (tf ? 'XLA: jit_compile(yours)' : 'torch.compile(yours)') : c.id;
    if (c.failed) {
      out.push(`  ${label.padEnd(30)} not used: ${c.failed}`);
      continue;
    }
    const fw = c.timing?.forward ? `${fms(c.timing.forward.median)} ${f2(g.forward)}` : '—';
    const tr = c.timing?.train ? `${fms(c.timing.train.median)} ${f2(g.train)}` : '—';
    out.push(
      `  ${label.padEnd(30)} ${fw.padEnd(34)} ${tr.padEnd(34)} ${worstError(c)}${c.compileMs !== undefined ? `; compiling took ${fms(c.compileMs)}, apart` : ''}`,
    );
  }
  const seen = new Set<string>();
  for (const i of o.infos)
    for (const t of i.titles) {
      if (!seen.has(t)) out.push(`    ${t}`);
      seen.add(t);
    }
  out.push('');
  if (best) {
    const g = gains(m, best, o.pass);
    out.push(
      `Chosen: ${best.id} — ${f2(g.forward)} forward, ${f2(g.train)} training step against yours, on this machine.`,
    );
  } else
    out.push(
      `Nothing written: no rewrite was proven equal and ≥ ${Math.round((PAYS_ABOVE - 1) * 100)} % faster on the ${o.pass === 'both' ? 'forward and training passes' : `${o.pass} pass`} here.`,
    );
  if (compiled && compileWins)
    out.push(
      `${tf ? 'XLA' : 'torch.compile'} of your class was faster still (${f2(gains(m, compiled, o.pass).score)}${compiled.compileMs !== undefined ? `, after ${fms(compiled.compileMs)} of compiling` : ''}): ${tf ? 'compile the model with `model.compile(..., jit_compile=True)`' : 'wrap the layer with `layer = torch.compile(layer)`'} — docs/optimize.md.`,
    );
  else if (compiled)
    out.push(`${tf ? 'XLA' : 'torch.compile'} of your class: ${f2(gains(m, compiled, o.pass).score)} — not better.`);
  if (o.lines?.length) out.push('', ...o.lines);
  out.push('', `Proof: ${m.proof}.`, `Timing: ${m.timing}.`);
  for (const n of m.notes) out.push(`Note: ${n}`);
  if (o.wrote) out.push('', `wrote ${o.wrote}`);
  return out.join('\n');
}
