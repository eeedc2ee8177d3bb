#!/bin/sh
# /guest-main.sh of the device VM in tests/e2e/vvu-device-test.sh: shows the
# vvu-proxy device the way crosvm's documentation does (lspci), moves it to
# vfio-pci with the seed's sysfs lines, and prints what the host checks.
ADDR=0000:00:10.0
dev=/sys/bus/pci/devices/$ADDR
[ -d "$dev" ] || { echo "vvu-e2e: no PCI device $ADDR"; exit 1; }
echo "vvu-e2e: lspci: $(lspci -s 00:10.0)"
drv() { [ -e "$dev/driver" ] && basename "$(readlink "$dev/driver")" || echo none; }
echo "vvu-e2e: driver before: $(drv)"
# The seed's commands (crosvm's VVU documentation).
echo "vfio-pci" > "$dev/driver_override"
[ ! -e "$dev/driver" ] || echo "$ADDR" > "$dev/driver/unbind"
echo "$ADDR" > /sys/bus/pci/drivers/vfio-pci/bind
echo "vvu-e2e: driver after: $(drv)"
echo "vvu-e2e: vfio: $(ls /dev/vfio | tr '\n' ' ')"
# BAR n's size from the resource file: line n is "start end flags".
i=0
while read -r start end flags; do
	case $i in 0 | 2 | 4)
		echo "vvu-e2e: bar$i size $(( end - start + 1 )) flags $flags" ;;
	esac
	i=$((i + 1))
done <"$dev/resource"
echo "vvu-e2e: ram $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
lspci -vv -s 00:10.0 | sed 's/^/vvu-e2e: | /'
