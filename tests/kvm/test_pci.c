// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI bus and the GSI routing table on the vmm's own VM core: config
 * space write masks and BAR sizing through pci_config_*, BAR allocation at
 * the ends of the windows (no wrap-around), the capability list filling up
 * without touching the header, and MSI GSIs given back with their routes.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "tests/kvm/vm_fixture.h"
#include "vmm/irq.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

static struct vm *vm;

static void setup(void)
{
	vm = fixture_vm_create();
	ck_assert_ptr_nonnull(vm);
}

static void teardown(void)
{
	fixture_vm_destroy(vm);
}

static uint32_t cfg_read32(const struct pci_dev *dev, uint32_t off)
{
	uint32_t v;

	pci_config_read(vm->pci, (unsigned int)dev->slot << 3, off, (uint8_t *)&v, 4);
	return v;
}

static void cfg_write32(const struct pci_dev *dev, uint32_t off, uint32_t v)
{
	pci_config_write(vm->pci, (unsigned int)dev->slot << 3, off, (uint8_t *)&v, 4);
}

START_TEST(bar_sizing_and_masks)
{
	struct pci_dev dev;

	pci_dev_init(&dev, "t", 0x1af4, 0x1234, 0xff, 0, 0, 1);
	pci_dev_set_bar(&dev, 0, PCI_BAR_MEM32, false, 0x8000, NULL, NULL);
	pci_dev_set_bar(&dev, 2, PCI_BAR_MEM64, true, 1ull << 33, NULL, NULL);
	ck_assert_int_eq(pci_bus_add(vm->pci, &dev, 5), 5);
	cfg_write32(&dev, PCI_BASE_ADDRESS_0, 0xffffffff);
	ck_assert_uint_eq(cfg_read32(&dev, PCI_BASE_ADDRESS_0), 0xffff8000);
	cfg_write32(&dev, PCI_BASE_ADDRESS_0 + 8, 0xffffffff);
	cfg_write32(&dev, PCI_BASE_ADDRESS_0 + 12, 0xffffffff);
	ck_assert_uint_eq(cfg_read32(&dev, PCI_BASE_ADDRESS_0 + 8), 0x0000000c);
	ck_assert_uint_eq(cfg_read32(&dev, PCI_BASE_ADDRESS_0 + 12), 0xfffffffe);
	/* Identity is read-only; so is the header type. */
	cfg_write32(&dev, PCI_VENDOR_ID, 0);
	ck_assert_uint_eq(cfg_read32(&dev, PCI_VENDOR_ID), 0x12341af4);
	pci_bus_remove(vm->pci, &dev);
	ck_assert_int_eq(dev.slot, -1);
	dev.slot = 5;		/* where it was: nothing answers there now */
	ck_assert_uint_eq(cfg_read32(&dev, PCI_VENDOR_ID), 0xffffffff);
}
END_TEST

START_TEST(windows_do_not_wrap)
{
	struct pci_dev a, b;

	/* A 32-bit BAR larger than the window is refused, not wrapped above 4 GiB. */
	pci_dev_init(&a, "big", 0x1af4, 1, 0xff, 0, 0, 1);
	pci_dev_set_bar(&a, 0, PCI_BAR_MEM32, false, 1ull << 31, NULL, NULL);
	ck_assert_int_eq(pci_bus_add(vm->pci, &a, -1), -ENOSPC);
	/* A 64-bit one past the 64-bit window too. */
	pci_dev_init(&b, "huge", 0x1af4, 2, 0xff, 0, 0, 1);
	pci_dev_set_bar(&b, 0, PCI_BAR_MEM64, false, 1ull << 62, NULL, NULL);
	ck_assert_int_eq(pci_bus_add(vm->pci, &b, -1), -ENOSPC);
}
END_TEST

START_TEST(capabilities_fill_up)
{
	uint8_t cap[16] = { PCI_CAP_ID_VNDR };
	struct pci_dev dev;
	int n = 0, off;

	pci_dev_init(&dev, "t", 0x1af4, 0x1234, 0xff, 0, 0, 1);
	while ((off = pci_dev_add_cap(&dev, cap, sizeof(cap))) > 0) {
		ck_assert_int_ge(off, 0x40);
		ck_assert_int_le(off + (int)sizeof(cap), PCI_CFG_SPACE_SIZE);
		n++;
	}
	ck_assert_int_eq(off, -ENOSPC);
	ck_assert_int_eq(n, (PCI_CFG_SPACE_SIZE - 4 - 0x40) / 16);
	ck_assert_uint_eq(dev.cfg[PCI_VENDOR_ID], 0xf4);
	ck_assert_uint_eq(dev.cfg[PCI_DEVICE_ID], 0x34);
}
END_TEST

START_TEST(gsis_come_back)
{
	uint64_t addr;
	uint32_t data;
	int a = irq_alloc_gsi(vm), b = irq_alloc_gsi(vm), c;

	ck_assert_int_ge(a, IRQ_FIRST_MSI_GSI);
	ck_assert_int_gt(b, a);
	ck_assert_int_eq(irq_set_msi_route(vm, (uint32_t)a, 0xfee00000, 0x41), 0);
	ck_assert(fixture_msi_route(vm, (uint32_t)a, &addr, &data));
	ck_assert_uint_eq(data, 0x41);
	irq_free_gsi(vm, (uint32_t)a);
	ck_assert(!fixture_msi_route(vm, (uint32_t)a, &addr, &data));
	c = irq_alloc_gsi(vm);
	ck_assert_int_eq(c, a);
	/* A route KVM refuses leaves the table as it was. */
	ck_assert_int_eq(irq_set_msi_route(vm, (uint32_t)b, 0xfee00000, 0x42), 0);
	ck_assert_int_eq(irq_set_msi_route(vm, 5000, 0xfee00000, 0x43), -EINVAL);
	ck_assert(!fixture_msi_route(vm, 5000, &addr, &data));
	ck_assert(fixture_msi_route(vm, (uint32_t)b, &addr, &data));
	ck_assert_uint_eq(data, 0x42);
	/* Every GSI can be handed out, then none. */
	for (int i = 0; i < IRQ_MSI_GSIS - 2; i++)
		ck_assert_int_ge(irq_alloc_gsi(vm), 0);
	ck_assert_int_eq(irq_alloc_gsi(vm), -ENOSPC);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("bus");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bar_sizing_and_masks);
	tcase_add_test(tc, windows_do_not_wrap);
	tcase_add_test(tc, capabilities_fill_up);
	tcase_add_test(tc, gsis_come_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_init("test_pci", LOG_LVL_ERR);
	return fixture_run_suite(suite());
}
