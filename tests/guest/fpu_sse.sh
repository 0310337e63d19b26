# x87 and SSE..SSE4.2 results of the guest (tests/guest/fpu_sse.asm) against
# the same instructions with the same inputs on the host CPU
# (tests/guest/fpu_sse_host.c): every line the host prints must be printed
# by the guest too.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
need_cmd cc
[ "$(uname -m)" = x86_64 ] || skip "the host is not x86-64"
grep -qw sse4_2 /proc/cpuinfo 2>/dev/null || skip "the host CPU has no SSE4.2"
cc -O1 -msse4.2 -o "$GUEST_BUILD/fpu_sse_host" "$ROOT/tests/guest/fpu_sse_host.c" ||
    fail "cc fpu_sse_host.c"
"$GUEST_BUILD/fpu_sse_host" > "$GUEST_BUILD/fpu_sse_host.txt" || fail "fpu_sse_host"
asm fpu_sse -f bin
run_guest 30 -m 32 -kernel "$GUEST_BUILD/fpu_sse.bin"
while IFS= read -r line; do
    expect_line "$line" "$ERR"
done < "$GUEST_BUILD/fpu_sse_host.txt"
[ "$(grep -c = "$ERR")" -eq "$(wc -l < "$GUEST_BUILD/fpu_sse_host.txt")" ] ||
    fail "the guest printed other results than the host"
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
