#!/usr/bin/env bash
# Benchmarks, on the same tmpfs file in the same run, with the harness's load
# generator (tests/harness/vu-load) as the front-end:
#   vvu   the VVU chain without a VM: vvu-proxyd, vblk-backend --devchan
#   vblk  vblk-backend --socket
#   qsd   qemu-storage-daemon's vhost-user-blk export
# and prints IOPS and MB/s side by side, the ratios vvu/vblk and vvu/qsd,
# and a plain pread/pwrite loop on the same file (the ceiling).
#
# usage: scripts/bench.sh [--runtime SECONDS] [--size MiB]
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$VVU_ROOT/scripts/lib/backend.sh"

runtime=5 size=256
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=${2:?--runtime needs seconds}; shift 2 ;;
	--size) size=${2:?--size needs MiB}; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

ensure_packages "${VVU_BUILD_PACKAGES[@]}" qemu-system-common iproute2
build_tree "$VVU_BUILD"
load=$VVU_BUILD/tests/harness/vu-load

dir=$(mktemp -d /dev/shm/vvu-bench.XXXXXX)
trap 'backend_kill KILL || true; rm -rf "$dir"' EXIT
# A written file: reads of holes would measure nothing.
dd if=/dev/urandom of="$dir/disk.img" bs=1M count="$size" status=none

# name rw bs iodepth
mapfile -t rows < <(grep -v '^#' "$VVU_ROOT/scripts/lib/bench-rows")

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# run_backend KIND ROW...: prints "iops mbps" per row.
run_backend() {
	local kind=$1 row name rw bs qd out i
	backend_start "$kind" "$dir/sock" "$dir/disk.img" "$dir/$kind.log"
	for row in "${rows[@]}"; do
		read -r name rw bs qd <<<"$row"
		# qsd listens again only a moment after the last front-end left.
		for ((i = 0; i < 100; i++)); do
			socket_listening "$dir/sock" && break
			sleep 0.05
		done
		out=$("$load" --socket "$dir/sock" --rw "$rw" --bs "$bs" \
			--iodepth "$qd" --runtime "$runtime")
		echo "$(field iops <<<"$out") $(field mbps <<<"$out")"
	done
	backend_stop
}

mapfile -t vvu < <(run_backend vvu)
mapfile -t vblk < <(run_backend vblk)
mapfile -t qsd < <(run_backend qsd)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt='%-18s %10s %8s %10s %8s %10s %8s %7s %7s %10s\n'
printf "$fmt" test "vvu IOPS" "MB/s" "vblk IOPS" "MB/s" "qsd IOPS" "MB/s" \
	vvu/vblk vvu/qsd "raw IOPS"
for i in "${!rows[@]}"; do
	read -r name rw bs qd <<<"${rows[$i]}"
	read -r vi vm <<<"${vvu[$i]}"
	read -r bi bm <<<"${vblk[$i]}"
	read -r qi qm <<<"${qsd[$i]}"
	raw=$("$load" --raw "$dir/disk.img" --rw "$rw" --bs "$bs" --runtime "$runtime" |
		field iops)
	printf "$fmt" "$name" "$vi" "$vm" "$bi" "$bm" "$qi" "$qm" \
		"$(ratio "$vi" "$bi")" "$(ratio "$vi" "$qi")" "$raw"
done
