#!/usr/bin/env bash
# The training example end to end: `clconv train` with its defaults on PoCL must reach 95% on the
# held-out notes; its PNGs must decode; its ONNX export must give, in onnxruntime (from PyPI, in
# .venv-models) and in `clconv model run`, the trained network's logits within 1e-4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
swift build --product clconv
if [ ! -x .venv-models/bin/python ]; then python3 -m venv .venv-models; fi
.venv-models/bin/pip install -q "onnx==1.18.0" "onnxruntime==1.32.*" numpy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/debug/clconv train --device opencl --plot "$work/curves.png" --filters-plot "$work/filters.png" --export "$work/model.onnx" \
    --sample-input "$work/x.npy" --sample-output "$work/y.npy" | tee "$work/log.txt"
.build/debug/clconv model run "$work/model.onnx" --input "input=$work/x.npy" --output-dir "$work/convcl" --device opencl
.venv-models/bin/python ci/models/train_check.py "$work"
