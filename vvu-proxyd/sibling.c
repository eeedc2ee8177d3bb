// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost-user session with the sibling's front-end. One sibling at a
 * time, and only while the driver has the device running; later ones wait
 * in the backlog, also until the driver has marked the end of the previous
 * session on txq: a reply it sends before that mark, late, is for the gone
 * sibling and is dropped, never delivered to the next one.
 *
 * Every request goes whole to the driver on rxq, after its fds were turned
 * into something of the device VM (protocol/vvu.h, "fds on the wire"):
 *   SET_MEM_TABLE / ADD_MEM_REG  memfds -> BAR4 slots (SHM_MAP); the
 *                                forwarded mmap_offset is the BAR4 offset
 *   SET_VRING_CALL               eventfd -> doorbell i (IOEVENTFD_ADD)
 *   SET_VRING_KICK               eventfd -> queue i's MSI-X vector (IRQFD_ADD)
 *   SET_VRING_ERR, REM_MEM_REG   fd closed
 * No thread of proxyd ever reads or writes those fds: KVM does.
 *
 * Policy (as vblk-backend's): malformed input drops the sibling; a request
 * the proxy cannot carry is refused with an error reply when the front-end
 * asked for one (REPLY_ACK), else it drops the sibling too. Every fd that
 * came with a message is closed on every path (the vmm has its own copies).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/unix_listen.h"
#include "vvu-proxyd/proxyd.h"

/* A front-end that stops mid-message for this long is dropped. */
#define SIB_IO_TIMEOUT_SEC	5
#define SIB_BACKLOG		8

/* What a handler tells on_msg: carry on, or drop the sibling. */
#define SIB_DROP	(-1)

static void watch_listen(struct proxy *p, bool on);

void sibling_init(struct proxy *p)
{
	struct proxy_sibling *s = &p->sib;

	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->conn_fd = -1;
	memset(s->kick_fd, -1, sizeof(s->kick_fd));
	shm_init(&s->shm, p->dev.shm_size);
}

/* --- undoing a session ------------------------------------------------------ */

static void shm_unmap_all(struct proxy *p)
{
	for (uint32_t i = 0; i < PROXY_SHM_MAX_REGIONS; i++) {
		if (p->sib.shm.regions[i].used)
			p->host->shm_unmap(p, i);
	}
	shm_init(&p->sib.shm, p->dev.shm_size);
}

static void call_unbind(struct proxy *p, unsigned int i)
{
	if (!p->sib.call_bound[i])
		return;
	p->host->ioeventfd_del(p, PROXY_IOEVENTFD_DOORBELL(i));
	p->sib.call_bound[i] = false;
}

static void kick_unbind(struct proxy *p, unsigned int i)
{
	if (!p->sib.kick_bound[i])
		return;
	p->host->irqfd_del(p, PROXY_IRQFD_VHOST(i));
	p->sib.kick_bound[i] = false;
}

static void kick_forget(struct proxy *p, unsigned int i)
{
	kick_unbind(p, i);
	if (p->sib.kick_fd[i] >= 0)
		close(p->sib.kick_fd[i]);
	p->sib.kick_fd[i] = -1;
}

static void session_undo(struct proxy *p)
{
	shm_unmap_all(p);
	for (unsigned int i = 0; i < VVU_MAX_VHOST_QUEUES; i++) {
		call_unbind(p, i);
		kick_forget(p, i);
	}
	p->sib.protocol = 0;
	p->sib.paused = false;
}

void sibling_drop(struct proxy *p, const char *why)
{
	struct proxy_sibling *s = &p->sib;

	if (s->conn_fd < 0)
		return;
	pr_info("sibling %u gone: %s", s->gen, why);
	evloop_unwatch(&s->conn_ev);
	close(s->conn_fd);
	s->conn_fd = -1;
	session_undo(p);
	/*
	 * Status bit 0 goes first, so a driver that reads it on seeing the
	 * zero-length rx buffer finds it clear; then the config interrupt.
	 * A driver that is resetting gets neither.
	 */
	p->dev.config.status &= ~VVU_STATUS_BACKEND_UP;
	if (p->q.started) {
		queues_rx_disconnected(p);
		virtio_pci_model_config_changed(&p->dev.model);
		s->draining = true;
	}
	watch_listen(p, s->enabled);
}

void sibling_session_ended(struct proxy *p)
{
	if (!p->sib.draining) {
		pr_debug("txq: an end-of-session mark outside a session's end");
		return;
	}
	p->sib.draining = false;
	watch_listen(p, p->sib.enabled);
}

void sibling_refused(struct proxy *p, uint32_t gen)
{
	if (gen == p->sib.gen)
		sibling_drop(p, "the vmm refused a mapping");
}

/* --- forwarding ------------------------------------------------------------- */

static void conn_watch(struct proxy *p, bool on);

static int forward(struct proxy *p, struct vu_msg *m)
{
	uint8_t buf[VU_MSG_MAX_LEN];
	ssize_t len = vu_msg_serialize(m, buf, sizeof(buf));

	if (len < 0)
		return SIB_DROP;
	if (m->hdr.request == VHOST_USER_SET_PROTOCOL_FEATURES)
		p->sib.protocol = m->payload.u64;
	queues_rx_send(p, buf, (uint32_t)len);
	if (!queues_rx_room(p) && p->sib.conn_fd >= 0) {
		p->sib.paused = true;
		conn_watch(p, false);
	}
	return 0;
}

void sibling_rx_drained(struct proxy *p)
{
	if (!p->sib.paused || p->sib.conn_fd < 0 || !queues_rx_room(p))
		return;
	p->sib.paused = false;
	conn_watch(p, true);
}

/*
 * Refuses m: an error reply if the front-end waits for an ack, else the
 * sibling goes (it would wait forever for what we cannot give).
 */
static int refuse(struct proxy *p, struct vu_msg *m, const char *why)
{
	bool ack = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
		   (p->sib.protocol & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));

	pr_warn("sibling: %s refused: %s", vu_request_name(m->hdr.request), why);
	if (!ack)
		return SIB_DROP;
	vu_msg_make_reply(m, sizeof(m->payload.u64));
	m->payload.u64 = 1;
	return vu_msg_send(p->sib.conn_fd, m) ? SIB_DROP : 0;
}

static int bad(const struct vu_msg *m, const char *why)
{
	pr_warn("sibling: bad %s: %s", vu_request_name(m->hdr.request), why);
	return SIB_DROP;
}

/* --- memory: BAR4 ------------------------------------------------------------ */

static int64_t file_size(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return st.st_size;
}

static int place(const struct proxy_shm *shm, const struct vhost_user_mem_region *w,
		 int fd, struct shm_region *out)
{
	int64_t size = file_size(fd);

	return size < 0 ? -EBADF : shm_place(shm, w, (uint64_t)size, out);
}

static void map_slot(struct proxy *p, uint32_t slot, int fd)
{
	const struct shm_region *r = &p->sib.shm.regions[slot];
	struct devchan_shm_map map = {
		.slot = slot, .bar = VVU_BAR4, .bar_offset = r->map_off,
		.size = r->map_size, .fd_offset = r->fd_off,
	};

	p->host->shm_map(p, &map, fd);
}

/* SET_MEM_TABLE replaces BAR4's contents: all regions placed, or none. */
static int set_mem_table(struct proxy *p, struct vu_msg *m)
{
	struct vhost_user_memory *mem = &m->payload.memory;
	int slot_of[VHOST_USER_MEM_REGIONS_MAX];
	struct proxy_shm next;
	uint32_t n = mem->nregions;

	if (n > VHOST_USER_MEM_REGIONS_MAX || m->hdr.size < VHOST_USER_MEMORY_SIZE(n))
		return refuse(p, m, "more regions than 8 or than the payload holds");
	if (m->nfds != n)
		return refuse(p, m, "not one fd per region");
	shm_init(&next, p->dev.shm_size);
	for (uint32_t i = 0; i < n; i++) {
		struct shm_region r;

		slot_of[i] = place(&next, &mem->regions[i], m->fds[i], &r);
		if (slot_of[i] < 0)
			return refuse(p, m, strerror(-slot_of[i]));
		next.regions[slot_of[i]] = r;
	}
	shm_unmap_all(p);
	p->sib.shm = next;
	for (uint32_t i = 0; i < n; i++) {
		map_slot(p, (uint32_t)slot_of[i], m->fds[i]);
		mem->regions[i].mmap_offset = next.regions[slot_of[i]].bar_off;
	}
	m->hdr.size = (uint32_t)VHOST_USER_MEMORY_SIZE(n);
	return forward(p, m);
}

static int add_mem_reg(struct proxy *p, struct vu_msg *m)
{
	struct vhost_user_mem_region *w = &m->payload.mem_reg.region;
	struct shm_region r;
	int slot;

	if (m->nfds != 1)
		return refuse(p, m, "not one fd");
	slot = place(&p->sib.shm, w, m->fds[0], &r);
	if (slot < 0)
		return refuse(p, m, strerror(-slot));
	p->sib.shm.regions[slot] = r;
	map_slot(p, (uint32_t)slot, m->fds[0]);
	w->mmap_offset = r.bar_off;
	return forward(p, m);
}

static int rem_mem_reg(struct proxy *p, struct vu_msg *m)
{
	struct vhost_user_mem_region *w = &m->payload.mem_reg.region;
	int slot = shm_find(&p->sib.shm, w);

	/* QEMU attaches the region's fd; nothing needs it. */
	if (m->nfds > 1)
		return bad(m, "more than one fd");
	if (slot < 0)
		return refuse(p, m, "no such region");
	p->host->shm_unmap(p, (uint32_t)slot);
	w->mmap_offset = p->sib.shm.regions[slot].bar_off;
	p->sib.shm.regions[slot].used = false;
	return forward(p, m);
}

/* --- vring eventfds: doorbells and notification vectors ----------------------- */

/* The fd that comes with a KICK/CALL/ERR: -1 with NOFD; -2 if that is wrong. */
static int vring_fd(struct vu_msg *m)
{
	bool nofd = m->payload.u64 & VHOST_USER_VRING_NOFD_MASK;

	if (m->nfds != (nofd ? 0u : 1u))
		return -2;
	return nofd ? -1 : vu_msg_take_fd(m, 0);
}

static int set_vring_call(struct proxy *p, struct vu_msg *m, uint32_t i)
{
	int fd = vring_fd(m);
	struct devchan_ioeventfd_add add = {
		.id = PROXY_IOEVENTFD_DOORBELL(i), .bar = VVU_BAR2,
		.len = 0,	/* a doorbell write of any size */
		.offset = VVU_DOORBELL_OFFSET + VVU_DOORBELL_OFF_MULTIPLIER * i,
	};

	if (fd == -2)
		return bad(m, "fd count does not match the NOFD flag");
	call_unbind(p, i);
	if (fd >= 0) {
		p->host->ioeventfd_add(p, &add, fd);
		p->sib.call_bound[i] = true;
		close(fd);	/* the vmm holds its own copy */
	}
	return forward(p, m);
}

/* Binds vhost queue i's kick eventfd to the vector the driver chose. */
static void kick_bind(struct proxy *p, unsigned int i)
{
	uint16_t vector = p->dev.notif_vector[i];

	kick_unbind(p, i);
	if (p->sib.kick_fd[i] < 0 || vector == VIRTIO_MSI_NO_VECTOR)
		return;
	p->host->irqfd_add(p, PROXY_IRQFD_VHOST(i), vector, p->sib.kick_fd[i]);
	p->sib.kick_bound[i] = true;
}

void sibling_vector_changed(struct proxy *p, unsigned int i)
{
	kick_bind(p, i);
}

static int set_vring_kick(struct proxy *p, struct vu_msg *m, uint32_t i)
{
	int fd = vring_fd(m);

	if (fd == -2)
		return bad(m, "fd count does not match the NOFD flag");
	kick_forget(p, i);
	p->sib.kick_fd[i] = fd;	/* kept: a new vector rebinds it */
	kick_bind(p, i);
	return forward(p, m);
}

static int set_vring_err(struct proxy *p, struct vu_msg *m)
{
	int fd = vring_fd(m);

	if (fd == -2)
		return bad(m, "fd count does not match the NOFD flag");
	/* Nothing in the device VM could signal it: say there is none. */
	if (fd >= 0)
		close(fd);
	m->payload.u64 |= VHOST_USER_VRING_NOFD_MASK;
	return forward(p, m);
}

/* --- requests ---------------------------------------------------------------- */

/* What a carried request may not ask for. */
static const char *carry_refusal(const struct vu_msg *m)
{
	if (m->hdr.request == VHOST_USER_SET_FEATURES &&
	    (m->payload.u64 & ~proxy_features_mask))
		return "dirty logging is not carried";
	if (m->hdr.request == VHOST_USER_SET_PROTOCOL_FEATURES &&
	    (m->payload.u64 & ~proxy_protocol_mask))
		return "protocol features the proxy does not carry";
	return NULL;
}

static int carry(struct proxy *p, struct vu_msg *m)
{
	const char *why = carry_refusal(m);

	if (m->nfds)
		return bad(m, "fds on a request that takes none");
	return why ? refuse(p, m, why) : forward(p, m);
}

static int handle(struct proxy *p, struct vu_msg *m)
{
	enum proxy_rule rule = proxy_request_rule(m->hdr.request);
	uint32_t i = 0;

	if (m->hdr.flags & VHOST_USER_REPLY_MASK)
		return bad(m, "a reply where a request belongs");
	if (rule == RULE_UNKNOWN || vu_msg_check_size(m))
		return bad(m, "unknown request or wrong payload size");
	if (proxy_request_vring_index(m, &i) && i >= VVU_MAX_VHOST_QUEUES)
		return refuse(p, m, "queue index beyond the device's 16");
	switch (rule) {
	case RULE_CARRY:	return carry(p, m);
	case RULE_MEM_TABLE:	return set_mem_table(p, m);
	case RULE_ADD_MEM_REG:	return add_mem_reg(p, m);
	case RULE_REM_MEM_REG:	return rem_mem_reg(p, m);
	case RULE_VRING_CALL:	return set_vring_call(p, m, i);
	case RULE_VRING_KICK:	return set_vring_kick(p, m, i);
	case RULE_VRING_ERR:	return set_vring_err(p, m);
	case RULE_REFUSE:
	case RULE_UNKNOWN:
		break;
	}
	return refuse(p, m, "needs an fd the device cannot carry");
}

static void on_msg(int fd, void *arg)
{
	struct proxy *p = arg;
	struct vu_msg m;
	int r;

	r = vu_msg_recv(fd, &m);
	if (r == -ECONNRESET) {
		sibling_drop(p, "disconnected");
		return;
	}
	if (!r)
		r = handle(p, &m);
	else
		pr_warn("sibling: unreadable message: %s", strerror(-r));
	vu_msg_close_fds(&m);
	if (r)
		sibling_drop(p, "bad input");
}

/* --- replies from the driver ---------------------------------------------------- */

void sibling_from_driver(struct proxy *p, const void *buf, size_t len)
{
	struct vu_msg m;

	if (vu_msg_parse(&m, buf, len) || !(m.hdr.flags & VHOST_USER_REPLY_MASK)) {
		pr_warn_limited("txq: a malformed message, or a request (%u bytes)",
				(unsigned int)len);
		sibling_drop(p, "bad message from the driver");
		return;
	}
	if (p->sib.conn_fd < 0) {
		pr_debug("txq: %s reply for a sibling that is gone",
			 vu_request_name(m.hdr.request));
		return;
	}
	if (proxy_mask_reply(&m))
		pr_debug("%s reply masked to what the proxy carries",
			 vu_request_name(m.hdr.request));
	if (vu_msg_send(p->sib.conn_fd, &m))
		sibling_drop(p, "cannot send a reply");
}

/* --- the socket ------------------------------------------------------------------ */

static void conn_watch(struct proxy *p, bool on)
{
	if (!on) {
		evloop_unwatch(&p->sib.conn_ev);
		return;
	}
	if (p->base && !p->sib.conn_ev)
		p->sib.conn_ev = evloop_watch_fd(p->base, p->sib.conn_fd, on_msg, p);
}

static void on_accept(int fd, void *arg)
{
	struct proxy *p = arg;
	int conn = unix_accept(fd, SIB_IO_TIMEOUT_SEC);

	if (conn < 0)
		return;
	p->sib.conn_fd = conn;
	p->sib.gen++;
	conn_watch(p, true);
	if (!p->sib.conn_ev) {
		sibling_drop(p, "cannot watch its socket");
		return;
	}
	/* Later siblings wait in the backlog until this one is gone. */
	watch_listen(p, false);
	pr_info("sibling %u connected", p->sib.gen);
	proxy_dev_set_status(p, VVU_STATUS_BACKEND_UP, true);
}

static void watch_listen(struct proxy *p, bool on)
{
	struct proxy_sibling *s = &p->sib;

	if (!on || s->conn_fd >= 0 || s->draining) {
		evloop_unwatch(&s->listen_ev);
		return;
	}
	if (p->base && s->listen_fd >= 0 && !s->listen_ev)
		s->listen_ev = evloop_watch_fd(p->base, s->listen_fd, on_accept, p);
}

void sibling_enable(struct proxy *p, bool on)
{
	p->sib.enabled = on;
	if (!on)
		sibling_drop(p, "the driver stopped the device");
	/* A driver that (re)starts the device has no session to end. */
	p->sib.draining = false;
	watch_listen(p, on);
}

int sibling_listen(struct proxy *p, const char *path)
{
	int fd = unix_listen(path, SOCK_STREAM, SIB_BACKLOG);

	if (fd < 0)
		return fd;
	p->sib.listen_fd = fd;
	p->sib.path = path;
	return 0;
}

void sibling_close(struct proxy *p)
{
	p->sib.enabled = false;
	sibling_drop(p, "shutting down");
	evloop_unwatch(&p->sib.listen_ev);
	if (p->sib.listen_fd >= 0)
		close(p->sib.listen_fd);
	p->sib.listen_fd = -1;
}
