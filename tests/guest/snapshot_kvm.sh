# snapshot.sh across backends: saved under the test's backend (the
# interpreter by default), resumed under KVM late in the run (KVM is slow
# where /dev/kvm is software-emulated). Skipped where KVM is unusable.
TANDEM_SNAPSHOT_TO=kvm TANDEM_SNAPSHOT_AT=0030 exec sh "$(dirname "$0")/snapshot.sh"
