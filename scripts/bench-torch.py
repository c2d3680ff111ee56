"""An independent clock for the PyTorch engine's numbers (npm run bench): the same ops the engine runs
(its executors, in the plan's order), timed end to end by torch.utils.benchmark.Timer. Reads the plans
and spec on stdin as JSON, prints {variant: median ms} as JSON."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import fconv_torch_worker as w  # noqa: E402
import torch  # noqa: E402
import torch.utils.benchmark as benchmark  # noqa: E402

req = json.load(sys.stdin)
spec = req["spec"]
torch.set_num_threads(req.get("threads", 1))
B, H, W, Ci, Co = spec["batch"], spec["height"], spec["width"], spec["inChannels"], spec["outChannels"]
kh, kw, k = spec["kernelH"], spec["kernelW"], spec["spatialKernel"]
g = torch.Generator().manual_seed(1)
data = {
    "input": w.tensor_b64(torch.randn(B * H * W * Ci, generator=g)),
    "kernel": w.tensor_b64(torch.randn(kh * kw * Ci * Co, generator=g)),
    "spatialKernel": w.tensor_b64(torch.randn(k * k * Ci * Co, generator=g)),
}
L = w.Layer(spec, data, "cpu", req.get("threads", 1))
out = {}
with torch.no_grad():
    for variant, plan in req["plans"].items():
        persistent, one_off, steps, _ = w.bind(L, variant, plan)
        for sid, fn in one_off:
            persistent[sid] = fn(persistent)

        def run(persistent=persistent, steps=steps):
            env = dict(persistent)
            for sid, _, fn in steps:
                env[sid] = fn(env)
            return env[steps[-1][0]]

        t = benchmark.Timer(stmt="run()", globals={"run": run}, num_threads=req.get("threads", 1))
        out[variant] = t.blocked_autorange(min_run_time=1.0).median * 1000.0
print(json.dumps(out))
