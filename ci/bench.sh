#!/usr/bin/env bash
# Runs the benchmark suite on ConvCL and its peers in one run and prints ConvCL's rate against
# each: onnxruntime (CPU), tinygrad (OpenCL) and CLBlast's convgemm (OpenCL) on the same device,
# plus the device's copy bandwidth and FMA peak; then Basic Pitch end to end against onnxruntime
# and tinygrad (ci/bench/basic_pitch.py), and clconv transcribe against Basic Pitch's Python predict
# (ci/bench/transcribe.py). Writes out/bench/{convcl,bench,basic_pitch,transcribe}.json and
# out/bench/bench.svg. Not part of the tests or CI: the numbers depend on the machine and its load.
#
# Usage: ci/bench.sh [--filter TEXT] [--min-seconds S] [--rounds R]
#   S: timing per case and peer, default 1; R: rounds it is split into, default 5 (ci/bench/peers.py
#   times ConvCL and the peers of a case in turn in each round and takes the ratios within rounds);
#   TEXT: only the suite's cases whose names contain it, and no Basic Pitch end to end
# The peers go into a virtual environment (.venv-bench, from PyPI) and libclblast-dev (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

filter=""
min_seconds=1
rounds=5
while [ $# -gt 0 ]; do
    case "$1" in
        --filter) filter="$2"; shift 2 ;;
        --min-seconds) min_seconds="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        *) echo "ci/bench.sh: unknown argument $1 (expected --filter TEXT, --min-seconds S or --rounds R)" >&2; exit 1 ;;
    esac
done

bash ci/setup.sh
if ! dpkg-query -W -f='${Status}' libclblast-dev 2>/dev/null | grep -q "install ok installed"; then
    sudo_if_needed=()
    [ "$(id -u)" -eq 0 ] || sudo_if_needed=(sudo)
    "${sudo_if_needed[@]}" apt-get install -y -qq --no-install-recommends libclblast-dev gcc python3-venv
fi
if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
fi
.venv-bench/bin/pip install -q "onnxruntime==1.32.*" "tinygrad==0.14.*" onnx pyopencl numpy

out=out/bench
mkdir -p "$out"
gcc -O2 -Wall -Wextra -o "$out/clblast_convgemm" ci/bench/clblast_convgemm.c -lclblast -lOpenCL

swift build -c release --product clconv
# PoCL's worker threads pinned one to a core, for ConvCL and the OpenCL peers alike: unpinned, the
# two workers of a short-lived process shared one core in some processes (2^24-value sum in 20
# fresh processes: 4 took twice the time; pinned, none), and a round's ratio measured that.
export POCL_AFFINITY="${POCL_AFFINITY:-1}"
filter_args=()
[ -z "$filter" ] || filter_args=(--filter "$filter")
.build/release/clconv bench --device opencl --min-seconds "$min_seconds" "${filter_args[@]}" --json "$out/convcl.json"
# tinygrad on the OpenCL device, like ConvCL; onnxruntime uses every core of the CPU.
DEV=CL .venv-bench/bin/python ci/bench/peers.py "$out/convcl.json" "$out" \
    --min-seconds "$min_seconds" --rounds "$rounds" --filter "$filter" --clblast-tool "$out/clblast_convgemm" --clconv .build/release/clconv
# Basic Pitch per call against onnxruntime and tinygrad, and its first call with empty caches
# (the whole run only: a --filter picks cases of the suite).
if [ -z "$filter" ]; then
    model=$(bash ci/fetch-basic-pitch.sh .venv-bench)
    DEV=CL .venv-bench/bin/python ci/bench/basic_pitch.py "$model" .build/release/clconv "$out" --rounds "$rounds" --tinygrad
    # clconv transcribe against Basic Pitch's Python predict (its virtual environment is
    # ci/transcribe-check.sh's).
    [ -x .venv-basic-pitch/bin/python ] || bash ci/transcribe-check.sh
    gcc -O2 -Wall -o "$out/trivial_kernel" ci/bench/trivial_kernel.c -lOpenCL
    .venv-basic-pitch/bin/python ci/bench/transcribe.py "$model" .build/release/clconv "$out" --rounds "$rounds" --trivial-kernel "$out/trivial_kernel"
fi
