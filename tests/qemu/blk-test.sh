#!/usr/bin/env bash
# QEMU 7.2 (TCG) as the vhost-user-blk front-end of a back-end on the host:
# a Debian 6.1 guest writes and reads /dev/vda, the host checks the disk file.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$VVU_ROOT/scripts/lib/qemu-guest.sh"

usage() {
	cat <<'EOF'
usage: blk-test.sh [--backend vblk|qsd] [--queues N] [--mode basic|reconnect] [--keep]

  --backend   vblk: $VVU_BUILD/vblk-backend/vblk-backend (default);
              qsd: qemu-storage-daemon (proves the test itself)
  --queues N  virtqueues (QEMU num-queues, back-end queues; N > 1 gives the
              guest N CPUs and writes from each of them at once)
  --mode      basic: chunks of random data at scattered offsets, read back in
              the guest and compared on the host;
              reconnect: the guest writes and reads 8 MiB in 64 KiB direct I/Os
              while the host kills the back-end (SIGKILL while writing, SIGTERM
              while reading) and restarts it on the same socket
              (-chardev ...,reconnect=1)
  --keep      keep the temporary directory (logs, disk) and print its path
Exit status: 0 pass, 1 fail, 77 skipped (with the reason).
EOF
}

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
		--backend) [ $# -ge 2 ] || die "--backend needs vblk or qsd"; BACKEND=$2; shift 2 ;;
		--queues) [ $# -ge 2 ] || die "--queues needs a number"; QUEUES=$2; shift 2 ;;
		--mode) [ $# -ge 2 ] || die "--mode needs basic or reconnect"; MODE=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument '$1'" ;;
		esac
	done
	case $BACKEND in vblk | qsd) ;; *) die "--backend '$BACKEND' is neither vblk nor qsd" ;; esac
	case $MODE in basic | reconnect) ;; *) die "--mode '$MODE' is neither basic nor reconnect" ;; esac
	[[ $QUEUES =~ ^[1-8]$ ]] || die "--queues '$QUEUES' is not 1..8"
}

skip() { echo "SKIP: $*"; exit 77; }

T0=$SECONDS
step() { log "[$((SECONDS - T0)) s] $*"; }

cleanup() {
	qemu_guest_kill
	backend_kill KILL || true
	if [ $KEEP -eq 1 ]; then log "kept $DIR"; else rm -rf "$DIR"; fi
}

# Prints the guest's serial log and QEMU's and the back-end's output, then fails.
fail() {
	log "FAIL: $*"
	echo "----- guest serial ($DIR/serial.log) -----"; cat "$DIR/serial.log" 2>/dev/null || true
	echo "----- qemu -----"; cat "$DIR/serial.log.qemu" 2>/dev/null || true
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
	qemu_guest_wait || rc=$?
	[ $rc -ne 124 ] || fail "the guest did not power off within $GUEST_TIMEOUT s"
	[ $rc -eq 0 ] || fail "qemu-system-x86_64 exited with status $rc"
	res=$(result_line)
	[ -n "$res" ] || fail "the guest printed no VVU-RESULT line"
	case $res in "VVU-RESULT: PASS"*) ;; *) fail "guest: $res" ;; esac
	grep -aq '^vvu-guest: powering off' "$DIR/serial.log" || fail "the guest did not reach poweroff"
	step "guest: ${res#VVU-RESULT: }"
	step "guest timeline: $(grep -aE '^vvu-guest: (init up|powering off)' "$DIR/serial.log" | tr '\n' ' ')"
}

run_basic() {
	local offsets=(0 $((5 * 1048576 + 3 * 4096 + 512)) $((33 * 1048576)) $((DISK_MIB * 1048576 - CHUNK)))
	local hostoff=$((40 * 1048576)) i
	head -c $((${#offsets[@]} * CHUNK)) /dev/urandom >"$DIR/pattern"
	head -c "$CHUNK" /dev/urandom >"$DIR/hostchunk"
	dd if="$DIR/hostchunk" of="$DIR/disk.img" bs="$CHUNK" seek=$((hostoff / CHUNK)) conv=notrunc status=none
	md5sum <"$DIR/hostchunk" | cut -d' ' -f1 >"$DIR/hostchunk-md5"
	qemu_guest_initramfs "$DIR/initrd.gz" "$VVU_ROOT/tests/qemu/guest-blk.sh" \
		--file "$DIR/pattern:/pattern" --file "$DIR/hostchunk-md5:/hostchunk-md5"
	step "initramfs built ($(stat -c %s "$DIR/initrd.gz") bytes)"
	backend_start "$BACKEND" "$DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log" --queues "$QUEUES"
	step "back-end $BACKEND listening (pid $BACKEND_PID)"
	local off_list
	off_list=$(IFS=,; echo "${offsets[*]}")
	qemu_guest_start --initrd "$DIR/initrd.gz" --serial "$DIR/serial.log" --timeout "$GUEST_TIMEOUT" \
		--smp "$QUEUES" --blk "$DIR/blk.sock,num-queues=$QUEUES" \
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
		kill -0 "$QEMU_GUEST_PID" 2>/dev/null || fail "the guest ended before printing /$re/"
		sleep 0.05
	done
	fail "no /$re/ on the guest's serial console within $secs s"
}

last_progress() { grep -aE '^vvu-guest: (wrote|read) ' "$DIR/serial.log" | tail -n1 | tr -d '\r'; }

# Kills the back-end with SIG, waits PAUSE seconds, starts it again.
bounce_backend() {
	local sig=$1 before after rc=0
	before=$(last_progress)
	backend_kill "$sig" || rc=$?
	step "killed back-end with SIG$sig (status $rc) at '$before'"
	if [ "$sig" = TERM ] && [ $rc -ne 0 ]; then fail "back-end exited with status $rc on SIGTERM"; fi
	sleep 1
	after=$(last_progress)
	echo "=== restart after SIG$sig ===" >>"$DIR/backend.log"
	backend_start "$BACKEND" "$DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log" --queues "$QUEUES"
	step "back-end restarted (pid $BACKEND_PID); guest progress while it was down: '$before' -> '$after'"
	# Unblocked, the guest does dozens of chunks a second; with its back-end
	# gone, at most the request that was already done may still be reported.
	local b=${before##* } a=${after##* }
	b=${b%%/*} a=${a%%/*}
	[ $((a - b)) -le 2 ] ||
		fail "the guest went on from '$before' to '$after' while its back-end was down"
}

run_reconnect() {
	local base=$((8 * 1048576)) size=$((8 * 1048576)) n
	n=$((size / 65536))
	head -c "$size" /dev/urandom >"$DIR/pattern"
	qemu_guest_initramfs "$DIR/initrd.gz" "$VVU_ROOT/tests/qemu/guest-blk.sh" \
		--file "$DIR/pattern:/pattern"
	step "initramfs built ($(stat -c %s "$DIR/initrd.gz") bytes)"
	backend_start "$BACKEND" "$DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log" --queues "$QUEUES"
	step "back-end $BACKEND listening (pid $BACKEND_PID)"
	qemu_guest_start --initrd "$DIR/initrd.gz" --serial "$DIR/serial.log" --timeout "$GUEST_TIMEOUT" \
		--smp "$QUEUES" --blk "$DIR/blk.sock,num-queues=$QUEUES,reconnect=1" \
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

main() {
	parse_args "$@"
	ensure_packages "${QEMU_GUEST_PACKAGES[@]}"
	if [ "$BACKEND" = vblk ] && [ ! -x "$VBLK_BACKEND" ]; then
		skip "vblk-backend is not built ($VBLK_BACKEND)"
	fi
	qemu_guest_setup
	step "kernel $DEBIAN_KERNEL_PACKAGE=$DEBIAN_KERNEL_VERSION"
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/vvu-qemu-blk.XXXXXX")
	trap cleanup EXIT
	trap 'exit 143' TERM INT
	truncate -s "${DISK_MIB}M" "$DIR/disk.img"
	case $MODE in
	basic) run_basic ;;
	reconnect) run_reconnect ;;
	esac
	step "PASS ($BACKEND, $QUEUES queue(s), $MODE)"
}

main "$@"
