/* SPDX-License-Identifier: GPL-2.0-only */
/* Byte streams with file descriptors over AF_UNIX sockets (SCM_RIGHTS). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/iov.h"

/*
 * Room for FDPASS_MAX_FDS per recvmsg, plus credentials in case the socket
 * has SO_PASSCRED. A peer sending more fds in one go gets MSG_CTRUNC, which
 * fd_recv treats like any other excess.
 */
union fdpass_cmsg_buf {
	char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS) +
		 CMSG_SPACE(sizeof(struct ucred))];
	struct cmsghdr align;
};

void fds_close(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int fds_take(int *fds, size_t n, size_t i)
{
	int fd;

	if (i >= n)
		return -1;
	fd = fds[i];
	fds[i] = -1;
	return fd;
}

int fd_sendv(int sock, const struct iovec *iov, int iovcnt,
	     const int *fds, size_t nfds)
{
	struct iovec local[FDPASS_MAX_IOV];
	struct iovec *cur = local;
	unsigned int left;
	union fdpass_cmsg_buf cbuf;
	struct msghdr msg;
	struct cmsghdr *cmsg;
	ssize_t n;

	if (iovcnt < 0 || iovcnt > FDPASS_MAX_IOV || nfds > FDPASS_MAX_FDS ||
	    (nfds && !fds))
		return -EINVAL;
	if (iovcnt)
		memcpy(local, iov, sizeof(*iov) * (size_t)iovcnt);
	/* SCM_RIGHTS needs at least one data byte to ride on. */
	left = (unsigned int)iovcnt;
	if (!iov_total(local, left))
		return nfds ? -EINVAL : 0;

	memset(&msg, 0, sizeof(msg));
	if (nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}

	while (left) {
		msg.msg_iov = cur;
		msg.msg_iovlen = left;
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* The fds went with the first byte; the rest is plain data. */
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		iov_advance(&cur, &left, (size_t)n);
	}
	return 0;
}

int fd_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return fd_sendv(sock, &iov, 1, fds, nfds);
}

/*
 * Moves the fds of every SCM_RIGHTS cmsg into fds[*nfds..max_fds).
 * Returns false if some did not fit; those are closed here.
 */
static bool collect_fds(struct msghdr *msg, int *fds, size_t max_fds,
			size_t *nfds)
{
	struct cmsghdr *cmsg;
	const unsigned char *data;
	bool fit = true;
	size_t i, n;
	int fd;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		data = CMSG_DATA(cmsg);
		for (i = 0; i < n; i++) {
			/* CMSG_DATA need not be int-aligned. */
			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			if (*nfds < max_fds) {
				fds[(*nfds)++] = fd;
			} else {
				close(fd);
				fit = false;
			}
		}
	}
	return fit;
}

/*
 * Reads the whole message even after an fd error, so a caller that wants to
 * carry on finds the stream at the next message boundary.
 */
int fd_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds,
	    size_t *nfds)
{
	union fdpass_cmsg_buf cbuf;
	struct msghdr msg;
	struct iovec iov;
	size_t got = 0;
	int err = 0;
	ssize_t n;

	*nfds = 0;
	if (max_fds && !fds)
		return -EINVAL;

	while (got < len) {
		iov.iov_base = (char *)buf + got;
		iov.iov_len = len - got;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);

		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		/* Fds that did arrive are ours to close, truncated or not. */
		if (!collect_fds(&msg, fds, max_fds, nfds) ||
		    (msg.msg_flags & MSG_CTRUNC))
			err = -EMSGSIZE;
		if (n == 0) {
			err = got ? -EPIPE : -ECONNRESET;
			break;
		}
		got += (size_t)n;
	}

	if (err) {
		fds_close(fds, *nfds);
		*nfds = 0;
	}
	return err;
}

int fd_recv_packet(int sock, const struct iovec *iov, int iovcnt, size_t *len,
		   int *fds, size_t max_fds, size_t *nfds)
{
	union fdpass_cmsg_buf cbuf;
	struct msghdr msg;
	int err = 0;
	ssize_t n;

	*nfds = 0;
	*len = 0;
	if (iovcnt < 0 || iovcnt > FDPASS_MAX_IOV || (max_fds && !fds))
		return -EINVAL;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	/* Fds that did arrive are ours to close, whatever else went wrong. */
	if (!collect_fds(&msg, fds, max_fds, nfds) ||
	    (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)))
		err = -EMSGSIZE;
	else if (n == 0)
		err = -ECONNRESET;
	if (err) {
		fds_close(fds, *nfds);
		*nfds = 0;
		return err;
	}
	*len = (size_t)n;
	return 0;
}

int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}
