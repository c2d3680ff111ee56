/**
 * What "Profile this layer" on the user's own class loads from their file: the imports, the module-level
 * functions and classes the class reaches (transitively), and the simple constant assignments it (or its
 * constructor call) reads — each with its first line, so the Python side compiles it at its own place in
 * the file. Nothing else of the top level is taken: training loops, data loading and file writes never
 * run. Also the constructor's arguments: from a call in the file whose arguments are literals or module
 * constants, else the parameters still missing. Host-free (a tree-sitter tree in, plain data out).
 */
import type { Node, Tree } from 'web-tree-sitter';

export interface LayerChunk {
  kind: 'import' | 'def' | 'class' | 'const';
  /** 1-based first line in the file. */
  line: number;
  source: string;
  /** Names the chunk binds at module level. */
  binds: string[];
  /** For imports: whether the layer (or what it reaches) uses a name it binds. */
  used: boolean;
}

export interface ModuleClass {
  name: string;
  /** 1-based line of `class`. */
  line: number;
  /** 0-based row of the `class` line (for editor ranges). */
  row: number;
  /** The class (or a class it builds on in the file) calls torch.fft / an FFT. */
  fourier: boolean;
  /** It holds a Conv2d. */
  conv: boolean;
  /** 1-based line span of its `forward` method (a Keras layer's `call`), when it has one. */
  forward?: { start: number; end: number };
  /** What runs it: a torch nn.Module, or a Keras layer (tf.keras, Keras 3) on TensorFlow. */
  framework: LayerFramework;
}

export type LayerFramework = 'torch' | 'keras';

export interface InitParam {
  name: string;
  /** The default as written, when there is one. */
  default?: string;
}

export interface LayerExtract {
  className: string;
  /** torch nn.Module or Keras layer, from its bases (the file's own classes followed); undefined when neither. */
  framework?: LayerFramework;
  classLine: number;
  chunks: LayerChunk[];
  /** Names of the module constants among the chunks (the constructor's arguments may read them). */
  constants: string[];
  /** `__init__`'s parameters after self (of the class or the first in-file base that has one). */
  params: InitParam[];
  /** A constructor call in the file whose arguments resolve to literals and module constants. */
  call?: { args: string; line: number };
  /** Required parameters with no value when there is neither --init nor such a call. */
  missing: string[];
  notes: string[];
  /**
   * Module names the layer loads that only a statement the profiler does not run binds (`device = torch.device(…)`,
   * `N = int(os.environ[…])`): a NameError on one is explained with its line.
   */
  skipped: Array<{ name: string; line: number; text: string }>;
}

const MODULE_BASES = /^(?:torch\.)?(?:nn\.)?Module$/;
/** Keras's Layer (and Model, a Layer) however it is imported: Layer, layers.Layer, keras.layers.Layer, tf.keras.… */
const KERAS_BASES = /^(?:(?:tf\.)?(?:tf_)?keras\.)?(?:layers\.|models\.)?(?:Layer|Model)$/;
const FFT_CALL =
  /\b(?:torch\.fft\.\w+|tf\.(?:signal|spectral)\.\w+|rfft2?d?|irfft2?d?|fftn|rfftn|irfftn|fft2d?|ifft2d?|rfft3d|fft3d)\s*\(/;
const CONV_CALL = /\b(?:Conv2d|Conv2D|conv2d)\s*\(/;

function identifiers(node: Node, out: Set<string>): Set<string> {
  if (node.type === 'identifier') out.add(node.text);
  for (const c of node.namedChildren) if (c) identifiers(c, out);
  return out;
}

/** Names a pattern binds: `a`, `a, b`, `(a, [b, *c])` — not attributes or subscripts (they bind nothing). */
function targetNames(n: Node, out: Set<string>): void {
  if (n.type === 'identifier') out.add(n.text);
  else if (/pattern|^tuple$|^list$|^parenthesized_expression$/.test(n.type))
    for (const c of n.namedChildren) if (c) targetNames(c, out);
}

/** What a function binds in its own scope: parameters and the targets of assignments and loops in its body. */
function localNames(fn: Node): Set<string> {
  const out = new Set<string>();
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p) continue;
    if (p.type === 'identifier') out.add(p.text);
    else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter')
      out.add(p.childForFieldName('name')?.text ?? '');
    else if (p.type === 'typed_parameter' || /splat_pattern/.test(p.type)) {
      const id = p.namedChildren.find((c) => c?.type === 'identifier');
      if (id) out.add(id.text);
    }
  }
  const visit = (n: Node) => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      // A nested def or class binds its name here; its own scope is apart.
      if (c.type === 'function_definition' || c.type === 'class_definition') {
        out.add(c.childForFieldName('name')?.text ?? '');
        continue;
      }
      if (c.type === 'assignment' || c.type === 'augmented_assignment' || c.type === 'for_statement') {
        const left = c.childForFieldName('left');
        if (left) targetNames(left, out);
      } else if (c.type === 'as_pattern') {
        const alias = c.childForFieldName('alias');
        if (alias) targetNames(alias, out);
      } else if (c.type === 'named_expression') out.add(c.childForFieldName('name')?.text ?? '');
      visit(c);
    }
  };
  const body = fn.childForFieldName('body');
  if (body) visit(body);
  out.delete('');
  return out;
}

/**
 * The module-level names a node loads — its free names, as a compiler's symbol table has them: identifiers, less
 * attribute names (`x.view` does not load a top-level `view`), keyword-argument names (`f(dim=1)`), a def's or
 * class's own name, and in each function the names it binds itself (parameters, assignment and loop targets).
 */
export function freeNames(node: Node, out = new Set<string>()): Set<string> {
  const visit = (n: Node, locals: Set<string>) => {
    if (n.type === 'identifier') {
      const parent = n.parent;
      if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === n.id) return;
      if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === n.id) return;
      if (
        (parent?.type === 'function_definition' || parent?.type === 'class_definition') &&
        parent.childForFieldName('name')?.id === n.id
      )
        return;
      if (!locals.has(n.text)) out.add(n.text);
      return;
    }
    if (n.type === 'function_definition') {
      const mine = new Set([...locals, ...localNames(n)]);
      // Defaults and annotations load in the enclosing scope; the body in its own.
      for (const p of n.childForFieldName('parameters')?.namedChildren ?? []) {
        if (!p) continue;
        for (const f of ['value', 'type'] as const) {
          const v = p.childForFieldName(f);
          if (v) visit(v, locals);
        }
      }
      const ret = n.childForFieldName('return_type');
      if (ret) visit(ret, locals);
      const body = n.childForFieldName('body');
      if (body) visit(body, mine);
      return;
    }
    if (n.type === 'keyword_argument') {
      const v = n.childForFieldName('value');
      if (v) visit(v, locals);
      return;
    }
    for (const c of n.namedChildren) if (c) visit(c, locals);
  };
  visit(node, new Set());
  return out;
}

/** The first node tree-sitter could not parse (an ERROR or a MISSING node), in file order. */
function firstError(n: Node): Node | undefined {
  if (n.type === 'ERROR' || n.isMissing) return n;
  for (const c of n.children) {
    if (c && (c.hasError || c.isMissing || c.type === 'ERROR')) {
      const e = firstError(c);
      if (e) return e;
    }
  }
  return undefined;
}

/** The definition inside a decorated one. */
export function definition(node: Node): Node {
  return node.type === 'decorated_definition' ? (node.childForFieldName('definition') ?? node) : node;
}

/** A literal expression: numbers, strings, containers of them, arithmetic, names (constants), attributes of names. */
function isSimple(node: Node): boolean {
  switch (node.type) {
    case 'integer':
    case 'float':
    case 'string':
    case 'concatenated_string':
    case 'true':
    case 'false':
    case 'none':
    case 'identifier':
      return true;
    case 'attribute':
      return isSimple(node.childForFieldName('object')!);
    case 'tuple':
    case 'list':
    case 'set':
    case 'dictionary':
    case 'pair':
    case 'parenthesized_expression':
    case 'unary_operator':
    case 'binary_operator':
      return node.namedChildren.every((c) => !c || c.type === 'comment' || isSimple(c));
    default:
      return false;
  }
}

/** The names an import statement binds (`import a.b` binds a; `from x import y as z` binds z). */
function importBinds(node: Node): string[] {
  const out: string[] = [];
  if (node.type === 'import_statement') {
    for (const c of node.namedChildren) {
      if (!c) continue;
      if (c.type === 'aliased_import') out.push(c.childForFieldName('alias')!.text);
      else if (c.type === 'dotted_name') out.push(c.text.split('.')[0]!);
    }
  } else if (node.type === 'import_from_statement') {
    const mod = node.childForFieldName('module_name');
    for (const c of node.namedChildren) {
      if (!c || c === mod || c.id === mod?.id) continue;
      if (c.type === 'aliased_import') out.push(c.childForFieldName('alias')!.text);
      else if (c.type === 'dotted_name') out.push(c.text.split('.').pop()!);
      else if (c.type === 'wildcard_import') out.push('*');
    }
  }
  return out;
}

interface Top {
  node: Node;
  kind: LayerChunk['kind'];
  binds: string[];
  /** What runs, when not the node's text (a try block: its imports only), with the node's line count. */
  source?: string;
}

const isImport = (s: Node) => s.type === 'import_statement' || s.type === 'import_from_statement';

/** `x = None`, `HAVE_X = False`: an except branch's fallback, safe to run. */
function isFallback(s: Node): boolean {
  if (s.type !== 'expression_statement') return false;
  const a = s.namedChildren[0];
  const right = a?.type === 'assignment' ? a.childForFieldName('right') : undefined;
  return !!right && isSimple(right) && a!.childForFieldName('left')?.type === 'identifier';
}

/**
 * A top-level `try:` holding imports, as it will run: the imports of its body, and of each `except` branch the imports
 * and plain fallbacks (`x = None`) — nothing else; no `else:` or `finally:` body (`else: wandb.init()` never runs).
 * Every line keeps its place (dropped lines are blank), so tracebacks point at the file's lines.
 */
function tryImports(node: Node, lines: string[]): { source: string; binds: string[] } | undefined {
  const body = node.childForFieldName('body');
  const stmts = (body?.namedChildren.filter((c) => c && c.type !== 'comment') ?? []) as Node[];
  if (!stmts.some(isImport)) return undefined;
  const first = node.startPosition.row;
  const out = lines.slice(first, node.endPosition.row + 1).map(() => '');
  const keepRows = (n: Node) => {
    for (let r = n.startPosition.row; r <= n.endPosition.row; r++) out[r - first] = lines[r] ?? '';
  };
  /** A block's kept statements, or `pass` where its first statement was when none is kept. */
  const block = (b: Node | null | undefined, keep: (s: Node) => boolean) => {
    const ss = (b?.namedChildren.filter((c) => c && c.type !== 'comment') ?? []) as Node[];
    const kept = ss.filter(keep);
    for (const s of kept) keepRows(s);
    if (!kept.length && ss[0]) {
      const r = ss[0].startPosition.row;
      const line = lines[r] ?? '';
      out[r - first] = `${line.slice(0, ss[0].startPosition.column)}pass`;
    }
    return kept;
  };
  const header = (clause: Node, b: Node | null | undefined) => {
    const end = b ? b.startPosition.row : clause.startPosition.row;
    for (let r = clause.startPosition.row; r <= end; r++) {
      const line = lines[r] ?? '';
      // A one-line clause (`except ImportError: x = None`) keeps its header; the statement is the block's.
      out[r - first] = b && r === b.startPosition.row ? line.slice(0, b.startPosition.column) : line;
    }
  };
  header(node, body);
  const binds = block(body, isImport).flatMap(importBinds);
  let handlers = 0;
  for (const c of node.namedChildren) {
    if (!c || c.type !== 'except_clause') continue;
    handlers++;
    const b = c.namedChildren.find((x) => x?.type === 'block');
    header(c, b);
    if (b && b.startPosition.row === c.startPosition.row) {
      // Inline body after the colon: rebuilt from what is kept.
      const kept = (b.namedChildren.filter((x) => x && x.type !== 'comment') as Node[]).filter(
        (s) => isImport(s) || isFallback(s),
      );
      const r = b.startPosition.row - first;
      out[r] = `${out[r]}${kept.length ? kept.map((s) => s.text).join('; ') : 'pass'}`;
      binds.push(...kept.filter(isImport).flatMap(importBinds));
    } else
      binds.push(
        ...block(b, (s) => isImport(s) || isFallback(s))
          .filter(isImport)
          .flatMap(importBinds),
      );
  }
  if (!handlers) {
    // try/finally alone: the finally body does not run, the try still needs a clause.
    const fin = node.namedChildren.find((c) => c?.type === 'finally_clause');
    if (fin) {
      const r = fin.startPosition.row;
      out[r - first] = `${(lines[r] ?? '').slice(0, fin.startPosition.column)}finally: pass`;
    }
  }
  return { source: out.join('\n'), binds };
}

function topLevel(root: Node): Top[] {
  const out: Top[] = [];
  // The root node starts at the first statement (leading comments and blank lines are not in its text): rows from 0.
  const lines = ('\n'.repeat(root.startPosition.row) + ' '.repeat(root.startPosition.column) + root.text).split('\n');
  for (const child of root.namedChildren) {
    if (!child) continue;
    const def = definition(child);
    if (child.type === 'import_statement' || child.type === 'import_from_statement')
      out.push({ node: child, kind: 'import', binds: importBinds(child) });
    else if (child.type === 'future_import_statement') out.push({ node: child, kind: 'import', binds: ['__future__'] });
    else if (child.type === 'try_statement') {
      // try: import x / except ImportError: x = None — its imports with their fallbacks, nothing else of it.
      const t = tryImports(child, lines);
      if (t) out.push({ node: child, kind: 'import', binds: t.binds, source: t.source });
    } else if (def.type === 'function_definition' || def.type === 'class_definition') {
      const name = def.childForFieldName('name')?.text;
      if (name) out.push({ node: child, kind: def.type === 'class_definition' ? 'class' : 'def', binds: [name] });
    } else if (child.type === 'expression_statement') {
      const a = child.namedChildren[0];
      if (a?.type !== 'assignment') continue;
      const left = a.childForFieldName('left');
      const right = a.childForFieldName('right');
      if (!left || !right || !isSimple(right)) continue;
      const names = left.type === 'identifier' ? [left.text] : [];
      if (left.type === 'pattern_list' || left.type === 'tuple_pattern')
        for (const c of left.namedChildren) if (c?.type === 'identifier') names.push(c.text);
      if (names.length) out.push({ node: child, kind: 'const', binds: names });
    }
  }
  return out;
}

export function classNode(root: Node, name: string): Node | undefined {
  for (const child of root.namedChildren) {
    if (!child) continue;
    const def = definition(child);
    if (def.type === 'class_definition' && def.childForFieldName('name')?.text === name) return child;
  }
  return undefined;
}

function bases(cls: Node): string[] {
  const sup = definition(cls).childForFieldName('superclasses');
  return sup ? sup.namedChildren.filter((c) => !!c && c.type !== 'keyword_argument').map((c) => c!.text) : [];
}

export function method(cls: Node, name: string): Node | undefined {
  const body = definition(cls).childForFieldName('body');
  for (const c of body?.namedChildren ?? []) {
    if (!c) continue;
    const d = definition(c);
    if (d.type === 'function_definition' && d.childForFieldName('name')?.text === name) return d;
  }
  return undefined;
}

/** The file's top-level classes by name. */
function classesOf(root: Node): Map<string, Node> {
  const classes = new Map<string, Node>();
  for (const child of root.namedChildren) {
    if (!child) continue;
    const def = definition(child);
    if (def.type === 'class_definition') classes.set(def.childForFieldName('name')!.text, child);
  }
  return classes;
}

/** torch or Keras, from a class's bases (the file's own classes followed), or undefined. */
function frameworkOf(classes: Map<string, Node>, name: string, seen = new Set<string>()): LayerFramework | undefined {
  const node = classes.get(name);
  if (!node || seen.has(name)) return undefined;
  seen.add(name);
  for (const b of bases(node)) {
    // A class of the file by that name first (a torch `class Layer(nn.Module)` is not Keras's Layer).
    const inner = classes.has(b) ? frameworkOf(classes, b, seen) : undefined;
    if (inner) return inner;
    if (classes.has(b)) continue;
    if (MODULE_BASES.test(b)) return 'torch';
    if (KERAS_BASES.test(b)) return 'keras';
  }
  return undefined;
}

/** Classes of the file that are torch nn.Modules or Keras layers (directly or through another class of the file). */
export function moduleClasses(tree: Tree): ModuleClass[] {
  const root = tree.rootNode;
  const classes = classesOf(root);
  // What a class reaches of the file's other classes and functions, for "it does an FFT somewhere".
  const fns = new Map<string, Node>();
  for (const child of root.namedChildren) {
    const def = child && definition(child);
    if (def?.type === 'function_definition') fns.set(def.childForFieldName('name')!.text, child!);
  }
  const reachText = (node: Node): string => {
    const seen = new Set<string>();
    const parts: string[] = [];
    const visit = (n: Node) => {
      parts.push(n.text);
      for (const id of identifiers(n, new Set())) {
        if (seen.has(id)) continue;
        seen.add(id);
        const target = classes.get(id) ?? fns.get(id);
        if (target && target.id !== n.id) visit(target);
      }
    };
    visit(node);
    return parts.join('\n');
  };
  const out: ModuleClass[] = [];
  for (const [name, node] of classes) {
    const framework = frameworkOf(classes, name);
    if (!framework) continue;
    const text = reachText(node);
    const fwd = method(node, framework === 'keras' ? 'call' : 'forward');
    const def = definition(node);
    out.push({
      name,
      line: def.startPosition.row + 1,
      row: def.startPosition.row,
      fourier: FFT_CALL.test(text),
      conv: CONV_CALL.test(text),
      forward: fwd ? { start: fwd.startPosition.row + 1, end: fwd.endPosition.row + 1 } : undefined,
      framework,
    });
  }
  return out;
}

function params(fn: Node | undefined): InitParam[] {
  const list = fn?.childForFieldName('parameters');
  const out: InitParam[] = [];
  for (const p of list?.namedChildren ?? []) {
    if (!p) continue;
    if (p.type === 'identifier') out.push({ name: p.text });
    else if (p.type === 'typed_parameter') out.push({ name: p.namedChildren[0]!.text });
    else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter')
      out.push({ name: p.childForFieldName('name')!.text, default: p.childForFieldName('value')?.text });
  }
  return out.slice(out[0]?.name === 'self' ? 1 : 0);
}

/** Everything the class needs from its file, or an error message when the class is not in it. */
export function extractLayer(tree: Tree, className: string, initText?: string): LayerExtract | { error: string } {
  const root = tree.rootNode;
  const cls = classNode(root, className);
  if (!cls) {
    const known = moduleClasses(tree).map((c) => c.name);
    // An unclosed bracket above the class swallows it into tree-sitter's error recovery: name the syntax error.
    const bad = root.hasError ? firstError(root) : undefined;
    return {
      error: `no class ${className} at the top level of the file${bad ? ` — the file has a syntax error at line ${bad.startPosition.row + 1} (${bad.text.split('\n')[0]!.trim().slice(0, 80) || 'missing text'}), which hides what follows it` : ''}${known.length ? ` (layer classes here: ${known.join(', ')})` : ''}`,
    };
  }
  const twins = root.namedChildren.filter((c) => {
    const d = c && definition(c);
    return d?.type === 'class_definition' && d.childForFieldName('name')?.text === className;
  }) as Node[];
  if (twins.length > 1)
    return {
      error: `class ${className} is defined ${twins.length} times (lines ${twins.map((c) => definition(c).startPosition.row + 1).join(' and ')}): the last one is what Python would use — rename the others`,
    };
  const tops = topLevel(root);
  const byName = new Map<string, Top[]>();
  for (const t of tops) for (const b of t.binds) byName.set(b, [...(byName.get(b) ?? []), t]);

  const included = new Set<Top>();
  const reached = new Set<string>();
  const reach = (node: Node, own: string[] = []) => {
    const work = [...own, ...freeNames(node)];
    while (work.length) {
      const id = work.pop()!;
      if (reached.has(id)) continue;
      reached.add(id);
      for (const t of byName.get(id) ?? []) {
        if (included.has(t) || t.kind === 'import') continue;
        included.add(t);
        work.push(...freeNames(t.node));
      }
    }
  };
  // The class, and the module constants --init names (`--init WIDTH`): any plain constant of the file may be passed.
  reach(cls, [className, ...(initText?.match(/[A-Za-z_]\w*/g) ?? [])]);

  // The constructor: of the class, else of its first in-file base that has one.
  let init = method(cls, '__init__');
  for (let c: Node | undefined = cls, depth = 0; !init && c && depth < 5; depth++) {
    c = bases(c)
      .map((b) => classNode(root, b))
      .find(Boolean);
    init = c && method(c, '__init__');
  }
  const ps = params(init);

  // A constructor call whose arguments are literals and module constants (the first such, in file order).
  const constNames = new Set(tops.filter((t) => t.kind === 'const').flatMap((t) => t.binds));
  let call: LayerExtract['call'];
  const calls = root.descendantsOfType('call');
  for (const c of calls) {
    if (!c) continue;
    const fn = c.childForFieldName('function');
    const name = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : fn?.text;
    if (name !== className) continue;
    const args = c.childForFieldName('arguments');
    if (!args || args.type !== 'argument_list') continue;
    const items = args.namedChildren.filter((a) => !!a && a.type !== 'comment') as Node[];
    const ok = items.every((a) => {
      const v = a.type === 'keyword_argument' ? a.childForFieldName('value') : a;
      if (!v || !isSimple(v)) return false;
      return [...identifiers(v, new Set())].every((id) => constNames.has(id) || ['True', 'False', 'None'].includes(id));
    });
    if (!ok) continue;
    call = { args: args.text.slice(1, -1).trim(), line: c.startPosition.row + 1 };
    reach(args);
    break;
  }
  // Defaults may read module constants too (`modes=MODES`): reached through the class already.

  const chunks: LayerChunk[] = tops
    .filter((t) => t.kind === 'import' || included.has(t))
    .map((t) => ({
      kind: t.kind,
      line: t.node.startPosition.row + 1,
      source: t.source ?? t.node.text,
      binds: t.binds,
      used: t.kind !== 'import' || t.binds.some((b) => b === '*' || b === '__future__' || reached.has(b)),
    }));
  const notes: string[] = [];
  const skipped = root.namedChildren.filter(
    (c) => !!c && c.type !== 'comment' && !tops.some((t) => t.node.id === c.id),
  ).length;
  if (skipped) notes.push(`${skipped} other top-level statement${skipped === 1 ? '' : 's'} of the file not run`);
  const missing = call ? [] : ps.filter((p) => p.default === undefined).map((p) => p.name);
  // What the layer loads that only a skipped statement binds.
  const boundByTaken = new Set(tops.flatMap((t) => t.binds));
  const skippedBinds: LayerExtract['skipped'] = [];
  for (const c of root.namedChildren) {
    if (!c || tops.some((t) => t.node.id === c.id) || c.type !== 'expression_statement') continue;
    const a = c.namedChildren[0];
    const left = a?.type === 'assignment' || a?.type === 'augmented_assignment' ? a.childForFieldName('left') : null;
    if (!left) continue;
    const names = new Set<string>();
    targetNames(left, names);
    for (const name of names)
      if (reached.has(name) && !boundByTaken.has(name) && !skippedBinds.some((s) => s.name === name))
        skippedBinds.push({ name, line: c.startPosition.row + 1, text: c.text.split('\n')[0]!.slice(0, 200) });
  }
  return {
    className,
    framework: frameworkOf(classesOf(root), className),
    classLine: definition(cls).startPosition.row + 1,
    chunks,
    constants: chunks.filter((c) => c.kind === 'const').flatMap((c) => c.binds),
    params: ps,
    call,
    missing,
    notes,
    skipped: skippedBinds,
  };
}

export type InitChoice =
  { args: string; from: '--init' | 'file' | 'defaults'; line?: number } | { missing: string[]; params: InitParam[] };

/**
 * The constructor's arguments: --init when given, else the call found in the file, else the defaults when
 * every parameter has one; otherwise what is missing (the CLI exits 2 naming it; VS Code asks).
 */
export function initFor(x: LayerExtract, init?: string): InitChoice {
  if (init !== undefined) return { args: init.trim(), from: '--init' };
  if (x.call) return { args: x.call.args, from: 'file', line: x.call.line };
  if (!x.missing.length) return { args: '', from: 'defaults' };
  return { missing: x.missing, params: x.params };
}

/** `width, modes=12` as the prompt proposes it: the parameters, defaults where the code has them. */
export function initTemplate(params: InitParam[]): string {
  return params.map((p) => (p.default !== undefined ? `${p.name}=${p.default}` : `${p.name}=`)).join(', ');
}

/**
 * What is wrong with constructor arguments as the user types them (the editor's box checks as they type), or
 * undefined when they are a Python argument list of literals and the file's module constants — what the Python
 * side accepts. `parse` parses Python (the scanner's parser).
 */
export function initProblem(
  text: string,
  constants: readonly string[],
  parse: (source: string) => Tree,
): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const empty = /(?:^|[(,\s])([A-Za-z_]\w*)\s*=\s*(?=,|$)/.exec(t);
  if (empty) return `${empty[1]} has no value yet`;
  if (t.length > 4000) return 'at most 4000 characters: literals and module constants';
  const tree = parse(`f(${t})\n`);
  try {
    const root = tree.rootNode;
    const stmt = root.namedChildren[0];
    const call = stmt?.namedChildren[0];
    const argList = call?.type === 'call' ? call.childForFieldName('arguments') : undefined;
    if (root.hasError || root.namedChildren.length !== 1 || !argList || argList.endIndex !== t.length + 3)
      return 'not a Python argument list: check the brackets, quotes and commas';
    for (const c of argList.descendantsOfType('call'))
      if (c) return `${c.text.slice(0, 40)} is a call: give literals and module constants only`;
    for (const a of argList.namedChildren) {
      if (!a) continue;
      if (a.type === 'list_splat' || a.type === 'dictionary_splat') return '* and ** unpacking cannot be used';
      const value = a.type === 'keyword_argument' ? a.childForFieldName('value') : a;
      for (const id of value ? identifiers(value, new Set()) : [])
        if (!constants.includes(id) && !['True', 'False', 'None'].includes(id))
          return `${id} is not a literal or a module constant of the file`;
    }
    return undefined;
  } finally {
    tree.delete();
  }
}

/** What a run on the user's layer sends of its source: the file, the class and what of the file it needs. */
export function layerSource(x: LayerExtract, file: string, init: string) {
  return {
    file,
    className: x.className,
    classLine: x.classLine,
    chunks: x.chunks,
    constants: x.constants,
    skipped: x.skipped,
    init,
  };
}

const FACTORY = String.raw`(?:torch\.(?:randn|rand|zeros|ones|empty)|(?:tf|tensorflow)\.(?:random\.normal|random\.uniform|zeros|ones)|np\.random\.randn|numpy\.random\.randn)`;

/**
 * The input shape the file itself feeds `className`, for the shape box's first value: an instance
 * (`model = FNO2d(…)`) called on a tensor made in the file — `model(torch.randn(20, 64, 64, 3))`, or
 * `x = torch.randn(…)` then `model(x)` — with literal or module-constant dimensions. Undefined when the file
 * has no such call: the box then starts from the last shape or a default.
 */
export function inputShapeGuess(text: string, className: string): number[] | undefined {
  const consts = new Map<string, number>();
  for (const m of text.matchAll(/^([A-Za-z_]\w*)\s*=\s*(\d+)\s*(?:#.*)?$/gm))
    if (!consts.has(m[1]!)) consts.set(m[1]!, Number(m[2]));
  const dims = (args: string): number[] | undefined => {
    // A shape given as one tuple or list (`rand((4, 8, 8, 3), dtype=…)`, `normal([32, 28, 28, 1])`): its elements.
    const parts = (/^\s*[[(]([^\])]*)[\])]/.exec(args)?.[1] ?? args)
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a && !a.includes('='));
    const out = parts.map((a) => (/^\d+$/.test(a) ? Number(a) : consts.get(a)));
    return out.length >= 1 && out.length <= 6 && out.every((d) => d !== undefined && d > 0)
      ? (out as number[])
      : undefined;
  };
  const tensors = new Map<string, number[]>();
  for (const m of text.matchAll(
    new RegExp(String.raw`^\s*([A-Za-z_]\w*)\s*=\s*${FACTORY}\(([^()]*(?:\([^()]*\))?[^()]*)\)`, 'gm'),
  )) {
    const d = dims(m[2]!);
    if (d) tensors.set(m[1]!, d);
  }
  const esc = className.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const inst of text.matchAll(new RegExp(String.raw`^\s*([A-Za-z_]\w*)\s*=\s*(?:[\w.]+\.)?${esc}\(`, 'gm'))) {
    const name = inst[1]!;
    for (const call of text.matchAll(
      new RegExp(String.raw`\b${name}\(\s*(${FACTORY}\(([^()]*(?:\([^()]*\))?[^()]*)\)|[A-Za-z_]\w*)\s*[,)]`, 'g'),
    )) {
      const d = call[2] !== undefined ? dims(call[2]) : tensors.get(call[1]!);
      if (d) return d;
    }
  }
  return undefined;
}
