#!/bin/sh
# /init of the outer VM that scripts/with-kvm.sh boots under QEMU TCG (Debian's
# kernel, a busybox initramfs). It gives the command a view of the host:
#
#   /host       the host's / over 9p, read-only (tag vvuroot), chrooted into
#   /host/P     a writable 9p share of host path P for each "TAG P" line of
#               /ctl/shares (the repository, /tmp, the cache, ...)
#   /host/proc, /host/sys, /host/dev (devtmpfs, pts, shm), /host/run (tmpfs)
#   /dev/kvm    nested KVM (kvm-amd on QEMU's emulated SVM)
#
# /ctl is with-kvm.sh's control directory (tag vvuctl): it reads /ctl/run.sh
# (the command, its environment and working directory, written by
# with-kvm.sh) and writes the command's exit status to /ctl/status.
# ttyS0 is the command's stdout, ttyS1 its stderr (and the kernel's console).
# Nothing is printed but the command's output and lines starting "with-kvm:".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/null >/dev/ttyS0 2>/dev/ttyS1
# Raw: no \n -> \r\n, no echo; the host gets the bytes as written.
stty -F /dev/ttyS0 raw -echo 2>/dev/null
stty -F /dev/ttyS1 raw -echo 2>/dev/null

verbose=0
grep -qw with_kvm.verbose /proc/cmdline && verbose=1
say() { [ $verbose -eq 0 ] || echo "with-kvm: [$(cut -d' ' -f1 /proc/uptime) s] $*" >&2; }
fail() {
	echo "with-kvm: outer VM: $*" >&2
	[ -d /ctl/. ] && echo 125 >/ctl/status.tmp && mv /ctl/status.tmp /ctl/status
	sync
	poweroff -f
	exit 1
}

say "init up"
# with_kvm.kvm_amd=a=1,b=0 on the command line: kvm-amd's parameters.
kvm_amd_params=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^with_kvm\.kvm_amd=//p' | tr , ' ')
while read -r m; do
	[ -n "$m" ] || continue
	params=
	case $m in kvm-amd.ko | kvm_amd.ko) params=$kvm_amd_params ;; esac
	# shellcheck disable=SC2086  # one word per parameter
	insmod "/lib/modules/$m" $params || fail "insmod $m $params failed"
done </lib/modules/order
[ -z "$kvm_amd_params" ] || say "kvm-amd: $kvm_amd_params"
say "modules loaded"

p9() { # p9 TAG DIR OPTIONS
	mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,$3" "$1" "$2" ||
		fail "cannot mount 9p share $1 on $2"
}
mkdir -p /ctl /host
p9 vvuctl /ctl cache=none
# Where this kernel's clock is, for with-kvm.sh's guest-watch.py.
grep -w jiffies_64 /proc/kallsyms >/ctl/kallsyms.tmp && mv /ctl/kallsyms.tmp /ctl/kallsyms
# The read-only root may cache freely; writable shares keep mmap coherent.
p9 vvuroot /host ro,cache=loose
while read -r tag path; do
	[ -n "$tag" ] || continue
	[ -d "/host$path" ] || fail "share $tag: no directory $path on the host"
	p9 "$tag" "/host$path" cache=mmap
done </ctl/shares

mount -t proc proc /host/proc || fail "cannot mount /proc"
mount -t sysfs sysfs /host/sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /host/dev || fail "cannot mount /dev"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /host/dev/pts || fail "cannot mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm || fail "cannot mount /dev/shm"
ln -sf /proc/self/fd /host/dev/fd
ln -sf /proc/self/fd/0 /host/dev/stdin
ln -sf /proc/self/fd/1 /host/dev/stdout
ln -sf /proc/self/fd/2 /host/dev/stderr
[ -e /host/dev/ptmx ] || ln -sf pts/ptmx /host/dev/ptmx
# UNIX sockets do not work on 9p: /run is a local tmpfs.
mount -t tmpfs -o mode=755 tmpfs /host/run || fail "cannot mount /run"
[ -c /host/dev/kvm ] || fail "no /dev/kvm (is SVM missing from the outer CPU?)"
chmod 666 /host/dev/kvm
. /ctl/ids   # WK_UID, WK_GID (written by with-kvm.sh)
mkdir -p "/host/run/user/$WK_UID"
chown "$WK_UID:$WK_GID" "/host/run/user/$WK_UID"
chmod 700 "/host/run/user/$WK_UID"
say "file systems ready; running the command"

sh /ctl/run.sh
rc=$?
say "command exited with status $rc"
echo $rc >/ctl/status.tmp && mv /ctl/status.tmp /ctl/status
sync
# The last close of a UART waits until it has sent its buffer.
exec >/dev/null 2>&1
# Silence the console: the kernel's "reboot: Power down" is not the command's.
[ $verbose -eq 1 ] || echo 0 >/proc/sys/kernel/printk
poweroff -f
# Only if poweroff failed: init exiting panics; panic=-1 and -no-reboot end QEMU.
exit 1
