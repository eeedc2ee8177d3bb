#!/usr/bin/env bash
# The demo: a Linux guest (QEMU, TCG) uses a disk that vblk-backend serves over vhost-user.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$VVU_ROOT/scripts/lib/guest.sh"

usage() {
	cat <<'EOF'
usage: scripts/demo.sh [--dir DIR] [--size MiB] [--keep]

Builds the project (into $VVU_BUILD, default build/), creates DIR/disk.img,
serves it with

    vblk-backend --socket DIR/vblk.sock --file DIR/disk.img --serial vvu-demo

and boots a Linux guest (Debian 12's kernel, a busybox initramfs) in QEMU 7.2
under TCG with -device vhost-user-blk-pci on that socket. In the guest,
/dev/vda is disk.img: the guest shows its size and serial, reads a line the
host wrote into disk.img, writes a line of its own and reads it back, then
powers off. The host then shows that disk.img holds the guest's line.

Needs root or sudo for apt-get the first time (QEMU, busybox-static, ...);
the kernel package is downloaded once into ~/.cache/vvu. About 15 s.

  --dir DIR    where disk.img, the socket and the logs go (kept); default: a
               temporary directory, removed at the end unless --keep
  --size MiB   size of disk.img (default 64)
  --keep       keep the temporary directory
  -h, --help   this text
EOF
}

DIR=
SIZE=64
KEEP=0
OWN_DIR=0

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--dir) [ $# -ge 2 ] || die "--dir needs a directory"; DIR=$2; shift 2 ;;
		--size) [ $# -ge 2 ] || die "--size needs a number of MiB"; SIZE=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument '$1'" ;;
		esac
	done
	[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 2 ]] || die "--size '$SIZE' is not a number of MiB >= 2"
}

cleanup() {
	guest_kill
	backend_kill KILL || true
	if [ $OWN_DIR -eq 1 ] && [ $KEEP -eq 0 ]; then rm -rf "$DIR"; fi
}

say() {
	if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}

# The guest's part: runs as /guest-main.sh under scripts/lib/guest-init.sh.
write_guest_main() {
	cat >"$1" <<'EOF'
#!/bin/sh
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || { echo "guest: no /dev/vda"; exit 1; }
echo "guest: $(ls -l /dev/vda)"
echo "guest: /sys/block/vda/size = $(cat /sys/block/vda/size) sectors of 512 bytes ($(($(cat /sys/block/vda/size) / 2048)) MiB)"
echo "guest: /sys/block/vda/serial = $(cat /sys/block/vda/serial 2>/dev/null)"
echo "guest: virtio device $(cat /sys/block/vda/device/vendor):$(cat /sys/block/vda/device/device), queues: $(ls /sys/block/vda/mq | wc -l)"
echo "guest: sector 0 says: $(dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\000')"
line="written by the guest, uptime $(cut -d' ' -f1 /proc/uptime) s"
printf '%-511s\n' "$line" | dd of=/dev/vda bs=512 seek=2048 oflag=direct conv=notrunc 2>/dev/null ||
	{ echo "guest: write failed"; exit 1; }
echo "guest: wrote '$line' at byte 1048576 (sector 2048)"
sync
echo 3 >/proc/sys/vm/drop_caches
back=$(dd if=/dev/vda bs=512 skip=2048 count=1 iflag=direct 2>/dev/null | sed 's/ *$//')
echo "guest: read back '$back'"
[ "$back" = "$line" ] || { echo "guest: read-back differs"; exit 1; }
EOF
	chmod +x "$1"
}

main() {
	parse_args "$@"
	ensure_packages "${VVU_BUILD_PACKAGES[@]}"
	say "building the project in $VVU_BUILD"
	build_tree "$VVU_BUILD"
	guest_setup
	if [ -n "$DIR" ]; then
		mkdir -p "$DIR" || die "cannot create --dir '$DIR'"
		DIR=$(cd "$DIR" && pwd)
	else
		DIR=$(mktemp -d "${TMPDIR:-/tmp}/vvu-demo.XXXXXX")
		OWN_DIR=1
	fi
	trap cleanup EXIT
	trap 'exit 143' TERM INT

	say "disk.img: $SIZE MiB in $DIR; the host writes a line into sector 0"
	rm -f "$DIR/disk.img"
	truncate -s "${SIZE}M" "$DIR/disk.img"
	printf 'written by the host at %s' "$(date '+%F %T')" |
		dd of="$DIR/disk.img" conv=notrunc status=none
	write_guest_main "$DIR/guest-main.sh"
	guest_initramfs "$DIR/initrd.gz" "$DIR/guest-main.sh"

	say "vblk-backend --socket $DIR/vblk.sock --file $DIR/disk.img --serial vvu-demo"
	: >"$DIR/vblk-backend.log"
	backend_start vblk "$DIR/vblk.sock" "$DIR/disk.img" "$DIR/vblk-backend.log" --serial vvu-demo
	cat "$DIR/vblk-backend.log"

	say "QEMU (TCG) with $GUEST_KERNEL_NAME, -device vhost-user-blk-pci on $DIR/vblk.sock"
	local t0=$SECONDS rc=0
	guest_start --initrd "$DIR/initrd.gz" --serial "$DIR/serial.log" --timeout 180 \
		--blk "$DIR/vblk.sock"
	tail -n +1 -f --pid="$GUEST_PID" "$DIR/serial.log" | grep -a --line-buffered -v '^vvu-guest: [ip]' || true
	guest_wait || rc=$?
	[ $rc -eq 0 ] || die "QEMU failed (status $rc): $(cat "$DIR/serial.log.fe")"
	grep -aq '^vvu-guest: main done' "$DIR/serial.log" || die "the guest's part failed (see above)"
	echo "(guest booted, worked and powered off in $((SECONDS - t0)) s)"

	backend_stop || die "vblk-backend did not exit cleanly on SIGTERM"
	say "vblk-backend's log"
	cat "$DIR/vblk-backend.log"

	say "on the host, disk.img at byte 1048576 holds:"
	local line
	line=$(dd if="$DIR/disk.img" bs=512 skip=2048 count=1 status=none | sed 's/ *$//')
	echo "$line"
	grep -aqF "read back '$line'" "$DIR/serial.log" || die "disk.img does not hold what the guest wrote"
	say "OK: the guest's /dev/vda is $DIR/disk.img, served by vblk-backend"
	if [ $OWN_DIR -eq 0 ] || [ $KEEP -eq 1 ]; then
		echo "disk.img, the initramfs and the logs are in $DIR"
	fi
}

main "$@"
