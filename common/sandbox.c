/* SPDX-License-Identifier: GPL-2.0-only */
/* libseccomp helper: an allow-list filter, everything else kills the process. */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "common/log.h"
#include "common/sandbox.h"

/*
 * What a running libevent (epoll backend, pthreads locking) daemon that logs
 * to stderr calls once its sockets and bases exist (log lines poll stderr
 * before writing, so a stalled reader cannot stall them); libevent 2.1 wakes its
 * loop from signal handlers and other threads with write/read (checked with
 * strace on the sandboxed loop in tests/unit/test_sandbox.c). The clock
 * calls normally stay in the vDSO but fall back to real syscalls on clock
 * sources without one. Sanitizer runtimes call sigaltstack on the way out,
 * so sanitized builds exit cleanly too (leak checking at exit needs far
 * more: run sandboxed sanitized programs with detect_leaks=0).
 */
const char *const sandbox_base_syscalls[] = {
	/* I/O and fd passing */
	"read", "write", "readv", "writev", "close",
	"recvmsg", "sendmsg", "fcntl", "poll", "ppoll",
	/* libevent's epoll backend */
	"epoll_wait", "epoll_pwait", "epoll_ctl",
	/* time */
	"clock_gettime", "gettimeofday", "time",
	/* signals */
	"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "restart_syscall",
	"sigaltstack",
	/* memory (malloc, realloc of large blocks) */
	"brk", "mmap", "munmap", "mremap", "madvise",
	/* threads and locks */
	"futex", "sched_yield", "getpid", "gettid", "getrandom",
	/* the end */
	"exit", "exit_group",
	NULL,
};

static int sandbox_allow(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR) {
		pr_err("sandbox: unknown syscall \"%s\"", name);
		return -EINVAL;
	}
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (r)
		pr_err("sandbox: cannot allow %s: %d", name, r);
	return r;
}

int sandbox_enter(const char *const *allowed_syscalls)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (!allowed_syscalls)
		return -EINVAL;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		pr_err("sandbox: seccomp_init failed");
		return -ENOMEM;
	}
	/* Threads that already exist get the filter too. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r) {
		pr_err("sandbox: cannot sync threads: %d", r);
		goto out;
	}
	for (i = 0; allowed_syscalls[i]; i++) {
		r = sandbox_allow(ctx, allowed_syscalls[i]);
		if (r)
			goto out;
	}

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		r = -errno;
		pr_err("sandbox: PR_SET_NO_NEW_PRIVS: %m");
		goto out;
	}
	r = seccomp_load(ctx);
	if (r)
		pr_err("sandbox: seccomp_load failed: %d", r);
out:
	seccomp_release(ctx);
	return r;
}
