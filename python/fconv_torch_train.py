"""Fourier Conv Profiler: the training step on torch - forward + backward of a scalar loss with respect to the
input and every parameter, gradients materialised - timed under the run's loop policy like the forward pass.
The loss is the output weighted by fixed weights, sum(out * R) with R[i] = sin(0.7 i + 0.3) over the output's
elements in memory order, the same for every variant: it costs what sum(out) costs (one product), and it makes
the gradient check see every output (the gradient of sum(out) of a circular convolution is the kernel's sum,
the same whatever else is wrong). Timed:

  - the training step end to end (forward, loss, torch.autograd.grad), synced;
  - the backward alone (after an untimed forward): the layer's backward from the loss's gradient;
  - each forward step's backward (its vector-Jacobian product, with the upstream gradient it gets in the
    whole backward as a fixed input), as a step of its own.

The variant is bound to leaf copies of the layer's tensors that require grad (the input and its parameters:
the spatial kernel of spatial / spatial-equivalent / the question's recipe / optimized, the complex mode
weights of an FNO layer), so the weights the executors derive at bind time (permuted kernels) stay in the
graph. One-off steps (the cached kernel spectrum) run on every step: a spectrum cannot be cached while the
kernel trains. The gradients come back for the checks. Standard library and torch only.
"""


from fconv_protocol import Cancelled, loop_policy, run_chain, throttled, train_phases, train_policy

try:
    import torch
except Exception:  # noqa: BLE001 - fconv_torch.py reports the import failure
    torch = None


class TrainView:
    """The loaded layer with its input and parameters as fresh leaves that require grad."""

    def __init__(self, L, variant):
        self._L = L
        self.x = L.x.detach().clone().requires_grad_(True)
        self.ws = L.ws.detach().clone().requires_grad_(variant == "spatial")
        self.params = {"input": self.x}
        if L.fno:
            self.mw = L.mw.detach().clone().requires_grad_(True)
            self.params["modeWeights"] = self.mw
            self._w = None
        else:
            self._w = L.w.detach().clone().requires_grad_(variant != "spatial")
            if variant != "spatial":
                self.params["kernel"] = self._w
        if variant == "spatial":
            self.params["spatialKernel"] = self.ws

    @property
    def w(self):
        if self._w is None:  # an FNO layer's equivalent kernel, made from the trainable mode weights
            L, s = self._L, self._L.spec
            H, W, Ci, Co = s["height"], s["width"], s["inChannels"], s["outChannels"]
            z = torch.zeros(Ci, Co, H, W // 2 + 1, dtype=torch.complex64, device=L.device)
            z[:, :, :L.top, :L.cols] = self.mw[:, :, :L.top]
            if L.bottom:
                z[:, :, H - L.bottom:, :L.cols] = self.mw[:, :, L.top:]
            self._w = torch.fft.irfft2(z, s=(H, W)).permute(2, 3, 0, 1)
        return self._w

    def __getattr__(self, name):
        return getattr(self._L, name)


def upstream_of(L, out):
    """The loss's fixed weights R[i] = sin(0.7 i + 0.3), i the output element's index in memory order (one per
    output shape, shared by every variant of the layer; src/core/reference.ts lossWeights is the same)."""
    cache = L.__dict__.setdefault("_upstream", {})
    key = tuple(out.shape)
    if key not in cache:
        n = out.numel()
        r = torch.sin(torch.arange(n, dtype=torch.float64) * 0.7 + 0.3).to(torch.float32).reshape(out.shape)
        cache[key] = r.to(out.device, out.dtype)
    return cache[key]


def _grad(outputs, inputs, grad_outputs):
    return torch.autograd.grad(outputs, inputs, grad_outputs=grad_outputs, retain_graph=True, allow_unused=True)


def _leaves(env):
    """A step's inputs as leaves that require grad (for its VJP), and the env it runs on: clones of the leaves, so
    a step that writes into its input in place (an FNO's out_ft slice-assignment) writes into a graph node."""
    leaves, local = {}, {}
    for k, v in env.items():
        if isinstance(v, torch.Tensor) and (v.is_floating_point() or v.is_complex()):
            leaves[k] = v.detach().requires_grad_(True)
            local[k] = leaves[k].clone()
        else:
            local[k] = v
    return leaves, local


def measure_train(fw, L, req, progress, cancelled):
    """The training step of one variant: samples of the whole step, the backward, each step's backward."""
    progress = throttled(progress)
    variant = req["variant"]
    view = TrainView(L, variant)
    persistent, one_off, steps, labels = fw.bind(view, variant, req["plan"])
    policy = train_policy(loop_policy(req.get("policy")))
    params = list(view.params.values())
    names = list(view.params.keys())
    # Every step of the call, the one-off ones first: while the kernel trains its spectrum is made per step.
    chain = [(sid, fn) for sid, fn in one_off] + [(sid, fn) for sid, _, fn in steps]
    n_steps = len(chain)

    def check():
        if cancelled():
            raise Cancelled()

    def forward():
        return run_chain(persistent, chain)

    def backward(out):
        return _grad((out * upstream_of(L, out)).sum(), params, None)

    def train_step():
        return backward(forward())

    # Peak memory of the timed steps above what the warm-up left allocated; the one-off peak (warm-up) apart.
    marks = {"base0": fw.reset_peak(L)}

    def after_warm():
        marks["oneOff"] = fw.peak_bytes(L)
        marks["base"] = fw.reset_peak(L)

    with torch.enable_grad():
        def backward_once():
            out = forward()
            L.sync()
            # The layer's backward from the loss's gradient (R): what the per-step backward adds up to; the loss's own
            # product and sum are in the training step.
            return L.timed(lambda: _grad(out, params, upstream_of(L, out)))[1]

        warm, total, bwd, n, grads = train_phases(L, policy, n_steps, train_step, backward_once, progress, check,
                                                  after_warm)
        # Before the per-step backward pass below, whose kept inputs and outputs are the measurement's, not the step's.
        peak = fw.peak_bytes(L)
        # Each step's backward: its inputs as leaves, the upstream gradient it gets in the whole backward fixed.
        envs, outs = [], []
        env = dict(persistent)
        for sid, fn in chain:
            leaves, local = _leaves(env)
            y = fn(local)
            envs.append(leaves)
            outs.append(y)
            env[sid] = y.detach()
        upstream = {chain[-1][0]: upstream_of(L, outs[-1])}
        for i in range(n_steps - 1, -1, -1):
            sid = chain[i][0]
            g = upstream.get(sid)
            if g is None:  # nothing after it uses this output (it does not reach the loss)
                g = torch.zeros_like(outs[i])
                upstream[sid] = g
            if not outs[i].requires_grad:  # made from nothing that trains (out_ft's zeros): no backward
                continue
            keys = list(envs[i].keys())
            got = _grad(outs[i], [envs[i][k] for k in keys], g)
            for k, gk in zip(keys, got):
                if gk is not None and k in dict(chain):
                    upstream[k] = upstream[k] + gk if k in upstream else gk
        per = [[] for _ in chain]
        for r in range(n):
            for i, (sid, _) in enumerate(chain):
                progress({"phase": "per-step", "step": sid + " (backward)", "stepIndex": i, "stepCount": n_steps, "rep": r, "reps": n})
                check()
                if not outs[i].requires_grad:
                    per[i].append(0.0)  # no backward: its output depends on nothing that trains
                    continue
                inputs = list(envs[i].values()) + params
                _, ms = L.timed(lambda i=i, inputs=inputs: _grad(outs[i], inputs, upstream[chain[i][0]]))
                per[i].append(ms)
    result = {
        "implementations": labels,
        "stepIds": [sid for sid, _ in chain],
        "total": total,
        "backward": bwd,
        "steps": per,
        "reps": n,
        "warmup": len(warm),
        "firstMs": warm[0],
        # Complex gradients (an FNO layer's mode weights) as (real, imag) pairs.
        "gradients": {
            name: fw.to_b64(torch.view_as_real(g) if g.is_complex() else g)
            for name, g in ((name, g if g is not None else torch.zeros_like(p)) for name, p, g in zip(names, params, grads))
        },
    }
    if peak is not None:
        result["peakMemoryBytes"] = max(0, int(peak) - int(marks.get("base") or 0))
    if marks.get("oneOff") is not None:
        result["oneOffPeakBytes"] = max(0, int(marks["oneOff"]) - int(marks["base0"] or 0))
    return result


def crosscheck_train(fw, L, req):
    """The variant's training step on an independent clock: torch.utils.benchmark's blocked_autorange on the same
    forward + backward, in this process (what `npm run bench` checks the training step's timing against)."""
    import torch.utils.benchmark as benchmark

    variant = req["variant"]
    view = TrainView(L, variant)
    persistent, one_off, steps, _ = fw.bind(view, variant, req["plan"])
    params = list(view.params.values())
    chain = [(sid, fn) for sid, fn in one_off] + [(sid, fn) for sid, _, fn in steps]
    held = {}

    def run():
        out = run_chain(persistent, chain)
        held["grads"] = _grad((out * upstream_of(L, out)).sum(), params, None)
        L.sync()

    with torch.enable_grad():
        t = benchmark.Timer(stmt="run()", globals={"run": run}, num_threads=L.threads)
        m = t.blocked_autorange(min_run_time=float(req.get("seconds", 1.0)))
    return {"medianMs": m.median * 1000.0, "runs": len(m.times) * m.number_per_run}
