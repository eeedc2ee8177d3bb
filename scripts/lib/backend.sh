# shellcheck shell=bash
# Runs the vhost-user-blk back-ends the tests talk to: vblk-backend or
# qemu-storage-daemon on a UNIX socket. Source after scripts/lib/common.sh.
#
#   backend_start KIND SOCK FILE LOG [ARGS] starts vblk|qsd on SOCK serving FILE
#   backend_kill [SIGNAL]                   signals it and waits for it to end
#   backend_stop                            SIGTERM, expects exit status 0

BACKEND_PID=
BACKEND_KIND=

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
