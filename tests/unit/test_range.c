// SPDX-License-Identifier: GPL-2.0-only
/* Overflow-safe range checks: edges, empty ranges, ends past 2^64. */
#include <check.h>

#include "common/range.h"
#include "tests/unit/test_run.h"

#define TOP	UINT64_MAX

START_TEST(test_overlaps)
{
	ck_assert(range_overlaps(0x1000, 0x1000, 0x1fff, 1));
	ck_assert(range_overlaps(0x1fff, 1, 0x1000, 0x1000));
	ck_assert(range_overlaps(0x1000, 0x1000, 0x800, 0x2000));
	/* Adjacent ranges do not meet. */
	ck_assert(!range_overlaps(0x1000, 0x1000, 0x2000, 0x1000));
	ck_assert(!range_overlaps(0x2000, 0x1000, 0x1000, 0x1000));
	/* Empty ranges meet nothing, even inside another. */
	ck_assert(!range_overlaps(0x1000, 0x1000, 0x1800, 0));
	ck_assert(!range_overlaps(0x1800, 0, 0x1000, 0x1000));
	/* Ends at or past 2^64: "a + alen" would wrap. */
	ck_assert(range_overlaps(TOP - 0xff, 0x100, TOP, 1));
	ck_assert(!range_overlaps(TOP - 0xff, TOP, 0, 1));
	ck_assert(range_overlaps(0, TOP, TOP - 1, TOP));
	ck_assert(!range_overlaps(TOP, 1, 0, TOP));
	ck_assert(range_overlaps(0, TOP, 0, TOP));
}
END_TEST

START_TEST(test_contains)
{
	ck_assert(range_contains(0x1000, 0x1000, 0x1000, 0x1000));
	ck_assert(range_contains(0x1000, 0x1000, 0x1fff, 1));
	ck_assert(!range_contains(0x1000, 0x1000, 0x1fff, 2));
	ck_assert(!range_contains(0x1000, 0x1000, 0xfff, 1));
	ck_assert(!range_contains(0x1000, 0x1000, 0x2000, 1));
	/* len 0: the start must still be inside. */
	ck_assert(range_contains(0x1000, 0x1000, 0x1fff, 0));
	ck_assert(!range_contains(0x1000, 0x1000, 0x2000, 0));
	ck_assert(!range_contains(0x1000, 0, 0x1000, 0));
	/* Lengths that would wrap addr + len. */
	ck_assert(!range_contains(0x1000, 0x1000, 0x1800, TOP));
	ck_assert(!range_contains(TOP - 0xff, 0x100, TOP - 0x10, 0x20));
	ck_assert(range_contains(TOP - 0xff, 0x100, TOP - 0x10, 0x11));
	ck_assert(range_contains(0, TOP, TOP - 1, 1));
	ck_assert(!range_contains(0, TOP, TOP, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("range");
	TCase *tc = tcase_create("range");

	tcase_add_test(tc, test_overlaps);
	tcase_add_test(tc, test_contains);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
