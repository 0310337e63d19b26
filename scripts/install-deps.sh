#!/bin/sh
# Installs the Debian packages tandem needs to build and test, only those not
# installed yet. Runs apt-get as root (directly, or through sudo).
set -e
PKGS="gcc make pkg-config libcapstone-dev libcmocka-dev libsdl2-dev libslirp-dev
nasm cpio gzip xz-utils binutils"
[ -n "$TANDEM_EXTRA_PKGS" ] && PKGS="$PKGS $TANDEM_EXTRA_PKGS"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing$missing"
$SUDO apt-get update -qq || echo "install-deps: apt-get update had errors; trying with the lists it has" >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
