# Hardware task switches through TSS descriptors and task gates
# (tests/guest/task_switch.asm, a Multiboot kernel).
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm task_switch -f bin
run_guest 30 -m 32 -kernel "$GUEST_BUILD/task_switch.bin"
for step in "jmp to task B" "jmp back to task A" "debug trap on task switch" \
    "ldt from the new tss" "call to task B" "iret back to task A" \
    "int to a task gate" "iret from the task gate" "16-bit tss" \
    "exception through a task gate"; do
    expect_line "step ok: $step" "$ERR"
done
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
