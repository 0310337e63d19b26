# -accel-switch-every: snapcount.asm (LCG rounds and PIT interrupt waits)
# while tandem moves the machine between two backends every few
# milliseconds must end with the same result as an undisturbed run. The
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
run_guest 180 -bios "$GUEST_BUILD/snapcount.bin" -m 16 -accel-switch-every ${TANDEM_SWITCH_MS:-15}
expect_line "result 115448c8" "$ERR"
expect_status $EXIT_PASS
line=$(grep "accel-switch-every:" "$ERR") || fail "no switch summary"
echo "$line"
n=$(echo "$line" | sed 's/.*: \([0-9]*\) switches.*/\1/')
[ "$n" -ge 4 ] || fail "only $n switches"
