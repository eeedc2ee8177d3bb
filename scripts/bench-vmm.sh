#!/usr/bin/env bash
# Benchmarks the vmm against QEMU 7.2 on the same guest kernel and
# initramfs, in one scripts/with-kvm.sh run: the time from starting the
# process to the guest's init printing its first line, and the process's
# resident memory beyond guest RAM at that moment (VmRSS minus the shared
# memfd pages that are guest RAM). QEMU runs as -M microvm and as q35 with
# -kernel, both on KVM with the same memory, vCPUs and memfd-backed RAM.
# Each front-end boots --runs times; the median is printed, and the ratio
# vmm/QEMU (targets: boot time <= 0.5x QEMU's, overhead under 8 MiB).
#
# usage: scripts/bench-vmm.sh [--runs N] [--mem MiB] [--cpus N]
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

RUNS=5 MEM=256 CPUS=1
while [ -z "${VVU_BENCH_VMM_INNER:-}" ] && [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
	--mem) MEM=${2:?--mem needs MiB}; shift 2 ;;
	--cpus) CPUS=${2:?--cpus needs a number}; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs '$RUNS' is not a positive number"
[[ $MEM =~ ^[1-9][0-9]*$ ]] || die "--mem '$MEM' is not a number of MiB"
[[ $CPUS =~ ^[1-8]$ ]] || die "--cpus '$CPUS' is not 1..8"

# The timing probe: starts a command, stamps the first console line that
# holds the marker, samples the process's memory then, lets the guest
# power off. Prints "ms overhead_kib".
PROBE=$(cat <<'PY'
import os, select, subprocess, sys, time
marker, cmd = sys.argv[1].encode(), sys.argv[2:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     stdin=subprocess.DEVNULL)

def fail(why):
    p.kill()
    p.wait()
    sys.exit(f"{cmd[0]}: {why}")

def read(deadline):
    if not select.select([p.stdout], [], [], max(0, deadline - time.monotonic()))[0]:
        fail("no output for too long")
    return os.read(p.stdout.fileno(), 65536)

buf = b""
while marker not in buf:
    chunk = read(t0 + 60)
    if not chunk:
        fail("ended before the guest printed its marker")
    buf = (buf + chunk)[-4096:]
ms = (time.monotonic() - t0) * 1000
status = {}
for line in open(f"/proc/{p.pid}/status"):
    k, v = line.split(":", 1)
    status[k] = int(v.split()[0]) if v.split() and v.split()[0].isdigit() else 0
overhead = status["VmRSS"] - status.get("RssShmem", 0)
# The guest powers off; a front-end that does not end is a failure.
t1 = time.monotonic()
while read(t1 + 30):
    pass
p.wait()
print(f"{ms:.0f} {overhead}")
PY
)

# The command line of front-end $1 booting $2 with initramfs $3.
frontend_cmd() {
	local name=$1 vmlinux=$2 initrd=$3
	local qemu=(qemu-system-x86_64 -enable-kvm -cpu host,-arch-capabilities
		-smp "$CPUS" -m "${MEM}M"
		-object "memory-backend-memfd,id=mem,size=${MEM}M,share=on"
		-nodefaults -nographic -no-reboot -serial stdio -kernel "$vmlinux"
		-initrd "$initrd" -append "console=ttyS0 reboot=k panic=-1 quiet")
	case $name in
	vmm) CMD=("$VVU_BUILD/vmm/vmm" run -m "$MEM" -c "$CPUS" -i "$initrd" -p quiet "$vmlinux") ;;
	qemu-microvm) CMD=("${qemu[@]}" -M microvm,memory-backend=mem) ;;
	qemu-q35) CMD=("${qemu[@]}" -M q35,memory-backend=mem) ;;
	esac
}

# Inside with-kvm.sh: boot each front-end RUNS times, print the table.
inner() {
	local vmlinux=$1 initrd=$2 name i r ms kib tmp
	local -A median_ms median_kib
	RUNS=$3 MEM=$4 CPUS=$5
	# Both read the kernel from RAM, not over with-kvm.sh's 9p shares.
	tmp=$(mktemp -d "${XDG_RUNTIME_DIR:-/tmp}/vvu-bench.XXXXXX")
	cp "$vmlinux" "$initrd" "$tmp/"
	vmlinux=$tmp/${vmlinux##*/} initrd=$tmp/${initrd##*/}
	for name in vmm qemu-microvm qemu-q35; do
		local times=() kibs=()
		frontend_cmd "$name" "$vmlinux" "$initrd"
		for ((i = 0; i < RUNS; i++)); do
			r=$(python3 -c "$PROBE" VVU-BENCH-INIT "${CMD[@]}") ||
				die "$name did not boot to init: $r"
			times+=("${r% *}") kibs+=("${r#* }")
		done
		median_ms[$name]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
		median_kib[$name]=$(printf '%s\n' "${kibs[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
		log "$name: boot ms ${times[*]}; overhead KiB ${kibs[*]}"
	done
	printf '\n%-14s %12s %14s %12s %14s\n' front-end "boot ms" "vmm/this" "overhead MiB" "vmm/this"
	for name in vmm qemu-microvm qemu-q35; do
		ms=${median_ms[$name]} kib=${median_kib[$name]}
		printf '%-14s %12s %14s %12.1f %14s\n' "$name" "$ms" \
			"$(awk -v a="${median_ms[vmm]}" -v b="$ms" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" \
			"$(awk -v a="${median_kib[vmm]}" -v b="$kib" 'BEGIN { printf "%.2f", a / b }')"
	done
	echo "($RUNS runs each, medians; ${MEM} MiB, $CPUS vCPU(s); KVM: ${VVU_WITH_KVM:-host})"
	rm -rf "$tmp"
}

if [ -n "${VVU_BENCH_VMM_INNER:-}" ]; then
	inner "$@"
	exit 0
fi

ensure_packages "${VVU_BUILD_PACKAGES[@]}" qemu-system-x86 busybox-static cpio python3
build_tree "$VVU_BUILD"
vmlinux=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux)
dir=$(mktemp -d /tmp/vvu-bench-vmm.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# /init prints the marker first thing, then powers off.
printf '#!/bin/sh\necho VVU-BENCH-INIT\nexec /sbin/poweroff -f\n' >"$dir/init"
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$dir/initrd.gz" --init "$dir/init" ||
	die "building the initramfs failed"
# (Parameters as arguments: with-kvm.sh has variables of the same names.)
VVU_BENCH_VMM_INNER=1 "$VVU_ROOT/scripts/with-kvm.sh" --timeout 900 -- \
	"$0" "$vmlinux" "$dir/initrd.gz" "$RUNS" "$MEM" "$CPUS"
