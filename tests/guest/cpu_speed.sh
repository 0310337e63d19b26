# Runs the fixed workload of cpu_speed.asm (9 instructions x ITER rounds)
# and prints the backend's speed in guest instructions per second (from
# the process's CPU time, so a busy host skews it less). Passes when the
# program ran to its end correctly; the speed is information, not a gate.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
need_cmd nasm
ITER=${TANDEM_SPEED_ITER:-10000000}
asm cpu_speed -DITER=$ITER
# CPU time of this shell's waited-for children (cutime + cstime)
child_cpu() { awk '{ print $16 + $17 }' /proc/$$/stat 2>/dev/null; }
cpu0=$(child_cpu)
start=$(date +%s%N)
run_guest 120 -bios "$GUEST_BUILD/cpu_speed.bin"
end=$(date +%s%N)
cpu1=$(child_cpu)
expect_status $EXIT_PASS
expect_line "done" "$ERR"
cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')
ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
insns=$((ITER * 9))
wall_ms=$(( (end - start) / 1000000 ))
awk -v n=$insns -v ms=$wall_ms -v c="$cpu" -v t=$ticks -v a="$ACCEL" 'BEGIN {
    printf "%s: %.1f M guest instructions/s wall", a, n / (ms / 1000) / 1e6
    if (c != "" && c > 0) printf ", %.1f M/s per CPU second", n / (c / t) / 1e6
    printf "\n" }'
