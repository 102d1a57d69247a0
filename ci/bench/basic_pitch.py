"""Basic Pitch per call, for ci/bench.sh: ConvCL on the OpenCL device against onnxruntime on the CPU
(with 1 and with 2 threads, the better one taken) and tinygrad on the same OpenCL device, for a
batch of 1 and of 4; and the first call on a fresh machine: a new `clconv model run` process with
empty ConvCL and PoCL caches, from the process's start until the outputs are written.

Per call, in rounds as peers.py does (the machine is shared): each round runs a `clconv model run
--runs N` process (the median of its runs after the first two) and times onnxruntime's calls in the
same seconds; a ratio is the median over rounds of the ratios within a round.

Usage: basic_pitch.py MODEL.onnx CLCONV OUT_DIR [--rounds R] [--runs N] [--tinygrad]
Prints the table and writes OUT_DIR/basic_pitch.json.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

SAMPLES, RATE = 43844, 22050


def audio(batch, seed=1):
    """A chord under a melody, as music-like input."""
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLES) / RATE
    clips = []
    for _ in range(batch):
        root = 220 * 2 ** (rng.integers(0, 12) / 12)
        clip = sum(0.2 * np.sin(2 * np.pi * root * r * t + rng.uniform(0, 6)) for r in (1, 1.26, 1.5))
        clips.append(clip)
    return np.stack(clips).astype(np.float32)[:, :, None]


def clconv_runs(clconv, model, npy, runs, environment=None):
    """The per-run times (ms) of one `clconv model run --runs` process, and its wall time (s)."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = subprocess.run(
            [clconv, "model", "run", model, "--input", npy, "--output-dir", out, "--device", "opencl", "--runs", str(runs)],
            capture_output=True, text=True, env=environment)
        wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"clconv model run failed: {result.stderr.strip()}")
    times = [float(m) for m in re.findall(r"^run \d+: ([0-9.]+) ms", result.stdout, re.M)]
    return times, wall


def ort_median(model, x, threads, calls):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(None, {name: x})
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        session.run(None, {name: x})
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def tinygrad_median(model, x, calls):
    """tinygrad's OnnxRunner on its default device (DEV=CL: the OpenCL device); its first call
    (compiling every kernel) is timed separately."""
    from tinygrad import Device, Tensor
    from tinygrad.nn.onnx import OnnxRunner

    runner = OnnxRunner(model)
    name = next(iter(runner.graph_inputs))
    start = time.perf_counter()
    for value in runner({name: Tensor(x)}).values():
        value.realize()
    first = time.perf_counter() - start
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        for value in runner({name: Tensor(x)}).values():
            value.realize()
        Device[Device.DEFAULT].synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), first


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("clconv")
    parser.add_argument("out")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--tinygrad", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for batch in (1, 4):
            x = audio(batch)
            npy = os.path.join(work, f"audio{batch}.npy")
            np.save(npy, x)
            # Per call: the specialised kernels, as a long-running process has them once its
            # background builds are done (built and cached by the first process).
            specialised = dict(os.environ, CONVCL_KERNEL_TIER="specialized")
            clconv_runs(args.clconv, args.model, npy, 2, specialised)
            rounds = []
            for _ in range(args.rounds):
                times, _ = clconv_runs(args.clconv, args.model, npy, args.runs, specialised)
                convcl = statistics.median(times[2:])
                ort_ms = {threads: ort_median(args.model, x, threads, args.runs) for threads in (1, 2)}
                rounds.append((convcl, ort_ms))
            convcl = statistics.median(r[0] for r in rounds)
            best = min((1, 2), key=lambda t: statistics.median(r[1][t] for r in rounds))
            ort_best = statistics.median(r[1][best] for r in rounds)
            ratio = statistics.median(r[1][best] / r[0] for r in rounds)
            row = dict(convcl_ms=convcl, onnxruntime_ms=ort_best, onnxruntime_threads=best, vs_onnxruntime=ratio)
            if args.tinygrad:
                tiny, first = tinygrad_median(args.model, x, 3)
                row.update(tinygrad_ms=tiny, tinygrad_first_s=first, vs_tinygrad=tiny / convcl)
            results[f"batch{batch}"] = row
        # The first call on a fresh machine: empty caches, a new process.
        with tempfile.TemporaryDirectory() as convcl_cache, tempfile.TemporaryDirectory() as pocl_cache:
            environment = dict(os.environ, CONVCL_CACHE_DIR=convcl_cache, POCL_CACHE_DIR=pocl_cache)
            _, wall = clconv_runs(args.clconv, args.model, os.path.join(work, "audio1.npy"), 1, environment)
        results["first_call_s"] = wall
    (out / "basic_pitch.json").write_text(json.dumps(results, indent=2))
    print("Basic Pitch per call (ms; ratios: the peer's time / ConvCL's, median over rounds)")
    for batch in ("batch1", "batch4"):
        r = results[batch]
        line = (f"  {batch}: ConvCL {r['convcl_ms']:.1f}  onnxruntime ({r['onnxruntime_threads']} thread(s)) "
                f"{r['onnxruntime_ms']:.1f}  -> {r['vs_onnxruntime']:.2f}x onnxruntime")
        if "tinygrad_ms" in r:
            line += f"; tinygrad {r['tinygrad_ms']:.0f} (first call {r['tinygrad_first_s']:.0f} s) -> {r['vs_tinygrad']:.1f}x tinygrad"
        print(line)
    print(f"  first call on a fresh machine (empty caches, new process, model load included): {results['first_call_s']:.1f} s")


if __name__ == "__main__":
    main()
