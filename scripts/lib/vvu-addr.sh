# The PCI address of vvu-proxy device D (1-based) in the seed's flow:
# 0000:00:10.0, 0000:00:11.0, ... POSIX sh: sourced by scripts/lib/vvu-vms.sh
# on the host and by the device VM's /guest-main.sh.
dev_addr() { printf '0000:00:%02x.0' $((0x10 + $1 - 1)); }
