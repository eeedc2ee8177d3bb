#!/usr/bin/env bash
# A vhost-user-blk front-end (QEMU 7.2 under TCG, or the project's vmm on KVM)
# and a back-end: a Linux guest writes and reads /dev/vda, the host checks
# the disk file.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$VVU_ROOT/scripts/lib/guest.sh"

usage() {
	cat <<'EOF'
usage: blk-test.sh [--frontend qemu|vmm] [--backend vblk|qsd] [--queues N]
                   [--mode basic|reconnect] [--keep]

  --frontend  qemu: QEMU 7.2 (TCG), Debian's 6.1 kernel (default);
              vmm: $VVU_BUILD/vmm/vmm, the project's guest kernel, run
              inside scripts/with-kvm.sh (this script re-runs itself there)
  --backend   vblk: $VVU_BUILD/vblk-backend/vblk-backend (default);
              qsd: qemu-storage-daemon (proves the test itself)
  --queues N  virtqueues (QEMU num-queues, back-end queues; N > 1 gives the
              guest N CPUs and writes from each of them at once)
  --mode      basic: chunks of random data at scattered offsets, read back in
              the guest and compared on the host;
              reconnect: the guest writes and reads 8 MiB in 64 KiB direct I/Os
              while the host kills the back-end (SIGKILL while writing, SIGTERM
              while reading) and restarts it on the same socket (QEMU:
              -chardev ...,reconnect=1; the vmm always reconnects)
  --keep      keep the temporary directory (logs, disk) and print its path
Exit status: 0 pass, 1 fail, 77 skipped (with the reason).
EOF
}

FRONTEND=qemu
BACKEND=vblk
QUEUES=1
MODE=basic
KEEP=0
DISK_MIB=64
CHUNK=262144
GUEST_TIMEOUT=${VVU_GUEST_TIMEOUT:-180}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--frontend) [ $# -ge 2 ] || die "--frontend needs qemu or vmm"; FRONTEND=$2; shift 2 ;;
		--backend) [ $# -ge 2 ] || die "--backend needs vblk or qsd"; BACKEND=$2; shift 2 ;;
		--queues) [ $# -ge 2 ] || die "--queues needs a number"; QUEUES=$2; shift 2 ;;
		--mode) [ $# -ge 2 ] || die "--mode needs basic or reconnect"; MODE=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument '$1'" ;;
		esac
	done
	case $FRONTEND in qemu | vmm) ;; *) die "--frontend '$FRONTEND' is neither qemu nor vmm" ;; esac
	case $BACKEND in vblk | qsd) ;; *) die "--backend '$BACKEND' is neither vblk nor qsd" ;; esac
	case $MODE in basic | reconnect) ;; *) die "--mode '$MODE' is neither basic nor reconnect" ;; esac
	[[ $QUEUES =~ ^[1-8]$ ]] || die "--queues '$QUEUES' is not 1..8"
}

skip() { echo "SKIP: $*"; exit 77; }

T0=$SECONDS
step() { log "[$((SECONDS - T0)) s] $*"; }

DIR='' SOCK_DIR=''
cleanup() {
	guest_kill
	backend_kill KILL || true
	[ -z "$SOCK_DIR" ] || [ "$SOCK_DIR" = "$DIR" ] || rm -rf "$SOCK_DIR"
	# Inside with-kvm.sh, DIR is the host's to remove.
	[ -z "${VVU_BLK_TEST_DIR:-}" ] || return 0
	if [ $KEEP -eq 1 ]; then log "kept $DIR"; else rm -rf "$DIR"; fi
}

# Prints the guest's serial log, the front-end's and the back-end's output, then fails.
fail() {
	log "FAIL: $*"
	echo "----- guest serial ($DIR/serial.log) -----"; cat "$DIR/serial.log" 2>/dev/null || true
	echo "----- $FRONTEND -----"; cat "$DIR/serial.log.fe" 2>/dev/null || true
	echo "----- back-end ($BACKEND) -----"; tail -n 100 "$DIR/backend.log" 2>/dev/null || true
	exit 1
}

# Compares LEN bytes of the disk at OFFSET with LEN bytes of FILE at FOFF.
check_disk_range() {
	local off=$1 len=$2 file=$3 foff=$4 what=$5
	cmp -s <(tail -c +$((off + 1)) "$DIR/disk.img" | head -c "$len") \
		<(tail -c +$((foff + 1)) "$file" | head -c "$len") ||
		fail "disk.img at offset $off ($what) does not hold what the guest wrote"
}

result_line() { grep -a '^VVU-RESULT: ' "$DIR/serial.log" | tail -n1 || true; }

boot_and_check_result() {
	local rc=0 res
	guest_wait || rc=$?
	[ $rc -ne 124 ] || fail "the guest did not power off within $GUEST_TIMEOUT s"
	[ $rc -ne "$GUEST_STALL_STATUS" ] || fail "the guest stalled (guest-watch's report is in the $FRONTEND part below)"
	[ $rc -eq 0 ] || fail "the $FRONTEND front-end exited with status $rc"
	res=$(result_line)
	[ -n "$res" ] || fail "the guest printed no VVU-RESULT line"
	case $res in "VVU-RESULT: PASS"*) ;; *) fail "guest: $res" ;; esac
	grep -aq '^vvu-guest: powering off' "$DIR/serial.log" || fail "the guest did not reach poweroff"
	step "guest: ${res#VVU-RESULT: }"
	step "guest timeline: $(grep -aE '^vvu-guest: (init up|powering off)' "$DIR/serial.log" | tr '\n' ' ')"
}

# basic: where the guest's chunks go, and the host's own chunk.
BASIC_OFFSETS=(0 $((5 * 1048576 + 3 * 4096 + 512)) $((33 * 1048576)) $((DISK_MIB * 1048576 - CHUNK)))
BASIC_HOSTOFF=$((40 * 1048576))

prepare_basic() {
	head -c $((${#BASIC_OFFSETS[@]} * CHUNK)) /dev/urandom >"$DIR/pattern"
	head -c "$CHUNK" /dev/urandom >"$DIR/hostchunk"
	dd if="$DIR/hostchunk" of="$DIR/disk.img" bs="$CHUNK" seek=$((BASIC_HOSTOFF / CHUNK)) \
		conv=notrunc status=none
	md5sum <"$DIR/hostchunk" | cut -d' ' -f1 >"$DIR/hostchunk-md5"
	guest_initramfs "$DIR/initrd.gz" "$VVU_ROOT/tests/qemu/guest-blk.sh" \
		--file "$DIR/pattern:/pattern" --file "$DIR/hostchunk-md5:/hostchunk-md5"
	step "initramfs built ($(stat -c %s "$DIR/initrd.gz") bytes)"
}

run_basic() {
	local offsets=("${BASIC_OFFSETS[@]}") hostoff=$BASIC_HOSTOFF i
	backend_start "$BACKEND" "$SOCK_DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log" --queues "$QUEUES"
	step "back-end $BACKEND listening (pid $BACKEND_PID)"
	local off_list
	off_list=$(IFS=,; echo "${offsets[*]}")
	guest_start --initrd "$DIR/initrd.gz" --serial "$DIR/serial.log" --timeout "$GUEST_TIMEOUT" \
		--smp "$QUEUES" --blk "$SOCK_DIR/blk.sock,num-queues=$QUEUES" \
		--append "vvu.mode=basic vvu.sectors=$((DISK_MIB * 2048)) vvu.offsets=$off_list vvu.chunk=$CHUNK vvu.hostoff=$hostoff vvu.cpus=$QUEUES"
	step "guest started"
	boot_and_check_result
	backend_stop || fail "back-end did not exit with status 0 on SIGTERM"
	for i in "${!offsets[@]}"; do
		check_disk_range "${offsets[$i]}" "$CHUNK" "$DIR/pattern" $((i * CHUNK)) "chunk $i"
	done
	check_disk_range "$hostoff" "$CHUNK" "$DIR/hostchunk" 0 "the host's chunk"
	local guest_md5 host_md5
	guest_md5=$(result_line | sed -n 's/.*whole-disk md5 \([0-9a-f]*\).*/\1/p')
	host_md5=$(md5sum <"$DIR/disk.img" | cut -d' ' -f1)
	[ "$guest_md5" = "$host_md5" ] ||
		fail "the guest read the whole disk as md5 '$guest_md5', disk.img's md5 is $host_md5"
	step "disk.img holds all ${#offsets[@]} chunks at their offsets; its md5 is what the guest read"
}

# Waits (at most SECS) for a serial line matching the ERE; fails if the guest ends.
wait_serial() {
	local re=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		grep -aqE "$re" "$DIR/serial.log" && return 0
		kill -0 "$GUEST_PID" 2>/dev/null || fail "the guest ended before printing /$re/"
		sleep 0.05
	done
	fail "no /$re/ on the guest's serial console within $secs s"
}

last_progress() { grep -aE '^vvu-guest: (wrote|read) ' "$DIR/serial.log" | tail -n1 | tr -d '\r'; }

# Kills the back-end with SIG, waits, starts it again; the guest must not
# make progress while it is down.
bounce_backend() {
	local sig=$1 at before after rc=0
	at=$(last_progress)
	backend_kill "$sig" || rc=$?
	step "killed back-end with SIG$sig (status $rc) at '$at'"
	if [ "$sig" = TERM ] && [ $rc -ne 0 ]; then fail "back-end exited with status $rc on SIGTERM"; fi
	# What was done before the kill may still reach the console (a loaded
	# TCG guest prints late); from here on nothing can complete.
	sleep 0.5
	before=$(last_progress)
	sleep 1
	after=$(last_progress)
	echo "=== restart after SIG$sig ===" >>"$DIR/backend.log"
	backend_start "$BACKEND" "$SOCK_DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log" --queues "$QUEUES"
	step "back-end restarted (pid $BACKEND_PID); guest progress while it was down: '$before' -> '$after'"
	local b=${before##* } a=${after##* }
	b=${b%%/*} a=${a%%/*}
	[ $((a - b)) -le 1 ] ||
		fail "the guest went on from '$before' to '$after' while its back-end was down"
}

# reconnect: 8 MiB at 8 MiB.
RECONNECT_BASE=$((8 * 1048576))
RECONNECT_SIZE=$((8 * 1048576))

prepare_reconnect() {
	head -c "$RECONNECT_SIZE" /dev/urandom >"$DIR/pattern"
	guest_initramfs "$DIR/initrd.gz" "$VVU_ROOT/tests/qemu/guest-blk.sh" \
		--file "$DIR/pattern:/pattern"
	step "initramfs built ($(stat -c %s "$DIR/initrd.gz") bytes)"
}

run_reconnect() {
	local base=$RECONNECT_BASE size=$RECONNECT_SIZE n
	n=$((size / 65536))
	backend_start "$BACKEND" "$SOCK_DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log" --queues "$QUEUES"
	step "back-end $BACKEND listening (pid $BACKEND_PID)"
	guest_start --initrd "$DIR/initrd.gz" --serial "$DIR/serial.log" --timeout "$GUEST_TIMEOUT" \
		--smp "$QUEUES" --blk "$SOCK_DIR/blk.sock,num-queues=$QUEUES,reconnect=1" \
		--append "vvu.mode=reconnect vvu.sectors=$((DISK_MIB * 2048)) vvu.base=$base"
	step "guest started"
	wait_serial "^vvu-guest: wrote $((n / 4))/$n" 120
	bounce_backend KILL
	wait_serial "^vvu-guest: read $((n / 4))/$n" 120
	bounce_backend TERM
	boot_and_check_result
	backend_stop || fail "back-end did not exit with status 0 on SIGTERM"
	check_disk_range "$base" "$size" "$DIR/pattern" 0 "the 8 MiB the guest wrote"
	step "disk.img holds the 8 MiB the guest wrote across two back-end restarts"
}

# The guest's half: back-end, guest, checks. With the vmm it runs inside
# scripts/with-kvm.sh, where UNIX sockets cannot live on the 9p shares.
run() {
	SOCK_DIR=$DIR
	if [ "${VVU_WITH_KVM:-}" = nested ]; then
		SOCK_DIR=$(mktemp -d "$XDG_RUNTIME_DIR/vvu-blk-test.XXXXXX")
	fi
	"run_$MODE"
}

main() {
	parse_args "$@"
	GUEST_FRONTEND=$FRONTEND
	if [ "$BACKEND" = vblk ] && [ ! -x "$VBLK_BACKEND" ]; then
		skip "vblk-backend is not built ($VBLK_BACKEND)"
	fi
	if [ -n "${VVU_BLK_TEST_DIR:-}" ]; then
		# Inside with-kvm.sh: the host prepared DIR and keeps it.
		DIR=$VVU_BLK_TEST_DIR
		trap cleanup EXIT
		trap 'exit 143' TERM INT
		run
		return
	fi
	guest_setup
	step "kernel $GUEST_KERNEL_NAME, front-end $FRONTEND"
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/vvu-blk-test.XXXXXX")
	SOCK_DIR=$DIR
	trap cleanup EXIT
	trap 'exit 143' TERM INT
	truncate -s "${DISK_MIB}M" "$DIR/disk.img"
	"prepare_$MODE"
	if [ "$FRONTEND" = vmm ] && [ -z "${VVU_WITH_KVM:-}" ]; then
		export GUEST_KERNEL GUEST_KERNEL_NAME GUEST_KERNEL_MAP
		VVU_BLK_TEST_DIR=$DIR "$VVU_ROOT/scripts/with-kvm.sh" --timeout 900 -- "$0" "$@"
	else
		run
	fi
	step "PASS ($FRONTEND, $BACKEND, $QUEUES queue(s), $MODE)"
}

main "$@"
