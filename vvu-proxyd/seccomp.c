// SPDX-License-Identifier: GPL-2.0-only
/*
 * proxyd's seccomp allow-list. Once the vmm is connected, everything the
 * daemon needs exists: both listening sockets, the control channel, its
 * eventfds. What it still does: a libevent loop (common/sandbox's base
 * list), recvmsg/sendmsg with fds, accept4 of the next sibling (and its
 * socket timeouts), fstat of a memfd before BAR4 maps it, mmap/munmap of
 * the device VM's RAM (in the base list). It never opens a path, creates
 * a socket or an eventfd, forks, or execs again.
 */
#include "common/sandbox.h"
#include "vvu-proxyd/proxyd.h"

static const char *const proxyd_syscalls[] = {
	"accept4", "setsockopt", "fstat", "newfstatat",
};

#define NEXTRA		(sizeof(proxyd_syscalls) / sizeof(proxyd_syscalls[0]))
#define MAX_SYSCALLS	128

int proxyd_sandbox_enter(void)
{
	const char *list[MAX_SYSCALLS];
	size_t n = 0;

	while (sandbox_base_syscalls[n] && n < MAX_SYSCALLS - NEXTRA - 1) {
		list[n] = sandbox_base_syscalls[n];
		n++;
	}
	for (size_t i = 0; i < NEXTRA; i++)
		list[n++] = proxyd_syscalls[i];
	list[n] = NULL;
	return sandbox_enter(list);
}
