"""Fourier Conv Profiler, "Profile this layer": the per-line and per-op passes - a line tracer on the user's
frames with a device sync before each line, a TorchFunctionMode that times every torch call by the line it came
from, and one torch.profiler pass for the kernels. Standard library only (torch is passed in).
"""

import math
import sys
import time


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


_STATEMENTS = {}


def statement_line(filename, lineno):
    """The first line of the statement that line `lineno` of `filename` is part of. A statement written over several
    lines (a call with its arguments on continuation lines) gets line events on more than one of them, and on the
    first again when the call runs: folded, it is one row with one hit per run. A compound statement's header
    (`for …:` over two lines) folds likewise; its body's statements are their own. Lines of a file that cannot be
    read or parsed stay as they are."""
    table = _STATEMENTS.get(filename)
    if table is None:
        table = {}
        try:
            import ast
            import linecache

            for node in ast.walk(ast.parse("".join(linecache.getlines(filename)))):
                if not isinstance(node, ast.stmt):
                    continue
                end = getattr(node, "end_lineno", None) or node.lineno
                body = getattr(node, "body", None)
                if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                    end = body[0].lineno - 1
                for ln in range(node.lineno + 1, end + 1):
                    table[ln] = node.lineno
        except Exception:  # noqa: BLE001 - not Python source we can read: lines as they come
            pass
        _STATEMENTS[filename] = table
    return table.get(lineno, lineno)


def user_line(traced, depth=2):
    """(file, statement line) of the nearest frame of the user's code above the caller `depth` frames up."""
    f = sys._getframe(depth + 1)
    while f is not None:
        if traced(f.f_code.co_filename):
            return (f.f_code.co_filename, statement_line(f.f_code.co_filename, f.f_lineno))
        f = f.f_back
    return None


TRACER_REMOVED = ("your code replaced or removed the line tracer while it ran (sys.settrace: a debugger, coverage, or "
                  "sys.settrace(None)): the lines after that point were not seen, their time is counted outside your "
                  "lines")


class LineTracer:
    """Exclusive wall time per (file, line) of the traced frames, with a sync before every reading."""

    def __init__(self, traced, sync, sync_cost_s=0.0):
        self.traced = traced
        self.sync = sync
        # What one empty sync (and clock read) costs: on a GPU every charge includes one, which would otherwise
        # dominate short lines; subtracted from each charge (never below 0).
        self.sync_cost = sync_cost_s
        self.acc = {}
        self.hits = {}
        self.stack = []
        self.t_last = 0.0
        self.removed = False

    def _charge(self):
        self.sync()
        t = time.perf_counter()
        key = self.stack[-1] if self.stack and self.stack[-1] is not None else None
        self.acc[key] = self.acc.get(key, 0.0) + max(0.0, t - self.t_last - self.sync_cost)

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
            file = frame.f_code.co_filename
            key = (file, statement_line(file, frame.f_lineno))
            # Another line of the same statement (a continuation line, or its first line again when the call
            # runs): the same row, not another run of it.
            if self.stack[-1] != key:
                self.hits[key] = self.hits.get(key, 0) + 1
            self.stack[-1] = key
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
            # The user's code may have replaced or removed the tracer (sys.settrace(None), a debugger, coverage):
            # the lines after that point were not seen, and the report says so.
            if sys.gettrace() != self.global_trace:  # == on bound methods: the same function of the same tracer
                self.removed = True
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


def sync_cost(sync, n=50):
    """Seconds one empty sync and clock read take on an idle device (median of n): on a GPU, a
    torch.cuda.synchronize() with nothing queued is still microseconds, charged to every traced line and op."""
    sync()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        sync()
        xs.append(time.perf_counter() - t0)
    return _median(xs)


def op_pass(torch, fn, traced, sync, reps, cuda, sync_cost_s=0.0):
    """Per line: the torch calls made from it, each timed with a sync before and after."""
    try:
        from torch.overrides import TorchFunctionMode
    except ImportError:  # torch < 1.13: lines only
        return {}

    per = {}
    state = {"depth": 0, "n": 0}
    keys = {}

    def line_of():
        return user_line(traced, 2)

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
                ms = max(0.0, time.perf_counter() - t0 - sync_cost_s) * 1000.0
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
        at = user_line(traced, 2)
        return None if at is None else "%d:%s" % (at[1], at[0])

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
        # Twice, the second kept: the profiler's first session pays its own start-up (and on a CPU memory not yet
        # mapped), which put 25-275 ms on a 4-16 ms line on torch 2.x.
        for _ in range(2):
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


def _tensors(v, torch, out=None):
    out = [] if out is None else out
    if isinstance(v, torch.Tensor):
        out.append(v)
    elif isinstance(v, (list, tuple)):
        for e in v:
            _tensors(e, torch, out)
    elif isinstance(v, dict):
        for e in v.values():
            _tensors(e, torch, out)
    return out


def loss_of(torch, out, cache):
    """The training step's loss: sum(out * R), R[i] = sin(0.7 i + 0.3) over the first output tensor's elements (a
    complex output as (re, im) pairs) - the loss the engines use (src/core/reference.ts lossWeights)."""
    ts = [t for t in _tensors(out, torch) if t.is_floating_point() or t.is_complex()]
    if not ts:
        raise ValueError("forward() returned no floating-point tensor to differentiate")
    y = ts[0]
    if y.is_complex():
        y = torch.view_as_real(y)
    key = (tuple(y.shape), y.dtype, y.device)
    if key not in cache:
        n = y.numel()
        r = torch.sin(torch.arange(n, dtype=torch.float64) * 0.7 + 0.3).reshape(y.shape)
        cache[key] = r.to(y.device, y.dtype)
    return (y * cache[key]).sum()


def backward_pass(torch, forward, inputs, traced, sync, reps, loss):
    """Per line: the backward time of the autograd nodes its forward ops made. While forward() runs under a
    TorchFunctionMode, every node a torch call from a user line creates (the result's grad_fn and the nodes
    behind it that no earlier call made) is tagged with that line; in the backward a hook on every node reads
    the clock (after a sync) when the node is done, and the time since the node before is its line's.
    Returns ({line: [ms per rep]}, [whole backward ms per rep]); ({}, None) when torch has no TorchFunctionMode."""
    try:
        from torch.overrides import TorchFunctionMode
    except ImportError:
        return {}, None
    state = {"depth": 0}

    def line_of():
        return user_line(traced, 2)

    def graph(root, seen):
        """The nodes behind `root` not in `seen` (stops at seen ones), root first."""
        out, stack = [], [root]
        while stack:
            n = stack.pop()
            if n is None or n in seen:
                continue
            seen.add(n)
            out.append(n)
            for nxt, _ in getattr(n, "next_functions", ()) or ():
                stack.append(nxt)
        return out

    per, totals = {}, []
    for rep in range(reps):
        node_line = {}
        seen = set()

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types_, args=(), kwargs=None):
                kwargs = kwargs or {}
                if state["depth"] > 0:
                    return func(*args, **kwargs)
                key = line_of()
                state["depth"] += 1
                try:
                    r = func(*args, **kwargs)
                finally:
                    state["depth"] -= 1
                for t in _tensors(r, torch):
                    if t.grad_fn is not None:
                        for n in graph(t.grad_fn, seen):
                            node_line[n] = key
                return r

        with torch.enable_grad():
            with Mode():
                out = forward()
            y = loss(out)
            events = []
            handles = []
            for n in graph(y.grad_fn, set()):
                def hook(grad_inputs, grad_outputs, n=n):
                    sync()
                    events.append((time.perf_counter(), n))
                try:
                    handles.append(n.register_hook(hook))
                except Exception:  # noqa: BLE001 - a node that takes no hooks: its time goes to the next one's
                    pass
            sync()
            t0 = time.perf_counter()
            torch.autograd.grad(y, inputs, allow_unused=True)
            sync()
            t1 = time.perf_counter()
            for h in handles:
                h.remove()
        acc, last = {}, t0
        for t, n in sorted(events, key=lambda e: e[0]):
            k = node_line.get(n)
            acc[k] = acc.get(k, 0.0) + (t - last)
            last = t
        acc[None] = acc.get(None, 0.0) + (t1 - last)
        for k, v in acc.items():
            per.setdefault(k, [0.0] * rep).append(v * 1000.0)
        for k in per:
            if len(per[k]) < rep + 1:
                per[k].append(0.0)
        totals.append((t1 - t0) * 1000.0)
    return per, totals
