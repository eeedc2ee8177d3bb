#!/usr/bin/env bash
# The end-to-end substrate, for real:
#  1. the project's guest kernel (scripts/build-guest-kernel.sh) boots as a
#     bzImage under plain QEMU TCG to an init that prints a marker;
#  2. scripts/with-kvm.sh runs a command with a working /dev/kvm (nested under
#     QEMU TCG here), which boots the same kernel as vmlinux (PVH) with QEMU
#     -accel kvm on 2 vCPUs to the marker and an ACPI poweroff; the command also
#     writes a file into /tmp that the host must see, checks its directory,
#     environment, /dev/fd and a UNIX socket in $XDG_RUNTIME_DIR, writes to
#     stdout and stderr (which must arrive apart), and exits 3, which
#     with-kvm.sh must pass on;
#  3. --timeout stops a command that runs too long, with status 124;
#  4. (nested only) when the nested kernel reports a CPU lockup, with-kvm.sh
#     says so, stops that VM and runs the command again in a new one.
# Prints the timings (outer VM boot, nested guest boot) it measured.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"

ensure_packages "${VVU_TEST_PACKAGES[@]}" python3
dir=$(mktemp -d /tmp/vvu-e2e.XXXXXX)
trap 'rm -rf "$dir"' EXIT
marker=vvu-$RANDOM$RANDOM
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.1f", $1 - $2}'; }

vmlinux=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux)
bzimage=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print bzimage)
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$dir/initrd.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/tests/e2e/guest-marker.sh:/guest-main.sh"

# 1. bzImage under TCG.
t=$(now)
timeout 300 qemu-system-x86_64 -accel tcg -machine q35 -smp 2 -m 256 \
	-kernel "$bzimage" -initrd "$dir/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet vvu.marker=$marker-tcg" \
	-nodefaults -display none -serial stdio -monitor none -no-reboot \
	</dev/null >"$dir/tcg.out" 2>&1 || { cat "$dir/tcg.out"; fail "QEMU TCG with the bzImage failed"; }
echo "bzImage under QEMU TCG: marker and poweroff in $(since "$t") s"
grep -q "vvu-e2e: marker $marker-tcg" "$dir/tcg.out" || { cat "$dir/tcg.out"; fail "the bzImage did not reach init under TCG"; }

# 2. with-kvm.sh: the kernel under nested KVM, file sharing, the environment.
mkdir -p "$dir/cwd"
cat >"$dir/inner.sh" <<INNER
set -u
echo "outer-uptime \$(cut -d' ' -f1 /proc/uptime)"
echo "to-stderr" >&2
t=\$(date +%s.%N)
$VVU_ROOT/scripts/lib/guest-watch.py --label "qemu -accel kvm" --kernel $vmlinux -- \
	timeout 300 qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities \
	-smp 2 -m 256 -object memory-backend-memfd,id=mem,size=256M,share=on \
	-machine pc,memory-backend=mem -kernel $vmlinux -initrd $dir/initrd.gz \
	-append "console=ttyS0 panic=-1 vvu.marker=$marker" \
	-nodefaults -display none -serial stdio -monitor none -no-reboot </dev/null
echo "qemu status \$?"
echo "nested-seconds \$(echo "\$(date +%s.%N) \$t" | awk '{printf "%.1f", \$1 - \$2}')"
echo "cwd \$(pwd)"
echo "token \${VVU_E2E_TOKEN:-unset}"
echo "ran \${VVU_WITH_KVM:-unset}"
bash -c 'cat < <(echo process-substitution-ok)'
python3 - <<'PY'
import os, socket
path = os.path.join(os.environ["XDG_RUNTIME_DIR"], "e2e.sock")
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(1)
c = socket.socket(socket.AF_UNIX); c.connect(path)
a, _ = s.accept(); c.send(b"unix-socket-ok"); print(a.recv(64).decode())
PY
echo written-inside >$dir/from-guest
exit 3
INNER

rc=0
t=$(now)
(cd "$dir/cwd" && VVU_E2E_TOKEN="a 'quoted' \$value" \
	"$VVU_ROOT/scripts/with-kvm.sh" --timeout 900 -- sh "$dir/inner.sh") \
	>"$dir/out" 2>"$dir/err" || rc=$?
total=$(since "$t")
echo "--- stdout"; cat "$dir/out"; echo "--- stderr"; cat "$dir/err"; echo "---"

[ $rc -eq 3 ] || fail "with-kvm.sh exited $rc, the command exited 3"
grep -q "^with-kvm: running " "$dir/err" || fail "with-kvm.sh did not say how it ran"
grep -q "vvu-e2e: marker $marker" "$dir/out" || fail "the guest kernel did not reach init under nested KVM"
grep -q "vvu-e2e: kernel .*, 2 cpus" "$dir/out" || fail "the guest did not bring up 2 vCPUs"
grep -q "vvu-e2e: vfio no-iommu available" "$dir/out" || fail "the guest kernel lacks VFIO no-IOMMU"
grep -q "reboot: Power down" "$dir/out" || fail "the guest did not power off through ACPI"
grep -q "qemu status 0" "$dir/out" || fail "QEMU did not end cleanly on the guest's poweroff"
[ "$(cat "$dir/from-guest" 2>/dev/null)" = written-inside ] ||
	fail "a file written to /tmp inside is not on the host"
head -n1 "$dir/out" | grep -q '^outer-uptime ' || fail "stdout does not start with the command's output"
! grep -q 'with-kvm:' "$dir/out" || fail "with-kvm.sh's own lines are on stdout"
grep -qx "to-stderr" "$dir/err" || fail "the command's stderr did not reach stderr"
! grep -q "to-stderr" "$dir/out" || fail "the command's stderr went to stdout"
grep -qx "cwd $dir/cwd" "$dir/out" || fail "the working directory did not come along"
grep -qxF "token a 'quoted' \$value" "$dir/out" || fail "the environment did not come along intact"
grep -qx "process-substitution-ok" "$dir/out" || fail "no /dev/fd (bash process substitution)"
grep -qx "unix-socket-ok" "$dir/out" || fail "no UNIX socket in \$XDG_RUNTIME_DIR"
how=$(sed -n 's/^ran //p' "$dir/out")

echo "with-kvm.sh ($how): $total s in all; the command started $(sed -n 's/^outer-uptime //p' "$dir/out") s after the outer kernel;" \
	"the nested guest booted, printed its marker and powered off in $(sed -n 's/^nested-seconds //p' "$dir/out") s"

# 3. The time limit.
rc=0
t=$(now)
"$VVU_ROOT/scripts/with-kvm.sh" --timeout 30 -- sleep 600 >"$dir/out" 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 124 ] || fail "with-kvm.sh --timeout 30 -- sleep 600 exited $rc, not 124"
grep -q "with-kvm: timed out after 30 s" "$dir/err" || fail "with-kvm.sh did not say it timed out"
echo "--timeout 30 stopped 'sleep 600' after $(since "$t") s"

# 4. A lockup report (written to the kernel log, as the watchdog would) on
# the first run; the second run exits 5.
if [ "$how" = nested ]; then
	cat >"$dir/lockup.sh" <<INNER
if [ ! -e $dir/attempt1 ]; then
	: >$dir/attempt1
	echo "<0>watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [with-kvm-test]" >/dev/kmsg
	sleep 600
fi
exit 5
INNER
	rc=0
	t=$(now)
	"$VVU_ROOT/scripts/with-kvm.sh" --timeout 300 -- sh "$dir/lockup.sh" >"$dir/out" 2>"$dir/err" || rc=$?
	# Shown renamed: test.sh counts with-kvm.sh's retry lines in a test's
	# output as retries of that test, and this lockup is the test's own.
	sed 's/^with-kvm:/with-kvm (under test):/' "$dir/err"
	[ $rc -eq 5 ] || fail "with-kvm.sh exited $rc after a lockup, not the second run's 5"
	grep -q "with-kvm: the nested VM's kernel locked up" "$dir/err" || fail "with-kvm.sh did not report the lockup"
	echo "a reported lockup: the command ran again and its status came back, in $(since "$t") s"
else
	echo "part 4 (lockup retry) does not apply on host KVM"
fi
echo "PASS"
