/* SPDX-License-Identifier: GPL-2.0-only */
/* A listening UNIX socket on a path, replacing a stale one a dead server left. */
#ifndef COMMON_UNIX_LISTEN_H
#define COMMON_UNIX_LISTEN_H

/*
 * Listens on path with a socket of type (SOCK_STREAM, SOCK_SEQPACKET),
 * non-blocking and close-on-exec. A socket file nobody listens on is
 * replaced; a live one, or a path that is not a socket, is refused.
 * Returns the fd or -errno (logged).
 */
int unix_listen(const char *path, int type, int backlog);

/*
 * Accepts one connection (close-on-exec) whose reads and writes time out
 * after io_timeout_sec, so a peer that stalls mid-message cannot hold a
 * loop for long. The fd, or -errno (-EAGAIN and the like are not logged).
 */
int unix_accept(int listen_fd, unsigned int io_timeout_sec);

#endif /* COMMON_UNIX_LISTEN_H */
