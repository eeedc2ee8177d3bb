#!/usr/bin/env bash
# `vmm`'s command line: --help and --version (top level and after `run`),
# and every bad argument or file refused with its own message naming the
# bad value: usage errors exit 2 before anything is built (no /dev/kvm
# needed), and files that cannot be booted exit 1.
#
# usage: vmm-cli-test.sh KERNEL   (a bootable kernel: one of the tiny guests)
# Exit status: 0 pass, 1 fail, 77 skipped (no /dev/kvm for the file cases,
# after the rest passed), with the reason.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"

VMM=${VMM:-$VVU_BUILD/vmm/vmm}
KERNEL=${1:?usage: vmm-cli-test.sh KERNEL}
[ -x "$VMM" ] || die "'$VMM' is not built"
dir=$(mktemp -d "${TMPDIR:-/tmp}"/vmm-cli.XXXXXX)
trap 'rm -rf "$dir"' EXIT
failed=0

# expect STATUS TEXT ARGS...: vmm ARGS exits STATUS with TEXT in its output.
expect() {
	local want=$1 text=$2 rc=0
	shift 2
	"$VMM" "$@" >"$dir/out" 2>&1 </dev/null || rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -qF -- "$text" "$dir/out"; then
		echo "FAIL: vmm $* exited $rc (want $want) without '$text':"
		sed 's/^/  | /' "$dir/out"
		failed=1
	else
		echo "ok: vmm $* -> $rc: $(grep -F -m1 -- "$text" "$dir/out")"
	fi
}

version=$(sed -n "s/^ *version : '\([^']*\)',$/\1/p" "$VVU_ROOT/meson.build" | head -1)
[ -n "$version" ] || die "no version in meson.build"
expect 0 "Usage: vmm run [OPTIONS] KERNEL" --help
expect 0 "--vhost-user-blk SOCK" run --help
expect 0 "vmm $version" --version
expect 0 "vmm $version" run --version

expect 2 "no command given"
expect 2 "unknown command 'boot'" boot k
expect 2 "vmm run: no KERNEL given" run
expect 2 "more than one KERNEL given" run a b
expect 2 "vmm run: unrecognized option '--bogus'" run --bogus k
expect 2 "option requires an argument -- 'm'" run -m
expect 2 "--mem: '0' is not a number in 16..1048576" run -m 0 k
expect 2 "--mem: '1g' is not a number" run --mem 1g k
expect 2 "--cpus: '65' is not a number in 1..64" run -c 65 k
expect 2 "--serial: 'tty' is neither stdout nor file=PATH" run --serial tty k
expect 2 "--serial: 'file=' is neither" run --serial file= k
expect 2 "--vhost-user-blk: empty socket path" run --vhost-user-blk= k
blk=()
for i in 1 2 3 4 5 6 7 8 9; do blk+=(--vhost-user-blk "$dir/s$i"); done
expect 2 "--vhost-user-blk '$dir/s9': at most 8 disks" run "${blk[@]}" k
expect 0 "--vvu-proxy SOCK[,addr=[DDDD:]BB:DD.F]" run --help
expect 2 "--vvu-proxy '': empty socket path" run --vvu-proxy= k
expect 2 "'s,addr=00:00.0': addr=00:00.0: the device (slot) must be in 01..1f" \
	run --vvu-proxy s,addr=00:00.0 k
expect 2 "addr=0001:00:05.0: only domain 0000, bus 00 exists" run --vvu-proxy s,addr=0001:00:05.0 k
expect 2 "addr=00:05.1: devices are single-function: function 0 only" \
	run --vvu-proxy s,addr=00:05.1 k
expect 2 "addr=5 is not [DDDD:]BB:DD.F" run --vvu-proxy s,addr=5 k
expect 2 "shm=3M: the shared-memory BAR must be a power of two, 4K..64T" run --vvu-proxy s,shm=3M k
expect 2 "shm=lots is not a size" run --vvu-proxy s,shm=lots k
expect 2 "uuid=1234 is not a UUID" run --vvu-proxy s,uuid=1234 k
expect 2 "proxyd=: empty control socket path" run --vvu-proxy s,proxyd= k
expect 2 "shm= belongs to that vvu-proxyd's command line, not with proxyd=" \
	run --vvu-proxy s,proxyd=c,shm=1M k
expect 2 "uuid= belongs to that vvu-proxyd's command line" \
	run --vvu-proxy s,uuid=01234567-89ab-cdef-0123-456789abcdef,proxyd=c k
expect 2 "unknown key 'slot' (addr, shm, uuid, proxyd)" run --vvu-proxy s,slot=3 k
expect 2 "--vvu-proxy 'b,addr=0000:00:05.0': slot 05 is taken by 'a,addr=00:05.0'" \
	run --vvu-proxy a,addr=00:05.0 --vvu-proxy b,addr=0000:00:05.0 k
proxy=()
for i in 1 2 3 4 5 6 7 8 9; do proxy+=(--vvu-proxy "$dir/p$i"); done
expect 2 "--vvu-proxy '$dir/p9': at most 8 devices" run "${proxy[@]}" k

if [ ! -w /dev/kvm ]; then
	[ $failed -eq 0 ] || exit 1
	echo "SKIP: the file cases need /dev/kvm, which $(id -un) cannot use"
	exit 77
fi
: >"$dir/empty"
printf 'not a kernel' >"$dir/junk"
expect 1 "kernel $dir/none: No such file or directory" run "$dir/none"
expect 1 "kernel $dir: not a regular file" run "$dir"
expect 1 "kernel $dir/empty: empty file" run "$dir/empty"
expect 1 "kernel $dir/junk: not an ELF vmlinux with a PVH note nor a bzImage" run "$dir/junk"
expect 1 "initrd $dir/none: No such file or directory" run -i "$dir/none" "$KERNEL"
expect 1 "vhost-user-blk $dir/nosock: cannot set up the back-end: No such file or directory" \
	run --vhost-user-blk "$dir/nosock" "$dir/junk"
expect 1 "vvu-proxy $dir/s: cannot connect to vvu-proxyd's control socket $dir/none: No such file or directory" \
	run --vvu-proxy "$dir/s,proxyd=$dir/none" "$dir/junk"
VVU_PROXYD=$dir/none expect 1 "vvu-proxy $dir/s: cannot run $dir/none: No such file or directory" \
	run --vvu-proxy "$dir/s" "$dir/junk"
# Stand-ins for a vvu-proxyd that dies at once: how is reported.
printf '#!/bin/sh\nexit 3\n' >"$dir/exit3"
printf '#!/bin/sh\nkill -SYS $$\n' >"$dir/sigsys"
chmod +x "$dir/exit3" "$dir/sigsys"
VVU_PROXYD=$dir/exit3 expect 1 ") exited with status 3" run --vvu-proxy "$dir/s" "$dir/junk"
VVU_PROXYD=$dir/sigsys expect 1 ") killed by SIGSYS: a forbidden system call" \
	run --vvu-proxy "$dir/s,shm=1M" "$dir/junk"
expect 1 "--serial file=$dir/none/console: No such file or directory" \
	run --serial "file=$dir/none/console" "$dir/junk"
[ $failed -eq 0 ] && echo PASS
exit $failed
