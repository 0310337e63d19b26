# Every processor exception with its error code and saved state
# (tests/guest/exceptions.asm, a Multiboot kernel).
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm exceptions -f bin
run_guest 30 -m 32 -kernel "$GUEST_BUILD/exceptions.bin"
for step in "#DE" "#DB" "#BP" "#OF" "#BR" "#UD" "#NM" "#TS" "#NP" "#SS" "#GP" \
    "#PF" "#AC" "#MF" "#XM" "#DF"; do
    expect_line "step ok: $step" "$ERR"
done
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
