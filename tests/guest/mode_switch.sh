# The full round trip real -> protected -> paging (4K, 4M, PAE) -> long
# mode -> compatibility -> protected -> real mode (tests/guest/mode_switch.asm,
# a raw firmware image at the reset vector).
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm mode_switch
run_guest 30 -bios "$GUEST_BUILD/mode_switch.bin" -m 16 -no-reboot
for step in "real mode" "16-bit protected mode" "32-bit protected mode" \
    "paging 4k pages" "paging 4m pse page" "pae paging" "long mode" \
    "rip-relative addressing" "64-bit stack" "long mode alias mapping" \
    "compatibility mode" "protected mode paging off" "real mode again" \
    "unreal mode" "real mode segment limit"; do
    expect_line "step ok: $step" "$ERR"
done
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
