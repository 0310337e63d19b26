# -accel-switch-every: snapcount.asm (LCG rounds and PIT interrupt waits)
# while tandem moves the machine between two backends every few
# milliseconds must end with the same result as an undisturbed run, with
# one vCPU and with an AP that waits for its SIPI throughout. The
# pair is the test's backend and the JIT or KVM (or the interpreter);
# skipped when this build and host have only one.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
usable() { "$TANDEM" -accel help | grep "^  $1 " | grep -qv "not usable"; }
partner=""
for b in jit kvm interp; do
    [ "$b" != "$ACCEL" ] && usable "$b" && { partner=$b; break; }
done
[ -n "$partner" ] || skip "-accel-switch-every needs a second usable backend besides $ACCEL"
asm snapcount
# with -smp 2 the AP waits for a SIPI that never comes: it must keep
# waiting on every backend (a started AP would run the program again);
# -icount keeps KVM out, so a JIT run pairs with the interpreter
for args in "-smp 1" "-smp 2" "-smp 1 -icount shift=3"; do
    case "$args" in *icount*) [ "$ACCEL" = kvm ] && continue ;; esac
    run_guest 180 -bios "$GUEST_BUILD/snapcount.bin" -m 16 $args \
        -accel-switch-every ${TANDEM_SWITCH_MS:-15}
    expect_line "result eba5e455" "$ERR"
    expect_status $EXIT_PASS
    [ "$(grep -c '^phase 0000$' "$ERR")" -eq 1 ] || fail "$args: the program started twice"
    line=$(grep "accel-switch-every:" "$ERR") || fail "no switch summary"
    echo "$args: $line"
    n=$(echo "$line" | sed 's/.*: \([0-9]*\) switches.*/\1/')
    [ "$n" -ge 4 ] || fail "only $n switches"
done
