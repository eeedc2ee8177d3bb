// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmm/remote_pci.c on a real VM with a fake vvu-proxyd (fake_proxyd.c) in
 * the test process: the handshake builds the function DEVICE describes,
 * config and BAR accesses cross access channel 0 (the test is no vCPU
 * thread), SHM_MAP becomes a memory slot that follows its BAR, ioeventfds
 * follow it too (KVM refuses a duplicate: EEXIST shows where one is),
 * irqfds fire MSI-X vectors with masking and the PBA, and a peer that
 * breaks the protocol, closes or hangs leaves a dead device that reads all
 * ones, without a leaked fd, slot or ioeventfd.
 */
#include <check.h>
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/devchan.h"
#include "tests/kvm/fake_proxyd.h"
#include "tests/kvm/vm_fixture.h"
#include "tests/unit/devchan_vvu.h"
#include "tests/unit/test_fds.h"
#include "vmm/pci.h"
#include "vmm/remote_pci.h"
#include "vmm/vm.h"

#define SLOT		5
#define DEVFN		(SLOT << 3)
#define MSIX_CAP	(0x40 + 60)	/* after the 60 bytes of vendor caps */
#define SHM_SIZE	(1u << 20)
#define MSI_ADDR	0xfee00000u

static struct vm *vm;
static struct fake_proxyd fake;
static struct remote_pci *rp;
static int fds_before;

static void setup(void)
{
	struct devchan_device d;

	vm = fixture_vm_create();
	ck_assert_ptr_nonnull(vm);
	fds_before = count_open_fds();
	devchan_vvu_device(&d, SHM_SIZE);
	fake_init(&fake, &d);
	fake_handshake_start(&fake);
	rp = remote_pci_create(vm, "remote-test", fake.vmm_end, SLOT);
	ck_assert_ptr_nonnull(rp);
	fake_handshake_end(&fake);
}

static void teardown(void)
{
	remote_pci_destroy(rp);
	fake_destroy(&fake);
	/* Every fd the vmm got or made for the device is closed again. */
	ck_assert_int_eq(count_open_fds(), fds_before);
	fixture_vm_destroy(vm);
}

static uint32_t cfg_rd(uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	pci_config_read(vm->pci, DEVFN, off, (uint8_t *)&v, len);
	return v;
}

static void cfg_wr(uint32_t off, uint32_t len, uint32_t v)
{
	pci_config_write(vm->pci, DEVFN, off, (uint8_t *)&v, len);
}

static uint64_t bar_addr(int n)
{
	return remote_pci_pdev(rp)->bars[n].addr;
}

static uint64_t mmio_rd(uint64_t addr, uint32_t len)
{
	uint64_t v = 0;

	io_bus_dispatch(&vm->mmio, addr, (uint8_t *)&v, len, false);
	return v;
}

static void mmio_wr(uint64_t addr, uint32_t len, uint64_t v)
{
	io_bus_dispatch(&vm->mmio, addr, (uint8_t *)&v, len, true);
}

/* The guest turns memory decoding (and bus mastering) on or off. */
static void decode(bool on)
{
	cfg_wr(PCI_COMMAND, 2, on ? PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER : 0);
}

START_TEST(handshake_builds_function)
{
	ck_assert_uint_eq(fake.nr_channels, 1);
	ck_assert_uint_eq(fake.nram, 1);
	ck_assert_uint_eq(fake.ram[0].gpa, 0);
	ck_assert_uint_eq(fake.ram[0].size, FIXTURE_RAM_MIB << 20);
	ck_assert_uint_eq(cfg_rd(0, 4), 0x107d1af4);
	ck_assert_uint_eq(cfg_rd(0x2c, 4), 0x107d1af4);
	ck_assert_uint_eq(cfg_rd(8, 4), 0x00ff0001);	/* class 00, subclass ff, rev 1 */
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);

	/* BAR sizing: all ones in, size mask and type bits out. */
	cfg_wr(0x10, 4, ~0u);
	ck_assert_uint_eq(cfg_rd(0x10, 4), ~0x7fffu & ~0xfu);
	cfg_wr(0x18, 4, ~0u);
	cfg_wr(0x1c, 4, ~0u);
	ck_assert_uint_eq(cfg_rd(0x18, 4), (~0x3fffu & ~0xfu) | 0x4);
	ck_assert_uint_eq(cfg_rd(0x1c, 4), ~0u);
	cfg_wr(0x20, 4, ~0u);
	ck_assert_uint_eq(cfg_rd(0x20, 4), (~0xfffffu & ~0xfu) | 0xc);
	ck_assert_uint_eq(cfg_rd(0x14, 4), 0);

	/* The capabilities, linked by the vmm whatever the peer says. */
	ck_assert_uint_eq(cfg_rd(PCI_CAPABILITY_LIST, 1), 0x40);
	ck_assert_uint_eq(cfg_rd(0x40, 4), 0x06145409);	/* id 9, next 0x54, len 20, type 6 */
	ck_assert_uint_eq(cfg_rd(0x44, 1), 2);		/* bar */
	ck_assert_uint_eq(cfg_rd(0x54, 4), 0x07106409);
	ck_assert_uint_eq(cfg_rd(0x64, 4), 0x08180009 | MSIX_CAP << 8);
	ck_assert_uint_eq(cfg_rd(0x68, 1), 4);
	ck_assert_uint_eq(cfg_rd(MSIX_CAP, 4), 18u << 16 | 0x11);	/* 19 vectors, last */
	ck_assert_uint_eq(cfg_rd(MSIX_CAP + 4, 4), 0x6000);
	ck_assert_uint_eq(cfg_rd(MSIX_CAP + 8, 4), 0x7000);
	ck_assert_uint_eq(cfg_rd(0xfc, 4), 0);
}
END_TEST

START_TEST(accesses_cross_channel)
{
	struct devchan_access log[FAKE_LOG_MAX];
	unsigned int n;
	uint64_t b0, b2;

	decode(true);
	b0 = bar_addr(0);
	b2 = bar_addr(2);
	ck_assert_uint_eq(mmio_rd(b0 + 0x10, 4), fake_bar_value(0x10, 4));
	ck_assert_uint_eq(mmio_rd(b2 + 0x2008, 8), fake_bar_value(0x2008, 8));
	mmio_wr(b2 + 0x2000, 2, 0xbeef);
	cfg_wr(0x48, 4, 0x12345678);
	ck_assert_uint_eq(mmio_rd(b0 + 0x3001, 1), fake_bar_value(0x3001, 1));
	/* The MSI-X table is the vmm's. */
	mmio_wr(b0 + 0x6000 + 16, 4, MSI_ADDR);
	ck_assert_uint_eq(mmio_rd(b0 + 0x6000 + 16, 4), MSI_ADDR);

	n = fake_take_log(&fake, log);
	ck_assert_uint_eq(n, 6);
	/* The Command write, posted. */
	ck_assert(log[0].write && !log[0].resp);
	ck_assert_uint_eq(log[0].region, DEVCHAN_REGION_CONFIG);
	ck_assert_uint_eq(log[0].offset, PCI_COMMAND);
	ck_assert_uint_eq(log[0].size, 2);
	ck_assert_uint_eq(log[0].data, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert(!log[1].write && log[1].resp);
	ck_assert_uint_eq(log[1].region, 0);
	ck_assert_uint_eq(log[1].offset, 0x10);
	ck_assert_uint_eq(log[1].size, 4);
	ck_assert_uint_eq(log[2].region, 2);
	ck_assert_uint_eq(log[2].offset, 0x2008);
	ck_assert_uint_eq(log[2].size, 8);
	ck_assert(log[3].write && !log[3].resp);
	ck_assert_uint_eq(log[3].region, 2);
	ck_assert_uint_eq(log[3].offset, 0x2000);
	ck_assert_uint_eq(log[3].data, 0xbeef);
	ck_assert(log[4].write);
	ck_assert_uint_eq(log[4].region, DEVCHAN_REGION_CONFIG);
	ck_assert_uint_eq(log[4].offset, 0x48);
	ck_assert_uint_eq(log[4].data, 0x12345678);
	ck_assert_uint_eq(log[5].offset, 0x3001);
	ck_assert_uint_eq(log[5].size, 1);
	/* Header reads are the vmm's: nothing crosses. */
	cfg_rd(0, 4);
	ck_assert_uint_eq(fake_take_log(&fake, log), 0);
	ck_assert(!remote_pci_dead(rp));
}
END_TEST

static int memfd_of(uint64_t size)
{
	int fd = memfd_create("test-shm", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* True if KVM has a memory slot at gpa: it refuses another one there. */
static bool occupied(uint64_t gpa)
{
	int fd = memfd_of(0x1000), id;

	id = memslot_add(vm, fd, 0, 0x1000, gpa, true, false);
	close(fd);
	if (id < 0)
		return true;
	ck_assert_int_eq(memslot_remove(vm, id), 0);
	return false;
}

static int shm_map(uint32_t slot, uint8_t bar, uint64_t off, uint64_t size)
{
	struct devchan_shm_map map = { .slot = slot, .bar = bar, .bar_offset = off,
				       .size = size };
	struct devchan_msg m;
	int fd = memfd_of(size), r;

	devchan_build_shm_map(&m, 0, &map, fd);
	r = fake_request(&fake, &m, vm->evbase);
	close(fd);
	return r;
}

static int del(uint32_t type, uint32_t id)
{
	struct devchan_msg m;

	devchan_msg_init(&m, type, 0);
	m.payload.del.id = id;
	return fake_request(&fake, &m, vm->evbase);
}

START_TEST(shm_slot_follows_bar)
{
	uint64_t b4 = bar_addr(4), moved = b4 + (4 << 20);

	ck_assert_int_eq(shm_map(3, 4, 0x10000, 0x10000), 0);
	ck_assert(!occupied(b4 + 0x10000));	/* decoding is off */
	decode(true);
	ck_assert(occupied(b4 + 0x10000));
	ck_assert(occupied(b4 + 0x1f000));
	ck_assert(!occupied(b4 + 0x20000));
	ck_assert_int_eq(shm_map(3, 4, 0x40000, 0x1000), EEXIST);
	ck_assert_int_eq(shm_map(4, 4, 0x1f000, 0x2000), EBUSY);
	ck_assert_int_eq(shm_map(4, 4, 0x20000, 0x1000), 0);

	/* The guest moves BAR4: the slots go with it. */
	cfg_wr(0x20, 4, (uint32_t)moved | 0xc);
	cfg_wr(0x24, 4, (uint32_t)(moved >> 32));
	ck_assert(!occupied(b4 + 0x10000));
	ck_assert(occupied(moved + 0x10000));
	ck_assert(occupied(moved + 0x20000));
	decode(false);
	ck_assert(!occupied(moved + 0x10000));
	decode(true);
	ck_assert(occupied(moved + 0x10000));

	ck_assert_int_eq(del(DEVCHAN_MSG_SHM_UNMAP, 3), 0);
	ck_assert(!occupied(moved + 0x10000));
	ck_assert_int_eq(del(DEVCHAN_MSG_SHM_UNMAP, 3), ENOENT);
	/* Slot 4 stays until teardown, which must remove it. */
}
END_TEST

static int ioeventfd_add(uint32_t id, uint8_t bar, uint64_t off, int efd)
{
	struct devchan_ioeventfd_add a = { .id = id, .bar = bar, .len = 4, .offset = off };
	struct devchan_msg m;

	devchan_build_ioeventfd_add(&m, 0, &a, efd);
	return fake_request(&fake, &m, vm->evbase);
}

/* True if KVM has a 4-byte ioeventfd at addr: it refuses a duplicate. */
static bool ioeventfd_at(uint64_t addr)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct kvm_ioeventfd io = { .addr = addr, .len = 4, .fd = efd };
	bool taken = ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0;

	ck_assert(!taken || errno == EEXIST);
	if (!taken) {
		io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		ck_assert_int_eq(ioctl(vm->vm_fd, KVM_IOEVENTFD, &io), 0);
	}
	close(efd);
	return taken;
}

START_TEST(ioeventfd_follows_bar)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t b2 = bar_addr(2), moved = b2 + (4 << 20);

	ck_assert_int_eq(ioeventfd_add(7, 2, 0x100, efd), 0);
	ck_assert(!ioeventfd_at(b2 + 0x100));
	decode(true);
	ck_assert(ioeventfd_at(b2 + 0x100));
	ck_assert_int_eq(ioeventfd_add(7, 2, 0x200, efd), EEXIST);
	/* Where KVM has one already. */
	ck_assert_int_eq(ioeventfd_add(8, 2, 0x100, efd), EEXIST);
	cfg_wr(0x18, 4, (uint32_t)moved | 0x4);
	cfg_wr(0x1c, 4, (uint32_t)(moved >> 32));
	ck_assert(!ioeventfd_at(b2 + 0x100));
	ck_assert(ioeventfd_at(moved + 0x100));
	ck_assert_int_eq(del(DEVCHAN_MSG_IOEVENTFD_DEL, 7), 0);
	ck_assert(!ioeventfd_at(moved + 0x100));
	ck_assert_int_eq(del(DEVCHAN_MSG_IOEVENTFD_DEL, 7), ENOENT);
	ck_assert_int_eq(ioeventfd_add(9, 2, 0x300, efd), 0);	/* left for teardown */
	close(efd);
}
END_TEST

static int irqfd_add(uint32_t id, uint16_t vector, int efd)
{
	struct devchan_msg m;

	devchan_build_irqfd_add(&m, 0, id, vector, efd);
	return fake_request(&fake, &m, vm->evbase);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void vector_mask(uint64_t b0, unsigned int v, bool masked)
{
	mmio_wr(b0 + 0x6000 + 16 * v + 12, 4, masked);
}

START_TEST(irqfd_masking_and_pba)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t b0;

	decode(true);
	b0 = bar_addr(0);
	cfg_wr(MSIX_CAP + 2, 2, 0x8000);	/* MSI-X enable */
	mmio_wr(b0 + 0x6000 + 32, 4, MSI_ADDR);
	mmio_wr(b0 + 0x6000 + 40, 4, 0x31);
	ck_assert_int_eq(irqfd_add(1, 2, efd), 0);
	ck_assert_int_eq(irqfd_add(1, 3, efd), EEXIST);

	/* Masked: the eventfd counts, and that is the pending bit. */
	ck_assert_int_eq(eventfd_write(efd, 1), 0);
	ck_assert_uint_eq(mmio_rd(b0 + 0x7000, 4), 1u << 2);
	/* Unmasked: KVM injects what was pending, and takes every signal. */
	vector_mask(b0, 2, false);
	ck_assert_uint_eq(mmio_rd(b0 + 0x7000, 4), 0);
	ck_assert_int_eq(eventfd_write(efd, 1), 0);
	ck_assert(!readable(efd));
	/* The function mask masks it again. */
	cfg_wr(MSIX_CAP + 2, 2, 0xc000);
	ck_assert_int_eq(eventfd_write(efd, 1), 0);
	ck_assert_uint_eq(mmio_rd(b0 + 0x7000, 8), 1u << 2);
	cfg_wr(MSIX_CAP + 2, 2, 0x8000);
	ck_assert_uint_eq(mmio_rd(b0 + 0x7000, 8), 0);
	ck_assert_int_eq(eventfd_write(efd, 1), 0);
	ck_assert(!readable(efd));

	ck_assert_int_eq(del(DEVCHAN_MSG_IRQFD_DEL, 1), 0);
	ck_assert_int_eq(del(DEVCHAN_MSG_IRQFD_DEL, 1), ENOENT);
	ck_assert_int_eq(eventfd_write(efd, 1), 0);
	ck_assert(readable(efd));
	ck_assert_int_eq(irqfd_add(2, 18, efd), 0);	/* left for teardown */
	close(efd);
}
END_TEST

/* A dead device: all ones, writes dropped, nothing crosses. */
static void assert_dead(void)
{
	struct devchan_access log[FAKE_LOG_MAX];

	ck_assert(remote_pci_dead(rp));
	fake_take_log(&fake, log);
	ck_assert_uint_eq(cfg_rd(0, 4), ~0u);
	ck_assert_uint_eq(cfg_rd(0x40, 4), ~0u);
	ck_assert_uint_eq(mmio_rd(bar_addr(0) + 0x10, 4), 0xffffffffu);
	ck_assert_uint_eq(mmio_rd(bar_addr(0) + 0x6000, 4), 0xffffffffu);
	mmio_wr(bar_addr(0) + 0x10, 4, 1);
	ck_assert_uint_eq(fake_take_log(&fake, log), 0);
}

START_TEST(bad_message_kills_device)
{
	uint64_t b4;
	struct devchan_shm_map map = { .slot = 1, .bar = 0, .size = 0x1000 };
	struct devchan_msg m;
	const char *why;
	int fd = memfd_of(0x1000);

	decode(true);
	b4 = bar_addr(4);
	ck_assert_int_eq(shm_map(0, 4, 0, 0x1000), 0);
	ck_assert(occupied(b4));
	/* SHM_MAP into a REMOTE BAR: the codec takes it, the device check does not. */
	devchan_build_shm_map(&m, 99, &map, fd);
	ck_assert_int_eq(devchan_send(fake.ctrl, &m, DEVCHAN_FROM_PROXYD, &why), 0);
	close(fd);
	ck_assert(fake_sees_close(&fake, vm->evbase));
	assert_dead();
	ck_assert(!occupied(b4));
}
END_TEST

START_TEST(unsolicited_reply_kills_device)
{
	struct devchan_msg m;
	const char *why;

	devchan_build_reply(&m, 42, 0);
	ck_assert_int_eq(devchan_send(fake.ctrl, &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert(fake_sees_close(&fake, vm->evbase));
	assert_dead();
}
END_TEST

START_TEST(closed_channel_kills_device)
{
	decode(true);
	close(fake.ctrl);
	fake.ctrl = -1;
	for (int i = 0; i < 20 && !remote_pci_dead(rp); i++)
		fixture_vm_poll(vm, 10);
	assert_dead();
}
END_TEST

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(hung_peer_times_out)
{
	double t;

	decode(true);
	fake_set_silent(&fake, true);
	t = now();
	ck_assert_uint_eq(mmio_rd(bar_addr(0) + 0x10, 4), 0xffffffffu);
	t = now() - t;
	ck_assert_msg(t > 0.5 && t < 3, "the read took %.2f s", t);
	fixture_vm_poll(vm, 10);
	t = now();
	assert_dead();
	ck_assert_msg(now() - t < 0.5, "a dead device still waits");
	ck_assert(fake_sees_close(&fake, vm->evbase));
}
END_TEST

/* A peer that answers HELLO with something else: no device, nothing leaked. */
START_TEST(handshake_refused)
{
	struct fake_proxyd f;
	struct devchan_device d;
	struct devchan_msg m;
	const char *why;
	int before = count_open_fds();

	devchan_vvu_device(&d, SHM_SIZE);
	fake_init(&f, &d);
	devchan_build_reply(&m, 1, EPROTONOSUPPORT);
	ck_assert_int_eq(devchan_send(f.ctrl, &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_ptr_null(remote_pci_create(vm, "refused", f.vmm_end, -1));
	fake_destroy(&f);
	ck_assert_int_eq(count_open_fds(), before);
	ck_assert_ptr_null(fixture_pci_dev(vm, 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("remote_pci");
	TCase *tc = tcase_create("remote_pci");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, handshake_builds_function);
	tcase_add_test(tc, accesses_cross_channel);
	tcase_add_test(tc, shm_slot_follows_bar);
	tcase_add_test(tc, ioeventfd_follows_bar);
	tcase_add_test(tc, irqfd_masking_and_pba);
	tcase_add_test(tc, bad_message_kills_device);
	tcase_add_test(tc, unsolicited_reply_kills_device);
	tcase_add_test(tc, closed_channel_kills_device);
	tcase_add_test(tc, hung_peer_times_out);
	tcase_add_test(tc, handshake_refused);
	suite_add_tcase(s, tc);
	return fixture_run_suite(s);
}
