#!/bin/sh
# /guest-main.sh of a sibling VM of scripts/demo.sh: /dev/vda is the device
# VM's disk.img. Shows it (lsblk's size and serial), writes
# "vvu.pattern-vvu.sibling" at 4 KiB block vvu.block + vvu.sibling with dd,
# flushes, drops the cached copy and reads it back from the device. Lines
# for the host start with "vvu-demo:".
[ -b /dev/vda ] || { echo "vvu-demo: no /dev/vda"; exit 1; }
k=${VVU_sibling:-1}
p="$VVU_pattern-$k" b=$((VVU_block + k))
echo "vvu-demo: sibling\$ lsblk"
echo "vvu-demo: vda $(( $(cat /sys/block/vda/size) / 2048 ))M serial $(cat /sys/block/vda/serial 2>/dev/null) queues $(ls /sys/block/vda/mq | wc -l)"
printf '%s' "$p" >/tmp/block
dd if=/dev/zero bs=1 count=$((4096 - ${#p})) 2>/dev/null >>/tmp/block
echo "vvu-demo: sibling\$ dd if=block of=/dev/vda bs=4096 seek=$b count=1 conv=fsync"
dd if=/tmp/block of=/dev/vda bs=4096 seek="$b" count=1 conv=fsync 2>&1 | sed 's/^/vvu-demo: /'
blockdev --flushbufs /dev/vda
got=$(dd if=/dev/vda bs=4096 skip="$b" count=1 2>/dev/null | head -c ${#p})
[ "$got" = "$p" ] || { echo "vvu-demo: read back '$got', not '$p'"; exit 1; }
echo "vvu-demo: sibling $k read back '$p' from /dev/vda"
