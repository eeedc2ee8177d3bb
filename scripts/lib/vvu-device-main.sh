#!/bin/sh
# /guest-main.sh of the device VM of scripts/demo.sh: the seed's steps in a
# Linux guest. lspci shows the vvu-proxy device, the seed's sysfs lines bind
# it to vfio-pci, and `vblk-backend --vfio 0000:00:10.0 --file disk.img`
# serves disk.img to the sibling VMs. Each sibling k (1..vvu.siblings)
# writes "vvu.pattern-k" at 4 KiB block vvu.block + k; this waits until every
# one of them has landed in disk.img and every sibling has gone, then stops
# vblk-backend with SIGTERM. Lines for the host start with "vvu-demo:".
ADDR=0000:00:10.0
dev=/sys/bus/pci/devices/$ADDR
n=${VVU_siblings:-1}
cd /tmp || exit 1
echo "vvu-demo: guest\$ lspci -s 00:10.0"
echo "vvu-demo: $(lspci -s 00:10.0)"
echo "vvu-demo: guest\$ (the seed's sysfs lines: driver_override, unbind, bind)"
echo "vfio-pci" > "$dev/driver_override"
[ ! -e "$dev/driver" ] || echo "$ADDR" > "$dev/driver/unbind"
echo "$ADDR" > /sys/bus/pci/drivers/vfio-pci/bind
echo "vvu-demo: driver: $(basename "$(readlink "$dev/driver")")"
dd if=/dev/zero of=disk.img bs=1M count=64 2>/dev/null

echo "vvu-demo: guest\$ vblk-backend --vfio $ADDR --file disk.img --serial vvu-demo-disk${VVU_queues:+ --queues $VVU_queues}"
vblk-backend --vfio "$ADDR" --file disk.img --serial vvu-demo-disk ${VVU_loglevel:+-l $VVU_loglevel} \
	${VVU_queues:+--queues $VVU_queues} >backend.log 2>&1 &
pid=$!
show_log() { sed 's/^/vvu-demo: backend| /' backend.log; }
i=0
until grep -q "serving" backend.log; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
		show_log
		echo "vvu-demo: vblk-backend did not start"
		exit 1
	fi
	sleep 0.1
done
echo "vvu-demo: backend up"

block_holds() { # BLOCK PATTERN
	[ "$(dd if=disk.img bs=4096 skip="$1" count=1 2>/dev/null | head -c ${#2})" = "$2" ]
}
# Every sibling's pattern must land in this very file, and every sibling go.
k=1 t=0
while [ $k -le "$n" ]; do
	if block_holds $((VVU_block + k)) "$VVU_pattern-$k"; then
		echo "vvu-demo: disk.img holds '$VVU_pattern-$k' at block $((VVU_block + k))"
		k=$((k + 1))
		continue
	fi
	t=$((t + 1))
	if [ $t -gt "${VVU_wait:-900}" ] || ! kill -0 $pid 2>/dev/null; then
		show_log
		echo "vvu-demo: sibling $k's pattern never reached disk.img"
		exit 1
	fi
	sleep 1
done
until [ "$(grep -c 'front-end disconnected' backend.log)" -ge "$n" ]; do
	kill -0 $pid 2>/dev/null || break
	sleep 1
done
kill -TERM $pid
wait $pid
rc=$?
show_log
echo "vvu-demo: vblk-backend exit status $rc"
[ $rc -eq 0 ]
