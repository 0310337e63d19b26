#!/bin/sh
# What the JIT leaves to its slow paths on a real workload: boots the
# x86-64 Debian guest under `tandem -accel jit` with TANDEM_JIT_STATS set,
# makes the benchmark's 16 MiB /tmp/data, runs COMMAND in the guest shell
# (its busybox `time` is printed) and powers off; the counters
# (jit/jit_stats.c) go to FILE, default build/guest/jit-stats.txt.
#   scripts/jit-stats.sh 'sha256sum /tmp/data' [FILE]
set -e
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [FILE]" >&2; exit 2; }
TANDEM_ROOT=$(pwd)
. tests/guest/lib/common.sh
. tests/guest/lib/linux.sh
export TANDEM_JIT_STATS="$(realpath -m "${2:-$GUEST_BUILD/jit-stats.txt}")"
ACCEL=jit LINUX_APPEND=quiet
linux_start amd64
wait_for "TANDEM-GUEST-READY" 600
run_cmd 'for i in $(seq 16); do cat /data/blob; done > /tmp/data' 600
run_cmd "time sh -c '$1' 2>&1 | grep ^real" 3600
echo "$CMD_OUT"
send "poweroff -f"
wait_exit 300
echo "counters in $TANDEM_JIT_STATS"
