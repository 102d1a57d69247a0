#!/usr/bin/env bash
# Fuzzes what users feed ConvCL from elsewhere, with libFuzzer and AddressSanitizer over every
# module: ONNX model files (Model's loader and validation), WAV files (WAVReader, read to the end)
# and .npy files (NPY.read). Not part of the tests; run by hand or on a schedule:
#   bash ci/fuzz.sh SECONDS [TARGET ...]     (targets: model wav npy; default all, SECONDS each)
# Seeds: Basic Pitch's model and ONNX's node-test models, generated WAV and .npy files. The corpus
# grows in .cache/fuzz/TARGET across runs. An input that crashes, hangs (10 s) or allocates past
# 2 GiB is written to .cache/fuzz/crashes/ and the script fails naming it: each one becomes a
# regression test in Tests/ (see AudioTests' refused cases).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: ci/fuzz.sh SECONDS [model|wav|npy ...]}
shift
if [ $# -gt 0 ]; then targets=("$@"); else targets=(model wav npy); fi
bash ci/setup.sh

# The fuzzer library without its main (the fuzz program has one), from the Swift toolchain.
runtime=$(ls "$(dirname "$(dirname "$(command -v swift)")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
# -sanitize=fuzzer reaches the frontend only (coverage counters in every module); the driver's
# would link libFuzzer's main into every executable, the kernel embedder's too.
(cd ci/fuzz && swift build -Xswiftc -sanitize=address -Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer,address \
    -Xlinker "$runtime" -Xlinker -lstdc++ 2>&1 | grep -v "Cannot export local symbol" | tail -1)
fuzzer=ci/fuzz/.build/debug/convcl-fuzz

if [ ! -x .venv-models/bin/python ]; then python3 -m venv .venv-models; fi
.venv-models/bin/pip install -q "onnx==1.18.0" numpy
seeds=.cache/fuzz/seeds
.venv-models/bin/python ci/fuzz/seeds.py "$seeds"
mkdir -p "$seeds/model"
cp "$(bash ci/fetch-basic-pitch.sh .venv-models)" "$seeds/model/basic_pitch.onnx"
nodes=$(.venv-models/bin/python -c "import os, onnx; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node'))")
for model in "$nodes"/*/model.onnx; do cp "$model" "$seeds/model/$(basename "$(dirname "$model")").onnx"; done

mkdir -p .cache/fuzz/crashes
status=0
for target in "${targets[@]}"; do
    mkdir -p ".cache/fuzz/$target"
    echo "ci/fuzz.sh: $target for $seconds s"
    log=".cache/fuzz/$target.log"
    # The corpus first: libFuzzer adds what it finds to the first directory.
    if ! SWIFT_BACKTRACE=enable=no CONVCL_FUZZ_TARGET=$target "$fuzzer" ".cache/fuzz/$target" "$seeds/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=300000 -print_final_stats=1 \
        -artifact_prefix=.cache/fuzz/crashes/"$target"- > "$log" 2>&1; then
        echo "ci/fuzz.sh: $target failed; the input is in .cache/fuzz/crashes/ (log: $log):" >&2
        grep -a -E "Fatal error|ERROR:|SUMMARY|Test unit written" "$log" | head -5 >&2
        status=1
    fi
    grep -a -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/  $target /"
    echo "  $target corpus: $(ls ".cache/fuzz/$target" | wc -l) files"
done
exit $status
