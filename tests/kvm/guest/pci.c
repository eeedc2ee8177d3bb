// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tiny guest: the PCI bus as a firmware-less guest finds it. Config
 * mechanism #1 (CONFIG_ADDRESS reads back, a byte write to 0xcfb leaves it
 * alone), the host bridge at 00:00.0, the --vhost-user-blk disk at 00:01.0
 * and nothing else (absent slots and functions read all-ones), read-only
 * registers stay put, BAR0 sizing, the capability list (virtio common,
 * notify, ISR, device config, MSI-X), and BAR0 decoding: off after reset,
 * on at its address after the command write, following the BAR when the
 * guest moves it, gone from the old address.
 */
#include "rt.h"

#define VIRTIO_BLK	0x1042
#define BAR0_SIZE	0x8000u
#define COMMON_NUMQ	0x12	/* virtio_pci_common_cfg.num_queues */

static void check_config_mechanism(void)
{
	outl(0xcf8, 0x80000000u | (1u << 11) | 0x10);
	outb(0xcfb, 0x01);	/* Linux's type-1 probe */
	guest_check(inl(0xcf8) == (0x80000000u | (1u << 11) | 0x10),
		    "CONFIG_ADDRESS does not read back");
	guest_ok("config mechanism");
}

static void check_enumeration(int blk)
{
	guest_check(pci_read16(0, 0x0a) == 0x0600, "00:00.0 is not a host bridge");
	guest_check(blk == (1 << 3), "the disk is not at 00:01.0");
	guest_check(pci_read16((uint8_t)blk, 0x0a) == 0x0180, "disk class");
	guest_check(pci_read8((uint8_t)blk, 0x08) == 1, "disk revision");
	guest_check(pci_read32((uint8_t)blk, 0x2c) == (0x1af4u | VIRTIO_BLK << 16),
		    "disk subsystem");
	for (unsigned int slot = 2; slot < 32; slot++)
		guest_check(pci_read32((uint8_t)(slot << 3), 0) == 0xffffffffu,
			    "a slot without a device answers");
	guest_check(pci_read32((uint8_t)(blk | 1), 0) == 0xffffffffu,
		    "function 1 answers");
	/* Identity and header type are read-only. */
	pci_write32((uint8_t)blk, 0, 0x12345678);
	pci_write32((uint8_t)blk, 0x0c, 0xffffffffu);
	guest_check(pci_read32((uint8_t)blk, 0) == (0x1af4u | VIRTIO_BLK << 16),
		    "vendor/device id is writable");
	guest_check(pci_read8((uint8_t)blk, 0x0e) == 0, "header type is writable");
	guest_ok("enumeration");
}

static void check_caps(int blk)
{
	unsigned int seen = 0, n = 0;

	guest_check(pci_read16((uint8_t)blk, 0x06) & 0x10, "no capability list");
	for (uint8_t p = pci_read8((uint8_t)blk, 0x34); p; p = pci_read8((uint8_t)blk, (uint8_t)(p + 1))) {
		uint8_t id = pci_read8((uint8_t)blk, p);

		guest_check(++n < 16 && p >= 0x40, "capability list loops or is misplaced");
		if (id == 0x11) {
			/* One vector per queue plus config; table in BAR0. */
			guest_check((pci_read16((uint8_t)blk, (uint8_t)(p + 2)) & 0x7ff) >= 1,
				    "MSI-X table size");
			guest_check((pci_read32((uint8_t)blk, (uint8_t)(p + 4)) & 7) == 0,
				    "MSI-X table not in BAR0");
			seen |= 1u << 0;
		} else if (id == 0x09 && pci_read8((uint8_t)blk, (uint8_t)(p + 4)) == 0) {
			seen |= 1u << pci_read8((uint8_t)blk, (uint8_t)(p + 3));
		}
	}
	/* cfg_type 1 common, 2 notify, 3 ISR, 4 device config, and MSI-X. */
	guest_check((seen & 0x1f) == 0x1f, "a virtio capability or MSI-X is missing");
	guest_ok("capabilities");
}

static uint32_t size_bar0(int blk)
{
	uint32_t orig = pci_read32((uint8_t)blk, 0x10), mask;

	pci_write32((uint8_t)blk, 0x10, 0xffffffffu);
	mask = pci_read32((uint8_t)blk, 0x10);
	pci_write32((uint8_t)blk, 0x10, orig);
	guest_check(pci_read32((uint8_t)blk, 0x10) == orig, "BAR0 does not restore");
	guest_check((mask & 0xf) == 0, "BAR0 is not 32-bit non-prefetchable memory");
	return ~(mask & ~0xfu) + 1;
}

static void check_bar0(int blk)
{
	uint32_t bar = pci_read32((uint8_t)blk, 0x10) & ~0xfu, moved;

	guest_check(size_bar0(blk) == BAR0_SIZE, "BAR0 size is not 32 KiB");
	guest_check(bar >= 0xc0000000u && bar < 0xfec00000u, "BAR0 outside the PCI hole");
	guest_check(R16(bar + COMMON_NUMQ) == 0xffff, "BAR0 decodes before memory enable");
	pci_write16((uint8_t)blk, 0x04, 0x6);		/* memory + bus master */
	guest_check(R16(bar + COMMON_NUMQ) >= 1, "BAR0 does not decode after enable");
	/* The way Linux moves a BAR: decoding off, new address, decoding on. */
	moved = bar + 0x100000u;
	pci_write16((uint8_t)blk, 0x04, 0x4);
	pci_write32((uint8_t)blk, 0x10, moved);
	pci_write16((uint8_t)blk, 0x04, 0x6);
	guest_check(R16(moved + COMMON_NUMQ) >= 1, "BAR0 does not decode at its new address");
	guest_check(R16(bar + COMMON_NUMQ) == 0xffff, "BAR0 still decodes at its old address");
	guest_ok("bar0");
}

void guest_main(void)
{
	int blk;

	check_config_mechanism();
	blk = pci_find(0x1af4, VIRTIO_BLK);
	guest_check(blk >= 0, "no 1af4:1042 on bus 0");
	check_enumeration(blk);
	check_caps(blk);
	check_bar0(blk);
}
