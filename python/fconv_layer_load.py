"""Fourier Conv Profiler, "Profile this layer": loading the user's layer without running their file - the parts
the class needs, each compiled under the file's own name at its own line - and its constructor's arguments as
literals or module constants (never evaluated as code). Errors in the user's code are mapped to their file:line.
Standard library only (torch is passed in where needed).
"""

import ast
import os
import sys
import traceback
import types


class UserCodeError(Exception):
    """An exception raised by the user's code, mapped to the user's file:line."""

    def __init__(self, kind, message, file=None, line=None, trace=None):
        super().__init__(message)
        self.kind = kind
        self.file = file
        self.line = line
        self.trace = trace or []


def _user_frames(tb, traced):
    out = []
    for fs in traceback.extract_tb(tb):
        if traced(fs.filename):
            out.append({"file": fs.filename, "line": fs.lineno, "name": fs.name, "text": (fs.line or "").strip()})
    return out


# What user code may raise that the profiler reports at its line: exceptions, and sys.exit() / SystemExit and a
# KeyboardInterrupt raised by the code itself (the terminal's Ctrl-C does not reach this process: it leads its own
# process group, and the host cancels through the protocol).
USER_ERRORS = (Exception, SystemExit, KeyboardInterrupt)

# Module names only statements the profiler did not run bind ({name: (line, text)}), set by load_namespace.
_SKIPPED = {}
# Star imports that failed and were skipped: [(line, statement, why)].
_FAILED_STAR = []


def skipped_hint(e):
    """For a NameError on a name only a skipped top-level statement binds: which line, and how to give the value."""
    if not isinstance(e, NameError):
        return None
    name = getattr(e, "name", None)
    if not name:
        import re

        m = re.search(r"name '(\w+)' is not defined", str(e))
        name = m.group(1) if m else None
    if name not in _SKIPPED:
        if _FAILED_STAR:
            line, text, why = _FAILED_STAR[0]
            return "`%s` probably comes from `%s` (line %d), which failed here (%s)" % (name, text, line, why[:200])
        return None
    line, text = _SKIPPED[name]
    return ("`%s` is set on line %d (`%s`), which the profiler does not run: it runs only imports, definitions and "
            "plain constants of your file, never calls at its top level. Make it a literal constant, or pass the value "
            "to the constructor with --init" % (name, line, text.strip()[:120]))


class ProcessExit(SystemExit):
    """os._exit() called by the user's code: raised where it was called, so it maps to their line."""


def guard_exit():
    """Replaces os._exit for the user's code: an exit without cleanup would end the profile with no reason and no
    line. It raises ProcessExit at the call instead (the profiler's own exits use fconv_protocol.REAL_EXIT)."""
    if getattr(os._exit, "_fconv_guard", False):
        return

    def _exit(code=0):
        raise ProcessExit("os._exit(%r)" % (code,))

    _exit._fconv_guard = True
    os._exit = _exit


# What an out-of-memory error in the user's code is said with: on a GPU, the cap the memory budget put on torch's
# allocator (fconv_layer.torch_memory_watch sets it).
OOM_NOTE = [None]


def user_error(e, traced, what):
    """The exception as the user's error: the innermost frame in their code, their traceback's frames."""
    frames = _user_frames(e.__traceback__, traced)
    msg = "%s: %s" % (type(e).__name__, str(e).split("\n")[0][:400])
    if OOM_NOTE[0] and (type(e).__name__ == "OutOfMemoryError" or "out of memory" in str(e).lower()):
        msg += " (%s)" % OOM_NOTE[0]
    if isinstance(e, ProcessExit):
        msg = "%s (your code called os._exit(), which would end the process without a word: the profiler stopped " \
              "it there)" % str(e)
    elif isinstance(e, SystemExit):
        msg += " (your code called sys.exit() or raised SystemExit: the layer cannot be profiled past it)"
    elif isinstance(e, KeyboardInterrupt):
        msg += " (raised by your code, not a Ctrl-C)"
    hint = skipped_hint(e)
    if hint:
        msg += "; " + hint
    if frames:
        f = frames[-1]
        return UserCodeError("user-code", "%s (%s)" % (msg, what), f["file"], f["line"], frames)
    return UserCodeError("user-code", "%s (%s)" % (msg, what))


# --------------------------------------------------------------------------------------------------
# Loading the parts of the file the layer needs.


def load_namespace(file, chunks, module_name="fconv_user_layer", skipped=None, import_from=None):
    """Executes the chunks in a fresh module; returns (module, notes). An import that fails and is not used by the
    layer is skipped with a note; one it uses is an error naming the import and the interpreter."""
    # Leave the user's project as it was: no __pycache__ folders from importing their modules.
    sys.dont_write_bytecode = True
    guard_exit()
    _SKIPPED.clear()
    del _FAILED_STAR[:]
    for s in skipped or []:
        if isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("line"), int):
            _SKIPPED[s["name"]] = (s["line"], str(s.get("text", "")))
    mod = types.ModuleType(module_name)
    mod.__file__ = file
    mod.__dict__["__builtins__"] = __builtins__
    folder = os.path.dirname(os.path.abspath(import_from or file))
    # The file's own folder first, as when it runs as a script: `from utils import ...` next to it resolves.
    if folder not in sys.path:
        sys.path.insert(0, folder)
    # Inside a package (folders with __init__.py), relative imports (`from .layers import …`) resolve as when the
    # package is imported: __package__ is its dotted name, and the folder above its top is on the path.
    parts = []
    top = folder
    while os.path.isfile(os.path.join(top, "__init__.py")):
        parts.insert(0, os.path.basename(top))
        top = os.path.dirname(top)
    if parts:
        mod.__package__ = ".".join(parts)
        if top not in sys.path:
            sys.path.insert(0, top)
    sys.modules[module_name] = mod
    notes = []
    traced = lambda f: f == file  # noqa: E731
    # `from __future__ import annotations` (and the like) applies to every chunk, as it would to the file.
    import __future__

    flags = 0
    for c in chunks:
        if c["kind"] == "import" and c["source"].lstrip().startswith("from __future__ import"):
            for name in c["source"].split("import", 1)[1].replace("(", " ").replace(")", " ").replace(",", " ").split():
                feature = getattr(__future__, name, None)
                if feature is not None:
                    flags |= feature.compiler_flag
    for c in chunks:
        src = "\n" * (int(c["line"]) - 1) + c["source"]
        try:
            code = compile(src, file, "exec", flags=flags, dont_inherit=True)
        except SyntaxError as e:
            raise UserCodeError("user-code", "SyntaxError: %s" % e.msg, file, e.lineno)
        try:
            exec(code, mod.__dict__)  # noqa: S102 - the user's own definitions, in a trusted workspace, after consent
        except USER_ERRORS as e:  # noqa: BLE001
            if c["kind"] == "import":
                first = c["source"].strip().splitlines()[0][:200]
                if not c.get("used", True):
                    notes.append("line %d: `%s` failed in %s (%s: %s) and the layer does not use it: skipped" % (
                        c["line"], first, sys.executable, type(e).__name__, e))
                    continue
                if (c.get("binds") or []) == ["*"]:
                    # A star import (`from utilities3 import *`): whether the layer needs it shows only when it runs.
                    # Skipped; a NameError later names it as the likely source.
                    _FAILED_STAR.append((int(c["line"]), first, "%s: %s" % (type(e).__name__, e)))
                    notes.append("line %d: `%s` failed in %s (%s: %s): skipped — if the layer needs a name from it, the "
                                 "error says so" % (c["line"], first, sys.executable, type(e).__name__, e))
                    continue
                raise UserCodeError("user-import", "`%s` failed in %s: %s: %s (the layer uses what it imports)" % (
                    first, sys.executable, type(e).__name__, e), file, int(c["line"]))
            raise user_error(e, traced, "while defining %s" % ", ".join(c.get("binds") or ["module code"]))
    return mod, notes


_SAFE_BIN = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b, ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a ** b,
}


def _value(node, ns, constants):
    """A literal, a module constant (a plain value, never a call), or arithmetic on them."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        vals = [_value(e, ns, constants) for e in node.elts]
        return tuple(vals) if isinstance(node, ast.Tuple) else vals
    if isinstance(node, ast.Dict):
        return {_value(k, ns, constants): _value(v, ns, constants) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _value(node.operand, ns, constants)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _SAFE_BIN:
        left, right = _value(node.left, ns, constants), _value(node.right, ns, constants)
        # A literal must stay small: no 'a' * 10**9, no 2 ** 10**9.
        if isinstance(node.op, (ast.Pow, ast.Mult)) and any(isinstance(v, (int, float)) and abs(v) > 1 << 20 for v in (left, right)) \
                and (isinstance(node.op, ast.Pow) or any(isinstance(v, (str, list, tuple)) for v in (left, right))):
            raise ValueError("`%s` is too large for a constructor argument" % (ast.unparse(node) if hasattr(ast, "unparse") else "an expression"))
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and right > 4096:
            raise ValueError("`%s` is too large for a constructor argument" % (ast.unparse(node) if hasattr(ast, "unparse") else "a power"))
        return _SAFE_BIN[type(node.op)](left, right)
    if isinstance(node, ast.Name):
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id in constants and node.id in ns:
            v = ns[node.id]
            if isinstance(v, (int, float, str, bool, tuple, list, dict, type(None))):
                return v
        raise ValueError("`%s` is not a literal or a module constant" % node.id)
    raise ValueError("`%s` is not a literal" % (ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__))


def parse_init(text, ns, constants):
    """`32, 32, modes=12` -> (args, kwargs), from literals and module constants only."""
    text = (text or "").strip()
    if not text:
        return [], {}
    try:
        call = ast.parse("f(%s)" % text, mode="eval").body
    except SyntaxError as e:
        raise UserCodeError("usage", "--init is not a Python argument list (%s): %s" % (e.msg, text))
    if not isinstance(call, ast.Call):  # `1), (2` parses as a tuple of a call and a number
        raise UserCodeError("usage", "--init is not a Python argument list: %s" % text)
    try:
        args = [_value(a, ns, constants) for a in call.args]
        kwargs = {k.arg: _value(k.value, ns, constants) for k in call.keywords if k.arg}
    except ValueError as e:
        raise UserCodeError("usage", "the constructor arguments must be literals or module constants: %s" % e)
    except (ArithmeticError, TypeError, MemoryError) as e:  # 10.0**400, 1/0, 'a' - 1
        raise UserCodeError("usage", "--init %s: %s: %s" % (text[:200], type(e).__name__, e))
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        raise UserCodeError("usage", "the constructor arguments cannot use * or ** unpacking: %s" % text)
    return args, kwargs


def input_dtype(module, torch):
    """The input's dtype when --input-dtype does not say: float32, unless every floating parameter (a complex one by its
    real part) is of one other real dtype — a float64 scale beside a float32 convolution still gets float32."""
    real = {torch.complex64: torch.float32, torch.complex128: torch.float64}
    seen = set()
    for p in list(module.parameters()) + list(module.buffers()):
        if p.is_floating_point():
            seen.add(p.dtype)
        elif p.is_complex():
            seen.add(real.get(p.dtype, torch.float32))
    return seen.pop() if len(seen) == 1 else torch.float32
