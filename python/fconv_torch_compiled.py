"""Fourier Conv Profiler: torch.compile of a variant as written (`fconv profile --compile`, torch >= 2) - one more
row beside the eager figures: the variant's per-call steps as one function, compiled, its first call (which compiles)
timed apart, its output (and with the training step its gradients) checked against the same function run eagerly,
then both timed in the same rounds, interleaved. Standard library and torch only; loaded by fconv_torch.py.

The function is what the variant's executors run (fconv_torch_executors.py), on the layer's input and weights as
leaves that require grad (fconv_torch_train.TrainView): the training step is forward + the gradient of the same
loss as the profile's training step, with respect to the input and the weights.
"""

import importlib
import time

from fconv_protocol import Cancelled, need, run_chain
from fconv_torch_train import TrainView, _grad, upstream_of

try:
    import torch
except Exception:  # noqa: BLE001 - fconv_torch.py reports the import failure
    torch = None


def compiled_variant(fw, L, req, progress, cancelled):
    from fconv_layer import compile_warnings  # here: fconv_layer loads the user's-layer machinery

    said = []
    with compile_warnings(said):
        out = _compiled_variant(fw, L, req, progress, cancelled)
    if said:
        out["warnings"] = said
    return out


def _compiled_variant(fw, L, req, progress, cancelled):
    from fconv_layer import eager_vs_compiled
    from fconv_optimize import TOLERANCE, _rel_error, failure_text

    if not hasattr(torch, "compile"):
        return {"failed": "torch %s has no torch.compile (it came with torch 2.0)" % torch.__version__}
    variant = req["variant"]
    want_train = bool(req.get("train"))
    warmup, reps = int(req.get("warmup", 3)), int(req.get("reps", 10))
    need(1 <= reps <= 1000 and 0 <= warmup <= 100, "reps must be 1-1000 and warmup 0-100")
    view = TrainView(L, variant)
    persistent, one_off, steps, _ = fw.bind(view, variant, req["plan"])
    need(not one_off, "the %s variant caches one-off steps: the compiled row is of a layer as written" % variant)
    keys = [k for k, v in persistent.items() if isinstance(v, torch.Tensor)]
    rest = {k: v for k, v in persistent.items() if k not in keys}
    values = [persistent[k] for k in keys]
    chain = [(sid, fn) for sid, _, fn in steps]
    params = list(view.params.values())

    def call(*vs):
        env = dict(rest)
        env.update(zip(keys, vs))
        return run_chain(env, chain)

    def forward(f):
        with torch.no_grad():
            return f(*values)

    def train_step(f):
        with torch.enable_grad():
            out = f(*values)
            return _grad((out * upstream_of(L, out)).sum(), params, None)

    def step(_what, i, n):
        progress({"phase": "compile", "stepIndex": 0, "stepCount": 1, "rep": i, "reps": n})
        if cancelled():
            raise Cancelled()

    def first_call(fn):
        L.sync()
        t0 = time.perf_counter()
        got = fn()
        L.sync()
        return got, (time.perf_counter() - t0) * 1000.0

    step("compile", 0, 1)
    out = {}
    try:
        # A cached worker compiles again for every run: dynamo's cache keeps a function's earlier compiles (and
        # falls back to eager past its limit), so the compile time would be one run's and the code another's.
        # Imported by name: on some 2.x torch._dynamo is no attribute of torch until imported (and a plain `import
        # torch._dynamo` here would make `torch` a local name of this function).
        importlib.import_module("torch._dynamo").reset()
        comp = torch.compile(call)
        got, out["compileMs"] = first_call(lambda: forward(comp))
        errs = [_rel_error(torch, got, forward(call))]
        if want_train:
            want = train_step(call)
            got, out["compileTrainMs"] = first_call(lambda: train_step(comp))  # the backward compiles too
            errs += [_rel_error(torch, b, a) for a, b in zip(want, got)]
    except Cancelled:
        raise
    except Exception as e:  # noqa: BLE001 - the profile stands; the row says why compile did not run
        if fw.is_oom(e):
            raise
        return {"failed": "torch.compile failed: " + failure_text(e)}
    err = max(errs)
    tol = TOLERANCE["float32"]
    if not err <= tol:
        out.update({"maxRelError": err if err != float("inf") else 1e300,
                    "failed": "the compiled function differs from the eager one by %.2g relative (tolerance %.0e): not timed" % (err, tol)})
        return out
    out["maxRelError"] = err
    passes = [("forward", forward)] + ([("train", train_step)] if want_train else [])
    out.update(eager_vs_compiled(passes, call, comp, L.sync, warmup, reps, step))
    return out
