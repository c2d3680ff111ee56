"""Fourier Conv Profiler: the PyTorch engine's framework module — the loaded layer (data on the device, timing
and sync), binding a plan to the executors (fconv_torch_executors.py), the probe (fconv_torch_probe.py), the
kernels each step ran, and "Profile this layer" (fconv_layer.py). Loaded by fconv_worker.py as `python
fconv_worker.py torch`; the loop and the protocol are fconv_protocol.py's. Standard library and torch only.

A framework module provides: NAME, hello_fields(), check_device(device), load(spec, data, device, threads),
bind(L, variant, plan), no_grad(), reset_peak(L), peak_bytes(L), kernels(L, persistent, steps), to_b64(t),
shape_of(t), probe(device, tick), is_oom(e), and optionally crosscheck(L, req), compiled(fw, L, req, progress,
cancelled), layer_profile(msg, progress, cancelled) with UserCodeError, steady_allocator().
"""

import base64
import os
import struct
import sys
import time

from fconv_protocol import RequestError, check_candidates, check_layer_request, cuda_event_timer, layer_callbacks, need
from fconv_torch_executors import executors_for
from fconv_torch_probe import cudnn_version, fp32_math, probe  # noqa: F401 - probe: part of the framework module's interface
from fconv_torch_train import crosscheck_train, measure_train  # noqa: F401 - the training step (forward + backward)
from fconv_torch_compiled import compiled_variant as compiled  # noqa: F401 - torch.compile of a variant (--compile)

NAME = "torch"

try:
    import torch
    import torch.nn.functional as F

    IMPORT_ERROR = None
except Exception as e:  # noqa: BLE001 - any import failure is reported, not raised
    torch = None
    F = None
    IMPORT_ERROR = "%s: %s" % (type(e).__name__, e)


def hello_fields():
    """The framework's part of the hello: its version (or why it does not import), devices, threads."""
    info = {
        "version": None,
        "importError": IMPORT_ERROR,
        "cuda": False,
        "cudaVersion": None,
        "cudnn": None,
        "gpus": [],
        "threads": None,
    }
    if torch is not None:
        info["version"] = torch.__version__
        info["threads"] = torch.get_num_threads()
        info["hasFft"] = hasattr(torch, "fft") and hasattr(torch.fft, "rfft2")
        try:
            import warnings

            # A CUDA build newer than the driver: is_available() is False and the reason is only a UserWarning
            # ("The NVIDIA driver on your system is too old …"). Kept, so that --torch-device cuda can say it.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                info["cuda"] = bool(torch.cuda.is_available())
            if not info["cuda"] and torch.version.cuda:
                said = [str(w.message).splitlines()[0][:300] for w in caught if "cuda" in str(w.message).lower()
                        or "driver" in str(w.message).lower()]
                if said:
                    info["cudaError"] = said[0]
            info["cudaVersion"] = torch.version.cuda
            if info["cuda"]:
                info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if torch.backends.cudnn.is_available():
                info["cudnn"] = torch.backends.cudnn.version()
        except Exception as e:  # noqa: BLE001
            info["cudaError"] = str(e)
    return info


def check_device(device):
    need(isinstance(device, str) and (device == "cpu" or device == "cuda" or device.startswith("cuda:")), "device must be cpu, cuda or cuda:N")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RequestError("engine", "torch %s in %s has no CUDA device (torch.cuda.is_available() is False)" % (torch.__version__, sys.executable))


def is_oom(e):
    """Out of memory, however it is said: torch's OutOfMemoryError, "out of memory", or a cuBLAS / cuDNN workspace that
    could not be allocated (CUBLAS_STATUS_ALLOC_FAILED, CUDNN_STATUS_ALLOC_FAILED, CUFFT_ALLOC_FAILED)."""
    text = str(e)
    return (type(e).__name__ == "OutOfMemoryError" or "out of memory" in text.lower() or isinstance(e, MemoryError)
            or any(s in text for s in ("CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED", "CUFFT_ALLOC_FAILED")))


def load(spec, data, device, threads):
    return Layer(spec, data, device, threads)


def no_grad():
    return torch.no_grad()


def fresh_caches(L):
    """Before a variant's first call on a GPU: an empty cuFFT plan cache, so that every variant's first call pays
    for its own plans (the cache is per process: the variant timed first would otherwise pay for the others').
    cuDNN's autotuning cache cannot be emptied; the variants rarely share a convolution shape."""
    if L.cuda:
        try:
            torch.backends.cuda.cufft_plan_cache[L.device.index if L.device.index is not None else torch.cuda.current_device()].clear()
        except Exception:  # noqa: BLE001 - an older torch without per-device caches
            pass


def reset_peak(L):
    """Starts a peak-memory window once the device is idle: returns the bytes allocated now (the baseline the
    window's peak is reported above: the loaded layer, the persistent tensors), or None on a CPU."""
    if not L.cuda:
        return None
    torch.cuda.synchronize(L.device)
    torch.cuda.reset_peak_memory_stats(L.device)
    return torch.cuda.memory_allocated(L.device)


def peak_bytes(L):
    """The window's peak (synced), or None on a CPU."""
    if not L.cuda:
        return None
    torch.cuda.synchronize(L.device)
    return torch.cuda.max_memory_allocated(L.device)


def shape_of(t):
    return list(t.shape)


def floats(b64, n, what):
    need(isinstance(b64, str), "data.%s must be base64 text" % what)
    raw = base64.b64decode(b64, validate=True)
    need(len(raw) == 4 * n, "data.%s has %d bytes, expected %d (float32)" % (what, len(raw), 4 * n))
    if hasattr(torch, "frombuffer"):
        return torch.frombuffer(bytearray(raw), dtype=torch.float32).clone()
    return torch.tensor(struct.unpack("<%df" % n, raw), dtype=torch.float32)


# --------------------------------------------------------------------------------------------------
# The loaded layer: data on the device, timing and sync for it.


class Layer:
    def __init__(self, spec, data, device, threads):
        self.spec = spec
        self.g = spec["geometry"]
        self.device = torch.device(device)
        if threads:
            torch.set_num_threads(threads)
        self.threads = torch.get_num_threads()
        self.cuda = self.device.type == "cuda"
        self._events = None
        self.math = None
        if self.cuda:
            # Ops, streams and events on this device (also cuda:N), cuDNN autotuning, FP32 math (TF32 off), read
            # back: the probe prices the runs with the same flags.
            self.math = fp32_math(self.device)
            # A share of the GPU's memory for this process (a GPU shared with a training job; gpu-check forces an
            # out-of-memory case with a tiny one).
            share = os.environ.get("FCONV_TORCH_MEMORY_FRACTION")
            if share:
                torch.cuda.set_per_process_memory_fraction(float(share), self.device)
        s = spec
        B, H, W, Ci, Co = s["batch"], s["height"], s["width"], s["inChannels"], s["outChannels"]
        kh, kw, k = s["kernelH"], s["kernelW"], s["spatialKernel"]
        shape = [B, H, W, Ci] if s["layout"] == "NHWC" else [B, Ci, H, W]
        self.x = floats(data.get("input"), B * H * W * Ci, "input").reshape(shape).to(self.device)
        self.fno = s.get("layer") == "fno"
        if self.fno:
            kept = s["kept"]
            self.top, self.bottom, self.cols = kept["top"], kept["bottom"], kept["cols"]
            R = self.top + self.bottom
            mw = floats(data.get("modeWeights"), Ci * Co * R * self.cols * 2, "modeWeights")
            self.mw = torch.view_as_complex(mw.reshape(Ci, Co, R, self.cols, 2)).to(self.device)
            self._w = None
        else:
            self._w = floats(data.get("kernel"), kh * kw * Ci * Co, "kernel").reshape(kh, kw, Ci, Co).to(self.device)
        self.ws = floats(data.get("spatialKernel"), k * k * Ci * Co, "spatialKernel").reshape(k, k, Ci, Co).to(self.device)
        if self.cuda:
            name = torch.cuda.get_device_name(self.device)
            self.device_name = "GPU %s (CUDA %s, cuDNN %s) via PyTorch %s; FP32 math: %s" % (
                name, torch.version.cuda, cudnn_version(), torch.__version__, ", ".join(self.math))
        else:
            self.device_name = "CPU via PyTorch %s (%s, %d thread%s)" % (
                torch.__version__, cpu_backend(), self.threads, "" if self.threads == 1 else "s")

    @property
    def w(self):
        """The spatial kernel (kh, kw, in, out). For an FNO layer: irfft2 of the zero-filled weight spectrum, made
        when spatial-equivalent first needs it — the same function as the layer, as a circular convolution."""
        if self._w is None:
            s = self.spec
            H, W, Ci, Co = s["height"], s["width"], s["inChannels"], s["outChannels"]
            z = torch.zeros(Ci, Co, H, W // 2 + 1, dtype=torch.complex64, device=self.device)
            z[:, :, :self.top, :self.cols] = self.mw[:, :, :self.top]
            if self.bottom:
                z[:, :, H - self.bottom:, :self.cols] = self.mw[:, :, self.top:]
            self._w = torch.fft.irfft2(z, s=(H, W)).permute(2, 3, 0, 1).contiguous()
        return self._w

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def timed(self, fn):
        """(value, ms): CUDA events around the launch on a GPU, perf_counter around a synchronous op on a CPU."""
        if self.cuda:
            if self._events is None:
                self._events = cuda_event_timer(torch, self.device)
            return self._events(fn)
        t0 = time.perf_counter()
        v = fn()
        return v, (time.perf_counter() - t0) * 1000.0


def cpu_backend():
    try:
        if torch.backends.mkldnn.is_available():
            return "oneDNN"
    except Exception:  # noqa: BLE001
        pass
    return "ATen"


def bind(L, variant, plan):
    """The plan's steps with their executors; the plan and the executors must name the same steps."""
    need(isinstance(plan, dict) and isinstance(plan.get("steps"), list) and isinstance(plan.get("oneOff"), list), "plan must have steps and oneOff")
    extra, ex, one = executors_for(L, variant)
    ids = [st.get("id") if isinstance(st, dict) else None for st in plan["steps"]]
    one_ids = plan["oneOff"]
    if sorted(ids) != sorted(ex) or sorted(one_ids) != sorted(one):
        raise RequestError(
            "internal",
            "the %s plan (%s | %s) and the torch executors (%s | %s) name different steps"
            % (variant, ", ".join(map(str, one_ids)), ", ".join(map(str, ids)), ", ".join(one), ", ".join(ex)),
        )
    persistent = {"x": L.x, "ws": L.ws}
    if L.fno:
        persistent["mw"] = L.mw
    elif variant != "spatial":
        persistent["w"] = L.w
    persistent.update(extra)
    steps = [(st["id"], bool(st.get("inLayer")), ex[st["id"]][1]) for st in plan["steps"]]
    one_off = [(i, one[i][1]) for i in one_ids]
    labels = {k: v[0] for k, v in list(ex.items()) + list(one.items())}
    return persistent, one_off, steps, labels


def tensor_b64(t):
    """A tensor's values as base64 float32, little-endian (numpy when it is there, else the standard library)."""
    a = t.detach().to("cpu", torch.float32).contiguous().reshape(-1)
    try:
        raw = a.numpy().astype("<f4", copy=False).tobytes()
    except Exception:  # noqa: BLE001 - torch built without numpy
        raw = struct.pack("<%df" % a.numel(), *a.tolist())
    return base64.b64encode(raw).decode("ascii")


to_b64 = tensor_b64


def crosscheck(L, req):
    """The variant's end to end on an independent clock: torch.utils.benchmark's blocked_autorange on the
    same ops, in this process (the same allocator and thread state as the measurement it checks).

    Like the profile's loop, each call's output stays alive until the next call has run (as a layer's
    output does in a network, feeding the next one). With glibc's malloc this matters on a CPU: a
    multi-MB output freed before the next call can be trimmed back to the OS and page-fault again on
    every call, up to 2x slower for these sizes."""
    import torch.utils.benchmark as benchmark

    persistent, one_off, steps, _ = bind(L, req["variant"], req["plan"])
    with torch.no_grad():
        for sid, fn in one_off:
            persistent[sid] = fn(persistent)

        held = {}

        def run():
            env = dict(persistent)
            for sid, _, fn in steps:
                env[sid] = fn(env)
            L.sync()
            held["last"] = env[steps[-1][0]]

        t = benchmark.Timer(stmt="run()", globals={"run": run}, num_threads=L.threads)
        m = t.blocked_autorange(min_run_time=float(req.get("seconds", 1.0)))
    return {"medianMs": m.median * 1000.0, "runs": len(m.times) * m.number_per_run}


def profiled_kernels(L, persistent, steps, top=8):
    """One more pass under torch.profiler, each step inside record_function("fconv::<step id>"): the ops
    (and on a GPU the kernels) each step ran, with their time, heaviest first. Best effort: an empty map
    when the profiler is not usable in this torch."""
    try:
        from torch.profiler import ProfilerActivity, profile, record_function
    except Exception:  # noqa: BLE001
        return {}
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if L.cuda else [])
    try:
        with profile(activities=activities) as prof:
            env = dict(persistent)
            for sid, _, fn in steps:
                with record_function("fconv::" + sid):
                    env[sid] = fn(env)
            L.sync()
        events = prof.events()
    except Exception as e:  # noqa: BLE001
        sys.stderr.write("torch.profiler failed: %s\n" % e)
        return {}
    return step_kernels(events, top)


def step_kernels(events, top=8):
    """By step id, the ops each "fconv::<step>" range called (top level: their callees are inside their time) and
    every GPU kernel under them, heaviest first. Only the CPU-side range counts: with CUDA activity torch 2.x lists
    each record_function range twice, the second a gpu_user_annotation with no children, which must neither
    replace nor add to the first. A step whose range appears more than once on the CPU side accumulates."""
    acc = {}
    for ev in events:
        if not ev.name.startswith("fconv::"):
            continue
        device_type = getattr(ev, "device_type", None)
        if device_type is not None and not str(device_type).upper().endswith("CPU"):
            continue
        into = acc.setdefault(ev.name[len("fconv::"):], {})

        def kernels_of(e, into=into):
            for k in getattr(e, "kernels", []) or []:
                into[("cuda", k.name)] = into.get(("cuda", k.name), 0.0) + k.duration / 1000.0
            for c in e.cpu_children:
                kernels_of(c)

        for c in ev.cpu_children:
            into[("cpu", c.name)] = into.get(("cpu", c.name), 0.0) + c.cpu_time_total / 1000.0
            kernels_of(c)
    out = {}
    for sid, got in acc.items():
        items = sorted(got.items(), key=lambda kv: -kv[1])[:top]
        out[sid] = [{"name": k[1][:120], "device": k[0], "ms": v} for k, v in items]
    return out


kernels = profiled_kernels


# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# "Profile this layer": the user's own class (python/fconv_layer.py), in a process of its own.

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fconv_layer import UserCodeError, profile_layer, steady_allocator
    from fconv_optimize import optimize_layer
except Exception as e:  # noqa: BLE001 - the rest of the engine works without it
    LAYER_ERROR = "%s: %s" % (type(e).__name__, e)

    class UserCodeError(Exception):
        pass

    profile_layer = None
    optimize_layer = None

    def steady_allocator():
        return None
else:
    LAYER_ERROR = None


def layer_profile(msg, progress, cancelled):
    need(profile_layer is not None, "python/fconv_layer.py did not load: %s" % LAYER_ERROR)
    device = check_layer_request(msg)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RequestError("engine", "torch %s in %s has no CUDA device (torch.cuda.is_available() is False)" % (torch.__version__, sys.executable))
    return profile_layer(torch, msg, *layer_callbacks(msg, cancelled))


def layer_optimize(msg, progress, cancelled):
    need(optimize_layer is not None, "python/fconv_optimize.py did not load: %s" % LAYER_ERROR)
    device = check_layer_request(msg)
    check_candidates(msg)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RequestError("engine", "torch %s in %s has no CUDA device (torch.cuda.is_available() is False)" % (torch.__version__, sys.executable))
    return optimize_layer(torch, msg, *layer_callbacks(msg, cancelled))
