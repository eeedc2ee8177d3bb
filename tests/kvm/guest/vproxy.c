// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tiny guest: a --vvu-proxy device whose model is stub-proxyd (a test
 * stand-in for vvu-proxyd, tests/kvm/stub_proxyd.c), driven by real vCPU
 * accesses. It finds 1af4:107d on bus 0 and:
 *   1. reads a register of BAR0 and one of BAR2: KVM exits that cross the
 *      vCPU's access channel and come back with stub-proxyd's pattern;
 *   2. moves BAR2 (64-bit, assigned above 4 GiB) below 4 GiB, where this
 *      32-bit guest reaches it: stub-proxyd's ioeventfd must follow;
 *   3. programs MSI-X vector 0 and writes BAR2's doorbell 0: stub-proxyd
 *      gave one eventfd as that doorbell's ioeventfd and as vector 0's
 *      irqfd, so KVM alone turns the write into the interrupt;
 *   4. writes the register that makes stub-proxyd die of SIGSYS: the
 *      device is dead (all ones, as if surprise-removed), the VM runs on.
 */
#include <stdint.h>

#include "rt.h"

#define VEC_DOORBELL	0x42
#define BAR2_LOW	0xd0000000u	/* free in the 32-bit PCI window */
#define STUB_DIE_OFF	0x100		/* stub-proxyd dies on a write here */
/* stub-proxyd answers a BAR read with this pattern. */
#define PATTERN(off)	(0x5a5a0000u ^ (uint32_t)(off))

static volatile uint32_t irqs, stray_irqs;
static uint8_t dev;

static uint8_t find_msix(void)
{
	for (uint8_t p = pci_read8(dev, 0x34); p; p = pci_read8(dev, (uint8_t)(p + 1)))
		if (pci_read8(dev, p) == 0x11)
			return p;
	guest_fail("no MSI-X capability");
}

/* Vector 0 to APIC 0 at VEC_DOORBELL, unmasked, MSI-X on. */
static void msix_setup(uint32_t bar0)
{
	uint8_t cap = find_msix();
	uint32_t table = pci_read32(dev, (uint8_t)(cap + 4));
	volatile uint32_t *e;

	guest_check((table & 7) == 0, "MSI-X table not in BAR0");
	e = (volatile uint32_t *)(uintptr_t)(bar0 + (table & ~7u));
	e[0] = 0xfee00000u;
	e[1] = 0;
	e[2] = VEC_DOORBELL;
	e[3] = 0;
	pci_write16(dev, (uint8_t)(cap + 2), 0x8000);
}

void guest_main(void)
{
	int devfn = pci_find(0x1af4, 0x107d);
	uint32_t bar0;

	guest_count_irqs(VEC_DOORBELL, &irqs, &stray_irqs);
	lapic_enable();
	guest_check(devfn >= 0, "no 1af4:107d on bus 0");
	dev = (uint8_t)devfn;
	guest_check(pci_read16(dev, 0x0a) == 0x00ff, "class is not 00ff");
	bar0 = pci_read32(dev, 0x10) & ~0xfu;
	pci_write16(dev, 0x04, 0x6);		/* memory decode + bus master */
	guest_check(R32(bar0 + 0x10) == PATTERN(0x10), "BAR0 read");
	guest_ok("access");

	pci_write32(dev, 0x18, BAR2_LOW | 0x4);
	pci_write32(dev, 0x1c, 0);
	guest_check(R32(BAR2_LOW + 0x2000) == PATTERN(0x2000), "BAR2 read after the move");
	guest_ok("move");

	msix_setup(bar0);
	R32(BAR2_LOW) = 1;			/* doorbell 0 */
	for (uint32_t steps = 0; !irqs; steps++) {
		guest_check(steps < GUEST_WAIT_STEPS, "doorbell interrupt not delivered");
		guest_wait_irq();
		guest_wait_step();
	}
	guest_check(!stray_irqs, "stray interrupts");
	guest_ok("doorbell");

	/* Commands of a vCPU go in order: the read finds stub-proxyd gone. */
	R32(bar0 + STUB_DIE_OFF) = 1;
	guest_check(R32(bar0 + 0x10) == 0xffffffffu, "a dead device's register read");
	guest_check(pci_read32(dev, 0) == 0xffffffffu, "a dead device's vendor ID");
	guest_ok("dead");
}
