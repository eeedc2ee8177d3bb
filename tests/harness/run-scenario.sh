#!/usr/bin/env bash
# run-scenario.sh BACKEND SCENARIO [BACKEND ARGS...]
# Starts BACKEND (vblk: vblk-backend, qsd: qemu-storage-daemon, vvu: the VVU
# chain, vvu-proxyd in front of vblk-backend --devchan) on a fresh
# socket and 64 MiB disk, runs one vu-harness scenario against it, then stops
# the back-end, which must exit 0 on SIGTERM (it must not have crashed).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"
. "$VVU_ROOT/scripts/lib/backend.sh"

[ $# -ge 2 ] || die "usage: run-scenario.sh vblk|qsd|vvu SCENARIO [BACKEND ARGS...]"
kind=$1 scenario=$2
shift 2
harness=$VVU_BUILD/tests/harness/vu-harness
[ -x "$harness" ] || die "'$harness' is not built"
if [ "$kind" = qsd ] && ! command -v qemu-storage-daemon >/dev/null; then
	echo "qemu-storage-daemon is not installed (package qemu-system-common)"
	exit 77
fi

dir=$(mktemp -d /tmp/vvu-harness.XXXXXX)
cleanup() {
	backend_kill KILL || true
	rm -rf "$dir"
}
trap cleanup EXIT
truncate -s 64M "$dir/disk.img"
serial=()
if [ "$kind" != qsd ]; then
	set -- "$@" --serial vvu-harness-disk
	serial=(--serial vvu-harness-disk)
fi
backend_start "$kind" "$dir/sock" "$dir/disk.img" "$dir/backend.log" "$@"

pids=()
for p in "${BACKEND_PIDS[@]}"; do pids+=(--backend-pid "$p"); done
rc=0
"$harness" --socket "$dir/sock" --file "$dir/disk.img" --scenario "$scenario" \
	"${pids[@]}" "${serial[@]}" || rc=$?
if ! backend_stop; then
	log "the back-end did not exit cleanly"
	rc=1
fi
if [ $rc -ne 0 ]; then
	log "back-end log:"
	cat "$dir/backend.log" >&2
fi
exit $rc
