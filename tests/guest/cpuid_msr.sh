# CPUID consistency, leaf 0xD, MSR round trips, #GP for an unknown MSR,
# RDTSC/RDTSCP (tests/guest/cpuid_msr.asm, a Multiboot kernel).
. "$(dirname "$0")/lib/common.sh"
need_accel "$ACCEL"
asm cpuid_msr -f bin
run_guest 30 -m 32 -kernel "$GUEST_BUILD/cpuid_msr.bin"
grep -qx "vendor [A-Za-z]\{12\}" "$ERR" || fail "no 12-letter vendor line"
for step in "leaf 0" "feature bits stable" "leaf 0xd sizes" "msr round trips" \
    "apic base msr" "unknown msr gp" "rdtsc increases" "rdtscp tsc_aux"; do
    expect_line "step ok: $step" "$ERR"
done
expect_line "PASS" "$ERR"
expect_status $EXIT_PASS
