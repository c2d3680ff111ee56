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
  params: string[];
  cls?: ClassInfo;
  /** name → assignments in this function, in source order (filled on first use). */
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
  receiver?: Node;
  args: Node[];
  /** Keyword arguments (Python) or the properties of a single object-literal argument (JS). */
  kwargs: Map<string, Node>;
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
  products: Array<{ node: Node; left: Node; right: Node; fn?: FnInfo }>;
  /** Assignments to `self.x` / `this.x` anywhere in a class, by class then attribute. */
  selfAssigns: Map<ClassInfo, Map<string, Node[]>>;
}

const QUERY_SOURCE: Record<Dialect, string> = {
  python: `
    (import_statement) @import
    (import_from_statement) @import
    (class_definition) @class
    (function_definition) @function
    (call) @call
    (binary_operator operator: "*") @product`,
  js: `
    (import_statement) @import
    (variable_declarator value: (call_expression)) @require
    (class_declaration) @class
    (class) @class
    (method_definition) @function
    (function_declaration) @function
    (call_expression) @call
    (new_expression) @call
    (binary_expression operator: "*") @product`,
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
  python: { tf: 'tensorflow', torch: 'torch', np: 'numpy', F: 'torch.nn.functional', nn: 'torch.nn', keras: 'tensorflow.keras', layers: 'tensorflow.keras.layers' },
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

function stringValue(n: Node | null | undefined): string | undefined {
  if (!n || n.type !== 'string') return undefined;
  const t = n.text;
  const m = /^[rbuRBU]*(['"]{1,3})([\s\S]*)\1$/.exec(t);
  return m ? m[2] : undefined;
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

/** `a.b.c` as segments when it is a plain path of names (the root may be `self` / `this`). */
export function pathOf(n: Node | null | undefined): string[] | undefined {
  const out: string[] = [];
  let cur = n;
  for (let depth = 0; cur && depth < 32; depth++) {
    if (cur.type === 'identifier' || cur.type === 'this' || cur.type === 'property_identifier') {
      out.unshift(cur.text);
      return out;
    }
    if (cur.type === 'attribute') {
      out.unshift(cur.childForFieldName('attribute')?.text ?? '');
      cur = cur.childForFieldName('object');
    } else if (cur.type === 'member_expression') {
      out.unshift(cur.childForFieldName('property')?.text ?? '');
      cur = cur.childForFieldName('object');
    } else return undefined;
  }
  return undefined;
}

export function resolvePath(segments: string[] | undefined, model: Pick<SourceModel, 'aliases' | 'dialect'>): string {
  if (!segments?.length) return '';
  const root = segments[0]!;
  const target = model.aliases.get(root) ?? CONVENTIONAL[model.dialect][root];
  if (!target) return '';
  return canonical([target, ...segments.slice(1)].join('.'));
}

function callParts(node: Node, model: SourceModel): CallInfo {
  const isNew = node.type === 'new_expression';
  const callee = (isNew ? node.childForFieldName('constructor') : node.childForFieldName('function')) ?? node;
  const argList = node.childForFieldName('arguments');
  const args: Node[] = [];
  const kwargs = new Map<string, Node>();
  for (const a of argList?.namedChildren ?? []) {
    if (a.type === 'keyword_argument') {
      const k = a.childForFieldName('name')?.text;
      const v = a.childForFieldName('value');
      if (k && v) kwargs.set(k, v);
    } else if (a.type !== 'comment') args.push(a);
  }
  if (model.dialect === 'js' && args.length === 1 && args[0]!.type === 'object') {
    for (const p of args[0]!.namedChildren) {
      if (p.type !== 'pair') continue;
      const k = p.childForFieldName('key')?.text.replace(/^['"]|['"]$/g, '');
      const v = p.childForFieldName('value');
      if (k && v) kwargs.set(k, v);
    }
  }
  const segments = pathOf(callee);
  let name = resolvePath(segments, model);
  let receiver: Node | undefined;
  if (!name && (callee.type === 'attribute' || callee.type === 'member_expression')) {
    receiver = callee.childForFieldName('object') ?? undefined;
  }
  if (!name && segments?.length === 1 && model.aliases.has(segments[0]!)) name = canonical(model.aliases.get(segments[0]!)!);
  const last = segments?.[segments.length - 1] ?? (callee.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee.childForFieldName('property')?.text) ?? '';
  return { node, callee, name, last, receiver, args, kwargs };
}

function frameworkOf(bases: string[], raw: string[]): ClassInfo['framework'] {
  if (bases.some((b) => b.startsWith('tensorflow.') )) return 'keras';
  if (bases.some((b) => b.startsWith('torch.'))) return 'torch';
  if (bases.some((b) => b.startsWith('tfjs.'))) return 'tfjs';
  // `class F(Layer)` after `from keras.layers import Layer` resolves above; a bare `Layer` / `Module`
  // in a snippet without imports is still recognisable.
  if (raw.some((b) => /^(Layer|layers\.Layer|keras\.layers\.Layer)$/.test(b))) return 'keras';
  if (raw.some((b) => /^(Module|nn\.Module)$/.test(b))) return 'torch';
  return 'other';
}

function paramsOf(fn: Node): string[] {
  const ps = fn.childForFieldName('parameters');
  const out: string[] = [];
  for (const p of ps?.namedChildren ?? []) {
    if (p.type === 'identifier') out.push(p.text);
    else {
      const id = p.childForFieldName('name') ?? p.childForFieldName('pattern') ?? p.namedChildren.find((c) => c.type === 'identifier');
      if (id?.type === 'identifier') out.push(id.text);
    }
  }
  return out;
}

export function buildModel(tree: Tree, lang: SourceLanguage, language: Language): SourceModel {
  const dialect: Dialect = lang === 'python' ? 'python' : 'js';
  const root = tree.rootNode;
  const model: SourceModel = {
    dialect,
    text: root.text,
    root,
    aliases: new Map(),
    classes: [],
    fns: [],
    calls: [],
    products: [],
    selfAssigns: new Map(),
  };
  const captures = queryFor(language, dialect).captures(root);
  // Imports first: a call above its import (rare) still resolves.
  for (const c of captures) {
    if (c.name === 'import') collectImport(c.node, dialect, model.aliases);
    else if (c.name === 'require') collectRequire(c.node, model.aliases);
  }
  // Captures come in document order; a stack of open classes/functions gives each call its scope.
  const stack: Array<{ end: number; cls?: ClassInfo; fn?: FnInfo }> = [];
  const scope = () => stack[stack.length - 1];
  for (const c of captures) {
    const node = c.node;
    while (stack.length && stack[stack.length - 1]!.end <= node.startIndex) stack.pop();
    if (c.name === 'class') {
      const nameNode = node.childForFieldName('name') ?? node;
      let raw: string[] = [];
      if (dialect === 'python') raw = (node.childForFieldName('superclasses')?.namedChildren ?? []).filter((b) => b.type !== 'keyword_argument').map((b) => b.text);
      else {
        const heritage = node.namedChildren.find((x) => x.type === 'class_heritage');
        const ext = heritage?.namedChildren.find((x) => x.type === 'extends_clause') ?? heritage;
        const v = ext?.childForFieldName('value') ?? ext?.namedChildren[0];
        if (v) raw = [v.text];
      }
      const bases = raw.map((b) => resolvePath(b.split('.'), model)).filter(Boolean);
      const cls: ClassInfo = { name: nameNode.text, node, nameNode, bases, framework: frameworkOf(bases, raw), methods: new Map() };
      model.classes.push(cls);
      stack.push({ end: node.endIndex, cls });
    } else if (c.name === 'function') {
      const outer = scope();
      const name = node.childForFieldName('name')?.text ?? '';
      // A method: its class is the innermost open scope. A nested function inherits the class.
      const cls = outer?.cls && !outer.fn ? outer.cls : outer?.fn?.cls;
      const fn: FnInfo = { name, node, params: paramsOf(node), cls };
      if (outer?.cls && !outer.fn) outer.cls.methods.set(name, fn);
      model.fns.push(fn);
      stack.push({ end: node.endIndex, cls: outer?.cls, fn });
    } else if (c.name === 'call') {
      const info = callParts(node, model);
      info.fn = scope()?.fn;
      info.cls = scope()?.cls ?? info.fn?.cls;
      model.calls.push(info);
    } else if (c.name === 'product') {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left && right) model.products.push({ node, left, right, fn: scope()?.fn });
    }
  }
  return model;
}

const ASSIGN_TYPES: Record<Dialect, string[]> = {
  python: ['assignment'],
  js: ['variable_declarator', 'assignment_expression'],
};

function assignParts(n: Node): { left: Node | null; right: Node | null } {
  if (n.type === 'variable_declarator') return { left: n.childForFieldName('name'), right: n.childForFieldName('value') };
  return { left: n.childForFieldName('left'), right: n.childForFieldName('right') };
}

/** Assignments in a function body, name → [(position, right-hand side)], in order. */
export function assignmentsOf(fn: FnInfo, dialect: Dialect): Map<string, Array<{ at: number; rhs: Node }>> {
  if (fn.assigns) return fn.assigns;
  const map = new Map<string, Array<{ at: number; rhs: Node }>>();
  for (const a of fn.node.descendantsOfType(ASSIGN_TYPES[dialect])) {
    const { left, right } = assignParts(a);
    if (!left || !right) continue;
    const key = left.text;
    if (!map.has(key)) map.set(key, []);
    map.get(key)!.push({ at: a.endIndex, rhs: right });
  }
  fn.assigns = map;
  return map;
}

/** `self.x = …` / `this.x = …` in every method of a class: attribute → right-hand sides. */
export function selfAssignments(model: SourceModel, cls: ClassInfo): Map<string, Node[]> {
  let map = model.selfAssigns.get(cls);
  if (map) return map;
  map = new Map();
  for (const fn of cls.methods.values()) {
    for (const [key, list] of assignmentsOf(fn, model.dialect)) {
      const m = /^(self|this)\.(\w+)$/.exec(key);
      if (!m) continue;
      if (!map.has(m[2]!)) map.set(m[2]!, []);
      map.get(m[2]!)!.push(...list.map((x) => x.rhs));
    }
  }
  model.selfAssigns.set(cls, map);
  return map;
}

export { stringValue };
