# Snapshots end to end: a guest counting through phases with timer waits
# (snapcount.asm) is stopped mid-run through the monitor on a Unix socket,
# saved with savevm and ended with quit; a second tandem resumes it with
# -loadvm under another backend (TANDEM_SNAPSHOT_TO; default the JIT, or
# the interpreter when the test runs on the JIT) and must reach the result of an
# uninterrupted run. A damaged snapshot must be refused with one line, by
# -loadvm and by the monitor's loadvm, which leaves the guest running.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
need_cmd python3
TO=${TANDEM_SNAPSHOT_TO:-}
if [ -z "$TO" ]; then # the JIT, or the interpreter for a JIT run
    TO=$ACCEL
    for b in jit interp; do
        [ "$b" != "$ACCEL" ] && "$TANDEM" -accel help | grep -q "^  $b " && { TO=$b; break; }
    done
fi
need_accel "$TO"
AT=${TANDEM_SNAPSHOT_AT:-0010}   # save once the guest printed this phase
RESULT="result eba5e455"        # snapcount.asm is deterministic
asm snapcount
SNAP="$GUEST_BUILD/$$.snap"
SOCK="$GUEST_BUILD/$$.sock"
BAD="$GUEST_BUILD/$$.bad"
REPLIES="$GUEST_BUILD/$$.replies"
trap 'cleanup; rm -f "$SNAP" "$SOCK" "$BAD" "$REPLIES"' EXIT

# 1: run, and save through the monitor mid-run
OUT="$GUEST_BUILD/$$.out"
ERR="$GUEST_BUILD/$$.err"
: >"$ERR"
timeout -k 5 120 "$TANDEM" -accel "$ACCEL" -nographic -serial none $DEBUG_EXIT \
    -bios "$GUEST_BUILD/snapcount.bin" -m 16 \
    -monitor "unix:$SOCK,server,nowait" </dev/null >"$OUT" 2>"$ERR" &
pid=$!
printf 'not a snapshot' >"$BAD"
python3 "$ROOT/tests/guest/lib/monitor.py" "$SOCK" "$ERR" "phase $AT" \
    stop "info status" "info accel" "info registers" "loadvm $BAD" \
    "savevm $SNAP" "bogus" quit >"$REPLIES" 2>&1
client=$?
wait $pid
status=$?
cat "$REPLIES"
[ $client -eq 0 ] || fail "the monitor client failed"
expect_status 0
grep -q "^VM status: paused" "$REPLIES" || fail "stop did not pause"
grep -qx "$ACCEL" "$REPLIES" || fail "info accel does not say $ACCEL"
grep -q "^RIP=" "$REPLIES" || fail "info registers shows no RIP"
grep -q "^Error: .*not a tandem snapshot" "$REPLIES" || fail "monitor loadvm took a bad file"
grep -q "^unknown command: 'bogus'" "$REPLIES" || fail "no error for an unknown command"
grep -q "^result" "$ERR" && fail "the guest finished before it was saved"
[ -s "$SNAP" ] || fail "savevm wrote no file"

# 2: resume under $TO
run_guest 120 -accel "$TO" -bios "$GUEST_BUILD/snapcount.bin" -m 16 -loadvm "$SNAP"
expect_line "$RESULT" "$ERR"
expect_status $EXIT_PASS
first=$(grep -m1 '^phase' "$ERR")
[ "$first" != "phase 0000" ] || fail "-loadvm started the guest from the beginning"
echo "resumed under $TO at '$first'"

# 3: a damaged snapshot: one line, exit 1, nothing run
size=$(wc -c <"$SNAP")
cp "$SNAP" "$BAD"
printf '\377' | dd of="$BAD" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
run_guest 30 -bios "$GUEST_BUILD/snapcount.bin" -m 16 -loadvm "$BAD"
expect_status 1
[ "$(wc -l <"$ERR")" -eq 1 ] || { cat "$ERR"; fail "more than one line for a bad snapshot"; }
grep -q "^tandem: -loadvm .*checksum" "$ERR" || { cat "$ERR"; fail "no checksum error"; }
# and another RAM size
run_guest 30 -bios "$GUEST_BUILD/snapcount.bin" -m 32 -loadvm "$SNAP"
expect_status 1
grep -q "RAM" "$ERR" || { cat "$ERR"; fail "no RAM size error"; }
