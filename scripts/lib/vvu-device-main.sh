#!/bin/sh
# /guest-main.sh of the device VM of scripts/demo.sh: the seed's steps in a
# Linux guest, for each of its vvu.devices vvu-proxy devices (00:10.0,
# 00:11.0, ...). lspci shows the device, the seed's sysfs lines bind it to
# vfio-pci, and `vblk-backend --vfio 0000:00:1N.0 --file diskN.img` serves
# that disk to the device's sibling VMs. Each sibling k writes
# "vvu.pattern-k" at 4 KiB block vvu.block + k; device d's siblings are
# k = (d-1)*vvu.siblings+1 .. d*vvu.siblings. This waits until every pattern
# has landed in its disk, and every sibling has gone, then stops each
# vblk-backend with SIGTERM. Lines for the host start with "vvu-demo:".
ndev=${VVU_devices:-1}
nsib=${VVU_siblings:-1}
cd /tmp || exit 1
. /vvu-addr.sh

# Per device d: its PCI address (dev_addr), disk, log and (later) vblk-backend's pid.
disk() { if [ "$1" -eq 1 ]; then echo disk.img; else echo "disk$1.img"; fi; }
blog() { if [ "$1" -eq 1 ]; then echo backend.log; else echo "backend$1.log"; fi; }
show_log() { sed "s/^/vvu-demo: $(blog "$1" | sed 's/\.log//')| /" "$(blog "$1")"; }

bind_vfio() { # ADDR: the seed's sysfs lines
	dev=/sys/bus/pci/devices/$1
	echo "vvu-demo: guest\$ lspci -s ${1#0000:}"
	echo "vvu-demo: $(lspci -s "${1#0000:}")"
	echo "vvu-demo: guest\$ (the seed's sysfs lines: driver_override, unbind, bind)"
	echo "vfio-pci" > "$dev/driver_override"
	[ ! -e "$dev/driver" ] || echo "$1" > "$dev/driver/unbind"
	echo "$1" > /sys/bus/pci/drivers/vfio-pci/bind
	echo "vvu-demo: driver: $(basename "$(readlink "$dev/driver")")"
}

start_backend() { # D: vblk-backend's pid in $pid (a child of this shell)
	a=$(dev_addr "$1") f=$(disk "$1") l=$(blog "$1")
	dd if=/dev/zero of="$f" bs=1M count=64 2>/dev/null
	echo "vvu-demo: guest\$ vblk-backend --vfio $a --file $f --serial vvu-demo-disk$1${VVU_queues:+ --queues $VVU_queues}"
	vblk-backend --vfio "$a" --file "$f" --serial "vvu-demo-disk$1" ${VVU_loglevel:+-l $VVU_loglevel} \
		${VVU_queues:+--queues $VVU_queues} >"$l" 2>&1 &
	pid=$!
}

wait_serving() { # D PID
	i=0
	until grep -q "serving" "$(blog "$1")"; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$2" 2>/dev/null; then
			show_log "$1"
			echo "vvu-demo: vblk-backend of $(dev_addr "$1") did not start"
			exit 1
		fi
		sleep 0.1
	done
}

block_holds() { # FILE BLOCK PATTERN
	[ "$(dd if="$1" bs=4096 skip="$2" count=1 2>/dev/null | head -c ${#3})" = "$3" ]
}

# Waits until BLOCK of FILE starts with TEXT, while PID lives; else says
# WHAT never happened and fails.
wait_block() { # FILE BLOCK TEXT PID WHAT
	t=0
	until block_holds "$1" "$2" "$3"; do
		t=$((t + 1))
		if [ $t -gt "${VVU_wait:-900}" ] || ! kill -0 "$4" 2>/dev/null; then
			echo "vvu-demo: $5"
			return 1
		fi
		sleep 1
	done
}

# Waits for sibling K's pattern in device D's disk.
wait_pattern() { # D K PID
	b=$((VVU_block + $2)) p="$VVU_pattern-$2"
	wait_block "$(disk "$1")" $b "$p" "$3" "sibling $2's pattern never reached $(disk "$1")" ||
		{ show_log "$1"; exit 1; }
	echo "vvu-demo: $(disk "$1") holds '$p' at block $b"
}

# With vvu.barread=1 (scripts/bench-vm.sh): once sibling 1 says, in block
# vvu.block-2 of device 1's disk, that it is done with fio (and still
# connected, so that its memory backs BAR4), bar-read times reads through
# BAR4's uncached mapping; block vvu.block-1 then lets the sibling go on.
bar_read() { # PID
	wait_block disk.img $((VVU_block - 2)) vvu-bench-fio-done "$1" "the sibling never finished fio" ||
		return 1
	echo "vvu-demo: guest\$ bar-read $(dev_addr 1) 4 16"
	echo "vvu-demo: $(bar-read "$(dev_addr 1)" 4 16 2>&1)"
	printf vvu-bench-measured | dd of=disk.img bs=4096 seek=$((VVU_block - 1)) conv=notrunc 2>/dev/null
}

pids=''
d=1
while [ $d -le "$ndev" ]; do
	bind_vfio "$(dev_addr $d)"
	start_backend $d
	wait_serving $d "$pid"
	pids="$pids $pid"
	d=$((d + 1))
done
echo "vvu-demo: backend up"
first=${pids# } first=${first%% *}
[ "${VVU_barread:-0}" = 0 ] || bar_read "$first" || exit 1

d=1
for pid in $pids; do
	k=$(((d - 1) * nsib + 1))
	while [ $k -le $((d * nsib)) ]; do
		wait_pattern $d $k "$pid"
		k=$((k + 1))
	done
	d=$((d + 1))
done
rc=0 d=1
for pid in $pids; do
	until [ "$(grep -c 'front-end disconnected' "$(blog $d)")" -ge "$nsib" ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill -TERM "$pid"
	wait "$pid"
	r=$?
	show_log $d
	echo "vvu-demo: vblk-backend of $(dev_addr $d) exit status $r"
	[ $r -eq 0 ] || rc=1
	d=$((d + 1))
done
exit $rc
