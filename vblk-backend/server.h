/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The UNIX-socket transport: listen on a path, serve one front-end at a
 * time on a libevent loop (later ones wait in the backlog), watch kick
 * eventfds, and reset the back-end after every disconnect.
 */
#ifndef VBLK_SERVER_H
#define VBLK_SERVER_H

#include "vblk-backend/vu_backend.h"

struct event_base;
struct event;
struct vu_server;

struct vu_kick_watch {
	struct vu_server *srv;
	unsigned int qidx;
	struct event *ev;
};

struct vu_server {
	struct event_base *base;
	struct vu_backend *vb;
	const char *path;
	int listen_fd;
	int conn_fd;
	struct event *listen_ev;
	struct event *conn_ev;
	struct vu_kick_watch kicks[VU_MAX_QUEUES];
};

/* The transport hooks; their opaque pointer is the struct vu_server. */
extern const struct vu_transport_ops vu_server_transport_ops;

void vu_server_init(struct vu_server *srv, struct event_base *base);

/*
 * Listens on path, replacing a stale socket left by a dead back-end but
 * refusing to take over a live one or a path that is not a socket.
 * vb must be set. 0 or -errno (logged).
 */
int vu_server_listen(struct vu_server *srv, const char *path);

/* Drops any front-end, stops listening and unlinks the socket. */
void vu_server_close(struct vu_server *srv);

#endif /* VBLK_SERVER_H */
