// SPDX-License-Identifier: GPL-2.0-only
/*
 * UNIX-socket transport for the vhost-user back-end.
 *
 * One front-end at a time: while one is connected the listening socket is
 * not watched, so the next one waits in the backlog until this one goes.
 * Everything runs on one libevent loop; a message is read with a blocking
 * recv, bounded by a timeout so a peer that stalls mid-message cannot hold
 * the loop (and SIGTERM) hostage for long.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/unix_listen.h"
#include "common/vu_msg.h"
#include "vblk-backend/server.h"

/* A front-end that stops mid-message for this long is dropped. */
#define VU_SERVER_IO_TIMEOUT_SEC	5
#define VU_SERVER_BACKLOG		8

static void vu_server_watch_listen(struct vu_server *srv);

void vu_server_init(struct vu_server *srv, struct event_base *base)
{
	unsigned int i;

	memset(srv, 0, sizeof(*srv));
	srv->base = base;
	srv->listen_fd = -1;
	srv->conn_fd = -1;
	for (i = 0; i < VU_MAX_QUEUES; i++) {
		srv->kicks[i].srv = srv;
		srv->kicks[i].qidx = i;
	}
}

/* Forgets the front-end; relisten: accept the next one (else shutting down). */
static void vu_server_drop(struct vu_server *srv, bool relisten)
{
	if (srv->conn_fd < 0)
		return;
	/* Stops every ring (unwatching kicks), unmaps memory, closes fds. */
	vu_backend_reset(srv->vb);
	evloop_unwatch(&srv->conn_ev);
	close(srv->conn_fd);
	srv->conn_fd = -1;
	if (!relisten)
		return;
	pr_info("front-end gone; waiting for the next one");
	vu_server_watch_listen(srv);
}

static void vu_server_disconnect(struct vu_server *srv)
{
	vu_server_drop(srv, true);
}

static void vu_server_on_msg(int fd, void *arg)
{
	struct vu_server *srv = arg;
	struct vu_msg m;
	bool reply;
	int ret;

	ret = vu_msg_recv(fd, &m);
	if (ret == -ECONNRESET) {
		pr_info("front-end disconnected");
		vu_server_disconnect(srv);
		return;
	}
	if (ret) {
		pr_err("bad message from the front-end: %s", strerror(-ret));
		vu_msg_close_fds(&m);
		vu_server_disconnect(srv);
		return;
	}
	ret = vu_backend_handle_msg(srv->vb, &m, &reply);
	if (reply) {
		int sret = vu_msg_send(fd, &m);

		if (sret) {
			pr_err("cannot reply to the front-end: %s", strerror(-sret));
			ret = sret;
		}
	}
	if (ret)
		vu_server_disconnect(srv);
}

static void vu_server_on_kick(int fd, void *arg)
{
	struct vu_kick_watch *kw = arg;
	struct vu_server *srv = kw->srv;
	uint64_t v;
	ssize_t n;

	/* Drain the eventfd; the ring tells us what there is to do. */
	n = read(fd, &v, sizeof(v));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		pr_err("queue %u: kick fd is unusable (%s); dropping the front-end",
		       kw->qidx, n == 0 ? "end of file" : strerror(errno));
		vu_server_disconnect(srv);
		return;
	}
	if (vu_backend_process_vring(srv->vb, kw->qidx))
		vu_server_disconnect(srv);
}

static int vu_server_watch_kick(void *opaque, unsigned int qidx, int fd)
{
	struct vu_server *srv = opaque;
	struct vu_kick_watch *kw;

	if (qidx >= VU_MAX_QUEUES)
		return -EINVAL;
	kw = &srv->kicks[qidx];
	evloop_unwatch(&kw->ev);
	if (fd < 0)
		return 0;
	kw->ev = evloop_watch_fd(srv->base, fd, vu_server_on_kick, kw);
	return kw->ev ? 0 : -EINVAL;
}

const struct vu_transport_ops vu_server_transport_ops = {
	.watch_kick = vu_server_watch_kick,
};

static void vu_server_on_accept(int fd, void *arg)
{
	struct vu_server *srv = arg;
	int conn;

	conn = unix_accept(fd, VU_SERVER_IO_TIMEOUT_SEC);
	if (conn < 0)
		return;
	srv->conn_ev = evloop_watch_fd(srv->base, conn, vu_server_on_msg, srv);
	if (!srv->conn_ev) {
		close(conn);
		return;
	}
	srv->conn_fd = conn;
	/* Later front-ends wait in the backlog until this one is gone. */
	evloop_unwatch(&srv->listen_ev);
	pr_info("front-end connected");
}

static void vu_server_watch_listen(struct vu_server *srv)
{
	if (srv->listen_fd < 0 || srv->listen_ev)
		return;
	srv->listen_ev = evloop_watch_fd(srv->base, srv->listen_fd,
					 vu_server_on_accept, srv);
	if (!srv->listen_ev) {
		pr_err("cannot watch the listening socket; stopping");
		evloop_stop(srv->base);
	}
}

int vu_server_listen(struct vu_server *srv, const char *path)
{
	int fd = unix_listen(path, SOCK_STREAM, VU_SERVER_BACKLOG);

	if (fd < 0)
		return fd;
	srv->listen_fd = fd;
	srv->path = path;
	vu_server_watch_listen(srv);
	if (!srv->listen_ev) {
		vu_server_close(srv);
		return -ENOMEM;
	}
	return 0;
}

void vu_server_close(struct vu_server *srv)
{
	vu_server_drop(srv, false);
	evloop_unwatch(&srv->listen_ev);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		srv->listen_fd = -1;
		if (srv->path && unlink(srv->path) < 0 && errno != ENOENT)
			pr_warn("cannot remove %s: %m", srv->path);
	}
}
