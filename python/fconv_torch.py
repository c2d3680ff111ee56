"""Fourier Conv Profiler: the PyTorch engine's executors — how each planned step runs on torch, the loaded
layer (data on the device, timing and sync), the probe of this machine's rates, the kernels each step ran,
and "Profile this layer" (fconv_layer.py). Loaded by fconv_worker.py as `python fconv_worker.py torch`; the
loop and the protocol are fconv_protocol.py's. Standard library and torch only.

A framework module provides: NAME, hello_fields(), check_device(device), load(spec, data, device, threads),
bind(L, variant, plan), no_grad(), reset_peak(L), peak_bytes(L), kernels(L, persistent, steps), to_b64(t),
shape_of(t), probe(device, tick), is_oom(e), and optionally crosscheck(L, req), layer_profile(msg, progress,
cancelled) with UserCodeError, steady_allocator().
"""

import base64
import math
import os
import struct
import sys
import time

from fconv_protocol import Cancelled, RequestError, count, need, send

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
            info["cuda"] = bool(torch.cuda.is_available())
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
    return type(e).__name__ == "OutOfMemoryError" or "out of memory" in str(e).lower() or isinstance(e, MemoryError)


def load(spec, data, device, threads):
    return Layer(spec, data, device, threads)


def no_grad():
    return torch.no_grad()


def reset_peak(L):
    if L.cuda:
        torch.cuda.reset_peak_memory_stats(L.device)


def peak_bytes(L):
    return torch.cuda.max_memory_allocated(L.device) if L.cuda else None


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
        if self.cuda:
            torch.backends.cudnn.benchmark = True
            # FP32 math for the convolutions and GEMMs: PyTorch's default lets cuDNN use TF32 on sm_80+ (a 10-bit
            # mantissa), which is faster and would put the spatial reference near the spectral checks' tolerance.
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
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
            self.device_name = "GPU %s (CUDA %s, cuDNN %s) via PyTorch %s" % (
                name, torch.version.cuda, torch.backends.cudnn.version(), torch.__version__)
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
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            v = fn()
            b.record()
            b.synchronize()
            return v, a.elapsed_time(b)
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


def same_pads(k):
    """(before, after) of a 'same' convolution with kernel k: the extra one after, as TensorFlow and PyTorch pad."""
    total = k - 1
    return total // 2, total - total // 2


# --------------------------------------------------------------------------------------------------
# Executors: how each planned step runs on torch. Keys are the plan's step ids; each function takes the
# env (outputs of earlier steps by id, plus the persistent tensors) and returns its output.


def to_nchw(t):
    return t.permute(0, 3, 1, 2).contiguous()


def to_nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def spatial_executors(L):
    s = L.spec
    k = s["spatialKernel"]
    nhwc = s["layout"] == "NHWC"
    weight = L.ws.permute(3, 2, 0, 1).contiguous()  # (out, in, k, k): cross-correlation, as Conv2D
    t, b = same_pads(k)
    src = "to-nchw" if nhwc else "x"
    ex = {}
    if nhwc:
        ex["to-nchw"] = ("NHWC → NCHW (x.permute(0, 3, 1, 2).contiguous(); F.conv2d runs channels-first)", lambda env: to_nchw(env["x"]))
    ex["conv2d"] = (
        "F.conv2d %d×%d 'same' (explicit padding %d/%d) on %s%s" % (k, k, t, b, L.device.type, " with cudnn.benchmark" if L.cuda else ""),
        lambda env: F.conv2d(F.pad(env[src], (t, b, t, b)), weight),
    )
    if nhwc:
        ex["to-nhwc"] = ("NCHW → NHWC", lambda env: to_nhwc(env["conv2d"]))
    return {}, ex


def spatial_equivalent_executors(L):
    s, g = L.spec, L.g
    kh, kw = s["kernelH"], s["kernelW"]
    nhwc = s["layout"] == "NHWC"
    # The spectral layers convolve (product of spectra); Conv2D correlates: flip the kernel.
    weight = L.w.flip(0, 1).permute(3, 2, 0, 1).contiguous()
    ex = {}
    src = "to-nchw" if nhwc else "x"
    if nhwc:
        ex["to-nchw"] = ("NHWC → NCHW (F.conv2d runs channels-first)", lambda env: to_nchw(env["x"]))
    sp = g["spatialPadding"]
    if s["padding"] == "circular" and (kh > 1 or kw > 1):
        ex["pad-wrap"] = (
            "F.pad(mode='circular'): wrap-around padding (%d rows, %d cols)" % (kh - 1, kw - 1),
            lambda env, src=src: F.pad(env[src], (kw - 1, 0, kh - 1, 0), mode="circular"),
        )
        src = "pad-wrap"
    if sp == "same":
        (t, b), (lft, r) = same_pads(kh), same_pads(kw)
        conv = lambda env, src=src: F.conv2d(F.pad(env[src], (lft, r, t, b)), weight)  # noqa: E731
        label = "'same' (explicit padding)"
    else:
        conv = lambda env, src=src: F.conv2d(env[src], weight)  # noqa: E731
        label = "'valid'"
    ex["conv2d"] = (
        "F.conv2d %d×%d %s on %s, kernel flipped (convolution, not correlation)%s" % (kh, kw, label, L.device.type, "; cudnn.benchmark, FP32 (TF32 off: PyTorch's default would allow it for cuDNN convolutions)" if L.cuda else ""),
        conv,
    )
    if nhwc:
        ex["to-nhwc"] = ("NCHW → NHWC", lambda env: to_nhwc(env["conv2d"]))
    return {}, ex


def crop_to_layout(L, r):
    g, s = L.g, L.spec
    y = r[:, :, g["cropTop"]:g["cropTop"] + g["outH"], g["cropLeft"]:g["cropLeft"] + g["outW"]]
    return to_nhwc(y) if s["layout"] == "NHWC" else y.contiguous()


def seed_executors(L):
    s, g = L.spec, L.g
    P, Q = g["fftH"], g["fftW"]
    nhwc = s["layout"] == "NHWC"
    kseed = L.w.permute(2, 0, 1, 3).contiguous()  # the seed keeps its kernel as (in, H, W, out)
    dev = L.device.type
    ex = {
        "rfft2d-input": (
            "outside the seed's layer (it fed spectra in): %storch.fft.rfft2 over (H, W) with s=(%d, %d) (zero padding), laid out (batch, H, W/2+1, in) as its einsum expects, on %s"
            % ("NHWC → NCHW, " if nhwc else "", P, Q, dev),
            lambda env: torch.fft.rfft2(to_nchw(env["x"]) if nhwc else env["x"], s=(P, Q)).permute(0, 2, 3, 1).contiguous(),
        ),
        "rfft2d-kernel": (
            "every call: the (in, H, W, out) kernel moved to (in, out, H, W) (rfft2 transforms the last two axes), torch.fft.rfft2 with s=(%d, %d)" % (P, Q),
            lambda env: torch.fft.rfft2(env["kseed"].permute(0, 3, 1, 2), s=(P, Q)),
        ),
        "transpose-kernel": (
            "the complex kernel spectrum permuted to (H, W/2+1, in, out) and made contiguous, as perm [2,1,0,3] + the einsum's layout need",
            lambda env: env["rfft2d-kernel"].permute(2, 3, 0, 1).contiguous(),
        ),
        "einsum": (
            "torch.einsum('bhwi,hwio->bhwo') on complex64%s" % ("; with in-channels = 1 every product is a K = 1 outer product" if s["inChannels"] == 1 else ""),
            lambda env: torch.einsum("bhwi,hwio->bhwo", env["rfft2d-input"], env["transpose-kernel"]),
        ),
        "irfft2d": (
            "back to the spatial domain for the check (the seed stayed in the Fourier domain): torch.fft.irfft2 with s=(%d, %d), crop, %s" % (P, Q, s["layout"]),
            lambda env: crop_to_layout(L, torch.fft.irfft2(env["einsum"].permute(0, 3, 1, 2), s=(P, Q))),
        ),
    }
    return {"kseed": kseed}, ex


def optimized_executors(L):
    s, g = L.spec, L.g
    P, Q, V = g["fftH"], g["fftW"], g["freqW"]
    F_ = P * V
    B, Ci, Co = s["batch"], s["inChannels"], s["outChannels"]
    nhwc = s["layout"] == "NHWC"
    one_off = {}
    ex = {}

    def kernel_spectrum(env):
        K = torch.fft.rfft2(env["w"].permute(2, 3, 0, 1), s=(P, Q))  # (in, out, P, V)
        if Ci == 1:
            return K.reshape(1, Co, P, V).contiguous()
        return K.permute(2, 3, 0, 1).reshape(F_, Ci, Co).contiguous()

    one_off["rfft2d-kernel-cached"] = (
        "once per weight update, cached: torch.fft.rfft2 of the %d kernel maps%s" % (Ci * Co, ", frequency-major (F, in, out)" if Ci > 1 else ""),
        kernel_spectrum,
    )
    ex["rfft2d-input"] = (
        "%storch.fft.rfft2 with s=(%d, %d)%s, on %s" % ("NHWC → NCHW, " if nhwc else "", P, Q, " (zero padding)" if (P, Q) != (s["height"], s["width"]) else "", L.device.type),
        lambda env: torch.fft.rfft2(to_nchw(env["x"]) if nhwc else env["x"], s=(P, Q)),
    )
    if Ci == 1:
        ex["multiply"] = (
            "broadcast multiply (in-channels = 1): (batch, 1, H, W/2+1) ⊙ (1, out, H, W/2+1) on complex64, no transposes",
            lambda env: env["rfft2d-input"] * env["rfft2d-kernel-cached"],
        )
        last = "multiply"
    else:
        ex["transpose-x"] = (
            "(batch, in, F) → (F, batch, in): frequency-major for the batched product",
            lambda env: env["rfft2d-input"].permute(2, 3, 0, 1).reshape(F_, B, Ci).contiguous(),
        )
        ex["multiply"] = (
            "torch.bmm over %d frequencies of (%d×%d)·(%d×%d) complex64" % (F_, B, Ci, Ci, Co),
            lambda env: torch.bmm(env["transpose-x"], env["rfft2d-kernel-cached"]),
        )
        ex["transpose-y"] = (
            "(F, batch, out) → (batch, out, F) for the inverse transform",
            lambda env: env["multiply"].reshape(P, V, B, Co).permute(2, 3, 0, 1).contiguous(),
        )
        last = "transpose-y"
    ex["irfft2d"] = (
        "torch.fft.irfft2 with s=(%d, %d), crop %d×%d, %s" % (P, Q, g["outH"], g["outW"], s["layout"]),
        lambda env: crop_to_layout(L, torch.fft.irfft2(env[last], s=(P, Q))),
    )
    return {}, ex, one_off


def fno_executors(L):
    s = L.spec
    B, H, W, Ci, Co = s["batch"], s["height"], s["width"], s["inChannels"], s["outChannels"]
    top, bottom, C = L.top, L.bottom, L.cols
    V = W // 2 + 1
    dev = L.device.type
    persistent = {"w1": L.mw[:, :, :top].contiguous()}
    if bottom:
        persistent["w2"] = L.mw[:, :, top:].contiguous()

    def assign(env):
        out = env["zeros-out-ft"]
        out[:, :, :top, :C] = env["einsum-top"]
        if bottom:
            out[:, :, H - bottom:, :C] = env["einsum-bottom"]
        return out

    ex = {
        "rfft2d-input": ("x_ft = torch.fft.rfft2(x) on %s" % dev, lambda env: torch.fft.rfft2(env["x"])),
        "einsum-top": (
            "torch.einsum('bixy,ioxy->boxy', x_ft[:, :, :%d, :%d], weights1) on complex64" % (top, C),
            lambda env: torch.einsum("bixy,ioxy->boxy", env["rfft2d-input"][:, :, :top, :C], env["w1"]),
        ),
        "zeros-out-ft": (
            "out_ft = torch.zeros(%d, %d, %d, %d, dtype=torch.cfloat) on %s, every call" % (B, Co, H, V, dev),
            lambda env: torch.zeros(B, Co, H, V, dtype=torch.complex64, device=L.device),
        ),
        "assign-modes": (
            "out_ft[:, :, :%d, :%d] = …%s (slice-assignment, copy_ into strided views)" % (top, C, "; out_ft[:, :, -%d:, :%d] = …" % (bottom, C) if bottom else ""),
            assign,
        ),
        "irfft2d": ("torch.fft.irfft2(out_ft, s=(%d, %d))" % (H, W), lambda env: torch.fft.irfft2(env["assign-modes"], s=(H, W))),
    }
    if bottom:
        ex["einsum-bottom"] = (
            "torch.einsum('bixy,ioxy->boxy', x_ft[:, :, -%d:, :%d], weights2) on complex64" % (bottom, C),
            lambda env: torch.einsum("bixy,ioxy->boxy", env["rfft2d-input"][:, :, H - bottom:, :C], env["w2"]),
        )
    return persistent, ex


def optimized_fno_executors(L):
    s = L.spec
    B, H, W, Ci, Co = s["batch"], s["height"], s["width"], s["inChannels"], s["outChannels"]
    top, bottom, C = L.top, L.bottom, L.cols
    R = top + bottom
    M = R * C
    dev = L.device.type

    def gather_rows(X):
        return torch.cat([X[:, :, :top], X[:, :, H - bottom:]], dim=2) if bottom else X[:, :, :top]

    def scatter_rows(Y):
        parts = [Y[:, :, :top], torch.zeros(B, Co, H - R, C, dtype=Y.dtype, device=Y.device)]
        if bottom:
            parts.append(Y[:, :, top:])
        return torch.fft.ifft(torch.cat(parts, dim=2), dim=-2)

    one_off = {
        "weights-cached": (
            "once per weight update, cached: the weights permuted mode-major (%d, in, out), contiguous complex64" % M,
            lambda env: env["mw"].permute(2, 3, 0, 1).reshape(M, Ci, Co).contiguous(),
        ),
    }
    ex = {
        "rfft-w": (
            "torch.fft.rfft(x, dim=-1)[..., :%d]: the transform over W, only the %d kept columns go on, on %s" % (C, C, dev),
            lambda env: torch.fft.rfft(env["x"], dim=-1)[..., :C],
        ),
        "fft-h": (
            "torch.fft.fft(·, dim=-2) on the %d kept columns only, then the %d kept rows gathered (torch.cat of the two blocks)" % (C, R),
            lambda env: gather_rows(torch.fft.fft(env["rfft-w"], dim=-2)),
        ),
        "transpose-x": (
            "(batch, in, rows, cols) → (%d modes, batch, in), contiguous: mode-major for torch.bmm" % M,
            # contiguous: torch.bmm on the strided view is slower than the copy plus a contiguous bmm.
            lambda env: env["fft-h"].permute(2, 3, 0, 1).reshape(M, B, Ci).contiguous(),
        ),
        "multiply": (
            "torch.bmm over all %d kept modes at once (both corners): (%d×%d)·(%d×%d) complex64" % (M, B, Ci, Ci, Co),
            lambda env: torch.bmm(env["transpose-x"], env["weights-cached"]),
        ),
        "transpose-y": (
            "(modes, batch, out) → (batch, out, rows, cols), contiguous",
            lambda env: env["multiply"].reshape(R, C, B, Co).permute(2, 3, 0, 1).contiguous(),
        ),
        "ifft-h": (
            "the %d rows placed in a (batch, out, %d, %d) buffer (torch.cat with zeros: %d columns, not %d), torch.fft.ifft over H" % (R, H, C, C, W // 2 + 1),
            lambda env: scatter_rows(env["transpose-y"]),
        ),
        "irfft-w": (
            "torch.fft.irfft(·, n=%d, dim=-1): the missing columns are zeros the transform pads itself" % W,
            lambda env: torch.fft.irfft(env["ifft-h"], n=W, dim=-1),
        ),
    }
    return {}, ex, one_off


def executors_for(L, variant):
    if L.fno and variant in ("fno", "optimized"):
        if variant == "fno":
            persistent, ex = fno_executors(L)
            return persistent, ex, {}
        return optimized_fno_executors(L)
    if variant == "spatial":
        persistent, ex = spatial_executors(L)
        return persistent, ex, {}
    if variant == "spatial-equivalent":
        persistent, ex = spatial_equivalent_executors(L)
        return persistent, ex, {}
    if variant == "seed":
        persistent, ex = seed_executors(L)
        return persistent, ex, {}
    if variant == "optimized":
        return optimized_executors(L)
    raise RequestError("protocol", "unknown variant %r" % (variant,))


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
    out = {}
    for ev in events:
        if not ev.name.startswith("fconv::"):
            continue
        sid = ev.name[len("fconv::"):]
        acc = {}

        def kernels_of(e):
            for k in getattr(e, "kernels", []) or []:
                acc[("cuda", k.name)] = acc.get(("cuda", k.name), 0.0) + k.duration / 1000.0
            for c in e.cpu_children:
                kernels_of(c)

        # The ops the step called (top level: their callees are inside their time), and every GPU kernel.
        for c in ev.cpu_children:
            acc[("cpu", c.name)] = acc.get(("cpu", c.name), 0.0) + c.cpu_time_total / 1000.0
            kernels_of(c)
        items = sorted(acc.items(), key=lambda kv: -kv[1])[:top]
        out[sid] = [{"name": k[1][:120], "device": k[0], "ms": v} for k, v in items]
    return out


kernels = profiled_kernels


# --------------------------------------------------------------------------------------------------
# The probe: this machine's rates on torch, in the units of src/core/model.ts's Probe.


def probe(device, tick):
    dev = torch.device(device)
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    def rnd(*shape):
        g = torch.Generator().manual_seed(7)
        return (torch.rand(*shape, generator=g) * 2 - 1).to(dev)

    done = [0]
    total = 18

    def measure_op(what, fn, reps=9):
        tick(what, done[0], total)
        done[0] += 1
        # Warm up until two calls in a row are within 5 % of the best so far, after at least 4 calls (oneDNN /
        # cuDNN build and cache their kernels over the first calls, and the first two or three can sit on a slow
        # plateau: a 3×3 conv ran 6.6, 6.1, then 0.8 … 0.5 ms; stopping at the plateau measured 4 instead of
        # 42 GFLOP/s). At most 24 calls and 1 s.
        best = None
        near = 0
        spent = 0.0
        for i in range(24):
            t0 = time.perf_counter()
            fn()
            sync()
            dt = time.perf_counter() - t0
            spent += dt
            near = near + 1 if best is not None and dt <= best / 0.95 else 0
            best = dt if best is None else min(best, dt)
            if (i >= 3 and near >= 2) or spent > 1.0:
                break
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
        times.sort()
        return times[(len(times) - 1) // 4]  # first quartile: interference only slows a kernel down

    started = time.perf_counter()
    with torch.no_grad():
        a, b = rnd(4096, 128), rnd(128, 128)
        gemm = 2 * 4096 * 128 * 128 / measure_op("2-D GEMM", lambda: a @ b) / 1e9
        bmm = []
        for k in (4, 32):
            x, y = rnd(256, 32, k), rnd(256, k, 32)
            bmm.append({"inner": k, "gflops": 2 * 256 * 32 * k * 32 / measure_op("batched GEMM, K = %d" % k, lambda: torch.bmm(x, y)) / 1e9})
        # complex64 batched GEMMs over many small matrices: the spectral products (einsum / bmm per frequency or mode).
        cbmm = []
        for k in (4, 32):
            # 16 rows: a spectral product's rows are the batch, usually small.
            cx = torch.randn(512, 16, k, dtype=torch.complex64, device=dev)
            cy = torch.randn(512, k, 32, dtype=torch.complex64, device=dev)
            cbmm.append({"inner": k, "gflops": 8 * 512 * 16 * k * 32 / measure_op("complex batched GEMM, K = %d" % k, lambda: torch.bmm(cx, cy)) / 1e9})
        # A complex tensor permuted mode-major and made contiguous: what an einsum's lowering and a layout step copy.
        cp = torch.randn(16, 32, 1024, dtype=torch.complex64, device=dev)
        ccopy = 2 * 8 * 16 * 32 * 1024 / measure_op("complex permute", lambda: cp.permute(2, 0, 1).contiguous()) / 1e9
        conv = []
        # One in-channel: the rate changes with the kernel (oneDNN's direct/GEMM paths), so three kernel sizes up
        # to a large one (a 21×21 kernel on 32×32 stands for the image-sized kernels of spatial-equivalent).
        for cin, k in ((1, 3), (1, 9), (1, 21), (4, 5), (16, 5)):
            bsz = 32 if cin == 1 else 8
            x, w = rnd(bsz, cin, 32, 32), rnd(32, cin, k, k)
            p = k // 2
            sec = measure_op("conv2d %d×%d, %d in-channels" % (k, k, cin), lambda: F.conv2d(x, w, padding=p))
            conv.append({"inner": cin, "kernel": k, "gflops": 2 * bsz * 32 * 32 * cin * 32 * k * k / sec / 1e9})
        m, n = 64, 32
        fx = rnd(m, n, n)
        fft_flops = m * 2.5 * n * n * math.log2(n * n)  # src/core/cost.ts fft2dFlops: the plan's count
        fft = fft_flops / measure_op("rfft2d", lambda: torch.fft.rfft2(fx)) / 1e9
        spec = torch.fft.rfft2(fx)
        ifft = fft_flops / measure_op("irfft2d", lambda: torch.fft.irfft2(spec, s=(n, n))) / 1e9
        e1, e2 = rnd(32, 1, 840), rnd(1, 32, 840)
        elementwise = 4 * (2 * 32 * 840 + 32 * 32 * 840) / measure_op("elementwise", lambda: e1 * e2) / 1e9
        pad = []
        for c in (1, 16):
            # NCHW rows are the innermost axis: 28 floats; NHWC-like rows of c floats.
            px = rnd(64 // c, 28, 28, c)
            sec = measure_op("pad, rows of %d" % c, lambda: F.pad(px, (0, 0, 0, 7, 0, 7)))
            pad.append({"inner": c, "gflops": 4 * (64 // c) * c * (28 * 28 + 35 * 35) / sec / 1e9})
        tx = rnd(1024, 30, 28)
        copy = 2 * 4 * 1024 * 30 * 28 / measure_op("transpose", lambda: tx.transpose(1, 2).contiguous()) / 1e9
        s = rnd(8, 8)
        overhead = measure_op("per-op cost", lambda: s + s, 50) * 1e6
    return {
        "gemmGflops": gemm,
        "bmm": bmm,
        "cbmm": cbmm,
        "complexCopyGBs": ccopy,
        "conv": conv,
        "fftGflops": fft,
        "ifftGflops": ifft,
        "elementwiseGBs": elementwise,
        "copyGBs": copy,
        "pad": pad,
        "overheadUs": overhead,
        "seconds": time.perf_counter() - started,
        "reps": 9,
    }


# --------------------------------------------------------------------------------------------------
# "Profile this layer": the user's own class (python/fconv_layer.py), in a process of its own.

try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fconv_layer import UserCodeError, profile_layer, steady_allocator
except Exception as e:  # noqa: BLE001 - the rest of the engine works without it
    LAYER_ERROR = "%s: %s" % (type(e).__name__, e)

    class UserCodeError(Exception):
        pass

    profile_layer = None

    def steady_allocator():
        return None
else:
    LAYER_ERROR = None


def layer_profile(msg, progress, cancelled):
    need(profile_layer is not None, "python/fconv_layer.py did not load: %s" % LAYER_ERROR)
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
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RequestError("engine", "torch %s in %s has no CUDA device (torch.cuda.is_available() is False)" % (torch.__version__, sys.executable))
    for k, lo, hi in (("warmup", 0, 1000), ("reps", 1, 10000), ("traceReps", 1, 1000)):
        if msg.get(k) is not None:
            count(msg[k], k, lo, hi)

    def check():
        if cancelled():
            raise Cancelled()

    def send_error(kind, message, rid=msg["id"]):
        send({"type": "error", "id": rid, "kind": kind, "message": message})

    return profile_layer(torch, msg, lambda p: send(dict(p, type="layer-progress", id=msg["id"])), check, send_error)
