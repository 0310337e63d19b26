# SYSENTER/SYSEXIT in protected mode, SYSCALL/SYSRET in IA-32e mode
# (tests/guest/syscall_sysenter.asm, a Multiboot kernel).
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm syscall_sysenter -f bin
run_guest 30 -m 32 -no-reboot -kernel "$GUEST_BUILD/syscall_sysenter.bin"
for step in "sysenter to ring 0" "sysexit to ring 3" "sysret to 64-bit ring 3" \
    "syscall to ring 0" "syscall round trip" \
    "sysret to a non-canonical rip is #GP in ring 0" "sysret to compatibility mode" \
    "syscall in compatibility mode is #UD"; do
    expect_line "step ok: $step" "$ERR"
done
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
