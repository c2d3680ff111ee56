#!/usr/bin/env python3
"""Fourier Conv Profiler: a Python engine's worker, `python fconv_worker.py FRAMEWORK` (torch today).

Runs in the user's own Python, as a child process of the profiler's engine worker, and speaks versioned
JSON lines over stdio: one object per line on stdout, requests on stdin. Everything else a library or
the user's environment prints (warnings, C libraries writing to fd 1) goes to stderr, never into the
protocol. The whole measurement loop runs here, so no timing crosses the pipe. The protocol and the loop
are fconv_protocol.py's; how steps run is the framework module's (fconv_<framework>.py).

Standard library and the framework only. Protocol version 1:

  worker -> host  hello {protocol, python, executable, framework, version, importError, cuda, cudaVersion, cudnn, gpus, threads, allocator}
  host -> worker  load {id, spec, data: {input, kernel, spatialKernel} (base64 float32), device, threads}
                  measure {id, variant, plan: {oneOff: [id], steps: [{id, inLayer}]}, kind, policy: {warmup, warmupMax, stableWithin, warmupMaxMs, reps, repsMax, budgetMs}}
                  output {id, variant, plan}       the variant's output once, untimed (a reference)
                  probe {id}                        this machine's rates for the cost model
                  cancel {id}                       stop request id at the next step boundary
                  exit {}
  worker -> host  loaded, progress, measured, output, probe-progress, probe, error {id, kind, message}
"""

import importlib
import json
import os
import queue
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fconv_protocol import (  # noqa: E402 - after the path to this folder
    PROTOCOL,
    REAL_EXIT,
    Cancelled,
    RequestError,
    check_spec,
    count,
    measure,
    need,
    end_to_end,
    kernels_once,
    output_once,
    own_stdout,
    send,
)

HERE = os.path.dirname(os.path.abspath(__file__))


def frameworks():
    """The frameworks this worker can drive: an executor module fconv_<name>.py beside it for each."""
    return sorted(
        f[len("fconv_"):-len(".py")] for f in os.listdir(HERE)
        if f.startswith("fconv_") and f.endswith(".py") and f[len("fconv_"):-len(".py")].isalpha()
        and f not in ("fconv_worker.py", "fconv_protocol.py", "fconv_layer.py")
    )


def hello(fw):
    info = {
        "type": "hello",
        "protocol": PROTOCOL,
        "python": "%d.%d.%d" % sys.version_info[:3],
        "executable": sys.executable,
        "framework": fw.NAME,
    }
    info.update(fw.hello_fields())
    return info


# --------------------------------------------------------------------------------------------------
# The loop: a reader thread takes requests off stdin (so a cancel arrives during a measurement), the
# main thread serves them one at a time.

requests = queue.Queue()
cancels = set()
cancel_lock = threading.Lock()


def reader():
    for raw in sys.stdin:
        raw = raw.strip()
        if not raw:
            continue
        try:
            msg = json.loads(raw)
            need(isinstance(msg, dict) and isinstance(msg.get("type"), str), "a request must be an object with a type")
        except (ValueError, RequestError) as e:
            send({"type": "error", "id": None, "kind": "protocol", "message": "rejected malformed request: %s" % e})
            continue
        if msg["type"] == "cancel":
            with cancel_lock:
                cancels.add(msg.get("id"))
            continue
        requests.put(msg)
    # stdin closed: the parent is gone (or done with us). Leave now, even in the middle of a measurement, and take
    # what the user's code started (a subprocess, an os.fork() copy) along: the host starts this process as the
    # leader of its own process group.
    sys.stderr.flush()
    end_group()
    REAL_EXIT(0)


def end_group():
    """SIGTERM to the rest of this process's group, when it leads one (POSIX)."""
    try:
        import signal

        if os.name == "posix" and os.getpgid(0) == os.getpid():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.killpg(0, signal.SIGTERM)
    except Exception:  # noqa: BLE001 - best effort: the host ends the group too
        pass


def serve(fw):
    layer = None
    user_error = getattr(fw, "UserCodeError", ())
    while True:
        msg = requests.get()
        kind, rid = msg.get("type"), msg.get("id")
        if kind == "exit":
            return
        try:
            need(isinstance(rid, str) and 0 < len(rid) <= 100, "request id must be a string of 1–100 characters")
            if fw.IMPORT_ERROR is not None:
                raise RequestError("engine", "%s is not importable in %s: %s" % (fw.NAME, sys.executable, fw.IMPORT_ERROR))

            def cancelled(rid=rid):
                with cancel_lock:
                    return rid in cancels

            def progress(p, rid=rid):
                p = dict(p)
                p.update({"type": "progress", "id": rid})
                send(p)

            if kind == "load":
                check_spec(msg.get("spec"))
                data = msg.get("data")
                need(isinstance(data, dict), "data must be an object")
                device = msg.get("device", "cpu")
                fw.check_device(device)
                threads = msg.get("threads")
                if threads is not None:
                    count(threads, "threads", 1, 1024)
                options = msg.get("options")
                need(options is None or (isinstance(options, dict) and all(isinstance(v, str) for v in options.values())),
                     "options must be an object of strings")
                layer = fw.load(msg["spec"], data, device, threads, **({"options": options} if options else {}))
                send({"type": "loaded", "id": rid, "device": layer.device_name, "backend": layer.device.type, "threads": layer.threads})
            elif kind == "crosscheck-train":
                need(layer is not None, "load a layer first")
                need(hasattr(fw, "crosscheck_train"), "the %s engine has no training crosscheck" % fw.NAME)
                res = fw.crosscheck_train(fw, layer, msg)
                res.update({"type": "crosscheck", "id": rid})
                send(res)
            elif kind == "crosscheck":
                need(layer is not None, "load a layer first")
                need(hasattr(fw, "crosscheck"), "the %s engine has no crosscheck" % fw.NAME)
                res = fw.crosscheck(layer, msg)
                res.update({"type": "crosscheck", "id": rid})
                send(res)
            elif kind == "compiled":
                need(layer is not None, "load a layer first")
                need(hasattr(fw, "compiled"), "the %s engine has no compiled row (torch.compile is PyTorch's)" % fw.NAME)
                res = {"type": "compiled", "id": rid, "compiled": fw.compiled(fw, layer, msg, progress, cancelled)}
                send(res)
            elif kind == "measure-train":
                need(layer is not None, "load a layer first")
                need(hasattr(fw, "measure_train"), "the %s engine cannot time a training step" % fw.NAME)
                res = fw.measure_train(fw, layer, msg, progress, cancelled)
                res.update({"type": "measured-train", "id": rid})
                send(res)
            elif kind == "end-to-end":
                need(layer is not None, "load a layer first")
                res = end_to_end(fw, layer, msg, progress, cancelled)
                res.update({"type": "end-to-end", "id": rid})
                send(res)
            elif kind == "kernels":
                need(layer is not None, "load a layer first")
                res = kernels_once(fw, layer, msg)
                res.update({"type": "kernels", "id": rid})
                send(res)
            elif kind in ("measure", "output"):
                need(layer is not None, "load a layer first")
                if kind == "measure":
                    res = measure(fw, layer, msg, progress, cancelled)
                    res.update({"type": "measured", "id": rid})
                else:
                    res = output_once(fw, layer, msg)
                    res.update({"type": "output", "id": rid})
                send(res)
            elif kind == "layer-profile":
                need(hasattr(fw, "layer_profile"), "the %s engine cannot profile a layer of the user's" % fw.NAME)
                res = fw.layer_profile(msg, progress, cancelled)
                res.update({"type": "layer-profiled", "id": rid})
                send(res)
            elif kind == "layer-optimize":
                need(hasattr(fw, "layer_optimize"), "the %s engine cannot rewrite a layer of the user's" % fw.NAME)
                res = fw.layer_optimize(msg, progress, cancelled)
                res.update({"type": "layer-optimized", "id": rid})
                send(res)
            elif kind == "probe":
                device = msg.get("device", "cpu")
                need(isinstance(device, str) and (device == "cpu" or device.startswith("cuda")), "device must be cpu or cuda[:N]")

                def tick(what, index, total, rid=rid):
                    send({"type": "probe-progress", "id": rid, "what": what, "index": index, "count": total})
                    if cancelled():
                        raise Cancelled()

                res = fw.probe(device, tick)
                send({"type": "probe", "id": rid, "probe": res})
            else:
                raise RequestError("protocol", "unknown request type %r" % (kind,))
        except Cancelled:
            send({"type": "error", "id": rid, "kind": "cancelled", "message": "cancelled"})
        except user_error as e:
            err = {"type": "error", "id": rid if isinstance(rid, str) else None, "kind": e.kind, "message": str(e)}
            if e.file:
                err["where"] = {"file": e.file, "line": e.line or 1, "frames": e.trace[-8:]}
            send(err)
        except RequestError as e:
            send({"type": "error", "id": rid if isinstance(rid, str) else None, "kind": e.kind, "message": str(e)})
        except Exception as e:  # noqa: BLE001 - every failure goes back as a message
            tb = traceback.format_exc(limit=6)
            sys.stderr.write(tb)
            err, sticky = failure(fw, e, kind, rid)
            send(err)
            if sticky:
                # The CUDA context is broken for the rest of this process: end it, so the next run starts a fresh one.
                sys.stderr.flush()
                REAL_EXIT(4)
        finally:
            with cancel_lock:
                cancels.discard(rid)


# CUDA errors that poison the context: every later call in the process fails with them too.
STICKY_CUDA = ("device-side assert triggered", "illegal memory access", "unspecified launch failure",
               "misaligned address", "illegal instruction", "hardware stack error", "uncorrectable ECC error")


def failure(fw, e, kind, rid):
    """The error message for an exception of a request, and whether it leaves the CUDA context unusable (a sticky
    error: the process must end after saying so)."""
    oom = fw.IMPORT_ERROR is None and fw.is_oom(e)
    text = str(e)
    sticky = not oom and "CUDA" in text and any(s in text for s in STICKY_CUDA)
    return {
        "type": "error",
        "id": rid if isinstance(rid, str) else None,
        "kind": "memory" if oom else "internal",
        # Which pass ran out (the training step keeps activations and gradients: more than the forward).
        "message": "%s%s: %s%s" % (
            "in the training step (forward + backward): " if kind == "measure-train" else "", type(e).__name__,
            text.split("\n")[0][:500],
            " (a CUDA error that breaks the process's CUDA context: this Python process ends, the next run starts a "
            "fresh one)" if sticky else ""),
    }, sticky


def heartbeat():
    """A beat every half second from its own thread: torch releases the GIL in its kernels, so a long op
    still beats; a process that stops beating is hung (the host kills it and says so)."""
    while True:
        time.sleep(0.5)
        send({"type": "heartbeat"})


def main():
    own_stdout()
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in frameworks():
        sys.stderr.write("usage: fconv_worker.py {%s}\n" % "|".join(frameworks()))
        return 2
    fw = importlib.import_module("fconv_" + name)
    # Keep freed memory in the process (glibc): otherwise every call's multi-MB output is handed back to the OS and
    # faulted in again, and a 3×3 convolution alternates between 0.7 and 3 ms instead of running at 0.3 ms — the
    # rate a long-running training process sees. Said in the engine's timing note.
    info = hello(fw)
    # A process for the user's own layer (FCONV_DEFAULT_ALLOCATOR=1) starts with the default allocator: it measures
    # what the layer costs that way first, then keeps freed memory (python/fconv_layer.py).
    keep = hasattr(fw, "steady_allocator") and not os.environ.get("FCONV_DEFAULT_ALLOCATOR")
    info["allocator"] = fw.steady_allocator() if keep else None
    send(info)
    if fw.IMPORT_ERROR is not None:
        return 3
    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=heartbeat, daemon=True).start()
    serve(fw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
