# The reset paths (reset.sh) on the KVM backend: each reset tears the KVM VM
# down and builds it again from the reset memory map. The triple-fault
# method is left out: a software /dev/kvm (no vmx/svm) emulates real mode
# without the IDT limit check that turns its INT 3 into a triple fault.
# Skipped where /dev/kvm is unusable.
RESET_METHODS="1 2 3" TANDEM_TEST_ACCEL=kvm exec sh "$(dirname "$0")/reset.sh"
