#!/bin/sh
# Speed of tandem against QEMU's TCG and the host: boots the same x86-64
# Debian kernel + busybox initramfs under `tandem -accel jit` (or the
# backend given as $ACCEL) and under `qemu-system-x86_64 -accel tcg`, runs
# the same CPU-bound busybox workload in both and natively on the host with
# the same busybox binary, and prints each item's time with the ratios
# tandem/QEMU and tandem/native, the boot time to the shell and each
# emulator's peak RSS. The two guests stay up side by side and take each
# item in turn, so that a change in the machine's load touches both.
# Installs qemu-system-x86 if it is missing.
set -e
cd "$(dirname "$0")/.."
TANDEM_EXTRA_PKGS=qemu-system-x86 sh scripts/install-deps.sh
sh scripts/fetch-guests.sh amd64
[ -f config.mk ] || ./configure
make -j"$(nproc)" tandem >/dev/null
TANDEM_ROOT=$(pwd)
. tests/guest/lib/common.sh
. tests/guest/lib/linux.sh
BUSYBOX="$CACHE/initrd-amd64/bin/busybox"
RESULTS="$GUEST_BUILD/bench-$$"
mkdir -p "$RESULTS"

# name|command: each runs under busybox's `time`
ITEMS='sha256sum|sha256sum /tmp/data
gzip|gzip -c /tmp/data >/dev/null
awk loop|awk "BEGIN { s = 0; for (i = 0; i < 2000000; i++) s += i % 7; print s }"
shell loop|i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done
500 fork+exec|for i in $(seq 500); do /bin/true; done'
PREP='for i in $(seq 16); do cat /data/blob; done > /tmp/data'

# seconds from busybox time's "real 0m 1.23s" / "real 1m 2.50s"
real_secs() { awk '/^real/ { gsub("s", "", $3); split($2, m, "m"); print m[1] * 60 + $3 }'; }

guest_time() { # inside the current guest's shell
    run_cmd "time sh -c '$1' 2>&1 | grep ^real" 3600
    echo "$CMD_OUT"
}

native_time() {
    (cd "$RESULTS" && "$BUSYBOX" sh -c "export PATH=$RESULTS/bin:\$PATH; time sh -c '$(echo "$1" | sed "s|/tmp/data|$RESULTS/data|g; s|/bin/true|$RESULTS/bin/true|")'" 2>&1 | grep ^real)
}

# Both emulators stay up side by side and take the items in turn, so a
# change in the machine's load touches both alike. Each one's console,
# PID and input FIFO (fd 3 while it is the current one; kept on fd 4 and
# fd 5) are switched with use_vm.
boot_emulator() { # label emulator-binary accel fd
    TANDEM=$2 ACCEL=$3 LINUX_APPEND=quiet LINUX_TAG=$1
    CONSOLE_START=$(date +%s.%N)
    linux_start amd64
    wait_for "TANDEM-GUEST-READY" 3600
    boot=$(awk -v s="$CONSOLE_START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    echo "boot|$boot" > "$RESULTS/$1"
    run_cmd "$PREP" 3600
    eval "exec $4>&3"
    eval "CONSOLE_$1=\$CONSOLE PID_$1=\$TANDEM_PID FD_$1=$4"
}

use_vm() { # label
    eval "CONSOLE=\$CONSOLE_$1 TANDEM_PID=\$PID_$1 fd=\$FD_$1"
    eval "exec 3>&$fd"
}

finish_vm() { # label
    use_vm "$1"
    rss=$(awk '/VmHWM/ { print $2 }' /proc/$TANDEM_PID/status)
    echo "peak RSS MiB|$((rss / 1024))" >> "$RESULTS/$1"
    send "poweroff -f"
    wait_exit 300
}

boot_emulator tandem "$ROOT/tandem" "${BENCH_ACCEL:-jit}" 4
boot_emulator qemu qemu-system-x86_64 tcg 5

# native: the same busybox, the same data
mkdir -p "$RESULTS/bin"
for a in sh sha256sum gzip awk seq true cat; do ln -sf "$BUSYBOX" "$RESULTS/bin/$a"; done
for i in $(seq 16); do cat "$CACHE/initrd-amd64/data/blob"; done > "$RESULTS/data"

echo "$ITEMS" > "$RESULTS/items"
while IFS='|' read -r name cmd; do
    for vm in tandem qemu; do
        use_vm $vm
        echo "$name|$(guest_time "$cmd" | real_secs)" >> "$RESULTS/$vm"
    done
    echo "$name|$(native_time "$cmd" | real_secs)" >> "$RESULTS/native"
done < "$RESULTS/items"
finish_vm tandem
finish_vm qemu


printf '%-16s %10s %10s %10s %12s %12s\n' item tandem qemu native tandem/qemu tandem/native
while IFS='|' read -r name t; do
    q=$(grep "^$name|" "$RESULTS/qemu" | cut -d'|' -f2)
    n=$(grep "^$name|" "$RESULTS/native" | cut -d'|' -f2)
    awk -v name="$name" -v t="$t" -v q="$q" -v n="$n" 'BEGIN {
        printf "%-16s %10s %10s %10s %12s %12s\n", name, t, q, (n == "" ? "-" : n),
            (q > 0 ? sprintf("%.2f", t / q) : "-"), (n > 0 ? sprintf("%.1f", t / n) : "-") }'
done < "$RESULTS/tandem"
rm -rf "$RESULTS"
