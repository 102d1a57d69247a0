#!/usr/bin/env bash
# One training step of `clconv train`'s network on PoCL against the same network in JAX on the CPU
# (from PyPI, in .venv-jax), in one run: see train_step_jax.py. A benchmark, not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product clconv
if [ ! -x .venv-jax/bin/python ]; then python3 -m venv .venv-jax; fi
.venv-jax/bin/pip install -q jax numpy
.venv-jax/bin/python ci/bench/train_step_jax.py .build/release/clconv
