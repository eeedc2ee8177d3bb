#!/usr/bin/env bash
# The vmm boots the project's guest kernel on 2 vCPUs, inside
# scripts/with-kvm.sh, to a busybox init that prints a marker: the vmlinux
# through PVH and the bzImage through the 64-bit boot protocol; then: the
# guest's poweroff (ACPI S5) and reboot (i8042 reset) both end the vmm with
# status 0, SIGTERM stops a running guest with status 0, and a kernel without
# a PVH note or a truncated bzImage is refused with a message naming the
# problem.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"

vmm=$VVU_BUILD/vmm/vmm
[ -x "$vmm" ] || die "'$vmm' is not built"
dir=$(mktemp -d /tmp/vvu-vmm-e2e.XXXXXX)
trap 'rm -rf "$dir"' EXIT
marker=vvu-$RANDOM$RANDOM

vmlinux=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux)
bzimage=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print bzimage)
head -c 4096 "$bzimage" >"$dir/truncated-bzImage"
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$dir/initrd.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/tests/e2e/guest-marker.sh:/guest-main.sh"

# guest-watch.py stops a guest that stalls (no console, its clock stopped).
watch="$VVU_ROOT/scripts/lib/guest-watch.py --kernel $vmlinux"
run="$watch -- timeout 120 $vmm run -c 2 -m 256 -i $dir/initrd.gz"
cat >"$dir/inner.sh" <<INNER
set -u
$run -p "quiet vvu.marker=$marker" $vmlinux
echo "poweroff status \$?"
$run -p "quiet vvu.marker=$marker-r vvu.action=reboot" $vmlinux
echo "reboot status \$?"
# --foreground: a timeout(1) that gets SIGTERM also sends it to its process
# group, and a vmm that gets it twice takes the second as "exit now".
$watch --console $dir/hang.log -- timeout --foreground 120 $vmm run -c 2 -m 256 -i $dir/initrd.gz \
	-p "quiet vvu.marker=$marker-h vvu.action=hang" --serial file=$dir/hang.log $vmlinux &
pid=\$!
for i in \$(seq 120); do grep -q "marker $marker-h" $dir/hang.log 2>/dev/null && break; sleep 1; done
kill -TERM \$pid
wait \$pid
echo "sigterm status \$?"
$vmm run -m 64 /bin/true
echo "no-pvh status \$?"
$run -p "quiet vvu.marker=$marker-bz" $bzimage
echo "bzimage status \$?"
$vmm run -m 64 $dir/truncated-bzImage
echo "truncated-bzimage status \$?"
INNER

start=$(date +%s)
"$VVU_ROOT/scripts/with-kvm.sh" --timeout 900 -- sh "$dir/inner.sh" 2>&1 | tr -d '\r' | tee "$dir/out"
echo "took $(( $(date +%s) - start )) s"

fail() { echo "FAIL: $*"; exit 1; }
# booted MARKER WHAT: that guest reached init, and its init saw 2 CPUs.
booted() {
	grep -q "vvu-e2e: marker $1\$" "$dir/out" || fail "$2 did not reach init"
	grep -B2 "vvu-e2e: marker $1\$" "$dir/out" | grep -q "vvu-e2e: kernel .*, 2 cpus" ||
		fail "$2 did not bring up 2 vCPUs"
}
booted "$marker" "the guest"
grep -q "vvu-e2e: vfio no-iommu available" "$dir/out" || fail "the guest kernel lacks VFIO no-IOMMU"
grep -q "poweroff status 0" "$dir/out" || fail "poweroff did not end the vmm with 0"
grep -q "vvu-e2e: marker $marker-r" "$dir/out" || fail "the reboot guest did not reach init"
grep -q "reboot status 0" "$dir/out" || fail "reboot did not end the vmm with 0"
grep -q "marker $marker-h" "$dir/hang.log" || fail "the serial file has no guest output"
grep -q "sigterm status 0" "$dir/out" || fail "SIGTERM did not stop the vmm with 0"
grep -q "no PVH entry note\|not an x86-64 ELF" "$dir/out" || fail "a bad kernel was not refused by name"
grep -q "no-pvh status 1" "$dir/out" || fail "a bad kernel did not exit 1"
booted "$marker-bz" "the bzImage guest"
grep -q "bzimage status 0" "$dir/out" || fail "the bzImage guest's poweroff did not end the vmm with 0"
grep -q "truncated-bzImage: truncated bzImage" "$dir/out" || fail "a truncated bzImage was not refused by name"
grep -q "truncated-bzimage status 1" "$dir/out" || fail "a truncated bzImage did not exit 1"
echo "PASS"
