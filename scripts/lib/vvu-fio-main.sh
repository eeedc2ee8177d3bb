#!/bin/sh
# /guest-main.sh of scripts/bench-vm.sh's sibling VMs: fio on /dev/vda with
# O_DIRECT and libaio (--thread: the guest kernel has no SysV shared
# memory for fio's processes), vvu.runtime seconds per row (/bench-rows:
# scripts/lib/bench-rows), each printed as "vvu-bench: ROW IOPS MB/s". Then, if
# vvu.pattern is set, the demo sibling's check (/vvu-sibling-main.sh), which
# tells the device VM that this sibling is done.
[ -b /dev/vda ] || { echo "vvu-bench: no /dev/vda"; exit 1; }
grep -v '^#' /bench-rows | while read -r name rw bs qd; do
	if ! out=$(fio --name="$name" --filename=/dev/vda --direct=1 --ioengine=libaio --thread \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --runtime="${VVU_runtime:-10}" \
		--time_based --ramp_time=1 --output-format=terse --terse-version=3 2>&1 </dev/null); then
		echo "vvu-bench: fio $name failed: $out"
		exit 1
	fi
	# Terse v3: field 7/8 read KiB/s and IOPS, 48/49 the same for writes.
	echo "$out" | awk -F';' -v n="$name" \
		'NF > 100 { printf "vvu-bench: %s %d %.1f\n", n, $8 + $49, ($7 + $48) * 1.024 / 1000 }'
done || exit 1
# With vvu.barread=1, tell the device VM (block vvu.block-2) that fio is
# done, and stay connected until it has timed its reads of this VM's memory
# through the vvu-proxy device's BAR4 (block vvu.block-1).
if [ "${VVU_barread:-0}" = 1 ]; then
	printf vvu-bench-fio-done | dd of=/dev/vda bs=4096 seek=$((VVU_block - 2)) conv=sync,fsync 2>/dev/null
	t=0
	while :; do
		blockdev --flushbufs /dev/vda
		[ "$(dd if=/dev/vda bs=4096 skip=$((VVU_block - 1)) count=1 2>/dev/null | head -c 18)" = vvu-bench-measured ] && break
		t=$((t + 1))
		[ $t -le 600 ] || { echo "vvu-bench: the device VM never measured BAR4"; exit 1; }
		sleep 1
	done
fi
[ -z "${VVU_pattern:-}" ] || exec /vvu-sibling-main.sh
