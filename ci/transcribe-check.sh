#!/usr/bin/env bash
# clconv transcribe against Basic Pitch's own Python predict: synthesized recordings of known notes
# in every WAV encoding (ci/transcribe/check.py says the rule). basic-pitch 0.4.0 goes into a
# virtual environment (.venv-basic-pitch, from PyPI) without TensorFlow, so its predict runs the
# same nmp.onnx on onnxruntime; the model is fetched into .cache/models, never committed.
# Usage: ci/transcribe-check.sh [--seed N]
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
swift build --product clconv
venv=.venv-basic-pitch
if [ ! -x $venv/bin/python ]; then
    python3 -m venv $venv
fi
$venv/bin/pip install -q "librosa==0.11.0" "resampy==0.4.2" "pretty_midi==0.2.11.post0" "mir_eval==0.8.2" \
    "onnxruntime==1.32.*" "scipy" "scikit-learn" "numpy" "typing_extensions"
$venv/bin/pip install -q --no-deps "basic-pitch==0.4.0"
model=$(bash ci/fetch-basic-pitch.sh $venv)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$venv/bin/python ci/transcribe/check.py "$model" .build/debug/clconv "$work" "$@" 2>&1 | grep -v "^Predicting MIDI for"
