# The raw-BIOS chipset check (bios_chipset.sh) on the KVM backend: port I/O,
# string I/O and the BIOS ROM mapping through KVM exits and memslots.
# Skipped where /dev/kvm is unusable.
TANDEM_TEST_ACCEL=kvm exec sh "$(dirname "$0")/bios_chipset.sh"
