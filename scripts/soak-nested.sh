#!/usr/bin/env bash
# Boots the project's guest kernel many times under nested KVM, the way the
# test suite does (K scripts/with-kvm.sh VMs at once), and counts per front-end
# the boots that reached init, the ones that stalled and the ones that failed
# otherwise. Every boot runs under scripts/lib/guest-watch.py, which tells a
# stall (no console output and the guest's own clock, jiffies_64 read from
# guest RAM, stopped for S seconds) from a boot that is only slow. For each
# stall it prints the last console lines and what the L1 kernel logged.
#
# usage: scripts/soak-nested.sh [--boots N] [--parallel K] [--frontend F]
#                               [--stall S] [--append WORDS] [--cpus N]
#                               [--mem MiB] [--out DIR]
#   --boots N      boots of each front-end (default 20)
#   --parallel K   nested VMs at once (default 2, as meson runs the suite)
#   --frontend F   vmm, qemu (QEMU 7.2 -accel kvm) or both (default both)
#   --stall S      seconds without console and clock progress (default 60)
#   --append WORDS extra guest kernel command line (default: none; the
#                  guest prints its boot log, as tests/e2e's boots do)
#   --cpus N       vCPUs of each guest (default 2)
#   --mem MiB      RAM of each guest (default 256)
#   --out DIR      keep every boot's console log there (default: a temp dir,
#                  removed unless a boot went wrong)
# Environment for the nested VMs (scripts/with-kvm.sh): VVU_WITH_KVM_* as
# documented there. Exit status 0 only if every boot reached init.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

BOOTS=20 PARALLEL=2 FRONTEND=both STALL=60 APPEND='' CPUS=2 MEM=256 OUT=''

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
num() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: '$2' is not a positive whole number"; }
while [ $# -gt 0 ]; do
	[ "$1" = -h ] || [ "$1" = --help ] && { usage; exit 0; }
	[ $# -ge 2 ] || die "$1 needs a value (see --help)"
	case $1 in
	--boots) num "$1" "$2"; BOOTS=$2 ;;
	--parallel) num "$1" "$2"; PARALLEL=$2 ;;
	--frontend) case $2 in vmm | qemu | both) FRONTEND=$2 ;;
		*) die "--frontend: '$2' is not vmm, qemu or both" ;; esac ;;
	--stall) num "$1" "$2"; STALL=$2 ;;
	--append) APPEND=$2 ;;
	--cpus) num "$1" "$2"; CPUS=$2 ;;
	--mem) num "$1" "$2"; MEM=$2 ;;
	--out) OUT=$2 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift 2
done

ensure_packages "${VVU_TEST_PACKAGES[@]}" python3 binutils
vmm=$VVU_BUILD/vmm/vmm
[ "$FRONTEND" = qemu ] || [ -x "$vmm" ] || die "'$vmm' is not built (meson compile -C $VVU_BUILD)"
vmlinux=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux)
keep=1
if [ -z "$OUT" ]; then
	OUT=$(mktemp -d /tmp/vvu-soak.XXXXXX)
	keep=0
fi
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$OUT/initrd.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/tests/e2e/guest-marker.sh:/guest-main.sh"

case $FRONTEND in
both) fes=(vmm qemu) ;;
*) fes=("$FRONTEND") ;;
esac
# Boot b (0-based) of the whole soak goes to VM b % K; each VM alternates
# the front-ends, so that neither is tied to one VM.
total=$((BOOTS * ${#fes[@]}))
for ((k = 0; k < PARALLEL; k++)); do : >"$OUT/plan.$k"; done
for ((b = 0; b < total; b++)); do
	echo "$b ${fes[(b / PARALLEL + b % PARALLEL) % ${#fes[@]}]}" >>"$OUT/plan.$((b % PARALLEL))"
done

# The script each nested VM runs: its boots, one at a time, each recorded in
# results.K as "BOOT FRONTEND OUTCOME SECONDS". A boot already recorded is
# skipped, so a run that with-kvm.sh repeats after an L1 lockup goes on.
cat >"$OUT/inner.sh" <<'INNER'
set -u
k=$1 out=$2 vmm=$3 vmlinux=$4 stall=$5 cpus=$6 mem=$7 append=$8 watch=$9
while read -r b fe; do
	grep -q "^$b " "$out/results.$k" 2>/dev/null && continue
	marker=soak-$b-$RANDOM
	log=$out/boot-$b-$fe.log
	case $fe in
	vmm) cmd=("$vmm" run -c "$cpus" -m "$mem" -i "$out/initrd.gz" -p "$append vvu.marker=$marker" "$vmlinux") ;;
	qemu) cmd=(qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities -smp "$cpus" -m "$mem"
		-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" -machine pc,memory-backend=mem
		-kernel "$vmlinux" -initrd "$out/initrd.gz" -append "console=ttyS0 panic=-1 $append vvu.marker=$marker"
		-nodefaults -display none -serial stdio -monitor none -no-reboot) ;;
	esac
	t0=$(date +%s)
	rc=0
	timeout -k 5 900 "$watch" --label "$fe boot $b" --kernel "$vmlinux" --stall "$stall" -- "${cmd[@]}" \
		</dev/null >"$log" 2>&1 || rc=$?
	secs=$(( $(date +%s) - t0 ))
	if grep -q "vvu-e2e: marker $marker" "$log" && [ $rc -eq 0 ]; then
		outcome=init
	elif [ $rc -eq 86 ]; then
		outcome=stall
	else
		outcome=fail:$rc
	fi
	echo "$b $fe $outcome $secs" >>"$out/results.$k"
	echo "soak: boot $b ($fe): $outcome in $secs s" >&2
done <"$out/plan.$k"
INNER

log "$total boots ($FRONTEND), $PARALLEL nested VMs at once, stall after $STALL s; logs in $OUT"
start=$SECONDS
pids=()
for ((k = 0; k < PARALLEL; k++)); do
	"$VVU_ROOT/scripts/with-kvm.sh" --share "$OUT" --timeout $((total * 300 / PARALLEL + 600)) -- \
		bash "$OUT/inner.sh" "$k" "$OUT" "$vmm" "$vmlinux" "$STALL" "$CPUS" "$MEM" \
		"$APPEND" "$VVU_ROOT/scripts/lib/guest-watch.py" \
		>"$OUT/vm.$k.out" 2>"$OUT/vm.$k.err" &
	pids+=($!)
done
rcs=()
for p in "${pids[@]}"; do
	rc=0
	wait "$p" || rc=$?
	rcs+=("$rc")
done

cat "$OUT"/results.* 2>/dev/null >"$OUT/results" || true
lockups=$(cat "$OUT"/vm.*.err | grep -c "the nested VM's kernel locked up" || true)
echo "soak: $total boots in $((SECONDS - start)) s; $PARALLEL nested VMs at once; stall = $STALL s" \
	"without console or guest-clock progress; L2 command line: '${APPEND:-(default)}'"
printf '%-6s %6s %6s %6s %6s %10s\n' front-end boots init stall other "median s"
bad=0
for fe in "${fes[@]}"; do
	n=$(awk -v f="$fe" '$2 == f' "$OUT/results" | wc -l)
	ok=$(awk -v f="$fe" '$2 == f && $3 == "init"' "$OUT/results" | wc -l)
	st=$(awk -v f="$fe" '$2 == f && $3 == "stall"' "$OUT/results" | wc -l)
	med=$(awk -v f="$fe" '$2 == f && $3 == "init" {print $4}' "$OUT/results" | sort -n |
		awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : "-"}')
	printf '%-6s %6d %6d %6d %6d %10s\n' "$fe" "$n" "$ok" "$st" $((n - ok - st)) "$med"
	[ "$n" -eq "$BOOTS" ] && [ "$ok" -eq "$n" ] || bad=1
done
echo "L1 lockups (with-kvm.sh ran the VM's boots again): $lockups"
for k in "${!rcs[@]}"; do
	[ "${rcs[k]}" -eq 0 ] || { echo "nested VM $k: with-kvm.sh exited ${rcs[k]}:"; tail -n 5 "$OUT/vm.$k.err"; bad=1; }
done
while read -r b fe outcome secs; do
	[ "$outcome" != init ] || continue
	echo "--- boot $b ($fe): $outcome after $secs s"
	grep '^guest-watch:' "$OUT/boot-$b-$fe.log" || tail -n 15 "$OUT/boot-$b-$fe.log"
done < <(sort -n "$OUT/results")
if [ $bad -eq 0 ] && [ $keep -eq 0 ]; then
	rm -rf "$OUT"
else
	echo "logs: $OUT"
fi
exit $bad
