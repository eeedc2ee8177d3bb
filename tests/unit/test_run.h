/* SPDX-License-Identifier: GPL-2.0-only */
/* What every Check program's main() ends with: run the suite, exit status. */
#ifndef TESTS_UNIT_TEST_RUN_H
#define TESTS_UNIT_TEST_RUN_H

#include <check.h>

/* Runs every test of s (then freed): 0 if all passed, else 1. */
static inline int test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif /* TESTS_UNIT_TEST_RUN_H */
