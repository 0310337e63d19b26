# A raw firmware image at the reset vector checks the chipset as a BIOS
# would: PCI IDs, CMOS memory size, the 8259 mask, the PIT, fw_cfg.
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm bios_chipset
run_guest 30 -bios "$GUEST_BUILD/bios_chipset.bin" -m 64
for line in "reset vector ok" "pci host bridge 8086:1237" "pci isa bridge 8086:7000" \
    "cmos memory size ok" "pic imr ok" "pit counts" "fw_cfg signature QEMU"; do
    expect_line "$line" "$ERR"
done
expect_status $EXIT_PASS
