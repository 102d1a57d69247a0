"""Runs the benchmark suite on ConvCL's peers and compares them with ConvCL's results, for ci/bench.sh.

Peers: onnxruntime's CPU execution provider (MLAS), tinygrad's OpenCL backend and CLBlast's
convgemm (both on the same PoCL device as ConvCL), and two ceilings measured with pyopencl on that
device: a copy kernel (bandwidth) and an FMA loop (peak FLOP/s).

Every figure is a median wall time per call, from the call until its result is ready, after a
warm-up call; rates use the same FLOP and byte counts as `clconv bench` (FLOPs 2·N·K·OH·OW·(C/g)·R·S,
bytes = input read + output written).

The machine is shared, and its capacity changes over seconds (on 2 vCPUs, a kernel that runs in
0.4 ms on both cores takes 0.8 ms in a slow stretch, as on one; ci/bench.sh pins PoCL's workers,
which removes part of that). So each case is timed in rounds: every round times ConvCL (`clconv bench --filter CASE`, its chosen algorithm), each peer
and, for the bandwidth cases, the copy kernel, one after the other, for a share of the time. A
ratio is the median over rounds of the ratio within a round, whose figures were taken seconds
apart; a rate is the median over rounds.

Usage: peers.py CONVCL_JSON OUT_DIR --clconv BINARY --clblast-tool TOOL [--min-seconds S] [--rounds R] [--filter TEXT]
Writes OUT_DIR/bench.json and OUT_DIR/bench.svg and prints the table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# The suite of Sources/clconv/BenchSuite.swift: name -> (kind, parameters). Checked against the
# names in ConvCL's JSON so that the two cannot drift apart.
SUITE = {
    "resnet3x3_c64_56": ("conv2d", dict(n=1, c=64, h=56, w=56, k=64, r=3, s=3, stride=1, pad=1, groups=1)),
    "vgg3x3_c128_28_b8": ("conv2d", dict(n=8, c=128, h=28, w=28, k=128, r=3, s=3, stride=1, pad=1, groups=1)),
    "mel3x3_c1_96x128_b16": ("conv2d", dict(n=16, c=1, h=96, w=128, k=32, r=3, s=3, stride=1, pad=1, groups=1)),
    "mel3x3_c32_48x64_b16": ("conv2d", dict(n=16, c=32, h=48, w=64, k=64, r=3, s=3, stride=1, pad=1, groups=1)),
    "pointwise1x1_c256_28": ("conv2d", dict(n=1, c=256, h=28, w=28, k=512, r=1, s=1, stride=1, pad=0, groups=1)),
    "stride2_7x7_c3_224": ("conv2d", dict(n=1, c=3, h=224, w=224, k=64, r=7, s=7, stride=2, pad=3, groups=1)),
    "audio1d_k512_s4_b8": ("conv1d", dict(n=8, c=1, l=4096, k=128, s=512, stride=4, pad=0, groups=1)),
    "basicpitch3x39_c8_172x264": ("conv2d", dict(n=1, c=8, h=172, w=264, k=8, r=3, s=39, stride=1, pad=(1, 19), groups=1)),
    "basicpitch5x5_c8_k32_s1x3": ("conv2d", dict(n=1, c=8, h=172, w=264, k=32, r=5, s=5, stride=(1, 3), pad=(2, 1), groups=1)),
    "basicpitch7x7_c1_k32_s1x3": ("conv2d", dict(n=1, c=1, h=172, w=264, k=32, r=7, s=7, stride=(1, 3), pad=(3, 2), groups=1)),
    "basicpitch_cqt1x256_c36": ("conv1d", dict(n=1, c=1, l=4096, k=36, s=256, stride=1, pad=0, groups=1)),
    "basicpitch_cqt1x256_c1_s2": ("conv1d", dict(n=1, c=1, l=44098, k=1, s=256, stride=2, pad=0, groups=1)),
    "basicpitch_cqt1x256_c36_s16": ("conv1d", dict(n=1, c=1, l=43844, k=36, s=256, stride=16, pad=0, groups=1)),
    "depthwise3x3_c256_56": ("conv2d", dict(n=1, c=256, h=56, w=56, k=256, r=3, s=3, stride=1, pad=1, groups=256)),
    "maxpool2x2_c128_56_b8": ("maxpool", dict(shape=(8, 128, 56, 56), kernel=2)),
    "global_avgpool_c512_14_b16": ("global_avgpool", dict(shape=(16, 512, 14, 14))),
    "sum_2p24": ("sum", dict(shape=(1 << 24,))),
    "matmul_1024": ("matmul", dict(shapes=[(1024, 1024), (1024, 1024)])),
    "matmul_256x4096x1024": ("matmul", dict(shapes=[(256, 4096), (4096, 1024)])),
    "add_broadcast_2p24": ("Add", dict(shapes=[(1 << 12, 1 << 12), (1 << 12,)])),
    "sigmoid_2p24": ("Sigmoid", dict(shapes=[(1 << 24,)])),
    "transpose_16x64x128x128": ("transpose", dict(shapes=[(16, 64, 128, 128)], perm=[0, 1, 3, 2])),
    "batchnorm_16x256x32x32": ("batchnorm", dict(shapes=[(16, 256, 32, 32)] + [(256,)] * 4)),
    "softmax_16x256x32x32": ("softmax", dict(shapes=[(16, 256, 32, 32)], axis=1)),
    "softmax_4096x1000_last": ("softmax", dict(shapes=[(4096, 1000)], axis=-1)),
}

# The kinds that are neither convolutions, pooling nor reductions: onnxruntime is their only peer.
OPERATOR_KINDS = {"matmul", "Add", "Sigmoid", "transpose", "batchnorm", "softmax"}

PEERS = ["onnxruntime", "tinygrad", "clblast"]


def pads(p):
    """A 2-D case's pads (top and bottom, left and right): `pad` is one for both axes or a pair."""
    return tuple(p["pad"]) if isinstance(p["pad"], (tuple, list)) else (p["pad"], p["pad"])


def strides(p):
    """A 2-D case's strides (vertical, horizontal): `stride` is one for both axes or a pair."""
    return tuple(p["stride"]) if isinstance(p["stride"], (tuple, list)) else (p["stride"], p["stride"])


def operand_shapes(kind, p):
    if kind == "conv2d":
        return [(p["n"], p["c"], p["h"], p["w"]), (p["k"], p["c"] // p["groups"], p["r"], p["s"])]
    if kind == "conv1d":
        return [(p["n"], p["c"], p["l"]), (p["k"], p["c"] // p["groups"], p["s"])]
    if kind in OPERATOR_KINDS:
        return p["shapes"]
    return [p["shape"]]


def work(kind, p):
    """(FLOPs, bytes) of one call, as clconv bench counts them; one of the two is None."""
    if kind == "conv2d":
        (ph, pw), (sh, sw) = pads(p), strides(p)
        oh = (p["h"] + 2 * ph - p["r"]) // sh + 1
        ow = (p["w"] + 2 * pw - p["s"]) // sw + 1
        return 2 * p["n"] * p["k"] * oh * ow * (p["c"] // p["groups"]) * p["r"] * p["s"], None
    if kind == "conv1d":
        ol = (p["l"] + 2 * p["pad"] - p["s"]) // p["stride"] + 1
        return 2 * p["n"] * p["k"] * ol * (p["c"] // p["groups"]) * p["s"], None
    if kind == "matmul":
        (n, k), (_, m) = p["shapes"]
        return 2 * n * k * m, None
    if kind in ("Add", "Sigmoid"):
        return None, 4 * (sum(int(np.prod(s)) for s in p["shapes"]) + int(np.prod(p["shapes"][0])))
    if kind in OPERATOR_KINDS:
        return None, 8 * int(np.prod(p["shapes"][0]))
    count = int(np.prod(p["shape"]))
    if kind == "maxpool":
        n, c, h, w = p["shape"]
        outputs = n * c * (h // p["kernel"]) * (w // p["kernel"])
    elif kind == "global_avgpool":
        outputs = p["shape"][0] * p["shape"][1]
    else:
        outputs = 1
    return None, 4 * (count + outputs)


def median_time(call, min_seconds, synchronize=lambda: None):
    """Median wall time of call() (then synchronize()), after one warm-up call."""
    call()
    synchronize()
    samples = []
    while len(samples) < 5 or sum(samples) < min_seconds:
        start = time.perf_counter()
        call()
        synchronize()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def onnxruntime_timer(kind, p, arrays):
    """A function of min_seconds that times onnxruntime's CPU execution provider on the case."""
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper

    x = arrays[0]
    if kind in OPERATOR_KINDS:
        names = ["x", "a1", "a2", "a3", "a4"][: len(arrays)]
        inputs = list(zip(names, arrays))
        if kind == "batchnorm":
            inputs[4] = (names[4], np.abs(arrays[4]) + 0.5)
        op, attributes = {"matmul": ("MatMul", {}), "Add": ("Add", {}), "Sigmoid": ("Sigmoid", {}),
                          "transpose": ("Transpose", {"perm": p.get("perm")}), "batchnorm": ("BatchNormalization", {}),
                          "softmax": ("Softmax", {"axis": p.get("axis")})}[kind]
        node = helper.make_node(op, names, ["y"], **attributes)
    elif kind in ("conv2d", "conv1d"):
        rank = 2 if kind == "conv2d" else 1
        node = helper.make_node(
            "Conv", ["x", "w"], ["y"], strides=list(strides(p)) if rank == 2 else [p["stride"]], pads=list(pads(p)) * 2 if rank == 2 else [p["pad"]] * 2,
            group=p["groups"])
        inputs = [("x", x), ("w", arrays[1])]
    elif kind == "maxpool":
        node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[p["kernel"]] * 2, strides=[p["kernel"]] * 2)
        inputs = [("x", x)]
    elif kind == "global_avgpool":
        node = helper.make_node("GlobalAveragePool", ["x"], ["y"])
        inputs = [("x", x)]
    else:
        node = helper.make_node("ReduceSum", ["x"], ["y"], keepdims=0)
        inputs = [("x", x)]
    graph = helper.make_graph(
        [node], kind,
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(a.shape)) for name, a in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = dict(inputs)
    return lambda min_seconds: median_time(lambda: session.run(None, feed), min_seconds)


def tinygrad_timer(kind, p, arrays):
    """A function of min_seconds that times tinygrad on the OpenCL device on the case."""
    from tinygrad import Device, Tensor, TinyJit

    if kind in OPERATOR_KINDS:
        return None  # onnxruntime is these operators' peer
    tensors = [Tensor(a).realize() for a in arrays]
    if kind == "conv2d":
        ph, pw = pads(p)  # tinygrad's padding per side: left, right, top, bottom
        f = lambda x, w: x.conv2d(w, stride=strides(p), padding=(pw, pw, ph, ph), groups=p["groups"]).realize()
    elif kind == "conv1d":
        f = lambda x, w: x.conv2d(w, stride=p["stride"], padding=p["pad"], groups=p["groups"]).realize()
    elif kind == "maxpool":
        f = lambda x: x.max_pool2d(kernel_size=(p["kernel"], p["kernel"])).realize()
    elif kind == "global_avgpool":
        f = lambda x: x.mean(axis=(2, 3)).realize()
    else:
        f = lambda x: x.sum().realize()
    jitted = TinyJit(f)
    jitted(*tensors)  # the JIT captures on its second call; median_time warms up once more
    device = Device[Device.DEFAULT]
    return lambda min_seconds: median_time(lambda: jitted(*tensors), min_seconds, device.synchronize)


def clblast_timer(kind, p, tool):
    """A function of min_seconds that times CLBlast's convgemm on the case (a process per call of
    it), or None where convgemm does not apply: it has no groups, pooling or reductions."""
    if kind not in ("conv2d", "conv1d") or p["groups"] != 1:
        return None
    if kind == "conv2d":
        args = [p["n"], p["c"], p["h"], p["w"], p["k"], p["r"], p["s"], *pads(p), *strides(p)]
    else:  # a 1-D convolution is a 2-D one of height 1
        args = [p["n"], p["c"], 1, p["l"], p["k"], 1, p["s"], 0, p["pad"], 1, p["stride"]]

    def time_it(min_seconds):
        run = subprocess.run([tool] + [str(a) for a in args] + [str(min_seconds)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(run.stderr.strip())
        return float(run.stdout.split()[0])
    return time_it


def convcl_timer(binary, name, algorithm, out_dir):
    """A function of min_seconds that times ConvCL on case `name` with its chosen algorithm: the
    median wall time per call of a `clconv bench --filter` process."""
    path = os.path.join(out_dir, "convcl-case.json")

    def time_it(min_seconds):
        subprocess.run([binary, "bench", "--device", "opencl", "--filter", name, "--min-seconds", str(min_seconds),
                        "--json", path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(path) as f:
            rows = [r for r in json.load(f) if r["case"] == name and r["chosen"]]
        os.remove(path)
        if len(rows) != 1 or rows[0]["algorithm"] != algorithm:
            sys.exit(f"peers.py: clconv bench --filter {name} gave {rows}, expected one chosen row with {algorithm}")
        return rows[0]["wallSeconds"]
    return time_it


class Ceilings:
    """The copy kernel and the FMA loop on the first OpenCL device, run with pyopencl."""

    COPY_FLOATS = 1 << 24  # 64 MiB each way, far beyond the caches
    COPY_GB = 8 * COPY_FLOATS / 1e9  # read + write of one copy

    def __init__(self):
        import pyopencl as cl

        self.context = cl.Context([cl.get_platforms()[0].get_devices()[0]])
        self.queue = cl.CommandQueue(self.context)
        self.program = cl.Program(self.context, """
        __kernel void copy(__global const float16* a, __global float16* b) { b[get_global_id(0)] = a[get_global_id(0)]; }
        __kernel void fma_loop(__global float* out, const int iterations, const float m) {
            // Eight independent chains of float16 FMAs whose operands depend on the work-item, so
            // that nothing can be folded away.
            const float16 a = (float16)(m) - (float16)(get_global_id(0)) * 1e-9f, b = (float16)(0.5f) + a * 1e-3f;
            float16 x0 = (float16)(get_global_id(0)), x1 = x0 + 1.0f, x2 = x0 + 2.0f, x3 = x0 + 3.0f;
            float16 x4 = x0 + 4.0f, x5 = x0 + 5.0f, x6 = x0 + 6.0f, x7 = x0 + 7.0f;
            for (int i = 0; i < iterations; ++i) {
                x0 = fma(x0, a, b); x1 = fma(x1, a, b); x2 = fma(x2, a, b); x3 = fma(x3, a, b);
                x4 = fma(x4, a, b); x5 = fma(x5, a, b); x6 = fma(x6, a, b); x7 = fma(x7, a, b);
            }
            const float16 s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
            out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7 + s.s8 + s.s9 + s.sa + s.sb + s.sc + s.sd + s.se + s.sf;
        }
        """).build()
        count = self.COPY_FLOATS
        self.a = cl.Buffer(self.context, cl.mem_flags.READ_WRITE, 4 * count)
        self.b = cl.Buffer(self.context, cl.mem_flags.READ_WRITE, 4 * count)
        cl.enqueue_fill_buffer(self.queue, self.a, np.float32(1), 0, 4 * count)
        self.copy = self.program.copy

    def copy_seconds(self, min_seconds):
        """Median seconds of one copy of COPY_FLOATS floats (COPY_GB read and written)."""
        return median_time(lambda: self.copy(self.queue, (self.COPY_FLOATS // 16,), None, self.a, self.b),
                           min_seconds, self.queue.finish)

    def copy_gbps(self, min_seconds):
        return self.COPY_GB / self.copy_seconds(min_seconds)

    def peak_gflops(self, min_seconds):
        import pyopencl as cl

        items, iterations = 4096, 4096
        out = cl.Buffer(self.context, cl.mem_flags.WRITE_ONLY, 4 * items)
        fma_loop = self.program.fma_loop
        seconds = median_time(
            lambda: fma_loop(self.queue, (items,), None, out, np.int32(iterations), np.float32(0.999)),
            min_seconds, self.queue.finish)
        return items * iterations * 8 * 16 * 2 / seconds / 1e9


def describe(error):
    """The first line of an exception's message, or its type's name."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def svg_chart(rows, path):
    """Grouped horizontal bars per case: each peer's rate relative to ConvCL's (ConvCL = 1), from the
    rows' ratios."""
    series = ["convcl"] + PEERS
    colours = {"convcl": "#1f77b4", "onnxruntime": "#ff7f0e", "tinygrad": "#2ca02c", "clblast": "#d62728"}
    bar, gap, left, width = 9, 10, 230, 520
    height = len(rows) * (len(series) * bar + gap) + 80

    def relative(row, name):
        return 1.0 if name == "convcl" else (1 / row["ratio"][name] if name in row["ratio"] else None)

    largest = max(max(relative(r, s) or 0 for s in series) for r in rows)
    scale = width / max(largest, 1.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13">Rate relative to ConvCL (ConvCL = 1; higher is faster), one run of ci/bench.sh</text>']
    y = 40
    for row in rows:
        out.append(f'<text x="10" y="{y + len(series) * bar / 2 + 4}">{row["case"]}</text>')
        for name in series:
            ratio = relative(row, name)
            if ratio is not None:
                out.append(f'<rect x="{left}" y="{y}" width="{ratio * scale:.1f}" height="{bar - 1}" fill="{colours[name]}"/>')
                out.append(f'<text x="{left + ratio * scale + 4:.1f}" y="{y + bar - 1}" font-size="9">{ratio:.2f}</text>')
            y += bar
        y += gap
    out.append(f'<line x1="{left + scale:.1f}" y1="30" x2="{left + scale:.1f}" y2="{y}" stroke="black" stroke-dasharray="3,3"/>')
    for i, name in enumerate(series):
        out.append(f'<rect x="{10 + 120 * i}" y="{y + 10}" width="10" height="10" fill="{colours[name]}"/>')
        out.append(f'<text x="{24 + 120 * i}" y="{y + 19}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("convcl_json")
    parser.add_argument("out_dir")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="timing per case and peer, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--filter", default="")
    parser.add_argument("--clblast-tool", required=True)
    parser.add_argument("--clconv", required=True, help="the clconv binary, to time ConvCL in each round")
    args = parser.parse_args()

    with open(args.convcl_json) as f:
        convcl = [r for r in json.load(f) if r["chosen"]]
    names = {r["case"] for r in convcl}
    expected = {name for name in SUITE if args.filter in name}
    if names != expected:
        sys.exit(f"peers.py: ConvCL's cases {sorted(names)} differ from this script's {sorted(expected)}; update SUITE")

    ceilings = Ceilings()
    rng = np.random.default_rng(42)
    rows = []
    for name, (kind, p) in SUITE.items():
        if name not in names:
            continue
        print(f"[peers] {name}", file=sys.stderr, flush=True)
        arrays = [rng.uniform(-1, 1, shape).astype(np.float32) for shape in operand_shapes(kind, p)]
        flops, nbytes = work(kind, p)
        amount, unit = (flops / 1e9, "GFLOP/s") if flops else (nbytes / 1e9, "GB/s")
        mine = next(r for r in convcl if r["case"] == name)
        # name -> (a function of min_seconds giving seconds per call, GFLOP or GB per call)
        timers = {"convcl": (convcl_timer(args.clconv, name, mine["algorithm"], args.out_dir), amount)}
        errors = {}
        for peer, prepare in [("onnxruntime", lambda: onnxruntime_timer(kind, p, arrays)),
                              ("tinygrad", lambda: tinygrad_timer(kind, p, arrays)),
                              ("clblast", lambda: clblast_timer(kind, p, args.clblast_tool))]:
            try:
                timer = prepare()
                if timer is not None:
                    timers[peer] = (timer, amount)
            except Exception as error:  # a peer that fails is reported, not fatal
                errors[peer] = describe(error)
        if unit == "GB/s":
            timers["copy"] = (ceilings.copy_seconds, Ceilings.COPY_GB)
        rounds = {peer: [] for peer in timers}  # each round's rate; a peer that fails is dropped below
        for _ in range(args.rounds):
            for peer, (time_it, work_per_call) in timers.items():
                if peer in errors:
                    continue
                try:
                    rounds[peer].append(work_per_call / time_it(args.min_seconds / args.rounds))
                except Exception as error:
                    errors[peer] = describe(error)
        for peer, message in errors.items():
            print(f"[peers] {name}: {peer} failed: {message}", file=sys.stderr)
            rounds.pop(peer, None)
        rates = {peer: statistics.median(r) for peer, r in rounds.items()}
        # ConvCL's rate over each peer's, taken within each round, then the median over rounds.
        ratios = {peer: statistics.median(mine_r / theirs for mine_r, theirs in zip(rounds["convcl"], r))
                  for peer, r in rounds.items() if peer != "convcl"}
        rows.append(dict(case=name, unit=unit, algorithm=mine["algorithm"], rate=rates, ratio=ratios,
                         rounds=rounds,
                         errors=errors))

    peak_gflops = ceilings.peak_gflops(args.min_seconds)
    copy_gbps = ceilings.copy_gbps(args.min_seconds)

    def fmt(value, width=8):
        return f"{value:{width}.2f}" if value is not None else " " * (width - 1) + "-"

    print(f"\nceilings on the OpenCL device: copy {copy_gbps:.1f} GB/s (read + write), FMA peak {peak_gflops:.1f} GFLOP/s")
    print(f"rates: medians over {args.rounds} rounds; ratios ConvCL/peer: medians of each round's ratio; "
          "/copy: against the copy kernel timed in the same rounds")
    print(f"{'case':28} {'unit':8} {'ConvCL':>8} {'ORT':>8} {'tinygrad':>8} {'CLBlast':>8}  "
          f"{'/ORT':>6} {'/tiny':>6} {'/CLBl':>6} {'/copy':>6}  algorithm")
    for row in rows:
        r, ratio = row["rate"], row["ratio"]
        print(f"{row['case']:28} {row['unit']:8} {fmt(r['convcl'])} {fmt(r.get('onnxruntime'))} {fmt(r.get('tinygrad'))} "
              f"{fmt(r.get('clblast'))}  {fmt(ratio.get('onnxruntime'), 6)} {fmt(ratio.get('tinygrad'), 6)} "
              f"{fmt(ratio.get('clblast'), 6)} {fmt(ratio.get('copy'), 6)}  {row['algorithm']}")
    conv = [row for row in rows if SUITE[row["case"]][0] in ("conv2d", "conv1d") and "onnxruntime" in row["ratio"]]
    if conv:
        geomean = float(np.exp(np.mean([np.log(row["ratio"]["onnxruntime"]) for row in conv])))
        print(f"geometric mean of ConvCL/onnxruntime over {len(conv)} convolution cases: {geomean:.2f}")
    else:
        geomean = None

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "bench.json"), "w") as f:
        json.dump(dict(copy_gbps=copy_gbps, peak_gflops=peak_gflops, convolution_geomean_vs_onnxruntime=geomean,
                       rows=rows), f, indent=2)
    svg_chart(rows, os.path.join(args.out_dir, "bench.svg"))
    print(f"\nwritten: {args.out_dir}/bench.json, {args.out_dir}/bench.svg")


if __name__ == "__main__":
    main()
