#!/usr/bin/env bash
# Runs COMMAND where Linux guests run at useful speed: on this host if it has
# hardware virtualization (vmx or svm in /proc/cpuinfo, and a usable
# /dev/kvm), otherwise inside a nested KVM: Debian's kernel under QEMU TCG with
# -cpu max (which offers SVM), where kvm-amd gives a fast /dev/kvm (see
# docs ENVIRONMENT.md). It says which on stderr:
#   "with-kvm: running on host KVM" / "with-kvm: running in nested KVM under QEMU TCG"
#
# usage: scripts/with-kvm.sh [options] -- COMMAND [ARGS...]
#   --mem MiB        memory of the nested VM (default 4096)
#   --cpus N         its vCPUs (default 1: see "One vCPU" below)
#   --timeout S      stop after S seconds, exit 124 (default 1800)
#   --share DIR      also share DIR writable (repeatable)
#   --mode M         auto (default), host or nested; or $VVU_WITH_KVM_MODE
#   --verbose        kernel messages and the nested VM's boot steps on stderr
#
# In the nested VM, COMMAND sees the host's file system at the same paths,
# read-only, except these, shared writable both ways: the checkout
# ($VVU_ROOT), /tmp, $VVU_CACHE, $VVU_BUILD, $TMPDIR and every --share DIR.
# /proc, /sys, /dev (with /dev/kvm, /dev/pts, /dev/shm, /dev/fd) are the
# nested VM's own. UNIX sockets do not work on the 9p shares: put them in
# $XDG_RUNTIME_DIR (/run/user/UID on a local tmpfs). COMMAND runs in the same
# directory, with the same environment (plus VVU_WITH_KVM=host|nested), as
# the same user, with stdin from /dev/null. Its stdout and stderr stream out
# live on with-kvm.sh's stdout and stderr; with-kvm.sh's own lines start with
# "with-kvm:". The exit status is COMMAND's; 124 if the time ran out, 125 if
# the nested VM failed. If the nested VM's kernel reports a lockup of its CPUs
# (a fault of QEMU TCG's SVM emulation seen now and then on these machines),
# with-kvm.sh says so, stops it, and runs COMMAND once more in a new VM. So it
# does, once, when COMMAND failed after scripts/lib/guest-watch.py reported one
# of its guests stalled with the guest's clock stopped ("with-kvm:
# environment stall"): a fault of the nested SVM emulation seen under QEMU
# -accel kvm and the vmm alike (README.md, "Nested guests").
#
# One vCPU: with two (and multi-threaded TCG), the nested VM's own kernel
# locked up in the kvm suite in 4 runs of 4 (2 here, 2 in CI: clock stopped,
# both vCPU threads spinning, or a soft lockup report) and in none of 8 with
# one vCPU or with thread=single (scripts/soak-nested.sh, README.md "Nested
# guests"). A nested kernel with one CPU sends no IPIs, which fits QEMU TCG
# losing an interrupt to a vCPU that is running its guest. Run two such VMs
# at once to use two host cores (test.sh does, for the kvm suite).
#
# For measurements of the nested VM itself (scripts/soak-nested.sh), these
# environment variables change it: VVU_WITH_KVM_CPU (QEMU -cpu, default max),
# VVU_WITH_KVM_ACCEL (default tcg,thread=multi), VVU_WITH_KVM_KVM_AMD
# (kvm-amd module parameters, e.g. "avic=0 vgif=0"), VVU_WITH_KVM_APPEND
# (more words for the nested kernel's command line).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$VVU_ROOT/scripts/lib/debian-kernel.sh"

INIT_SCRIPT=$VVU_ROOT/scripts/lib/with-kvm-init.sh
# 9p for the shares, then KVM (kvm-amd needs ccp), and entropy.
NESTED_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	virtio_pci netfs fscache 9pnet 9pnet_virtio 9p irqbypass ccp kvm kvm-amd
	virtio-rng)
NESTED_PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils zstd coreutils util-linux)

MEM=4096 CPUS=1 TIMEOUT=1800 MODE=${VVU_WITH_KVM_MODE:-auto} VERBOSE=0
EXTRA_SHARES=()

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
say() { echo "with-kvm: $*" >&2; }
fatal() { say "error: $*"; exit 125; }

positive() { # NAME VALUE
	[[ $2 =~ ^[1-9][0-9]*$ ]] || fatal "$1: '$2' is not a positive whole number"
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--mem) [ $# -ge 2 ] || fatal "--mem needs MiB"; positive --mem "$2"; MEM=$2; shift 2 ;;
		--cpus | --smp) [ $# -ge 2 ] || fatal "$1 needs a number"; positive "$1" "$2"; CPUS=$2; shift 2 ;;
		--timeout) [ $# -ge 2 ] || fatal "--timeout needs seconds"; positive --timeout "$2"; TIMEOUT=$2; shift 2 ;;
		--share) [ $# -ge 2 ] || fatal "--share needs a directory"
			[ -d "$2" ] || fatal "--share: '$2' is not a directory"
			EXTRA_SHARES+=("$2"); shift 2 ;;
		--mode) [ $# -ge 2 ] || fatal "--mode needs auto, host or nested"; MODE=$2; shift 2 ;;
		--verbose) VERBOSE=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		*) fatal "unknown option '$1' (COMMAND goes after --; see --help)" ;;
		esac
	done
	[ $# -gt 0 ] || fatal "no COMMAND given (see --help)"
	case $MODE in auto | host | nested) ;; *) fatal "--mode: '$MODE' is not auto, host or nested" ;; esac
	COMMAND=("$@")
}

# Hardware virtualization and a /dev/kvm this user can open.
host_has_kvm() {
	grep -qwE 'vmx|svm' /proc/cpuinfo && [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null
}

run_on_host() {
	say "running on host KVM"
	export VVU_WITH_KVM=host
	local fg=()
	[ -t 0 ] && fg=(--foreground)
	local rc=0
	timeout "${fg[@]}" -k 10 "$TIMEOUT" "${COMMAND[@]}" || rc=$?
	[ $rc -ne 124 ] || say "timed out after $TIMEOUT s"
	exit $rc
}

# Single-quotes a word for sh.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# The cached initramfs (busybox, the modules, the init script); prints its path.
nested_initramfs() {
	local key out args=() m
	key=$({ cat "$INIT_SCRIPT" "$VVU_ROOT/scripts/build-initramfs.sh"
		echo "$DEBIAN_KERNEL_PACKAGE $DEBIAN_KERNEL_VERSION ${NESTED_MODULES[*]}"
		dpkg-query -W -f='${Version}' busybox-static; } | sha256sum | cut -c1-16)
	out=$VVU_CACHE/with-kvm/initramfs-$key.cpio.gz
	if [ ! -f "$out" ]; then
		mkdir -p "$VVU_CACHE/with-kvm"
		for m in "${NESTED_MODULES[@]}"; do args+=(--module "$m"); done
		"$VVU_ROOT/scripts/build-initramfs.sh" -o "$out" --init "$INIT_SCRIPT" \
			--moddir "$DEBIAN_KERNEL_MODDIR" "${args[@]}" >&2 ||
			fatal "building the nested VM's initramfs failed"
	fi
	echo "$out"
}

# Prints the writable shares, one resolved path a line, parents before
# children, without paths already inside another share.
writable_shares() {
	local p k kept=() skip
	mkdir -p "$VVU_CACHE"
	while IFS= read -r p; do
		[ "$p" != / ] || fatal "cannot share / writable"
		skip=0
		for k in "${kept[@]}"; do
			case $p/ in "$k"/*) skip=1 ;; esac
		done
		[ $skip -eq 0 ] || continue
		case $p in *,*) fatal "cannot share '$p': QEMU's -virtfs cannot take a path with a comma" ;; esac
		kept+=("$p")
		echo "$p"
	done < <({
		printf '%s\n' "$VVU_ROOT" /tmp "$VVU_CACHE"
		[ ! -d "$VVU_BUILD" ] || printf '%s\n' "$VVU_BUILD"
		[ -z "${TMPDIR:-}" ] || [ ! -d "$TMPDIR" ] || printf '%s\n' "$TMPDIR"
		[ ${#EXTRA_SHARES[@]} -eq 0 ] || printf '%s\n' "${EXTRA_SHARES[@]}"
	} | while IFS= read -r p; do readlink -f -- "$p"; done | LC_ALL=C sort -u)
}

# Writes the control directory $1: shares, ids, and run.sh (the command with
# its environment and directory, run by the init in the chroot).
write_control() {
	local ctl=$1 name i=0 uid gid groups p
	uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,)
	: >"$ctl/shares"
	writable_shares >"$ctl/paths"   # not in a subshell: its errors must stop us
	while IFS= read -r p; do
		printf 'vvurw%d %s\n' $i "$p" >>"$ctl/shares"
		i=$((i + 1))
	done <"$ctl/paths"
	printf 'WK_UID=%s\nWK_GID=%s\n' "$uid" "$gid" >"$ctl/ids"
	{
		printf 'exec /bin/busybox env -i'
		while IFS= read -r name; do
			case $name in
			PWD | OLDPWD | SHLVL | _ | XDG_RUNTIME_DIR | VVU_WITH_KVM) continue ;;
			esac
			[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
			printf ' \\\n\t%s' "$(shq "$name=${!name}")"
		done < <(compgen -e)
		printf ' \\\n\t%s' "$(shq "XDG_RUNTIME_DIR=/run/user/$uid")" "'VVU_WITH_KVM=nested'"
		printf ' \\\n\t/bin/busybox chroot /host'
		if [ "$uid" -ne 0 ]; then
			printf ' /usr/bin/setpriv --reuid=%s --regid=%s --groups=%s' "$uid" "$gid" "$groups"
		fi
		# shellcheck disable=SC2016  # expanded by the guest's sh
		printf ' /bin/sh -c %s with-kvm' "$(shq 'cd -- "$1" || exit 126; shift; exec "$@"')"
		printf ' %s' "$(shq "$PWD")"
		for p in "${COMMAND[@]}"; do printf ' %s' "$(shq "$p")"; done
		printf ' </dev/null\n'
	} >"$ctl/run.sh"
}

# Ends the stderr relay: unblocks its open and gives it EOF, then waits.
stop_relay() {
	local fifo=$1 pid=$2 fd
	exec {fd}<>"$fifo"
	exec {fd}>&-
	wait "$pid" 2>/dev/null || true
}

# Copies the nested VM's ttyS1 (COMMAND's stderr and the kernel's console)
# to our stderr. If the nested kernel reports a lockup of its own CPUs (QEMU
# TCG's SVM emulation wedges it now and then, whatever runs inside), it
# marks $ctl/lockup and stops QEMU rather than waiting for the time limit.
relay_stderr() {
	local ctl=$1 line
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line" >&2
		case $line in
		# A stalled L2 guest, as guest-watch.py reports it (it quotes the
		# guest's console, whose lockup lines are not the nested VM's).
		"guest-watch: "*": stall: "*"the guest clock stopped"*)
			: >"$ctl/l2stall" ;;
		"guest-watch: "*) ;;
		*"watchdog: BUG: soft lockup - CPU#"* | *"rcu: INFO: rcu_"*"detected stalls"*)
			if [ ! -e "$ctl/lockup" ]; then
				: >"$ctl/lockup"
				kill -TERM "$(cat "$ctl/qemu.pid" 2>/dev/null)" 2>/dev/null || true
			fi ;;
		esac
	done <"$ctl/err.out"
}

# One boot of the nested VM running COMMAND; sets NESTED_RC (QEMU's status)
# and NESTED_SIG (the signal that stopped us, if any).
nested_boot() {
	local ctl=$1 initrd=$2 append=$3 relay qpid
	shift 3
	rm -f "$ctl/status" "$ctl/lockup" "$ctl/l2stall" "$ctl/kallsyms" "$ctl/qemu.pid" "$ctl/err.in" "$ctl/err.out"
	# The guest's ttyS1 (stderr) reaches our stderr through a FIFO pair.
	mkfifo "$ctl/err.in" "$ctl/err.out"
	relay_stderr "$ctl" &
	relay=$!
	# guest-watch.py notices a nested VM that froze (its clock stopped
	# with no output: QEMU TCG, now and then) and ends it with status 86.
	timeout -k 10 "$TIMEOUT" "$VVU_ROOT/scripts/lib/guest-watch.py" --label "nested VM" \
		--kernel "$ctl/kallsyms" --stall 120 -- qemu-system-x86_64 \
		-accel "${VVU_WITH_KVM_ACCEL:-tcg,thread=multi}" -cpu "${VVU_WITH_KVM_CPU:-max}" -smp "$CPUS" -m "$MEM" \
		-object "memory-backend-memfd,id=ram,size=${MEM}M" -machine q35,memory-backend=ram \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-kernel "$DEBIAN_KERNEL_IMAGE" -initrd "$initrd" -append "$append" \
		-chardev stdio,id=out,signal=off -serial chardev:out \
		-chardev pipe,id=err,path="$ctl/err" -serial chardev:err \
		-device virtio-rng-pci -pidfile "$ctl/qemu.pid" \
		-virtfs "local,path=/,mount_tag=vvuroot,security_model=none,multidevs=remap,readonly=on" \
		-virtfs "local,path=$ctl,mount_tag=vvuctl,security_model=none" \
		"$@" </dev/null &
	qpid=$!
	# Stopping with-kvm.sh stops the VM (timeout passes the signal on).
	NESTED_SIG=
	trap 'NESTED_SIG=TERM; kill -TERM $qpid 2>/dev/null' TERM
	trap 'NESTED_SIG=INT; kill -TERM $qpid 2>/dev/null' INT
	trap 'NESTED_SIG=HUP; kill -TERM $qpid 2>/dev/null' HUP
	while :; do
		NESTED_RC=0
		wait $qpid || NESTED_RC=$?
		kill -0 $qpid 2>/dev/null || break   # else wait was interrupted by a trap
	done
	trap - TERM INT HUP
	stop_relay "$ctl/err.out" $relay
}

run_nested() {
	say "running in nested KVM under QEMU TCG"
	ensure_packages "${NESTED_PACKAGES[@]}"
	debian_kernel_fetch
	local initrd ctl tag path append virtfs=() attempt start=$SECONDS
	initrd=$(nested_initramfs)
	ctl=$(mktemp -d /tmp/with-kvm.XXXXXX) || fatal "cannot create a control directory in /tmp"
	trap 'rm -rf "$ctl"' EXIT
	write_control "$ctl"
	while read -r tag path; do
		virtfs+=(-virtfs "local,path=$path,mount_tag=$tag,security_model=none,multidevs=remap")
	done <"$ctl/shares"
	# nokaslr: the nested kernel's clock is where its kallsyms says.
	append="console=ttyS1 panic=-1 rdinit=/init mitigations=off nokaslr"
	[ -z "${VVU_WITH_KVM_APPEND:-}" ] || append+=" $VVU_WITH_KVM_APPEND"
	if [ -n "${VVU_WITH_KVM_KVM_AMD:-}" ]; then
		[[ $VVU_WITH_KVM_KVM_AMD =~ ^[a-z_]+=[A-Za-z0-9_-]+( [a-z_]+=[A-Za-z0-9_-]+)*$ ]] ||
			fatal "VVU_WITH_KVM_KVM_AMD: '$VVU_WITH_KVM_KVM_AMD' is not 'param=value ...'"
		append+=" with_kvm.kvm_amd=${VVU_WITH_KVM_KVM_AMD// /,}"
	fi
	if [ $VERBOSE -eq 1 ]; then
		append+=" loglevel=7 with_kvm.verbose"
		sed 's/^/with-kvm: share /' "$ctl/shares" >&2
	else
		append+=" quiet loglevel=2"
	fi
	for attempt in 1 2; do
		nested_boot "$ctl" "$initrd" "$append" "${virtfs[@]}"
		[ -z "$NESTED_SIG" ] || break
		if [ -e "$ctl/lockup" ] && [ ! -s "$ctl/status" ]; then
			say "the nested VM's kernel locked up (a QEMU TCG fault, not COMMAND's)$(
				[ $attempt -eq 1 ] && echo '; running COMMAND again in a new VM')"
		elif [ "$NESTED_RC" -eq 86 ] && [ ! -s "$ctl/status" ]; then
			: >"$ctl/lockup"
			say "the nested VM's kernel locked up: its clock stopped (a QEMU TCG fault, not COMMAND's)$(
				[ $attempt -eq 1 ] && echo '; running COMMAND again in a new VM')"
		elif [ -e "$ctl/l2stall" ] && [ -s "$ctl/status" ] && [ "$(cat "$ctl/status")" != 0 ]; then
			# The one retry for a stall: see README.md, "Nested guests".
			say "environment stall: a guest of COMMAND stopped with its clock (QEMU TCG's nested SVM)$(
				[ $attempt -eq 1 ] && echo '; running COMMAND again in a new VM')"
			[ $attempt -eq 1 ] || break
		else
			break
		fi
	done
	[ $VERBOSE -eq 0 ] || say "nested VM ran $((SECONDS - start)) s (QEMU status $NESTED_RC)"
	if [ -n "$NESTED_SIG" ]; then
		say "stopped by SIG$NESTED_SIG"
		exit $((128 + $(kill -l "$NESTED_SIG")))
	fi
	[ ! -e "$ctl/lockup" ] || [ -s "$ctl/status" ] || fatal "the nested VM locked up twice"
	if [ $NESTED_RC -eq 124 ]; then
		say "timed out after $TIMEOUT s"
		exit 124
	fi
	[ -s "$ctl/status" ] ||
		fatal "the nested VM ended without COMMAND's exit status (QEMU status $NESTED_RC)"
	exit "$(cat "$ctl/status")"
}

parse_args "$@"
case $MODE in
host) host_has_kvm || fatal "--mode host: this host has no VMX/SVM with a usable /dev/kvm"
	run_on_host ;;
nested) run_nested ;;
auto) if host_has_kvm; then run_on_host; else run_nested; fi ;;
esac
