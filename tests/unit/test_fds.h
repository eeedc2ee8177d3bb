/* SPDX-License-Identifier: GPL-2.0-only */
/* What the Check tests of fd-passing code share: fd counting, socket pairs. */
#ifndef TESTS_UNIT_TEST_FDS_H
#define TESTS_UNIT_TEST_FDS_H

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

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

static inline bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Code that must never close the caller's fds left fds[0..n) open: close them. */
static inline void assert_open_then_close(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_msg(fd_is_open(fds[i]), "fd %d was closed", fds[i]);
		close(fds[i]);
	}
}

static inline void make_sockpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* A message-preserving pair, as the device channel uses. */
static inline void make_seqpacket_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/*
 * Sends len bytes with n fds (n may be 0) in one sendmsg, bypassing the
 * limits of the code under test.
 */
static inline void raw_send_fds(int sock, const void *buf, size_t len,
				const int *fds, size_t n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 64)] __attribute__((aligned(8)));
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = n ? cbuf : NULL,
		.msg_controllen = n ? CMSG_SPACE(sizeof(int) * n) : 0,
	};
	struct cmsghdr *cmsg;

	ck_assert_uint_le(n, 64);
	if (n) {
		memset(cbuf, 0, sizeof(cbuf));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n);
	}
	ck_assert_int_eq(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

/* Two fds name the same open file (the very eventfd or memfd). */
static inline bool test_same_file(int a, int b)
{
	struct stat sa, sb;

	ck_assert_int_eq(fstat(a, &sa), 0);
	ck_assert_int_eq(fstat(b, &sb), 0);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

#endif /* TESTS_UNIT_TEST_FDS_H */
