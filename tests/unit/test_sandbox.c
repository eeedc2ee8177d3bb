// SPDX-License-Identifier: GPL-2.0-only
/*
 * seccomp allow-lists, each tried in a forked child: a filter cannot be
 * unloaded, and a forbidden call kills the whole process.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/sandbox.h"

/* Forks; the child runs fn and _exits with its result (no atexit hooks). */
static pid_t run_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A SIGSYS death should leave no core file behind. */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		_exit(fn(arg));
	}
	return pid;
}

static int wait_child(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exited(int status, int code)
{
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == code,
		      "child status %#x, want exit %d", status, code);
}

static void assert_sigsys(int status)
{
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "child status %#x, want SIGSYS", status);
}

/* Allowed calls work after the filter is in. */
static int child_allowed(void *arg)
{
	int fd = *(int *)arg;
	pid_t pid;

	if (sandbox_enter(sandbox_base_syscalls))
		return 10;
	pid = getpid();
	if (write(fd, &pid, sizeof(pid)) != sizeof(pid))
		return 11;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 12;	/* never reached: prctl is not allowed */
	return 0;
}

START_TEST(test_allowed_call_works)
{
	pid_t pid, got = 0;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	pid = run_child(child_allowed, &p[1]);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &got, sizeof(got)), sizeof(got));
	ck_assert_int_eq(got, pid);
	/* ...and prctl, not on the list, was the end of it. */
	assert_sigsys(wait_child(pid));
	close(p[0]);
}
END_TEST

static int child_no_prctl(void *arg)
{
	/* Sanitizer runtimes call sigaltstack in _exit. */
	static const char *const list[] = {
		"write", "exit_group", "sigaltstack", NULL,
	};

	(void)arg;
	if (sandbox_enter(list))
		return 10;
	return 0;	/* _exit is exit_group: allowed */
}

START_TEST(test_minimal_list_exits_cleanly)
{
	assert_exited(wait_child(run_child(child_no_prctl, NULL)), 0);
}
END_TEST

static int child_forbidden(void *arg)
{
	(void)arg;
	if (sandbox_enter(sandbox_base_syscalls))
		return 10;
	/* Not in the base list: a daemon opens nothing once sandboxed. */
	syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	return 0;
}

START_TEST(test_forbidden_call_kills)
{
	assert_sigsys(wait_child(run_child(child_forbidden, NULL)));
}
END_TEST

static int go_pipe[2];

static void *late_thread(void *arg)
{
	char c;

	(void)arg;
	/* Waits for the sandbox, then makes a forbidden call. */
	if (read(go_pipe[0], &c, 1) == 1)
		syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	return NULL;
}

static int child_thread_forbidden(void *arg)
{
	pthread_t t;
	int never[2];
	char c;

	(void)arg;
	if (pipe(go_pipe) || pipe(never))
		return 9;
	if (pthread_create(&t, NULL, late_thread, NULL))
		return 9;
	if (sandbox_enter(sandbox_base_syscalls))
		return 10;
	if (write(go_pipe[1], "g", 1) != 1)
		return 11;
	/* Killed along with the thread, whose filter came by TSYNC. */
	if (read(never[0], &c, 1) < 0)
		return 12;
	return 0;
}

START_TEST(test_existing_thread_is_filtered)
{
	assert_sigsys(wait_child(run_child(child_thread_forbidden, NULL)));
}
END_TEST

static int child_unknown(void *arg)
{
	static const char *const list[] = {
		"read", "no_such_syscall", "exit_group", NULL,
	};
	int fd = *(int *)arg;

	if (dup2(fd, STDERR_FILENO) != STDERR_FILENO)
		return 9;
	if (sandbox_enter(list) != -EINVAL)
		return 10;
	if (sandbox_enter(NULL) != -EINVAL)
		return 11;
	/* Nothing was loaded: an unlisted call still works. */
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0)
		return 12;
	close(fd);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 13;
	return 0;
}

START_TEST(test_unknown_name_is_error)
{
	char buf[512] = { 0 };
	pid_t pid;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	pid = run_child(child_unknown, &p[1]);
	close(p[1]);
	assert_exited(wait_child(pid), 0);
	ck_assert_int_gt(read(p[0], buf, sizeof(buf) - 1), 0);
	ck_assert_ptr_nonnull(strstr(buf, "err: sandbox: unknown syscall"));
	ck_assert_ptr_nonnull(strstr(buf, "no_such_syscall"));
	close(p[0]);
}
END_TEST

static int child_duplicates(void *arg)
{
	static const char *const list[] = {
		"write", "exit_group", "sigaltstack", "write", NULL,
	};

	(void)arg;
	return sandbox_enter(list) ? 10 : 0;
}

START_TEST(test_duplicate_names)
{
	assert_exited(wait_child(run_child(child_duplicates, NULL)), 0);
}
END_TEST

struct loop_child {
	int in;		/* parent -> child: a byte to read */
	int ack;	/* child -> parent: a byte back */
};

static void on_byte(int fd, void *arg)
{
	struct loop_child *lc = arg;
	char c;

	if (read_full(fd, &c, 1) == 0) {
		pr_info("sandboxed loop got '%c'", c);
		write_full(lc->ack, &c, 1);
	}
}

/* A real libevent loop under the base list, ended by SIGTERM. */
static int child_loop(void *arg)
{
	struct loop_child *lc = arg;
	struct event_base *base;
	struct event *ev;
	int sig;

	log_init("sandboxed", LOG_LVL_INFO);
	base = evloop_new();
	if (!base)
		return 9;
	ev = evloop_watch_fd(base, lc->in, on_byte, lc);
	if (!ev)
		return 9;
	if (sandbox_enter(sandbox_base_syscalls))
		return 10;
	if (evloop_run(base))
		return 11;
	sig = evloop_exit_signal(base);
	evloop_unwatch(&ev);
	evloop_free(base);
	return sig == SIGTERM ? 0 : 12;
}

START_TEST(test_base_list_runs_evloop)
{
	struct loop_child lc;
	int to_child[2], from_child[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(to_child), 0);
	ck_assert_int_eq(pipe(from_child), 0);
	lc.in = to_child[0];
	lc.ack = from_child[1];
	pid = run_child(child_loop, &lc);

	ck_assert_int_eq(write(to_child[1], "s", 1), 1);
	ck_assert_int_eq(read(from_child[0], &c, 1), 1);
	ck_assert_int_eq(c, 's');
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	assert_exited(wait_child(pid), 0);
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	close(from_child[1]);
}
END_TEST

START_TEST(test_base_list_terminated)
{
	size_t n = 0;

	while (sandbox_base_syscalls[n])
		n++;
	ck_assert_uint_gt(n, 10);
	ck_assert_uint_lt(n, 100);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_allowed_call_works);
	tcase_add_test(tc, test_minimal_list_exits_cleanly);
	tcase_add_test(tc, test_forbidden_call_kills);
	tcase_add_test(tc, test_existing_thread_is_filtered);
	tcase_add_test(tc, test_unknown_name_is_error);
	tcase_add_test(tc, test_duplicate_names);
	tcase_add_test(tc, test_base_list_runs_evloop);
	tcase_add_test(tc, test_base_list_terminated);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
