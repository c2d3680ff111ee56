"""Fourier Conv Profiler: "Profile this layer" on the user's own Keras layer (a keras.layers.Layer subclass: Keras 3
or tf.keras, on TensorFlow), imported by fconv_tensorflow.py.

Loaded as the PyTorch path loads a class (python/fconv_layer_load.py: only the imports and what the class reaches,
each compiled under the file's name at its own line; never the file's top level), built with build(input_shape)
from the asked NHWC shape, fed random input of the asked dtype (complex64 for a layer fed spectra, as the
question's is). Then, as model.fit runs a layer:

  1. plain: the layer's call inside one tf.function (traced in the warm-up; --tf-mode eager: op by op), timed with
     perf_counter and a device sync (TF's CPU ops have run when the call returns) - the reported totalMs;
  2. lines: the eager call under a sys.settrace line tracer on the user's frames (a sync before each reading on a
     GPU), each line's own time; scaled so the lines and the ops no line of the user's made add up to the plain
     median (Keras's Python call machinery, which tf.function removes, is left out);
  3. ops: the eager call under a TF op callback: each op's type (TF's op names: RFFT2D, Einsum, Transpose, ...), its
     input shapes and the time since the op before, by the user's line it came from;
  4. training step (--pass train|both): forward, the loss sum(out * R) and tape.gradient of the input and every
     trainable weight, as one tf.function; the backward alone; the backward per line - every registered gradient
     function timed while the tape runs, charged to the line whose forward op it differentiates.

Standard library and TensorFlow only (tf is passed in).
"""

import os
import re
import time

from fconv_layer import (MemoryWatch, allocator_effect, allocator_fields, check_input_bytes, line_costs, request_hooks,
                         synced_ms, timed_runs, warm_up)
from fconv_layer_load import USER_ERRORS, UserCodeError, _user_frames, load_namespace, parse_init, skipped_hint, user_error
from fconv_layer_trace import TRACER_REMOVED, LineTracer, _median, _stats, sync_cost, user_line

DTYPES = ("float32", "float64", "float16", "bfloat16", "complex64", "complex128")


def set_threads(tf, threads, notes):
    """Intra-op threads as asked (inter-op 1), before TF runs its first op; says so when it is too late."""
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            now = tf.config.threading.get_intra_op_parallelism_threads()
            if now != int(threads):
                notes.append("TensorFlow's thread pools were set before this run (%s intra-op threads): they cannot "
                             "change once TF has run an op" % (now or "all"))
    return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1


def is_keras_layer(cls):
    """A subclass of Keras's Layer: Keras 3 (keras.Layer), tf.keras (Keras 2 or 3) or tf_keras."""
    for b in getattr(cls, "__mro__", ()):
        top = (getattr(b, "__module__", "") or "").split(".")[0]
        if b.__name__ == "Layer" and top in ("keras", "tf_keras", "tensorflow"):
            return True
    return False


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def message_of(e):
    """The line that says what went wrong: Keras 3 wraps a call's error in "Exception encountered when calling …",
    TF adds "{{function_node …}}" and "[Op:…]" around it."""
    lines = [ln.strip() for ln in _ANSI.sub("", str(e)).splitlines()]
    for ln in lines:
        if not ln or ln.startswith(("Exception encountered when calling", "Arguments received by", "•")):
            continue
        ln = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", ln)
        return ln[:400]
    return (lines[0] if lines else type(e).__name__)[:400]


def hint(e, dtype):
    """The fix for what is known to go wrong: tf.spectral (removed in TF 2.0), an input dtype the layer does not
    take."""
    text = str(e)
    if isinstance(e, AttributeError) and "attribute 'spectral'" in text:
        return ("tf.spectral was removed in TensorFlow 2.0: use tf.signal (tf.signal.rfft2d for tf.spectral.rfft2d; "
                "the editor's quick fix does it, docs/rules.md#tf-spectral-removed)")
    wanted = re.findall(r"\b(complex64|complex128|float16|float32|float64|bfloat16|half|float|double)\b", text)
    if wanted and ("dtype" in text.lower() or "expected to be" in text or "must be" in text or "incompatible" in text):
        norm = {"float": "float32", "double": "float64", "half": "float16"}
        complex_asked = dtype.startswith("complex")
        for w in wanted:
            w = norm.get(w, w)
            if w.startswith("complex") != complex_asked:
                return "the layer wants another input dtype: try --input-dtype %s (the input was %s)" % (w, dtype)
    return None


def mapped(e, traced, what, dtype):
    """The user's error at their file:line, its message freed of Keras's wrapping, with a known fix named."""
    u = user_error(e, traced, what)
    msg = "%s: %s (%s)" % (type(e).__name__, message_of(e), what)
    h = hint(e, dtype) or skipped_hint(e)
    return UserCodeError(u.kind, msg + ("; " + h if h else ""), u.file, u.line, u.trace)


def _name(op_type):
    return op_type.decode() if isinstance(op_type, bytes) else str(op_type)


def _line_of(traced, depth=2):
    return user_line(traced, depth)


def _shapes(tensors):
    out = []
    for t in list(tensors or [])[:4]:
        try:
            s = "x".join(str(d) for d in t.shape.as_list()) or "scalar"
            if t.dtype.is_complex:
                s += " complex"
            out.append(s)
        except Exception:  # noqa: BLE001 - a resource handle or a non-tensor: no shape to show
            continue
    return out


# Variable reads and bookkeeping, not work: left out of the op lists (their time stays in the line's).
_TRIVIAL = {"ReadVariableOp", "VarHandleOp", "AssignVariableOp", "Identity", "NoOp", "Shape", "VarIsInitializedOp"}


def op_pass(tf, fn, traced, sync, reps, gpu):
    """Per line: the TF ops its eager run executed (an op callback after each), each charged the time since the op
    before (a sync before each reading on a GPU). Returns ({line: [ops]}, ms of the ops no user line made)."""
    from tensorflow.python.framework import op_callbacks

    state = {"last": 0.0, "rep": 0, "busy": False}
    samples = {}

    def callback(op_type, inputs, attrs, outputs, op_name=None, graph=None):
        if graph is not None or state["busy"]:
            return None
        state["busy"] = True
        try:
            if gpu:
                sync()
            t = time.perf_counter()
            ms = (t - state["last"]) * 1000.0
            state["last"] = t
            key = (_line_of(traced), _name(op_type), tuple(_shapes(inputs)))
            per_rep = samples.setdefault(key, {})
            ms0, n0 = per_rep.get(state["rep"], (0.0, 0))
            per_rep[state["rep"]] = (ms0 + ms, n0 + 1)
        finally:
            state["busy"] = False
        return None

    op_callbacks.add_op_callback(callback)
    try:
        for rep in range(reps):
            state["rep"] = rep
            sync()
            state["last"] = time.perf_counter()
            fn()
    finally:
        op_callbacks.remove_op_callback(callback)
    per, outside = {}, 0.0
    for (line, name, shapes), by_rep in samples.items():
        ms = _median([v[0] for v in by_rep.values()] + [0.0] * (reps - len(by_rep)))
        if line is None:
            outside += ms
            continue
        if name in _TRIVIAL:
            continue
        calls = sum(v[1] for v in by_rep.values()) / max(1, len(by_rep))
        per.setdefault(line, []).append({"name": name, "shapes": list(shapes), "ms": ms, "calls": int(round(calls))})
    for line in per:
        per[line].sort(key=lambda o: -o["ms"])
    return per, outside


def loss_of(tf, out, cache):
    """sum(out * R), R[i] = sin(0.7 i + 0.3) over the first output tensor's elements (a complex output as (re, im)
    pairs) - the loss every engine's training step uses (src/core/reference.ts lossWeights)."""
    ts = [t for t in (out if isinstance(out, (list, tuple)) else [out]) if hasattr(t, "dtype") and (t.dtype.is_floating or t.dtype.is_complex)]
    if not ts:
        raise ValueError("call() returned no floating-point tensor to differentiate")
    y = ts[0]
    if y.dtype.is_complex:
        y = tf.stack([tf.math.real(y), tf.math.imag(y)], axis=-1)
    key = (tuple(y.shape.as_list()), y.dtype.name)
    if key not in cache:
        n = 1
        for d in key[0]:
            n *= int(d)
        with tf.init_scope():  # made eagerly once, a constant of every traced step after
            cache[key] = tf.cast(tf.reshape(tf.sin(tf.range(n, dtype=tf.float64) * 0.7 + 0.3), key[0]), y.dtype)
    return tf.reduce_sum(y * cache[key])


def backward_lines(tf, layer, x, sources, loss, traced, sync, reps):
    """Per line: the time of the gradient functions of the forward ops it made. The eager forward runs under an op
    callback that records each op's type and line (the loss's ops too, on no line); while the tape computes the
    gradients every registered gradient function is wrapped: it takes the latest not yet differentiated forward op
    of its type (the tape runs them in reverse) and its time (synced) goes to that op's line.
    Returns ({line: [ms per rep]}, [sum of the gradient functions' ms per rep])."""
    from tensorflow.python.framework import op_callbacks, ops

    registry = ops._gradient_registry._registry  # noqa: SLF001 - TF's own table of gradient functions
    pending, acc = {}, {}

    def wrap(kind, fn):
        def timed_gradient(op, *grads):
            stack = pending.get(kind)
            line = stack.pop() if stack else None
            sync()
            t0 = time.perf_counter()
            r = fn(op, *grads)
            sync()
            acc[line] = acc.get(line, 0.0) + (time.perf_counter() - t0) * 1000.0
            return r

        return timed_gradient

    saved = {k: e["type"] for k, e in registry.items() if isinstance(e, dict) and callable(e.get("type"))}
    per, totals = {}, []
    for rep in range(reps):
        pending.clear()
        acc.clear()

        in_loss = [False]

        def record(op_type, inputs, attrs, outputs, op_name=None, graph=None):
            if graph is None:
                pending.setdefault(_name(op_type), []).append(None if in_loss[0] else _line_of(traced))
            return None

        with tf.GradientTape() as tape:
            tape.watch(x)
            op_callbacks.add_op_callback(record)
            try:
                out = layer(x)
                in_loss[0] = True  # the loss's own ops: on no line of the user's
                y = loss(out)
            finally:
                op_callbacks.remove_op_callback(record)
        for k, fn in saved.items():
            registry[k]["type"] = wrap(k, fn)
        try:
            tape.gradient(y, sources)
        finally:
            for k, fn in saved.items():
                registry[k]["type"] = fn
        for k, v in acc.items():
            per.setdefault(k, [0.0] * rep).append(v)
        for k in per:
            if len(per[k]) < rep + 1:
                per[k].append(0.0)
        totals.append(sum(acc.values()))
    return per, totals


def question_layout(layer, shape):
    """The question's layer: one real (in, H, W, out) weight on an (B, H, W, in) input, its spectrum multiplied in
    per frequency. [in, H, W, out] or None."""
    if len(shape) != 4:
        return None
    _, h, w, c = shape
    for v in getattr(layer, "trainable_weights", []) or []:
        s = [int(d) for d in v.shape]
        if len(s) == 4 and s[:3] == [c, h, w] and "complex" not in str(v.dtype):
            return s
    return None


def conv_baseline(tf, shape, cout, want_train, eager_only, sync, timed, warmup, reps, step):
    """The Conv2D the question compares with, as Keras writes it: Conv2D(cout, 3, padding='same') on real (B, H, W, in)
    data, its call and training step (with and without the input's gradient) timed as the layer's are, in the same
    process, threads and mode."""
    conv = tf.keras.layers.Conv2D(cout, 3, padding="same")
    conv.build(tuple(shape))
    xr = tf.random.Generator.from_seed(2).normal(shape, dtype=tf.float32)
    call = (lambda t: conv(t)) if eager_only else tf.function(lambda t: conv(t))
    warm_up(lambda: call(xr), sync, warmup, lambda i: step("baseline", i, warmup))
    out = {"label": "Keras Conv2D(%d, 3, padding='same') on real data, this process" % cout,
           "totalMs": _stats([timed(lambda: call(xr)) for _ in range(reps)])}
    if want_train:
        cache = {}
        weights = list(conv.trainable_variables)

        def grads(with_input):
            def fn(t):
                with tf.GradientTape() as tape:
                    tape.watch(t)
                    y = loss_of(tf, conv(t), cache)
                return tape.gradient(y, ([t] if with_input else []) + weights)

            return fn if eager_only else tf.function(fn)

        for key, with_input in (("trainMs", True), ("weightsOnlyMs", False)):
            fn = grads(with_input)
            warm_up(lambda: fn(xr), sync, warmup, lambda i: step("baseline", i, warmup))
            out[key] = _stats([timed(lambda: fn(xr)) for _ in range(reps)])
    return out


def profile_layer(tf, req, progress, check, send_error):
    """The whole request: load, build, measure. Returns the result object (the same fields as PyTorch's)."""
    file = req["file"]
    cls_name = req["className"]
    traced, step, over = request_hooks(req, progress, check, send_error)

    notes = []
    threads = set_threads(tf, req.get("threads"), notes)
    dtype = req.get("inputDtype") or "float32"
    step("load", 0, 1)
    mod, load_notes = load_namespace(file, req["chunks"], skipped=req.get("skipped"))
    notes += load_notes
    cls = mod.__dict__.get(cls_name)
    if cls is None or not isinstance(cls, type):
        raise UserCodeError("usage", "class %s is not defined after loading %s" % (cls_name, file))
    if not is_keras_layer(cls):
        raise UserCodeError("usage", "%s is not a Keras layer (keras.layers.Layer or tf.keras.layers.Layer)" % cls_name)
    args, kwargs = parse_init(req.get("init"), mod.__dict__, set(req.get("constants") or []))
    device = req.get("device") or "cpu"
    gpu = device.startswith("cuda")
    tf_device = ("/GPU:%s" % (device.split(":")[1] if ":" in device else "0")) if gpu else "/CPU:0"
    eager_only = req.get("tfMode") == "eager"
    shape = [int(d) for d in req["inputShape"]]

    def sync():
        if gpu:
            tf.test.experimental.sync_devices()

    gpu_used = (lambda: tf.config.experimental.get_memory_info(tf_device.lstrip("/"))["current"]) if gpu else None
    warmup = int(req.get("warmup", 3))
    reps = int(req.get("reps", 20))
    trace_reps = int(req.get("traceReps", 7))
    with tf.device(tf_device), MemoryWatch(req.get("memoryBudgetBytes"), over, gpu_used) as watch:
        try:
            layer = cls(*args, **kwargs)
        except TypeError as e:
            raise UserCodeError("usage" if not _user_frames(e.__traceback__, traced) else "user-code",
                                "%s(%s): %s" % (cls_name, req.get("init") or "", message_of(e)),
                                file, int(req.get("classLine") or 0) or None)
        except USER_ERRORS as e:  # noqa: BLE001
            raise mapped(e, traced, "in %s.__init__" % cls_name, dtype)
        try:
            if not getattr(layer, "built", False):
                layer.build(tuple(shape))
        except USER_ERRORS as e:  # noqa: BLE001
            raise mapped(e, traced, "in %s.build(input_shape=%s): build gets the --input-shape (NHWC); anything else "
                         "it needs goes to the constructor (--init)" % (cls_name, tuple(shape)), dtype)
        check_input_bytes(shape, tf.as_dtype(dtype).size, req.get("memoryBudgetBytes"))
        gen = tf.random.Generator.from_seed(int(req.get("seed", 1)))
        real = {"complex64": tf.float32, "complex128": tf.float64}.get(dtype)
        if real is not None:
            x = tf.complex(gen.normal(shape, dtype=real), gen.normal(shape, dtype=real))
        else:
            x = tf.cast(gen.normal(shape, dtype=tf.float32), getattr(tf, dtype))

        def eager():
            return layer(x)

        try:
            out = eager()
            sync()
        except USER_ERRORS as e:  # noqa: BLE001
            raise mapped(e, traced, "in %s.call" % cls_name, dtype)
        first = out[0] if isinstance(out, (list, tuple)) and out else out
        out_shape = [int(d) for d in first.shape] if hasattr(first, "shape") and first.shape.rank is not None else None
        out_dtype = first.dtype.name if hasattr(first, "dtype") else type(out).__name__

        call = eager if eager_only else tf.function(lambda t: layer(t))
        try:
            call(x)  # traced here (tf.function), as model.fit's first step does
            sync()
        except USER_ERRORS as e:  # noqa: BLE001
            raise mapped(e, traced, "in %s.call inside tf.function (it ran eagerly)" % cls_name, dtype)

        def forward():
            return call(x)

        def timed(fn):
            return synced_ms(fn, sync)

        done_warm = 1 + warm_up(forward, sync, warmup, lambda i: step("warm-up", i, warmup))
        alloc_note, alloc_default = allocator_effect(
            forward, timed, gpu, reps, lambda: warm_up(forward, sync, warmup), lambda i, n: step("warm-up", i, n))
        plain, kept_faults = timed_runs(forward, timed, reps, step)
        total = _stats(plain)
        eager_ms = total if eager_only else _stats([timed(eager) for _ in range(max(3, reps // 2))])

        # Lines: each line's own time in the eager call.
        sync_s = sync_cost(sync) if gpu else 0.0
        tracer = LineTracer(traced, sync, sync_s)
        per_line = {}
        for i in range(trace_reps):
            step("lines", i, trace_reps)
            acc, _ = tracer.run(eager)
            for k, v in acc.items():
                per_line.setdefault(k, []).append(v)
        for k in per_line:
            per_line[k] += [0.0] * (trace_reps - len(per_line[k]))
        line_ms = {k: _median(v) for k, v in per_line.items()}
        if tracer.removed:
            notes.append(TRACER_REMOVED)

        step("ops", 0, 1)
        ops, outside_ops = op_pass(tf, eager, traced, sync, 3, gpu)
        lines_sum = sum(v for k, v in line_ms.items() if k is not None)
        # Eager: the time outside the user's lines as measured; tf.function: only the ops no line made (Keras's
        # Python call machinery does not run inside a traced function).
        rest = line_ms.get(None, 0.0) if eager_only else min(outside_ops, line_ms.get(None, 0.0))
        basis = (lines_sum + rest) or 1.0
        scale = total["median"] / basis

        train = None
        if req.get("pass", "both") in ("train", "both"):
            try:
                train = train_pass(tf, layer, x, call, eager_only, traced, sync, timed, warmup, reps, trace_reps, step)
            except UserCodeError:
                raise
            except Exception as e:  # noqa: BLE001 - the forward profile stands; the training step says why not
                if type(e).__name__ == "Cancelled":
                    raise
                notes.append("training step not measured: %s: %s" % (type(e).__name__, message_of(e)[:300]))
        layout = question_layout(layer, shape)
        baseline = None
        if layout and req.get("compare", True):
            step("baseline", 0, 1)
            baseline = conv_baseline(tf, shape, layout[3], train is not None, eager_only, sync, timed, warmup, reps, step)
        peak = watch.peak

    line_ms_user = {k: v for k, v in line_ms.items() if k is not None}
    lines = line_costs(line_ms_user, scale, basis, tracer.hits, trace_reps, ops, {}, train)
    n_params = int(sum(int(tf.size(v)) for v in layer.weights))
    if gpu:
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[int(tf_device.split(":")[1])])
        dev_name = "GPU %s (TensorFlow %s)" % (details.get("device_name", tf_device), tf.__version__)
    else:
        dev_name = "CPU (%d intra-op thread%s)" % (threads, "" if threads == 1 else "s")
    how = "eager (--tf-mode eager: op by op)" if eager_only else "one tf.function (traced in the warm-up, as model.fit runs the layer)"
    return {
        "framework": "tensorflow",
        "file": file,
        "className": cls_name,
        "init": req.get("init") or "",
        "inputShape": shape,
        "inputDtype": dtype,
        "outputShape": out_shape,
        "outputDtype": out_dtype,
        "parameters": n_params,
        **({"baseline": baseline} if baseline else {}),
        "spectral": {"kind": "seed", "name": "(the layer itself)", "className": cls_name, "weights": [layout],
                     "inputShape": shape, "totalMs": total} if layout else None,
        "device": dev_name,
        "backend": "cuda" if gpu else "cpu",
        "version": tf.__version__,
        "threads": threads,
        "totalMs": total,
        "samples": plain,
        "warmup": done_warm,
        "tracedTotalMs": _median([sum(v[i] for v in per_line.values()) for i in range(trace_reps)]),
        "traceReps": trace_reps,
        "scale": scale,
        "notOnLineMs": rest * scale,
        "notOnLineShare": rest / basis,
        "lines": lines,
        "notes": notes + ([] if eager_only else [
            "the same call eagerly (op by op, as outside tf.function): %.3g ms median" % eager_ms["median"]]),
        "peakMemoryBytes": int(peak),
        **allocator_fields(alloc_default, kept_faults),
        **({"train": train["result"]} if train is not None else {}),
        "timing": "time.perf_counter around the layer's call, %s, %s; %d warm-up, %d timed runs%s" % (
            how, "tf.test.experimental.sync_devices() after it" if gpu else "TF's CPU ops have run when it returns",
            done_warm, reps, "; " + alloc_note if alloc_note else ""),
        "attribution": "sys.settrace line tracer on the eager call (%s), %d traced runs, median per line; ops per line "
        "from a TF op callback. The lines and the ops no line of yours made (%.3g ms eager) are scaled by %.3f to add up "
        "to the plain median%s" % (
            ("tf.test.experimental.sync_devices() before every line event, its empty cost (%.1f µs) subtracted from each"
             % (sync_s * 1e6)) if gpu else "a clock read per line event",
            trace_reps, rest, scale,
            "" if eager_only else " of the tf.function: Keras's Python call machinery, which tf.function removes, is left out"),
    }


def train_pass(tf, layer, x, call, eager_only, traced, sync, timed, warmup, reps, trace_reps, step):
    """The training step as model.fit runs it (forward, loss, gradients of the input and the trainable weights, in
    one tf.function), its backward alone (tape.gradient after an untimed forward), and the backward per line."""
    cache = {}
    sources = ([x] if x.dtype.is_floating or x.dtype.is_complex else []) + list(layer.trainable_variables)
    if not sources:
        raise ValueError("nothing to differentiate: the input is not floating point and no weight is trainable")

    def loss(out):
        return loss_of(tf, out, cache)

    def step_fn(xv):
        with tf.GradientTape() as tape:
            tape.watch(xv)
            y = loss(layer(xv))
        return tape.gradient(y, [xv] + sources[1:] if sources[0] is x else sources)

    train_step = step_fn if eager_only else tf.function(step_fn)
    warm = warm_up(lambda: train_step(x), sync, warmup, lambda i: step("train", i, warmup + reps))
    total = []
    for i in range(reps):
        step("train", warmup + i, warmup + reps)
        total.append(timed(lambda: train_step(x)))
    weights_only = None
    weights = list(layer.trainable_variables)
    if weights and sources[0] is x:
        # As a first layer (fed the data), model.fit differentiates the weights only: no input gradient.
        def weights_fn(xv):
            with tf.GradientTape() as tape:
                y = loss(layer(xv))
            return tape.gradient(y, weights)

        weights_step = weights_fn if eager_only else tf.function(weights_fn)
        warm_up(lambda: weights_step(x), sync, warmup)
        weights_only = _stats([timed(lambda: weights_step(x)) for _ in range(reps)])
    if eager_only:
        bwd = []
        for i in range(reps):
            step("backward", i, reps)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = loss(layer(x))
            sync()
            bwd.append(timed(lambda: tape.gradient(y, sources)))
        bwd_stats = _stats(bwd)
    else:
        # One graph computes forward and backward (as model.fit's step): the backward is the step less the forward.
        step("backward", 0, 1)
        fwd = _median([timed(lambda: call(x)) for _ in range(reps)])
        bwd_stats = {k: max(0.0, v - fwd) for k, v in _stats(total).items()}
    step("backward lines", 0, trace_reps)
    per, traced_totals = backward_lines(tf, layer, x, sources, loss, traced, sync, trace_reps)
    bmed = bwd_stats["median"]
    line_ms = {k: _median(v) for k, v in per.items()}
    s = sum(line_ms.values())
    scale = bmed / s if s > 0 else 0.0
    return {
        "lines": {k: v * scale for k, v in line_ms.items() if k is not None},
        "shares": {k: (v / s if s > 0 else 0.0) for k, v in line_ms.items()},
        "result": {
            "totalMs": _stats(total),
            "backwardMs": bwd_stats,
            **({"weightsOnlyMs": weights_only} if weights_only is not None else {}),
            "warmup": warm,
            "notOnLineMs": line_ms.get(None, 0.0) * scale,
            "attribution": "every gradient function TF's tape ran (eager, %d runs) timed, a device sync before and after, "
            "and charged to the line whose forward op it differentiates (matched by op type, latest first, as the tape "
            "goes); they took %.3g ms against %.3g ms for the plain backward, so the line times are scaled by %.3f%s" % (
                trace_reps, _median(traced_totals or [0.0]), bmed, scale,
                "" if bmed > 0 else " — the step less its forward is within the timing noise here (a layer this small), "
                "so the lines' backward reads 0: their shares of the gradient functions' time still hold"),
            "timing": "forward, the loss sum(out * R) and tape.gradient of the input and every trainable weight%s, timed "
            "as the call is; %s" % (
                " (eager)" if eager_only else " in one tf.function (as model.fit's train step)",
                "the backward alone: tape.gradient after an untimed forward" if eager_only else
                "the backward: the step less the forward's median (one graph runs both; they are not timed apart)"),
        },
    }
