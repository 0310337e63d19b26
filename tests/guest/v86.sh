# Virtual-8086 mode: IRET into it, INT n reflected by a #GP monitor (IOPL 0)
# or through the IDT (IOPL 3), the TSS I/O bitmap, back to protected mode
# (tests/guest/v86.asm, a Multiboot kernel).
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm v86 -f bin
run_guest 30 -m 32 -kernel "$GUEST_BUILD/v86.bin"
expect_line "v86 hello via port e9" "$ERR"
for step in "v86 entered with iret" "int reflected through the #GP monitor" \
    "iopl-sensitive instructions trapped" "io bitmap honoured" "int through the idt with iopl 3" "back in protected mode"; do
    expect_line "step ok: $step" "$ERR"
done
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
