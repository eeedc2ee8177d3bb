# shellcheck shell=bash
# Boots a QEMU TCG guest (Debian's 6.1 kernel, a busybox initramfs) with
# vhost-user-blk-pci disks, and runs the vhost-user-blk back-ends they talk to
# (vblk-backend or qemu-storage-daemon). Shared by tests/qemu/ and scripts/demo.sh.
# Source after scripts/lib/common.sh.
#
#   qemu_guest_setup                        packages + kernel (DEBIAN_KERNEL_*)
#   qemu_guest_initramfs OUT MAIN [ARGS]    initramfs: scripts/lib/guest-init.sh as
#                                           /init, MAIN as /guest-main.sh, the virtio
#                                           modules; ARGS go to build-initramfs.sh
#   qemu_guest_start [options]              starts QEMU in the background
#   qemu_guest_wait                         waits for it (its time limit applies)
#   qemu_guest_kill                         ends it
#   (and scripts/lib/backend.sh's backend_start, backend_kill, backend_stop)

. "$VVU_ROOT/scripts/lib/debian-kernel.sh"
. "$VVU_ROOT/scripts/lib/backend.sh"

# Debian 6.1's modules for virtio-pci and virtio-blk, dependencies first.
QEMU_GUEST_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	virtio_pci virtio_blk)
QEMU_GUEST_PACKAGES=(qemu-system-x86 qemu-system-common busybox-static cpio kmod
	xz-utils zstd iproute2 coreutils)

QEMU_GUEST_PID=

qemu_guest_setup() {
	ensure_packages "${QEMU_GUEST_PACKAGES[@]}"
	debian_kernel_fetch
}

qemu_guest_initramfs() {
	local out=$1 main=$2 m args=()
	shift 2
	[ -f "$main" ] || die "guest main script '$main' does not exist"
	for m in "${QEMU_GUEST_MODULES[@]}"; do args+=(--module "$m"); done
	"$VVU_ROOT/scripts/build-initramfs.sh" -o "$out" \
		--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
		--file "$main:/guest-main.sh" \
		--moddir "$DEBIAN_KERNEL_MODDIR" "${args[@]}" "$@" ||
		die "building initramfs $out failed"
}

qemu_guest_usage() {
	cat <<'EOF'
qemu_guest_start --initrd FILE --serial LOG --timeout SECS [--blk SOCK[,OPTS]]...
                 [--append WORDS] [--mem MiB] [--smp N]
  --blk SOCK[,num-queues=N][,reconnect=SECS]  a vhost-user-blk-pci disk (vda, vdb, ...)
EOF
}

# Starts QEMU in the background (QEMU_GUEST_PID); the serial console goes to
# LOG, QEMU's own output to LOG.qemu. The guest is killed after SECS.
qemu_guest_start() {
	local initrd='' serial='' secs='' append='' mem=512 smp=1 blks=() args=() i=0 b o sock opt nq rc
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || { qemu_guest_usage >&2; die "qemu_guest_start: $1 needs a value"; }
		case $1 in
		--initrd) initrd=$2 ;;
		--serial) serial=$2 ;;
		--timeout) secs=$2 ;;
		--blk) blks+=("$2") ;;
		--append) append=$2 ;;
		--mem) mem=$2 ;;
		--smp) smp=$2 ;;
		*) qemu_guest_usage >&2; die "qemu_guest_start: unknown option '$1'" ;;
		esac
		shift 2
	done
	[ -f "$initrd" ] || die "qemu_guest_start: initrd '$initrd' does not exist"
	[ -n "$serial" ] || die "qemu_guest_start: no --serial LOG"
	[[ $secs =~ ^[0-9]+$ ]] || die "qemu_guest_start: --timeout '$secs' is not a number of seconds"
	[[ $mem =~ ^[0-9]+$ ]] || die "qemu_guest_start: --mem '$mem' is not a number of MiB"
	[ -n "${DEBIAN_KERNEL_IMAGE:-}" ] || die "qemu_guest_start: no kernel (call qemu_guest_setup)"
	for b in "${blks[@]}"; do
		sock=${b%%,*}
		nq=1 rc=
		IFS=, read -ra opt <<<"${b#"$sock"}"
		for o in "${opt[@]}"; do
			case $o in
			'') ;;
			num-queues=*) nq=${o#*=} ;;
			reconnect=*) rc=,reconnect=${o#*=} ;;
			*) die "qemu_guest_start: unknown --blk option '$o' in '$b'" ;;
			esac
		done
		[[ $nq =~ ^[1-9][0-9]*$ ]] || die "qemu_guest_start: num-queues '$nq' in '$b' is not a positive number"
		args+=(-chardev "socket,id=blk$i,path=$sock$rc"
			-device "vhost-user-blk-pci,chardev=blk$i,num-queues=$nq")
		i=$((i + 1))
	done
	: >"$serial"
	timeout -k 5 "$secs" qemu-system-x86_64 \
		-accel tcg -cpu max -smp "$smp" -m "${mem}M" \
		-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" \
		-machine q35,memory-backend=mem \
		-nodefaults -display none -vga none -no-reboot \
		-serial "file:$serial" \
		-kernel "$DEBIAN_KERNEL_IMAGE" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet $append" \
		"${args[@]}" >"$serial.qemu" 2>&1 </dev/null &
	QEMU_GUEST_PID=$!
}

# Waits for the guest; returns QEMU's exit status (124: its time ran out).
qemu_guest_wait() {
	local rc=0
	[ -n "$QEMU_GUEST_PID" ] || return 0
	wait "$QEMU_GUEST_PID" || rc=$?
	QEMU_GUEST_PID=
	return $rc
}

qemu_guest_kill() {
	[ -n "$QEMU_GUEST_PID" ] || return 0
	kill "$QEMU_GUEST_PID" 2>/dev/null || true
	wait "$QEMU_GUEST_PID" 2>/dev/null || true
	QEMU_GUEST_PID=
}

