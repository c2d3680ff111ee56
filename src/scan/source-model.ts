/**
 * One language-neutral view of a parsed file: imports and their aliases, classes, functions and every
 * call with its canonical name (`tf.spectral.rfft2d` → `tensorflow.signal.rfft2d`), arguments and
 * enclosing function. Built from one tree-sitter query (the walk happens in wasm); assignments are
 * read lazily, per function, when a rule follows a value. Host-free.
 */
import { type Language, type Node, Query, type Tree } from 'web-tree-sitter';
import type { SourceLanguage } from './types';

export type Dialect = 'python' | 'js';

export interface ClassInfo {
  name: string;
  node: Node;
  nameNode: Node;
  /** Canonical base-class names (`tensorflow.keras.layers.Layer`, `torch.nn.Module`). */
  bases: string[];
  framework: 'keras' | 'torch' | 'tfjs' | 'other';
  methods: Map<string, FnInfo>;
}

export interface FnInfo {
  name: string;
  node: Node;
  /** Parameter names (read on first use). */
  readonly params: string[];
  cls?: ClassInfo;
  /** name → assignments in this function, in source order (filled by buildModel). */
  assigns?: Map<string, Array<{ at: number; rhs: Node }>>;
}

export interface CallInfo {
  node: Node;
  callee: Node;
  /** Canonical dotted name, or '' when the callee is not a module path (a method on a value). */
  name: string;
  /** Last segment of the callee as written (`rfft2d`, `permute`, `Conv2D`). */
  last: string;
  /** The object of a method call on a value (`x` in `x.permute(0, 2, 3, 1)`). */
  readonly receiver?: Node;
  readonly args: Node[];
  /** Keyword arguments (Python) or the properties of a single object-literal argument (JS). */
  readonly kwargs: Map<string, Node>;
  fn?: FnInfo;
  cls?: ClassInfo;
}

export interface SourceModel {
  dialect: Dialect;
  text: string;
  root: Node;
  /** Local name → canonical module path it refers to. */
  aliases: Map<string, string>;
  classes: ClassInfo[];
  fns: FnInfo[];
  calls: CallInfo[];
  /** `a * b` expressions, with the function they are in. */
  products: Array<{ node: Node; left: Node; right: Node; fn?: FnInfo; end: number }>;
  /** The calls inside each class and each function (nested ones included). */
  callsIn: Map<ClassInfo | FnInfo, CallInfo[]>;
  /** Assignments to `self.x` / `this.x` anywhere in a class, by class then attribute. */
  selfAssigns: Map<ClassInfo, Map<string, Node[]>>;
}

// One match per construct, with its parts captured (marshalled in one batch: far cheaper than
// asking each node for its children from JS).
const QUERY_SOURCE: Record<Dialect, string> = {
  python: `
    (import_statement) @import
    (import_from_statement) @import
    (class_definition name: (identifier) @name) @class
    (function_definition name: (identifier) @name parameters: (_) @params) @function
    (call function: (_) @callee arguments: (_) @args) @call
    (binary_operator left: (_) @left operator: "*" right: (_) @right) @product
    (assignment left: (_) @left right: (_) @right) @assign`,
  js: `
    (import_statement) @import
    (variable_declarator value: (call_expression)) @require
    (class_declaration name: (_) @name) @class
    (class) @class
    (method_definition name: (_) @name parameters: (_) @params) @function
    (function_declaration name: (_) @name parameters: (_) @params) @function
    (call_expression function: (_) @callee arguments: (_) @args) @call
    (new_expression constructor: (_) @callee arguments: (_) @args) @call
    (binary_expression left: (_) @left operator: "*" right: (_) @right) @product
    (variable_declarator name: (_) @left value: (_) @right) @assign
    (assignment_expression left: (_) @left right: (_) @right) @assign`,
};

const queries = new WeakMap<Language, Query>();

function queryFor(lang: Language, dialect: Dialect): Query {
  let q = queries.get(lang);
  if (!q) {
    q = new Query(lang, QUERY_SOURCE[dialect]);
    queries.set(lang, q);
  }
  return q;
}

/** Names code uses by convention; used only when the file does not bind them (a pasted snippet). */
const CONVENTIONAL: Record<Dialect, Record<string, string>> = {
  python: {
    tf: 'tensorflow',
    torch: 'torch',
    np: 'numpy',
    F: 'torch.nn.functional',
    nn: 'torch.nn',
    keras: 'tensorflow.keras',
    layers: 'tensorflow.keras.layers',
  },
  js: { tf: 'tfjs' },
};

/** Old and alternative spellings → one name per operation. */
export function canonical(name: string): string {
  return name
    .replace(/^(tf_keras|keras)(\.|$)/, 'tensorflow.keras$2')
    .replace(/^tensorflow\.compat\.v[12]\./, 'tensorflow.')
    .replace(/^tensorflow\.python\.keras\./, 'tensorflow.keras.')
    .replace(/^tensorflow\.spectral\./, 'tensorflow.signal.')
    .replace(/^tensorflow\.keras\.layers\.(convolutional\.)?Convolution2D$/, 'tensorflow.keras.layers.Conv2D')
    .replace(/^tensorflow\.keras\.layers\.convolutional\./, 'tensorflow.keras.layers.')
    .replace(/^tensorflow\.linalg\.(matmul|einsum)$/, 'tensorflow.$1')
    .replace(/^tensorflow\.math\.multiply$/, 'tensorflow.multiply')
    .replace(/^tfjs\.spectral\./, 'tfjs.');
}

/** `@tensorflow/tfjs`, `@tensorflow/tfjs-node-gpu`, … → `tfjs`; other packages keep their name. */
function jsModule(spec: string): string | undefined {
  if (/^@tensorflow\/tfjs(-core|-node|-node-gpu|-layers)?$/.test(spec)) return 'tfjs';
  return undefined;
}

function collectImport(node: Node, dialect: Dialect, aliases: Map<string, string>): void {
  if (dialect === 'python') {
    if (node.type === 'import_statement') {
      for (const c of node.namedChildren) {
        if (c.type === 'dotted_name') aliases.set(c.text.split('.')[0]!, c.text.split('.')[0]!);
        else if (c.type === 'aliased_import') {
          const name = c.childForFieldName('name')?.text;
          const alias = c.childForFieldName('alias')?.text;
          if (name && alias) aliases.set(alias, name);
        }
      }
    } else {
      const mod = node.childForFieldName('module_name');
      if (!mod || mod.type !== 'dotted_name') return; // relative imports name no library
      for (const c of node.namedChildren) {
        if (c.id === mod.id) continue;
        if (c.type === 'dotted_name') aliases.set(c.text, `${mod.text}.${c.text}`);
        else if (c.type === 'aliased_import') {
          const name = c.childForFieldName('name')?.text;
          const alias = c.childForFieldName('alias')?.text;
          if (name && alias) aliases.set(alias, `${mod.text}.${name}`);
        }
      }
    }
    return;
  }
  const src = node.childForFieldName('source');
  const mod = jsModule(src?.text.slice(1, -1) ?? '');
  if (!mod) return;
  for (const clause of node.namedChildren) {
    if (clause.type !== 'import_clause') continue;
    for (const c of clause.namedChildren) {
      if (c.type === 'identifier') aliases.set(c.text, mod);
      else if (c.type === 'namespace_import') {
        const id = c.namedChildren.find((x) => x.type === 'identifier');
        if (id) aliases.set(id.text, mod);
      } else if (c.type === 'named_imports') {
        for (const s of c.namedChildren) {
          if (s.type !== 'import_specifier') continue;
          const name = s.childForFieldName('name')?.text;
          const alias = s.childForFieldName('alias')?.text ?? name;
          if (name && alias) aliases.set(alias, `${mod}.${name}`);
        }
      }
    }
  }
}

/** `const tf = require('@tensorflow/tfjs')`, `const { rfft } = require(...)`. */
function collectRequire(node: Node, aliases: Map<string, string>): void {
  const value = node.childForFieldName('value');
  if (value?.childForFieldName('function')?.text !== 'require') return;
  const arg = value.childForFieldName('arguments')?.namedChildren[0];
  const mod = jsModule(arg?.text.slice(1, -1) ?? '');
  if (!mod) return;
  const name = node.childForFieldName('name');
  if (name?.type === 'identifier') aliases.set(name.text, mod);
  else if (name?.type === 'object_pattern') {
    for (const p of name.namedChildren) {
      if (p.type === 'shorthand_property_identifier_pattern') aliases.set(p.text, `${mod}.${p.text}`);
      else if (p.type === 'pair_pattern') {
        const key = p.childForFieldName('key')?.text;
        const v = p.childForFieldName('value');
        if (key && v?.type === 'identifier') aliases.set(v.text, `${mod}.${key}`);
      }
    }
  }
}

export function resolvePath(segments: string[] | undefined, model: Pick<SourceModel, 'aliases' | 'dialect'>): string {
  if (!segments?.length) return '';
  const root = segments[0]!;
  const target = model.aliases.get(root) ?? CONVENTIONAL[model.dialect][root];
  if (!target) return '';
  return canonical([target, ...segments.slice(1)].join('.'));
}

const PLAIN_PATH = /^[A-Za-z_$][\w$]*(\s*\.\s*[A-Za-z_$][\w$]*)*$/;

/** A call; its arguments and receiver are read from the tree only when a rule asks. */
class Call implements CallInfo {
  name: string;
  last: string;
  fn?: FnInfo;
  cls?: ClassInfo;
  private parts?: { args: Node[]; kwargs: Map<string, Node> };

  constructor(
    readonly node: Node,
    readonly callee: Node,
    private readonly argList: Node,
    private readonly dialect: Dialect,
    model: SourceModel,
  ) {
    const text = callee.text;
    if (PLAIN_PATH.test(text)) {
      const segments = text.split('.').map((x) => x.trim());
      this.name = resolvePath(segments, model);
      this.last = segments[segments.length - 1]!;
    } else {
      // `x[0].permute(…)`, `f(a)(b)`: a method on a value; its name is what follows the last dot.
      this.name = '';
      const m = /\.\s*([A-Za-z_$][\w$]*)\s*$/.exec(text);
      this.last = m ? m[1]! : '';
    }
  }

  get receiver(): Node | undefined {
    if (this.name || (this.callee.type !== 'attribute' && this.callee.type !== 'member_expression')) return undefined;
    return this.callee.childForFieldName('object') ?? undefined;
  }

  private read(): { args: Node[]; kwargs: Map<string, Node> } {
    if (this.parts) return this.parts;
    const args: Node[] = [];
    const kwargs = new Map<string, Node>();
    for (const a of this.argList.namedChildren) {
      if (a.type === 'keyword_argument') {
        const k = a.childForFieldName('name')?.text;
        const v = a.childForFieldName('value');
        if (k && v) kwargs.set(k, v);
      } else if (a.type !== 'comment') args.push(a);
    }
    if (this.dialect === 'js' && args.length === 1 && args[0]!.type === 'object') {
      for (const p of args[0]!.namedChildren) {
        if (p.type !== 'pair') continue;
        const k = p.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '');
        const v = p.childForFieldName('value');
        if (k && v) kwargs.set(k, v);
      }
    }
    this.parts = { args, kwargs };
    return this.parts;
  }

  get args(): Node[] {
    return this.read().args;
  }

  get kwargs(): Map<string, Node> {
    return this.read().kwargs;
  }
}

function frameworkOf(bases: string[], raw: string[]): ClassInfo['framework'] {
  if (bases.some((b) => b.startsWith('tensorflow.'))) return 'keras';
  if (bases.some((b) => b.startsWith('torch.'))) return 'torch';
  if (bases.some((b) => b.startsWith('tfjs.'))) return 'tfjs';
  // `class F(Layer)` after `from keras.layers import Layer` resolves above; a bare `Layer` / `Module`
  // in a snippet without imports is still recognisable.
  if (raw.some((b) => /^(Layer|layers\.Layer|keras\.layers\.Layer)$/.test(b))) return 'keras';
  if (raw.some((b) => /^(Module|nn\.Module)$/.test(b))) return 'torch';
  return 'other';
}

function paramsOf(ps: Node): string[] {
  const out: string[] = [];
  for (const p of ps.namedChildren) {
    if (p.type === 'identifier') out.push(p.text);
    else {
      const id =
        p.childForFieldName('name') ??
        p.childForFieldName('pattern') ??
        p.namedChildren.find((c) => c.type === 'identifier');
      if (id?.type === 'identifier') out.push(id.text);
    }
  }
  return out;
}

function fnInfo(name: string, node: Node, paramsNode: Node | undefined, cls: ClassInfo | undefined): FnInfo {
  let params: string[] | undefined;
  return {
    name,
    node,
    cls,
    assigns: new Map(),
    get params() {
      params ??= paramsNode ? paramsOf(paramsNode) : [];
      return params;
    },
  };
}

/**
 * What any rule can use: FFTs and products (Fourier layers), convolutions, stated shapes, weights,
 * imports — and the names of the classes that transform something (their instantiations state
 * channel counts). A top-level statement with none of these cannot produce a finding.
 */
const RELEVANT =
  /fft|einsum|mat[mM]ul|[cC]onv(2[dD]|olution2D)|\b(Input|input|randn|rand|zeros|ones|empty|randomNormal|randomUniform|normal|uniform)\s*\(|^(?![ \t]*(async[ \t]+)?def\b).*\b(batch_size|input_shape)[ \t]*=(?!=)|\b(batchSize|inputShape)[ \t]*:|complex|cfloat|cdouble|\bimport\b|require\s*\(|add_?[wW]eight|Parameter|Variable|output_shape/m;

/** Which spans (top-level statements) can produce a finding. */
export function relevantMask(text: string, spans: ReadonlyArray<{ startIndex: number; endIndex: number }>): boolean[] {
  const names = new Set<string>();
  for (const t of spans) {
    const body = text.slice(t.startIndex, t.endIndex);
    // `from tensorflow.signal import rfft2d as r2`: r2 stands for an FFT from here on.
    if (/\bimport\b/.test(body))
      for (const m of body.matchAll(/([\w$]+)\s+as\s+([\w$]+)/g)) if (RELEVANT.test(m[1]!)) names.add(m[2]!);
    if (!/fft/.test(body)) continue;
    for (const m of body.matchAll(/\bclass\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
    // `self._contract = get_contract_fun(…)` in a Fourier layer: the factory decides what its product is.
    for (const m of body.matchAll(/\bself\.\w+\s*=\s*([A-Za-z_]\w*)\s*\(/g)) names.add(`def\\s+${m[1]!}`);
  }
  const byName = names.size ? new RegExp(`\\b(${[...names].join('|')})\\b`) : undefined;
  return spans.map((t) => {
    const body = text.slice(t.startIndex, t.endIndex);
    return RELEVANT.test(body) || !!byName?.test(body);
  });
}

/** Merges the selected spans that touch. */
export function mergeSpans<T extends { startIndex: number; endIndex: number }>(
  spans: readonly T[],
  keep: readonly boolean[],
  gap = 2,
): T[] {
  const out: T[] = [];
  spans.forEach((t, i) => {
    if (!keep[i]) return;
    const last = out[out.length - 1];
    if (last && last.endIndex >= t.startIndex - gap)
      out[out.length - 1] = {
        ...last,
        endIndex: t.endIndex,
        ...('endPosition' in t ? { endPosition: (t as { endPosition: unknown }).endPosition } : {}),
      };
    else out.push({ ...t });
  });
  return out;
}

/** Offsets of the top-level statements worth querying (all of them when the file is one statement). */
export function relevantRanges(root: Node, text: string): Array<{ startIndex: number; endIndex: number }> {
  const top = root.namedChildren.map((n) => ({ startIndex: n.startIndex, endIndex: n.endIndex }));
  if (top.length <= 1) return [{ startIndex: 0, endIndex: text.length }];
  return mergeSpans(top, relevantMask(text, top));
}

/** `text` is the whole source (a tree parsed from some ranges of it covers only those). */
export function buildModel(tree: Tree, lang: SourceLanguage, language: Language, text: string): SourceModel {
  const dialect: Dialect = lang === 'python' ? 'python' : 'js';
  const root = tree.rootNode;
  const model: SourceModel = {
    dialect,
    text,
    root,
    aliases: new Map(),
    classes: [],
    fns: [],
    calls: [],
    products: [],
    callsIn: new Map(),
    selfAssigns: new Map(),
  };
  const MAIN = new Set(['import', 'require', 'class', 'function', 'call', 'product', 'assign']);
  const query = queryFor(language, dialect);
  const matches = relevantRanges(root, model.text)
    .flatMap((r) => query.matches(root, r))
    .map((m) => {
      const parts: Record<string, Node> = {};
      let kind = '';
      for (const c of m.captures) {
        if (MAIN.has(c.name)) kind = c.name;
        parts[c.name] = c.node;
      }
      const node = parts[kind]!;
      // endIndex is a call into wasm: read only where a scope or an assignment needs it.
      const end = node && kind !== 'call' && kind !== 'import' ? node.endIndex : 0;
      return {
        kind,
        node,
        parts,
        start: node?.startIndex ?? 0,
        end,
        rank: kind === 'class' || kind === 'function' ? 0 : 1,
      };
    })
    .filter((m) => m.node);
  // Document order; a scope before whatever starts where it starts.
  matches.sort((a, b) => a.start - b.start || a.rank - b.rank || b.end - a.end);
  // Imports first: a call above its import (rare) still resolves.
  for (const m of matches) {
    if (m.kind === 'import') collectImport(m.node, dialect, model.aliases);
    else if (m.kind === 'require') collectRequire(m.node, model.aliases);
  }
  // A stack of open classes/functions gives each call its scope.
  const stack: Array<{ end: number; cls?: ClassInfo; fn?: FnInfo }> = [];
  const scope = () => stack[stack.length - 1];
  for (const { kind, node, parts, start, end } of matches) {
    while (stack.length && stack[stack.length - 1]!.end <= start) stack.pop();
    if (kind === 'class') {
      const nameNode = parts.name ?? node;
      let raw: string[] = [];
      if (dialect === 'python')
        raw = (node.childForFieldName('superclasses')?.namedChildren ?? [])
          .filter((b) => b.type !== 'keyword_argument')
          .map((b) => b.text);
      else {
        const heritage = node.namedChildren.find((x) => x.type === 'class_heritage');
        const ext = heritage?.namedChildren.find((x) => x.type === 'extends_clause') ?? heritage;
        const v = ext?.childForFieldName('value') ?? ext?.namedChildren[0];
        if (v) raw = [v.text];
      }
      const bases = raw.map((b) => resolvePath(b.split('.'), model)).filter(Boolean);
      const cls: ClassInfo = {
        name: nameNode === node ? '' : nameNode.text,
        node,
        nameNode,
        bases,
        framework: frameworkOf(bases, raw),
        methods: new Map(),
      };
      model.classes.push(cls);
      model.callsIn.set(cls, []);
      stack.push({ end, cls });
    } else if (kind === 'function') {
      const outer = scope();
      // A method: its class is the innermost open scope. A nested function inherits the class.
      const cls = outer?.cls && !outer.fn ? outer.cls : outer?.fn?.cls;
      const fn = fnInfo(parts.name?.text ?? '', node, parts.params, cls);
      if (outer?.cls && !outer.fn) outer.cls.methods.set(fn.name, fn);
      model.fns.push(fn);
      model.callsIn.set(fn, []);
      stack.push({ end, cls: outer?.cls, fn });
    } else if (kind === 'call') {
      const info = new Call(node, parts.callee!, parts.args!, dialect, model);
      info.fn = scope()?.fn;
      info.cls = scope()?.cls ?? info.fn?.cls;
      model.calls.push(info);
      for (const s of stack) {
        if (s.fn) model.callsIn.get(s.fn)?.push(info);
        else if (s.cls) model.callsIn.get(s.cls)?.push(info);
      }
    } else if (kind === 'assign') {
      const fn = scope()?.fn;
      if (fn) {
        const key = parts.left!.text;
        const list = fn.assigns!.get(key);
        if (list) list.push({ at: end, rhs: parts.right! });
        else fn.assigns!.set(key, [{ at: end, rhs: parts.right! }]);
      }
    } else if (kind === 'product') {
      model.products.push({ node, left: parts.left!, right: parts.right!, fn: scope()?.fn, end });
    }
  }
  return model;
}

/**
 * Assignments in a function body (its nested functions have their own), name → [(end offset, right-hand side)], in
 * order.
 */
export function assignmentsOf(fn: FnInfo): Map<string, Array<{ at: number; rhs: Node }>> {
  return fn.assigns ?? new Map();
}

/** `self.x = …` / `this.x = …` in every method of a class: attribute → right-hand sides. */
export function selfAssignments(model: SourceModel, cls: ClassInfo): Map<string, Node[]> {
  let map = model.selfAssigns.get(cls);
  if (map) return map;
  map = new Map();
  for (const fn of cls.methods.values()) {
    for (const [key, list] of assignmentsOf(fn)) {
      const m = /^(self|this)\.(\w+)$/.exec(key);
      if (!m) continue;
      if (!map.has(m[2]!)) map.set(m[2]!, []);
      map.get(m[2]!)!.push(...list.map((x) => x.rhs));
    }
  }
  model.selfAssigns.set(cls, map);
  return map;
}
