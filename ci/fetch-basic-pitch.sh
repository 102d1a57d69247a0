#!/usr/bin/env bash
# Fetches Spotify's Basic Pitch model (nmp.onnx, inside the basic-pitch 0.4.0 wheel on PyPI) into
# .cache/models once, with the pip of the virtual environment given (never committed), and prints
# its path.
# Usage: ci/fetch-basic-pitch.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1
models=.cache/models
model=$models/basic_pitch/saved_models/icassp_2022/nmp.onnx
if [ ! -f "$model" ]; then
    mkdir -p "$models"
    "$venv/bin/pip" download -q --no-deps "basic-pitch==0.4.0" -d "$models" >&2
    "$venv/bin/python" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('basic_pitch/saved_models/icassp_2022/nmp.onnx', sys.argv[2])" \
        "$(ls "$models"/basic_pitch-0.4.0-*.whl)" "$models"
fi
echo "$model"
