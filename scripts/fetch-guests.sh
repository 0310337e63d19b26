#!/bin/sh
# Builds the test guests from Debian packages, cached outside the checkout in
# ${XDG_CACHE_HOME:-~/.cache}/tandem:
#   linux-amd64/vmlinuz   Debian's x86-64 kernel (linux-image-amd64)
#   linux-686/vmlinuz     Debian's 32-bit kernel (linux-image-686, i386)
#   initrd-amd64.cpio.gz  busybox-static (amd64) initramfs
#   initrd-i386.cpio.gz   busybox-static (i386) initramfs
#   seabios/bios-256k.bin SeaBIOS (seabios)
# Usage: fetch-guests.sh [amd64] [i386] [seabios]   (default: all)
# Prints nothing when everything is cached already.
set -e
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tandem
mkdir -p "$CACHE/debs"
what=${*:-amd64 i386 seabios}
SUDO="" APT_SANDBOX=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
[ "$(id -u)" -eq 0 ] && APT_SANDBOX="-o APT::Sandbox::User=root"

apt_prepare() { # PACKAGE[:ARCH]: make sure apt can find it
    case "$1" in *:i386)
        if ! dpkg --print-foreign-architectures | grep -qx i386; then
            $SUDO dpkg --add-architecture i386
        fi ;;
    esac
    apt-cache show "$1" >/dev/null 2>&1 && return 0
    $SUDO apt-get update -qq ||
        echo "fetch-guests: apt-get update had errors; trying with the lists it has" >&2
}

# fetch PACKAGE[:ARCH] -> path of the .deb in the cache (resolving a
# metapackage like linux-image-amd64 to the kernel package it depends on)
fetch() {
    pkg=$1
    arch=${pkg#*:}; [ "$arch" = "$pkg" ] && arch=""
    apt_prepare "$pkg"
    name=${pkg%%:*}
    case "$name" in linux-image-amd64|linux-image-686)
        real=$(apt-cache depends "$pkg" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
        real=${real%%:*}
        [ -n "$real" ] || { echo "fetch-guests: cannot resolve $pkg" >&2; exit 1; }
        name=$real ;;
    esac
    full=$name${arch:+:$arch}
    deb=$(ls "$CACHE"/debs/"${name}"_*"${arch:+_$arch}".deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
        echo "fetch-guests: downloading $full" >&2
        (cd "$CACHE/debs" && apt-get download -qq $APT_SANDBOX "$full" >&2)
        deb=$(ls "$CACHE"/debs/"${name}"_*.deb | grep "${arch:-.}" | head -n 1)
    fi
    echo "$deb"
}

extract() { # deb dir
    rm -rf "$2"
    mkdir -p "$2"
    dpkg-deb -x "$1" "$2"
}

kernel() { # metapackage dir
    [ -f "$CACHE/$2/vmlinuz" ] && return 0
    deb=$(fetch "$1")
    extract "$deb" "$CACHE/$2.tmp"
    mkdir -p "$CACHE/$2"
    cp "$CACHE/$2.tmp"/boot/vmlinuz-* "$CACHE/$2/vmlinuz"
    rm -rf "$CACHE/$2.tmp"
}

initrd() { # arch
    out="$CACHE/initrd-$1.cpio.gz"
    [ -f "$out" ] && return 0
    deb=$(fetch "busybox-static:$1")
    root="$CACHE/initrd-$1"
    rm -rf "$root"
    extract "$deb" "$root.deb"
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/data"
    cp "$root.deb/bin/busybox" "$root/bin/busybox"
    rm -rf "$root.deb"
    ln -s busybox "$root/bin/sh"
    # a fixed 1 MiB file whose checksum the tests compare with the host's
    i=0
    while [ $i -lt 4096 ]; do printf 'tandem test data block %08d ................................................................................................................................................................................................................................\n' $i; i=$((i + 1)); done | head -c 1048576 > "$root/data/blob"
    cat > "$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "TANDEM-GUEST-READY $(uname -m)"
exec setsid cttyhack sh
INIT
    chmod 755 "$root/init"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$out.tmp"
    mv "$out.tmp" "$out"
}

seabios() {
    [ -f "$CACHE/seabios/bios-256k.bin" ] && return 0
    deb=$(fetch seabios)
    extract "$deb" "$CACHE/seabios.tmp"
    mkdir -p "$CACHE/seabios"
    cp "$CACHE/seabios.tmp/usr/share/seabios/bios-256k.bin" "$CACHE/seabios/"
    rm -rf "$CACHE/seabios.tmp"
}

for w in $what; do
    case "$w" in
    amd64) kernel linux-image-amd64 linux-amd64; initrd amd64 ;;
    i386) kernel linux-image-686:i386 linux-686; initrd i386 ;;
    seabios) seabios ;;
    *) echo "fetch-guests: unknown guest '$w' (amd64, i386, seabios)" >&2; exit 1 ;;
    esac
done
