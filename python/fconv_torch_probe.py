"""Fourier Conv Profiler: this machine's rates on torch for the cost model (src/core/model.ts's Probe): GEMM,
batched GEMM, complex GEMM, FFT, convolution and copy rates, each warmed up until stable. Standard library and
torch only; loaded by fconv_torch.py.
"""

import math
import time

try:
    import torch
    import torch.nn.functional as F
except Exception:  # noqa: BLE001 - fconv_torch.py reports the import failure
    torch = None
    F = None


def cudnn_version():
    """cuDNN's version as text: torch.backends.cudnn.version() is major*1000 + minor*100 + patch up to cuDNN 8
    (8907 -> 8.9.7) and major*10000 + minor*100 + patch from cuDNN 9 (90100 -> 9.1.0). "none" without cuDNN."""
    v = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    if not v:
        return "none"
    major, rest = (v // 10000, v % 10000) if v >= 10000 else (v // 1000, v % 1000)
    return "%d.%d.%d" % (major, rest // 100, rest % 100)


def fp32_math(device):
    """The flags every measured CUDA run uses, and the probe with them: ops on `device` (also cuda:N), cuDNN's
    autotuner on, TF32 off for convolutions and GEMMs (PyTorch's default lets cuDNN use TF32 on sm_80+: a 10-bit
    mantissa, faster, and near the spectral checks' tolerance). Read back after setting, with torch >= 2.9's
    fp32_precision where it exists (set to "ieee" if it still says otherwise). Returns "name=value" strings."""
    torch.cuda.set_device(device)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    read = ["cudnn.allow_tf32=%s" % torch.backends.cudnn.allow_tf32,
            "matmul.allow_tf32=%s" % torch.backends.cuda.matmul.allow_tf32]
    for name, holder in (("cudnn.conv.fp32_precision", getattr(torch.backends.cudnn, "conv", None)),
                         ("cuda.matmul.fp32_precision", torch.backends.cuda.matmul)):
        try:
            value = getattr(holder, "fp32_precision", None) if holder is not None else None
            if value is not None and value not in ("ieee", "none"):
                holder.fp32_precision = "ieee"
                value = holder.fp32_precision
            if value is not None:
                read.append("%s=%s" % (name, value))
        except Exception:  # noqa: BLE001 - an older torch: the allow_tf32 flags above are the API
            pass
    return read


def probe(device, tick):
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    if cuda:
        # The same math as the runs it prices (fconv_torch.Layer): a probe with TF32 on would price them at rates
        # they never get.
        fp32_math(dev)

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    def rnd(*shape):
        g = torch.Generator().manual_seed(7)
        return (torch.rand(*shape, generator=g) * 2 - 1).to(dev)

    done = [0]
    total = 24

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
        if cuda:
            # Rates, not latency: back-to-back calls between one pair of CUDA events on the current stream, enough
            # of them for about 1 ms (a small kernel alone is its launch latency), the time per call.
            inner = max(1, min(1000, int(math.ceil(1e-3 / max(best, 1e-6)))))
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            stream = torch.cuda.current_stream(dev)
            for _ in range(reps):
                start.record(stream)
                for _ in range(inner):
                    fn()
                end.record(stream)
                end.synchronize()
                times.append(start.elapsed_time(end) / 1000.0 / inner)
        else:
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
        # Its backward alone (both operands' gradients, products with a transposed operand; twice the FLOPs).
        with torch.enable_grad():
            ag, bg = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
            ab = ag @ bg
            gab = torch.randn_like(ab)
            gemm_backward = 4 * 4096 * 128 * 128 / measure_op("2-D GEMM backward", lambda: torch.autograd.grad(ab, (ag, bg), gab, retain_graph=True)) / 1e9
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
        conv, conv_backward = [], []
        # One in-channel: the rate changes with the kernel (oneDNN's direct/GEMM paths), so three kernel sizes up
        # to a large one (a 21×21 kernel on 32×32 stands for the image-sized kernels of spatial-equivalent).
        for cin, k in ((1, 3), (1, 9), (1, 21), (4, 5), (16, 5)):
            bsz = 32 if cin == 1 else 8
            x, w = rnd(bsz, cin, 32, 32), rnd(32, cin, k, k)
            p = k // 2
            sec = measure_op("conv2d %d×%d, %d in-channels" % (k, k, cin), lambda: F.conv2d(x, w, padding=p))
            conv.append({"inner": cin, "kernel": k, "gflops": 2 * bsz * 32 * 32 * cin * 32 * k * k / sec / 1e9})
            # Its backward alone: the data and the filter gradients (twice the forward's FLOPs), a fixed upstream
            # gradient, the graph kept between calls (oneDNN's backward kernels run far from the forward's rate at
            # large kernels: the training step's crossover moves with it).
            with torch.enable_grad():
                xg, wg = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
                out = F.conv2d(xg, wg, padding=p)
                g = torch.randn_like(out)
                sec_b = measure_op("conv2d %d×%d backward" % (k, k), lambda: torch.autograd.grad(out, (xg, wg), g, retain_graph=True))
            conv_backward.append({"inner": cin, "kernel": k, "gflops": 4 * bsz * 32 * 32 * cin * 32 * k * k / sec_b / 1e9})
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
        "convBackward": conv_backward,
        "gemmBackwardGflops": gemm_backward,
        "fftGflops": fft,
        "ifftGflops": ifft,
        "elementwiseGBs": elementwise,
        "copyGBs": copy,
        "pad": pad,
        "overheadUs": overhead,
        "seconds": time.perf_counter() - started,
        "reps": 9,
    }
