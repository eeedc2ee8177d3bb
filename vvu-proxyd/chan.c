// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device channel, proxyd's side. Control messages from the vmm (HELLO,
 * RAM_ADD, ACCESS_CHANNEL, RESET, REPLY) are answered at once, in order;
 * proxyd's own requests (memory slots, ioeventfds, irqfds) are sent and
 * never waited for: their REPLYs arrive later on the same socket, matched
 * against the oldest outstanding request. A refusal is logged, and drops
 * the sibling session the request was for. That drop deletes what the
 * session added, the refused request's slot or id too: later requests may
 * have reused it by the time the refusal arrives, and a vmm that answers
 * a delete of nothing with ENOENT is harmless.
 *
 * A bad message ends the session with the vmm (and proxyd with it), as
 * does its EOF; a bad access command closes that access channel only.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/unix_listen.h"
#include "vvu-proxyd/chan.h"

static struct proxy_chan *chan(struct proxy *p)
{
	return p->chan;
}

/* The session with the vmm is over: nothing more is sent to it. */
static void chan_end(struct proxy *p, int code)
{
	struct proxy_chan *c = chan(p);

	c->exit_code = code;
	evloop_unwatch(&c->ctrl_ev);
	if (c->ctrl_fd >= 0)
		close(c->ctrl_fd);
	c->ctrl_fd = -1;
	if (p->base)
		evloop_stop(p->base);
}

/* --- proxyd's requests ------------------------------------------------------- */

static void request(struct proxy *p, struct devchan_msg *m, uint32_t sib_gen)
{
	struct proxy_chan *c = chan(p);
	struct proxy_pending *pe;
	const char *why = "";
	int r;

	if (c->ctrl_fd < 0)
		return;
	if (c->pend_count == CHAN_MAX_PENDING) {
		pr_err("devchan: the vmm answers none of %u requests", c->pend_count);
		chan_end(p, 1);
		return;
	}
	r = devchan_send(c->ctrl_fd, m, DEVCHAN_FROM_PROXYD, &why);
	if (r) {
		pr_err("devchan: cannot send %s: %s %s", devchan_msg_name(m->hdr.type),
		       strerror(-r), why);
		chan_end(p, 1);
		return;
	}
	pe = &c->pending[(c->pend_head + c->pend_count++) % CHAN_MAX_PENDING];
	pe->id = m->hdr.id;
	pe->type = m->hdr.type;
	pe->sib_gen = sib_gen;
	queues_rx_hold(p, true);
}

static uint64_t next_id(struct proxy *p)
{
	return ++chan(p)->next_id;
}

/* The session a request belongs to, so a late refusal drops only that one. */
static uint32_t sib_gen(struct proxy *p)
{
	return p->sib.conn_fd >= 0 ? p->sib.gen : 0;
}

static void host_shm_map(struct proxy *p, const struct devchan_shm_map *map,
			 int fd)
{
	struct devchan_msg m;

	devchan_build_shm_map(&m, next_id(p), map, fd);
	request(p, &m, sib_gen(p));
}

static void host_shm_unmap(struct proxy *p, uint32_t slot)
{
	struct devchan_msg m;

	devchan_build_shm_unmap(&m, next_id(p), slot);
	request(p, &m, 0);
}

static void host_ioeventfd_add(struct proxy *p,
			       const struct devchan_ioeventfd_add *add, int efd)
{
	struct devchan_msg m;

	devchan_build_ioeventfd_add(&m, next_id(p), add, efd);
	request(p, &m, add->id >= PROXY_IOEVENTFD_DOORBELL(0) ? sib_gen(p) : 0);
}

static void host_ioeventfd_del(struct proxy *p, uint32_t id)
{
	struct devchan_msg m;

	devchan_build_ioeventfd_del(&m, next_id(p), id);
	request(p, &m, 0);
}

static void host_irqfd_add(struct proxy *p, uint32_t id, uint16_t vector,
			   int efd)
{
	struct devchan_msg m;

	devchan_build_irqfd_add(&m, next_id(p), id, vector, efd);
	request(p, &m, id >= PROXY_IRQFD_VHOST(0) ? sib_gen(p) : 0);
}

static void host_irqfd_del(struct proxy *p, uint32_t id)
{
	struct devchan_msg m;

	devchan_build_irqfd_del(&m, next_id(p), id);
	request(p, &m, 0);
}

const struct proxy_host_ops proxy_chan_host_ops = {
	.shm_map = host_shm_map,
	.shm_unmap = host_shm_unmap,
	.ioeventfd_add = host_ioeventfd_add,
	.ioeventfd_del = host_ioeventfd_del,
	.irqfd_add = host_irqfd_add,
	.irqfd_del = host_irqfd_del,
};

static int on_reply(struct proxy *p, const struct devchan_msg *m)
{
	struct proxy_chan *c = chan(p);
	struct proxy_pending *pe = &c->pending[c->pend_head];
	uint32_t status = m->payload.reply.status;

	if (!c->pend_count || pe->id != m->hdr.id) {
		pr_err("devchan: REPLY %llu answers no outstanding request",
		       (unsigned long long)m->hdr.id);
		return -EPROTO;
	}
	c->pend_head = (c->pend_head + 1) % CHAN_MAX_PENDING;
	c->pend_count--;
	if (status) {
		pr_warn("devchan: the vmm refused %s: %s", devchan_msg_name(pe->type),
			strerror((int)status));
		if (pe->sib_gen)
			sibling_refused(p, pe->sib_gen);
	}
	/* After a refusal too: the sibling's drop marker must reach the driver. */
	if (!c->pend_count)
		queues_rx_hold(p, false);
	return 0;
}

/* --- access channels ---------------------------------------------------------- */

static void access_close(struct proxy_access_chan *a)
{
	evloop_unwatch(&a->ev);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static void on_access(int fd, void *arg)
{
	struct proxy_access_chan *ac = arg;
	struct proxy *p = ac->p;
	struct devchan_access a;
	const char *why = "";
	uint64_t val;
	int r;

	r = devchan_access_recv_cmd(fd, &a, &why);
	if (!r)
		r = devchan_access_check_device(&a, &p->dev.desc, &why);
	if (r) {
		if (r != -ECONNRESET)
			pr_warn("devchan: bad access command: %s %s", strerror(-r), why);
		access_close(ac);
		return;
	}
	val = proxy_access(p, &a);
	if (a.resp && devchan_access_send_resp(fd, val)) {
		pr_warn("devchan: cannot answer an access: %m");
		access_close(ac);
	}
}

static int on_access_channel(struct proxy *p, struct devchan_msg *m)
{
	struct proxy_chan *c = chan(p);
	uint32_t index = m->payload.access_channel.index;
	struct proxy_access_chan *ac;

	if (index >= c->nr_access) {
		pr_err("devchan: ACCESS_CHANNEL %u of %u", index, c->nr_access);
		return -EBADMSG;
	}
	ac = &c->acc[index];
	if (ac->fd >= 0)
		return EEXIST;
	ac->fd = devchan_msg_take_fd(m, 0);
	if (p->base)
		ac->ev = evloop_watch_fd(p->base, ac->fd, on_access, ac);
	if (p->base && !ac->ev) {
		access_close(ac);
		return ENOMEM;
	}
	return 0;
}

/* --- control messages ----------------------------------------------------------- */

static int send_msg(struct proxy *p, const struct devchan_msg *m)
{
	const char *why = "";
	int r = devchan_send(chan(p)->ctrl_fd, m, DEVCHAN_FROM_PROXYD, &why);

	if (r)
		pr_err("devchan: cannot send %s: %s %s", devchan_msg_name(m->hdr.type),
		       strerror(-r), why);
	return r;
}

static int on_hello(struct proxy *p, const struct devchan_msg *m)
{
	struct devchan_msg dev;

	chan(p)->hello_done = true;
	chan(p)->nr_access = m->payload.hello.nr_access_channels;
	devchan_build_device(&dev, m->hdr.id, &p->dev.desc);
	if (send_msg(p, &dev))
		return -EPIPE;
	pr_info("the vmm is here, with %u vCPUs", chan(p)->nr_access);
	proxy_dev_bind_kicks(p);
	return 0;
}

static int on_ram_add(struct proxy *p, struct devchan_msg *m)
{
	const struct devchan_ram_add *ra = &m->payload.ram_add;
	int fd = devchan_msg_take_fd(m, 0);
	int r = queues_ram_add(p, ra->gpa, ra->size, ra->fd_offset, fd);

	close(fd);	/* the mapping holds the memory */
	return -r;
}

/* A request of the vmm's: a positive errno to refuse it, negative: a fault. */
static int on_request(struct proxy *p, struct devchan_msg *m)
{
	switch (m->hdr.type) {
	case DEVCHAN_MSG_RAM_ADD:
		return on_ram_add(p, m);
	case DEVCHAN_MSG_ACCESS_CHANNEL:
		return on_access_channel(p, m);
	case DEVCHAN_MSG_RESET:
		proxy_dev_reset(p);
		return 0;
	}
	pr_err("devchan: %s from the vmm", devchan_msg_name(m->hdr.type));
	return -EPROTO;
}

static int dispatch(struct proxy *p, struct devchan_msg *m)
{
	struct devchan_msg reply;
	int r;

	if ((m->hdr.type == DEVCHAN_MSG_HELLO) == chan(p)->hello_done) {
		pr_err("devchan: %s %s HELLO", devchan_msg_name(m->hdr.type),
		       chan(p)->hello_done ? "after" : "before");
		return -EPROTO;
	}
	if (m->hdr.type == DEVCHAN_MSG_HELLO)
		return on_hello(p, m);
	if (m->hdr.type == DEVCHAN_MSG_REPLY)
		return on_reply(p, m);
	r = on_request(p, m);
	if (r < 0)
		return r;
	devchan_build_reply(&reply, m->hdr.id, r);
	return send_msg(p, &reply);
}

static void on_ctrl(int fd, void *arg)
{
	struct proxy *p = arg;
	struct devchan_msg m;
	const char *why = "";
	int r;

	r = devchan_recv(fd, &m, DEVCHAN_FROM_VMM, &why);
	if (r == -ECONNRESET) {
		pr_info("the vmm closed the device channel: exiting");
		chan_end(p, 0);
		return;
	}
	if (r) {
		pr_err("devchan: bad %s from the vmm: %s", devchan_msg_name(m.hdr.type),
		       why);
		chan_end(p, 1);
		return;
	}
	r = dispatch(p, &m);
	devchan_msg_close_fds(&m);
	if (r)
		chan_end(p, 1);
}

/* --- setup --------------------------------------------------------------------- */

void chan_init(struct proxy *p, struct proxy_chan *c)
{
	memset(c, 0, sizeof(*c));
	c->listen_fd = -1;
	c->ctrl_fd = -1;
	for (unsigned int i = 0; i < DEVCHAN_MAX_ACCESS_CHANNELS; i++) {
		c->acc[i].p = p;
		c->acc[i].fd = -1;
	}
	p->chan = c;
	p->host = &proxy_chan_host_ops;
}

int chan_attach(struct proxy *p, int fd)
{
	struct proxy_chan *c = chan(p);

	c->ctrl_fd = fd;
	c->ctrl_ev = evloop_watch_fd(p->base, fd, on_ctrl, p);
	if (!c->ctrl_ev)
		return -ENOMEM;
	return c->connected ? c->connected(p) : 0;
}

/* One vmm: once it is here, nobody else may connect. */
static void on_vmm(int fd, void *arg)
{
	struct proxy *p = arg;
	struct proxy_chan *c = chan(p);
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0)
		return;
	evloop_unwatch(&c->listen_ev);
	close(c->listen_fd);
	c->listen_fd = -1;
	if (unlink(c->path) < 0)
		pr_warn("cannot remove %s: %m", c->path);
	if (chan_attach(p, conn)) {
		pr_err("cannot serve the vmm");
		chan_end(p, 1);
	}
}

int chan_listen(struct proxy *p, const char *path)
{
	struct proxy_chan *c = chan(p);
	int fd = unix_listen(path, SOCK_SEQPACKET, 1);

	if (fd < 0)
		return fd;
	c->listen_fd = fd;
	c->path = path;
	c->listen_ev = evloop_watch_fd(p->base, fd, on_vmm, p);
	return c->listen_ev ? 0 : -ENOMEM;
}

void chan_close(struct proxy *p)
{
	struct proxy_chan *c = chan(p);

	for (unsigned int i = 0; i < DEVCHAN_MAX_ACCESS_CHANNELS; i++)
		access_close(&c->acc[i]);
	evloop_unwatch(&c->ctrl_ev);
	if (c->ctrl_fd >= 0)
		close(c->ctrl_fd);
	c->ctrl_fd = -1;
	evloop_unwatch(&c->listen_ev);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (unlink(c->path) < 0)
			pr_warn("cannot remove %s: %m", c->path);
	}
	c->listen_fd = -1;
}
