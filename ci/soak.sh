#!/usr/bin/env bash
# Long runs (not part of the test suite): `clconv soak` transcribes a synthesized recording with
# Basic Pitch twice and trains `clconv train`'s network, and fails if resident memory grows or
# device buffers are left behind (see `clconv soak --help`). Release build.
# Usage: ci/soak.sh [clconv soak options]   (default: a one-hour recording, 10,000 steps)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
swift build -c release --product clconv
venv=.venv-soak
if [ ! -x $venv/bin/python ]; then
    python3 -m venv $venv
fi
model=$(bash ci/fetch-basic-pitch.sh $venv)
.build/release/clconv soak --model "$model" "$@"
