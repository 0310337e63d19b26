# The system architecture end to end (tests/guest/cpu_sys.asm): real-mode
# IVT, protected-mode segment faults, paging with #PF retry and A/D bits,
# ring 3 through a TSS and gates, IA-32e mode with IST.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm cpu_sys
run_guest 60 -bios "$GUEST_BUILD/cpu_sys.bin" -m 16
for line in "real int ok" "segment faults ok" "paging ok" "ring 3 ok" \
    "long mode ok"; do
    expect_line "$line" "$ERR"
done
expect_status $EXIT_PASS
