# shellcheck shell=bash
# Runs the vhost-user-blk back-ends the tests talk to on a UNIX socket:
# vblk-backend, qemu-storage-daemon, or the VVU chain without a VM (vvu-proxyd
# on the socket, vblk-backend playing the vmm of its device over the device
# channel and driving it). Source after scripts/lib/common.sh.
#
#   backend_start KIND SOCK FILE LOG [ARGS] starts vblk|qsd|vvu on SOCK serving FILE
#   backend_kill [SIGNAL]                   signals it and waits for it to end
#   backend_stop                            SIGTERM, expects exit status 0
# BACKEND_PIDS lists every process behind SOCK (vvu: the back-end, then proxyd).

BACKEND_PID=
BACKEND_KIND=
BACKEND_PIDS=()
PROXYD_PID=

# True once a listening UNIX socket is bound at PATH.
socket_listening() {
	ss -xlnH 2>/dev/null | awk '{print $5}' | grep -Fxq -- "$1"
}

VBLK_BACKEND=${VBLK_BACKEND:-$VVU_BUILD/vblk-backend/vblk-backend}
VVU_PROXYD=${VVU_PROXYD:-$VVU_BUILD/vvu-proxyd/vvu-proxyd}

# The VVU chain: proxyd listens on SOCK and CTRL; the back-end connects to
# CTRL. proxyd accepts the front-end once the back-end's driver is up.
vvu_chain_start() {
	local sock=$1 file=$2 log=$3 ctrl=$1.ctrl i
	shift 3
	[ -x "$VVU_PROXYD" ] || die "backend_start: '$VVU_PROXYD' is not built"
	# LeakSanitizer cannot run under proxyd's seccomp filter.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		"$VVU_PROXYD" --socket "$sock" --control "$ctrl" --shm-size 1G \
		>>"$log" 2>&1 </dev/null &
	PROXYD_PID=$!
	for ((i = 0; i < 200; i++)); do
		socket_listening "$ctrl" && break
		kill -0 "$PROXYD_PID" 2>/dev/null ||
			die "vvu-proxyd exited before listening on $ctrl; its log ($log): $(tail -n 20 "$log")"
		sleep 0.05
	done
	"$VBLK_BACKEND" --devchan "$ctrl" --file "$file" "$@" >>"$log" 2>&1 </dev/null &
	# Up once its driver started the device (proxyd listens from the start)
	# and proxyd's irqfds and ioeventfds, which follow asynchronously, are
	# in: a bad-input case counts the back-end's fds from then on.
	for ((i = 0; i < 200; i++)); do
		grep -q "through the vvu-proxy device" "$log" && { fds_settled $!; return 0; }
		kill -0 $! 2>/dev/null ||
			die "vblk-backend --devchan exited before serving; the log ($log): $(tail -n 20 "$log")"
		sleep 0.05
	done
	die "vblk-backend --devchan is not serving after 10 s; the log ($log): $(tail -n 20 "$log")"
}

# Waits (5 s at most) until PID's open fds stay the same for half a second.
fds_settled() {
	local pid=$1 last=-1 n same=0 i
	for ((i = 0; i < 50 && same < 5; i++)); do
		n=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
		if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$n
		sleep 0.1
	done
}

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
	vvu)
		[ -x "$VBLK_BACKEND" ] || die "backend_start: '$VBLK_BACKEND' is not built"
		vvu_chain_start "$sock" "$file" "$log" "$@"
		;;
	qsd)
		local nq=1 writable=on
		while [ $# -gt 0 ]; do
			case $1 in
			--queues) [ $# -ge 2 ] || die "backend_start qsd: --queues needs a number"; nq=$2; shift 2 ;;
			--read-only) writable=off; shift ;;
			*) die "backend_start qsd: unsupported option '$1'" ;;
			esac
		done
		qemu-storage-daemon \
			--blockdev "driver=file,node-name=f0,filename=$file,discard=unmap" \
			--export "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$sock,writable=$writable,num-queues=$nq" \
			>>"$log" 2>&1 </dev/null &
		;;
	*) die "backend_start: unknown back-end kind '$kind' (vblk, qsd or vvu)" ;;
	esac
	BACKEND_PID=$!
	BACKEND_KIND=$kind
	BACKEND_PIDS=("$BACKEND_PID" ${PROXYD_PID:+"$PROXYD_PID"})
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
	if [ -n "$PROXYD_PID" ]; then
		kill -s "$sig" "$PROXYD_PID" 2>/dev/null || true
		wait "$PROXYD_PID" 2>/dev/null || true
		PROXYD_PID=
	fi
	return $rc
}

# SIGTERM; fails unless the back-end (then proxyd, for vvu) exits with
# status 0 within 10 s.
backend_stop() {
	local rc=0
	[ -n "$BACKEND_PID" ] || return 0
	stop_one "$BACKEND_PID" "$BACKEND_KIND" || rc=1
	BACKEND_PID=
	if [ -n "$PROXYD_PID" ]; then
		stop_one "$PROXYD_PID" vvu-proxyd || rc=1
		PROXYD_PID=
	fi
	return $rc
}

# stop_one PID NAME: SIGTERM, then status 0 within 10 s or a complaint.
stop_one() {
	local pid=$1 name=$2 i rc=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		log "$name (pid $pid) ignored SIGTERM for 10 s; killed"
		return 1
	fi
	wait "$pid" || rc=$?
	[ $rc -eq 0 ] || log "$name (pid $pid) exited with status $rc after SIGTERM"
	return $rc
}
