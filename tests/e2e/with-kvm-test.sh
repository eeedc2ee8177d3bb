#!/usr/bin/env bash
# The end-to-end substrate, for real: scripts/with-kvm.sh runs a command with a
# working /dev/kvm (nested under QEMU TCG here), which boots the project's own
# guest kernel (vmlinux, through PVH) with QEMU -accel kvm on 2 vCPUs to a
# busybox init that prints a marker and powers off. The command also writes a
# file into /tmp that the host must see, and exits 3, which with-kvm.sh must
# pass on.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"

dir=$(mktemp -d /tmp/vvu-e2e.XXXXXX)
trap 'rm -rf "$dir"' EXIT
marker=vvu-$RANDOM$RANDOM

vmlinux=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux)
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$dir/initrd.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/tests/e2e/guest-marker.sh:/guest-main.sh"

cat >"$dir/inner.sh" <<INNER
set -u
timeout 300 qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities \
	-smp 2 -m 256 -kernel $vmlinux -initrd $dir/initrd.gz \
	-append "console=ttyS0 panic=-1 vvu.marker=$marker" \
	-display none -serial stdio -monitor none -no-reboot </dev/null
echo "qemu status \$?"
echo written-inside >$dir/from-guest
exit 3
INNER

rc=0
start=$(date +%s)
"$VVU_ROOT/scripts/with-kvm.sh" --timeout 900 -- sh "$dir/inner.sh" | tee "$dir/out" || rc=$?
echo "with-kvm.sh took $(( $(date +%s) - start )) s"

fail() { echo "FAIL: $*"; exit 1; }
[ $rc -eq 3 ] || fail "with-kvm.sh exited $rc, the command exited 3"
grep -q "vvu-e2e: marker $marker" "$dir/out" || fail "the guest kernel did not reach init"
grep -q "vvu-e2e: kernel .*, 2 cpus" "$dir/out" || fail "the guest did not bring up 2 vCPUs"
grep -q "vvu-e2e: vfio no-iommu available" "$dir/out" || fail "the guest kernel lacks VFIO no-IOMMU"
grep -q "reboot: Power down" "$dir/out" || fail "the guest did not power off through ACPI"
grep -q "qemu status 0" "$dir/out" || fail "QEMU did not end cleanly on the guest's poweroff"
[ "$(cat "$dir/from-guest" 2>/dev/null)" = written-inside ] ||
	fail "a file written to /tmp inside is not on the host"
echo "PASS"
