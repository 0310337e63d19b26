#!/bin/sh
# Speed of tandem's interpreter: runs a CPU-bound guest program (16 guest
# instructions per loop iteration, see tests/bench/cpu_loop.asm) under
# -accel interp (or the backend named as the first argument) and prints
# guest instructions per second.
set -e
cd "$(dirname "$0")/.."
accel=${1:-interp}
iterations=${ITERATIONS:-25000000}
mkdir -p build/bench
nasm -f bin -DITERATIONS=$iterations -o build/bench/cpu_loop.bin tests/bench/cpu_loop.asm
[ -x ./tandem ] || make -j"$(nproc)" tandem
start=$(date +%s.%N)
status=0
./tandem -accel "$accel" -m 16 -nographic -serial none \
    -device isa-debug-exit,iobase=0xf4,iosize=4 \
    -kernel build/bench/cpu_loop.bin || status=$?
end=$(date +%s.%N)
[ $status -eq 33 ] || { echo "bench-interp: the guest did not finish (status $status)" >&2; exit 1; }
awk -v s="$start" -v e="$end" -v n="$iterations" -v a="$accel" 'BEGIN {
    t = e - s; insns = n * 16 + 8;
    printf "%s: %d guest instructions in %.2f s: %.1f million instructions/s\n", a, insns, t, insns / t / 1e6 }'
