#!/bin/sh
# Runs every unit test program given on the command line, then every guest
# test script tests/guest/*.sh, on the default backend and again on the JIT
# (exit 0 pass, 77 skip with a reason on stdout, anything else fail), and
# prints one summary line "N passed, N failed, N skipped". Output of
# failing tests is shown in full; set VERBOSE=1 for all.
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0 skipped=0 failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() { # name command...
    name=$1; shift
    start=$(date +%s)
    timeout -k 10 "${TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1
    rc=$?
    [ $rc -eq 124 ] && echo "(timed out after ${TEST_TIMEOUT:-900} s)" >>"$log"
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS $name (${secs}s)"
        [ -n "$VERBOSE" ] && cat "$log"
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")"
    else
        failed=$((failed + 1)); failures="$failures $name"
        echo "FAIL $name (exit $rc, ${secs}s)"; sed 's/^/    /' "$log" | tail -n 60
    fi
}
for t in "$@"; do
    case "$t" in *.d) continue ;; esac
    run "$(basename "$t")" "$t"
done
if [ -z "$UNIT_ONLY" ]; then
    for t in tests/guest/*.sh; do
        [ -f "$t" ] || continue
        run "$(basename "$t" .sh)" sh "$t"
        # again on the JIT, unless the test names its backend (kvm_*)
        case "$t" in
        */kvm_*) ;;
        *) run "$(basename "$t" .sh) (jit)" env TANDEM_TEST_ACCEL=jit sh "$t" ;;
        esac
    done
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
