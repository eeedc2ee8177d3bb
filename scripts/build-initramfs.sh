#!/usr/bin/env bash
# Builds a busybox-static initramfs (gzip'd newc cpio) for test guests.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

usage() {
	cat <<'EOF'
usage: build-initramfs.sh -o OUT.cpio.gz --init SCRIPT [options]

Builds a gzip'd newc cpio initramfs: busybox (from busybox-static) with a
symlink for every applet, SCRIPT as /init, and:

  --bin PATH[:DEST]      copy the executable PATH to DEST (default
                         /bin/<basename of PATH>) with its shared libraries
                         (from ldd) and its ELF interpreter, at their paths
  --module NAME          copy kernel module NAME (NAME.ko, .ko.xz or .ko.zst,
                         '-' and '_' alike) from the --moddir given before it
                         (or after it, if none came before) into /lib/modules/,
                         decompressed; /lib/modules/order lists the files in
                         the order given, for the init script to insmod.
                         A module whose dependencies (modinfo) are not listed
                         before it is an error.
  --moddir DIR           a kernel's lib/modules/<release> directory
  --file SRC:DEST        copy a file or directory SRC to DEST in the image
  -h, --help             this text

The archive is reproducible: sorted entries, fixed timestamps, owner root,
gzip without a name or time.
EOF
}

OUT=
INIT=
BINS=()
MODULES=()   # "NAME<TAB>MODDIR"
FILES=()
MODDIR=

parse_args() {
	local pending_modules=() m
	while [ $# -gt 0 ]; do
		case $1 in
		-o | --output) [ $# -ge 2 ] || die "$1 needs a file name"; OUT=$2; shift 2 ;;
		--init) [ $# -ge 2 ] || die "$1 needs a script"; INIT=$2; shift 2 ;;
		--bin) [ $# -ge 2 ] || die "$1 needs a path"; BINS+=("$2"); shift 2 ;;
		--module) [ $# -ge 2 ] || die "$1 needs a module name"
			if [ -n "$MODDIR" ]; then MODULES+=("$2	$MODDIR"); else pending_modules+=("$2"); fi
			shift 2 ;;
		--moddir) [ $# -ge 2 ] || die "$1 needs a directory"; MODDIR=$2
			for m in "${pending_modules[@]}"; do MODULES+=("$m	$MODDIR"); done
			pending_modules=()
			shift 2 ;;
		--file) [ $# -ge 2 ] || die "$1 needs SRC:DEST"; FILES+=("$2"); shift 2 ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument '$1'" ;;
		esac
	done
	[ -n "$OUT" ] || die "no output file (-o OUT.cpio.gz)"
	[ -n "$INIT" ] || die "no init script (--init SCRIPT)"
	[ -f "$INIT" ] || die "init script '$INIT' does not exist"
	[ ${#pending_modules[@]} -eq 0 ] || die "--module ${pending_modules[*]} without --moddir"
	[ -z "$MODDIR" ] || [ -d "$MODDIR" ] || die "module directory '$MODDIR' does not exist"
}

# Copies file SRC to DEST inside the root, creating parents; DEST absolute.
put() {
	local src=$1 dest=$2
	case $dest in /*) ;; *) die "destination '$dest' is not an absolute path" ;; esac
	mkdir -p "$ROOT$(dirname "$dest")"
	cp -a "$src" "$ROOT$dest" || die "cannot copy '$src' to '$dest'"
}

install_busybox() {
	local bb=/bin/busybox link
	if [ ! -x "$bb" ] || ! "$bb" --list-full >/dev/null 2>&1; then
		die "$bb is missing or not busybox (install busybox-static)"
	fi
	ldd "$bb" >/dev/null 2>&1 && die "$bb is dynamically linked; install busybox-static"
	mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,mnt,etc,root,lib/modules}
	cp "$bb" "$ROOT/bin/busybox"
	while read -r link; do
		if [ -z "$link" ] || [ -e "$ROOT/$link" ]; then continue; fi
		mkdir -p "$ROOT/$(dirname "$link")"
		ln -s /bin/busybox "$ROOT/$link"
	done < <("$bb" --list-full)
	# The kernel opens /dev/console for init before anything is mounted.
	if [ "$(id -u)" -eq 0 ]; then
		mknod -m 600 "$ROOT/dev/console" c 5 1
		mknod -m 666 "$ROOT/dev/null" c 1 3
	else
		log "not root: no /dev/console node; the init script must mount devtmpfs and reopen /dev/console"
	fi
}

# Copies a dynamic executable's libraries and interpreter at their own paths.
install_libs() {
	local bin=$1 interp lib
	interp=$(readelf -l "$bin" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	[ -n "$interp" ] || return 0   # static
	[ -e "$ROOT$interp" ] || put "$(readlink -f "$interp")" "$interp"
	while read -r lib; do
		[ -e "$ROOT$lib" ] || put "$(readlink -f "$lib")" "$lib"
	done < <(ldd "$bin" | sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p')
	if ldd "$bin" | grep -q 'not found'; then
		die "'$bin' needs libraries that are not found: $(ldd "$bin" | grep 'not found' | tr -s ' \t\n' ' ')"
	fi
}

install_bins() {
	local spec src dest
	for spec in "${BINS[@]}"; do
		src=${spec%%:*}
		dest=/bin/$(basename "$src")
		[ "$spec" = "$src" ] || dest=${spec#*:}
		if [ ! -f "$src" ] || [ ! -x "$src" ]; then die "--bin '$src' is not an executable file"; fi
		rm -f "$ROOT$dest"   # may be a busybox applet link
		put "$(readlink -f "$src")" "$dest"
		install_libs "$src"
	done
}

# Prints the path of module NAME in DIR.
find_module() {
	local name=$1 dir=$2 alt found
	alt=$(printf '%s' "$name" | tr '_-' '-_')
	found=$(find "$dir" \( -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" \
		-o -name "$alt.ko" -o -name "$alt.ko.xz" -o -name "$alt.ko.zst" \) | sort | head -n1)
	[ -n "$found" ] || die "module '$name' not found in '$dir' (is it built in? see $dir/modules.builtin)"
	printf '%s\n' "$found"
}

install_modules() {
	local spec name dir src file dep loaded=" " deps
	: >"$ROOT/lib/modules/order"
	for spec in "${MODULES[@]}"; do
		name=${spec%%	*}
		dir=${spec#*	}
		src=$(find_module "$name" "$dir")
		file=$(basename "$src")
		case $file in
		*.ko.xz) file=${file%.xz}; xz -dc "$src" >"$ROOT/lib/modules/$file" || die "cannot decompress $src (xz-utils)" ;;
		*.ko.zst) file=${file%.zst}; zstd -qdc "$src" >"$ROOT/lib/modules/$file" || die "cannot decompress $src (zstd)" ;;
		*) cp "$src" "$ROOT/lib/modules/$file" ;;
		esac
		deps=$(modinfo -F depends "$ROOT/lib/modules/$file" 2>/dev/null) ||
			die "modinfo cannot read $src (install kmod)"
		for dep in ${deps//,/ }; do
			case $loaded in *" ${dep//-/_} "*) ;;
			*) die "module '$name' depends on '$dep', which is not given before it" ;;
			esac
		done
		loaded="$loaded${file%.ko} "
		loaded=${loaded//-/_}
		printf '%s\n' "$file" >>"$ROOT/lib/modules/order"
	done
}

install_files() {
	local spec src dest
	for spec in "${FILES[@]}"; do
		case $spec in *:*) ;; *) die "--file '$spec' is not SRC:DEST" ;; esac
		src=${spec%%:*}
		dest=${spec#*:}
		[ -e "$src" ] || die "--file source '$src' does not exist"
		rm -rf "${ROOT:?}$dest"
		put "$src" "$dest"
	done
}

write_archive() {
	local tmp_out=$OUT.tmp.$$
	# Fixed metadata so the same inputs give the same bytes.
	find "$ROOT" -exec touch -h -d @0 {} +
	(cd "$ROOT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
		gzip -n -6 >"$tmp_out" || { rm -f "$tmp_out"; die "cpio/gzip of '$ROOT' failed"; }
	mv "$tmp_out" "$OUT" || die "cannot write '$OUT'"
}

main() {
	parse_args "$@"
	command -v cpio >/dev/null || die "cpio is not installed"
	command -v modinfo >/dev/null || [ ${#MODULES[@]} -eq 0 ] || die "modinfo is not installed (kmod)"
	ROOT=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
	trap 'rm -rf "$ROOT"' EXIT
	chmod 755 "$ROOT"
	install_busybox
	install_bins
	install_modules
	install_files
	put "$INIT" /init
	chmod 755 "$ROOT/init"
	write_archive
}

main "$@"
