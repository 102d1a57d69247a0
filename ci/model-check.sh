#!/usr/bin/env bash
# ONNX's backend node tests for every operator ConvCL claims (from the onnx 1.18.0 wheel, the last
# that ships them), on PoCL and on the CPU reference, with ci/models/onnx-node-excludes.txt naming
# each excluded case and why; then a real model end to end against onnxruntime: Spotify's Basic
# Pitch (nmp.onnx from the basic-pitch 0.4.0 wheel on PyPI, fetched here, never committed) on PoCL
# and on the CPU reference, for a batch of 1 and of 4 (ci/models/basic_pitch_check.py says the
# rule). onnx and onnxruntime go into a virtual environment (.venv-models, from PyPI); the model into
# .cache/models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
swift build --product clconv
if [ ! -x .venv-models/bin/python ]; then
    python3 -m venv .venv-models
fi
.venv-models/bin/pip install -q "onnx==1.18.0" "onnxruntime==1.32.*" numpy
model=$(bash ci/fetch-basic-pitch.sh .venv-models)
nodes=$(.venv-models/bin/python -c "import os, onnx; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node'))")
for device in 0 cpu; do
    echo "ONNX node tests on device $device:"
    .build/debug/clconv model test "$nodes" --device "$device" --exclude ci/models/onnx-node-excludes.txt
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv-models/bin/python ci/models/basic_pitch_check.py "$model" .build/debug/clconv "$work" "$@"
