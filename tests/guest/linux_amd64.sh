# Debian's x86-64 kernel boots to the busybox shell on the serial console,
# runs commands (uname, mount, a checksum compared with the host's) and
# powers off through ACPI: tandem exits with status 0.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"
need_accel "$ACCEL"
ARCH=${LINUX_ARCH:-amd64}
trap 'linux_cleanup; cleanup' EXIT
linux_start "$ARCH"
wait_for "TANDEM-GUEST-READY" "${LINUX_BOOT_TIMEOUT:-600}"
echo "booted to the shell in $(( $(date +%s) - BOOT_START )) s"
check_boot_log
run_cmd "dmesg -n 1" 60   # kernel messages off the console from here on
run_cmd "uname -m" 60
case "$ARCH" in
amd64) [ "$CMD_OUT" = "x86_64" ] || fail "uname -m says '$CMD_OUT'" ;;
i386) case "$CMD_OUT" in i?86) ;; *) fail "uname -m says '$CMD_OUT'" ;; esac ;;
esac
run_cmd "mount | grep -c '^proc on /proc'" 60
[ "$CMD_OUT" = "1" ] || fail "/proc is not mounted: '$CMD_OUT'"
host_sum=$(zcat "$CACHE/initrd-$ARCH.cpio.gz" | (cd "$GUEST_BUILD" && rm -rf cpio-$$ && mkdir cpio-$$ && cd cpio-$$ && cpio -id --quiet data/blob && sha256sum data/blob | cut -d' ' -f1))
rm -rf "$GUEST_BUILD/cpio-$$"
run_cmd "sha256sum /data/blob" 120
[ "${CMD_OUT%% *}" = "$host_sum" ] || fail "checksum in the guest '${CMD_OUT%% *}' != host '$host_sum'"
send "poweroff -f"
wait_exit 120
[ "$status" -eq 0 ] || fail "tandem exited with $status after the guest powered off"
