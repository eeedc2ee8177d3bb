// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tiny guest: a minimal virtio-blk driver over virtio-pci modern + MSI-X,
 * against the vmm's --vhost-user-blk device and a real back-end. It finds
 * 1af4:1042 on bus 0, walks its capabilities, programs an MSI-X vector to
 * LAPIC vector VEC_QUEUE, does the virtio handshake with one queue, then:
 *   1. reads sector 0 and checks the pattern the host wrote
 *      (byte k = (k * 7 + 3) & 0xff), with an interrupt;
 *   2. writes sector 1 (byte k = (k ^ 0xa5) & 0xff), with an interrupt;
 *   3. masks the vector, reads sector 1 back: completes without an
 *      interrupt, the PBA shows it pending; unmasking delivers it;
 *   4. (GUEST_VBLK_RECONNECT) prints "tiny: phase1" and waits for the
 *      host to kill the back-end (it writes 'k' to the console), reads
 *      sector 1, which stalls until the host restarts the back-end: the
 *      vmm's reconnect must resume the ring.
 * Every loop is short: ring-0 code is emulated at ~1.5M instructions/s here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt.h"
#include "virtio_cfg.h"

#define VEC_QUEUE	0x41
#define QSIZE		8

#define VIRTIO_ID	0x1042

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct blk_req {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct {
	uint16_t flags, idx, ring[QSIZE], event;
} avail __attribute__((aligned(2)));
/* The back-end writes it behind the compiler's back. */
static volatile struct {
	uint16_t flags, idx;
	struct { uint32_t id, len; } ring[QSIZE];
	uint16_t event;
} used __attribute__((aligned(4)));
static struct blk_req req;
static uint8_t data[512];
static volatile uint8_t status;

static volatile uint32_t irqs;
static volatile uint32_t stray_irqs;
static uintptr_t common, notify, isr, devcfg, msix_table, msix_pba;
static uint32_t notify_mult;
static uint8_t blk;		/* devfn */
static uint8_t msix_cap;

static void fail(const char *why)
{
	guest_fail(why);
}

/* Maps each virtio structure and MSI-X to its address in BAR0. */
static void walk_caps(uint32_t bar)
{
	for (uint8_t p = pci_read8(blk, 0x34); p; p = pci_read8(blk, (uint8_t)(p + 1))) {
		uint8_t id = pci_read8(blk, p);

		if (id == 0x11) {
			msix_cap = p;
			msix_table = bar + (pci_read32(blk, (uint8_t)(p + 4)) & ~7u);
			msix_pba = bar + (pci_read32(blk, (uint8_t)(p + 8)) & ~7u);
			continue;
		}
		if (id != 0x09 || pci_read8(blk, (uint8_t)(p + 4)) != 0)
			continue;
		uintptr_t at = bar + pci_read32(blk, (uint8_t)(p + 8));

		switch (pci_read8(blk, (uint8_t)(p + 3))) {
		case 1: common = at; break;
		case 2:
			notify = at;
			notify_mult = pci_read32(blk, (uint8_t)(p + 16));
			break;
		case 3: isr = at; break;
		case 4: devcfg = at; break;
		}
	}
}

/* --- MSI-X and the LAPIC -------------------------------------------------- */

static void msix_setup(void)
{
	volatile uint32_t *e = (volatile uint32_t *)msix_table;

	/* Entry 0: fixed delivery to APIC 0, vector VEC_QUEUE. */
	e[0] = 0xfee00000u;
	e[1] = 0;
	e[2] = VEC_QUEUE;
	e[3] = 0;
	pci_write16(blk, (uint8_t)(msix_cap + 2), 0x8000);
	if (!(pci_read32(blk, msix_cap) & 0x80000000u))
		fail("MSI-X enable did not stick");
}

static void msix_mask(bool mask)
{
	((volatile uint32_t *)msix_table)[3] = mask;
}

/* --- virtio --------------------------------------------------------------- */

static void set64(uintptr_t at, uint64_t v)
{
	R32(at) = (uint32_t)v;
	R32(at + 4) = (uint32_t)(v >> 32);
}

static void virtio_setup(void)
{
	R8(common + C_STATUS) = 0;
	if (R8(common + C_STATUS) != 0)
		fail("reset");
	R8(common + C_STATUS) = STATUS_ACK;
	R8(common + C_STATUS) = STATUS_ACK | STATUS_DRIVER;
	R32(common + C_DFSEL) = 1;
	if (!(R32(common + C_DF) & 1))
		fail("no VERSION_1");
	R32(common + C_GFSEL) = 0;
	R32(common + C_GF) = 0;
	R32(common + C_GFSEL) = 1;
	R32(common + C_GF) = 1;		/* VERSION_1 only */
	R8(common + C_STATUS) = STATUS_ACK | STATUS_DRIVER | STATUS_FEAT_OK;
	if (!(R8(common + C_STATUS) & STATUS_FEAT_OK))
		fail("FEATURES_OK refused");
	if (R16(common + C_NUMQ) < 1)
		fail("no queues");
	R16(common + C_MSIX_CFG) = 0xffff;
	R16(common + C_QSEL) = 0;
	if (R16(common + C_QSIZE) < QSIZE)
		fail("queue too small");
	R16(common + C_QSIZE) = QSIZE;
	R16(common + C_QMSIX) = 0;
	if (R16(common + C_QMSIX) != 0)
		fail("queue vector refused");
	set64(common + C_QDESC, (uintptr_t)descs);
	set64(common + C_QAVAIL, (uintptr_t)&avail);
	set64(common + C_QUSED, (uintptr_t)&used);
	R16(common + C_QENABLE) = 1;
	if (R16(common + C_QENABLE) != 1)
		fail("queue enable refused");
	R8(common + C_STATUS) = STATUS_ACK | STATUS_DRIVER | STATUS_FEAT_OK |
				STATUS_DRV_OK;
}

/* Posts one request (3 descriptors, head 0) and kicks the doorbell. */
static void submit(uint32_t type, uint64_t sector)
{
	uint16_t qnoff = R16(common + C_QNOFF);

	req.type = type;
	req.ioprio = 0;
	req.sector = sector;
	status = 0xff;
	descs[0] = (struct desc){ (uintptr_t)&req, sizeof(req), 1, 1 };
	descs[1] = (struct desc){ (uintptr_t)data, sizeof(data),
				  (uint16_t)(1 | (type == 0 ? 2 : 0)), 2 };
	descs[2] = (struct desc){ (uintptr_t)&status, 1, 2, 0 };
	avail.ring[avail.idx % QSIZE] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail.idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	R16(notify + (uintptr_t)qnoff * notify_mult) = 0;
}

/* Waits (halting) until the used ring catches up and, if want_irqs, for the interrupt. */
static void wait_done(uint32_t want_irqs)
{
	for (uint32_t steps = 0; used.idx != avail.idx || irqs < want_irqs; steps++) {
		if (want_irqs)
			guest_wait_irq();	/* sti; hlt; cli */
		guest_wait_step();
		if (steps > GUEST_WAIT_STEPS)
			fail("timeout waiting for the request");
	}
	if (status != 0)
		fail("request status not OK");
}

static void check_sector(uint8_t (*pat)(unsigned int), const char *what)
{
	for (unsigned int k = 0; k < sizeof(data); k++) {
		if (data[k] != pat(k))
			fail(what);
	}
}

static uint8_t pat0(unsigned int k)
{
	return (uint8_t)(k * 7 + 3);
}

static uint8_t pat1(unsigned int k)
{
	return (uint8_t)(k ^ 0xa5);
}

/*
 * Interrupt counts are relative: a back-end may signal spuriously (libvhost-
 * user writes the call eventfd once when it receives it), which virtio allows.
 */
static void io_tests(void)
{
	uint32_t before = irqs;

	/* 1: read with an interrupt. */
	submit(0, 0);
	wait_done(before + 1);
	check_sector(pat0, "sector 0 data");
	guest_ok("read");

	/* 2: write with an interrupt. */
	for (unsigned int k = 0; k < sizeof(data); k++)
		data[k] = pat1(k);
	before = irqs;
	submit(1, 1);
	wait_done(before + 1);
	guest_ok("write");

	/* 3: masked vector: completion without interrupt, pending, delivered on unmask. */
	msix_mask(true);
	before = irqs;
	for (unsigned int k = 0; k < sizeof(data); k++)
		data[k] = 0;
	submit(0, 1);
	wait_done(0);
	check_sector(pat1, "sector 1 read back");
	guest_sti();
	for (volatile uint32_t i = 0; i < 20000; i++)
		;
	guest_cli();
	if (irqs != before)
		fail("interrupt while masked");
	if (!(R32(msix_pba) & 1))
		fail("PBA bit not pending while masked");
	guest_sti();
	msix_mask(false);
	for (uint32_t steps = 0; irqs == before; steps++) {
		guest_wait_step();
		if (steps > GUEST_WAIT_STEPS)
			fail("pending interrupt not delivered on unmask");
	}
	guest_cli();
	if (R32(msix_pba) & 1)
		fail("PBA bit still set after delivery");
	guest_ok("masked vector");
}

static void reconnect_test(void)
{
#ifdef GUEST_VBLK_RECONNECT
	uint32_t before = irqs;

	guest_puts("tiny: phase1\n");
	/* The host kills the back-end, then says so on the console. */
	while (!(inb(0x3f8 + 5) & 1))
		;
	if (inb(0x3f8) != 'k')
		fail("unexpected console input");
	for (unsigned int k = 0; k < sizeof(data); k++)
		data[k] = 0;
	submit(0, 1);
	wait_done(before + 1);
	check_sector(pat1, "sector 1 after reconnect");
	guest_ok("reconnect");
#endif
}

void guest_main(void)
{
	int devfn = pci_find(0x1af4, VIRTIO_ID);
	uint32_t bar;

	guest_count_irqs(VEC_QUEUE, &irqs, &stray_irqs);
	lapic_enable();
	if (devfn < 0)
		fail("no 1af4:1042 on bus 0");
	blk = (uint8_t)devfn;
	bar = pci_read32(blk, 0x10);
	if (bar & 1)
		fail("BAR0 is not memory");
	bar &= ~0xfu;
	pci_write16(blk, 0x04, 0x6);		/* memory decode + bus master */
	walk_caps(bar);
	if (!common || !notify || !isr || !devcfg || !msix_cap)
		fail("missing capability");
	if (notify_mult != 4)
		fail("notify multiplier");
	guest_ok("caps");
	msix_setup();
	virtio_setup();
	if (R32(devcfg) != 2048 || R32(devcfg + 4) != 0)
		fail("capacity is not 2048 sectors");
	guest_ok("virtio");
	io_tests();
	reconnect_test();
	if (stray_irqs)
		fail("stray interrupts");
}
