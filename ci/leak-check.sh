#!/usr/bin/env bash
# Runs the whole test suite built with AddressSanitizer, whose LeakSanitizer reports every leak at
# exit. Fails on any leak not in ci/lsan-suppressions.txt (which lists the third-party ones and why).
#
# use_sigaltstack=0: with PoCL's threads, ASan's own teardown of its alternate signal stacks fails
# (munmap EINVAL) and aborts the run; ConvCL needs no alternate signal stack.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
swift build --build-tests --sanitize=address --scratch-path .build-asan
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ASAN_OPTIONS=use_sigaltstack=0:detect_leaks=1 \
LSAN_OPTIONS=suppressions=$PWD/ci/lsan-suppressions.txt:print_suppressions=1 \
    swift test --skip-build --sanitize=address --scratch-path .build-asan "$@" 2>&1 | tee "$log" || status=$?
if grep -q "ERROR: LeakSanitizer" "$log"; then
    echo "ci/leak-check.sh: LeakSanitizer found leaks (above)" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "ci/leak-check.sh: the sanitized test run failed (status $status)" >&2
    exit "$status"
fi
echo "ci/leak-check.sh: no leaks"
