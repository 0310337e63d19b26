# Debian's x86-64 kernel boots to the shell and powers off while tandem
# moves the running machine between the JIT and the interpreter every
# 300 ms (-accel-switch-every): same chipset, same state, two engines.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"
[ "$ACCEL" = jit ] || skip "runs once, under the jit/interp pair (TANDEM_TEST_ACCEL=jit)"
need_accel jit
trap 'linux_cleanup; cleanup' EXIT
LINUX_APPEND=quiet
linux_start amd64 -accel-switch-every 300
wait_for "TANDEM-GUEST-READY" "${LINUX_BOOT_TIMEOUT:-900}"
grep -q "Segmentation fault" "$CONSOLE" && fail "a guest program crashed while switching"
echo "booted to the shell in $(( $(date +%s) - BOOT_START )) s while switching"
run_cmd "uname -m" 120
[ "$CMD_OUT" = "x86_64" ] || fail "uname -m says '$CMD_OUT'"
run_cmd "sha256sum /data/blob | cut -c1-16" 300
[ -n "$CMD_OUT" ] || fail "no checksum"
send "poweroff -f"
wait_exit 300
[ "$status" -eq 0 ] || fail "tandem exited with $status"
grep -E "switch" "$LOGERR" | tail -n 1
