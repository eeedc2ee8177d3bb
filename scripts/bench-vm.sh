#!/usr/bin/env bash
# Benchmarks /dev/vda of a sibling VM with fio inside that VM (O_DIRECT,
# libaio, the rows of scripts/bench.sh: scripts/lib/bench-rows), in one run on Linux guests under
# KVM (scripts/with-kvm.sh: this host's, or a nested KVM under QEMU TCG):
#   vvu     the seed's flow: vblk-backend --vfio in a device VM serves the
#           sibling through the vvu-proxy device; the disk is a 64 MiB file
#           on the device VM's tmpfs
#   socket  vblk-backend --socket on the host serves the same kind of
#           sibling (vmm run --vhost-user-blk); a 64 MiB file on tmpfs
# and prints IOPS and MB/s side by side with the ratio vvu/socket. While the
# vvu row's sibling is still connected, the device VM times reads of its
# memory through BAR4's uncached mapping, the one vblk-backend --vfio uses,
# against reads of its own RAM (tests/e2e/bar-read.c), printed first.
#
# usage: scripts/bench-vm.sh [--runtime SECONDS] [--queues N] [--dir DIR]
#   --runtime S  seconds per row (default 10)
#   --queues N   request queues of the disk (default 1)
#   --dir DIR    keep the images and console logs in DIR
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$VVU_ROOT/scripts/lib/vvu-vms.sh"
. "$VVU_ROOT/scripts/lib/backend.sh"

RUNTIME=10 QUEUES=1 DIR='' INNER=0 OWN_DIR=0
while [ $# -gt 0 ]; do
	case $1 in
	--runtime | --queues)
		[ $# -ge 2 ] || die "$1 needs a number"
		[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: '$2' is not a positive number"
		if [ "$1" = --runtime ]; then RUNTIME=$2; else QUEUES=$2; fi
		shift 2 ;;
	--dir) [ $# -ge 2 ] || die "--dir needs a directory"; DIR=$2; shift 2 ;;
	--inner) DIR=$2; INNER=1; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

# Inside with-kvm.sh: the socket row, then the vvu row.
inner() {
	. "$DIR/env"
	local run cmd rc=0
	run=$(mktemp -d "${XDG_RUNTIME_DIR:-/tmp}/vvu-bench.XXXXXX")
	dd if=/dev/zero of="$run/socket.img" bs=1M count=64 status=none
	backend_start vblk "$run/socket.sock" "$run/socket.img" "$DIR/socket-backend.log" \
		--queues "$QUEUES"
	: >"$DIR/socket.log"
	mapfile -t cmd < <(sibling_cmd "$run/socket.sock" "$DIR/socket.log" "vvu.runtime=$RUNTIME")
	watch "sibling VM (socket)" "$DIR/socket.log" "${cmd[@]}" || rc=$?
	[ $rc -ne 0 ] || grep -q "vvu-guest: main done" "$DIR/socket.log" || rc=1
	backend_stop || rc=1
	echo "$rc" >"$DIR/socket.status"

	device_vm_start "$run"
	run_siblings "$run" 1
	device_vm_wait
	rm -rf "$run"
}

if [ $INNER -eq 1 ]; then
	inner
	exit
fi

ensure_packages "${VVU_BUILD_PACKAGES[@]}" "${VVU_TEST_PACKAGES[@]}" "${VVU_DEVICE_VM_PACKAGES[@]}" fio
build_tree "$VVU_BUILD"
VMLINUX=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux) || die "cannot build the guest kernel"
if [ -n "$DIR" ]; then
	mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd) || die "cannot create --dir '$DIR'"
else
	DIR=$(mktemp -d /tmp/vvu-bench-vm.XXXXXX)
	OWN_DIR=1
	trap 'rm -rf "$DIR"' EXIT
fi
device_initramfs --bin "$VVU_BUILD/tests/e2e/bar-read"
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$DIR/sibling.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/scripts/lib/vvu-fio-main.sh:/guest-main.sh" \
	--file "$VVU_ROOT/scripts/lib/vvu-sibling-main.sh:/vvu-sibling-main.sh" \
	--file "$VVU_ROOT/scripts/lib/bench-rows:/bench-rows" \
	--bin /usr/bin/fio
pattern="vvu-bench-$$-$RANDOM"
cat >"$DIR/env" <<ENV
VMM=$(printf %q "$VVU_BUILD/vmm/vmm")
VMLINUX=$(printf %q "$VMLINUX")
DEVICES=1 SIBLINGS=1 SIBLING=vmm QUEUES=$QUEUES
DEVICE_ARGS="vvu.pattern=$pattern vvu.block=8 vvu.queues=$QUEUES vvu.siblings=1 vvu.devices=1 vvu.barread=1"
SIBLING_ARGS="vvu.pattern=$pattern vvu.block=8 vvu.runtime=$RUNTIME vvu.barread=1"
ENV
log "fio in the sibling VMs, $RUNTIME s per row, $QUEUES queue(s) (about $((8 * RUNTIME / 60 + 4)) minutes)"
"$VVU_ROOT/scripts/with-kvm.sh" --timeout 3000 -- "$0" --inner "$DIR" --runtime "$RUNTIME" --queues "$QUEUES" >&2 ||
	die "with-kvm.sh: status $? (logs in $DIR)"

# "ROW IOPS MB/s" lines of a sibling's console.
rows_of() { tr -d '\r' <"$1" | sed -n 's/^vvu-bench: \([^ ]* [0-9]* [0-9.]*\)$/\1/p'; }
mapfile -t vvu < <(rows_of "$DIR/sibling1.log")
mapfile -t sock < <(rows_of "$DIR/socket.log")
ok=1
nrows=$(grep -vc '^#' "$VVU_ROOT/scripts/lib/bench-rows")
[ ${#vvu[@]} -eq "$nrows" ] && [ "$(cat "$DIR/sibling1.status")" = 0 ] && [ "$(cat "$DIR/device.status")" = 0 ] ||
	{ ok=0; echo "the vvu row did not complete: $(tr -d '\r' <"$DIR/sibling1.log" | grep -E 'vvu-(bench|demo|guest):' | tail -n 5)"; }
[ ${#sock[@]} -eq "$nrows" ] && [ "$(cat "$DIR/socket.status")" = 0 ] ||
	{ ok=0; echo "the socket row did not complete: $(tr -d '\r' <"$DIR/socket.log" | grep -E 'vvu-(bench|guest):' | tail -n 5)"; }
[ $ok -eq 1 ] || { trap - EXIT; die "logs in $DIR"; }

# bar-read's line, from the device VM while the vvu row's sibling was up.
tr -d '\r' <"$DIR/device.log" | sed -n 's/^vvu-demo: bar-read: /device VM, bar-read: /p'
fmt='%-18s %10s %8s %12s %8s %11s\n'
printf "$fmt" test "vvu IOPS" "MB/s" "socket IOPS" "MB/s" vvu/socket
for i in "${!vvu[@]}"; do
	read -r name vi vm <<<"${vvu[$i]}"
	read -r _ si sm <<<"${sock[$i]}"
	printf "$fmt" "$name" "$vi" "$vm" "$si" "$sm" "$(awk -v a="$vi" -v b="$si" 'BEGIN { printf "%.2f", a / b }')"
done
