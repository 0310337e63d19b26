# Every processor exception with its error code and saved state
# (tests/guest/exceptions.asm, a Multiboot kernel). The DR0-DR3 hardware
# breakpoints are not implemented by tandem's CPU yet: they are checked only
# with TANDEM_TEST_DR_BREAKPOINTS=1 (step "#DB breakpoints").
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
steps='#DE #DB #BP #OF #BR #UD #NM #TS #NP #SS #GP #PF #AC #MF #XM #DF'
steps64='#GP non-canonical|#SS non-canonical|#PF|#DE|#UD'
if [ -n "${TANDEM_TEST_DR_BREAKPOINTS:-}" ]; then
    asm exceptions -f bin -DDR_BREAKPOINTS
else
    asm exceptions -f bin
fi
run_guest 30 -m 32 -no-reboot -kernel "$GUEST_BUILD/exceptions.bin"
for step in $steps; do
    expect_line "step ok: $step" "$ERR"
done
IFS='|'
for step in $steps64; do
    expect_line "step ok: 64-bit $step" "$ERR"
done
unset IFS
[ -n "${TANDEM_TEST_DR_BREAKPOINTS:-}" ] && expect_line "step ok: #DB breakpoints" "$ERR"
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
