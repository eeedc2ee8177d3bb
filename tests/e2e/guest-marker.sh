#!/bin/sh
# /guest-main.sh of the guest kernel smoke test: proves the kernel booted
# through to user space, with the devices the project relies on.
echo "vvu-e2e: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"
[ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ] &&
	echo "vvu-e2e: vfio no-iommu available"
echo "vvu-e2e: marker $VVU_marker"
