// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci transport and MSI-X emulation against a real KVM VM fd (for
 * irqfds and ioeventfds) with the test playing the guest through the BAR
 * handler. Skips (77) without /dev/kvm.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/kvm/vm_fixture.h"
#include "vmm/pci.h"
#include "vmm/virtio_pci.h"
#include "vmm/vm.h"

#define NQ		2
#define QMAX		64
#define C(f)		offsetof(struct virtio_pci_common_cfg, f)

static struct vm *vm;
static struct virtio_pci vp;
static int starts, resets;
static uint8_t devcfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void t_config_read(struct virtio_pci *p, uint32_t off, void *buf, uint32_t len)
{
	(void)p;
	memcpy(buf, devcfg + off, len);
}

static int t_start(struct virtio_pci *p)
{
	(void)p;
	starts++;
	return 0;
}

static void t_reset(struct virtio_pci *p)
{
	(void)p;
	resets++;
}

static const struct virtio_dev_ops t_ops = {
	.config_read = t_config_read,
	.start = t_start,
	.reset = t_reset,
};

static uint64_t rd(uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_pci_bar_access(&vp, off, (uint8_t *)&v, len, false);
	return v;
}

static void wr(uint32_t off, uint32_t len, uint64_t v)
{
	virtio_pci_bar_access(&vp, off, (uint8_t *)&v, len, true);
}

static void setup(void)
{
	struct virtio_pci_params p = {
		.name = "test", .device_type = VIRTIO_ID_BLOCK,
		.class_code = 0x0180, .features = VIRTIO_BIT(9),
		.config_size = sizeof(devcfg), .nqueues = NQ,
		.queue_max_size = QMAX, .ops = &t_ops,
	};

	vm = fixture_vm_create();
	ck_assert_ptr_nonnull(vm);
	ck_assert_int_eq(virtio_pci_init(&vp, vm, &p), 0);
	ck_assert_int_ge(virtio_pci_add(&vp, -1), 0);
	starts = resets = 0;
}

static void teardown(void)
{
	virtio_pci_destroy(&vp);
	fixture_vm_destroy(vm);
}

/* Returns the config offset of the virtio cap of type t (or MSI-X for 0x11). */
static int find_cap(uint8_t id, uint8_t type)
{
	for (int p = vp.pdev.cfg[0x34]; p; p = vp.pdev.cfg[p + 1]) {
		if (vp.pdev.cfg[p] == id && (id != 9 || vp.pdev.cfg[p + 3] == type))
			return p;
	}
	return -1;
}

START_TEST(identity_and_caps)
{
	struct virtio_pci_cap c;
	uint32_t mult;
	int p;

	ck_assert_int_eq(vp.pdev.cfg[0] | vp.pdev.cfg[1] << 8, 0x1af4);
	ck_assert_int_eq(vp.pdev.cfg[2] | vp.pdev.cfg[3] << 8, 0x1042);
	ck_assert_int_eq(vp.pdev.cfg[8], 1);
	p = find_cap(9, VIRTIO_PCI_CAP_COMMON_CFG);
	ck_assert_int_gt(p, 0);
	memcpy(&c, &vp.pdev.cfg[p], sizeof(c));
	ck_assert_int_eq(c.bar, 0);
	ck_assert_int_eq(c.offset, VIRTIO_PCI_COMMON_OFF);
	ck_assert_int_eq(c.length, sizeof(struct virtio_pci_common_cfg));
	p = find_cap(9, VIRTIO_PCI_CAP_NOTIFY_CFG);
	ck_assert_int_gt(p, 0);
	memcpy(&c, &vp.pdev.cfg[p], sizeof(c));
	memcpy(&mult, &vp.pdev.cfg[p + 16], 4);
	ck_assert_int_eq(c.cap_len, 20);
	ck_assert_int_eq(mult, 4);
	ck_assert_int_eq(c.length, 4 * NQ);
	ck_assert_int_gt(find_cap(9, VIRTIO_PCI_CAP_ISR_CFG), 0);
	ck_assert_int_gt(find_cap(9, VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	p = find_cap(0x11, 0);
	ck_assert_int_gt(p, 0);
	ck_assert_int_eq((vp.pdev.cfg[p + 2] | vp.pdev.cfg[p + 3] << 8) & 0x7ff, NQ);
	ck_assert_int_eq(vp.pdev.cfg_wmask[p + 3], 0xc0);
}
END_TEST

START_TEST(features_and_status)
{
	wr(C(device_feature_select), 4, 0);
	ck_assert_uint_eq(rd(C(device_feature), 4), 1u << 9);
	wr(C(device_feature_select), 4, 1);
	ck_assert_uint_eq(rd(C(device_feature), 4), 1);	/* VERSION_1 */
	wr(C(device_feature_select), 4, 7);
	ck_assert_uint_eq(rd(C(device_feature), 4), 0);
	ck_assert_uint_eq(rd(C(num_queues), 2), NQ);

	/* Without VERSION_1, FEATURES_OK does not stick. */
	wr(C(device_status), 1, 1 | 2 | 8);
	ck_assert_uint_eq(rd(C(device_status), 1), 3);
	/* Unoffered bits: refused too. */
	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, 1);
	wr(C(driver_feature_select), 4, 0);
	wr(C(driver_feature), 4, 1u << 10);
	wr(C(device_status), 1, 1 | 2 | 8);
	ck_assert_uint_eq(rd(C(device_status), 1), 3);
	wr(C(driver_feature), 4, 1u << 9);
	wr(C(device_status), 1, 1 | 2 | 8);
	ck_assert_uint_eq(rd(C(device_status), 1), 11);
	ck_assert_uint_eq(vp.model.driver_features, (1ull << 32) | (1u << 9));
	/* Frozen after FEATURES_OK. */
	wr(C(driver_feature), 4, 0);
	ck_assert_uint_eq(vp.model.driver_features, (1ull << 32) | (1u << 9));
	wr(C(device_status), 1, 15);
	ck_assert_int_eq(starts, 1);
	wr(C(device_status), 1, 0);
	ck_assert_int_eq(resets, 1);
	ck_assert_uint_eq(rd(C(device_status), 1), 0);
	ck_assert_uint_eq(vp.model.driver_features, 0);
}
END_TEST

static void command_write(uint16_t cmd)
{
	pci_config_write(vm->pci, (unsigned int)vp.pdev.slot << 3, PCI_COMMAND,
			 (uint8_t *)&cmd, 2);
}

/* Bus mastering off stops a running device until the driver resets it. */
START_TEST(bus_master_off_stops)
{
	const uint8_t running = 1 | 2 | 8 | 4;

	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, 1);
	/* A driver that never set bus mastering loses nothing by a write. */
	wr(C(device_status), 1, running);
	ck_assert_int_eq(starts, 1);
	command_write(PCI_COMMAND_MEMORY);
	ck_assert_int_eq(resets, 0);
	wr(C(device_status), 1, 0);
	ck_assert_int_eq(resets, 1);
	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, 1);

	/* Only turning it off (1 -> 0) stops the device. */
	command_write(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	wr(C(device_status), 1, running);
	ck_assert_int_eq(starts, 2);
	command_write(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_int_eq(resets, 1);
	command_write(PCI_COMMAND_MEMORY);
	ck_assert_int_eq(resets, 2);
	ck_assert_uint_eq(rd(C(device_status), 1),
			  (running & ~4) | VIRTIO_CONFIG_S_NEEDS_RESET);
	/* DRIVER_OK again is refused (and starts nothing) until a reset. */
	command_write(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	wr(C(device_status), 1, running);
	ck_assert_int_eq(starts, 2);
	ck_assert_uint_eq(rd(C(device_status), 1) & 4, 0);
	wr(C(device_status), 1, 0);
	ck_assert_int_eq(resets, 2);		/* it was not running */
	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, 1);
	wr(C(device_status), 1, running);
	ck_assert_int_eq(starts, 3);
	ck_assert_uint_eq(rd(C(device_status), 1), running);
}
END_TEST

START_TEST(driver_ok_needs_features_ok)
{
	wr(C(device_status), 1, 1 | 2 | 4);
	ck_assert_uint_eq(rd(C(device_status), 1), 3);
	ck_assert_int_eq(starts, 0);
}
END_TEST

static void setup_queue(uint16_t q, uint16_t size, uint64_t desc)
{
	wr(C(queue_select), 2, q);
	wr(C(queue_size), 2, size);
	wr(C(queue_desc_lo), 4, desc);
	wr(C(queue_desc_hi), 4, desc >> 32);
	wr(C(queue_driver_lo), 4, 0x20000);
	wr(C(queue_device_lo), 4, 0x30000);
	wr(C(queue_enable), 2, 1);
}

START_TEST(queues)
{
	ck_assert_uint_eq(rd(C(queue_size), 2), QMAX);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	wr(C(queue_select), 2, NQ);		/* absent queue reads size 0 */
	ck_assert_uint_eq(rd(C(queue_size), 2), 0);
	wr(C(queue_size), 2, 8);
	ck_assert_uint_eq(rd(C(queue_size), 2), 0);

	setup_queue(0, 12, 0x10000);		/* not a power of two */
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	setup_queue(0, 128, 0x10000);		/* above the maximum */
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	setup_queue(0, 16, 0x10008);		/* misaligned */
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	setup_queue(0, 16, (FIXTURE_RAM_MIB << 20) - 16);	/* runs off RAM */
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	setup_queue(0, 16, 0xffffffff00000000ull);
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	setup_queue(0, 16, 0x10000);
	ck_assert_uint_eq(rd(C(queue_enable), 2), 1);
	ck_assert_uint_eq(rd(C(queue_notify_off), 2), 0);
	/* Layout of an enabled queue is frozen. */
	wr(C(queue_desc_lo), 4, 0x40000);
	ck_assert_uint_eq(rd(C(queue_desc_lo), 4), 0x10000);
	/* Vectors beyond the table read back as NO_VECTOR. */
	wr(C(queue_msix_vector), 2, NQ + 1);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	wr(C(queue_msix_vector), 2, NQ);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), NQ);
	wr(C(config_msix_vector), 2, 99);
	ck_assert_uint_eq(rd(C(config_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);

	/* Wrong widths are ignored. */
	wr(C(queue_select), 4, 1);
	ck_assert_uint_eq(rd(C(queue_select), 2), 0);
	ck_assert_uint_eq(rd(C(queue_select) + 1, 1), 0);

	wr(C(device_status), 1, 0);
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

START_TEST(devcfg_and_isr)
{
	ck_assert_uint_eq(rd(VIRTIO_PCI_DEVCFG_OFF + 4, 4), 0x08070605);
	ck_assert_uint_eq(rd(VIRTIO_PCI_DEVCFG_OFF + 6, 4), 0);	/* crosses the end */
	ck_assert_uint_eq(rd(VIRTIO_PCI_DEVCFG_OFF + 0x800, 1), 0);
	pthread_mutex_lock(&vp.lock);
	virtio_pci_config_changed(&vp);
	pthread_mutex_unlock(&vp.lock);
	ck_assert_uint_eq(rd(C(config_generation), 1), 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	ck_assert_uint_eq(rd(VIRTIO_PCI_ISR_OFF, 1), 0);	/* read clears */
}
END_TEST

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

START_TEST(doorbells)
{
	uint64_t bar = vp.pdev.bars[0].addr;

	/* Decoding is off after reset: no doorbell yet. */
	ck_assert_uint_eq(vp.queues[0].ioeventfd_addr, 0);
	fixture_pci_enable(vm, &vp.pdev);
	ck_assert(vp.pdev.bars[0].mapped);
	for (unsigned int q = 0; q < NQ; q++)
		ck_assert_uint_eq(vp.queues[q].ioeventfd_addr,
				  bar + VIRTIO_PCI_NOTIFY_OFF + 4 * q);
	/* A write the ioeventfd did not catch still kicks. */
	wr(VIRTIO_PCI_NOTIFY_OFF + 4, 2, 1);
	ck_assert(readable(vp.queues[1].kick_fd));
	ck_assert(!readable(vp.queues[0].kick_fd));
	drain(vp.queues[1].kick_fd);
	wr(VIRTIO_PCI_NOTIFY_OFF + 4 * NQ, 2, 0);	/* no such queue */
	/* The BAR moves: so do the ioeventfds. */
	vp.pdev.ops->bar_moved(&vp.pdev, 0, 0xd0000000u, true);
	ck_assert_uint_eq(vp.queues[1].ioeventfd_addr,
			  0xd0000000u + VIRTIO_PCI_NOTIFY_OFF + 4);
	vp.pdev.ops->bar_moved(&vp.pdev, 0, 0xd0000000u, false);
	ck_assert_uint_eq(vp.queues[1].ioeventfd_addr, 0);
}
END_TEST

#define TBL(v, w)	(VIRTIO_PCI_MSIX_TABLE_OFF + 16 * (v) + 4 * (w))

static void msix_ctrl(uint16_t ctrl)
{
	int p = find_cap(0x11, 0);
	uint16_t old;

	memcpy(&old, &vp.pdev.cfg[p + 2], 2);
	old = (uint16_t)((old & 0x3fff) | ctrl);
	memcpy(&vp.pdev.cfg[p + 2], &old, 2);
	vp.pdev.ops->cfg_write(&vp.pdev, (uint32_t)p + 2, 2);
}

START_TEST(msix_table)
{
	struct msix_vector *v0 = &vp.msix.vec[0];
	uint64_t addr;
	uint32_t data;

	for (unsigned int v = 0; v <= NQ; v++)
		ck_assert_uint_eq(rd(TBL(v, 3), 4), 1);	/* masked at reset */
	wr(TBL(0, 0), 4, 0xfee00000);
	wr(TBL(0, 2), 4, 0x41);
	ck_assert_uint_eq(rd(TBL(0, 0), 8), 0xfee00000);
	ck_assert_uint_eq(rd(TBL(0, 2), 4), 0x41);
	wr(TBL(0, 3), 4, 0xfffffffe);		/* reserved bits stay 0 */
	ck_assert_uint_eq(rd(TBL(0, 3), 4), 0);
	ck_assert(!v0->irqfd);			/* MSI-X still disabled */
	ck_assert_uint_eq(rd(TBL(NQ + 1, 0), 4), 0);	/* past the table */
	ck_assert_uint_eq(rd(TBL(0, 0) + 2, 2), 0);	/* bad width */

	msix_ctrl(MSIX_CTRL_ENABLE);
	ck_assert(v0->irqfd);
	ck_assert(fixture_msi_route(vm, (uint32_t)v0->gsi, &addr, &data));
	ck_assert_uint_eq(addr, 0xfee00000);
	ck_assert_uint_eq(data, 0x41);
	/* Retargeting a live vector moves its route. */
	wr(TBL(0, 2), 4, 0x42);
	ck_assert(fixture_msi_route(vm, (uint32_t)v0->gsi, &addr, &data));
	ck_assert_uint_eq(data, 0x42);
	msix_ctrl(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	ck_assert(!v0->irqfd);
	msix_ctrl(MSIX_CTRL_ENABLE);
	ck_assert(v0->irqfd);
}
END_TEST

START_TEST(msix_pending)
{
	wr(TBL(1, 0), 4, 0xfee00000);
	wr(TBL(1, 2), 4, 0x43);
	msix_ctrl(MSIX_CTRL_ENABLE);
	ck_assert_uint_eq(rd(VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
	/* Masked: the signal waits and the PBA shows it. */
	msix_notify(&vp.msix, 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_MSIX_PBA_OFF, 8), 2);
	ck_assert_uint_eq(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 2);
	/* Unmasked: KVM takes it (the irqfd is assigned) and the bit clears. */
	wr(TBL(1, 3), 4, 0);
	ck_assert(vp.msix.vec[1].irqfd);
	ck_assert_uint_eq(rd(VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
	/* A new fd (the vvu-proxy case) is bound in place. */
	ck_assert_int_eq(msix_set_vector_fd(&vp.msix, 1, dup(vp.msix.vec[1].efd)), 0);
	ck_assert(vp.msix.vec[1].irqfd);
	ck_assert_int_eq(virtio_pci_queue_irqfd(&vp, 0), -1);
	wr(C(queue_msix_vector), 2, 1);
	ck_assert_int_eq(virtio_pci_queue_irqfd(&vp, 0), vp.msix.vec[1].efd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_pci");
	TCase *tc = tcase_create("transport");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_and_caps);
	tcase_add_test(tc, features_and_status);
	tcase_add_test(tc, driver_ok_needs_features_ok);
	tcase_add_test(tc, bus_master_off_stops);
	tcase_add_test(tc, queues);
	tcase_add_test(tc, devcfg_and_isr);
	tcase_add_test(tc, doorbells);
	tcase_add_test(tc, msix_table);
	tcase_add_test(tc, msix_pending);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_init("test_virtio_pci", LOG_LVL_ERR);
	return fixture_run_suite(suite());
}
