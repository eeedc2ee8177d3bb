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
#   backend_start KIND SOCK FILE LOG [ARGS] starts vblk|qsd on SOCK serving FILE
#   backend_kill [SIGNAL]                   signals it and waits for it to end
#   backend_stop                            SIGTERM, expects exit status 0

. "$VVU_ROOT/scripts/lib/debian-kernel.sh"

# Debian 6.1's modules for virtio-pci and virtio-blk, dependencies first.
QEMU_GUEST_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	virtio_pci virtio_blk)
QEMU_GUEST_PACKAGES=(qemu-system-x86 qemu-system-common busybox-static cpio kmod
	xz-utils zstd iproute2 coreutils)

QEMU_GUEST_PID=
BACKEND_PID=
BACKEND_KIND=

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

# True once a listening UNIX socket is bound at PATH.
socket_listening() {
	ss -xlnH 2>/dev/null | awk '{print $5}' | grep -Fxq -- "$1"
}

VBLK_BACKEND=${VBLK_BACKEND:-$VVU_BUILD/vblk-backend/vblk-backend}

# backend_start KIND SOCK FILE LOG [EXTRA ARGS]: KIND is vblk (vblk-backend) or
# qsd (qemu-storage-daemon). Waits (10 s at most) until SOCK listens.
backend_start() {
	local kind=$1 sock=$2 file=$3 log=$4 i
	shift 4
	[ -f "$file" ] || die "backend_start: disk file '$file' does not exist"
	case $kind in
	vblk)
		[ -x "$VBLK_BACKEND" ] || die "backend_start: '$VBLK_BACKEND' is not built"
		"$VBLK_BACKEND" --socket "$sock" --file "$file" "$@" >>"$log" 2>&1 </dev/null &
		;;
	qsd)
		local nq=1
		while [ $# -gt 0 ]; do
			case $1 in
			--queues) [ $# -ge 2 ] || die "backend_start qsd: --queues needs a number"; nq=$2; shift 2 ;;
			*) die "backend_start qsd: unsupported option '$1'" ;;
			esac
		done
		qemu-storage-daemon \
			--blockdev "driver=file,node-name=f0,filename=$file" \
			--export "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$sock,writable=on,num-queues=$nq" \
			>>"$log" 2>&1 </dev/null &
		;;
	*) die "backend_start: unknown back-end kind '$kind' (vblk or qsd)" ;;
	esac
	BACKEND_PID=$!
	BACKEND_KIND=$kind
	for ((i = 0; i < 200; i++)); do
		socket_listening "$sock" && return 0
		kill -0 "$BACKEND_PID" 2>/dev/null ||
			die "back-end $kind exited before listening on $sock; its log ($log): $(tail -n 20 "$log")"
		sleep 0.05
	done
	die "back-end $kind does not listen on $sock after 10 s; its log ($log): $(tail -n 20 "$log")"
}

# backend_kill [SIGNAL]: signals the back-end (default KILL), waits; returns its status.
backend_kill() {
	local sig=${1:-KILL} rc=0
	[ -n "$BACKEND_PID" ] || return 0
	kill -s "$sig" "$BACKEND_PID" 2>/dev/null || true
	wait "$BACKEND_PID" 2>/dev/null || rc=$?
	BACKEND_PID=
	return $rc
}

# SIGTERM; fails unless the back-end exits with status 0 within 10 s.
backend_stop() {
	local pid=$BACKEND_PID i rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		BACKEND_PID=
		log "back-end $BACKEND_KIND (pid $pid) ignored SIGTERM for 10 s; killed"
		return 1
	fi
	wait "$pid" || rc=$?
	BACKEND_PID=
	[ $rc -eq 0 ] || log "back-end $BACKEND_KIND (pid $pid) exited with status $rc after SIGTERM"
	return $rc
}
