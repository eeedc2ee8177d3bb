// SPDX-License-Identifier: GPL-2.0-only
/* The fork-join pool: every item runs exactly once per round, rounds repeat. */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "vblk-backend/work_pool.h"

#define ITEMS	1000

struct tally {
	unsigned int hits[ITEMS];
};

static void count(void *arg, unsigned int i)
{
	struct tally *t = arg;

	t->hits[i]++;
}

START_TEST(test_each_item_once)
{
	struct work_pool *p = work_pool_new(3);
	static struct tally t;

	ck_assert_ptr_nonnull(p);
	for (unsigned int round = 1; round <= 50; round++) {
		work_pool_run(p, count, &t, ITEMS);
		for (unsigned int i = 0; i < ITEMS; i++)
			ck_assert_uint_eq(t.hits[i], round);
	}
	work_pool_run(p, count, &t, 0);
	work_pool_free(p);
}
END_TEST

#define HELPERS	3

static pthread_barrier_t all_in;

static void meet(void *arg, unsigned int i)
{
	(void)arg;
	(void)i;
	pthread_barrier_wait(&all_in);
}

/*
 * HELPERS + 1 items that each wait until all of them have started can only
 * finish if the caller and every helper hold one at the same time: a pool
 * that ran them on fewer threads hangs and the Check timeout fails the test.
 * (Counting which thread happened to take items would depend on scheduling.)
 */
START_TEST(test_runs_in_parallel)
{
	struct work_pool *p = work_pool_new(HELPERS);

	ck_assert_ptr_nonnull(p);
	pthread_barrier_init(&all_in, NULL, HELPERS + 1);
	for (unsigned int round = 0; round < 20; round++)
		work_pool_run(p, meet, NULL, HELPERS + 1);
	pthread_barrier_destroy(&all_in);
	work_pool_free(p);
}
END_TEST

START_TEST(test_bad_sizes)
{
	ck_assert_ptr_null(work_pool_new(0));
	ck_assert_ptr_null(work_pool_new(65));
	work_pool_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("work_pool");
	TCase *tc = tcase_create("pool");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_each_item_once);
	tcase_add_test(tc, test_runs_in_parallel);
	tcase_add_test(tc, test_bad_sizes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
