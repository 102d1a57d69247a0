#!/usr/bin/env bash
# Installs what ConvCL needs to build and test on a fresh Debian machine: the OpenCL ICD loader and
# headers, PoCL (an OpenCL device on the CPU), clinfo, and oclgrind (an OpenCL simulator that
# checks kernels) and valgrind.
# Idempotent: when everything is there it only checks and exits.
set -euo pipefail

packages=(pocl-opencl-icd ocl-icd-opencl-dev opencl-headers clinfo oclgrind valgrind)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "ci/setup.sh: all packages present (${packages[*]})"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    run_as_root=()
elif command -v sudo >/dev/null 2>&1; then
    run_as_root=(sudo)
else
    echo "ci/setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
fi
echo "ci/setup.sh: installing ${missing[*]}"
"${run_as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run_as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
