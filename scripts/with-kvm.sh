#!/usr/bin/env bash
# Runs COMMAND where Linux guests run at useful speed: on this host if it has
# hardware virtualization (vmx or svm, and a usable /dev/kvm), otherwise inside
# a nested KVM: a Debian 12 guest under QEMU TCG with -cpu max (which offers
# SVM), where kvm-amd gives a fast /dev/kvm (see ENVIRONMENT.md).
#
# usage: scripts/with-kvm.sh [--mem MiB] [--cpus N] [--timeout S] -- COMMAND [ARGS...]
#
# Inside, COMMAND sees the host's file system at the same paths, read-only,
# except the repository checkout and /tmp, which are shared writable both
# ways. UNIX sockets do not work on those shares: use $XDG_RUNTIME_DIR, a
# local tmpfs (/run/vvu). The working directory and the environment come
# along. COMMAND's output streams out (stdout and stderr both, on stdout);
# with-kvm.sh's own lines start with "with-kvm:"; its exit status is
# COMMAND's (124 if --timeout, default 1800 s, ran out).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

mem=3072 cpus=2 timeout_s=1800
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

while [ $# -gt 0 ]; do
	case $1 in
	--mem) mem=${2:?--mem needs MiB}; shift 2 ;;
	--cpus) cpus=${2:?--cpus needs a number}; shift 2 ;;
	--timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (COMMAND goes after --; see --help)" ;;
	esac
done
[ $# -gt 0 ] || die "no COMMAND given (see --help)"
for v in "$mem" "$cpus" "$timeout_s"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "'$v' is not a positive whole number"
done

host_has_kvm() {
	grep -qwE 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

if host_has_kvm; then
	echo "with-kvm: running on host KVM" >&2
	exec timeout -k 10 "$timeout_s" "$@"
fi

echo "with-kvm: running in nested KVM under QEMU TCG" >&2
. "$VVU_ROOT/scripts/lib/debian-kernel.sh"
ensure_packages qemu-system-x86 busybox-static cpio kmod
debian_kernel_fetch

# 9p for the shares, then KVM (ENVIRONMENT.md's order).
NESTED_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	virtio_pci netfs fscache 9pnet 9pnet_virtio 9p irqbypass ccp kvm kvm-amd)

run=$(mktemp -d /tmp/with-kvm.XXXXXX)
trap 'rm -rf "$run"' EXIT

# The command, its directory and environment, as a script the guest runs
# in the chroot; it leaves COMMAND's status in $run/status.
{
	echo "cd $(printf %q "$PWD") || exit 1"
	while IFS= read -r -d '' kv; do
		case ${kv%%=*} in
		''|*[!A-Za-z0-9_]*|PWD|OLDPWD|SHLVL|_|TERM|XDG_RUNTIME_DIR) continue ;;
		esac
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done < <(env -0)
	echo "export XDG_RUNTIME_DIR=/run/vvu"
	printf '%q ' "$@"
	echo '</dev/null'
	echo "echo \$? >$(printf %q "$run/status")"
} >"$run/command.sh"

modargs=(--moddir "$DEBIAN_KERNEL_MODDIR")
for m in "${NESTED_MODULES[@]}"; do modargs+=(--module "$m"); done
"$VVU_ROOT/scripts/build-initramfs.sh" -o "$run/initrd.gz" \
	--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
	--file "$VVU_ROOT/scripts/lib/with-kvm-guest.sh:/guest-main.sh" \
	"${modargs[@]}" >&2

share() { # tag path [readonly]
	echo "-virtfs" "local,path=$2,mount_tag=$1,security_model=none,multidevs=remap${3:+,readonly=on}"
}

rc=0
# shellcheck disable=SC2046
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem" \
	-kernel "$DEBIAN_KERNEL_IMAGE" -initrd "$run/initrd.gz" \
	-append "console=ttyS0 quiet loglevel=0 panic=-1 vvu.run=$run vvu.repo=$VVU_ROOT" \
	-display none -serial stdio -monitor none -no-reboot -nodefaults \
	$(share root / ro) $(share repo "$VVU_ROOT") $(share tmp /tmp) \
	</dev/null | sed -u -e 's/\r*$//' -e 's/^vvu-guest: /with-kvm: guest: /' ||
	rc=$?
if [ "${PIPESTATUS[0]}" = 124 ] || [ $rc = 124 ]; then
	echo "with-kvm: timed out after $timeout_s s" >&2
	exit 124
fi
[ -s "$run/status" ] || die "the nested guest ended without COMMAND's status (QEMU status $rc)"
exit "$(cat "$run/status")"
