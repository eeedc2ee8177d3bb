// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_vfio's ops without a device: a plain file laid out like a vfio device
 * fd (config region, a mappable BAR, a BAR reached by pread/pwrite only)
 * stands in for it, so the bounds checks, the byte order, the mmap and
 * pread paths and the clean refusals are exercised. The ioctls (MSI-X) can
 * only fail on a file: that they fail cleanly is checked.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/test_run.h"
#include "vblk-backend/pci_dev.h"
#include "vblk-backend/pci_vfio_priv.h"

#define CFG_OFF		0x0
#define CFG_SIZE	0x100
#define BAR0_OFF	0x10000
#define BAR0_SIZE	0x8000
#define BAR2_OFF	0x20000
#define BAR2_SIZE	0x1000
#define FILE_SIZE	0x30000

#define RW		(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)

static struct event_base *base;
static struct pci_dev *dev;
static int fd;			/* our own view of the "device" file */

static void setup(void)
{
	static const struct pci_vfio_region_desc regions[7] = {
		{ CFG_SIZE, CFG_OFF, RW },
		{ BAR0_SIZE, BAR0_OFF, RW | VFIO_REGION_INFO_FLAG_MMAP },
		{ 0, 0, 0 },
		{ BAR2_SIZE, BAR2_OFF, RW },
	};
	char path[] = "/tmp/test_pci_vfio_XXXXXX";

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(ftruncate(fd, FILE_SIZE), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	dev = pci_vfio_from_fd(dup(fd), regions, 4, base);
	ck_assert_ptr_nonnull(dev);
}

static void teardown(void)
{
	pci_dev_close(dev);
	event_base_free(base);
	close(fd);
}

static uint64_t file_le(uint64_t off, unsigned int len)
{
	uint8_t b[8];
	uint64_t v = 0;

	ck_assert_int_eq(pread(fd, b, len, (off_t)off), (ssize_t)len);
	for (unsigned int i = len; i--;)
		v = v << 8 | b[i];
	return v;
}

START_TEST(test_cfg)
{
	uint32_t v;

	ck_assert_int_eq(pci_cfg_write(dev, 0, 2, 0x1af4), 0);
	ck_assert_int_eq(pci_cfg_write(dev, 2, 2, 0x107d), 0);
	ck_assert_uint_eq(file_le(CFG_OFF, 4), 0x107d1af4);
	ck_assert_int_eq(pci_cfg_read(dev, 0, 4, &v), 0);
	ck_assert_uint_eq(v, 0x107d1af4);
	ck_assert_int_eq(pci_cfg_read(dev, 3, 1, &v), 0);
	ck_assert_uint_eq(v, 0x10);
	ck_assert_int_eq(pci_cfg_write(dev, CFG_SIZE - 4, 4, 0xdeadbeef), 0);
	ck_assert_uint_eq(file_le(CFG_OFF + CFG_SIZE - 4, 4), 0xdeadbeef);

	/* Widths, alignment, bounds. */
	ck_assert_int_eq(pci_cfg_read(dev, 0, 3, &v), -EINVAL);
	ck_assert_int_eq(pci_cfg_read(dev, 0, 8, &v), -EINVAL);
	ck_assert_int_eq(pci_cfg_read(dev, 0, 0, &v), -EINVAL);
	ck_assert_int_eq(pci_cfg_read(dev, 1, 2, &v), -EINVAL);
	ck_assert_int_eq(pci_cfg_read(dev, 2, 4, &v), -EINVAL);
	ck_assert_int_eq(pci_cfg_read(dev, CFG_SIZE, 1, &v), -EINVAL);
	ck_assert_int_eq(pci_cfg_write(dev, CFG_SIZE, 4, 0), -EINVAL);
	ck_assert_int_eq(pci_cfg_write(dev, UINT32_MAX - 3, 4, 0), -EINVAL);
}
END_TEST

/* Every width through BAR bar at base boff in the file. */
static void bar_widths(unsigned int bar, uint64_t boff)
{
	static const uint64_t val = 0x8877665544332211ull;
	uint64_t v;

	for (unsigned int size = 1; size <= 8; size *= 2) {
		uint64_t off = 0x40 + size * 8;
		uint64_t want = size == 8 ? val : val & ((1ull << (size * 8)) - 1);

		ck_assert_int_eq(pci_bar_write(dev, bar, off, size, val), 0);
		ck_assert_uint_eq(file_le(boff + off, size), want);
		/* Only size bytes were written. */
		ck_assert_uint_eq(file_le(boff + off + size, 1), 0);
		ck_assert_int_eq(pci_bar_read(dev, bar, off, size, &v), 0);
		ck_assert_uint_eq(v, want);
	}
}

static void bar_bounds(unsigned int bar, uint64_t size)
{
	uint64_t v;

	ck_assert_int_eq(pci_bar_read(dev, bar, size - 8, 8, &v), 0);
	ck_assert_int_eq(pci_bar_read(dev, bar, size - 4, 8, &v), -EINVAL);
	ck_assert_int_eq(pci_bar_read(dev, bar, size, 1, &v), -EINVAL);
	ck_assert_int_eq(pci_bar_write(dev, bar, size, 4, 0), -EINVAL);
	ck_assert_int_eq(pci_bar_read(dev, bar, UINT64_MAX - 3, 4, &v),
			 -EINVAL);
	ck_assert_int_eq(pci_bar_read(dev, bar, 2, 4, &v), -EINVAL);
	ck_assert_int_eq(pci_bar_read(dev, bar, 0, 3, &v), -EINVAL);
	ck_assert_int_eq(pci_bar_read(dev, bar, 0, 16, &v), -EINVAL);
}

START_TEST(test_bar_mmap_path)
{
	bar_widths(0, BAR0_OFF);
	bar_bounds(0, BAR0_SIZE);
}
END_TEST

START_TEST(test_bar_pread_path)
{
	bar_widths(2, BAR2_OFF);
	bar_bounds(2, BAR2_SIZE);
}
END_TEST

START_TEST(test_no_such_bar)
{
	uint64_t v;
	void *mbase = NULL;
	size_t len = 1;

	ck_assert_int_eq(pci_bar_read(dev, 1, 0, 4, &v), -EINVAL);
	ck_assert_int_eq(pci_bar_write(dev, 6, 0, 4, 0), -EINVAL);
	ck_assert_int_eq(pci_bar_read(dev, UINT32_MAX, 0, 4, &v), -EINVAL);
	ck_assert_uint_eq(dev->ops->bar_size(dev, 1), 0);
	ck_assert_uint_eq(dev->ops->bar_size(dev, 6), 0);
	errno = 0;
	ck_assert_ptr_null(dev->ops->bar_map(dev, 1, 0, 4096, &mbase, &len));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(dev->ops->bar_map(dev, 6, 0, 4096, &mbase, &len));
	ck_assert_uint_eq(len, 1);
}
END_TEST

START_TEST(test_bar_map)
{
	void *mbase;
	size_t len;
	uint8_t *p;

	ck_assert_uint_eq(dev->ops->bar_size(dev, 0), BAR0_SIZE);
	ck_assert_uint_eq(dev->ops->bar_size(dev, 2), BAR2_SIZE);
	/* Part of a BAR, from an offset that is not page aligned. */
	p = dev->ops->bar_map(dev, 0, 0x1004, 8, &mbase, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_eq(p, (uint8_t *)mbase + 4);
	ck_assert_uint_ge(len, 12);
	*(volatile uint32_t *)p = 0xcafef00d;
	ck_assert_uint_eq(file_le(BAR0_OFF + 0x1004, 4), 0xcafef00d);
	munmap(mbase, len);
	/* All of it; nothing past it, nothing empty. */
	p = dev->ops->bar_map(dev, 0, 0, BAR0_SIZE, &mbase, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, BAR0_SIZE);
	munmap(mbase, len);
	errno = 0;
	ck_assert_ptr_null(dev->ops->bar_map(dev, 0, 4096, BAR0_SIZE, &mbase, &len));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(dev->ops->bar_map(dev, 0, 0, 0, &mbase, &len));
	ck_assert_ptr_null(dev->ops->bar_map(dev, 0, UINT64_MAX, 2, &mbase, &len));
	/* vfio does not allow mmap of BAR2. */
	errno = 0;
	ck_assert_ptr_null(dev->ops->bar_map(dev, 2, 0, 4096, &mbase, &len));
	ck_assert_int_eq(errno, ENOTSUP);
}
END_TEST

static void never(void *arg, unsigned int v)
{
	(void)arg;
	(void)v;
	ck_abort_msg("no vector can fire");
}

START_TEST(test_msix_refusals)
{
	ck_assert_int_eq(dev->ops->msix_enable(dev, 0, never, NULL), -EINVAL);
	ck_assert_int_eq(dev->ops->msix_enable(dev, 5, never, NULL), -EINVAL);
	ck_assert_int_eq(dev->ops->msix_enable(dev, 1, NULL, NULL), -EINVAL);
	/* A file has no VFIO_DEVICE_SET_IRQS: undone, nothing leaked. */
	ck_assert_int_eq(dev->ops->msix_enable(dev, 4, never, NULL), -ENOTTY);
	ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
}
END_TEST

START_TEST(test_open_refusals)
{
	errno = 0;
	ck_assert_ptr_null(pci_vfio_open("00:10", base));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(pci_vfio_open(NULL, base));
	ck_assert_int_eq(errno, EINVAL);
	/* Device 1f function 7 of bus ff in domain ffff: surely absent. */
	ck_assert_ptr_null(pci_vfio_open("ffff:ff:1f.7", base));
	ck_assert_int_eq(errno, ENODEV);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pci_vfio");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cfg);
	tcase_add_test(tc, test_bar_mmap_path);
	tcase_add_test(tc, test_bar_pread_path);
	tcase_add_test(tc, test_no_such_bar);
	tcase_add_test(tc, test_bar_map);
	tcase_add_test(tc, test_msix_refusals);
	tcase_add_test(tc, test_open_refusals);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
