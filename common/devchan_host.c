// SPDX-License-Identifier: GPL-2.0-only
/* The vmm's side of the device channel: handshake, requests, accesses. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/devchan_host.h"
#include "common/log.h"
#include "common/range.h"

/* How long a request of ours may wait for proxyd's REPLY. */
#define DCH_REPLY_TIMEOUT_MS	5000

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void devchan_host_init(struct devchan_host *h, int ctrl,
		       const struct devchan_host_hooks *hooks, void *hook_arg)
{
	memset(h, 0, sizeof(*h));
	h->ctrl = ctrl;
	h->acc = -1;
	h->hooks = hooks;
	h->hook_arg = hook_arg;
	for (unsigned int i = 0; i < DEVCHAN_MAX_IOEVENTFDS; i++)
		h->ioev[i].fd = -1;
	for (unsigned int i = 0; i < DEVCHAN_MAX_IRQFDS; i++)
		h->irq[i].fd = -1;
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++)
		h->shm[i].fd = -1;
}

void devchan_host_close(struct devchan_host *h)
{
	close_fd(&h->ctrl);
	close_fd(&h->acc);
	for (unsigned int i = 0; i < DEVCHAN_MAX_IOEVENTFDS; i++) {
		close_fd(&h->ioev[i].fd);
		h->ioev[i].used = false;
	}
	for (unsigned int i = 0; i < DEVCHAN_MAX_IRQFDS; i++) {
		close_fd(&h->irq[i].fd);
		h->irq[i].used = false;
	}
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++) {
		close_fd(&h->shm[i].fd);
		h->shm[i].used = false;
	}
}

/* --- proxyd's requests, answered and recorded ----------------------------- */

static int rec_shm_map(struct devchan_host *h, struct devchan_msg *m)
{
	const struct devchan_shm_map *map = &m->payload.shm_map;
	struct devchan_host_shm *s = &h->shm[map->slot];
	int err;

	if (s->used)
		return EEXIST;
	/* Two slots at one place: a KVM memory slot cannot overlap another. */
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++) {
		const struct devchan_host_shm *o = &h->shm[i];

		if (o->used && o->map.bar == map->bar &&
		    range_overlaps(o->map.bar_offset, o->map.size,
				   map->bar_offset, map->size))
			return EBUSY;
	}
	s->map = *map;
	if (h->hooks && h->hooks->shm_map) {
		err = h->hooks->shm_map(h->hook_arg, s, m->fds[0]);
		if (err)
			return err;
	}
	s->used = true;
	s->fd = devchan_msg_take_fd(m, 0);
	h->shm_maps++;
	return 0;
}

static int rec_shm_unmap(struct devchan_host *h, uint32_t slot)
{
	struct devchan_host_shm *s = &h->shm[slot];

	if (!s->used)
		return ENOENT;
	if (h->hooks && h->hooks->shm_unmap)
		h->hooks->shm_unmap(h->hook_arg, s);
	s->used = false;
	close_fd(&s->fd);
	h->shm_unmaps++;
	return 0;
}

static int rec_ioeventfd_add(struct devchan_host *h, struct devchan_msg *m)
{
	const struct devchan_ioeventfd_add *add = &m->payload.ioeventfd_add;
	struct devchan_host_ioeventfd *e = &h->ioev[add->id];

	if (e->used || devchan_host_ioeventfd_at(h, add->bar, add->offset))
		return EEXIST;
	e->used = true;
	e->add = *add;
	e->fd = devchan_msg_take_fd(m, 0);
	return 0;
}

static int rec_ioeventfd_del(struct devchan_host *h, uint32_t id)
{
	struct devchan_host_ioeventfd *e = &h->ioev[id];

	if (!e->used)
		return ENOENT;
	e->used = false;
	close_fd(&e->fd);
	return 0;
}

static int rec_irqfd_add(struct devchan_host *h, struct devchan_msg *m)
{
	const struct devchan_irqfd_add *add = &m->payload.irqfd_add;
	struct devchan_host_irqfd *q = &h->irq[add->id];
	int err;

	if (q->used)
		return EEXIST;
	if (h->hooks && h->hooks->irqfd_add) {
		err = h->hooks->irqfd_add(h->hook_arg, add->id, add->vector,
					  m->fds[0]);
		if (err)
			return err;
	}
	q->used = true;
	q->vector = add->vector;
	q->fd = devchan_msg_take_fd(m, 0);
	return 0;
}

static int rec_irqfd_del(struct devchan_host *h, uint32_t id)
{
	struct devchan_host_irqfd *q = &h->irq[id];

	if (!q->used)
		return ENOENT;
	if (h->hooks && h->hooks->irqfd_del)
		h->hooks->irqfd_del(h->hook_arg, id, q);
	q->used = false;
	close_fd(&q->fd);
	return 0;
}

/*
 * The status for request m (ids were range-checked by devchan_recv): 0 or
 * a positive errno; negative for a refusal the filter asked for.
 */
static int answer(struct devchan_host *h, struct devchan_msg *m)
{
	uint32_t id = m->payload.del.id;
	int err;

	if (h->hooks && h->hooks->filter) {
		err = h->hooks->filter(h->hook_arg, m);
		if (err)
			return -err;
	}
	switch (m->hdr.type) {
	case DEVCHAN_MSG_SHM_MAP:	return rec_shm_map(h, m);
	case DEVCHAN_MSG_SHM_UNMAP:	return rec_shm_unmap(h, id);
	case DEVCHAN_MSG_IOEVENTFD_ADD:	return rec_ioeventfd_add(h, m);
	case DEVCHAN_MSG_IOEVENTFD_DEL:	return rec_ioeventfd_del(h, id);
	case DEVCHAN_MSG_IRQFD_ADD:	return rec_irqfd_add(h, m);
	case DEVCHAN_MSG_IRQFD_DEL:	return rec_irqfd_del(h, id);
	}
	return EPROTO;
}

static int on_request(struct devchan_host *h, struct devchan_msg *m)
{
	struct devchan_msg reply;
	const char *why = "";
	int st;

	if (!h->have_dev) {
		pr_err("devchan host: %s before DEVICE",
		       devchan_msg_name(m->hdr.type));
		return -EPROTO;
	}
	if (devchan_msg_check_device(m, &h->dev, &why)) {
		pr_err("devchan host: bad %s: %s", devchan_msg_name(m->hdr.type),
		       why);
		return -EBADMSG;
	}
	st = answer(h, m);
	if (st < 0) {
		st = -st;
	} else if (st) {
		pr_err("devchan host: refusing %s: %s",
		       devchan_msg_name(m->hdr.type), strerror(st));
		h->refusals++;
	}
	devchan_build_reply(&reply, m->hdr.id, st);
	return devchan_send(h->ctrl, &reply, DEVCHAN_FROM_VMM, &why);
}

static int on_device(struct devchan_host *h, const struct devchan_msg *m)
{
	if (h->have_dev) {
		pr_err("devchan host: a second DEVICE");
		return -EPROTO;
	}
	if (m->payload.device.version != DEVCHAN_VERSION) {
		pr_err("devchan host: DEVICE speaks version %u",
		       m->payload.device.version);
		return -EPROTO;
	}
	h->dev = m->payload.device;
	h->have_dev = true;
	return 0;
}

static int on_reply(struct devchan_host *h, const struct devchan_msg *m)
{
	if (!h->wait_id || m->hdr.id != h->wait_id) {
		pr_err("devchan host: REPLY %llu for no request",
		       (unsigned long long)m->hdr.id);
		return -EPROTO;
	}
	h->wait_done = true;
	h->wait_status = m->payload.reply.status;
	return 0;
}

static int on_msg(struct devchan_host *h, struct devchan_msg *m)
{
	switch (m->hdr.type) {
	case DEVCHAN_MSG_DEVICE:	return on_device(h, m);
	case DEVCHAN_MSG_REPLY:		return on_reply(h, m);
	default:			return on_request(h, m);
	}
}

int devchan_host_recv(struct devchan_host *h)
{
	struct devchan_msg m;
	const char *why = "";
	int r;

	r = devchan_recv(h->ctrl, &m, DEVCHAN_FROM_PROXYD, &why);
	if (r == -ECONNRESET)
		return r;
	if (r) {
		pr_err("devchan host: receive: %s %s", strerror(-r), why);
		return r;
	}
	r = on_msg(h, &m);
	devchan_msg_close_fds(&m);
	return r;
}

int devchan_host_pump(struct devchan_host *h, int timeout_ms)
{
	struct pollfd pfd = { .fd = h->ctrl, .events = POLLIN };
	int r;

	while ((r = poll(&pfd, 1, timeout_ms)) > 0) {
		r = devchan_host_recv(h);
		if (r)
			return r;
		timeout_ms = 0;		/* drain what is there, then return */
	}
	return r < 0 && errno != EINTR ? -errno : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Pumps until cond(h) holds: 0, -ETIMEDOUT or -errno. */
static int pump_until(struct devchan_host *h,
		      bool (*cond)(struct devchan_host *))
{
	int64_t end = now_ms() + DCH_REPLY_TIMEOUT_MS;
	int r;

	while (!cond(h)) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		r = devchan_host_pump(h, 10);
		if (r)
			return r;
	}
	return 0;
}

static bool reply_came(struct devchan_host *h)
{
	return h->wait_done;
}

static bool device_came(struct devchan_host *h)
{
	return h->have_dev;
}

/* Sends our request m and answers proxyd until its REPLY: the status. */
static int request(struct devchan_host *h, struct devchan_msg *m)
{
	const char *why = "";
	int r;

	h->wait_id = m->hdr.id;
	h->wait_done = false;
	r = devchan_send(h->ctrl, m, DEVCHAN_FROM_VMM, &why);
	if (r)
		pr_err("devchan host: send %s: %s %s",
		       devchan_msg_name(m->hdr.type), strerror(-r), why);
	else
		r = pump_until(h, reply_came);
	h->wait_id = 0;
	return r ? r : (int)h->wait_status;
}

/* A request of ours that must succeed: 0, or -EPROTO if refused. */
static int request_ok(struct devchan_host *h, struct devchan_msg *m)
{
	int r = request(h, m);

	if (r > 0) {
		pr_err("devchan host: proxyd refused %s: %s",
		       devchan_msg_name(m->hdr.type), strerror(r));
		return -EPROTO;
	}
	return r;
}

static int hello(struct devchan_host *h)
{
	struct devchan_msg m;
	const char *why = "";
	int r;

	devchan_build_hello(&m, ++h->next_id, 1);
	r = devchan_send(h->ctrl, &m, DEVCHAN_FROM_VMM, &why);
	return r ? r : pump_until(h, device_came);
}

static int add_access_channel(struct devchan_host *h)
{
	struct devchan_msg m;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	devchan_build_access_channel(&m, ++h->next_id, 0, sv[1]);
	r = request_ok(h, &m);
	close(sv[1]);
	if (r)
		close(sv[0]);
	else
		h->acc = sv[0];
	return r;
}

int devchan_host_handshake(struct devchan_host *h, int ram_fd, uint64_t gpa,
			   uint64_t size)
{
	struct devchan_msg m;
	int r;

	r = hello(h);
	if (r)
		return r;
	devchan_build_ram_add(&m, ++h->next_id, gpa, size, 0, ram_fd);
	r = request_ok(h, &m);
	return r ? r : add_access_channel(h);
}

int devchan_host_reset(struct devchan_host *h)
{
	struct devchan_msg m;

	devchan_build_reset(&m, ++h->next_id);
	return request(h, &m);
}

int devchan_host_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (int t = 0;; t += 10) {
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		err = errno;
		/* Not there yet, or not listening yet: proxyd is starting. */
		if ((err != ENOENT && err != ECONNREFUSED) || t >= timeout_ms)
			break;
		usleep(10000);
	}
	close(fd);
	return -err;
}

/* --- guest accesses -------------------------------------------------------- */

static int access_cmd(struct devchan_host *h, bool write, uint8_t region,
		      uint64_t off, uint8_t size, uint64_t data, uint64_t *out)
{
	struct devchan_access a = { .write = write, .resp = !write,
		.region = region, .size = size, .offset = off, .data = data };
	struct devchan_access_cmd c;
	const char *why = "";
	int r;

	if (h->acc < 0)
		return -ENOTCONN;
	r = devchan_access_encode(&c, &a);
	if (!r)
		r = devchan_access_check(&c, &why);
	if (!r)
		r = devchan_access_send_cmd(h->acc, &c);
	if (r || write)
		return r;
	r = devchan_access_recv_resp(h->acc, &a, out, &why);
	if (r)
		pr_err("devchan host: read of region %u offset %#llx: %s %s",
		       region, (unsigned long long)off, strerror(-r), why);
	return r;
}

int devchan_host_read(struct devchan_host *h, uint8_t region, uint64_t off,
		      uint8_t size, uint64_t *val)
{
	return access_cmd(h, false, region, off, size, 0, val);
}

const struct devchan_host_ioeventfd *
devchan_host_ioeventfd_at(const struct devchan_host *h, uint8_t bar,
			  uint64_t off)
{
	for (unsigned int i = 0; i < DEVCHAN_MAX_IOEVENTFDS; i++) {
		const struct devchan_host_ioeventfd *e = &h->ioev[i];

		if (e->used && e->add.bar == bar && e->add.offset == off)
			return e;
	}
	return NULL;
}

/* Does KVM take this write: length and, with DATAMATCH, the value match? */
static bool ioeventfd_takes(const struct devchan_host_ioeventfd *e,
			    uint8_t size, uint64_t val)
{
	if (e->add.len && e->add.len != size)
		return false;
	return !(e->add.flags & DEVCHAN_IOEVENTFD_F_DATAMATCH) ||
	       e->add.datamatch == val;
}

int devchan_host_write(struct devchan_host *h, uint8_t region, uint64_t off,
		       uint8_t size, uint64_t val)
{
	const struct devchan_host_ioeventfd *e = NULL;

	if (region != DEVCHAN_REGION_CONFIG)
		e = devchan_host_ioeventfd_at(h, region, off);
	if (e && ioeventfd_takes(e, size, val))
		return eventfd_write(e->fd, 1) ? -errno : 0;
	return access_cmd(h, true, region, off, size, val, NULL);
}

/* --- recorded state ---------------------------------------------------------- */

const struct devchan_host_irqfd *
devchan_host_irqfd(const struct devchan_host *h, uint32_t id)
{
	return id < DEVCHAN_MAX_IRQFDS && h->irq[id].used ? &h->irq[id] : NULL;
}

const struct devchan_host_shm *
devchan_host_shm_slot(const struct devchan_host *h, uint32_t slot)
{
	return slot < DEVCHAN_MAX_SHM_SLOTS && h->shm[slot].used ?
	       &h->shm[slot] : NULL;
}

unsigned int devchan_host_shm_count(const struct devchan_host *h)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++)
		n += h->shm[i].used;
	return n;
}
