"""Fourier Conv Profiler: "make it fast" (`fconv optimize`), the Python half (imported by fconv_torch.py).

The host reads the user's layer and writes candidate rewrites of its forward() (src/scan/optimize.ts). Here,
in the user's interpreter and a process of its own:

  1. the user's class is loaded as profile-layer loads it (imports and what the class reaches, never the top
     level) and instantiated; each candidate class is executed in a copy of that namespace, compiled under the
     rewritten file's name so its lines are its own;
  2. proof: each candidate is instantiated with the same arguments and given the user's state_dict (strict: the
     same names and shapes), then run against the user's class on random inputs of the user's shape — outputs
     equal within the dtype's tolerance and, for the training pass, the gradients of the input and of every
     parameter too. A candidate that fails is reported with its error and never chosen;
  3. measure: forward (no_grad) and the training step (forward, loss sum(out * R), autograd.grad of the input and
     every parameter), the original and every proven candidate interleaved round by round on the same input,
     same threads, so the machine's drift hits them alike; median and spread of each;
  4. torch.compile of the original (torch >= 2) as one more candidate: its compile time apart, then timed alike.

Standard library and torch only.
"""

import time

from fconv_layer import (check_input_bytes, compile_warnings, load_candidate, request_hooks, steady_allocator, synced_ms,
                         torch_memory_watch)
from fconv_layer_load import USER_ERRORS, UserCodeError, input_dtype, load_namespace, parse_init, user_error
from fconv_layer_trace import _stats, loss_of

# Largest |difference| allowed, relative to the largest |value| of the user's result, per dtype.
TOLERANCE = {"float64": 1e-10, "complex128": 1e-10, "float32": 1e-4, "complex64": 1e-4,
             "float16": 2e-2, "bfloat16": 5e-2}


def _rel_error(torch, got, want):
    if got is None and want is None:
        return 0.0
    if got is None or want is None or tuple(got.shape) != tuple(want.shape):
        return float("inf")
    scale = want.detach().abs().max().item() or 1.0
    return (got.detach() - want.detach()).abs().max().item() / scale


def failure_text(e):
    """An exception as one line for a candidate that failed: its type and the first line of its message."""
    return "%s: %s" % (type(e).__name__, (str(e).strip().splitlines() or [""])[0][:300])


def judge(entry, errs, tol, dtype):
    """Records a candidate's proof (its errors and the tolerance); True when every compared tensor is within it, else
    the tensor that differs most is named as the reason it is not used."""
    entry["errors"] = errs
    entry["tolerance"] = tol
    bad = {k: v for k, v in errs.items() if not v <= tol}
    if not bad:
        return True
    k, v = max(bad.items(), key=lambda kv: kv[1])
    entry["failed"] = "not equal: %s differs by %.2g of its largest value (tolerance %.0e for %s)" % (k, v, tol, dtype)
    return False


def _first_tensor(torch, out):
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise ValueError("forward() returned %s, not a tensor" % type(out).__name__)


def prove(torch, ref, cand, shape, dtype, device, seed, train, draws=2):
    """Max relative error of the candidate against the user's class: output, and (train) the gradients of the
    input and of each parameter by name. Raises nothing of its own: errors in the candidate come back as text."""
    gen = torch.Generator().manual_seed(seed + 17)
    worst = {"output": 0.0}
    for _ in range(draws):
        x = torch.randn(*shape, generator=gen, dtype=dtype).to(device)
        if train and (x.is_floating_point() or x.is_complex()):
            x.requires_grad_(True)
        with torch.enable_grad() if train else torch.no_grad():
            want = _first_tensor(torch, ref(x))
            got = _first_tensor(torch, cand(x))
            worst["output"] = max(worst["output"], _rel_error(torch, got, want))
            if not train:
                continue
            cache = {}
            names = [n for n, p in ref.named_parameters() if p.requires_grad]
            rp = dict(ref.named_parameters())
            cp = dict(getattr(cand, "_orig_mod", cand).named_parameters())
            ins_r = ([x] if x.requires_grad else []) + [rp[n] for n in names]
            ins_c = ([x] if x.requires_grad else []) + [cp[n] for n in names]
            gr = torch.autograd.grad(loss_of(torch, want, cache), ins_r, allow_unused=True)
            gc = torch.autograd.grad(loss_of(torch, got, cache), ins_c, allow_unused=True)
            labels = (["input"] if x.requires_grad else []) + ["grad " + n for n in names]
            for k, a, b in zip(labels, gc, gr):
                key = "d/d" + k if k == "input" else k
                worst[key] = max(worst.get(key, 0.0), _rel_error(torch, a, b))
    return worst


def optimize_layer(torch, req, progress, check, send_error):
    file = req["file"]
    traced, step, over = request_hooks(req, progress, check, send_error)

    step("load", 0, 1)
    mod, notes = load_namespace(file, req["chunks"], skipped=req.get("skipped"))
    cls = mod.__dict__.get(req["className"])
    if cls is None or not isinstance(cls, type) or not issubclass(cls, torch.nn.Module):
        raise UserCodeError("usage", "%s is not a torch.nn.Module defined in %s" % (req["className"], file))
    args, kwargs = parse_init(req.get("init"), mod.__dict__, set(req.get("constants") or []))
    device = torch.device(req.get("device") or "cpu")
    cuda = device.type == "cuda"

    watch = torch_memory_watch(torch, req, over, device)
    try:
        return _optimize(torch, req, mod, cls, args, kwargs, device, cuda, traced, step, notes)
    finally:
        watch.__exit__()


def _optimize(torch, req, mod, cls, args, kwargs, device, cuda, traced, step, notes):
    name = req["className"]
    threads = req.get("threads")
    if threads:
        torch.set_num_threads(int(threads))
    seed = int(req.get("seed", 1))
    torch.manual_seed(seed)
    try:
        ref = cls(*args, **kwargs).to(device).eval()
    except USER_ERRORS as e:  # noqa: BLE001
        raise user_error(e, traced, "in %s.__init__" % name)
    alloc_note = steady_allocator() if not cuda else None
    dtype = getattr(torch, req["inputDtype"]) if req.get("inputDtype") else input_dtype(ref, torch)
    dname = str(dtype).replace("torch.", "")
    shape = [int(d) for d in req["inputShape"]]
    check_input_bytes(shape, torch.empty((), dtype=dtype).element_size(), req.get("memoryBudgetBytes"))
    want_train = req.get("pass", "both") in ("train", "both")
    want_fwd = req.get("pass", "both") in ("forward", "both")
    tol = TOLERANCE.get(dname, 1e-4)
    try:
        x0 = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)
        with torch.no_grad():
            ref(x0)
    except USER_ERRORS as e:  # noqa: BLE001
        raise user_error(e, traced, "in %s.forward" % name)

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    # Each candidate: its class in a copy of the user's namespace, compiled under the rewritten file's name.
    cands = []
    for i, c in enumerate(req.get("candidates") or []):
        step("prove", i, len(req["candidates"]))
        entry = {"id": c["id"]}
        cands.append(entry)
        try:
            layer = load_candidate(mod, c, name)(*args, **kwargs).to(device)
            layer.load_state_dict(ref.state_dict(), strict=True)
            layer.eval()
            errs = prove(torch, ref, layer, shape, dtype, device, seed, want_train)
        except Exception as e:  # noqa: BLE001 - a candidate that fails is reported, never chosen
            if type(e).__name__ == "Cancelled":
                raise
            entry["failed"] = failure_text(e)
            continue
        if judge(entry, errs, tol, dname):
            entry["layer"] = layer

    # torch.compile of the original, on torch >= 2: one more candidate, its compile time apart.
    if req.get("compile", True):
        entry = {"id": "torch.compile", "compile": True}
        if not hasattr(torch, "compile"):
            entry["failed"] = "torch %s has no torch.compile (torch >= 2.0)" % torch.__version__
        else:
            step("compile", 0, 1)
            try:
                said = []
                with compile_warnings(said):
                    layer = cls(*args, **kwargs).to(device)
                    layer.load_state_dict(ref.state_dict())
                    comp = torch.compile(layer)
                    t0 = time.perf_counter()
                    xg = x0.detach().clone().requires_grad_(want_train and (x0.is_floating_point() or x0.is_complex()))
                    with torch.enable_grad() if want_train else torch.no_grad():
                        y = _first_tensor(torch, comp(xg))
                        if want_train:
                            torch.autograd.grad(loss_of(torch, y, {}), [xg] + [p for p in layer.parameters()], allow_unused=True)
                    sync()
                    entry["compileMs"] = (time.perf_counter() - t0) * 1000.0
                    if judge(entry, prove(torch, ref, comp, shape, dtype, device, seed, want_train, draws=1), tol, dname):
                        entry["layer"] = comp
            except Exception as e:  # noqa: BLE001 - compile failures with complex tensors are known (pytorch #105290)
                if type(e).__name__ == "Cancelled":
                    raise
                entry["failed"] = failure_text(e)
        cands.append(entry)

    # Interleaved timing: the original and every proven candidate, round by round.
    runners = [("original", ref)] + [(c["id"], c["layer"]) for c in cands if "layer" in c]
    reps = int(req.get("reps", 15))
    warmup = int(req.get("warmup", 3))
    xf = x0.detach()
    xt = x0.detach().clone()
    if xt.is_floating_point() or xt.is_complex():
        xt.requires_grad_(True)
    cache = {}

    def fwd(layer):
        with torch.no_grad():
            layer(xf)

    def train_step(layer):
        with torch.enable_grad():
            y = _first_tensor(torch, layer(xt))
            ins = ([xt] if xt.requires_grad else []) + [p for p in layer.parameters() if p.requires_grad]
            torch.autograd.grad(loss_of(torch, y, cache), ins, allow_unused=True)

    def time_one(fn):
        return synced_ms(fn, sync)

    passes = ([("forward", fwd)] if want_fwd else []) + ([("train", train_step)] if want_train else [])
    samples = {(r, p): [] for r, _ in runners for p, _ in passes}
    for p, fn in passes:
        for r, layer in runners:
            layer.train() if p == "train" else layer.eval()
            for _ in range(warmup):
                fn(layer)
        for i in range(reps):
            step(p, i, reps)
            for r, layer in runners:
                samples[(r, p)].append(time_one(lambda: fn(layer)))
    for r, layer in runners:
        layer.eval()
    timing = {}
    for (r, p), xs in samples.items():
        timing.setdefault(r, {})[p] = _stats(xs)
    for c in cands:
        c.pop("layer", None)
        if c["id"] in timing:
            c["timing"] = timing[c["id"]]
    if cuda:
        dev = "GPU %s (CUDA %s)" % (torch.cuda.get_device_name(device), torch.version.cuda)
    else:
        dev = "CPU (%d thread%s)" % (torch.get_num_threads(), "" if torch.get_num_threads() == 1 else "s")
    return {
        "className": name,
        "inputShape": shape,
        "inputDtype": dname,
        "device": dev,
        "backend": "cuda" if cuda else "cpu",
        "framework": "torch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "original": timing["original"],
        "candidates": cands,
        "notes": notes,
        "proof": "each candidate given the original's state_dict (strict), then %d random inputs of shape %s (%s): the "
        "largest |difference| of the output%s, relative to the original's largest |value|, at most %.0e" % (
            2, "×".join(map(str, shape)), dname,
            " and of the gradients of the input and every parameter (loss sum(out * R))" if want_train else "", tol),
        "timing": "time.perf_counter around each call after a %s; the original and the candidates interleaved, %d "
        "warm-up and %d timed runs each per pass; training step = forward, loss sum(out * R), torch.autograd.grad "
        "of the input and every parameter%s" % ("torch.cuda.synchronize()" if cuda else "clock read (CPU ops are "
                                                 "synchronous)", warmup, reps, "; " + alloc_note if alloc_note else ""),
    }

