#!/bin/sh
# Sets up everything on a fresh Debian machine and boots the default guest:
# Debian's x86-64 kernel with a busybox initramfs, on the serial console of
# this terminal. Ctrl-A X (or `poweroff -f` in the guest) ends tandem.
# Extra arguments go to tandem (for example -accel interp).
set -e
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/fetch-guests.sh amd64
[ -f config.mk ] || ./configure
make -j"$(nproc)" tandem
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tandem
exec ./tandem -m 512M -nographic -kernel "$CACHE/linux-amd64/vmlinuz" \
    -initrd "$CACHE/initrd-amd64.cpio.gz" -append "console=ttyS0" "$@"
