#!/usr/bin/env bash
# Boots a tiny test guest (tests/kvm/guest/) with `vmm run` on /dev/kvm and
# checks its console: every "tiny: ..." line, "tiny: PASS" at the end, and
# the vmm's exit status 0 (the guest powers off through ACPI).
#
# usage: tiny-guest-test.sh GUEST [--disk vblk|qsd] [--written] [--reconnect]
#                            [--params STR] [--expect TEXT]... [--vmm-expect TEXT]...
#                            [--vvu-proxy PROXYD | --vvu | --units]
#   --disk KIND   give the guest a --vhost-user-blk disk of 2048 sectors
#                 (sector 0 byte k = (k * 7 + 3) & 0xff) served by vblk-backend
#                 or qemu-storage-daemon
#   --written     afterwards sector 1 must hold what the guest wrote
#                 (byte k = k ^ 0xa5)
#   --reconnect   when the guest prints "tiny: phase1", kill the back-end,
#                 tell the guest ('k' on its console), wait, start it again
#   --vvu-proxy PROXYD  give the guest a --vvu-proxy device whose model is
#                 PROXYD (started by the vmm, as VVU_PROXYD)
#   --vvu         give the guest a vvu-proxy device at 00:10.0 (shm=256M,
#                 vvu-proxyd started by the vmm) with tests/kvm/vvu-sibling
#                 as the sibling on its socket; the sibling must succeed
#   --units       with --vvu: start vvu-proxyd and the vmm with the ExecStart
#                 lines of systemd/vvu-proxyd@.service and vmm@.service
#                 (instance test0, an environment file of the test's, the
#                 installed paths pointed at this build and a test directory)
#   --params STR  vmm run -p STR
#   --refused TEXT the vmm must refuse GUEST: exit 1, TEXT in its message
#   --expect TEXT a line the console must contain
#   --vmm-expect TEXT  a line the vmm's log must contain
# Exit status: 0 pass, 1 fail, 77 skipped (no /dev/kvm), with the reason.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$VVU_ROOT/scripts/lib/backend.sh"

VMM=${VMM:-$VVU_BUILD/vmm/vmm}
GUEST=$1; shift
DISK='' WRITTEN=0 RECONNECT=0 VVU=0 UNITS=0 PARAMS='' REFUSED='' EXPECT=() PROXYD='' VMM_EXPECT=()
while [ $# -gt 0 ]; do
	case $1 in
	--disk) DISK=$2; shift 2 ;;
	--written) WRITTEN=1; shift ;;
	--reconnect) RECONNECT=1; shift ;;
	--vvu-proxy) PROXYD=$2; shift 2 ;;
	--vvu) VVU=1; shift ;;
	--units) VVU=1; UNITS=1; shift ;;
	--params) PARAMS=$2; shift 2 ;;
	--vmm-expect) VMM_EXPECT+=("$2"); shift 2 ;;
	--refused) REFUSED=$2; shift 2 ;;
	--expect) EXPECT+=("$2"); shift 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done

[ -w /dev/kvm ] || { echo "SKIP: /dev/kvm is not usable by $(id -un)"; exit 77; }
[ -x "$VMM" ] || die "'$VMM' is not built"

DIR=$(mktemp -d "${TMPDIR:-/tmp}"/vvu-tiny.XXXXXX)
VMM_PID='' SIBLING_PID='' PROXYD_PID='' CONSOLE=$DIR/console
cleanup() {
	[ -z "$PROXYD_PID" ] || kill -9 "$PROXYD_PID" 2>/dev/null || true
	[ -z "$VMM_PID" ] || kill -9 "$VMM_PID" 2>/dev/null || true
	[ -z "$SIBLING_PID" ] || kill -9 "$SIBLING_PID" 2>/dev/null || true
	backend_kill KILL || true
	exec 3>&- || true
	rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	echo "----- console -----"; cat "$CONSOLE" 2>/dev/null || true
	echo "----- vmm -----"; cat "$DIR/vmm.log" 2>/dev/null || true
	echo "----- back-end -----"; cat "$DIR/backend.log" 2>/dev/null || true
	[ $VVU -eq 0 ] || { echo "----- sibling -----"; cat "$DIR/sibling.log" 2>/dev/null || true; }
	[ $UNITS -eq 0 ] || { echo "----- vvu-proxyd -----"; cat "$DIR/proxyd.log" 2>/dev/null || true; }
	exit 1
}

args=(run -m 16 --serial "file=$CONSOLE")
[ -z "$PARAMS" ] || args+=(-p "$PARAMS")
if [ -n "$DISK" ]; then
	python3 - "$DIR/disk.img" <<'PY'
import sys
b = bytearray(2048 * 512)
for k in range(512):
    b[k] = (k * 7 + 3) & 0xff
open(sys.argv[1], "wb").write(b)
PY
	backend_start "$DISK" "$DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log"
	args+=(--vhost-user-blk "$DIR/blk.sock")
fi

if [ -n "$PROXYD" ]; then
	export VVU_PROXYD=$PROXYD
	args+=(--vvu-proxy "$DIR/vvu.sock")
fi

cmd=("$VMM" "${args[@]}" "$GUEST")
if [ $UNITS -eq 1 ]; then
	# What systemd would run: the units' ExecStart lines, expanded.
	mkdir -p "$DIR/run/test0" "$DIR/log"
	cat >"$DIR/test0.env" <<ENV
VVU_SOCKET=/run/vvu/vvu.sock
VVU_ADDR=0000:00:10.0
VVU_CMDLINE=vvu.units=test0
VVU_VMM_ARGS=-m 16
VVU_KERNEL=$GUEST
VVU_PROXYD_ARGS=--shm-size 256M
ENV
	unit_cmd() {
		python3 "$VVU_ROOT/tests/systemd/unit-exec.py" "$VVU_ROOT/systemd/$1" test0 \
			"$DIR/test0.env" "/usr/local/bin/vvu-proxyd=$VVU_BUILD/vvu-proxyd/vvu-proxyd" \
			"/usr/local/bin/vmm=$VVU_BUILD/vmm/vmm" "/run/vvu=$DIR/run" "/var/log/vvu=$DIR/log"
	}
	mapfile -t pcmd < <(unit_cmd vvu-proxyd@.service)
	mapfile -t cmd < <(unit_cmd vmm@.service)
	echo "vvu-proxyd@test0: ${pcmd[*]}"
	echo "vmm@test0: ${cmd[*]}"
	# LeakSanitizer's exit scan needs system calls the sandbox forbids
	# (proxyd's code is leak-checked in-process by its unit tests).
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		"${pcmd[@]}" >"$DIR/proxyd.log" 2>&1 &
	PROXYD_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$DIR/run/test0/proxyd.ctl" ] && break
		sleep 0.1
	done
	CONSOLE=$DIR/log/test0.console
	VVU_SOCK=$DIR/run/vvu.sock
elif [ $VVU -eq 1 ]; then
	VVU_SOCK=$DIR/vvu.sock
	cmd=("$VMM" "${args[@]}" --vvu-proxy "$VVU_SOCK,addr=0000:00:10.0,shm=256M" "$GUEST")
fi
if [ $VVU -eq 1 ]; then
	"$VVU_BUILD/tests/kvm/vvu-sibling" "$VVU_SOCK" >"$DIR/sibling.log" 2>&1 &
	SIBLING_PID=$!
fi

# The console's input is a FIFO the test writes to (--reconnect).
mkfifo "$DIR/input"
timeout -k 5 100 "${cmd[@]}" <"$DIR/input" >"$DIR/vmm.log" 2>&1 &
VMM_PID=$!
exec 3>"$DIR/input"

if [ $RECONNECT -eq 1 ]; then
	for ((i = 0; i < 600; i++)); do
		grep -q "tiny: phase1" "$CONSOLE" 2>/dev/null && break
		kill -0 "$VMM_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "tiny: phase1" "$CONSOLE" || fail "the guest never reached phase1"
	backend_kill KILL || true
	printf k >&3
	sleep 1.5
	echo "=== restarted ===" >>"$DIR/backend.log"
	backend_start "$DISK" "$DIR/blk.sock" "$DIR/disk.img" "$DIR/backend.log"
fi

rc=0
wait "$VMM_PID" || rc=$?
VMM_PID=
[ $rc -ne 124 ] || fail "the guest did not power off within 100 s"
if [ -n "$REFUSED" ]; then
	cat "$DIR/vmm.log"
	[ $rc -eq 1 ] || fail "vmm exited with status $rc, not 1, for a guest it must refuse"
	grep -qF -- "$REFUSED" "$DIR/vmm.log" || fail "the vmm's message lacks '$REFUSED'"
	echo "PASS"
	exit 0
fi
cat "$CONSOLE"
[ $rc -eq 0 ] || fail "vmm exited with status $rc"
grep -q "^tiny: PASS" "$CONSOLE" || fail "the guest did not pass"
for e in "${EXPECT[@]}"; do
	grep -qF -- "$e" "$CONSOLE" || fail "the console lacks '$e'"
done
for e in "${VMM_EXPECT[@]}"; do
	grep -qF -- "$e" "$DIR/vmm.log" || fail "the vmm's log lacks '$e'"
done
if [ $RECONNECT -eq 1 ]; then
	grep -q "reconnected" "$DIR/vmm.log" || fail "the vmm did not report a reconnect"
fi
if [ $VVU -eq 1 ]; then
	rc=0
	wait "$SIBLING_PID" || rc=$?
	SIBLING_PID=
	cat "$DIR/sibling.log"
	[ $rc -eq 0 ] || fail "the sibling failed (status $rc)"
fi
if [ $UNITS -eq 1 ]; then
	# The vmm left; vvu-proxyd@ goes when its vmm closes the channel.
	rc=0
	timeout 10 tail --pid="$PROXYD_PID" -f /dev/null || fail "vvu-proxyd did not exit after its vmm"
	wait "$PROXYD_PID" || rc=$?
	PROXYD_PID=
	[ $rc -eq 0 ] || fail "vvu-proxyd exited with status $rc"
fi
if [ $WRITTEN -eq 1 ]; then
	python3 - "$DIR/disk.img" <<'PY' || fail "sector 1 of disk.img does not hold the guest's write"
import sys
d = open(sys.argv[1], "rb").read()
sys.exit(any(d[512 + k] != (k ^ 0xa5) & 0xff for k in range(512)))
PY
fi
echo "PASS"
