#!/usr/bin/env bash
# Builds the project's guest kernel (vmlinux for PVH boot, bzImage) from
# Debian's linux-source-6.1: `make tinyconfig` + scripts/guest-kernel.config,
# `make olddefconfig`, then checks that every option of the fragment survived.
# The result is cached under $VVU_CACHE/guest-kernel/<key>/, where the key is a
# hash of the fragment, the source package's version and this script.
#
# usage: scripts/build-guest-kernel.sh [--print vmlinux|bzimage|config|dir]
#                                      [--jobs N] [--rebuild]
# Prints the paths of vmlinux and bzImage (one per line) on stdout, or only the
# one named by --print. Everything else goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

FRAGMENT=$VVU_ROOT/scripts/guest-kernel.config
SOURCE_PACKAGE=linux-source-6.1
SOURCE_TARBALL=/usr/src/linux-source-6.1.tar.xz

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# Prints the cache key: fragment + source package version + this script.
cache_key() {
	local version
	version=$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE") ||
		die "cannot read the version of $SOURCE_PACKAGE"
	{ cat "$FRAGMENT" "$0"; echo "$SOURCE_PACKAGE $version"; } |
		sha256sum | cut -c1-16
}

# Extracts the source tarball once per package version into $1 (atomically).
extract_source() {
	local dir=$1 tmp
	[ -f "$dir/.extracted" ] && return 0
	[ -f "$SOURCE_TARBALL" ] || die "$SOURCE_TARBALL missing after installing $SOURCE_PACKAGE"
	log "extracting $SOURCE_TARBALL into $dir"
	tmp=$dir.tmp.$$
	rm -rf "$tmp" && mkdir -p "$tmp"
	tar -xJf "$SOURCE_TARBALL" -C "$tmp" --strip-components=1 ||
		die "cannot extract $SOURCE_TARBALL"
	touch "$tmp/.extracted"
	rm -rf "$dir" && mv "$tmp" "$dir"
}

# Fails naming every fragment option that .config ($1) does not have as asked.
verify_config() {
	local config=$1 line name want got bad=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			name=${line%%=*} want=${line#*=} ;;
		"# CONFIG_"*" is not set")
			name=${line#\# } name=${name%% *} want=n ;;
		"" | "#"*) continue ;;
		*) die "$FRAGMENT: cannot parse line: $line" ;;
		esac
		got=$(grep -E "^$name=" "$config" | tail -n1 | cut -d= -f2-) || true
		[ -n "$got" ] || got=n
		[ "$got" = "$want" ] || bad+=("$name (wanted $want, got $got)")
	done <"$FRAGMENT"
	if [ ${#bad[@]} -gt 0 ]; then
		log "options of $FRAGMENT that olddefconfig dropped or changed:"
		printf '  %s\n' "${bad[@]}" >&2
		die "${#bad[@]} guest kernel option(s) not set as asked; fix their dependencies in $FRAGMENT"
	fi
}

# Runs make in the object directory, output in the build log.
kmake() {
	local src=$1 obj=$2; shift 2
	make -C "$src" O="$obj" ARCH=x86_64 "$@" >>"$obj/build.log" 2>&1 || {
		tail -n 40 "$obj/build.log" >&2
		die "make $* failed (full log: $obj/build.log)"
	}
}

build_kernel() {
	local src=$1 out=$2 jobs=$3 obj start
	obj=$out.build
	rm -rf "$obj" && mkdir -p "$obj"
	start=$SECONDS
	log "configuring (tinyconfig + ${FRAGMENT#"$VVU_ROOT"/}) in $obj"
	kmake "$src" "$obj" tinyconfig
	(cd "$src" && ./scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "$FRAGMENT") \
		>>"$obj/build.log" 2>&1 || die "merge_config.sh failed (log: $obj/build.log)"
	kmake "$src" "$obj" olddefconfig
	verify_config "$obj/.config"
	log "building vmlinux and bzImage with -j$jobs (a few minutes; log: $obj/build.log)"
	kmake "$src" "$obj" -j"$jobs" vmlinux bzImage
	mkdir -p "$out.tmp"
	cp "$obj/vmlinux" "$obj/arch/x86/boot/bzImage" "$obj/.config" "$out.tmp/"
	mv "$out.tmp/.config" "$out.tmp/config"
	rm -rf "$out" && mv "$out.tmp" "$out"
	rm -rf "$obj"
	log "built in $((SECONDS - start)) s: $out"
}

main() {
	local print=all jobs rebuild=0
	jobs=$(nproc)
	while [ $# -gt 0 ]; do
		case $1 in
		--print)
			[ $# -ge 2 ] || die "--print needs vmlinux, bzimage, config or dir"
			case $2 in vmlinux | bzimage | config | dir) print=$2 ;;
			*) die "--print: unknown artefact '$2' (vmlinux, bzimage, config, dir)" ;; esac
			shift 2 ;;
		--jobs)
			[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--jobs: not a positive number: '${2:-}'"
			jobs=$2; shift 2 ;;
		--rebuild) rebuild=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown argument '$1' (see --help)" ;;
		esac
	done
	[ -f "$FRAGMENT" ] || die "config fragment $FRAGMENT missing"
	ensure_packages "${VVU_KERNEL_PACKAGES[@]}"

	local base key out
	base=$VVU_CACHE/guest-kernel
	mkdir -p "$base"
	key=$(cache_key)
	out=$base/$key
	# One build at a time per cache (tests may ask in parallel).
	exec 9>"$base/.lock"
	flock 9
	[ $rebuild -eq 0 ] || rm -rf "$out"
	if [ ! -f "$out/vmlinux" ] || [ ! -f "$out/bzImage" ]; then
		extract_source "$base/src-$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE")"
		build_kernel "$base/src-$(dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE")" "$out" "$jobs"
	fi
	case $print in
	all) printf '%s\n' "$out/vmlinux" "$out/bzImage" ;;
	vmlinux) echo "$out/vmlinux" ;;
	bzimage) echo "$out/bzImage" ;;
	config) echo "$out/config" ;;
	dir) echo "$out" ;;
	esac
}

main "$@"
