#!/bin/sh
# Two tandem binaries on the same guest commands, for measuring a change on
# a busy machine: boots the x86-64 Debian guest under `-accel jit` with OLD,
# then NEW, ROUNDS times in turn (default 3), runs each COMMAND in the guest
# shell and prints the CPU seconds tandem spent on it (user + system, from
# /proc: steadier than wall time when other work shares the cores), the
# boot's CPU seconds, and per item the median of each binary and NEW/OLD.
#   scripts/bench-ab.sh OLD NEW 'sha256sum /tmp/data' 'gzip -c /tmp/data'
# /tmp/data is the benchmark's 16 MiB file, as in scripts/bench-vs-qemu.sh.
set -e
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: $0 OLD NEW COMMAND..." >&2; exit 2; }
OLD=$(realpath "$1") NEW=$(realpath "$2")
shift 2
TANDEM_ROOT=$(pwd)
. tests/guest/lib/common.sh
. tests/guest/lib/linux.sh
ACCEL=jit LINUX_APPEND=quiet
OUT="$GUEST_BUILD/bench-ab-$$"
: >"$OUT"

cpu_secs() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$TANDEM_PID/stat"; }

one_run() { # label binary COMMAND...
    label=$1 TANDEM=$2
    shift 2
    linux_start amd64
    wait_for "TANDEM-GUEST-READY" 600
    echo "$label|boot|$(cpu_secs)" >>"$OUT"
    run_cmd 'for i in $(seq 16); do cat /data/blob; done > /tmp/data' 600
    for c in "$@"; do
        a=$(cpu_secs)
        run_cmd "$c >/dev/null" 3600
        echo "$label|$c|$(echo "$a $(cpu_secs)" | awk '{ printf "%.2f", $2 - $1 }')" >>"$OUT"
    done
    send "poweroff -f"
    wait_exit 300
}

for r in $(seq "${ROUNDS:-3}"); do
    one_run old "$OLD" "$@"
    one_run new "$NEW" "$@"
done
# medians per item and binary
awk -F'|' '
    { v[$2, $1] = v[$2, $1] " " $3; if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 } }
    function median(s,   a, k, i, j, t) {
        k = split(s, a, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
            if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return a[int((k + 1) / 2)]
    }
    END {
        printf "%-40s %8s %8s %8s\n", "item (CPU s, median)", "old", "new", "new/old"
        for (i = 0; i < n; i++) {
            o = median(v[order[i], "old"]); w = median(v[order[i], "new"])
            printf "%-40.40s %8.2f %8.2f %8.2f\n", order[i], o, w, (o > 0 ? w / o : 0)
        }
    }' "$OUT"
