# Helpers for the Linux guest tests (sourced after lib.sh): boot Debian's
# kernel with the busybox initramfs on the serial console, talk to its
# shell through a FIFO, and check the boot log for a healthy machine.

# linux_start ARCH [tandem args]: ARCH amd64 or i386; sets $CONSOLE (the
# serial output file) and $TANDEM_PID; stdin is the FIFO $IN
linux_start() {
    arch=$1; shift
    case "$arch" in
    amd64) kernel="$CACHE/linux-amd64/vmlinuz" ;;
    i386) kernel="$CACHE/linux-686/vmlinuz" ;;
    esac
    initrd="$CACHE/initrd-$arch.cpio.gz"
    [ -f "$kernel" ] && [ -f "$initrd" ] ||
        skip "the $arch guest is not in $CACHE (scripts/fetch-guests.sh $arch)"
    tag="$arch-$$${LINUX_TAG:+-$LINUX_TAG}"   # LINUX_TAG: several at once
    IN="$GUEST_BUILD/linux-$tag.in"
    CONSOLE="$GUEST_BUILD/linux-$tag.console"
    LOGERR="$GUEST_BUILD/linux-$tag.stderr"
    rm -f "$IN"
    mkfifo "$IN"
    exec 3<>"$IN"       # held open read-write: neither side blocks or sees EOF
    "$TANDEM" -accel "$ACCEL" -m 256 -nographic -kernel "$kernel" \
        -initrd "$initrd" -append "console=ttyS0 panic=-1 ${LINUX_APPEND:-}" \
        -no-reboot "$@" <&3 >"$CONSOLE" 2>"$LOGERR" &
    TANDEM_PID=$!
    BOOT_START=$(date +%s)
}

# wait_for TEXT SECONDS [-x]: until the console shows TEXT (a fixed string;
# with -x, as a whole line, so that the echo of a typed command does not
# count)
wait_for() {
    end=$(( $(date +%s) + $2 ))
    while ! tr -d '\r' <"$CONSOLE" 2>/dev/null | grep -qF ${3:-} -- "$1"; do
        if ! kill -0 "$TANDEM_PID" 2>/dev/null; then
            tail -n 40 "$CONSOLE"; cat "$LOGERR"
            fail "tandem exited before '$1' appeared"
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            tail -n 40 "$CONSOLE"
            kill "$TANDEM_PID" 2>/dev/null
            fail "no '$1' on the console after $2 s"
        fi
        sleep 0.2
    done
}

# send LINE: type a line into the guest's shell
send() { printf '%s\n' "$1" >&3; }

# run_cmd COMMAND SECONDS: run COMMAND in the guest and wait for it to end;
# its output (between the markers) is left in $CMD_OUT
run_cmd() {
    CMD_SEQ=$(date +%s%N)   # unique even from subshells
    # the quotes keep the markers out of the terminal's echo of the line
    send "echo CMD-BEG''IN-$CMD_SEQ; $1; echo CMD-E''ND-$CMD_SEQ"
    wait_for "CMD-END-$CMD_SEQ" "${2:-60}" -x
    CMD_OUT=$(tr -d '\r' <"$CONSOLE" | sed -n "/^CMD-BEGIN-$CMD_SEQ\$/,/^CMD-END-$CMD_SEQ\$/p" |
        sed '1d;$d' | { grep -v '^\[ *[0-9]*\.[0-9]*\] ' || true; })  # no kernel messages
}

# wait_exit SECONDS: tandem ends; sets $status
wait_exit() {
    end=$(( $(date +%s) + $1 ))
    while kill -0 "$TANDEM_PID" 2>/dev/null; do
        [ "$(date +%s)" -ge "$end" ] && { kill "$TANDEM_PID"; fail "tandem did not exit within $1 s"; }
        sleep 0.2
    done
    wait "$TANDEM_PID"
    status=$?
    exec 3>&-
}

# The boot log of a healthy machine: ACPI and the IOAPIC found, a stable
# clocksource, calibration done, no complaints
check_boot_log() {
    log=$(tr -d '\r' <"$CONSOLE")
    for want in "IOAPIC[0]: apic_id" "ACPI: Using IOAPIC for interrupt routing" \
        "clocksource: Switched to clocksource"; do
        echo "$log" | grep -qF "$want" || fail "boot log lacks '$want'"
    done
    for bad in "spurious" "lost ticks" "WARNING:" "Oops" "BUG:" "Call Trace" \
        "Kernel panic" "timer doesn't work" "MP-BIOS bug" "IRQ0 not connected"; do
        if echo "$log" | grep -qiF "$bad"; then
            echo "$log" | grep -iF -B3 -A3 "$bad" | head -n 20
            fail "boot log shows '$bad'"
        fi
    done
}

linux_cleanup() {
    [ -n "${TANDEM_PID:-}" ] && kill "$TANDEM_PID" 2>/dev/null
    rm -f "$IN"
}
