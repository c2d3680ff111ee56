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

import contextlib
import os
import sys
import threading
import time
from fconv_protocol import REAL_EXIT, allocator_kept, cuda_event_timer, minor_faults, steady_allocator  # noqa: E402,F401 - steady_allocator is re-exported
from fconv_layer_load import (OOM_NOTE, USER_ERRORS, UserCodeError, _user_frames, input_dtype, load_namespace,  # noqa: E402,F401 - UserCodeError is re-exported
                              parse_init, user_error)
from fconv_layer_trace import (TRACER_REMOVED, LineTracer, _median, _stats, backward_pass, kernel_pass, loss_of,  # noqa: E402
                               op_pass, sync_cost)


# --------------------------------------------------------------------------------------------------
# Memory watchdog: the layer's own process stays within the budget.


class MemoryWatch:
    """Polls the memory the layer uses (the process's resident memory above where it started, or the framework's
    GPU memory via `device_used`) and calls on_over once it passes the budget."""

    def __init__(self, budget, on_over, device_used=None):
        self.budget = budget
        self.device_used = device_used
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
        if self.device_used is not None:
            return self.device_used()
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
        if self.budget and not getattr(self, "started", False):
            self.started = True
            threading.Thread(target=self.run, daemon=True).start()
        return self

    def __exit__(self, *a):
        self.stop = True


def torch_memory_watch(torch, req, over, device):
    """The memory budget of a torch layer's process, watched (entered; the caller exits it). On a GPU it also caps
    torch's caching allocator at the budget (set_per_process_memory_fraction): cuDNN's autotuner (cudnn.benchmark)
    then tries only the algorithms whose workspace fits - it skips one whose workspace cannot be allocated - instead
    of reserving trial workspaces that would pass the budget and end the run, and a layer that truly needs more ends
    as CUDA's out-of-memory error, said with the budget."""
    budget = req.get("memoryBudgetBytes")
    cuda = device.type == "cuda"
    if cuda and budget:
        total = torch.cuda.get_device_properties(device).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, float(budget) / total), device)
        OOM_NOTE[0] = ("torch's allocator was capped at the memory budget of %.0f MiB (of the GPU's %.0f MiB): "
                       "--max-memory (fourierConv.maxMemory) raises it" % (budget / 2 ** 20, total / 2 ** 20))
    return MemoryWatch(budget, over, (lambda: torch.cuda.memory_reserved(device)) if cuda else None).__enter__()


# --------------------------------------------------------------------------------------------------
# The three passes.


def check_input_bytes(shape, itemsize, budget):
    """The random input's size against the memory budget, before it is made."""
    n = 1
    for d in shape:
        n *= int(d)
    if budget and n * itemsize > budget:
        raise UserCodeError("usage", "the input %s is %.1f MiB, above the memory budget of %.1f MiB: shrink --input-shape "
                            "or raise --max-memory" % ("x".join(str(d) for d in shape), n * itemsize / 2 ** 20,
                                                       budget / 2 ** 20))


def fno_weights(module):
    """A module's own complex 4-D weights (in, out, modes1, modes2): an FNO spectral convolution's. Also real
    (in, out, m1, m2, 2)-stacked ones, as code from before torch.fft keeps them."""
    ws = [list(p.shape) for p in module.parameters(recurse=False) if p.is_complex() and p.dim() == 4]
    return ws or [list(p.shape[:4]) for p in module.parameters(recurse=False) if p.dim() == 5 and p.shape[-1] == 2]


def allocator_effect(forward, timed, cuda, reps, rewarm, tick=None):
    """What glibc's default malloc costs this layer. A profile-layer process starts on it (FCONV_DEFAULT_ALLOCATOR),
    as the user's own Python does: after the warm-up, the forward is timed that way with its minor page faults
    counted (memory handed back to the OS at free and faulted in again on the next call), then freed memory is
    kept (steady_allocator) and the layer warmed up again for the timed runs. Returns (the note for the timing
    line, the default allocator's figures or None). A GPU run, a process already steady, or a libc without
    mallopt: nothing to compare."""
    if cuda:
        return None, None
    if allocator_kept():
        return steady_allocator(), None
    n = max(5, min(reps, 15))
    f0 = minor_faults()
    times = []
    for i in range(n):
        if tick:
            tick(i, n)
        times.append(timed(forward))
    f1 = minor_faults()
    note = steady_allocator()
    if note is None:
        return None, None
    rewarm()
    if f0 is None or f1 is None:
        return note, None
    return note, dict(_stats(times), faultsPerCall=(f1 - f0) / float(n))


def synced_ms(fn, sync):
    """ms of fn() between two syncs (the device idle before, fn's work done after)."""
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return (time.perf_counter() - t0) * 1000.0


@contextlib.contextmanager
def compile_warnings(said):
    """Around torch.compile's work: the warnings raised inside are recorded, neither printed nor raised (under -W error
    torch.compile trips deprecations inside torch itself, and the row would fail on them). The distinct ones other
    than deprecations - Inductor's "does not support code generation for complex operators" - are appended to `said`
    (first lines, at most 3): they explain the row."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield said
        finally:
            for w in caught:
                if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
                    continue
                text = (str(w.message).strip().splitlines() or [""])[0][:200]
                if text and text not in said and len(said) < 3:
                    said.append(text)


def compiled_pass(torch, layer, x, sync, warmup, reps, want_train, step):
    """_compiled_pass() under compile_warnings(): torch.compile's warnings recorded, the telling ones in the row."""
    said = []
    with compile_warnings(said):
        out = _compiled_pass(torch, layer, x, sync, warmup, reps, want_train, step)
    if said:
        out["warnings"] = said
    return out


def _compiled_pass(torch, layer, x, sync, warmup, reps, want_train, step):
    """torch.compile of the class as written (--compile, torch >= 2): compiled, its first call (which compiles) timed
    apart, its output and, with the training step, its gradients checked against the eager class's; then the two
    timed in the same rounds, interleaved, so that drift on a shared machine hits both alike. A compile that fails
    (complex tensors are a known gap) or disagrees is said, not timed."""
    from fconv_optimize import TOLERANCE, _rel_error, failure_text  # here: fconv_optimize imports this module

    if not hasattr(torch, "compile"):
        return {"failed": "torch %s has no torch.compile (it came with torch 2.0)" % torch.__version__}
    tol = TOLERANCE.get(str(x.dtype).replace("torch.", ""), 1e-4)
    cache = {}
    trainable = x.is_floating_point() or x.is_complex()

    def grads(module, out, xt):
        ins = ([xt] if trainable else []) + [p for p in module.parameters() if p.requires_grad]
        return torch.autograd.grad(loss_of(torch, out, cache), ins, allow_unused=True)

    step("compile", 0, 1)
    try:
        comp = torch.compile(layer)
        t0 = time.perf_counter()
        with torch.no_grad():
            got = comp(x)
        sync()
        compile_ms = (time.perf_counter() - t0) * 1000.0
        with torch.no_grad():
            want = layer(x)
        if not isinstance(got, torch.Tensor) or not isinstance(want, torch.Tensor):
            return {"compileMs": compile_ms, "failed": "forward() does not return a tensor: nothing to compare"}
        err = _rel_error(torch, got, want)
        compile_train_ms = None
        if want_train:
            layer.train()
            xa = x.detach().clone().requires_grad_(trainable)
            xb = x.detach().clone().requires_grad_(trainable)
            with torch.enable_grad():
                ga = grads(layer, layer(xa), xa)
                t0 = time.perf_counter()
                gb = grads(layer, comp(xb), xb)  # the first call with gradients compiles the backward too
                sync()
                compile_train_ms = (time.perf_counter() - t0) * 1000.0
            err = max([err] + [_rel_error(torch, b, a) for a, b in zip(ga, gb)])
            layer.eval()
    except Exception as e:  # noqa: BLE001 - the profile stands; the row says why compile did not run
        if type(e).__name__ == "Cancelled":
            raise
        return {"failed": "torch.compile failed: " + failure_text(e)}
    if not err <= tol:
        return {"compileMs": compile_ms, "maxRelError": err if err != float("inf") else 1e300,
                "failed": "the compiled layer differs from yours by %.2g relative (tolerance %.0e): not timed" % (err, tol)}

    out = {"compileMs": compile_ms, "maxRelError": err}
    if compile_train_ms is not None:
        out["compileTrainMs"] = compile_train_ms
    xt = x.detach().clone().requires_grad_(trainable)

    def fwd(m):
        with torch.no_grad():
            m(x)

    def train_step(m):
        with torch.enable_grad():
            grads(m, m(xt), xt)

    passes = [("forward", fwd)] + ([("train", train_step)] if want_train else [])
    out.update(eager_vs_compiled(passes, layer, comp, sync, warmup, reps, step,
                                 lambda key: (layer.train if key == "train" else layer.eval)()))
    layer.eval()
    return out


def eager_vs_compiled(passes, eager, comp, sync, warmup, reps, step, mode=None):
    """Each pass (key, fn: fn(m) runs one call of m) of the eager and the compiled callable, timed in the same rounds,
    interleaved (wall clock between syncs), so that drift on a shared machine hits both alike: {key: compiled stats,
    "eager" + Key: eager stats}. `mode(key)` sets up a pass (train/eval)."""
    out = {}
    for key, fn in passes:
        if mode:
            mode(key)
        for _ in range(warmup):
            fn(eager)
            fn(comp)
        a, b = [], []
        for i in range(reps):
            step("compile", i + 1, reps + 1)
            a.append(synced_ms(lambda: fn(eager), sync))
            b.append(synced_ms(lambda: fn(comp), sync))
        out[key], out["eager" + key[:1].upper() + key[1:]] = _stats(b), _stats(a)
    return out


def timed_runs(forward, timed, reps, step):
    """The plain timed runs, and the minor page faults per call they took (None where getrusage is missing)."""
    f0 = minor_faults()
    plain = []
    for i in range(reps):
        step("timed", i, reps)
        plain.append(timed(forward))
    f1 = minor_faults()
    return plain, (None if f0 is None or f1 is None else (f1 - f0) / float(reps))


def allocator_fields(alloc_default, kept_faults):
    """The layer profile's "allocator" field: the default malloc's figures beside the kept-memory runs' faults."""
    if alloc_default is None:
        return {}
    return {"allocator": {"default": alloc_default, "keptFaultsPerCall": kept_faults or 0.0}}


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


def plain_timer(torch, cuda, sync, device=None):
    events = cuda_event_timer(torch, device) if cuda else None

    def timed(fn):
        if cuda:
            return events(fn)[1]
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


def train_pass(torch, layer, x, traced, sync, timed, warmup, reps, trace_reps, step):
    """The training step of the layer as written (layer.train(); forward, the loss sum(out * R), the gradients of the
    input and every parameter that requires grad), timed plain; its backward alone; and the backward per user line
    (backward_pass), scaled so the lines and the rest add up to the plain backward's median."""
    layer.train()
    try:
        xg = x.detach().clone()
        if xg.is_floating_point() or xg.is_complex():
            xg.requires_grad_(True)
        params = [p for p in layer.parameters() if p.requires_grad]
        inputs = ([xg] if xg.requires_grad else []) + params
        if not inputs:
            raise ValueError("nothing to differentiate: the input is not floating point and no parameter requires grad")
        cache = {}

        def fwd():
            return layer(xg)

        def train_step():
            return torch.autograd.grad(loss_of(torch, fwd(), cache), inputs, allow_unused=True)

        with torch.enable_grad():
            warm = warm_up(train_step, sync, warmup, lambda i: step("train", i, warmup + reps))
            total = []
            for i in range(reps):
                step("train", warmup + i, warmup + reps)
                total.append(timed(train_step))
            bwd = []
            for i in range(reps):
                step("backward", i, reps)
                y = loss_of(torch, fwd(), cache)
                sync()
                bwd.append(timed(lambda: torch.autograd.grad(y, inputs, allow_unused=True)))
            step("backward lines", 0, trace_reps)
            per, traced = backward_pass(torch, fwd, inputs, traced, sync, trace_reps,
                                        lambda out: loss_of(torch, out, cache))
    finally:
        layer.eval()
    bmed = _median(bwd)
    line_ms = {k: _median(v) for k, v in per.items()}
    s = sum(line_ms.values())
    scale = bmed / s if s > 0 else 0.0
    return {
        "totalMs": _stats(total),
        "backwardMs": _stats(bwd),
        "warmup": warm,
        "lines": {k: v * scale for k, v in line_ms.items() if k is not None},
        "shares": {k: (v / s if s > 0 else 0.0) for k, v in line_ms.items()},
        "notOnLineMs": line_ms.get(None, 0.0) * scale,
        "attribution": (
            "every autograd node a torch call from a line of yours made (tagged while forward() ran under a "
            "TorchFunctionMode) is timed in the backward by a hook when it is done (a %s before each reading), the "
            "time since the node before is its line's; %d traced backward runs, whose per-line medians sum to %.3g ms "
            "against %.3g ms plain, so the line times are scaled by %.3f" % (
                "torch.cuda.synchronize()" if x.is_cuda else "clock read", trace_reps, s, bmed, scale)) if traced is not None else "no per-line backward: this torch has no TorchFunctionMode",
    }


def line_costs(line_ms, scale, line_sum, hits, trace_reps, ops, kernels, train):
    """The report's rows, one per user line: its traced and scaled time, share, calls per run, ops, kernels and
    (with the training step) its backward."""
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
            "ms": ms * scale, "tracedMs": ms, "share": ms / line_sum, "hits": hits.get(key, 0) // max(1, trace_reps),
            "ops": ops.get(key, [])[:8], "kernels": kernels.get(key, []),
        })
        if train is not None:
            lines[-1]["backwardMs"] = train["lines"].get(key, 0.0)
            lines[-1]["backwardShare"] = train["shares"].get(key, 0.0)
    return lines


def source_lines(file):
    try:
        with open(file, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def request_hooks(req, progress, check, send_error):
    """What every request on the user's layer (profile, optimize; torch, TensorFlow) needs: traced(f), whether a
    frame's file is the user's (their file, or their project's folder, not installed packages); step(phase, i, n),
    a progress message and a cancel check; over(used), the memory budget's end (said, then the process ends)."""
    file = req["file"]
    root = os.path.dirname(os.path.abspath(file))
    skip = ("site-packages", "dist-packages", os.sep + "lib" + os.sep + "python")

    def traced(f):
        return f == file or (f.startswith(root + os.sep) and not any(s in f for s in skip))

    def step(phase, index, count):
        progress({"phase": phase, "index": index, "count": count})
        check()

    def over(used):
        send_error("budget", "the layer's process used %.1f MiB, above the memory budget of %.1f MiB" % (
            used / 2 ** 20, req["memoryBudgetBytes"] / 2 ** 20))
        REAL_EXIT(5)

    return traced, step, over


def load_candidate(mod, c, name):
    """A rewrite's class (fconv optimize): its helpers and class executed in a copy of the user's namespace, compiled
    under the rewritten file's name at its own line, so its frames are its own lines."""
    ns = dict(mod.__dict__)
    code = compile("\n" * (int(c["line"]) - 1) + c["source"], c["file"], "exec", dont_inherit=True)
    exec(code, ns)  # noqa: S102 - the rewrite of the user's own class, in their trusted workspace
    return ns[name]


def profile_layer(torch, req, progress, check, send_error):
    """The whole request: load, instantiate, measure three ways. Returns the result object."""
    file = req["file"]
    traced, step, over = request_hooks(req, progress, check, send_error)

    step("load", 0, 1)
    mod, notes = load_namespace(file, req["chunks"], skipped=req.get("skipped"), import_from=req.get("importFrom"))
    cls = mod.__dict__.get(req["className"])
    if cls is None or not isinstance(cls, type):
        raise UserCodeError("usage", "class %s is not defined after loading %s" % (req["className"], file))
    if not issubclass(cls, torch.nn.Module):
        raise UserCodeError("usage", "%s is not a torch.nn.Module" % req["className"])
    args, kwargs = parse_init(req.get("init"), mod.__dict__, set(req.get("constants") or []))
    device = torch.device(req.get("device") or "cpu")
    cuda = device.type == "cuda"

    # Watched from before the constructor runs: a buffer __init__ builds counts against the budget too.
    watch = torch_memory_watch(torch, req, over, device)
    try:
        return _profile_built(torch, req, cls, args, kwargs, device, cuda, watch, traced, step, notes, file)
    finally:
        watch.__exit__()


def _profile_built(torch, req, cls, args, kwargs, device, cuda, watch, traced, step, notes, file):
    """Instantiates the class and measures it (profile_layer's second half, under the memory watch)."""
    try:
        layer = cls(*args, **kwargs)
    except TypeError as e:
        raise UserCodeError("usage" if not _user_frames(e.__traceback__, traced) else "user-code",
                            "%s(%s): %s" % (req["className"], req.get("init") or "", e),
                            file, int(req.get("classLine") or 0) or None)
    except USER_ERRORS as e:  # noqa: BLE001
        raise user_error(e, traced, "in %s.__init__" % req["className"])

    threads = req.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    if cuda:
        torch.backends.cudnn.benchmark = True
    layer = layer.to(device).eval()
    dtype = getattr(torch, req["inputDtype"]) if req.get("inputDtype") else input_dtype(layer, torch)
    shape = [int(d) for d in req["inputShape"]]
    check_input_bytes(shape, torch.empty((), dtype=dtype).element_size(), req.get("memoryBudgetBytes"))
    gen = torch.Generator().manual_seed(int(req.get("seed", 1)))
    x = torch.randn(*shape, generator=gen, dtype=dtype).to(device)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def forward():
        return layer(x)

    warmup = int(req.get("warmup", 3))
    reps = int(req.get("reps", 20))
    trace_reps = int(req.get("traceReps", 7))
    with torch.no_grad():
        # Plain: warm up (more while it still gets faster, as the engine does), then time.
        try:
            out = forward()
            sync()
        except USER_ERRORS as e:  # noqa: BLE001
            raise user_error(e, traced, "in %s.forward" % req["className"])
        out_shape = list(out.shape) if isinstance(out, torch.Tensor) else None
        out_dtype = str(out.dtype).replace("torch.", "") if isinstance(out, torch.Tensor) else type(out).__name__
        done_warm = 1 + warm_up(forward, sync, warmup, lambda i: step("warm-up", i, warmup))
        timed = plain_timer(torch, cuda, sync, device)
        alloc_note, alloc_default = allocator_effect(
            forward, timed, cuda, reps, lambda: warm_up(forward, sync, warmup), lambda i, n: step("warm-up", i, n))
        plain, kept_faults = timed_runs(forward, timed, reps, step)
        total = _stats(plain)

        # The FNO spectral convolution inside, alone (before any instrumentation has run).
        spectral = spectral_part(torch, layer, forward, x, total, timed, reps, sync, warmup)
        compiled = (compiled_pass(torch, layer, x, sync, warmup, max(5, reps // 2),
                                  req.get("pass", "both") in ("train", "both"), step) if req.get("compile") else None)

        # Lines: exclusive time per user line, a sync before each reading.
        # On a GPU every line and op is charged one synchronize(): its empty cost is measured and subtracted.
        sync_s = sync_cost(sync) if cuda else 0.0
        tracer = LineTracer(traced, sync, sync_s)
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
        if tracer.removed:
            notes.append(TRACER_REMOVED)
        line_ms = {k: _median(v) for k, v in per_line.items()}
        line_sum = sum(line_ms.values()) or 1.0
        scale = total["median"] / line_sum

        # Ops per line, then (best effort) the kernels.
        step("ops", 0, 2)
        ops = op_pass(torch, forward, traced, sync, 3, cuda, sync_s)
        step("ops", 1, 2)
        kernels = kernel_pass(torch, forward, traced, cuda)

        # The training step (--pass train|both): forward + backward, the backward per line.
        train = None
        if req.get("pass", "both") in ("train", "both"):
            try:
                train = train_pass(torch, layer, x, traced, sync, timed, warmup, reps, trace_reps, step)
            except UserCodeError:
                raise
            except Exception as e:  # noqa: BLE001 - the forward profile stands; the training step says why not
                if type(e).__name__ == "Cancelled":
                    raise
                notes.append("training step not measured: %s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else ""))
        peak = watch.peak

    lines = line_costs(line_ms, scale, line_sum, tracer.hits, trace_reps, ops, kernels, train)
    rest = line_ms.get(None, 0.0)
    if cuda:
        from fconv_torch_probe import cudnn_version  # here: this module also serves TensorFlow processes

        dev_name = "GPU %s (CUDA %s, cuDNN %s)" % (torch.cuda.get_device_name(device), torch.version.cuda,
                                                    cudnn_version())
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
        "framework": "torch",
        "version": torch.__version__,
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
        **allocator_fields(alloc_default, kept_faults),
        **({"compiled": compiled} if compiled is not None else {}),
        **({"train": {
            "totalMs": train["totalMs"], "backwardMs": train["backwardMs"], "warmup": train["warmup"],
            "notOnLineMs": train["notOnLineMs"], "attribution": train["attribution"],
            "timing": "layer.train(); forward, loss sum(out * R) and torch.autograd.grad of the input and every "
            "parameter, timed as forward() is; the backward alone after an untimed forward",
        }} if train is not None else {}),
        "timing": ("CUDA events around forward()" if cuda else "time.perf_counter around forward() (CPU ops are synchronous)")
        + "; %d warm-up, %d timed runs" % (done_warm, reps) + ("; " + alloc_note if alloc_note else ""),
        "attribution": "sys.settrace line tracer with a %s before every line event, %d traced runs (median per line; "
        "each line's own time, a helper's lines apart); the lines' medians and the time outside any line sum to %.3g ms "
        "against %.3g ms plain, so they are scaled by %.3f to add up to the plain median (the whole traced forward, "
        "the tracer's own cost included, took %.3g ms)" % (
            ("torch.cuda.synchronize() (its empty cost, %.1f µs measured on the idle GPU, subtracted from every line "
             "and op)" % (sync_s * 1e6)) if cuda else "clock read", trace_reps, line_sum, total["median"], scale,
            traced_total),
    }
