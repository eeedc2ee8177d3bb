# shellcheck shell=bash
# Boots a Linux test guest (a busybox initramfs) with vhost-user-blk disks,
# and runs the back-ends they talk to (scripts/lib/backend.sh). One of two
# front-ends, GUEST_FRONTEND:
#
#   qemu  QEMU 7.2 under TCG (no KVM needed), Debian's 6.1 kernel, virtio as
#         modules, -device vhost-user-blk-pci
#   vmm   the project's `vmm run` on KVM, the project's guest kernel (virtio
#         built in), --vhost-user-blk; needs a /dev/kvm that runs Linux at
#         useful speed: inside scripts/with-kvm.sh
#
# Shared by tests/qemu/blk-test.sh and scripts/demo.sh. Source after
# scripts/lib/common.sh.
#
#   guest_setup                      packages and kernel for GUEST_FRONTEND
#   guest_initramfs OUT MAIN [ARGS]  initramfs: scripts/lib/guest-init.sh as
#                                    /init, MAIN as /guest-main.sh (and the
#                                    virtio modules for qemu); ARGS go to
#                                    build-initramfs.sh
#   guest_start [options]            starts the guest in the background, under
#                                    scripts/lib/guest-watch.py
#   guest_wait                       waits for it (its time limit applies;
#                                    status 86: it stalled, GUEST_STALL_STATUS)
#   guest_kill                       ends it

. "$VVU_ROOT/scripts/lib/backend.sh"

GUEST_FRONTEND=${GUEST_FRONTEND:-qemu}
GUEST_PID=
# guest_setup sets these; a caller may hand them down (to with-kvm.sh).
GUEST_KERNEL=${GUEST_KERNEL:-}
GUEST_KERNEL_NAME=${GUEST_KERNEL_NAME:-}
# Where guest-watch.py finds jiffies_64 (a vmlinux or a System.map).
GUEST_KERNEL_MAP=${GUEST_KERNEL_MAP:-}
GUEST_STALL_STATUS=86
VMM=${VMM:-$VVU_BUILD/vmm/vmm}

# Debian 6.1's modules for virtio-pci and virtio-blk, dependencies first.
QEMU_GUEST_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	virtio_pci virtio_blk)
guest_setup() {
	ensure_packages "${VVU_TEST_PACKAGES[@]}"
	case $GUEST_FRONTEND in
	qemu)
		. "$VVU_ROOT/scripts/lib/debian-kernel.sh"
		debian_kernel_fetch
		GUEST_KERNEL=$DEBIAN_KERNEL_IMAGE
		GUEST_KERNEL_MAP=$DEBIAN_KERNEL_SYSTEM_MAP
		GUEST_KERNEL_NAME="$DEBIAN_KERNEL_PACKAGE=$DEBIAN_KERNEL_VERSION"
		;;
	vmm)
		[ -x "$VMM" ] || die "'$VMM' is not built"
		GUEST_KERNEL=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux) ||
			die "cannot build the guest kernel"
		GUEST_KERNEL_MAP=$GUEST_KERNEL
		GUEST_KERNEL_NAME="the project's guest kernel ($GUEST_KERNEL)"
		;;
	*) die "GUEST_FRONTEND '$GUEST_FRONTEND' is neither qemu nor vmm" ;;
	esac
}

guest_initramfs() {
	local out=$1 main=$2 m args=()
	shift 2
	[ -f "$main" ] || die "guest main script '$main' does not exist"
	if [ "$GUEST_FRONTEND" = qemu ]; then
		args+=(--moddir "$DEBIAN_KERNEL_MODDIR")
		for m in "${QEMU_GUEST_MODULES[@]}"; do args+=(--module "$m"); done
	fi
	"$VVU_ROOT/scripts/build-initramfs.sh" -o "$out" \
		--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
		--file "$main:/guest-main.sh" "${args[@]}" "$@" ||
		die "building initramfs $out failed"
}

guest_usage() {
	cat <<'EOF'
guest_start --initrd FILE --serial LOG --timeout SECS [--blk SOCK[,OPTS]]...
            [--append WORDS] [--mem MiB] [--smp N]
  --blk SOCK[,num-queues=N][,reconnect=SECS]  a vhost-user-blk disk (vda, vdb, ...);
        the vmm takes the queue count from the back-end and always reconnects
EOF
}

# Starts the guest in the background (GUEST_PID); the serial console goes to
# LOG, the front-end's own output to LOG.fe. The guest is killed after SECS,
# or as soon as guest-watch.py sees it stalled (no console output and its
# clock stopped for a minute), with the last console lines in LOG.fe.
guest_start() {
	local initrd='' serial='' secs='' append='' mem=512 smp=1 blks=() cmd=() i=0 b o sock opt nq rc
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || { guest_usage >&2; die "guest_start: $1 needs a value"; }
		case $1 in
		--initrd) initrd=$2 ;;
		--serial) serial=$2 ;;
		--timeout) secs=$2 ;;
		--blk) blks+=("$2") ;;
		--append) append=$2 ;;
		--mem) mem=$2 ;;
		--smp) smp=$2 ;;
		*) guest_usage >&2; die "guest_start: unknown option '$1'" ;;
		esac
		shift 2
	done
	[ -f "$initrd" ] || die "guest_start: initrd '$initrd' does not exist"
	[ -n "$serial" ] || die "guest_start: no --serial LOG"
	[[ $secs =~ ^[0-9]+$ ]] || die "guest_start: --timeout '$secs' is not a number of seconds"
	[[ $mem =~ ^[0-9]+$ ]] || die "guest_start: --mem '$mem' is not a number of MiB"
	[ -n "$GUEST_KERNEL" ] || die "guest_start: no kernel (call guest_setup)"
	case $GUEST_FRONTEND in
	qemu)
		# nokaslr: jiffies_64 where System.map says, for guest-watch.py.
		cmd=(qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "${mem}M"
			-object "memory-backend-memfd,id=mem,size=${mem}M,share=on"
			-machine q35,memory-backend=mem
			-nodefaults -display none -vga none -no-reboot
			-serial "file:$serial" -kernel "$GUEST_KERNEL" -initrd "$initrd"
			-append "console=ttyS0 panic=-1 nokaslr quiet $append") ;;
	vmm)
		cmd=("$VMM" run -c "$smp" -m "$mem" -i "$initrd" -p "quiet $append"
			--serial "file=$serial") ;;
	esac
	for b in "${blks[@]}"; do
		sock=${b%%,*}
		nq=1 rc=
		IFS=, read -ra opt <<<"${b#"$sock"}"
		for o in "${opt[@]}"; do
			case $o in
			'') ;;
			num-queues=*) nq=${o#*=} ;;
			reconnect=*) rc=,reconnect=${o#*=} ;;
			*) die "guest_start: unknown --blk option '$o' in '$b'" ;;
			esac
		done
		[[ $nq =~ ^[1-9][0-9]*$ ]] || die "guest_start: num-queues '$nq' in '$b' is not a positive number"
		if [ "$GUEST_FRONTEND" = qemu ]; then
			cmd+=(-chardev "socket,id=blk$i,path=$sock$rc"
				-device "vhost-user-blk-pci,chardev=blk$i,num-queues=$nq")
		else
			cmd+=(--vhost-user-blk "$sock")
		fi
		i=$((i + 1))
	done
	[ "$GUEST_FRONTEND" = qemu ] || cmd+=("$GUEST_KERNEL")
	: >"$serial"
	timeout -k 10 "$secs" "$VVU_ROOT/scripts/lib/guest-watch.py" \
		--label "$GUEST_FRONTEND guest" --console "$serial" --kernel "$GUEST_KERNEL_MAP" \
		-- "${cmd[@]}" >"$serial.fe" 2>&1 </dev/null &
	GUEST_PID=$!
}

# Waits for the guest; returns the front-end's exit status (124: time ran out).
guest_wait() {
	local rc=0
	[ -n "$GUEST_PID" ] || return 0
	wait "$GUEST_PID" || rc=$?
	GUEST_PID=
	return $rc
}

guest_kill() {
	[ -n "$GUEST_PID" ] || return 0
	kill "$GUEST_PID" 2>/dev/null || true
	wait "$GUEST_PID" 2>/dev/null || true
	GUEST_PID=
}
