// SPDX-License-Identifier: GPL-2.0-only
/* Log line format, level filtering and whole-line writes from threads. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define CAPTURE_MAX	65536

struct capture {
	int pipe[2];
	int saved_stderr;
};

static void capture_start(struct capture *c)
{
	ck_assert_int_eq(pipe2(c->pipe, O_CLOEXEC), 0);
	/* The thread test writes ~40 KiB before anyone reads. */
	fcntl(c->pipe[1], F_SETPIPE_SZ, CAPTURE_MAX);
	c->saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(c->saved_stderr, 0);
	ck_assert_int_eq(dup2(c->pipe[1], STDERR_FILENO), STDERR_FILENO);
	close(c->pipe[1]);
}

/* Restores stderr and returns what was logged (caller frees). */
static char *capture_end(struct capture *c)
{
	char *out = calloc(1, CAPTURE_MAX + 1);
	size_t len = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(dup2(c->saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(c->saved_stderr);
	while (len < CAPTURE_MAX &&
	       (n = read(c->pipe[0], out + len, CAPTURE_MAX - len)) > 0)
		len += (size_t)n;
	close(c->pipe[0]);
	return out;
}

static char *expect_line(const char *prog, const char *level, const char *msg)
{
	char *s;

	ck_assert_int_gt(asprintf(&s, "%s[%d]: %s: %s\n", prog, (int)getpid(),
				  level, msg), 0);
	return s;
}

START_TEST(test_default_prog_and_level)
{
	struct capture c;
	char *out, *want;

	ck_assert_int_eq(log_get_level(), LOG_LVL_INFO);
	capture_start(&c);
	pr_info("hello %d", 42);
	pr_debug("not shown");
	out = capture_end(&c);

	want = expect_line("vvu", "info", "hello 42");
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
}
END_TEST

START_TEST(test_format_and_filter)
{
	struct capture c;
	char *out, *want;

	log_init("blk", LOG_LVL_WARN);
	ck_assert_int_eq(log_get_level(), LOG_LVL_WARN);
	capture_start(&c);
	pr_debug("d");
	pr_info("i");
	pr_warn("w");
	pr_err("e");
	out = capture_end(&c);

	ck_assert_int_gt(asprintf(&want, "blk[%d]: warn: w\nblk[%d]: err: e\n",
				  (int)getpid(), (int)getpid()), 0);
	ck_assert_str_eq(out, want);
	free(want);
	free(out);

	log_set_level(LOG_LVL_DEBUG);
	capture_start(&c);
	pr_debug("now %s", "visible");
	out = capture_end(&c);
	want = expect_line("blk", "debug", "now visible");
	ck_assert_str_eq(out, want);
	free(want);
	free(out);

	log_set_level(LOG_LVL_ERR);
	capture_start(&c);
	pr_warn("hidden");
	out = capture_end(&c);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(test_one_newline)
{
	struct capture c;
	char *out, *want;

	log_init("t", LOG_LVL_INFO);
	capture_start(&c);
	pr_info("ends in newline\n");
	out = capture_end(&c);
	want = expect_line("t", "info", "ends in newline");
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
}
END_TEST

START_TEST(test_errno_kept_and_percent_m)
{
	struct capture c;
	char *out, *want, *msg;

	log_init("t", LOG_LVL_INFO);
	ck_assert_int_gt(asprintf(&msg, "open: %s", strerror(ENOENT)), 0);
	capture_start(&c);
	errno = ENOENT;
	pr_err("open: %m");
	ck_assert_int_eq(errno, ENOENT);
	errno = EBADF;
	pr_debug("filtered");
	ck_assert_int_eq(errno, EBADF);
	out = capture_end(&c);
	want = expect_line("t", "err", msg);
	ck_assert_str_eq(out, want);
	free(want);
	free(msg);
	free(out);
}
END_TEST

START_TEST(test_long_line_cut)
{
	char big[4000];
	struct capture c;
	char *out;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init("t", LOG_LVL_INFO);
	capture_start(&c);
	pr_info("%s", big);
	pr_info("after");
	out = capture_end(&c);

	/* The cut line still ends in a newline; the next line is whole. */
	len = strcspn(out, "\n");
	ck_assert_uint_gt(len, 900);
	ck_assert_uint_lt(len, 1024);
	ck_assert_int_eq(out[len], '\n');
	ck_assert_ptr_nonnull(strstr(out + len + 1, "t["));
	ck_assert_ptr_nonnull(strstr(out + len + 1, "]: info: after\n"));
	free(out);
}
END_TEST

START_TEST(test_level_parse)
{
	ck_assert_int_eq(log_level_parse("err"), LOG_LVL_ERR);
	ck_assert_int_eq(log_level_parse("warn"), LOG_LVL_WARN);
	ck_assert_int_eq(log_level_parse("info"), LOG_LVL_INFO);
	ck_assert_int_eq(log_level_parse("debug"), LOG_LVL_DEBUG);
	ck_assert_int_eq(log_level_parse("DEBUG"), -1);
	ck_assert_int_eq(log_level_parse("verbose"), -1);
	ck_assert_int_eq(log_level_parse(""), -1);
	ck_assert_int_eq(log_level_parse("inf"), -1);
	ck_assert_int_eq(log_level_parse(NULL), -1);
}
END_TEST

#define THREADS		4
#define LINES		150

static void *log_thread(void *arg)
{
	long id = (long)arg;
	int i;

	for (i = 0; i < LINES; i++)
		pr_info("thread %ld line %03d %s", id, i,
			"padding-padding-padding-padding");
	return NULL;
}

/* Every line from concurrent threads arrives whole: one write per line. */
START_TEST(test_threads_whole_lines)
{
	int seen[THREADS] = { 0 };
	pthread_t t[THREADS];
	struct capture c;
	char *out, *line, *save = NULL;
	char prefix[64];
	long i;
	int id, n, total = 0;

	log_init("mt", LOG_LVL_INFO);
	snprintf(prefix, sizeof(prefix), "mt[%d]: info: thread ", (int)getpid());
	capture_start(&c);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, log_thread,
						(void *)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out = capture_end(&c);

	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(!strncmp(line, prefix, strlen(prefix)),
			      "mangled line: %s", line);
		ck_assert_int_eq(sscanf(line + strlen(prefix), "%d line %d",
					&id, &n), 2);
		ck_assert_int_lt(id, THREADS);
		/* Each thread's lines arrive whole and in order. */
		ck_assert_int_eq(n, seen[id]);
		seen[id]++;
		ck_assert_ptr_nonnull(strstr(line, " padding-padding-padding-padding"));
		total++;
	}
	ck_assert_int_eq(total, THREADS * LINES);
	free(out);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A stderr nobody reads delays a line by about a second, then drops it. */
START_TEST(test_stalled_stderr_drops)
{
	struct capture c;
	char fill[4096], *out;
	double t;
	int fl;

	memset(fill, 'x', sizeof(fill));
	capture_start(&c);
	fl = fcntl(STDERR_FILENO, F_GETFL);
	fcntl(STDERR_FILENO, F_SETFL, fl | O_NONBLOCK);
	while (write(STDERR_FILENO, fill, sizeof(fill)) > 0)
		;
	fcntl(STDERR_FILENO, F_SETFL, fl);
	t = now_s();
	pr_err("lost");
	t = now_s() - t;
	ck_assert_msg(t > 0.5 && t < 3.0, "a blocked line took %.2f s", t);
	/* Drained, the next line says what was lost. */
	fcntl(c.pipe[0], F_SETFL, O_NONBLOCK);
	while (read(c.pipe[0], fill, sizeof(fill)) > 0)
		;
	fcntl(c.pipe[0], F_SETFL, 0);
	pr_err("after");
	out = capture_end(&c);
	ck_assert_ptr_nonnull(strstr(out, "warn: 1 log lines dropped (stderr blocked)\n"));
	ck_assert_ptr_nonnull(strstr(out, "err: after\n"));
	ck_assert_ptr_null(strstr(out, "lost"));
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_default_prog_and_level);
	tcase_add_test(tc, test_format_and_filter);
	tcase_add_test(tc, test_one_newline);
	tcase_add_test(tc, test_errno_kept_and_percent_m);
	tcase_add_test(tc, test_long_line_cut);
	tcase_add_test(tc, test_level_parse);
	tcase_add_test(tc, test_threads_whole_lines);
	tcase_add_test(tc, test_stalled_stderr_drops);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
