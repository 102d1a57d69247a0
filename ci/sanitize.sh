#!/usr/bin/env bash
# Runs the whole test suite under a sanitizer and fails on anything it reports.
#
#   ci/sanitize.sh address   LeakSanitizer (with AddressSanitizer): every leak at exit, except the
#                            third-party ones listed with their reasons in ci/lsan-suppressions.txt.
#                            use_sigaltstack=0: with PoCL's threads, ASan's teardown of its
#                            alternate signal stacks fails (munmap EINVAL) and aborts the run.
#   ci/sanitize.sh thread    ThreadSanitizer: data races in ConvCL's code and the tests (PoCL's own
#                            threads are not instrumented).
# Further arguments go to `swift test` (for example --filter).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
    address) report="ERROR: LeakSanitizer|ERROR: AddressSanitizer" ;;
    thread) report="WARNING: ThreadSanitizer" ;;
    *) echo "usage: ci/sanitize.sh address|thread [swift test arguments]" >&2; exit 1 ;;
esac
shift
bash ci/setup.sh
scratch=.build-$mode
swift build --build-tests --sanitize="$mode" --scratch-path "$scratch"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
ASAN_OPTIONS=use_sigaltstack=0:detect_leaks=1 \
LSAN_OPTIONS=suppressions=$PWD/ci/lsan-suppressions.txt:print_suppressions=1 \
    CONVCL_BUILD_WARNINGS=1 swift test --skip-build --sanitize="$mode" --scratch-path "$scratch" "$@" 2>&1 | tee "$log" || status=$?
if grep -qE "$report" "$log"; then
    echo "ci/sanitize.sh $mode: the sanitizer reported problems (above)" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "ci/sanitize.sh $mode: the sanitized test run failed (status $status)" >&2
    exit "$status"
fi
echo "ci/sanitize.sh $mode: nothing reported"
