// SPDX-License-Identifier: GPL-2.0-only
/* Command-line helpers: numbers, sizes, log levels, the getopt loop. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/cli.h"
#include "tests/unit/test_run.h"

START_TEST(test_sizes)
{
	uint64_t v = 0;

	ck_assert_int_eq(cli_parse_size("t", "size", "4096", 4096, 1ull << 46, &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(cli_parse_size("t", "size", "64G", 4096, 1ull << 46, &v), 0);
	ck_assert_uint_eq(v, 64ull << 30);
	ck_assert_int_eq(cli_parse_size("t", "size", "2m", 4096, 1ull << 46, &v), 0);
	ck_assert_uint_eq(v, 2ull << 20);
	ck_assert_int_eq(cli_parse_size("t", "size", "64T", 4096, 1ull << 46, &v), 0);
	ck_assert_uint_eq(v, 1ull << 46);
	/* Refused: out of range, junk, signs, empty, two suffixes. */
	ck_assert_int_eq(cli_parse_size("t", "size", "65T", 4096, 1ull << 46, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "1K", 4096, 1ull << 46, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "1.5G", 4096, 1ull << 46, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "-1", 0, 1ull << 46, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "", 0, 1ull << 46, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "1GG", 0, 1ull << 46, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "99999999999999999999", 0,
					UINT64_MAX, &v), -1);
	ck_assert_int_eq(cli_parse_size("t", "size", "16777216T", 0, UINT64_MAX, &v), -1);
}
END_TEST

START_TEST(test_log_levels)
{
	enum log_level l = LOG_LVL_ERR;

	ck_assert_int_eq(cli_parse_log_level("t", "debug", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
	ck_assert_int_eq(cli_parse_log_level("t", "loud", &l), -1);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
}
END_TEST

struct opts {
	unsigned int n;
	bool checked;
};

static void usage(FILE *f)
{
	fprintf(f, "usage\n");
}

static int option(int c, const char *arg, void *o)
{
	return c == 'n' ? cli_parse_uint("t", "n", arg, 1, 9, &((struct opts *)o)->n) : -1;
}

static int check(void *o)
{
	((struct opts *)o)->checked = true;
	return ((struct opts *)o)->n ? 0 : -1;
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct cli_prog prog = {
		.name = "t", .version = "0", .shortopts = "n:hV",
		.longopts = longopts, .usage = usage, .option = option,
		.check = check,
	};

	optind = 0;	/* getopt starts over */
	return cli_parse_args(&prog, argc, argv, o);
}

START_TEST(test_getopt_loop)
{
	char *good[] = { "t", "--n", "3", NULL };
	char *bad_value[] = { "t", "--n", "30", NULL };
	char *stray[] = { "t", "--n", "3", "extra", NULL };
	char *missing[] = { "t", NULL };
	char *help[] = { "t", "--help", NULL };
	struct opts o = { 0 };

	ck_assert_int_eq(parse(&o, 3, good), 0);
	ck_assert_uint_eq(o.n, 3);
	ck_assert(o.checked);
	ck_assert_int_eq(parse(&o, 3, bad_value), -1);
	ck_assert_int_eq(parse(&o, 4, stray), -1);
	o = (struct opts){ 0 };
	ck_assert_int_eq(parse(&o, 1, missing), -1);
	ck_assert(o.checked);
	ck_assert_int_eq(parse(&o, 2, help), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_getopt_loop);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
