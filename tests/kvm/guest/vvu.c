// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tiny guest: a minimal driver of the vvu-proxy device (1af4:107d at
 * 00:10.0) that `vmm run --vvu-proxy SOCK,addr=0000:00:10.0,shm=256M` hosts
 * through vvu-proxyd, with tests/kvm/vvu-sibling (a vhost-user front-end)
 * on SOCK. It checks the device's identity, BARs and capabilities, moves
 * the 64-bit BARs below 4 GiB (it is a 32-bit program), sets up rxq and
 * txq, and then plays the vhost-user back-end to the sibling:
 *   GET_FEATURES          answered on txq;
 *   SET_MEM_TABLE         the region is in BAR4 at its mmap_offset, and the
 *                         word the sibling wrote at 40 MiB of its 64 MiB of
 *                         RAM (more than this VM's 16) reads back there;
 *   SET_VRING_KICK 0      notification 0 -> MSI-X entry 2: the sibling's
 *                         kick arrives as that interrupt;
 *   SET_VRING_CALL 0      doorbell 0: a write there is the sibling's call;
 *   GET_PROTOCOL_FEATURES answered, then it waits for the kick and rings
 *                         doorbell 0;
 *   the sibling hangs up  a zero-length used rx buffer, status bit 0 clear;
 *                         the driver's zero-length txq buffer, the session's
 *                         end, is taken.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt.h"
#include "virtio_cfg.h"

#define VVU_DEVFN	(0x10 << 3)
#define BAR2_ADDR	0xd0000000u
#define BAR4_ADDR	0xe0000000u
#define SHM_SIZE	0x10000000u	/* shm=256M on the vmm's command line */
#define SIBLING_WORD_AT	(40u << 20)
#define SIBLING_WORD	0x5a5a1234u

#define VEC_KICK	0x43		/* MSI-X entry 2; rx/tx use VEC_QUEUES */
#define VEC_QUEUES	0x41
#define QSIZE		4
#define BUF_SIZE	256


/* vhost-user. */
#define VU_GET_FEATURES			1
#define VU_SET_MEM_TABLE		5
#define VU_SET_VRING_KICK		12
#define VU_SET_VRING_CALL		13
#define VU_GET_PROTOCOL_FEATURES	15
#define VU_REPLY_FLAGS			0x5

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq {
	struct desc desc[QSIZE] __attribute__((aligned(16)));
	struct {
		uint16_t flags, idx, ring[QSIZE], event;
	} avail __attribute__((aligned(2)));
	volatile struct {
		uint16_t flags, idx;
		struct { uint32_t id, len; } ring[QSIZE];
		uint16_t event;
	} used __attribute__((aligned(4)));
	uint16_t last_used;
	uint8_t buf[QSIZE][BUF_SIZE] __attribute__((aligned(8)));
};

static struct vq rxq, txq;
static uintptr_t common, notify, devcfg, msix_table, bar2, bar4;
static uint32_t notify_mult;
static uint8_t msix_cap;
static uint32_t caps_seen;
static volatile uint32_t kicks, other_irqs;

static void fail(const char *why)
{
	guest_fail(why);
}

/* --- identity, BARs, capabilities ----------------------------------------- */

static void check_identity(void)
{
	if (pci_read16(VVU_DEVFN, 0x00) != 0x1af4 || pci_read16(VVU_DEVFN, 0x02) != 0x107d)
		fail("no 1af4:107d at 00:10.0");
	if (pci_read32(VVU_DEVFN, 0x08) != 0x00ff0001u)
		fail("class 00ff, prog-if 0, revision 1 expected");
	if (pci_read32(VVU_DEVFN, 0x2c) != 0x107d1af4u)
		fail("subsystem is not 1af4:107d");
	guest_ok("identity");
}

/* Size of the BAR at off (a 64-bit one with its upper half), flags in *lo. */
static uint64_t bar_size(uint8_t off, bool is64, uint32_t *flags)
{
	uint32_t lo = pci_read32(VVU_DEVFN, off), hi = is64 ? pci_read32(VVU_DEVFN, off + 4) : 0;
	uint64_t mask;

	pci_write32(VVU_DEVFN, off, 0xffffffffu);
	if (is64)
		pci_write32(VVU_DEVFN, (uint8_t)(off + 4), 0xffffffffu);
	mask = pci_read32(VVU_DEVFN, off);
	*flags = (uint32_t)mask & 0xf;
	mask = (mask & ~0xfull) | (is64 ? (uint64_t)pci_read32(VVU_DEVFN, off + 4) << 32
				       : 0xffffffff00000000ull);
	pci_write32(VVU_DEVFN, off, lo);
	if (is64)
		pci_write32(VVU_DEVFN, (uint8_t)(off + 4), hi);
	return ~mask + 1;
}

static void place_bars(void)
{
	uint32_t flags;

	if (bar_size(0x10, false, &flags) != 0x8000 || flags != 0)
		fail("BAR0 is not 32 KiB of 32-bit memory");
	if (bar_size(0x18, true, &flags) != 0x4000 || flags != 0x4)
		fail("BAR2 is not 16 KiB of 64-bit memory");
	if (bar_size(0x20, true, &flags) != SHM_SIZE || flags != 0xc)
		fail("BAR4 is not 256 MiB of 64-bit prefetchable memory");
	/* Decoding off while they move, as Linux does. */
	pci_write16(VVU_DEVFN, 0x04, 0x4);
	pci_write32(VVU_DEVFN, 0x18, BAR2_ADDR);
	pci_write32(VVU_DEVFN, 0x1c, 0);
	pci_write32(VVU_DEVFN, 0x20, BAR4_ADDR);
	pci_write32(VVU_DEVFN, 0x24, 0);
	pci_write16(VVU_DEVFN, 0x04, 0x6);
	bar2 = BAR2_ADDR;
	bar4 = BAR4_ADDR;
	guest_ok("bars");
}

static void walk_caps(void)
{
	uintptr_t bar0 = pci_read32(VVU_DEVFN, 0x10) & ~0xfu;

	for (uint8_t p = pci_read8(VVU_DEVFN, 0x34); p; p = pci_read8(VVU_DEVFN, (uint8_t)(p + 1))) {
		uint8_t id = pci_read8(VVU_DEVFN, p), type, bar;
		uint32_t off;

		if (id == 0x11) {
			msix_cap = p;
			msix_table = bar0 + (pci_read32(VVU_DEVFN, (uint8_t)(p + 4)) & ~7u);
			continue;
		}
		if (id != 0x09)
			continue;
		type = pci_read8(VVU_DEVFN, (uint8_t)(p + 3));
		bar = pci_read8(VVU_DEVFN, (uint8_t)(p + 4));
		off = pci_read32(VVU_DEVFN, (uint8_t)(p + 8));
		caps_seen |= 1u << type;
		switch (type) {
		case 1: common = bar0 + off; break;
		case 2:
			notify = bar0 + off;
			notify_mult = pci_read32(VVU_DEVFN, (uint8_t)(p + 16));
			break;
		case 4: devcfg = bar0 + off; break;
		case 6: guest_check(bar == 2 && off == 0, "doorbell capability"); break;
		case 7: guest_check(bar == 2 && off == 0x2000, "notification capability"); break;
		case 8: guest_check(bar == 4, "shared memory capability"); break;
		}
	}
	/* virtio's 1-4, vvu's doorbell 6, notification 7, shared memory 8. */
	if ((caps_seen & 0x1de) != 0x1de || !msix_cap || notify_mult != 4)
		fail("a virtio or vvu capability is missing");
	guest_ok("caps");
}

/* --- MSI-X ---------------------------------------------------------------- */

static void msix_entry(unsigned int i, uint8_t vec)
{
	volatile uint32_t *e = (volatile uint32_t *)(msix_table + 16 * i);

	e[0] = 0xfee00000u;
	e[1] = 0;
	e[2] = vec;
	e[3] = 0;
}

/* --- virtqueues ----------------------------------------------------------- */

static void set64(uintptr_t at, uint64_t v)
{
	R32(at) = (uint32_t)v;
	R32(at + 4) = (uint32_t)(v >> 32);
}

static void queue_setup(uint16_t q, struct vq *vq)
{
	R16(common + C_QSEL) = q;
	if (R16(common + C_QSIZE) < QSIZE)
		fail("queue too small");
	R16(common + C_QSIZE) = QSIZE;
	R16(common + C_QMSIX) = q;
	if (R16(common + C_QMSIX) != q)
		fail("queue vector refused");
	set64(common + C_QDESC, (uintptr_t)vq->desc);
	set64(common + C_QAVAIL, (uintptr_t)&vq->avail);
	set64(common + C_QUSED, (uintptr_t)&vq->used);
	R16(common + C_QENABLE) = 1;
}

static void virtio_setup(void)
{
	R8(common + C_STATUS) = 0;
	R8(common + C_STATUS) = STATUS_ACK | STATUS_DRIVER;
	R32(common + C_DFSEL) = 1;
	if (!(R32(common + C_DF) & 1))
		fail("no VERSION_1");
	R32(common + C_GFSEL) = 1;
	R32(common + C_GF) = 1;
	R8(common + C_STATUS) = STATUS_ACK | STATUS_DRIVER | STATUS_FEAT_OK;
	if (!(R8(common + C_STATUS) & STATUS_FEAT_OK))
		fail("FEATURES_OK refused");
	if (R16(common + C_NUMQ) != 2)
		fail("not 2 queues");
	R16(common + C_MSIX_CFG) = 0xffff;
	queue_setup(0, &rxq);
	queue_setup(1, &txq);
	R8(common + C_STATUS) = STATUS_ACK | STATUS_DRIVER | STATUS_FEAT_OK | STATUS_DRV_OK;
	if (R32(devcfg + 4) != 16)
		fail("max_vhost_queues is not 16");
	guest_ok("virtio");
}

static void queue_notify(uint16_t q)
{
	R16(common + C_QSEL) = q;
	R16(notify + (uintptr_t)R16(common + C_QNOFF) * notify_mult) = q;
}

static void post(struct vq *vq, uint16_t q, uint16_t id, uint32_t len, bool writable)
{
	vq->desc[id] = (struct desc){ (uintptr_t)vq->buf[id], len, writable ? 2 : 0, 0 };
	vq->avail.ring[vq->avail.idx % QSIZE] = id;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->avail.idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	queue_notify(q);
}

/* The next used entry of vq (waits for it); its buffer in *buf. */
static uint32_t take_used(struct vq *vq, uint8_t **buf)
{
	uint32_t id, len;

	for (uint32_t steps = 0; vq->used.idx == vq->last_used; steps++) {
		guest_wait_step();
		if (steps > GUEST_WAIT_STEPS)
			fail("timeout waiting for a used buffer");
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	id = vq->used.ring[vq->last_used % QSIZE].id;
	len = vq->used.ring[vq->last_used % QSIZE].len;
	vq->last_used++;
	if (id >= QSIZE || len > BUF_SIZE)
		fail("bad used entry");
	*buf = vq->buf[id];
	return len | id << 16;
}

/* --- the vhost-user side -------------------------------------------------- */

static uint32_t rd32(const uint8_t *p) { return *(const uint32_t *)p; }
static uint64_t rd64(const uint8_t *p) { return *(const uint64_t *)p; }

/* The next message from the sibling; 0 length: it hung up. */
static uint32_t recv_msg(uint8_t **msg)
{
	return take_used(&rxq, msg) & 0xffff;
}

static void repost(uint8_t *msg)
{
	post(&rxq, 0, (uint16_t)((msg - rxq.buf[0]) / BUF_SIZE), BUF_SIZE, true);
}

/* The next txq buffer, then (tx_send) handed to the device with len bytes. */
static uint16_t tx_next;

static uint8_t *tx_buf(void)
{
	return txq.buf[tx_next % QSIZE];
}

static void tx_send(uint32_t len)
{
	uint8_t *ignored;

	post(&txq, 1, tx_next++ % QSIZE, len, false);
	take_used(&txq, &ignored);
}

static void reply_u64(uint32_t request, uint64_t value)
{
	uint8_t *b = tx_buf();

	((uint32_t *)b)[0] = request;
	((uint32_t *)b)[1] = VU_REPLY_FLAGS;
	((uint32_t *)b)[2] = 8;
	*(uint64_t *)(b + 12) = value;
	tx_send(20);
}

static uint8_t *expect(uint32_t request, const char *what)
{
	uint8_t *m;
	uint32_t len = recv_msg(&m);

	if (len < 12 || rd32(m) != request)
		fail(what);
	return m;
}

static void check_mem_table(void)
{
	uint8_t *m = expect(VU_SET_MEM_TABLE, "SET_MEM_TABLE expected");
	uint64_t size, off;

	if (rd32(m + 12) != 1)
		fail("SET_MEM_TABLE: not one region");
	size = rd64(m + 20 + 8);
	off = rd64(m + 20 + 24);		/* mmap_offset: where it is in BAR4 */
	if (size != 64u << 20 || off >= SHM_SIZE || size > SHM_SIZE - off)
		fail("SET_MEM_TABLE: region not inside BAR4");
	if (R32(bar4 + (uint32_t)off + SIBLING_WORD_AT) != SIBLING_WORD)
		fail("the sibling's memory does not read through BAR4");
	repost(m);
	guest_ok("sibling memory");
}

static void vhost_user_session(void)
{
	uint8_t *m;

	for (uint16_t i = 0; i < QSIZE; i++)
		post(&rxq, 0, i, BUF_SIZE, true);
	m = expect(VU_GET_FEATURES, "GET_FEATURES expected");
	repost(m);
	reply_u64(VU_GET_FEATURES, 1ull << 32 | 1ull << 30);
	check_mem_table();

	m = expect(VU_SET_VRING_KICK, "SET_VRING_KICK expected");
	repost(m);
	R16(bar2 + 0x2000) = 0;			/* notification_select */
	R16(bar2 + 0x2002) = 2;			/* its MSI-X entry */
	if (R16(bar2 + 0x2002) != 2)
		fail("notification vector did not stick");

	m = expect(VU_SET_VRING_CALL, "SET_VRING_CALL expected");
	repost(m);
	m = expect(VU_GET_PROTOCOL_FEATURES, "GET_PROTOCOL_FEATURES expected");
	repost(m);
	reply_u64(VU_GET_PROTOCOL_FEATURES, 1ull << 3);

	/* The sibling kicks queue 0 once it has the reply. */
	while (!kicks)
		guest_wait_irq();
	guest_ok("kick");
	R32(bar2 + 0) = 1;			/* doorbell 0: the sibling's call */

	if (recv_msg(&m) != 0)
		fail("no zero-length rx buffer when the sibling hung up");
	if (R32(devcfg) & 1)
		fail("status still says a sibling is connected");
	guest_ok("disconnect");
	tx_send(0);			/* the end of the session (protocol/vvu.h) */
	guest_ok("end-of-session mark taken");
}

void guest_main(void)
{
	guest_count_irqs(VEC_KICK, &kicks, &other_irqs);
	lapic_enable();
	check_identity();
	place_bars();
	walk_caps();
	for (unsigned int i = 0; i < 2; i++)
		msix_entry(i, VEC_QUEUES);
	msix_entry(2, VEC_KICK);
	pci_write16(VVU_DEVFN, (uint8_t)(msix_cap + 2), 0x8000);
	virtio_setup();
	vhost_user_session();
}
