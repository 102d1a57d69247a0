#!/usr/bin/env bash
# The cold-start benchmark: what a first run costs on a fresh machine, against F, a fresh process
# that builds and runs one trivial kernel on the same device (ci/bench/trivial_kernel.c: what the
# OpenCL driver alone costs before any kernel runs). Each cold run gets new, empty ConvCL and PoCL
# caches (CONVCL_CACHE_DIR, POCL_CACHE_DIR); each warm run reuses the caches of the cold run
# before it. Measured, each --repeat times (the median is printed):
#   F; a cold and a warm `clconv run conv2d` of a 1×3×9×9 input with a 4×3×3×3 weight; a cold
#   and a warm `clconv demo`; `clconv prepare` from empty caches; and the lines any of them
#   printed on stderr (the kernel compiler's, if it spoke: there should be none).
# Not part of the tests or CI: the numbers depend on the machine and its load.
#
# Usage: ci/cold-start.sh [--repeat N] (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."

repeat=3
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        *) echo "ci/cold-start.sh: unknown argument $1 (expected --repeat N)" >&2; exit 1 ;;
    esac
done

bash ci/setup.sh
command -v gcc >/dev/null || { echo "ci/cold-start.sh: needs gcc (apt-get install gcc)" >&2; exit 1; }
swift build -c release --product clconv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/trivial_kernel" ci/bench/trivial_kernel.c -lOpenCL
clconv=.build/release/clconv

# The small case's operands, as .npy files (written without NumPy).
python3 - "$work" <<'EOF'
import random, struct, sys
def save(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{n}, " for n in shape)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}f", *values))
rng = random.Random(1)
save(sys.argv[1] + "/x.npy", (1, 3, 9, 9), [rng.uniform(-1, 1) for _ in range(243)])
save(sys.argv[1] + "/w.npy", (4, 3, 3, 3), [rng.uniform(-1, 1) for _ in range(108)])
EOF

stderr_lines=0
# Runs a command with the caches in $1, prints its wall time in seconds, counts its stderr lines.
timed() {
    local caches="$1"; shift
    mkdir -p "$caches/convcl" "$caches/pocl"
    local start end
    start=$(date +%s%N)
    CONVCL_CACHE_DIR="$caches/convcl" POCL_CACHE_DIR="$caches/pocl" "$@" >"$work/stdout" 2>"$work/stderr"
    end=$(date +%s%N)
    stderr_lines=$((stderr_lines + $(wc -l <"$work/stderr")))
    if [ -s "$work/stderr" ]; then sed 's/^/  stderr: /' "$work/stderr" >&2; fi
    awk -v ns=$((end - start)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

declare -A times
names=(F cold_conv2d warm_conv2d cold_demo warm_demo prepare)
for ((round = 1; round <= repeat; round++)); do
    base="$work/round$round"
    f=$(timed "$base/f" "$work/trivial_kernel")
    conv=(run conv2d --input "$work/x.npy" --weight "$work/w.npy" --output "$work/y.npy")
    cold_conv=$(timed "$base/conv" "$clconv" "${conv[@]}")
    warm_conv=$(timed "$base/conv" "$clconv" "${conv[@]}")
    cold_demo=$(timed "$base/demo" "$clconv" demo)
    warm_demo=$(timed "$base/demo" "$clconv" demo)
    prepare=$(timed "$base/prepare" "$clconv" prepare)
    echo "round $round: F $f s, conv2d cold $cold_conv warm $warm_conv, demo cold $cold_demo warm $warm_demo, prepare $prepare"
    times[F]+="$f "; times[cold_conv2d]+="$cold_conv "; times[warm_conv2d]+="$warm_conv "
    times[cold_demo]+="$cold_demo "; times[warm_demo]+="$warm_demo "; times[prepare]+="$prepare "
    rm -rf "$base"
done

f_median=$(echo "${times[F]}" | tr ' ' '\n' | grep . | median)
echo
echo "device: $("$clconv" devices | grep '^default backend' | sed 's/^default backend: //; s/ — .*//')"
printf "%-14s %10s %8s\n" "run" "median s" "/ F"
for name in "${names[@]}"; do
    value=$(echo "${times[$name]}" | tr ' ' '\n' | grep . | median)
    printf "%-14s %10.3f %8.2f\n" "$name" "$value" "$(awk -v a="$value" -v b="$f_median" 'BEGIN { print a / b }')"
done
echo "stderr lines from all runs: $stderr_lines"
