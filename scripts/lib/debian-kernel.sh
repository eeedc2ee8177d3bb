# shellcheck shell=bash disable=SC2034  # the DEBIAN_KERNEL_* variables are the output
# Fetches and unpacks Debian 12's current kernel (linux-image-6.1.0-*-amd64), for
# QEMU test guests and the nested-KVM runner. Source after scripts/lib/common.sh.
#
#   debian_kernel_fetch
#
# sets
#   DEBIAN_KERNEL_VERSION  the package version (e.g. 6.1.192-2); the cache key
#   DEBIAN_KERNEL_PACKAGE  the package name (e.g. linux-image-6.1.0-56-amd64)
#   DEBIAN_KERNEL_RELEASE  the kernel release, uname -r (e.g. 6.1.0-56-amd64)
#   DEBIAN_KERNEL_IMAGE    the vmlinuz path
#   DEBIAN_KERNEL_SYSTEM_MAP  its System.map (symbol addresses without KASLR)
#   DEBIAN_KERNEL_MODDIR   its lib/modules/<release> directory
#
# The package goes to $VVU_CACHE/debian-kernel/<version>/ (the .deb and its
# unpacked tree in root/); a complete earlier unpack of the same version is
# reused. Without a package index (offline, or apt-cache knows no such
# package) the newest complete cached version is used.

# Prints "PACKAGE VERSION" of the newest installable linux-image-6.1.0-*-amd64.
debian_kernel_newest() {
	local pkg ver
	# The meta-package names the current ABI; its candidate is what "apt-get
	# install linux-image-amd64" would give.
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)
	if [ -z "$pkg" ]; then
		# Fall back to the highest ABI number the index lists.
		pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
			awk '{print $1}' | sort -V | tail -n1)
	fi
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	printf '%s %s\n' "$pkg" "$ver"
}

# Sets the DEBIAN_KERNEL_* variables from a complete cache directory; fails if
# it is incomplete.
debian_kernel_use() {
	local dir=$1 pkg release
	[ -f "$dir/.complete" ] || return 1
	pkg=$(cat "$dir/.complete")
	release=${pkg#linux-image-}
	[ -f "$dir/root/boot/vmlinuz-$release" ] || return 1
	[ -d "$dir/root/lib/modules/$release" ] || return 1
	DEBIAN_KERNEL_VERSION=${dir##*/}
	DEBIAN_KERNEL_PACKAGE=$pkg
	DEBIAN_KERNEL_RELEASE=$release
	DEBIAN_KERNEL_IMAGE=$dir/root/boot/vmlinuz-$release
	DEBIAN_KERNEL_SYSTEM_MAP=$dir/root/boot/System.map-$release
	DEBIAN_KERNEL_MODDIR=$dir/root/lib/modules/$release
}

# Downloads PACKAGE=VERSION into DIR and unpacks it into DIR/root.
debian_kernel_unpack() {
	local pkg=$1 ver=$2 dir=$3 tmp deb
	tmp=$(mktemp -d "$dir.tmp.XXXXXX") || die "cannot create a directory beside $dir"
	chmod 755 "$tmp"   # so apt-get download can write as _apt
	log "downloading $pkg=$ver"
	if ! (cd "$tmp" && apt-get download -q "$pkg=$ver" >&2); then
		rm -rf "$tmp"
		log "apt-get download $pkg=$ver failed"
		return 1
	fi
	deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
	[ -n "$deb" ] || { rm -rf "$tmp"; die "apt-get download $pkg=$ver gave no .deb"; }
	if ! dpkg -x "$deb" "$tmp/root"; then
		rm -rf "$tmp"
		die "dpkg -x $deb failed"
	fi
	printf '%s\n' "$pkg" >"$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir" || die "cannot move $tmp to $dir"
}

debian_kernel_apt_update() {
	local sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	log "apt-get update"
	$sudo apt-get update -q >&2
}

debian_kernel_fetch() {
	local base=$VVU_CACHE/debian-kernel lockfd rc=0
	mkdir -p "$base" || die "cannot create $base"
	# Parallel tests share the cache: one fetch at a time.
	exec {lockfd}>"$base/.lock" || die "cannot open $base/.lock"
	flock "$lockfd" || die "cannot lock $base/.lock"
	rm -rf "$base"/*.tmp.*   # left by interrupted fetches
	debian_kernel_fetch_locked "$base" || rc=$?
	exec {lockfd}>&-
	return $rc
}

# Fetches the newest version unless cached; returns 1 if apt cannot get it.
debian_kernel_fetch_newest() {
	local base=$1 newest pkg ver dir
	newest=$(debian_kernel_newest) || return 1
	read -r pkg ver <<<"$newest"
	dir=$base/$ver
	debian_kernel_use "$dir" && return 0
	debian_kernel_unpack "$pkg" "$ver" "$dir" || return 1
	debian_kernel_use "$dir" ||
		die "unpacked $pkg=$ver in $dir but found no boot/vmlinuz-${pkg#linux-image-} or lib/modules/${pkg#linux-image-}"
}

debian_kernel_fetch_locked() {
	local base=$1 dir
	debian_kernel_fetch_newest "$base" && return 0
	# No package index, or an outdated one (the archive dropped that version).
	debian_kernel_apt_update && debian_kernel_fetch_newest "$base" && return 0
	# Offline: use the newest complete cache entry, if any.
	log "apt cannot get linux-image-6.1.0-*-amd64; looking in $base"
	for dir in $(find "$base" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort -V -r); do
		if debian_kernel_use "$dir"; then
			log "using cached $DEBIAN_KERNEL_PACKAGE=$DEBIAN_KERNEL_VERSION"
			return 0
		fi
	done
	die "apt found no Debian 6.1 kernel package to download and none is cached in $base"
}
