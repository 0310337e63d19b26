# The four ways a PC resets (0xCF9, port 0x92, the keyboard controller, a
# triple fault) restart the machine at the reset vector, and with
# -no-reboot end tandem with status 0 and a message saying why.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
for method in ${RESET_METHODS:-1 2 3 4}; do
    asm reset -DMETHOD=$method
    run_guest 30 -bios "$GUEST_BUILD/reset.bin"
    expect_line "resetting" "$ERR"
    expect_line "after reset" "$ERR"
    expect_status $EXIT_PASS
    run_guest 30 -bios "$GUEST_BUILD/reset.bin" -no-reboot
    expect_status 0
    grep -q "exiting because of -no-reboot" "$ERR" || fail "method $method: no -no-reboot message"
    if grep -q "after reset" "$ERR"; then
        fail "method $method: ran again despite -no-reboot"
    fi
    echo "method $method: $(grep -- -no-reboot "$ERR")"
    if [ $method = 4 ]; then
        grep -q "triple fault: #GP while delivering #GP, then #GP while delivering #DF" "$ERR" ||
            fail "the triple fault message does not name the exceptions"
    fi
done
