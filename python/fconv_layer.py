"""Fourier Conv Profiler: "Profile this layer" on the user's own PyTorch class (imported by fconv_torch.py).

The host hands in the parts of the user's file the layer needs (its imports, the module-level functions and
classes the class reaches, simple constant assignments), each with its first line in the file. They are
executed in a fresh module namespace, each compiled under the file's own name at its own line, so a
traceback points at the user's file:line; nothing else of the file's top level ever runs (training loops,
data loading, file writes).

Then the class is instantiated (arguments from --init or the constructor call found in the file, as Python
literals or module constants: never evaluated as code), its forward() runs on random input of the asked
shape, and the time is measured three ways, each in its own pass:

  1. plain: forward() alone, warmed up, then timed (CUDA events on a GPU; perf_counter after a sync on a
     CPU) - the reported totalMs;
  2. lines: a sys.settrace line tracer on the user's frames, with a device sync before each line event;
     each line's exclusive time (a line that calls a helper in the file does not count the helper's lines);
  3. ops: a TorchFunctionMode that syncs and times every torch call and tensor method, by the user's line
     it was called from; on a GPU also one torch.profiler pass for the CUDA kernels each op launched.

Standard library and torch only.
"""

import ast
import math
import os
import sys
import threading
import time
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


def user_error(e, traced, what):
    """The exception as the user's error: the innermost frame in their code, their traceback's frames."""
    frames = _user_frames(e.__traceback__, traced)
    msg = "%s: %s" % (type(e).__name__, str(e).split("\n")[0][:400])
    if frames:
        f = frames[-1]
        return UserCodeError("user-code", "%s (%s)" % (msg, what), f["file"], f["line"], frames)
    return UserCodeError("user-code", "%s (%s)" % (msg, what))


# --------------------------------------------------------------------------------------------------
# Loading the parts of the file the layer needs.


def load_namespace(file, chunks, module_name="fconv_user_layer"):
    """Executes the chunks in a fresh module; returns (module, notes). An import that fails and is not used by the
    layer is skipped with a note; one it uses is an error naming the import and the interpreter."""
    # Leave the user's project as it was: no __pycache__ folders from importing their modules.
    sys.dont_write_bytecode = True
    mod = types.ModuleType(module_name)
    mod.__file__ = file
    mod.__dict__["__builtins__"] = __builtins__
    folder = os.path.dirname(os.path.abspath(file))
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
        except Exception as e:  # noqa: BLE001
            if c["kind"] == "import":
                first = c["source"].strip().splitlines()[0][:200]
                if not c.get("used", True):
                    notes.append("line %d: `%s` failed in %s (%s: %s) and the layer does not use it: skipped" % (
                        c["line"], first, sys.executable, type(e).__name__, e))
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
        return _SAFE_BIN[type(node.op)](_value(node.left, ns, constants), _value(node.right, ns, constants))
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
    try:
        args = [_value(a, ns, constants) for a in call.args]
        kwargs = {k.arg: _value(k.value, ns, constants) for k in call.keywords if k.arg}
    except ValueError as e:
        raise UserCodeError("usage", "the constructor arguments must be literals or module constants: %s" % e)
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        raise UserCodeError("usage", "the constructor arguments cannot use * or ** unpacking: %s" % text)
    return args, kwargs


def input_dtype(module, torch):
    """The dtype of the layer's parameters: the real floating one, or the real part of a complex one."""
    for p in list(module.parameters()) + list(module.buffers()):
        if p.is_floating_point():
            return p.dtype
        if p.is_complex():
            return {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(p.dtype, torch.float32)
    return torch.float32


# --------------------------------------------------------------------------------------------------
# Memory watchdog: the layer's own process stays within the budget.


class MemoryWatch:
    def __init__(self, budget, torch, device, on_over):
        self.budget = budget
        self.torch = torch
        self.device = device
        self.on_over = on_over
        self.base = self.rss()
        self.stop = False
        self.peak = 0

    @staticmethod
    def rss():
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except Exception:  # noqa: BLE001 - not Linux: resource's peak RSS (kB on Linux, bytes on macOS)
            import resource

            r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return r if sys.platform == "darwin" else r * 1024

    def used(self):
        if self.device.type == "cuda":
            return self.torch.cuda.memory_reserved(self.device)
        return max(0, self.rss() - self.base)

    def run(self):
        while not self.stop:
            u = self.used()
            self.peak = max(self.peak, u)
            if self.budget and u > self.budget:
                self.on_over(u)
                return
            time.sleep(0.05)

    def __enter__(self):
        if self.budget:
            threading.Thread(target=self.run, daemon=True).start()
        return self

    def __exit__(self, *a):
        self.stop = True


# --------------------------------------------------------------------------------------------------
# The three passes.


def _stats(xs):
    s = sorted(xs)
    if not s:
        return {"median": 0.0, "p10": 0.0, "p90": 0.0}

    def q(p):
        i = p * (len(s) - 1)
        lo, hi = int(math.floor(i)), int(math.ceil(i))
        return s[lo] + (s[hi] - s[lo]) * (i - lo)

    return {"median": q(0.5), "p10": q(0.1), "p90": q(0.9)}


def _median(xs):
    return _stats(xs)["median"]


class LineTracer:
    """Exclusive wall time per (file, line) of the traced frames, with a sync before every reading."""

    def __init__(self, traced, sync):
        self.traced = traced
        self.sync = sync
        self.acc = {}
        self.hits = {}
        self.stack = []
        self.t_last = 0.0

    def _charge(self):
        self.sync()
        t = time.perf_counter()
        key = self.stack[-1] if self.stack and self.stack[-1] is not None else None
        self.acc[key] = self.acc.get(key, 0.0) + (t - self.t_last)

    def global_trace(self, frame, event, arg):
        if event != "call" or not self.traced(frame.f_code.co_filename):
            return None
        self._charge()
        self.stack.append(None)
        self.t_last = time.perf_counter()
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if event == "line":
            self._charge()
            key = (frame.f_code.co_filename, frame.f_lineno)
            self.stack[-1] = key
            self.hits[key] = self.hits.get(key, 0) + 1
            self.t_last = time.perf_counter()
        elif event == "return":
            self._charge()
            if self.stack:
                self.stack.pop()
            self.t_last = time.perf_counter()
        return self.local_trace

    def run(self, fn):
        self.acc = {}
        self.stack = []
        self.sync()
        t0 = time.perf_counter()
        self.t_last = t0
        old = sys.gettrace()
        sys.settrace(self.global_trace)
        try:
            fn()
        finally:
            sys.settrace(old)
        self.sync()
        t1 = time.perf_counter()
        self.acc[None] = self.acc.get(None, 0.0) + (t1 - self.t_last)
        return {k: v * 1000.0 for k, v in self.acc.items()}, (t1 - t0) * 1000.0


def _op_name(func):
    name = getattr(func, "__name__", None) or repr(func)
    qual = getattr(func, "__qualname__", "") or ""
    mod = getattr(func, "__module__", "") or ""
    if qual.startswith(("Tensor.", "TensorBase.", "_TensorBase.")):
        return "Tensor." + qual.split(".", 1)[1]
    if "__get__" in qual or name == "__get__":
        return "Tensor.shape"
    if mod == "torch._C._fft" and name.startswith("fft_"):
        name = name[4:]
    mod = mod.replace("torch._C._fft", "torch.fft").replace("torch._C._nn", "torch.nn.functional")
    mod = mod.replace("torch._C._linalg", "torch.linalg").replace("torch._C._VariableFunctions", "torch")
    if mod in ("torch._C", "torch.functional", ""):
        mod = "torch"
    return "%s.%s" % (mod, name)


def _shapes(args, kwargs, torch):
    out = []

    def add(v):
        if isinstance(v, torch.Tensor):
            s = "x".join(str(d) for d in v.shape) or "scalar"
            if v.is_complex():
                s += " complex"
            out.append(s)
        elif isinstance(v, (list, tuple)) and len(out) < 6:
            for e in v[:4]:
                if isinstance(e, torch.Tensor):
                    add(e)

    for a in args:
        add(a)
    for v in (kwargs or {}).values():
        add(v)
    return out[:4]


# Attribute reads that are not work: left out of the op lists (their time stays in the line's).
_TRIVIAL = {"Tensor.shape", "Tensor.size", "Tensor.dim", "Tensor.dtype", "Tensor.device", "Tensor.is_complex",
            "Tensor.ndim", "Tensor.requires_grad", "Tensor.is_cuda", "Tensor.__len__"}


def op_pass(torch, fn, traced, sync, reps, cuda):
    """Per line: the torch calls made from it, each timed with a sync before and after."""
    try:
        from torch.overrides import TorchFunctionMode
    except ImportError:  # torch < 1.13: lines only
        return {}

    per = {}
    state = {"depth": 0, "n": 0}
    keys = {}

    def line_of():
        f = sys._getframe(2)
        while f is not None:
            if traced(f.f_code.co_filename):
                return (f.f_code.co_filename, f.f_lineno)
            f = f.f_back
        return None

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            kwargs = kwargs or {}
            if state["depth"] > 0:
                return func(*args, **kwargs)
            name = _op_name(func)
            key = line_of()
            state["depth"] += 1
            try:
                if name in _TRIVIAL or key is None:
                    return func(*args, **kwargs)
                sync()
                t0 = time.perf_counter()
                r = func(*args, **kwargs)
                sync()
                ms = (time.perf_counter() - t0) * 1000.0
                shapes = _shapes(args, kwargs, torch)
                k = (key, name, tuple(shapes), state["n"])
                state["n"] += 1
                keys.setdefault(k[:3], []).append((state["rep"], ms))
                return r
            finally:
                state["depth"] -= 1

    for rep in range(reps):
        state["rep"] = rep
        state["n"] = 0
        with Mode():
            fn()
    for (key, name, shapes), samples in keys.items():
        by_rep = {}
        for r, ms in samples:
            by_rep[r] = by_rep.get(r, 0.0) + ms
        calls = len(samples) / max(1, len(by_rep))
        per.setdefault(key, []).append({"name": name, "shapes": list(shapes), "ms": _median(list(by_rep.values())),
                                        "calls": int(round(calls))})
    for key in per:
        per[key].sort(key=lambda o: -o["ms"])
    return per


def kernel_pass(torch, fn, traced, cuda):
    """One pass under torch.profiler, each user line's torch calls inside record_function: the CUDA kernels (on a
    GPU) or the aten ops (on a CPU) each line ran. Best effort: {} when the profiler is not usable here."""
    try:
        from torch.overrides import TorchFunctionMode
        from torch.profiler import ProfilerActivity, profile, record_function
    except Exception:  # noqa: BLE001
        return {}
    state = {"depth": 0}

    def line_of():
        f = sys._getframe(2)
        while f is not None:
            if traced(f.f_code.co_filename):
                return "%d:%s" % (f.f_lineno, f.f_code.co_filename)
            f = f.f_back
        return None

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            kwargs = kwargs or {}
            key = line_of() if state["depth"] == 0 else None
            if key is None:
                return func(*args, **kwargs)
            state["depth"] += 1
            try:
                with record_function("fconv_line:" + key):
                    return func(*args, **kwargs)
            finally:
                state["depth"] -= 1

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    try:
        with profile(activities=activities) as prof:
            with Mode():
                fn()
            if cuda:
                torch.cuda.synchronize()
        events = prof.events()
    except Exception as e:  # noqa: BLE001
        sys.stderr.write("torch.profiler failed: %s\n" % e)
        return {}
    out = {}
    for ev in events:
        if not ev.name.startswith("fconv_line:"):
            continue
        _, ln, f = ev.name.split(":", 2)
        acc = out.setdefault((f, int(ln)), {})

        def walk(e, depth):
            for k in getattr(e, "kernels", []) or []:
                acc[("cuda", k.name)] = acc.get(("cuda", k.name), 0.0) + k.duration / 1000.0
            for c in e.cpu_children:
                if not cuda and depth == 0:
                    acc[("cpu", c.name)] = acc.get(("cpu", c.name), 0.0) + c.cpu_time_total / 1000.0
                walk(c, depth + 1)

        walk(ev, 0)
    return {key: [{"name": k[1][:120], "device": k[0], "ms": v} for k, v in sorted(acc.items(), key=lambda kv: -kv[1])[:6]
                  if v >= 0.001]
            for key, acc in out.items()}


def fno_weights(module):
    """A module's own complex 4-D weights (in, out, modes1, modes2): an FNO spectral convolution's. Also real
    (in, out, m1, m2, 2)-stacked ones, as code from before torch.fft keeps them."""
    ws = [list(p.shape) for p in module.parameters(recurse=False) if p.is_complex() and p.dim() == 4]
    return ws or [list(p.shape[:4]) for p in module.parameters(recurse=False) if p.dim() == 5 and p.shape[-1] == 2]


def steady_allocator():
    """glibc only: keep freed memory in the process (M_TRIM_THRESHOLD, M_MMAP_THRESHOLD at 256 MiB) instead of
    handing every large buffer back to the OS and faulting it in again on the next call. A small process running
    one layer otherwise pays ~40 % more on CPU for a 64x64 FNO layer's 5 MB buffers than the same code does in a
    training process that holds GBs (and in the profiler's engine process). Returns a note, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        ok = libc.mallopt(M_TRIM_THRESHOLD, 256 << 20) and libc.mallopt(M_MMAP_THRESHOLD, 256 << 20)
        return "glibc malloc keeps freed memory (M_TRIM_THRESHOLD and M_MMAP_THRESHOLD at 256 MiB), as in a long-running process" if ok else None
    except Exception:  # noqa: BLE001 - not glibc (musl): measured as is
        return None


def warm_up(fn, sync, asked, tick=None):
    """The runs asked for, then more while it still gets faster (allocator growth, oneDNN/cuDNN picking
    kernels): until a run is within 5 % of the one before, at most 4x the asked runs (at least 3 more) and 2 s.
    Returns the runs done."""
    prev = None
    done = 0
    t_start = time.perf_counter()
    for i in range(asked + max(3, 4 * asked)):
        if tick:
            tick(i)
        t0 = time.perf_counter()
        fn()
        sync()
        ms = (time.perf_counter() - t0) * 1000.0
        done += 1
        if done >= asked and prev is not None and ms > 0.95 * prev:
            break
        if done >= asked and time.perf_counter() - t_start > 2.0:
            break
        prev = ms
    return done


def plain_timer(torch, cuda, sync):
    def timed(fn):
        if cuda:
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            return a.elapsed_time(b)
        sync()
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1000.0

    return timed


def spectral_part(torch, layer, forward, x, total, timed, reps, sync, warmup):
    """The FNO spectral convolution inside the layer (the first module holding complex 4-D weights): its name,
    class, the input it gets (caught with a forward pre-hook on one run) and its own time, measured on that
    input like the whole forward. None when the layer holds none."""
    found = None
    for name, m in layer.named_modules():
        ws = fno_weights(m)
        if ws:
            found = (name, m, ws)
            break
    if found is None:
        return None
    name, m, ws = found
    out = {"name": name or "(the layer itself)", "className": type(m).__name__, "weights": ws[:8]}
    if m is layer:
        out.update({"inputShape": list(x.shape), "totalMs": total})
        return out
    caught = {}

    def hook(mod, args):
        if "x" not in caught and args and isinstance(args[0], torch.Tensor):
            caught["x"] = args[0].detach().clone()

    h = m.register_forward_pre_hook(hook)
    try:
        forward()
    finally:
        h.remove()
    if "x" not in caught:
        return None
    xi = caught["x"]
    warm_up(lambda: m(xi), sync, warmup)
    times = [timed(lambda: m(xi)) for _ in range(reps)]
    out.update({"inputShape": list(xi.shape), "totalMs": _stats(times)})
    return out


def source_lines(file):
    try:
        with open(file, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def profile_layer(torch, req, progress, check, send_error):
    """The whole request: load, instantiate, measure three ways. Returns the result object."""
    file = req["file"]
    root = os.path.dirname(os.path.abspath(file))
    skip = ("site-packages", "dist-packages", os.sep + "lib" + os.sep + "python")

    def traced(f):
        return f == file or (f.startswith(root + os.sep) and not any(s in f for s in skip))

    def step(phase, index, count):
        progress({"phase": phase, "index": index, "count": count})
        check()

    step("load", 0, 1)
    mod, notes = load_namespace(file, req["chunks"])
    cls = mod.__dict__.get(req["className"])
    if cls is None or not isinstance(cls, type):
        raise UserCodeError("usage", "class %s is not defined after loading %s" % (req["className"], file))
    if not issubclass(cls, torch.nn.Module):
        raise UserCodeError("usage", "%s is not a torch.nn.Module" % req["className"])
    args, kwargs = parse_init(req.get("init"), mod.__dict__, set(req.get("constants") or []))
    try:
        layer = cls(*args, **kwargs)
    except TypeError as e:
        raise UserCodeError("usage" if not _user_frames(e.__traceback__, traced) else "user-code",
                            "%s(%s): %s" % (req["className"], req.get("init") or "", e),
                            file, int(req.get("classLine") or 0) or None)
    except Exception as e:  # noqa: BLE001
        raise user_error(e, traced, "in %s.__init__" % req["className"])

    device = torch.device(req.get("device") or "cpu")
    cuda = device.type == "cuda"
    threads = req.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    if cuda:
        torch.backends.cudnn.benchmark = True
    layer = layer.to(device).eval()
    alloc_note = steady_allocator() if not cuda else None
    dtype = input_dtype(layer, torch)
    shape = [int(d) for d in req["inputShape"]]
    gen = torch.Generator().manual_seed(int(req.get("seed", 1)))
    x = torch.randn(*shape, generator=gen, dtype=dtype).to(device)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def over(used):
        send_error("budget", "the layer's process used %.1f MiB, above the memory budget of %.1f MiB" % (
            used / 2 ** 20, req["memoryBudgetBytes"] / 2 ** 20))
        os._exit(5)

    def forward():
        return layer(x)

    warmup = int(req.get("warmup", 3))
    reps = int(req.get("reps", 20))
    trace_reps = int(req.get("traceReps", 7))
    with torch.no_grad(), MemoryWatch(req.get("memoryBudgetBytes"), torch, device, over) as watch:
        # Plain: warm up (more while it still gets faster, as the engine does), then time.
        try:
            out = forward()
            sync()
        except Exception as e:  # noqa: BLE001
            raise user_error(e, traced, "in %s.forward" % req["className"])
        out_shape = list(out.shape) if isinstance(out, torch.Tensor) else None
        out_dtype = str(out.dtype).replace("torch.", "") if isinstance(out, torch.Tensor) else type(out).__name__
        done_warm = 1 + warm_up(forward, sync, warmup, lambda i: step("warm-up", i, warmup))
        timed = plain_timer(torch, cuda, sync)
        plain = []
        for i in range(reps):
            step("timed", i, reps)
            plain.append(timed(forward))
        total = _stats(plain)

        # The FNO spectral convolution inside, alone (before any instrumentation has run).
        spectral = spectral_part(torch, layer, forward, x, total, timed, reps, sync, warmup)

        # Lines: exclusive time per user line, a sync before each reading.
        tracer = LineTracer(traced, sync)
        per_line = {}
        traced_totals = []
        for i in range(trace_reps):
            step("lines", i, trace_reps)
            acc, t = tracer.run(forward)
            traced_totals.append(t)
            for k, v in acc.items():
                per_line.setdefault(k, []).append(v)
        for k in per_line:
            per_line[k] += [0.0] * (trace_reps - len(per_line[k]))
        traced_total = _median(traced_totals)
        line_ms = {k: _median(v) for k, v in per_line.items()}
        line_sum = sum(line_ms.values()) or 1.0
        scale = total["median"] / line_sum

        # Ops per line, then (best effort) the kernels.
        step("ops", 0, 2)
        ops = op_pass(torch, forward, traced, sync, 3, cuda)
        step("ops", 1, 2)
        kernels = kernel_pass(torch, forward, traced, cuda)
        peak = watch.peak

    texts = {}
    lines = []
    for key, ms in sorted(line_ms.items(), key=lambda kv: (kv[0] is None, kv[0] or ("", 0))):
        if key is None:
            continue
        f, ln = key
        if f not in texts:
            texts[f] = source_lines(f)
        src = texts[f]
        lines.append({
            "file": f, "line": ln, "text": src[ln - 1].strip()[:200] if 0 < ln <= len(src) else "",
            "ms": ms * scale, "tracedMs": ms, "share": ms / line_sum, "hits": tracer.hits.get(key, 0) // max(1, trace_reps),
            "ops": ops.get(key, [])[:8], "kernels": kernels.get(key, []),
        })
    rest = line_ms.get(None, 0.0)
    if cuda:
        dev_name = "GPU %s (CUDA %s, cuDNN %s)" % (torch.cuda.get_device_name(device), torch.version.cuda,
                                                    torch.backends.cudnn.version())
    else:
        dev_name = "CPU (%d thread%s)" % (torch.get_num_threads(), "" if torch.get_num_threads() == 1 else "s")
    return {
        "file": file,
        "className": req["className"],
        "init": req.get("init") or "",
        "inputShape": shape,
        "inputDtype": str(dtype).replace("torch.", ""),
        "outputShape": out_shape,
        "outputDtype": out_dtype,
        "parameters": int(sum(p.numel() for p in layer.parameters())),
        "spectral": spectral,
        "device": dev_name,
        "backend": "cuda" if cuda else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "totalMs": total,
        "samples": plain,
        "warmup": done_warm,
        "tracedTotalMs": traced_total,
        "traceReps": trace_reps,
        "scale": scale,
        "notOnLineMs": rest * scale,
        "notOnLineShare": rest / line_sum,
        "lines": lines,
        "notes": notes,
        "peakMemoryBytes": int(peak),
        "timing": ("CUDA events around forward()" if cuda else "time.perf_counter around forward() (CPU ops are synchronous)")
        + "; %d warm-up, %d timed runs" % (done_warm, reps) + ("; " + alloc_note if alloc_note else ""),
        "attribution": "sys.settrace line tracer with a %s before every line event, %d traced runs (median per line; "
        "each line's own time, a helper's lines apart); the traced forward took %.3g ms against %.3g ms plain, so the "
        "line times are scaled by %.3f to add up, with the time outside any line, to the plain median" % (
            "torch.cuda.synchronize()" if cuda else "clock read", trace_reps, traced_total, total["median"], scale),
    }
