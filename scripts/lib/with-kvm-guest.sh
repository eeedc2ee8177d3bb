#!/bin/sh
# with-kvm.sh's part inside the nested guest (run by guest-init.sh): the host
# file system read-only at /, the repository and /tmp writable over it, a
# local tmpfs for sockets, then the command in a chroot.
set -e
root=/host
mkdir -p $root
mount -t 9p -o trans=virtio,version=9p2000.L,ro root $root
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 repo "$root$VVU_repo"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 tmp $root/tmp
mount -t proc proc $root/proc
mount -t sysfs sysfs $root/sys
mount -t devtmpfs devtmpfs $root/dev
mount -t tmpfs tmpfs $root/run
mkdir -p $root/run/vvu
[ -c /dev/kvm ] || echo "vvu-guest: no /dev/kvm after insmod kvm-amd"
set +e
chroot $root /bin/sh "$VVU_run/command.sh"
