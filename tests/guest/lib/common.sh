# Shared helpers of the guest tests (sourced by tests/guest/*.sh). A guest
# test builds its program with nasm into build/guest/, runs tandem on it with
# a timeout and checks what the guest printed on the debug console (port
# 0xE9, which tandem writes to stderr) or the serial port, and the exit
# status set through isa-debug-exit.
set -u
ROOT=${TANDEM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}  # scripts elsewhere set it
TANDEM="$ROOT/tandem"
GUEST_BUILD="$ROOT/build/guest"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tandem
ACCEL=${TANDEM_TEST_ACCEL:-interp}
mkdir -p "$GUEST_BUILD"
# isa-debug-exit as the guest programs use it: 0x10 passes, 0x11 fails
DEBUG_EXIT="-device isa-debug-exit,iobase=0xf4,iosize=4"
EXIT_PASS=33
EXIT_FAIL=35

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }

# Skip unless the backend is in this build and usable here
need_accel() {
    line=$("$TANDEM" -accel help | grep "^  $1 ") ||
        skip "-accel $1 is not in this build yet"
    case "$line" in *"not usable"*) skip "-accel $1: ${line#*not usable here: }" ;; esac
}

need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"; }

# asm NAME [nasm args]: tests/guest/NAME.asm -> build/guest/NAME.bin
asm() {
    name=$1; shift
    nasm -I "$ROOT/tests/guest/" -o "$GUEST_BUILD/$name.bin" "$@" \
        "$ROOT/tests/guest/$name.asm" || fail "nasm $name.asm"
}

# run_guest SECONDS tandem-args...: sets $status, $OUT (stdout), $ERR (stderr)
run_guest() {
    secs=$1; shift
    OUT="$GUEST_BUILD/$$.out"
    ERR="$GUEST_BUILD/$$.err"
    timeout -k 5 "$secs" "$TANDEM" -accel "$ACCEL" -nographic -serial none \
        $DEBUG_EXIT "$@" </dev/null >"$OUT" 2>"$ERR"
    status=$?
    [ $status -eq 124 ] && { tail -c 2000 "$ERR"; echo; fail "timed out after ${secs}s"; }
    return 0
}

# expect_line TEXT FILE: a line of FILE equals TEXT
expect_line() {
    grep -qxF "$1" "$2" || { echo "--- $2:"; tail -c 2000 "$2"; echo; fail "no line '$1'"; }
}

expect_status() {
    [ "$status" -eq "$1" ] || { echo "--- stderr:"; tail -c 2000 "$ERR"; echo; fail "exit status $status, wanted $1"; }
}

cleanup() { rm -f "$GUEST_BUILD/$$.out" "$GUEST_BUILD/$$.err"; }
trap cleanup EXIT
