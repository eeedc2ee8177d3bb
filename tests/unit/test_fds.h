/* SPDX-License-Identifier: GPL-2.0-only */
/* What the Check tests of fd-passing code share: fd counting, socket pairs. */
#ifndef TESTS_UNIT_TEST_FDS_H
#define TESTS_UNIT_TEST_FDS_H

#include <check.h>
#include <dirent.h>
#include <sys/socket.h>

/* How many fds this process has open: a leak shows as a difference. */
static inline int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static inline void make_sockpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

#endif /* TESTS_UNIT_TEST_FDS_H */
