"""Fourier Conv Profiler: "make it fast" (`fconv optimize`) on a Keras layer, the TensorFlow half (imported by
fconv_tensorflow.py). The same steps as fconv_optimize.py for torch:

  1. the user's class loaded as profile-layer loads it, built with build(input_shape) from the NHWC shape; each
     candidate class executed in a copy of that namespace under the rewritten file's name, built alike;
  2. proof: the candidate gets the user's layer's weights (set_weights: the same number, names' order and shapes),
     then on random inputs of the asked shape and dtype its output and — for the training pass — the gradients of
     the input and of every trainable weight (loss sum(out * R), tape.gradient) are compared with the user's;
  3. measure: the call inside one tf.function (as model.fit runs it) and the training step as one tf.function,
     the original and the proven candidates interleaved round by round;
  4. tf.function(jit_compile=True) of the original (XLA) as one more candidate, its compile time apart.

Standard library and TensorFlow only (tf is passed in).
"""

import time

from fconv_layer import MemoryWatch, check_input_bytes, load_candidate, request_hooks, steady_allocator
from fconv_layer_load import USER_ERRORS, UserCodeError, load_namespace, parse_init
from fconv_layer_tf import is_keras_layer, loss_of, mapped, set_threads
from fconv_layer_trace import _stats
from fconv_optimize import TOLERANCE, failure_text, judge


def _rel(tf, got, want):
    if got is None and want is None:
        return 0.0
    if got is None or want is None or got.shape != want.shape:
        return float("inf")
    scale = float(tf.reduce_max(tf.abs(want))) or 1.0
    return float(tf.reduce_max(tf.abs(got - want))) / scale


def _first(out):
    return out[0] if isinstance(out, (list, tuple)) and out else out


def optimize_layer(tf, req, progress, check, send_error):
    file = req["file"]
    name = req["className"]
    traced, step, over = request_hooks(req, progress, check, send_error)

    notes = []
    set_threads(tf, req.get("threads"), notes)
    dtype = req.get("inputDtype") or "float32"
    step("load", 0, 1)
    mod, load_notes = load_namespace(file, req["chunks"], skipped=req.get("skipped"))
    notes += load_notes
    cls = mod.__dict__.get(name)
    if cls is None or not isinstance(cls, type) or not is_keras_layer(cls):
        raise UserCodeError("usage", "%s is not a Keras layer defined in %s" % (name, file))
    args, kwargs = parse_init(req.get("init"), mod.__dict__, set(req.get("constants") or []))
    device = req.get("device") or "cpu"
    gpu = device.startswith("cuda")
    tf_device = ("/GPU:%s" % (device.split(":")[1] if ":" in device else "0")) if gpu else "/CPU:0"
    shape = [int(d) for d in req["inputShape"]]

    def sync():
        if gpu:
            tf.test.experimental.sync_devices()

    gpu_used = (lambda: tf.config.experimental.get_memory_info(tf_device.lstrip("/"))["current"]) if gpu else None
    alloc_note = steady_allocator() if not gpu else None
    want_train = req.get("pass", "both") in ("train", "both")
    want_fwd = req.get("pass", "both") in ("forward", "both")
    tol = TOLERANCE.get(dtype, 1e-4)
    seed = int(req.get("seed", 1))
    real = {"complex64": tf.float32, "complex128": tf.float64}.get(dtype)

    def draw(gen):
        if real is not None:
            return tf.complex(gen.normal(shape, dtype=real), gen.normal(shape, dtype=real))
        return tf.cast(gen.normal(shape, dtype=tf.float32), getattr(tf, dtype))

    with tf.device(tf_device), MemoryWatch(req.get("memoryBudgetBytes"), over, gpu_used):
        tf.random.set_seed(seed)
        try:
            ref = cls(*args, **kwargs)
            if not getattr(ref, "built", False):
                ref.build(tuple(shape))
        except USER_ERRORS as e:  # noqa: BLE001
            raise mapped(e, traced, "in %s.__init__ / build" % name, dtype)
        check_input_bytes(shape, tf.as_dtype(dtype).size, req.get("memoryBudgetBytes"))
        x0 = draw(tf.random.Generator.from_seed(seed))
        try:
            ref(x0)
        except USER_ERRORS as e:  # noqa: BLE001
            raise mapped(e, traced, "in %s.call" % name, dtype)

        def prove(cand, draws=2):
            gen = tf.random.Generator.from_seed(seed + 17)
            worst = {"output": 0.0}
            names = [w.name for w in ref.trainable_weights]
            for _ in range(draws):
                x = draw(gen)
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(x)
                    want = _first(ref(x))
                    got = _first(cand(x))
                    cache = {}
                    lw, lg = loss_of(tf, want, cache), loss_of(tf, got, cache)
                worst["output"] = max(worst["output"], _rel(tf, got, want))
                if not want_train:
                    continue
                gw = tape.gradient(lw, [x] + list(ref.trainable_weights))
                gg = tape.gradient(lg, [x] + list(cand.trainable_weights))
                del tape
                for k, a, b in zip(["d/dinput"] + ["grad " + n for n in names], gg, gw):
                    worst[k] = max(worst.get(k, 0.0), _rel(tf, a, b))
            return worst

        cands = []
        for i, c in enumerate(req.get("candidates") or []):
            step("prove", i, len(req["candidates"]))
            entry = {"id": c["id"]}
            cands.append(entry)
            try:
                layer = load_candidate(mod, c, name)(*args, **kwargs)
                if not getattr(layer, "built", False):
                    layer.build(tuple(shape))
                if [tuple(w.shape) for w in layer.weights] != [tuple(w.shape) for w in ref.weights]:
                    raise ValueError("its weights differ from yours in number or shape")
                layer.set_weights(ref.get_weights())
                errs = prove(layer)
            except Exception as e:  # noqa: BLE001 - a candidate that fails is reported, never chosen
                if type(e).__name__ == "Cancelled":
                    raise
                entry["failed"] = failure_text(e)
                continue
            if judge(entry, errs, tol, dtype):
                entry["layer"] = layer

        # XLA: tf.function(jit_compile=True) of the original, one more candidate (its compile time apart).
        if req.get("compile", True):
            entry = {"id": "XLA (jit_compile)", "compile": True}
            step("compile", 0, 1)
            try:
                t0 = time.perf_counter()
                jit = tf.function(lambda t: ref(t), jit_compile=True)
                jit(x0)
                sync()
                entry["compileMs"] = (time.perf_counter() - t0) * 1000.0
                entry["jit"] = jit
                judge(entry, {"output": _rel(tf, _first(jit(x0)), _first(ref(x0)))}, tol, dtype)
            except Exception as e:  # noqa: BLE001 - XLA lacks kernels for some ops (complex FFTs on CPU, ...)
                if type(e).__name__ == "Cancelled":
                    raise
                entry["failed"] = failure_text(e)
            cands.append(entry)

        cache = {}

        def fwd_fn(layer, jit=False):
            return tf.function(lambda t: layer(t), jit_compile=jit or None)

        def train_fn(layer, jit=False):
            def s(t):
                with tf.GradientTape() as tape:
                    tape.watch(t)
                    y = loss_of(tf, layer(t), cache)
                return tape.gradient(y, [t] + list(layer.trainable_weights))
            return tf.function(s, jit_compile=jit or None)

        runners = [("original", ref, False)] + [(c["id"], c.get("layer", ref), bool(c.get("jit")))
                                                for c in cands if "layer" in c or ("jit" in c and "failed" not in c)]
        passes = ([("forward", fwd_fn)] if want_fwd else []) + ([("train", train_fn)] if want_train else [])
        reps = int(req.get("reps", 15))
        warmup = int(req.get("warmup", 3))
        samples = {}
        for p, make in passes:
            fns = []
            for r, layer, jit in runners:
                f = make(layer, jit)
                try:
                    for _ in range(warmup):
                        f(x0)
                    sync()
                except Exception as e:  # noqa: BLE001 - e.g. XLA has no gradient kernel: that candidate stops here
                    if type(e).__name__ == "Cancelled":
                        raise
                    for c in cands:
                        if c["id"] == r:
                            c["failed"] = "%s pass: %s" % (p, failure_text(e))
                    continue
                fns.append((r, f))
            for i in range(reps):
                step(p, i, reps)
                for r, f in fns:
                    sync()
                    t0 = time.perf_counter()
                    f(x0)
                    sync()
                    samples.setdefault(r, {}).setdefault(p, []).append((time.perf_counter() - t0) * 1000.0)
    timing = {r: {p: _stats(xs) for p, xs in d.items()} for r, d in samples.items()}
    for c in cands:
        c.pop("layer", None)
        c.pop("jit", None)
        if c["id"] in timing and "failed" not in c:
            c["timing"] = timing[c["id"]]
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {
        "className": name,
        "inputShape": shape,
        "inputDtype": dtype,
        "device": ("GPU " + device) if gpu else "CPU (%s)" % ("%d thread%s" % (threads, "" if threads == 1 else "s") if threads else "TF's default threads"),
        "backend": "cuda" if gpu else "cpu",
        "framework": "tensorflow",
        "version": tf.__version__,
        "threads": threads or 0,
        "original": timing.get("original", {}),
        "candidates": cands,
        "notes": notes,
        "proof": "each candidate given your layer's weights (set_weights: the same number and shapes), then 2 random "
        "inputs of shape %s (%s): the largest |difference| of the output%s, relative to yours' largest |value|, at most "
        "%.0e" % ("×".join(map(str, shape)), dtype, " and of the gradients of the input and every trainable weight "
                  "(loss sum(out * R), tape.gradient)" if want_train else "", tol),
        "timing": "time.perf_counter around each call (TF's CPU ops have run when it returns%s); the call and the "
        "training step each one tf.function, as model.fit runs them; the original and the candidates interleaved, %d "
        "warm-up and %d timed runs each per pass%s" % (
            "; a device sync on a GPU" if gpu else "", warmup, reps, "; " + alloc_note if alloc_note else ""),
    }
