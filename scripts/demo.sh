#!/usr/bin/env bash
# The demo, README's main command: the seed's flow end to end.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$VVU_ROOT/scripts/lib/vvu-vms.sh"

usage() {
	cat <<'EOF'
usage: scripts/demo.sh [--queues N] [--siblings N] [--devices N]
                       [--sibling vmm|qemu] [--dir DIR] [--keep]

Runs crosvm's VVU flow with this project's programs, on Linux guests under
KVM (scripts/with-kvm.sh: this host's KVM if it has VMX/SVM, else a nested
KVM under QEMU TCG):

  host$   vmm run --vvu-proxy SOCK,addr=0000:00:10.0 -m 256 ... vmlinux   (device VM)
  guest$  (the seed's sysfs lines bind 00:10.0 to vfio-pci)
  guest$  vblk-backend --vfio 0000:00:10.0 --file disk.img             (in the device VM)
  host$   vmm run --vhost-user-blk SOCK -m 512 ... vmlinux             (sibling VM)

The sibling has more memory than the device VM. It shows /dev/vda (lsblk),
writes a pattern to it with dd, flushes and reads it back; the device VM
then finds the pattern in its disk.img. With --siblings N, N sibling VMs
run one after another while the device VM and vblk-backend stay up. Prints
each step's output; exits 0 only when every pattern landed in disk.img and
every program ended cleanly. With --devices N, the device VM has N
vvu-proxy devices (00:10.0, 00:11.0, ...; sockets blk.sock, blk2.sock, ...),
each bound to vfio-pci and served by its own vblk-backend on its own disk
image, and the siblings of the N devices run at the same time.

The first run installs packages (root or sudo) and builds the guest kernel
(~5-10 min, cached in ~/.cache/vvu); then about 2 minutes nested.

  --queues N     request queues of the disk (default 1)
  --siblings N   sibling VMs per device, one after another (default 1)
  --devices N    vvu-proxy devices in the device VM, 1 to 8 (default 1)
  --sibling F    the siblings' front-end: vmm (default, `vmm run
                 --vhost-user-blk`) or qemu (QEMU 7.2 -accel kvm,
                 -device vhost-user-blk-pci on the same socket)
  --dir DIR      where the logs go (kept); default: a temporary directory,
                 removed at the end unless --keep
  --keep         keep the temporary directory
  -h, --help     this text
EOF
}

QUEUES=1 SIBLINGS=1 DEVICES=1 SIBLING=vmm DIR='' KEEP=0 OWN_DIR=0 INNER=0

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--queues | --siblings | --devices)
			[ $# -ge 2 ] || die "$1 needs a number"
			[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1: '$2' is not a positive number"
			case $1 in
			--queues) QUEUES=$2 ;;
			--siblings) SIBLINGS=$2 ;;
			--devices) [ "$2" -le 8 ] || die "--devices: '$2' is more than 8"
				DEVICES=$2 ;;
			esac
			shift 2 ;;
		--sibling) [ $# -ge 2 ] || die "--sibling needs vmm or qemu"
			case $2 in vmm | qemu) SIBLING=$2 ;; *) die "--sibling: '$2' is not vmm or qemu" ;; esac
			shift 2 ;;
		--dir) [ $# -ge 2 ] || die "--dir needs a directory"; DIR=$2; shift 2 ;;
		--keep) KEEP=1; shift ;;
		--inner) [ $# -ge 2 ] || die "--inner needs a directory"; DIR=$2; INNER=1; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument '$1'" ;;
		esac
	done
}

say() {
	if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}

# --- inside with-kvm.sh: the two kinds of VM ---------------------------------

inner() {
	. "$DIR/env"
	local run d sibs=()
	run=$(mktemp -d "${XDG_RUNTIME_DIR:-/tmp}/vvu-demo.XXXXXX")
	echo "$run" >"$DIR/run"
	device_vm_start "$run"
	for ((d = 1; d <= DEVICES; d++)); do
		run_siblings "$run" $d &
		sibs+=($!)
	done
	wait "${sibs[@]}"
	device_vm_wait
	rm -rf "$run"
}

# --- on the host ---------------------------------------------------------------

cleanup() {
	if [ $OWN_DIR -eq 1 ] && [ $KEEP -eq 0 ]; then rm -rf "$DIR"; fi
}

prepare() {
	ensure_packages "${VVU_BUILD_PACKAGES[@]}" "${VVU_TEST_PACKAGES[@]}" "${VVU_DEVICE_VM_PACKAGES[@]}"
	say "building the project in $VVU_BUILD and the guest kernel"
	build_tree "$VVU_BUILD"
	VMLINUX=$("$VVU_ROOT/scripts/build-guest-kernel.sh" --print vmlinux) ||
		die "cannot build the guest kernel"
	device_initramfs
	"$VVU_ROOT/scripts/build-initramfs.sh" -o "$DIR/sibling.gz" \
		--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
		--file "$VVU_ROOT/scripts/lib/vvu-sibling-main.sh:/guest-main.sh"
	local pattern="vvu-demo-$$-$RANDOM" block=$((RANDOM % 1000 + 8))
	cat >"$DIR/env" <<EOF
VMM=$(printf %q "$VVU_BUILD/vmm/vmm")
VMLINUX=$(printf %q "$VMLINUX")
SIBLINGS=$SIBLINGS
DEVICES=$DEVICES
SIBLING=$SIBLING
QUEUES=$QUEUES
DEVICE_ARGS="${VVU_DEMO_DEVICE_ARGS:-} vvu.pattern=$pattern vvu.block=$block vvu.queues=$QUEUES vvu.siblings=$SIBLINGS vvu.devices=$DEVICES"
SIBLING_ARGS="vvu.pattern=$pattern vvu.block=$block"
EOF
}

# Whether the first siblings of all devices ran at the same time: the last
# of them started before the first of them ended.
siblings_overlapped() {
	local d k start end last_start=0 first_end=
	for ((d = 1; d <= DEVICES; d++)); do
		k=$(((d - 1) * SIBLINGS + 1))
		{ read -r start && read -r end; } <"$DIR/sibling$k.time" || return 1
		[ "$start" -gt "$last_start" ] && last_start=$start
		[ -z "$first_end" ] || [ "$end" -lt "$first_end" ] && first_end=$end
	done
	[ "$last_start" -lt "$first_end" ]
}

# The lines a VM printed for us, without the prefix.
shown() { tr -d '\r' <"$1" | sed -n 's/^vvu-demo: //p'; }

report() {
	local ok=1 k d proxies='' run
	run=$(cat "$DIR/run" 2>/dev/null) || run=RUN
	for ((d = 1; d <= DEVICES; d++)); do
		proxies+="--vvu-proxy $(dev_sock "$run" $d),addr=$(dev_addr $d) "
	done
	say "host\$ vmm run ${proxies}-m $((256 + 128 * (DEVICES - 1))) -p \"vfio.enable_unsafe_noiommu_mode=1 hugepages=$((4 * DEVICES))\" vmlinux"
	echo "(the device VM's console)"
	shown "$DIR/device.log"
	for ((k = 1; k <= SIBLINGS * DEVICES; k++)); do
		d=$(((k - 1) / SIBLINGS + 1))
		if [ "$SIBLING" = qemu ]; then
			say "host\$ qemu-system-x86_64 -m 512 -chardev socket,path=$(dev_sock "$run" $d),... -device vhost-user-blk-pci,... (sibling VM $k)"
		else
			say "host\$ vmm run --vhost-user-blk $(dev_sock "$run" $d) -m 512 vmlinux   (sibling VM $k)"
		fi
		shown "$DIR/sibling$k.log"
		grep -q "vvu-demo: sibling $k read back" "$DIR/sibling$k.log" || ok=0
		[ "$(cat "$DIR/sibling$k.status" 2>/dev/null)" = 0 ] ||
			{ ok=0; echo "sibling VM $k ended badly: $(tail -n 5 "$DIR/sibling$k.log.fe")"; }
		grep -q "vvu-demo: disk[0-9]*\.img holds '[^']*-$k'" "$DIR/device.log" ||
			{ ok=0; echo "sibling $k's pattern is not in the device VM's disk image"; }
	done
	[ "$DEVICES" -eq 1 ] || siblings_overlapped ||
		{ ok=0; echo "the siblings of the $DEVICES devices did not run at the same time"; }
	for ((d = 1; d <= DEVICES; d++)); do
		grep -q "vvu-demo: vblk-backend of $(dev_addr $d) exit status 0" "$DIR/device.log" || ok=0
	done
	[ "$(cat "$DIR/device.status" 2>/dev/null)" = 0 ] ||
		{ ok=0; echo "the device VM ended badly: $(tail -n 5 "$DIR/device.log.fe")"; }
	if grep -qE "(vmm|vvu-proxyd|vblk-backend)\[[0-9]+\]: (err|warn)" \
		"$DIR/device.log" "$DIR/device.log.fe" "$DIR"/sibling*.log*; then
		ok=0
		echo "errors or warnings logged:"
		grep -hE "(vmm|vvu-proxyd|vblk-backend)\[[0-9]+\]: (err|warn)" \
			"$DIR/device.log" "$DIR/device.log.fe" "$DIR"/sibling*.log*
	fi
	if [ $ok -eq 1 ]; then
		say "OK: the device VM's disk.img is the sibling's /dev/vda ($DEVICES device(s), $SIBLINGS sibling(s) each, $QUEUES queue(s))"
	else
		say "FAILED (logs in $DIR)"
		KEEP=1
	fi
	[ $ok -eq 1 ]
}

main() {
	parse_args "$@"
	if [ $INNER -eq 1 ]; then
		inner
		return
	fi
	if [ -n "$DIR" ]; then
		mkdir -p "$DIR" || die "cannot create --dir '$DIR'"
		DIR=$(cd "$DIR" && pwd)
	else
		DIR=$(mktemp -d /tmp/vvu-demo.XXXXXX)
		OWN_DIR=1
	fi
	trap cleanup EXIT
	prepare
	say "starting the VMs (scripts/with-kvm.sh)"
	"$VVU_ROOT/scripts/with-kvm.sh" --timeout 1500 -- "$0" --inner "$DIR" ||
		echo "with-kvm.sh: status $?"
	report
}

main "$@"
