#!/usr/bin/env bash
# Runs every kernel under oclgrind, which simulates an OpenCL device and checks each access against
# the specification: out-of-bounds reads and writes, data races, uninitialized values, API misuse.
# `clconv verify` drives every operator on odd sizes with batch > 1 and checks the results against
# the CPU reference; any oclgrind report fails this script.
#
# -cl-opt-disable: oclgrind's uninitialized-value checker does not know LLVM's `freeze`, which the
# optimizer adds around integer division; unoptimized kernels have the same memory accesses.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
swift build --product clconv
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The cache stays off: binaries built by another driver are not oclgrind's. Twice: with oclgrind's
# own vector width (1: the narrow tile sizes) and with 16 (the tile sizes chosen for AVX-512, and
# im2col-gemm in chunks of one GEMM work-group, so that every chunk offset is checked).
for width in 1 16; do
    chunk=$([ "$width" = 16 ] && echo 1 || echo "")
    OCLGRIND_BUILD_OPTIONS=-cl-opt-disable CONVCL_CACHE_DIR= CONVCL_VECTOR_WIDTH=$width CONVCL_GEMM_CHUNK_BYTES=$chunk \
        oclgrind --log "$log" --check-api --data-races --uninitialized .build/debug/clconv verify --device 0
    if [ -s "$log" ]; then
        cat "$log" >&2
        echo "ci/kernel-check.sh: oclgrind reported errors with CONVCL_VECTOR_WIDTH=$width (above)" >&2
        exit 1
    fi
done
echo "ci/kernel-check.sh: no oclgrind reports"
