#!/bin/sh
# /init of the project's busybox test guests (built by scripts/build-initramfs.sh).
# Mounts the pseudo file systems, insmods /lib/modules/order, runs /guest-main.sh
# (the test's own part), then syncs and powers off. Every line it prints for the
# host starts with "vvu-guest:". If /guest-main.sh fails, it prints
# "vvu-guest: main failed (status N)" and still powers off, so the host never
# waits for a guest that gave up.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

echo "vvu-guest: init up ($(cut -d' ' -f1 /proc/uptime) s)"
while read -r m; do
	[ -n "$m" ] || continue
	insmod "/lib/modules/$m" || echo "vvu-guest: insmod $m failed"
done </lib/modules/order

# Kernel command line words vvu.KEY=VALUE become variables VVU_KEY for main.
for w in $(cat /proc/cmdline); do
	case $w in
	vvu.*=*) k=${w%%=*}; k=${k#vvu.}; eval "VVU_$k=\${w#*=}"; export "VVU_$k" ;;
	esac
done

if [ -x /guest-main.sh ]; then
	/guest-main.sh
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "vvu-guest: main done"
	else
		echo "vvu-guest: main failed (status $rc)"
	fi
else
	echo "vvu-guest: no /guest-main.sh"
fi
sync
echo "vvu-guest: powering off ($(cut -d' ' -f1 /proc/uptime) s)"
poweroff -f
# Only if poweroff failed: exiting init panics, and panic=-1 with -no-reboot ends QEMU.
exit 1
