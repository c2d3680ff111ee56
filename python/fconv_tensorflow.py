"""Fourier Conv Profiler: the TensorFlow engine's framework module - the layer's data as TF tensors, the executors
of every variant of the question's layer (its recipe with tf.signal, tf.transpose and tf.einsum; the optimized
formulation; tf.nn.conv2d), each step a tf.function (traced once, as model.fit runs a layer), the training step
with tf.GradientTape, and the probe. Loaded by fconv_worker.py as `python fconv_worker.py tensorflow`.

Interface (what fconv_worker.py and fconv_protocol.py call): NAME, IMPORT_ERROR, hello_fields(),
check_device(device), load(spec, data, device, threads), bind(L, variant, plan), no_grad(), reset_peak(L),
peak_bytes(L), to_b64(t), shape_of(t), kernels(...), probe(device, tick), is_oom(e), measure_train(...),
crosscheck(L, req), crosscheck_train(fw, L, req). Standard library and TensorFlow only.
"""

import base64
import contextlib
import math
import os
import sys
import time

from fconv_layer_load import UserCodeError  # noqa: F401 - the worker reports it with file:line
from fconv_layer_tf import profile_layer, set_threads
from fconv_protocol import steady_allocator  # noqa: F401 - the worker keeps freed memory through it (fw.steady_allocator)
from fconv_optimize_tf import optimize_layer
from fconv_protocol import (Cancelled, RequestError, check_candidates, check_layer_request, fno_only, layer_callbacks, loop_policy, need, run_chain,
                            throttled, train_phases, train_policy)

NAME = "tensorflow"

# TF's C++ logging (oneDNN banners, CPU feature notes) goes to stderr; keep it to warnings and errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
try:
    import tensorflow as tf

    IMPORT_ERROR = None
except Exception as e:  # noqa: BLE001 - any import failure is reported, not raised
    tf = None
    IMPORT_ERROR = "%s: %s" % (type(e).__name__, e)


def hello_fields():
    info = {"version": None, "importError": IMPORT_ERROR, "cuda": False, "cudaVersion": None, "cudnn": None, "gpus": [], "threads": None}
    if tf is not None:
        info["version"] = tf.__version__
        info["hasFft"] = hasattr(tf, "signal") and hasattr(tf.signal, "rfft2d")
        try:
            gpus = tf.config.list_physical_devices("GPU")
            info["cuda"] = bool(gpus)
            info["gpus"] = [g.name for g in gpus]
            build = tf.sysconfig.get_build_info()
            info["cudaVersion"] = build.get("cuda_version") if gpus else None
            cudnn = build.get("cudnn_version")
            info["cudnn"] = int(str(cudnn).replace(".", "")[:5]) if cudnn and gpus else None
        except Exception as e:  # noqa: BLE001
            info["cudaError"] = str(e)
        info["threads"] = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    return info


def check_device(device):
    need(isinstance(device, str) and (device == "cpu" or device == "cuda" or device.startswith("cuda:")), "device must be cpu, cuda or cuda:N")
    if device.startswith("cuda") and not tf.config.list_physical_devices("GPU"):
        raise RequestError("engine", "TensorFlow %s in %s sees no GPU (tf.config.list_physical_devices('GPU') is empty; "
                           "on a GPU machine: pip install \"tensorflow[and-cuda]\")" % (tf.__version__, sys.executable))


def is_oom(e):
    return type(e).__name__ == "ResourceExhaustedError" or "out of memory" in str(e).lower() or isinstance(e, MemoryError)


def no_grad():
    return contextlib.nullcontext()


def reset_peak(L):
    """Starts a peak-memory window: returns the bytes in use now (the baseline), or None where unknown."""
    if L.cuda:
        try:
            tf.test.experimental.sync_devices()
            tf.config.experimental.reset_memory_stats(L.tf_device)
            return tf.config.experimental.get_memory_info(L.tf_device)["current"]
        except Exception:  # noqa: BLE001
            return None
    return None


def peak_bytes(L):
    if not L.cuda:
        return None
    try:
        return tf.config.experimental.get_memory_info(L.tf_device)["peak"]
    except Exception:  # noqa: BLE001
        return None


def shape_of(t):
    return [int(d) for d in t.shape]


def to_b64(t):
    a = tf.reshape(tf.cast(t, tf.float32), [-1]).numpy().astype("<f4", copy=False)
    return base64.b64encode(a.tobytes()).decode("ascii")


def floats(b64, n, what, shape):
    need(isinstance(b64, str), "data.%s must be base64 text" % what)
    raw = base64.b64decode(b64, validate=True)
    need(len(raw) == 4 * n, "data.%s has %d bytes, expected %d (float32)" % (what, len(raw), 4 * n))
    import numpy as np  # TensorFlow depends on numpy

    return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()


def kernels(L, persistent, steps, top=8):
    """One more pass under TF's profiler (tf.profiler.experimental), each step inside a Trace("fconv::<step id>"):
    the kernels each step ran - "<op>:<kernel>" events on TF's executor threads (oneDNN's _MklNativeConv2D, Eigen's,
    RFFT2D) and on a GPU the device plane's kernels (cuDNN, cuFFT, cuBLAS) - with their time, heaviest first. Read
    from the XPlane file it writes (TF's own xplane_pb2). Best effort: an empty map when the profiler is not usable."""
    import glob
    import shutil
    import tempfile

    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except Exception:  # noqa: BLE001 - an older TF without the protobuf module in the wheel
        return {}
    folder = tempfile.mkdtemp(prefix="fconv-tfprof-")
    try:
        try:
            tf.profiler.experimental.start(folder)
        except Exception as e:  # noqa: BLE001 - another profiler session, or none in this build
            sys.stderr.write("TF profiler unavailable: %s\n" % e)
            return {}
        try:
            with tf.device(L.tf_device):
                env = dict(persistent)
                for sid, _, fn in steps:
                    with tf.profiler.experimental.Trace("fconv::" + sid):
                        env[sid] = fn(env)
                        L.sync()
        finally:
            tf.profiler.experimental.stop()
        files = glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True)
        if not files:
            return {}
        space = xplane_pb2.XSpace()
        with open(files[0], "rb") as f:
            space.ParseFromString(f.read())
        spans, events = [], []
        for plane in space.planes:
            gpu = plane.name.startswith("/device:GPU")
            if not (gpu or plane.name.startswith("/host:CPU")):
                continue
            md = plane.event_metadata
            for line in plane.lines:
                base = line.timestamp_ns * 1000
                for ev in line.events:
                    name = md[ev.metadata_id].name
                    t0 = base + ev.offset_ps
                    if name.startswith("fconv::"):
                        spans.append((name[len("fconv::"):], t0, t0 + ev.duration_ps))
                    elif gpu and ev.duration_ps > 0:
                        events.append(("cuda", name, t0, ev.duration_ps))
                    elif ":" in name and "::" not in name and not name.startswith(("Threadpool", "Executor", "Eager", "Memory")):
                        op, kind = name.rsplit(":", 1)
                        events.append(("cpu", "%s (%s)" % (kind, op.split("/")[-1]) if kind != op else kind, t0, ev.duration_ps))
        out = {}
        for sid, a, b in spans:
            acc = {}
            for device, name, t0, dur in events:
                if a <= t0 <= b:
                    acc[(device, name)] = acc.get((device, name), 0.0) + dur / 1e9
            items = sorted(acc.items(), key=lambda kv: -kv[1])[:top]
            out[sid] = [{"name": k[1][:120], "device": k[0], "ms": v} for k, v in items if v >= 0.001]
        return out
    except Exception as e:  # noqa: BLE001 - kernel names are an extra; the timings stand without them
        sys.stderr.write("TF profiler pass failed: %s\n" % e)
        return {}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _Device:
    def __init__(self, kind):
        self.type = kind


class Layer:
    def __init__(self, spec, data, device, threads):
        self.spec = spec
        self.g = spec["geometry"]
        self.cuda = device.startswith("cuda")
        self.device = _Device("cuda" if self.cuda else "cpu")
        idx = int(device.split(":")[1]) if ":" in device else 0
        self.tf_device = "GPU:%d" % idx if self.cuda else "CPU:0"
        self.notes = []
        self.threads = set_threads(tf, threads, self.notes)
        s = spec
        B, H, W, Ci, Co = s["batch"], s["height"], s["width"], s["inChannels"], s["outChannels"]
        kh, kw, k = s["kernelH"], s["kernelW"], s["spatialKernel"]
        shape = [B, H, W, Ci] if s["layout"] == "NHWC" else [B, Ci, H, W]
        self.fno = s.get("layer") == "fno"
        with tf.device(self.tf_device):
            self.x = tf.constant(floats(data.get("input"), B * H * W * Ci, "input", shape))
            if self.fno:
                kept = s["kept"]
                self.top, self.bottom, self.cols = kept["top"], kept["bottom"], kept["cols"]
                R = self.top + self.bottom
                mw = floats(data.get("modeWeights"), Ci * Co * R * self.cols * 2, "modeWeights", [Ci, Co, R, self.cols, 2])
                self.mw = tf.complex(tf.constant(mw[..., 0]), tf.constant(mw[..., 1]))
                # The same function as a circular convolution: irfft2 of the zero-filled weight spectrum, (kh, kw, in, out).
                self.w = tf.transpose(tf.signal.irfft2d(_fill_modes(self, self.mw, Ci, Co, H, W // 2 + 1), fft_length=[H, W]), [2, 3, 0, 1])
            else:
                self.w = tf.constant(floats(data.get("kernel"), kh * kw * Ci * Co, "kernel", [kh, kw, Ci, Co]))
            self.ws = tf.constant(floats(data.get("spatialKernel"), k * k * Ci * Co, "spatialKernel", [k, k, Ci, Co]))
        if self.cuda:
            gpu = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[idx]).get("device_name", self.tf_device)
            self.device_name = "GPU %s via TensorFlow %s" % (gpu, tf.__version__)
        else:
            self.device_name = "CPU via TensorFlow %s (%d intra-op thread%s)" % (tf.__version__, self.threads, "" if self.threads == 1 else "s")

    def sync(self):
        if self.cuda:
            tf.test.experimental.sync_devices()

    def timed(self, fn):
        """(value, ms): perf_counter around the call and a device sync (a CPU op has run when it returns)."""
        t0 = time.perf_counter()
        with tf.device(self.tf_device):
            v = fn()
        self.sync()
        return v, (time.perf_counter() - t0) * 1000.0


# tf.function (as model.fit runs a layer) or eager, set by the layer's load ({"mode": "eager"}).
MODE = {"eager": False}


def load(spec, data, device, threads, options=None):
    mode = (options or {}).get("mode", "function")
    need(mode in ("function", "eager"), "options.mode must be function or eager")
    MODE["eager"] = mode == "eager"
    return Layer(spec, data, device, threads)


# --------------------------------------------------------------------------------------------------
# Executors: how each planned step runs on TensorFlow, each a tf.function of the values it reads. Keys are the
# plan's step ids; each entry is (label, reads, function of those values).


def _fn(f):
    return f if MODE["eager"] else tf.function(f, reduce_retracing=True)


def to_nchw(t):
    return tf.transpose(t, [0, 3, 1, 2])


def to_nhwc(t):
    return tf.transpose(t, [0, 2, 3, 1])


def crop_to_layout(L, r):
    g, s = L.g, L.spec
    y = r[:, :, g["cropTop"]:g["cropTop"] + g["outH"], g["cropLeft"]:g["cropLeft"] + g["outW"]]
    return to_nhwc(y) if s["layout"] == "NHWC" else y


def _mode():
    return "eager mode (op by op)" if MODE["eager"] else "tf.function"


def spatial_executors(L):
    s = L.spec
    k = s["spatialKernel"]
    nhwc = s["layout"] == "NHWC"
    ex = {}
    src = "x" if nhwc else "to-nhwc"
    if not nhwc:
        ex["to-nhwc"] = ("NCHW → NHWC (tf.nn.conv2d runs channels-last on a CPU)", ["x"], _fn(to_nhwc))
    ex["conv2d"] = ("tf.nn.conv2d %d×%d 'SAME' (oneDNN on a CPU, cuDNN on a GPU), in %s" % (k, k, _mode()), [src, "ws"],
                    _fn(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME")))
    if not nhwc:
        ex["to-nchw"] = ("NHWC → NCHW", ["conv2d"], _fn(to_nchw))
    return ex


def spatial_equivalent_executors(L):
    s, g = L.spec, L.g
    kh, kw = s["kernelH"], s["kernelW"]
    H, W = s["height"], s["width"]
    nhwc = s["layout"] == "NHWC"
    ex = {}
    src = "x" if nhwc else "to-nhwc"
    if not nhwc:
        ex["to-nhwc"] = ("NCHW → NHWC (tf.nn.conv2d runs channels-last on a CPU)", ["x"], _fn(to_nhwc))
    if s["padding"] == "circular" and (kh > 1 or kw > 1):
        ph, pw = kh - 1, kw - 1

        def wrap(x):
            rows = tf.concat([x[:, H - ph:], x], 1) if ph else x
            return tf.concat([rows[:, :, W - pw:], rows], 2) if pw else rows

        ex["pad-wrap"] = ("wrap-around padding (%d rows, %d cols) by slice + concat" % (ph, pw), [src], _fn(wrap))
        src = "pad-wrap"
    pad = "SAME" if g["spatialPadding"] == "same" else "VALID"
    ex["conv2d"] = (
        "tf.nn.conv2d %d×%d '%s', the kernel flipped in the call (convolution, not correlation; tf.reverse), in %s" % (kh, kw, pad, _mode()),
        [src, "w"],
        _fn(lambda x, w: tf.nn.conv2d(x, tf.reverse(w, [0, 1]), 1, pad)),
    )
    if not nhwc:
        ex["to-nchw"] = ("NHWC → NCHW", ["conv2d"], _fn(to_nchw))
    return ex


def seed_executors(L):
    s, g = L.spec, L.g
    P, Q = g["fftH"], g["fftW"]
    nhwc = s["layout"] == "NHWC"
    return {
        "rfft2d-input": (
            "outside the question's layer (it fed spectra in): %stf.signal.rfft2d with fft_length [%d, %d], laid out (batch, H, W/2+1, in) as its einsum expects"
            % ("NHWC → NCHW, " if nhwc else "", P, Q),
            ["x"],
            _fn(lambda x: tf.transpose(tf.signal.rfft2d(to_nchw(x) if nhwc else x, fft_length=[P, Q]), [0, 2, 3, 1])),
        ),
        "rfft2d-kernel": (
            "every call: the (in, H, W, out) kernel moved to (in, out, H, W) (rfft2d transforms the innermost two axes), tf.signal.rfft2d with fft_length [%d, %d]" % (P, Q),
            ["w"],
            _fn(lambda w: tf.signal.rfft2d(tf.transpose(w, [2, 3, 0, 1]), fft_length=[P, Q])),
        ),
        "transpose-kernel": (
            "tf.transpose of the complex kernel spectrum to (H, W/2+1, in, out), as perm [2,1,0,3] + the einsum's layout need",
            ["rfft2d-kernel"],
            _fn(lambda k: tf.transpose(k, [2, 3, 0, 1])),
        ),
        "einsum": (
            "tf.einsum('bhwi,hwio->bhwo') on complex64%s" % ("; with in-channels = 1 every product is a K = 1 outer product" if s["inChannels"] == 1 else ""),
            ["rfft2d-input", "transpose-kernel"],
            _fn(lambda x, k: tf.einsum("bhwi,hwio->bhwo", x, k)),
        ),
        "irfft2d": (
            "back to the spatial domain for the check (the question's layer stayed in the Fourier domain): tf.signal.irfft2d with fft_length [%d, %d], crop, %s" % (P, Q, s["layout"]),
            ["einsum"],
            _fn(lambda y: crop_to_layout(L, tf.signal.irfft2d(tf.transpose(y, [0, 3, 1, 2]), fft_length=[P, Q]))),
        ),
    }, {}


def optimized_executors(L):
    s, g = L.spec, L.g
    P, Q, V = g["fftH"], g["fftW"], g["freqW"]
    F_ = P * V
    B, Ci, Co = s["batch"], s["inChannels"], s["outChannels"]
    nhwc = s["layout"] == "NHWC"

    def kernel_spectrum(w):
        K = tf.signal.rfft2d(tf.transpose(w, [2, 3, 0, 1]), fft_length=[P, Q])  # (in, out, P, V)
        if Ci == 1:
            return tf.reshape(K, [1, Co, P, V])
        return tf.reshape(tf.transpose(K, [2, 3, 0, 1]), [F_, Ci, Co])

    one_off = {"rfft2d-kernel-cached": (
        "once per weight update, cached: tf.signal.rfft2d of the %d kernel maps%s" % (Ci * Co, ", frequency-major (F, in, out)" if Ci > 1 else ""),
        ["w"], _fn(kernel_spectrum))}
    ex = {"rfft2d-input": (
        "%stf.signal.rfft2d with fft_length [%d, %d]%s" % ("NHWC → NCHW, " if nhwc else "", P, Q, " (zero padding)" if (P, Q) != (s["height"], s["width"]) else ""),
        ["x"], _fn(lambda x: tf.signal.rfft2d(to_nchw(x) if nhwc else x, fft_length=[P, Q])))}
    if Ci == 1:
        ex["multiply"] = ("broadcast multiply (in-channels = 1): (batch, 1, H, W/2+1) ⊙ (1, out, H, W/2+1) on complex64, no transposes",
                          ["rfft2d-input", "rfft2d-kernel-cached"], _fn(lambda x, k: x * k))
        last = "multiply"
    else:
        ex["transpose-x"] = ("(batch, in, F) → (F, batch, in): frequency-major for the batched product", ["rfft2d-input"],
                             _fn(lambda x: tf.reshape(tf.transpose(x, [2, 3, 0, 1]), [F_, B, Ci])))
        ex["multiply"] = ("tf.linalg.matmul over %d frequencies of (%d×%d)·(%d×%d) complex64" % (F_, B, Ci, Ci, Co),
                          ["transpose-x", "rfft2d-kernel-cached"], _fn(lambda x, k: tf.linalg.matmul(x, k)))
        ex["transpose-y"] = ("(F, batch, out) → (batch, out, F) for the inverse transform", ["multiply"],
                             _fn(lambda y: tf.transpose(tf.reshape(y, [P, V, B, Co]), [2, 3, 0, 1])))
        last = "transpose-y"
    ex["irfft2d"] = ("tf.signal.irfft2d with fft_length [%d, %d], crop %d×%d, %s" % (P, Q, g["outH"], g["outW"], s["layout"]), [last],
                     _fn(lambda y: crop_to_layout(L, tf.signal.irfft2d(y, fft_length=[P, Q]))))
    return ex, one_off


def _fill_modes(L, blocks, b, o, H, V):
    """(b, o, R, C) kept rows (top, then bottom) placed into a zero (b, o, H, V) half spectrum."""
    top, bottom, C = L.top, L.bottom, L.cols
    cols = [[0, 0], [0, 0], [0, 0], [0, V - C]]
    parts = [tf.pad(blocks[:, :, :top], cols), tf.zeros([b, o, H - top - bottom, V], blocks.dtype)]
    if bottom:
        parts.append(tf.pad(blocks[:, :, top:], cols))
    return tf.concat(parts, 2)


def fno_executors(L):
    s = L.spec
    B, H, W, Co = s["batch"], s["height"], s["width"], s["outChannels"]
    top, bottom, C = L.top, L.bottom, L.cols
    V = W // 2 + 1
    cols = [[0, 0], [0, 0], [0, 0], [0, V - C]]

    def assign(z, y0, y1=None):
        parts = [tf.pad(y0, cols), z[:, :, top:H - bottom]]
        if y1 is not None:
            parts.append(tf.pad(y1, cols))
        return tf.concat(parts, 2)

    ex = {
        "rfft2d-input": ("x_ft = tf.signal.rfft2d(x)", ["x"], _fn(lambda x: tf.signal.rfft2d(x))),
        "einsum-top": ("tf.einsum('bixy,ioxy->boxy', x_ft[:, :, :%d, :%d], weights1) on complex64" % (top, C), ["rfft2d-input", "mw"],
                       _fn(lambda X, w: tf.einsum("bixy,ioxy->boxy", X[:, :, :top, :C], w[:, :, :top]))),
        "zeros-out-ft": ("out_ft = tf.zeros((%d, %d, %d, %d), complex64), every call" % (B, Co, H, V), [],
                         _fn(lambda: tf.zeros([B, Co, H, V], tf.complex64))),
        "assign-modes": ("out_ft with the modes in: TensorFlow has no slice-assignment, so tf.pad of the blocks and tf.concat with out_ft's zero rows",
                         ["zeros-out-ft", "einsum-top"] + (["einsum-bottom"] if bottom else []), _fn(assign)),
        "irfft2d": ("tf.signal.irfft2d(out_ft, fft_length=[%d, %d])" % (H, W), ["assign-modes"],
                    _fn(lambda y: tf.signal.irfft2d(y, fft_length=[H, W]))),
    }
    if bottom:
        ex["einsum-bottom"] = ("tf.einsum('bixy,ioxy->boxy', x_ft[:, :, -%d:, :%d], weights2) on complex64" % (bottom, C), ["rfft2d-input", "mw"],
                               _fn(lambda X, w: tf.einsum("bixy,ioxy->boxy", X[:, :, H - bottom:, :C], w[:, :, top:])))
    return ex, {}


def optimized_fno_executors(L):
    s = L.spec
    B, H, W, Ci, Co = s["batch"], s["height"], s["width"], s["inChannels"], s["outChannels"]
    top, bottom, C = L.top, L.bottom, L.cols
    R = top + bottom
    M = R * C

    def over_h(t, inverse=False):
        """An FFT over H (axis 2) of (b, c, H, cols): tf.signal transforms the innermost axis."""
        u = tf.transpose(t, [0, 1, 3, 2])
        u = tf.signal.ifft(u) if inverse else tf.signal.fft(u)
        return tf.transpose(u, [0, 1, 3, 2])

    def gather_rows(X):
        return tf.concat([X[:, :, :top], X[:, :, H - bottom:]], 2) if bottom else X[:, :, :top]

    def scatter_rows(Y):
        parts = [Y[:, :, :top], tf.zeros([B, Co, H - R, C], Y.dtype)] + ([Y[:, :, top:]] if bottom else [])
        return over_h(tf.concat(parts, 2), inverse=True)

    one_off = {"weights-cached": ("once per weight update, cached: the weights permuted mode-major (%d, in, out), complex64" % M, ["mw"],
                                  _fn(lambda w: tf.reshape(tf.transpose(w, [2, 3, 0, 1]), [M, Ci, Co])))}
    ex = {
        "rfft-w": ("tf.signal.rfft(x)[..., :%d]: the transform over W, only the %d kept columns go on" % (C, C), ["x"],
                   _fn(lambda x: tf.signal.rfft(x)[..., :C])),
        "fft-h": ("tf.signal.fft over H (a transpose each way: it transforms the innermost axis) on the %d kept columns only, the %d kept rows gathered" % (C, R),
                  ["rfft-w"], _fn(lambda t: gather_rows(over_h(t)))),
        "transpose-x": ("(batch, in, rows, cols) → (%d modes, batch, in): mode-major for the batched product" % M, ["fft-h"],
                        _fn(lambda t: tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [M, B, Ci]))),
        "multiply": ("tf.linalg.matmul over all %d kept modes at once: (%d×%d)·(%d×%d) complex64" % (M, B, Ci, Ci, Co),
                     ["transpose-x", "weights-cached"], _fn(lambda x, w: tf.linalg.matmul(x, w))),
        "transpose-y": ("(modes, batch, out) → (batch, out, rows, cols)", ["multiply"],
                        _fn(lambda y: tf.transpose(tf.reshape(y, [R, C, B, Co]), [2, 3, 0, 1]))),
        "ifft-h": ("the %d rows placed in a (batch, out, %d, %d) buffer (tf.concat with zeros), tf.signal.ifft over H" % (R, H, C), ["transpose-y"],
                   _fn(scatter_rows)),
        "irfft-w": ("tf.signal.irfft(·, fft_length=[%d]): the missing columns zero-padded first (tf.pad)" % W, ["ifft-h"],
                    _fn(lambda t: tf.signal.irfft(tf.pad(t, [[0, 0], [0, 0], [0, 0], [0, W // 2 + 1 - C]]), fft_length=[W]))),
    }
    return ex, one_off


EXECUTORS = {
    "spatial": lambda L: (spatial_executors(L), {}),
    "spatial-equivalent": lambda L: (spatial_equivalent_executors(L), {}),
    "seed": seed_executors,
    "fno": fno_only(fno_executors),
    "optimized": lambda L: optimized_fno_executors(L) if L.fno else optimized_executors(L),
}


def _bound(entry):
    label, reads, f = entry

    def run(env):
        return f(*[env[r] for r in reads])

    return label, reads, run


def bind(L, variant, plan):
    """fconv_protocol's interface: (persistent, one-off steps, steps, labels)."""
    return bind_all(L, variant, plan)[:4]


def bind_all(L, variant, plan, params=None):
    """The plan's steps with their executors; the plan and the executors must name the same steps. `params`
    replaces the layer's tensors (the training step's variables)."""
    need(isinstance(plan, dict) and isinstance(plan.get("steps"), list) and isinstance(plan.get("oneOff"), list), "plan must have steps and oneOff")
    make = EXECUTORS.get(variant) if isinstance(variant, str) else None
    if make is None:
        raise RequestError("protocol", "the tensorflow engine has no variant %r" % (variant,))
    ex, one = make(L)
    ids = [st.get("id") if isinstance(st, dict) else None for st in plan["steps"]]
    if sorted(ids) != sorted(ex) or sorted(plan["oneOff"]) != sorted(one):
        raise RequestError("internal", "the %s plan (%s | %s) and the tensorflow executors (%s | %s) name different steps" % (
            variant, ", ".join(map(str, plan["oneOff"])), ", ".join(map(str, ids)), ", ".join(one), ", ".join(ex)))
    persistent = dict(params) if params is not None else dict({"x": L.x, "w": L.w, "ws": L.ws}, **({"mw": L.mw} if L.fno else {}))
    steps = [(st["id"], bool(st.get("inLayer")), _bound(ex[st["id"]])[2]) for st in plan["steps"]]
    one_off = [(i, _bound(one[i])[2]) for i in plan["oneOff"]]
    labels = {k: v[0] for k, v in list(ex.items()) + list(one.items())}
    reads = {k: v[1] for k, v in list(ex.items()) + list(one.items())}
    return persistent, one_off, steps, labels, reads


def crosscheck(L, req):
    """The variant's end to end on an independent clock: timeit of the same tf.functions in this process."""
    import timeit

    persistent, one_off, steps, _, _ = bind_all(L, req["variant"], req["plan"])
    with tf.device(L.tf_device):
        for sid, fn in one_off:
            persistent[sid] = fn(persistent)
        held = {}

        def run():
            env = dict(persistent)
            for sid, _, fn in steps:
                env[sid] = fn(env)
            L.sync()
            held["last"] = env[steps[-1][0]]

        t = timeit.Timer(run)
        n, _ = t.autorange()
        seconds = float(req.get("seconds", 1.0))
        reps = max(3, int(seconds / max(1e-9, t.timeit(n) / n) / max(1, n)))
        times = sorted(t.repeat(repeat=reps, number=n))
    med = times[len(times) // 2] / n
    return {"medianMs": med * 1000.0, "runs": reps * n}


# --------------------------------------------------------------------------------------------------
# The training step: tf.GradientTape over the input and every parameter (the same loss as every engine:
# sum(out * R), R[i] = sin(0.7 i + 0.3)).


def _upstream(L, out):
    cache = L.__dict__.setdefault("_upstream", {})
    key = tuple(int(d) for d in out.shape)
    if key not in cache:
        import numpy as np

        n = int(np.prod(key))
        r = np.sin(np.arange(n, dtype=np.float64) * 0.7 + 0.3).astype("float32").reshape(key)
        with tf.init_scope(), tf.device(L.tf_device):  # eager, even when first asked inside a traced step
            cache[key] = tf.constant(r)
    return cache[key]


def _params_of(L, variant):
    """The training step's variables by gradient name, and the persistent keys they stand for."""
    names = {"input": "x"}
    if variant == "spatial":
        names["spatialKernel"] = "ws"
    elif L.fno and variant != "spatial-equivalent":
        names["modeWeights"] = "mw"
    else:
        # An FNO layer's spatial-equivalent trains its equivalent kernel (another parametrisation): its input
        # gradient is the one compared.
        names["kernel"] = "w"
    tensors = {"x": L.x, "w": L.w, "ws": L.ws, **({"mw": L.mw} if L.fno else {})}
    with tf.device(L.tf_device):
        vars_ = {name: tf.Variable(tensors[key]) for name, key in names.items()}
    return names, vars_


def _real_pairs(g):
    """A gradient as float32 values; a complex one as (re, im) pairs. tf.GradientTape's gradient of a real loss with
    respect to a complex variable is dL/dRe + i·dL/dIm (checked: d Re(z·a)/dz = conj(a)), the same as torch's."""
    if g.dtype.is_complex:
        return tf.stack([tf.math.real(g), tf.math.imag(g)], -1)
    return g


def measure_train(fw, L, req, progress, cancelled):
    progress = throttled(progress)
    variant = req["variant"]
    names, vars_ = _params_of(L, variant)
    params = {names[n]: v for n, v in vars_.items()}
    persistent, one_off, steps, labels, reads = bind_all(L, variant, req["plan"], params)
    chain = [(sid, fn) for sid, fn in one_off] + [(sid, fn) for sid, _, fn in steps]
    policy = train_policy(loop_policy(req.get("policy")))
    sources = list(vars_.values())
    n_steps = len(chain)

    def check():
        if cancelled():
            raise Cancelled()

    def forward():
        return run_chain(persistent, chain)

    train_step = _train_step(L, persistent, chain, sources)

    with tf.device(L.tf_device):
        def backward_once():
            with tf.GradientTape() as tape:
                out = forward()
            L.sync()
            return L.timed(lambda: tape.gradient(out, sources, output_gradients=_upstream(L, out)))[1]

        warm, total, bwd, n, grads = train_phases(L, policy, n_steps, train_step, backward_once, progress, check)
        if not MODE["eager"]:
            # One graph runs forward and backward: the backward is the step less the same forward as one tf.function
            # (an eager tape over the steps' functions would time a slower backward than the step's own).
            whole_fwd = tf.function(forward)
            L.timed(whole_fwd)
            fwd = sorted(L.timed(whole_fwd)[1] for _ in range(max(3, n)))[max(3, n) // 2]
            bwd = [max(0.0, t - fwd) for t in total]
        # Each step's backward: its inputs watched, the upstream gradient it gets in the whole backward fixed.
        env = dict(persistent)
        outs = []
        for sid, fn in chain:
            y = fn(env)
            outs.append(y)
            env[sid] = y
        upstream = {chain[-1][0]: _upstream(L, outs[-1])}
        ids = dict(chain)
        # (inputs' keys, their values) of each step with a backward, its upstream gradient; None: no backward.
        vjps = [None] * n_steps

        def recorded(i):
            sid, fn = chain[i]
            keys, xs, _ = vjps[i]
            local = dict(env)
            with tf.GradientTape() as tape:
                for x in xs:
                    tape.watch(x)
                local.update(zip(keys, xs))
                y = fn(local)
            return tape, y

        for i in range(n_steps - 1, -1, -1):
            sid, fn = chain[i]
            keys = [k for k in reads[sid] if env[k].dtype.is_floating or env[k].dtype.is_complex]
            g = upstream.get(sid)
            if g is None or not keys:
                continue
            vjps[i] = (keys, [tf.identity(env[k]) for k in keys], g)
            tape, y = recorded(i)
            for k, gk in zip(keys, tape.gradient(y, vjps[i][1], output_gradients=g)):
                if gk is not None and k in ids:
                    upstream[k] = upstream[k] + gk if k in upstream else gk
        per = [[] for _ in chain]
        for r in range(n):
            for i, (sid, _) in enumerate(chain):
                progress({"phase": "per-step", "step": sid + " (backward)", "stepIndex": i, "stepCount": n_steps, "rep": r, "reps": n})
                check()
                if vjps[i] is None:
                    per[i].append(0.0)  # nothing that trains reaches it, or it does not reach the loss: no backward
                    continue
                tape, y = recorded(i)
                L.sync()
                _, ms = L.timed(lambda: tape.gradient(y, vjps[i][1], output_gradients=vjps[i][2]))
                per[i].append(ms)
    return {
        "implementations": labels,
        "stepIds": [sid for sid, _ in chain],
        "total": total,
        "backward": bwd,
        "steps": per,
        "reps": n,
        "warmup": len(warm),
        "firstMs": warm[0],
        "gradients": {name: to_b64(_real_pairs(g if g is not None else tf.zeros_like(vars_[name]))) for name, g in zip(vars_.keys(), grads)},
    }


def layer_profile(msg, progress, cancelled):
    """"Profile this layer" on the user's own Keras layer (python/fconv_layer_tf.py), in a process of its own."""
    device = check_layer_request(msg)
    need(msg.get("tfMode") in (None, "function", "eager"), "tfMode must be function or eager")
    check_device(device)
    return profile_layer(tf, msg, *layer_callbacks(msg, cancelled))


def layer_optimize(msg, progress, cancelled):
    """"Make it fast" on the user's own Keras layer (python/fconv_optimize_tf.py), in a process of its own."""
    device = check_layer_request(msg)
    check_candidates(msg)
    check_device(device)
    return optimize_layer(tf, msg, *layer_callbacks(msg, cancelled))


def _train_step(L, persistent, chain, sources):
    """Forward, the loss sum(out * R) and the gradients of `sources`: one tf.function (as model.fit's train step; the
    steps' own tf.functions inline), or eager with --tf-mode eager."""

    def train_step():
        with tf.GradientTape() as tape:
            out = run_chain(persistent, chain)
            loss = tf.reduce_sum(out * _upstream(L, out))
        return tape.gradient(loss, sources)

    return train_step if MODE["eager"] else tf.function(train_step)


def crosscheck_train(fw, L, req):
    """The training step on an independent clock: timeit of the same forward + GradientTape backward."""
    import timeit

    variant = req["variant"]
    names, vars_ = _params_of(L, variant)
    params = {names[n]: v for n, v in vars_.items()}
    persistent, one_off, steps, _, _ = bind_all(L, variant, req["plan"], params)
    chain = [(sid, fn) for sid, fn in one_off] + [(sid, fn) for sid, _, fn in steps]
    step = _train_step(L, persistent, chain, list(vars_.values()))

    def run():
        step()
        L.sync()

    with tf.device(L.tf_device):
        t = timeit.Timer(run)
        n, _ = t.autorange()
        times = sorted(t.repeat(repeat=7, number=n))
    return {"medianMs": times[3] / n * 1000.0, "runs": 7 * n}


# --------------------------------------------------------------------------------------------------
# The probe: this machine's rates on TensorFlow, for the cost model.


def probe(device, tick):
    dev = "GPU:0" if device.startswith("cuda") else "CPU:0"
    started = time.perf_counter()
    done = [0]
    total = 13

    def measure_op(what, fn, reps=9):
        tick(what, done[0], total)
        done[0] += 1
        for _ in range(3):
            fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            if device.startswith("cuda"):
                tf.test.experimental.sync_devices()
            times.append(time.perf_counter() - t0)
        times.sort()
        return times[(len(times) - 1) // 4]

    with tf.device(dev):
        rnd = lambda *shape: tf.random.stateless_uniform(shape, seed=[7, 7], minval=-1, maxval=1)  # noqa: E731
        a, b = rnd(4096, 128), rnd(128, 128)
        mm = tf.function(lambda a, b: tf.linalg.matmul(a, b))
        gemm = 2 * 4096 * 128 * 128 / measure_op("2-D GEMM", lambda: mm(a, b)) / 1e9

        def backward_of(f, *xs):
            """The backward alone of f at xs (both operands' gradients), a fixed upstream gradient, as a tf.function."""
            y = f(*xs)
            g = tf.ones_like(y)

            @tf.function
            def vjp(*args):
                with tf.GradientTape() as tape:
                    tape.watch(args)
                    out = f(*args)
                return tape.gradient(out, args, output_gradients=g)

            return lambda: vjp(*xs)

        # The backward (both gradients, twice the forward's FLOPs) as one tf.function returning only the gradients:
        # neither gradient of a GEMM or a convolution needs the forward's output, and TF's graph optimizer prunes
        # it; where it does not, the rate comes out lower (the forward counted in), never higher.
        both = measure_op("2-D GEMM backward", backward_of(lambda x, y: tf.linalg.matmul(x, y), a, b))
        gemm_backward = 4 * 4096 * 128 * 128 / both / 1e9
        bmm = []
        for k in (4, 32):
            x, y = rnd(256, 32, k), rnd(256, k, 32)
            bmm.append({"inner": k, "gflops": 2 * 256 * 32 * k * 32 / measure_op("batched GEMM, K = %d" % k, lambda: mm(x, y)) / 1e9})
        conv, conv_backward = [], []
        cv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
        for cin, k in ((1, 3), (1, 9), (16, 5)):
            bsz = 32 if cin == 1 else 8
            x, w = rnd(bsz, 32, 32, cin), rnd(k, k, cin, 32)
            sec = measure_op("conv2d %d×%d, %d in-channels" % (k, k, cin), lambda: cv(x, w))
            conv.append({"inner": cin, "kernel": k, "gflops": 2 * bsz * 32 * 32 * cin * 32 * k * k / sec / 1e9})
            both = measure_op("conv2d %d×%d backward" % (k, k), backward_of(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), x, w))
            conv_backward.append({"inner": cin, "kernel": k, "gflops": 4 * bsz * 32 * 32 * cin * 32 * k * k / both / 1e9})
        m, n = 64, 32
        fx = rnd(m, n, n)
        fft_flops = m * 2.5 * n * n * math.log2(n * n)
        rf = tf.function(lambda x: tf.signal.rfft2d(x))
        fft = fft_flops / measure_op("rfft2d", lambda: rf(fx)) / 1e9
        spec_ = rf(fx)
        irf = tf.function(lambda x: tf.signal.irfft2d(x, fft_length=[n, n]))
        ifft = fft_flops / measure_op("irfft2d", lambda: irf(spec_)) / 1e9
        e1, e2 = rnd(32, 1, 840), rnd(1, 32, 840)
        mul = tf.function(lambda a, b: a * b)
        elementwise = 4 * (2 * 32 * 840 + 32 * 32 * 840) / measure_op("elementwise", lambda: mul(e1, e2)) / 1e9
        tx = rnd(1024, 30, 28)
        tr = tf.function(lambda x: tf.transpose(x, [0, 2, 1]))
        copy = 2 * 4 * 1024 * 30 * 28 / measure_op("transpose", lambda: tr(tx)) / 1e9
        s = rnd(8, 8)
        overhead = measure_op("per-op cost", lambda: s + s, 50) * 1e6
    return {
        "gemmGflops": gemm,
        "bmm": bmm,
        "conv": conv,
        "convBackward": conv_backward,
        "gemmBackwardGflops": gemm_backward,
        "fftGflops": fft,
        "ifftGflops": ifft,
        "elementwiseGBs": elementwise,
        "copyGBs": copy,
        "pad": [{"inner": 1, "gflops": copy}],
        "overheadUs": overhead,
        "seconds": time.perf_counter() - started,
        "reps": 9,
    }
