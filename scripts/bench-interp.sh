#!/bin/sh
# Speed of tandem's CPU engines against a peer in the same run: the same
# CPU-bound Multiboot guest program (16 guest instructions per loop
# iteration, tests/bench/cpu_loop.asm) under tandem -accel interp, tandem
# -accel jit and qemu-system-x86_64 -accel tcg (installed if missing).
# Prints guest instructions per second for each and the ratios to QEMU.
set -e
cd "$(dirname "$0")/.."
iterations=${ITERATIONS:-25000000}
TANDEM_EXTRA_PKGS=qemu-system-x86 sh scripts/install-deps.sh
mkdir -p build/bench
nasm -f bin -DITERATIONS=$iterations -o build/bench/cpu_loop.bin tests/bench/cpu_loop.asm
[ -f config.mk ] || ./configure
make -j"$(nproc)" tandem >/dev/null

# run LABEL COMMAND...: prints "LABEL SECONDS"; the guest must exit with 33
run() {
    label=$1; shift
    start=$(date +%s.%N)
    status=0
    "$@" -m 16 -nographic -serial none \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel build/bench/cpu_loop.bin >/dev/null </dev/null || status=$?
    end=$(date +%s.%N)
    [ $status -eq 33 ] || { echo "bench-interp: $label did not finish (status $status)" >&2; exit 1; }
    echo "$label $(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')"
}

{
    run qemu-tcg qemu-system-x86_64 -accel tcg
    run tandem-interp ./tandem -accel interp
    run tandem-jit ./tandem -accel jit
} > build/bench/times
awk -v n="$iterations" '
    { t[$1] = $2; order[NR] = $1 }
    END {
        insns = n * 16 + 8
        printf "%-14s %9s %12s %16s\n", "engine", "seconds", "Minsn/s", "speed vs QEMU TCG"
        for (i = 1; i <= NR; i++) {
            k = order[i]
            printf "%-14s %9.2f %12.1f %15.2fx\n", k, t[k], insns / t[k] / 1e6, t["qemu-tcg"] / t[k]
        }
    }' build/bench/times
