# Debian's 32-bit kernel (linux-image-686): the same checks as linux_amd64.
LINUX_ARCH=i386
. "$(dirname "$0")/linux_amd64.sh"
