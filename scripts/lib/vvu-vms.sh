# The VMs of the seed's flow, for scripts/demo.sh and scripts/bench-vm.sh
# (source after common.sh). Inside scripts/with-kvm.sh, with these set:
#   DIR      the run's directory (initramfs images, console logs)
#   VMM VMLINUX  the vmm and the guest kernel
#   DEVICES  vvu-proxy devices in the device VM; SIBLINGS siblings per device
#   SIBLING  the siblings' front-end, vmm or qemu; QUEUES their disk's queues
#   DEVICE_ARGS SIBLING_ARGS  guest kernel command line words (vvu.KEY=VALUE)

. "$VVU_ROOT/scripts/lib/vvu-addr.sh"

# What the device VM's initramfs takes from the host.
VVU_DEVICE_VM_PACKAGES=(pciutils pci.ids)

# DIR/device.gz: /guest-main.sh is scripts/lib/vvu-device-main.sh; ARGS
# are more of scripts/build-initramfs.sh's.
device_initramfs() { # [ARGS...]
	"$VVU_ROOT/scripts/build-initramfs.sh" -o "$DIR/device.gz" \
		--init "$VVU_ROOT/scripts/lib/guest-init.sh" \
		--file "$VVU_ROOT/scripts/lib/vvu-device-main.sh:/guest-main.sh" \
		--file "$VVU_ROOT/scripts/lib/vvu-addr.sh:/vvu-addr.sh" \
		--bin "$VVU_BUILD/vblk-backend/vblk-backend" --bin /usr/bin/lspci \
		--file /usr/share/misc/pci.ids:/usr/share/misc/pci.ids "$@"
}

# watch LABEL LOG CMD...: CMD under guest-watch.py, console and output in LOG.
watch() {
	local label=$1 log=$2
	shift 2
	timeout -k 10 900 "$VVU_ROOT/scripts/lib/guest-watch.py" --label "$label" \
		--console "$log" --kernel "$VMLINUX" -- "$@" >"$log.fe" 2>&1 </dev/null
}

# The sibling VM's command line, one word per line: 512 MiB, the disk on SOCK.
sibling_cmd() {
	local sock=$1 log=$2 args=$3
	if [ "$SIBLING" = qemu ]; then
		printf '%s\n' qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities \
			-smp 2 -m 512 -object memory-backend-memfd,id=mem,size=512M,share=on \
			-machine pc,memory-backend=mem -nodefaults -display none -monitor none \
			-no-reboot -serial "file:$log" -kernel "$VMLINUX" -initrd "$DIR/sibling.gz" \
			-append "console=ttyS0 panic=-1 quiet $args" \
			-chardev "socket,id=disk,path=$sock" \
			-device "vhost-user-blk-pci,chardev=disk,num-queues=$QUEUES"
	else
		printf '%s\n' "$VMM" run -c 2 -m 512 -i "$DIR/sibling.gz" \
			--serial "file=$log" --vhost-user-blk "$sock" -p "quiet $args" "$VMLINUX"
	fi
}

# Device d's vhost-user socket (its PCI address: dev_addr).
dev_sock() { if [ "$2" -eq 1 ]; then echo "$1/blk.sock"; else echo "$1/blk$2.sock"; fi; }

# Device d's siblings, one after another: sibling k writes pattern-k.
run_siblings() { # RUN D
	local j k rc cmd
	for ((j = 1; j <= SIBLINGS; j++)); do
		k=$(((${2} - 1) * SIBLINGS + j))
		: >"$DIR/sibling$k.log"
		rc=0
		mapfile -t cmd < <(sibling_cmd "$(dev_sock "$1" "$2")" "$DIR/sibling$k.log" \
			"$SIBLING_ARGS vvu.sibling=$k")
		date +%s >"$DIR/sibling$k.time"
		watch "sibling VM $k" "$DIR/sibling$k.log" "${cmd[@]}" || rc=$?
		# The guest powers off cleanly even when its main part failed.
		[ $rc -ne 0 ] || grep -q "vvu-guest: main done" "$DIR/sibling$k.log" || rc=1
		date +%s >>"$DIR/sibling$k.time"
		echo "$rc" >"$DIR/sibling$k.status"
	done
}

# Starts the device VM (in the background, DEVICE_PID) with DEVICES
# vvu-proxy devices whose sockets are in RUN, and returns once its
# vblk-backends serve (or it has gone).
device_vm_start() { # RUN
	local d k proxies=()
	for ((d = 1; d <= DEVICES; d++)); do
		proxies+=(--vvu-proxy "$(dev_sock "$1" $d),addr=$(dev_addr $d)")
	done
	: >"$DIR/device.log"
	# Each further device's vblk-backend and 64 MiB disk image (tmpfs)
	# need their own room.
	watch "device VM" "$DIR/device.log" "$VMM" run -c 2 -m $((256 + 128 * (DEVICES - 1))) \
		-i "$DIR/device.gz" --serial "file=$DIR/device.log" "${proxies[@]}" \
		-p "quiet vfio.enable_unsafe_noiommu_mode=1 hugepages=$((4 * DEVICES)) $DEVICE_ARGS" \
		"$VMLINUX" &
	DEVICE_PID=$!
	for ((k = 0; k < 3000; k++)); do
		grep -q "vvu-demo: backend up" "$DIR/device.log" && break
		kill -0 $DEVICE_PID 2>/dev/null || break
		sleep 0.1
	done
}

# Waits for the device VM to end (its init stops once every sibling's
# pattern landed); its status goes to DIR/device.status. A sibling that
# failed never writes its pattern: then the device VM is stopped at once
# rather than after its init's wait.
device_vm_wait() {
	local rc=0 f
	for f in "$DIR"/sibling*.status; do
		[ "$(cat "$f")" = 0 ] && continue
		echo "${f##*/}: a sibling failed, stopping the device VM" >>"$DIR/device.log.fe"
		kill -TERM "$DEVICE_PID" 2>/dev/null
		break
	done
	wait "$DEVICE_PID" || rc=$?
	echo "$rc" >"$DIR/device.status"
}
