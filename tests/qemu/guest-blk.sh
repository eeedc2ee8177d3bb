#!/bin/sh
# Guest side of the qemu suite (runs as /guest-main.sh under scripts/lib/guest-init.sh).
# Parameters come from the kernel command line (vvu.KEY=VALUE -> $VVU_KEY):
#   VVU_mode      basic | reconnect
#   VVU_sectors   expected size of /dev/vda in 512-byte sectors
#   VVU_offsets   basic: comma-separated byte offsets; chunk i of /pattern goes to offset i
#   VVU_chunk     basic: chunk size in bytes
#   VVU_hostoff   basic: offset of the host's chunk (/hostchunk-md5 holds its md5)
#   VVU_base      reconnect: byte offset where all of /pattern is written
#   VVU_cpus      basic: run the writes on this many CPUs at once (taskset)
# Prints "VVU-RESULT: PASS ..." or "VVU-RESULT: FAIL reason" exactly once.
# shellcheck disable=SC2154  # VVU_* come from the kernel command line

fail() { echo "VVU-RESULT: FAIL $*"; exit 1; }
md5() { md5sum | cut -d' ' -f1; }

wait_for_disk() {
	i=0
	while [ ! -b /dev/vda ]; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "no /dev/vda after 10 s; /sys/block: $(ls /sys/block)"
		sleep 0.1
	done
	size=$(cat /sys/block/vda/size)
	[ "$size" = "$VVU_sectors" ] || fail "/dev/vda has $size sectors, expected $VVU_sectors"
	hwq=$(ls /sys/block/vda/mq | wc -l)
	echo "vvu-guest: /dev/vda is $size sectors, $hwq hardware queue(s)"
	[ "$VVU_mode" != basic ] || [ "$hwq" = "${VVU_cpus:-1}" ] ||
		fail "/dev/vda has $hwq hardware queues, expected ${VVU_cpus:-1}"
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# write_chunk I OFFSET: chunk I of /pattern to /dev/vda at OFFSET (bytes).
write_chunk() {
	dd if=/pattern of=/dev/vda bs="$VVU_chunk" count=1 skip="$1" seek="$2" \
		iflag=skip_bytes oflag=seek_bytes,direct conv=notrunc,fsync 2>/dev/null ||
		fail "write of chunk $1 at offset $2 failed"
}
# read_md5 OFFSET LENGTH: md5 of LENGTH bytes of /dev/vda at OFFSET, read with O_DIRECT.
read_md5() {
	dd if=/dev/vda bs=4096 skip="$1" count="$2" iflag=skip_bytes,count_bytes,direct 2>/dev/null | md5
}

basic() {
	offsets=$(echo "$VVU_offsets" | tr , ' ')
	n=0
	cpu=0
	pids=
	for off in $offsets; do
		skip=$((n * VVU_chunk))
		if [ "${VVU_cpus:-1}" -gt 1 ]; then
			# Each write from its own CPU, all at once: every queue carries requests.
			( taskset -c "$cpu" sh -c "dd if=/pattern of=/dev/vda bs=$VVU_chunk count=1 skip=$skip seek=$off \
				iflag=skip_bytes oflag=seek_bytes,direct conv=notrunc 2>/dev/null" ||
				echo "chunk $n at $off on cpu $cpu" >>/tmp/write-failed ) &
			pids="$pids $!"
			cpu=$(((cpu + 1) % VVU_cpus))
		else
			write_chunk "$skip" "$off"
		fi
		n=$((n + 1))
	done
	for p in $pids; do wait "$p"; done
	[ ! -e /tmp/write-failed ] || fail "parallel writes failed: $(cat /tmp/write-failed)"
	drop_caches
	n=0
	for off in $offsets; do
		want=$(dd if=/pattern bs="$VVU_chunk" skip=$((n * VVU_chunk)) count=1 iflag=skip_bytes 2>/dev/null | md5)
		got=$(read_md5 "$off" "$VVU_chunk")
		[ "$got" = "$want" ] || fail "chunk $n at offset $off reads back as $got, wrote $want"
		n=$((n + 1))
	done
	host=$(read_md5 "$VVU_hostoff" "$VVU_chunk")
	[ "$host" = "$(cat /hostchunk-md5)" ] ||
		fail "host's chunk at offset $VVU_hostoff reads as $host, host wrote $(cat /hostchunk-md5)"
	# Read through the page cache too (buffered I/O, read-ahead: larger requests).
	whole=$(dd if=/dev/vda bs=1M 2>/dev/null | md5)
	echo "VVU-RESULT: PASS wrote $n chunks of $VVU_chunk bytes, read them back, host chunk ok, whole-disk md5 $whole"
}

# Writes /pattern at VVU_base in chunks of 64 KiB, one dd each (the host kills
# and restarts the back-end meanwhile), then reads it back the same way.
reconnect() {
	bs=65536
	total=$(stat -c %s /pattern)
	n=$((total / bs))
	i=0
	echo "vvu-guest: writing $n chunks"
	while [ $i -lt $n ]; do
		dd if=/pattern of=/dev/vda bs=$bs count=1 skip=$i seek=$((VVU_base / bs + i)) \
			oflag=direct conv=notrunc 2>/dev/null || fail "write of chunk $i failed"
		i=$((i + 1))
		echo "vvu-guest: wrote $i/$n"
	done
	sync
	drop_caches
	i=0
	: >/tmp/readback
	echo "vvu-guest: reading $n chunks"
	while [ $i -lt $n ]; do
		dd if=/dev/vda bs=$bs count=1 skip=$((VVU_base / bs + i)) iflag=direct 2>/dev/null >>/tmp/readback ||
			fail "read of chunk $i failed"
		i=$((i + 1))
		echo "vvu-guest: read $i/$n"
	done
	got=$(md5 </tmp/readback)
	want=$(md5 </pattern)
	[ "$got" = "$want" ] || fail "read back $got, wrote $want ($(cmp /tmp/readback /pattern 2>&1))"
	echo "VVU-RESULT: PASS wrote and read back $n chunks of $bs bytes, md5 $got"
}

wait_for_disk
case $VVU_mode in
basic) basic ;;
reconnect) reconnect ;;
*) fail "unknown vvu.mode '$VVU_mode'" ;;
esac
