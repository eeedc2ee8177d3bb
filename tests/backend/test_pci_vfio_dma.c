// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_vfio's DMA memory without a device: the pagemap entry decoder, the
 * contiguity search over PFN arrays, and the no-IOMMU allocator on this
 * machine's own memory, its IOVAs checked page by page against pagemap.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test_run.h"
#include "vblk-backend/pci_vfio_dma.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

START_TEST(test_pagemap_entry)
{
	uint64_t pfn = 7;

	/* Present, soft-dirty (bit 55) and exclusive (bit 56) set: PFN only. */
	ck_assert_int_eq(pagemap_entry_pfn(PAGEMAP_PRESENT | (3ull << 55) |
					   0x12345, &pfn), 0);
	ck_assert_uint_eq(pfn, 0x12345);
	/* The widest PFN. */
	ck_assert_int_eq(pagemap_entry_pfn(PAGEMAP_PRESENT | PAGEMAP_PFN_MASK,
					   &pfn), 0);
	ck_assert_uint_eq(pfn, (1ull << 55) - 1);
	/* Not present (swapped, bit 62, or never touched). */
	pfn = 7;
	ck_assert_int_eq(pagemap_entry_pfn(0x12345, &pfn), -ENOENT);
	ck_assert_int_eq(pagemap_entry_pfn(1ull << 62, &pfn), -ENOENT);
	ck_assert_int_eq(pagemap_entry_pfn(0, &pfn), -ENOENT);
	ck_assert_uint_eq(pfn, 7);
	/* Present with PFN 0: hidden from a reader without CAP_SYS_ADMIN. */
	ck_assert_int_eq(pagemap_entry_pfn(PAGEMAP_PRESENT, &pfn), -EPERM);
	ck_assert_int_eq(pagemap_entry_pfn(PAGEMAP_PRESENT | (1ull << 55),
					   &pfn), -EPERM);
	ck_assert_uint_eq(pfn, 7);
}
END_TEST

START_TEST(test_contig_run)
{
	static const uint64_t one[] = { 100 };
	static const uint64_t up[] = { 10, 11, 12, 13 };
	static const uint64_t down[] = { 13, 12, 11, 10 };
	static const uint64_t mixed[] = { 5, 9, 10, 20, 21, 22, 23, 30, 31 };
	static const uint64_t dup[] = { 4, 4, 5, 5 };

	ck_assert_int_eq(pfn_contig_run(one, 1, 1), 0);
	ck_assert_int_eq(pfn_contig_run(one, 1, 2), -1);
	ck_assert_int_eq(pfn_contig_run(one, 0, 1), -1);
	ck_assert_int_eq(pfn_contig_run(up, 4, 0), -1);
	ck_assert_int_eq(pfn_contig_run(up, 4, 4), 0);
	ck_assert_int_eq(pfn_contig_run(up, 4, 5), -1);
	ck_assert_uint_eq(pfn_run_len(up, 4, 0), 4);
	ck_assert_uint_eq(pfn_run_len(up, 4, 2), 2);
	/* Descending pages are not contiguous for the device. */
	ck_assert_int_eq(pfn_contig_run(down, 4, 2), -1);
	ck_assert_int_eq(pfn_contig_run(down, 4, 1), 0);
	ck_assert_int_eq(pfn_contig_run(mixed, ARRAY_SIZE(mixed), 2), 1);
	ck_assert_int_eq(pfn_contig_run(mixed, ARRAY_SIZE(mixed), 3), 3);
	ck_assert_int_eq(pfn_contig_run(mixed, ARRAY_SIZE(mixed), 4), 3);
	ck_assert_int_eq(pfn_contig_run(mixed, ARRAY_SIZE(mixed), 5), -1);
	ck_assert_uint_eq(pfn_run_len(mixed, ARRAY_SIZE(mixed), 3), 4);
	ck_assert_uint_eq(pfn_run_len(mixed, ARRAY_SIZE(mixed), 8), 1);
	ck_assert_int_eq(pfn_contig_run(dup, 4, 2), 1);
	ck_assert_int_eq(pfn_contig_run(dup, 4, 3), -1);
}
END_TEST

/* Every page of [va, va + len) sits at iova + its offset, physically. */
static void check_phys(const void *va, size_t len, uint64_t iova)
{
	size_t n = len / 4096;
	uint64_t pfns[64];
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_le(n, ARRAY_SIZE(pfns));
	ck_assert_int_eq(pagemap_read(fd, va, n, pfns), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(pfns[i] * 4096, iova + i * 4096);
	close(fd);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Needs CAP_SYS_ADMIN for the PFNs and some luck for a contiguous run when
 * no hugepages are reserved: without them it must fail saying so (EPERM or
 * ENOMEM), never hand out memory the device would miss.
 */
START_TEST(test_noiommu_alloc)
{
	struct dma_pool *p = dma_pool_new(-1);
	uint64_t iova1, iova2, iova3;
	uint8_t *a, *b, *c;

	ck_assert_ptr_nonnull(p);
	a = dma_pool_alloc(p, 64 * 1024, &iova1);
	if (!a) {
		ck_assert_msg(errno == EPERM || errno == ENOMEM, "errno %d",
			      errno);
		fprintf(stderr, "test_noiommu_alloc: no DMA memory here (%s): only the refusal checked\n",
			strerror(errno));
		dma_pool_free(p);
		return;
	}
	ck_assert_uint_eq((uintptr_t)a % 4096, 0);
	ck_assert_uint_eq(iova1 % 4096, 0);
	ck_assert(all_zero(a, 64 * 1024));
	check_phys(a, 64 * 1024, iova1);

	/* A partial page rounds up; the next allocation does not overlap. */
	b = dma_pool_alloc(p, 100, &iova2);
	ck_assert_ptr_nonnull(b);
	ck_assert(b >= a + 64 * 1024 || b + 4096 <= a);
	ck_assert(all_zero(b, 4096));
	check_phys(b, 4096, iova2);
	memset(b, 0xa5, 4096);
	c = dma_pool_alloc(p, 4096, &iova3);
	ck_assert_ptr_nonnull(c);
	ck_assert(c >= b + 4096 || c + 4096 <= b);
	ck_assert(all_zero(c, 4096));
	check_phys(c, 4096, iova3);
	dma_pool_free(p);
}
END_TEST

START_TEST(test_bad_sizes)
{
	struct dma_pool *p = dma_pool_new(-1);
	uint64_t iova;

	ck_assert_ptr_nonnull(p);
	errno = 0;
	ck_assert_ptr_null(dma_pool_alloc(p, 0, &iova));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(dma_pool_alloc(p, SIZE_MAX, &iova));
	ck_assert_int_eq(errno, EINVAL);
	dma_pool_free(p);
	dma_pool_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pci_vfio_dma");
	TCase *tc = tcase_create("dma");

	tcase_add_test(tc, test_pagemap_entry);
	tcase_add_test(tc, test_contig_run);
	tcase_add_test(tc, test_noiommu_alloc);
	tcase_add_test(tc, test_bad_sizes);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
