// SPDX-License-Identifier: GPL-2.0-only
/* Event loop glue: fd watches, stopping, and SIGTERM/SIGINT ending the loop. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/evloop.h"

struct watch_state {
	struct event_base *base;
	struct event *ev;
	int fd_seen;
	int calls;
	int stop_after;
	int raise_sig;
	bool unwatch_self;
};

static void on_readable(int fd, void *arg)
{
	struct watch_state *ws = arg;
	char c;

	ws->fd_seen = fd;
	ws->calls++;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	if (ws->raise_sig)
		kill(getpid(), ws->raise_sig);
	if (ws->unwatch_self)
		evloop_unwatch(&ws->ev);
	if (ws->calls == ws->stop_after)
		evloop_stop(ws->base);
}

START_TEST(test_watch_fires_and_stop)
{
	struct watch_state ws = { .stop_after = 3 };
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ws.base = evloop_new();
	ck_assert_ptr_nonnull(ws.base);
	ws.ev = evloop_watch_fd(ws.base, p[0], on_readable, &ws);
	ck_assert_ptr_nonnull(ws.ev);

	/* Persistent: three readable bytes, three calls, then the stop. */
	ck_assert_int_eq(write(p[1], "abcd", 4), 4);
	ck_assert_int_eq(evloop_run(ws.base), 0);
	ck_assert_int_eq(ws.calls, 3);
	ck_assert_int_eq(ws.fd_seen, p[0]);
	ck_assert_int_eq(evloop_exit_signal(ws.base), 0);

	evloop_unwatch(&ws.ev);
	ck_assert_ptr_null(ws.ev);
	evloop_unwatch(&ws.ev);
	evloop_unwatch(NULL);
	/* Unwatched: the byte left in the pipe wakes nobody. */
	ck_assert_int_eq(event_base_loop(ws.base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(ws.calls, 3);

	evloop_free(ws.base);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_unwatch_inside_callback)
{
	struct watch_state ws = { .stop_after = 1, .unwatch_self = true };
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ws.base = evloop_new();
	ck_assert_ptr_nonnull(ws.base);
	ws.ev = evloop_watch_fd(ws.base, p[0], on_readable, &ws);
	ck_assert_ptr_nonnull(ws.ev);
	ck_assert_int_eq(write(p[1], "ab", 2), 2);
	ck_assert_int_eq(evloop_run(ws.base), 0);
	ck_assert_ptr_null(ws.ev);
	ck_assert_int_eq(event_base_loop(ws.base, EVLOOP_NONBLOCK), 0);
	ck_assert_int_eq(ws.calls, 1);
	evloop_free(ws.base);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_sigterm_before_run)
{
	struct event_base *base = evloop_new();

	ck_assert_ptr_nonnull(base);
	/* Caught by the loop's handler, not fatal; seen once the loop runs. */
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	ck_assert_int_eq(evloop_run(base), 0);
	ck_assert_int_eq(evloop_exit_signal(base), SIGTERM);
	evloop_free(base);
}
END_TEST

START_TEST(test_signal_from_callback)
{
	struct watch_state ws = { .raise_sig = SIGINT, .stop_after = -1 };
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ws.base = evloop_new();
	ck_assert_ptr_nonnull(ws.base);
	ws.ev = evloop_watch_fd(ws.base, p[0], on_readable, &ws);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(evloop_run(ws.base), 0);
	ck_assert_int_eq(evloop_exit_signal(ws.base), SIGINT);
	ck_assert_int_eq(ws.calls, 1);

	/* The next run starts afresh: a plain stop reports no signal. */
	ws.raise_sig = 0;
	ws.stop_after = 2;
	ck_assert_int_eq(write(p[1], "y", 1), 1);
	ck_assert_int_eq(evloop_run(ws.base), 0);
	ck_assert_int_eq(evloop_exit_signal(ws.base), 0);
	ck_assert_int_eq(ws.calls, 2);

	evloop_unwatch(&ws.ev);
	evloop_free(ws.base);
	close(p[0]);
	close(p[1]);
}
END_TEST

static void *stopper_run(void *arg)
{
	usleep(100 * 1000);
	evloop_stop(arg);
	return NULL;
}

/* Nothing but the signal events pending: only another thread can stop it. */
START_TEST(test_stop_from_thread)
{
	struct event_base *base = evloop_new();
	pthread_t t;

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(pthread_create(&t, NULL, stopper_run, base), 0);
	ck_assert_int_eq(evloop_run(base), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(evloop_exit_signal(base), 0);
	evloop_free(base);
}
END_TEST

START_TEST(test_several_bases)
{
	struct event_base *a = evloop_new(), *b = evloop_new();

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_int_eq(evloop_exit_signal(a), 0);
	evloop_free(a);
	ck_assert_int_eq(evloop_exit_signal(b), 0);
	evloop_free(b);
	evloop_free(NULL);

	/* Once freed, SIGTERM handling belongs to whoever asks next. */
	a = evloop_new();
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	ck_assert_int_eq(evloop_run(a), 0);
	ck_assert_int_eq(evloop_exit_signal(a), SIGTERM);
	evloop_free(a);
}
END_TEST

START_TEST(test_watch_bad_fd)
{
	struct event_base *base = evloop_new();

	ck_assert_ptr_nonnull(base);
	/* epoll refuses a closed fd: NULL, nothing leaked. */
	ck_assert_ptr_null(evloop_watch_fd(base, 1000, on_readable, NULL));
	evloop_free(base);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evloop");
	TCase *tc = tcase_create("evloop");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_watch_fires_and_stop);
	tcase_add_test(tc, test_unwatch_inside_callback);
	tcase_add_test(tc, test_sigterm_before_run);
	tcase_add_test(tc, test_signal_from_callback);
	tcase_add_test(tc, test_stop_from_thread);
	tcase_add_test(tc, test_several_bases);
	tcase_add_test(tc, test_watch_bad_fd);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
