"""Fourier Conv Profiler: how each planned step runs on torch (the PyTorch engine's executors), one function per
variant: a map from the plan's step ids to (implementation label, function of the env). Standard library and
torch only; loaded by fconv_torch.py.
"""

from fconv_protocol import RequestError, fno_only

try:
    import torch
    import torch.nn.functional as F
except Exception:  # noqa: BLE001 - fconv_torch.py reports the import failure
    torch = None
    F = None


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


def _no_one_off(make):
    def executors(L):
        persistent, ex = make(L)
        return persistent, ex, {}

    return executors


# One entry per variant (src/core/variants/table.ts): (persistent tensors, per-call executors, one-off executors).
EXECUTORS = {
    "spatial": _no_one_off(spatial_executors),
    "spatial-equivalent": _no_one_off(spatial_equivalent_executors),
    "seed": _no_one_off(seed_executors),
    "fno": fno_only(_no_one_off(fno_executors)),
    "optimized": lambda L: optimized_fno_executors(L) if L.fno else optimized_executors(L),
}


def executors_for(L, variant):
    make = EXECUTORS.get(variant) if isinstance(variant, str) else None
    if make is None:
        raise RequestError("protocol", "unknown variant %r" % (variant,))
    return make(L)
