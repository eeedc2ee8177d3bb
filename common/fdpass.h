/* SPDX-License-Identifier: GPL-2.0-only */
/* Byte streams with file descriptors over AF_UNIX sockets (SCM_RIGHTS). */
#ifndef COMMON_FDPASS_H
#define COMMON_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX_FDS	8
/* fd_sendv takes at most this many iovecs. */
#define FDPASS_MAX_IOV	8

struct iovec;

/*
 * Sends all len bytes; nfds fds (<= FDPASS_MAX_FDS) ride on the first byte.
 * Retries EINTR and short writes. Returns 0 or -errno. Never closes fds.
 */
int fd_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
/* Like fd_send, gathering from iov[0..iovcnt), iovcnt <= FDPASS_MAX_IOV. */
int fd_sendv(int sock, const struct iovec *iov, int iovcnt,
	     const int *fds, size_t nfds);

/*
 * Receives exactly len bytes (looping over short reads), collecting fds that
 * arrive with them into fds[] (capacity max_fds), count in *nfds.
 * Returns 0, -ECONNRESET if the peer closed before the first byte, -EPIPE if
 * it closed part-way, -EMSGSIZE if more fds arrived than fit or the kernel
 * truncated control data (MSG_CTRUNC), or -errno. On any error every fd
 * received by this call is closed and *nfds is 0. After -EMSGSIZE all len
 * bytes have still been read, so the stream stays at a message boundary.
 * Meant for blocking sockets: -EAGAIN part-way loses the bytes read so far.
 */
int fd_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *nfds);

/*
 * Receives one packet from a SOCK_SEQPACKET (or datagram) socket with a
 * single recvmsg, scattering it into iov[0..iovcnt) (iovcnt <=
 * FDPASS_MAX_IOV): its length in *len, its fds in fds[] (capacity max_fds,
 * count in *nfds). Returns 0; -ECONNRESET on EOF (a zero-length read);
 * -EMSGSIZE if the packet was longer than iov (the rest is gone), more fds
 * arrived than fit, or the kernel truncated control data; or -errno. On any
 * error every fd received is closed and *nfds is 0.
 */
int fd_recv_packet(int sock, const struct iovec *iov, int iovcnt, size_t *len,
		   int *fds, size_t max_fds, size_t *nfds);

/* Closes fds[0..n) that are >= 0 and sets them to -1. */
void fds_close(int *fds, size_t n);

/* Takes fds[i] out of fds[0..n) (sets it to -1) and returns it; -1 if i >= n. */
int fds_take(int *fds, size_t n, size_t i);

/* Plain full-length read/write on any fd, retrying EINTR: 0 or -errno (-EPIPE on EOF). */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

#endif /* COMMON_FDPASS_H */
