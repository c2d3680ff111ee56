"""Fourier Conv Profiler: what every Python engine shares — the JSON-lines protocol, request checks, the
measuring loop's policy and the loop itself. The framework's executor module (fconv_torch.py, …) supplies how
steps run and are timed; this module times them by the same rules as the local loop (src/engines/loop/local.ts,
src/core/loop-policy.ts). Standard library only.
"""

import json
import math
import os
import sys
import threading
import time

PROTOCOL = 1

_PROTO = None
_SEND_LOCK = threading.Lock()


# The process's own exit, kept before the user's code can replace os._exit (fconv_layer_load.guard_exit): the
# profiler ends itself with this (memory budget, stdin closed), never with what the user's code sees.
REAL_EXIT = os._exit


_KEPT = []


def steady_allocator():
    """glibc only: keep freed memory in the process (M_TRIM_THRESHOLD, M_MMAP_THRESHOLD at 256 MiB), as a
    long-running training process that holds GBs effectively does, instead of handing every large buffer back to
    the OS and faulting it in again on the next call (a 64x64 FNO layer's 5 MB buffers cost ~40 % more on CPU in
    a small process otherwise; a 3x3 convolution several times more). Returns a note, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        ok = libc.mallopt(M_TRIM_THRESHOLD, 256 << 20) and libc.mallopt(M_MMAP_THRESHOLD, 256 << 20)
        if not ok:
            return None
        _KEPT.append(True)
        return "glibc malloc keeps freed memory (M_TRIM_THRESHOLD and M_MMAP_THRESHOLD at 256 MiB), as in a long-running process"
    except Exception:  # noqa: BLE001 - not glibc (musl): measured as is
        return None


def allocator_kept():
    """True once steady_allocator() has changed this process's malloc."""
    return bool(_KEPT)


def minor_faults():
    """Minor page faults of this process so far (getrusage): memory the OS had to map in, e.g. a multi-MB buffer
    malloc handed back at free and asks for again on the next call. None where getrusage is missing."""
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    except Exception:  # noqa: BLE001 - not POSIX
        return None


def own_stdout():
    """The protocol owns the real stdout; fd 1 and sys.stdout go to stderr from here on."""
    global _PROTO
    _PROTO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def send(msg):
    line = json.dumps(msg, separators=(",", ":"), allow_nan=False)
    with _SEND_LOCK:
        _PROTO.write(line + "\n")
        _PROTO.flush()


class Cancelled(Exception):
    pass


class RequestError(Exception):
    """A request the worker refuses, with the protocol's error kind."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


# --------------------------------------------------------------------------------------------------
# Request validation (the host is trusted code, but a malformed message must be refused by name).

SPEC_INTS = ("batch", "height", "width", "inChannels", "outChannels", "kernelH", "kernelW", "spatialKernel")


def need(cond, message):
    if not cond:
        raise RequestError("protocol", message)


def check_spec(spec):
    need(isinstance(spec, dict), "spec must be an object")
    for k in SPEC_INTS:
        v = spec.get(k)
        need(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 1 << 20, "spec.%s must be a positive integer" % k)
    need(spec.get("padding") in ("circular", "same", "valid", "linear"), "spec.padding is not one of circular, same, valid, linear")
    need(spec.get("layout") in ("NHWC", "NCHW"), "spec.layout must be NHWC or NCHW")
    geo = spec.get("geometry")
    need(isinstance(geo, dict), "spec.geometry must be an object")
    for k in ("fftH", "fftW", "freqW", "outH", "outW", "cropTop", "cropLeft"):
        need(isinstance(geo.get(k), int) and geo[k] >= 0, "spec.geometry.%s must be a non-negative integer" % k)
    need(geo.get("spatialPadding") in ("circular", "same", "valid"), "spec.geometry.spatialPadding is invalid")
    if spec.get("layer") == "fno":
        kept = spec.get("kept")
        need(isinstance(kept, dict), "spec.kept must be an object for an FNO layer")
        for k in ("top", "bottom", "cols"):
            need(isinstance(kept.get(k), int) and not isinstance(kept.get(k), bool) and kept[k] >= 0, "spec.kept.%s must be a non-negative integer" % k)
        need(kept["top"] >= 1 and kept["cols"] >= 1, "an FNO layer keeps at least one mode")
        need(kept["top"] + kept["bottom"] <= spec["height"] and kept["cols"] <= spec["width"] // 2 + 1, "spec.kept exceeds the spectrum")
    else:
        need(spec.get("layer") in (None, "seed"), "spec.layer must be seed or fno")

def count(v, name, lo, hi):
    need(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi, "%s must be an integer in [%d, %d]" % (name, lo, hi))
    return v


# --------------------------------------------------------------------------------------------------
# The measuring loop (the same rules as the profiler's own, src/engines/loop/local.ts).


MIN_WARMUP_RUNS = 100000  # loop-policy.ts MIN_WARMUP_RUNS

POLICY_BOUNDS = {
    "warmup": (0, 1000), "warmupMax": (0, 4000), "reps": (1, 10000), "repsMax": (1, 50000),
}


def cuda_event_timer(torch, device):
    """fn -> (value, ms) by CUDA events on `device`'s current stream (not the current device's: on cuda:N, N != 0,
    events recorded there would time GPU 0), the event pair made once and reused — a lazily made end event would
    be made inside the timed interval."""
    events = []

    def timed(fn):
        if not events:
            events.extend([torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)])
        a, b = events
        stream = torch.cuda.current_stream(device)
        a.record(stream)
        v = fn()
        b.record(stream)
        b.synchronize()
        return v, a.elapsed_time(b)

    return timed


def fno_only(make):
    """A variant's executors that exist only for an FNO layer: refused by name on another layer."""
    def executors(L):
        if not L.fno:
            raise RequestError("protocol", "the fno variant needs an FNO layer")
        return make(L)

    return executors


def check_layer_request(msg):
    """The checks of a "profile this layer" request every framework makes; returns its device ("cpu", "cuda[:N]")."""
    need(isinstance(msg.get("file"), str) and msg["file"], "file must be a path")
    need(isinstance(msg.get("className"), str) and msg["className"].isidentifier(), "className must be an identifier")
    chunks = msg.get("chunks")
    need(isinstance(chunks, list) and all(
        isinstance(c, dict) and isinstance(c.get("source"), str) and isinstance(c.get("line"), int) and c["line"] >= 1
        and c.get("kind") in ("import", "def", "class", "const") for c in chunks), "chunks must be [{kind, line, source}]")
    shape = msg.get("inputShape")
    need(isinstance(shape, list) and 1 <= len(shape) <= 6 and all(isinstance(d, int) and 1 <= d <= 1 << 20 for d in shape),
         "inputShape must be 1-6 positive integers")
    device = msg.get("device") or "cpu"
    need(isinstance(device, str) and (device == "cpu" or device.startswith("cuda")), "device must be cpu or cuda[:N]")
    need(msg.get("pass", "both") in ("forward", "train", "both"), "pass must be forward, train or both")
    need(msg.get("inputDtype") in (None, "float32", "float64", "float16", "bfloat16", "complex64", "complex128"),
         "inputDtype must be float32, float64, float16, bfloat16, complex64 or complex128")
    for k, lo, hi in (("warmup", 0, 1000), ("reps", 1, 10000), ("traceReps", 1, 1000)):
        if msg.get(k) is not None:
            count(msg[k], k, lo, hi)
    return device


def check_candidates(msg):
    """The candidates of a "make it fast" request (fconv optimize): their id, rewritten file, first line and source."""
    cands = msg.get("candidates")
    need(isinstance(cands, list) and len(cands) <= 16 and all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("file"), str)
        and isinstance(c.get("source"), str) and isinstance(c.get("line"), int) and c["line"] >= 1 for c in cands),
        "candidates must be [{id, file, line, source}]")


def layer_callbacks(msg, cancelled):
    """(progress, check, send_error) for a layer profile: progress messages, cancel checks, an error sent early."""

    def check():
        if cancelled():
            raise Cancelled()

    def send_error(kind, message, rid=msg["id"]):
        send({"type": "error", "id": rid, "kind": kind, "message": message})

    return lambda p: send(dict(p, type="layer-progress", id=msg["id"])), check, send_error


def loop_policy(p):
    """The measuring loop's policy sent with each measure request (src/core/loop-policy.ts), checked."""
    need(isinstance(p, dict), "policy must be an object")
    out = {k: count(p.get(k), k, lo, hi) for k, (lo, hi) in POLICY_BOUNDS.items()}
    for k, hi in (("stableWithin", 1), ("warmupMaxMs", 600000), ("budgetMs", 60000)):
        v = p.get(k)
        need(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= hi, f"{k} must be a number in [0, {hi}]")
        out[k] = float(v)
    w = p.get("warmupMinMs")
    if w is not None:
        need(isinstance(w, (int, float)) and not isinstance(w, bool) and 0 <= w <= 10000, "warmupMinMs must be a number in [0, 10000]")
        out["warmupMinMs"] = float(w)
    t = p.get("trainBudgetMs")
    if t is not None:
        need(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= 600000, "trainBudgetMs must be a number in [0, 600000]")
        out["trainBudgetMs"] = float(t)
    return out


def warm_again(p, times):
    """Whether to warm up once more (the rule of loop-policy.ts's warmAgain)."""
    n = len(times)
    if n < p["warmup"]:
        return True
    if p.get("warmupMinMs") and sum(times) < p["warmupMinMs"] and n < MIN_WARMUP_RUNS:
        return True  # a GPU's clock ramp: a time floor, whatever the run count
    if n >= p["warmupMax"] or n < 2:
        return False
    return times[-1] < (1 - p["stableWithin"]) * times[-2] and sum(times) < p["warmupMaxMs"]


def repetitions(p, warm_ms):
    """Repetitions of each timed phase (loop-policy.ts's repetitions)."""
    return max(p["reps"], min(p["repsMax"], int(math.floor(p["budgetMs"] / max(warm_ms, 1e-3)))))


def train_policy(p):
    """The training step's warm-up (loop-policy.ts's trainPolicy): from one run, the forward pass warmed the kernels."""
    return dict(p, warmup=min(p["warmup"], 1), warmupMax=min(p["warmupMax"], 3))


def train_repetitions(p, step_ms):
    """The training step's repetitions (loop-policy.ts's trainRepetitions): the forward's rule, fewer (never under 3)
    for a step whose repetitions would take more than trainBudgetMs."""
    budget = p.get("trainBudgetMs")
    if budget is None:
        budget = 2 * p["budgetMs"] if p["budgetMs"] > 0 else math.inf
    n = repetitions(p, step_ms)
    if math.isinf(budget):
        return n
    return min(n, max(min(3, p["reps"]), int(math.floor(budget / max(step_ms, 1e-3)))))


def run_chain(persistent, chain):
    """One call of a variant: every (step id, function of the env) in order from the persistent values; its output."""
    env = dict(persistent)
    for sid, fn in chain:
        env[sid] = fn(env)
    return env[chain[-1][0]]


def train_phases(L, policy, n_steps, train_step, backward_once, progress, check, after_warm=None):
    """The training step's timed phases, the same on every Python engine: warm-up (train_policy's rules), then n
    whole training steps timed (L.timed) and n backwards alone (`backward_once()` runs its forward untimed and
    returns the backward's ms). Returns (warm-up ms, step ms, backward ms, n, the last step's gradients)."""
    warm = []
    while warm_again(policy, warm) or not warm:
        progress({"phase": "warm-up", "stepIndex": 0, "stepCount": n_steps, "rep": len(warm), "reps": max(policy["warmup"], len(warm) + 1)})
        check()
        _, ms = L.timed(train_step)
        warm.append(ms)
    if after_warm:
        after_warm()
    n = train_repetitions(policy, warm[-1])
    total, bwd, grads = [], [], None
    for r in range(n):
        progress({"phase": "train", "stepIndex": 0, "stepCount": n_steps, "rep": r, "reps": n})
        check()
        grads, ms = L.timed(train_step)
        total.append(ms)
    for r in range(n):
        progress({"phase": "backward", "stepIndex": 0, "stepCount": n_steps, "rep": r, "reps": n})
        check()
        bwd.append(backward_once())
    need(grads is not None, "no training step was measured")
    return warm, total, bwd, n, grads


def throttled(progress, every_s=0.1):
    """Progress at most every `every_s` (and on every change of phase): a message per repetition of a 0.3 ms
    pipeline is hundreds a second, and the host processes parsing and relaying them share the CPU the next
    repetition is timed on (on 2 cores that alone made end to end 17-30 % slower than torch.utils.benchmark)."""
    last = {"t": 0.0, "phase": None}

    def send_progress(p):
        now = time.perf_counter()
        if p.get("phase") != last["phase"] or now - last["t"] >= every_s:
            last["t"] = now
            last["phase"] = p.get("phase")
            progress(p)

    return send_progress


def measure(fw, L, req, progress, cancelled):
    """One variant measured under the request's loop policy: raw samples, the last output, the kernels."""
    progress = throttled(progress)
    variant = req["variant"]
    persistent, one_off, steps, labels = fw.bind(L, variant, req["plan"])
    policy = loop_policy(req.get("policy"))
    reps = policy["reps"]
    spectral = req.get("kind") == "spectral"
    n_steps = len(steps)

    def check():
        if cancelled():
            raise Cancelled()

    # Two peak-memory windows: the one-off steps and the warm-up (kernel spectra, plans, cuDNN's autotuning
    # workspaces), then the timed runs alone. Each is reported above the bytes allocated when it began.
    if hasattr(fw, "fresh_caches"):
        fw.fresh_caches(L)  # each variant's first call pays for its own FFT plans
    base0 = fw.reset_peak(L)
    with fw.no_grad():
        one_samples = []
        for i, (sid, fn) in enumerate(one_off):
            n = max(1, min(reps, 5))
            samples = []
            kept = None
            for r in range(1 + n):
                progress({"phase": "one-off", "step": sid, "stepIndex": i, "stepCount": len(one_off), "rep": r, "reps": 1 + n})
                check()
                v, ms = L.timed(lambda: fn(persistent))
                if r > 0:
                    samples.append(ms)
                kept = v
            persistent[sid] = kept
            one_samples.append(samples)

        def run_once(times=None, on_step=None):
            env = dict(persistent)
            for i, (sid, _, fn) in enumerate(steps):
                if on_step:
                    on_step(i)
                if times is not None:
                    v, ms = L.timed(lambda: fn(env))
                    times.append(ms)
                else:
                    v = fn(env)
                env[sid] = v
                check()
            out = env[steps[-1][0]]
            L.sync()
            return out

        # Warm-up and repetitions: the loop policy (src/core/loop-policy.ts), the same rules as the local loop.
        warm_times = []
        while warm_again(policy, warm_times):
            progress({"phase": "warm-up", "stepIndex": 0, "stepCount": n_steps, "rep": len(warm_times), "reps": max(policy["warmup"], len(warm_times) + 1)})
            t0 = time.perf_counter()
            run_once()
            warm_times.append((time.perf_counter() - t0) * 1000.0)
        if warm_times:
            warm_ms = warm_times[-1]
        else:
            t0 = time.perf_counter()
            run_once()
            warm_ms = (time.perf_counter() - t0) * 1000.0
        n = repetitions(policy, warm_ms)
        # With a second pass to come (the host's reverse-order end-to-end request), this pass times a share of the
        # per-step repetitions and that one the rest: drift over the run hits every variant's steps alike.
        share = req.get("stepShare")
        need(share is None or (isinstance(share, (int, float)) and 0 < share <= 1), "stepShare must be in (0, 1]")
        n_step = n if share is None else max(1, int(math.ceil(n * share)))
        done_warm = len(warm_times)
        one_off_peak = fw.peak_bytes(L)
        base1 = fw.reset_peak(L)
        per = [[] for _ in steps]
        output = None
        for r in range(n_step):
            times = []
            out = run_once(times, lambda i, r=r: progress({"phase": "per-step", "step": steps[i][0], "stepIndex": i, "stepCount": n_steps, "rep": r, "reps": n_step}))
            for i, t in enumerate(times):
                per[i].append(t)
            if r == n_step - 1:
                output = out

        def no_sync_pass():
            env = dict(persistent)
            for sid, _, fn in steps:
                env[sid] = fn(env)
            return env[steps[-1][0]]

        e2e = []
        faults0 = minor_faults()
        for r in range(n):
            progress({"phase": "end-to-end", "stepIndex": 0, "stepCount": n_steps, "rep": r, "reps": n})
            check()
            _, ms = L.timed(no_sync_pass)
            e2e.append(ms)
        faults1 = minor_faults()
        layer = None
        in_layer = [i for i, st in enumerate(steps) if st[1]]
        # An FNO layer is the whole pipeline (every step in the layer): its end to end is its layer time.
        if spectral and in_layer and len(in_layer) < len(steps):
            layer = []
            first, last = in_layer[0], in_layer[-1]
            for r in range(n):
                progress({"phase": "layer-only", "stepIndex": 0, "stepCount": n_steps, "rep": r, "reps": n})
                check()
                env = dict(persistent)
                for sid, _, fn in steps[:first]:
                    env[sid] = fn(env)
                L.sync()

                def span(env=env):
                    for sid, _, fn in steps[first:last + 1]:
                        env[sid] = fn(env)
                    return env[steps[last][0]]

                _, ms = L.timed(span)
                layer.append(ms)
        # Read before the profiler's pass: its buffers are not the variant's.
        peak = fw.peak_bytes(L)
        # The profiler's pass: here, or (req["kernels"] == "later") in a request of its own after every variant is
        # timed — on a GPU the first torch.profiler session leaves CUPTI attached to the process, and each later
        # variant would be timed with it on.
        kernels = None if req.get("kernels") == "later" else fw.kernels(L, persistent, steps)
        result = {
            **({"kernels": kernels} if kernels is not None else {}),
            "implementations": labels,
            "oneOff": one_samples,
            "steps": per,
            "e2e": e2e,
            "layer": layer,
            "reps": n,
            "stepReps": n_step,
            "warmup": done_warm,
            # The very first call end to end, synced: one-off work the warm-up absorbs (cuDNN autotuning with
            # cudnn.benchmark, cuFFT plan creation, lazy CUDA/oneDNN initialisation), reported on its own.
            "firstMs": warm_times[0] if warm_times else warm_ms,
            "output": fw.to_b64(output),
            "outputShape": fw.shape_of(output),
        }
        if faults0 is not None and faults1 is not None:
            # Per end-to-end call: the progress messages' own allocations are in it too (a few, against the
            # thousands a faulting multi-MB buffer costs).
            result["minorFaultsPerCall"] = (faults1 - faults0) / float(n)
        if peak is not None:
            result["peakMemoryBytes"] = max(0, int(peak) - int(base1 or 0))
        if one_off_peak is not None:
            result["oneOffPeakBytes"] = max(0, int(one_off_peak) - int(base0 or 0))
        return result


def end_to_end(fw, L, req, progress, cancelled):
    """The variant's end to end once more (warm-up, then `reps` calls without per-step syncs, as measure's end-to-end
    phase), and `stepReps` more calls timed step by step (the per-step repetitions measure left to this pass): the host
    asks for it after every variant is timed, in reverse order, and merges the two passes, so that drift over the run
    (a busy shared machine, a clock change) hits every variant alike."""
    persistent, one_off, steps, _ = fw.bind(L, req["variant"], req["plan"])
    reps = count(req.get("reps"), "reps", 1, 50000)
    warmup = count(req.get("warmup", 2), "warmup", 0, 1000)
    step_reps = count(req.get("stepReps", 0), "stepReps", 0, 50000)

    def run_all():
        env = dict(persistent)
        for sid, _, fn in steps:
            env[sid] = fn(env)
        return env[steps[-1][0]]

    with fw.no_grad():
        for sid, fn in one_off:
            persistent[sid] = fn(persistent)
        for _ in range(warmup):
            run_all()
        L.sync()
        e2e = []
        for r in range(reps):
            if cancelled():
                raise Cancelled()
            progress({"phase": "end-to-end", "stepIndex": 0, "stepCount": len(steps), "rep": r, "reps": reps})
            e2e.append(L.timed(run_all)[1])
        per = [[] for _ in steps]
        for r in range(step_reps):
            env = dict(persistent)
            for i, (sid, _, fn) in enumerate(steps):
                if cancelled():
                    raise Cancelled()
                progress({"phase": "per-step", "step": sid, "stepIndex": i, "stepCount": len(steps), "rep": r, "reps": step_reps})
                env[sid], ms = L.timed(lambda fn=fn, env=env: fn(env))
                per[i].append(ms)
        L.sync()
    return {"e2e": e2e, **({"steps": per} if step_reps else {})}


def kernels_once(fw, L, req):
    """The ops (and on a GPU the kernels) each step of the variant ran: one profiled pass, after the one-off steps,
    untimed — the request the host sends once every variant is timed."""
    persistent, one_off, steps, _ = fw.bind(L, req["variant"], req["plan"])
    with fw.no_grad():
        for sid, fn in one_off:
            persistent[sid] = fn(persistent)
        return {"kernels": fw.kernels(L, persistent, steps)}


def output_once(fw, L, req):
    """The variant's output once, untimed (the reference for the spectral checks)."""
    persistent, one_off, steps, _ = fw.bind(L, req["variant"], req["plan"])
    with fw.no_grad():
        for sid, fn in one_off:
            persistent[sid] = fn(persistent)
        env = dict(persistent)
        for sid, _, fn in steps:
            env[sid] = fn(env)
        out = env[steps[-1][0]]
        L.sync()
        return {"output": fw.to_b64(out), "outputShape": fw.shape_of(out)}
