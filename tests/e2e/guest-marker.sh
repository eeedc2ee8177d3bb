#!/bin/sh
# /guest-main.sh of the guest kernel smoke tests: proves the kernel booted
# through to user space, with the devices the project relies on, then does
# what vvu.action asks: return (init powers off), reboot, or hang (the host
# then stops the VM from outside).
echo "vvu-e2e: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"
[ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ] &&
	echo "vvu-e2e: vfio no-iommu available"
echo "vvu-e2e: marker $VVU_marker"
case ${VVU_action:-} in
reboot) sync; reboot -f ;;
hang) while :; do sleep 1; done ;;
esac
