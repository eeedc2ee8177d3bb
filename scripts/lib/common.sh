# shellcheck shell=bash
# Shared by the scripts: repository paths, Debian package installation,
# the build directory, and the cache for slow artefacts (kept outside the tree).

VVU_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VVU_BUILD=${VVU_BUILD:-$VVU_ROOT/build}
VVU_CACHE=${VVU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vvu}

# Every Debian 12 package the build and the tests use.
VVU_BUILD_PACKAGES=(gcc meson ninja-build pkg-config python3
	libevent-dev libseccomp-dev check)
VVU_TEST_PACKAGES=(qemu-system-x86 qemu-system-common qemu-utils
	busybox-static cpio kmod xz-utils zstd iproute2 acpica-tools pciutils pci.ids)
# What scripts/build-guest-kernel.sh needs to build the guest kernel.
VVU_KERNEL_PACKAGES=(linux-source-6.1 flex bison bc libelf-dev libssl-dev
	make gcc xz-utils)

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs the named packages that are not installed yet (as root, with apt-get).
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

# A /dev/kvm this user can open (the kvm suite's tiny guests need no more).
host_kvm_usable() { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }

# Configures (if needed) and builds a build directory: build_tree DIR [meson options...]
build_tree() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$VVU_ROOT" "$@" >&2 || die "meson setup $dir failed"
	fi
	meson compile -C "$dir" >&2 || die "build in $dir failed"
}
