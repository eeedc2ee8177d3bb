#!/usr/bin/env bash
# The vvu-proxy device in a Linux device VM, inside scripts/with-kvm.sh:
# `vmm run --vvu-proxy SOCK,addr=0000:00:10.0` with the project's kernel (256
# MiB) and a sibling front-end of 512 MiB on SOCK (tests/kvm/vvu-sibling
# --hold: connected, its memory table waiting for a driver of the device; the
# kvm suite's tiny-vvu reads a larger sibling's memory through BAR4, and
# [e2e]'s vblk-backend drives it from Linux). In the device VM, lspci shows the line of
# crosvm's documentation, the seed's sysfs lines move the device to
# vfio-pci (no-IOMMU), and the BARs have the designed sizes: BAR0 32 KiB,
# BAR2 16 KiB, BAR4 64 GiB (the default shm), 64-bit prefetchable.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"

vmm=$VVU_BUILD/vmm/vmm
sibling=$VVU_BUILD/tests/kvm/vvu-sibling
[ -x "$vmm" ] && [ -x "$sibling" ] || die "'$vmm' or '$sibling' is not built"
ensure_packages pciutils pci.ids
dir=$(mktemp -d /tmp/vvu-dev-e2e.XXXXXX)
trap 'rm -rf "$dir"' EXIT
vmlinux=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux)
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$dir/initrd.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/tests/e2e/guest-vvu-device.sh:/guest-main.sh" \
	--bin /usr/bin/lspci --file /usr/share/misc/pci.ids:/usr/share/misc/pci.ids

cat >"$dir/inner.sh" <<INNER
set -u
run=\$(mktemp -d "\$XDG_RUNTIME_DIR/vvu-dev.XXXXXX")
$sibling --hold 512 \$run/blk.sock >$dir/sibling.log 2>&1 &
sib=\$!
$VVU_ROOT/scripts/lib/guest-watch.py --label "device VM" --kernel $vmlinux -- \\
	timeout 300 $vmm run -c 2 -m 256 -i $dir/initrd.gz \\
	--vvu-proxy \$run/blk.sock,addr=0000:00:10.0 \\
	-p "quiet vfio.enable_unsafe_noiommu_mode=1" $vmlinux
echo "vmm status \$?"
kill \$sib 2>/dev/null
wait \$sib
echo "sibling status \$?"
INNER

"$VVU_ROOT/scripts/with-kvm.sh" --timeout 900 -- sh "$dir/inner.sh" 2>&1 | tr -d '\r' | tee "$dir/out"
echo "--- sibling"; cat "$dir/sibling.log"

fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qF -- "$1" "$dir/out" || fail "$2"; }
has "vvu-e2e: lspci: 00:10.0 Unclassified device [00ff]: Red Hat, Inc. Device 107d (rev 01)" \
	"lspci does not show the vvu-proxy device as crosvm's documentation does"
has "vvu-e2e: driver after: vfio-pci" "the seed's sysfs lines did not bind vfio-pci"
grep -q "vvu-e2e: vfio: .*noiommu-0" "$dir/out" || fail "no /dev/vfio/noiommu-0"
has "vvu-e2e: bar0 size 32768 flags 0x0000000000040200" "BAR0 is not 32 KiB of 32-bit memory"
has "vvu-e2e: bar2 size 16384 flags 0x0000000000140204" "BAR2 is not 16 KiB of 64-bit memory"
has "vvu-e2e: bar4 size 68719476736 flags 0x000000000014220c" \
	"BAR4 is not 64 GiB of 64-bit prefetchable memory"
has "vmm status 0" "the device VM did not end cleanly"
grep -q "sibling: 512 MiB memory table sent" "$dir/sibling.log" ||
	fail "the 512 MiB sibling did not send its memory table"
! grep -qE "^(vmm|vvu-proxyd)\[[0-9]+\]: (err|warn)" "$dir/out" || fail "the vmm or vvu-proxyd logged an error"
has "vvu-proxyd (pid" "the vmm did not report how vvu-proxyd ended"
has "exited with status 0" "vvu-proxyd did not exit cleanly with its VM"
echo "PASS"
