#!/usr/bin/env bash
# Set-up if needed, a build that must be free of warnings in ConvCL's own code, every kernel under
# the oclgrind simulator's checks, then the whole test suite on PoCL. With CI=true, a test that
# needs an OpenCL device fails when none is found.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | tee "$log"
if grep -E "^$PWD/(Sources|Tests|Plugins)/.*(warning|error):" "$log"; then
    echo "ci/test.sh: the build has warnings in ConvCL's code (above)" >&2
    exit 1
fi

bash ci/kernel-check.sh
bash ci/model-check.sh
bash ci/transcribe-check.sh
bash ci/train-check.sh

# Last, so that the test runner's summary closes the output. CONVCL_BUILD_WARNINGS keeps the
# compiler's warnings in the logs of the programs the tests build, so the warnings test reads
# those instead of compiling every program a second time.
CONVCL_BUILD_WARNINGS=1 swift test --skip-build "$@"
