/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The front-end side of vhost-user. One request is in flight at a time (the
 * protocol has no request ids), so every call is send, then the reply.
 * Replies are held to QEMU's rules: a back-end that breaks them is dropped
 * by the caller, never trusted.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/vu_frontend.h"

/* A back-end that does not answer within this long is treated as gone. */
#define VU_FE_REPLY_TIMEOUT_S	5

static bool fe_has_protocol(const struct vu_frontend *fe, unsigned int bit)
{
	return fe->protocol_features & (1ull << bit);
}

int vu_fe_connect(struct vu_frontend *fe, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = VU_FE_REPLY_TIMEOUT_S };
	int sock, r;

	memset(fe, 0, sizeof(*fe));
	fe->sock = -1;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("vhost-user socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);

	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	/*
	 * The send timeout also bounds connect(): a back-end that is alive
	 * but does not accept (its backlog full) would block it forever.
	 */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		close(sock);
		return r;
	}
	fe->sock = sock;
	return 0;
}

void vu_fe_close(struct vu_frontend *fe)
{
	if (fe->sock >= 0)
		close(fe->sock);
	fe->sock = -1;
}

/* Checks a reply against the request it answers; -EPROTO names the fault. */
static int vu_fe_check_reply(const struct vu_msg *m, uint32_t request,
			     size_t reply_size)
{
	const char *name = vu_request_name(request);

	if (m->hdr.flags != VHOST_USER_REPLY_FLAGS) {
		pr_err("vhost-user %s: reply flags 0x%x, expected 0x%x", name,
		       m->hdr.flags, VHOST_USER_REPLY_FLAGS);
		return -EPROTO;
	}
	if (m->hdr.request != request) {
		pr_err("vhost-user %s: reply is for request %u (%s)", name,
		       m->hdr.request, vu_request_name(m->hdr.request));
		return -EPROTO;
	}
	if (m->hdr.size != reply_size) {
		pr_err("vhost-user %s: reply of %u bytes, expected %zu", name,
		       m->hdr.size, reply_size);
		return -EPROTO;
	}
	if (m->nfds) {
		pr_err("vhost-user %s: reply carries %zu unexpected fds", name,
		       m->nfds);
		return -EPROTO;
	}
	return 0;
}

int vu_fe_request(struct vu_frontend *fe, struct vu_msg *m, bool want_reply,
		  size_t reply_size)
{
	uint32_t request = m->hdr.request;
	bool need_ack = !want_reply &&
		fe_has_protocol(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	int r;

	m->hdr.flags = VHOST_USER_VERSION;
	if (need_ack) {
		m->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
		reply_size = sizeof(m->payload.u64);
	}
	r = vu_msg_send(fe->sock, m);
	/* The fds were lent: the reply must not see (or close) them. */
	m->nfds = 0;
	if (r) {
		pr_err("vhost-user %s: send failed: %s", vu_request_name(request),
		       strerror(-r));
		return r;
	}
	if (!want_reply && !need_ack)
		return 0;

	r = vu_msg_recv(fe->sock, m);
	if (r) {
		pr_err("vhost-user %s: no reply: %s", vu_request_name(request),
		       strerror(-r));
		vu_msg_close_fds(m);
		return r == -EMSGSIZE ? -EPROTO : r;
	}
	r = vu_fe_check_reply(m, request, reply_size);
	if (r) {
		vu_msg_close_fds(m);
		return r;
	}
	if (need_ack && m->payload.u64) {
		pr_err("vhost-user %s: back-end failed it (0x%llx)",
		       vu_request_name(request),
		       (unsigned long long)m->payload.u64);
		return -EIO;
	}
	return 0;
}

/* A request without payload whose reply is one u64. */
static int vu_fe_get_u64(struct vu_frontend *fe, uint32_t request,
			 uint64_t *val)
{
	struct vu_msg m;
	int r;

	vu_msg_init(&m, request);
	r = vu_fe_request(fe, &m, true, sizeof(m.payload.u64));
	if (!r)
		*val = m.payload.u64;
	return r;
}

static int vu_fe_set_u64(struct vu_frontend *fe, uint32_t request,
			 uint64_t val, const int *fds, size_t nfds)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	m.hdr.size = sizeof(m.payload.u64);
	m.payload.u64 = val;
	if (nfds) {
		memcpy(m.fds, fds, nfds * sizeof(*fds));
		m.nfds = nfds;
	}
	return vu_fe_request(fe, &m, false, 0);
}

int vu_fe_negotiate(struct vu_frontend *fe, uint64_t want_protocol,
		    uint64_t required_protocol)
{
	uint64_t offered, queues = 1, slots = 0;
	struct vu_msg m;
	int r;

	fe->protocol_features = 0;
	r = vu_fe_get_u64(fe, VHOST_USER_GET_FEATURES, &fe->features);
	if (r)
		return r;
	if (!(fe->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES))) {
		pr_err("vhost-user back-end lacks PROTOCOL_FEATURES (features 0x%llx)",
		       (unsigned long long)fe->features);
		return -ENOTSUP;
	}
	r = vu_fe_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES, &offered);
	if (r)
		return r;
	if (required_protocol & ~offered) {
		pr_err("vhost-user back-end lacks protocol features 0x%llx",
		       (unsigned long long)(required_protocol & ~offered));
		return -ENOTSUP;
	}
	r = vu_fe_set_u64(fe, VHOST_USER_SET_PROTOCOL_FEATURES,
			  offered & want_protocol, NULL, 0);
	if (r)
		return r;
	fe->protocol_features = offered & want_protocol;

	if (fe_has_protocol(fe, VHOST_USER_PROTOCOL_F_MQ)) {
		r = vu_fe_get_u64(fe, VHOST_USER_GET_QUEUE_NUM, &queues);
		if (r)
			return r;
		if (queues == 0 || queues > VHOST_USER_VRING_IDX_MASK + 1) {
			pr_err("vhost-user back-end reports %llu queues",
			       (unsigned long long)queues);
			return -EPROTO;
		}
	}
	fe->queue_num = queues;

	if (fe_has_protocol(fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		r = vu_fe_get_u64(fe, VHOST_USER_GET_MAX_MEM_SLOTS, &slots);
		if (r)
			return r;
	}
	fe->max_mem_slots = slots;

	vu_msg_init(&m, VHOST_USER_SET_OWNER);
	return vu_fe_request(fe, &m, false, 0);
}

int vu_fe_set_features(struct vu_frontend *fe, uint64_t features)
{
	return vu_fe_set_u64(fe, VHOST_USER_SET_FEATURES, features, NULL, 0);
}

int vu_fe_get_config(struct vu_frontend *fe, uint32_t offset, void *buf,
		     uint32_t size)
{
	struct vu_msg m;
	int r;

	if (size > VHOST_USER_CONFIG_MAX)
		return -EINVAL;
	vu_msg_init(&m, VHOST_USER_GET_CONFIG);
	m.hdr.size = VHOST_USER_CONFIG_HDR_SIZE + size;
	m.payload.config.offset = offset;
	m.payload.config.size = size;
	r = vu_fe_request(fe, &m, true, VHOST_USER_CONFIG_HDR_SIZE + size);
	if (r)
		return r;
	if (m.payload.config.size != size) {
		pr_err("vhost-user GET_CONFIG: reply says %u bytes, asked %u",
		       m.payload.config.size, size);
		return -EPROTO;
	}
	memcpy(buf, m.payload.config.region, size);
	return 0;
}

static void vu_fe_wire_region(struct vhost_user_mem_region *w,
			      const struct mem_region *r)
{
	w->guest_phys_addr = r->gpa;
	w->memory_size = r->size;
	w->userspace_addr = r->uva;
	w->mmap_offset = r->fd_offset;
}

int vu_fe_set_mem_table(struct vu_frontend *fe, const struct mem_region *r,
			unsigned int n)
{
	struct vu_msg m;
	unsigned int i;

	if (n == 0 || n > VHOST_USER_MEM_REGIONS_MAX)
		return -EINVAL;
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE);
	m.hdr.size = VHOST_USER_MEMORY_SIZE(n);
	m.payload.memory.nregions = n;
	for (i = 0; i < n; i++) {
		vu_fe_wire_region(&m.payload.memory.regions[i], &r[i]);
		m.fds[i] = r[i].fd;
	}
	m.nfds = n;
	return vu_fe_request(fe, &m, false, 0);
}

static int vu_fe_mem_reg(struct vu_frontend *fe, uint32_t request,
			 const struct mem_region *r, bool with_fd)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	m.hdr.size = sizeof(m.payload.mem_reg);
	vu_fe_wire_region(&m.payload.mem_reg.region, r);
	if (with_fd) {
		m.fds[0] = r->fd;
		m.nfds = 1;
	}
	return vu_fe_request(fe, &m, false, 0);
}

int vu_fe_add_mem_reg(struct vu_frontend *fe, const struct mem_region *r)
{
	return vu_fe_mem_reg(fe, VHOST_USER_ADD_MEM_REG, r, true);
}

int vu_fe_rem_mem_reg(struct vu_frontend *fe, const struct mem_region *r)
{
	return vu_fe_mem_reg(fe, VHOST_USER_REM_MEM_REG, r, false);
}

static int vu_fe_set_state(struct vu_frontend *fe, uint32_t request,
			   uint32_t index, uint32_t num)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	m.hdr.size = sizeof(m.payload.state);
	m.payload.state.index = index;
	m.payload.state.num = num;
	return vu_fe_request(fe, &m, false, 0);
}

int vu_fe_set_vring(struct vu_frontend *fe, uint32_t index, uint16_t num,
		    uint16_t base, uint64_t desc_uva, uint64_t avail_uva,
		    uint64_t used_uva, bool log)
{
	struct vu_msg m;
	int r;

	r = vu_fe_set_state(fe, VHOST_USER_SET_VRING_NUM, index, num);
	if (!r)
		r = vu_fe_set_state(fe, VHOST_USER_SET_VRING_BASE, index, base);
	if (r)
		return r;

	vu_msg_init(&m, VHOST_USER_SET_VRING_ADDR);
	m.hdr.size = sizeof(m.payload.addr);
	m.payload.addr.index = index;
	m.payload.addr.flags = log ? 1u << VHOST_VRING_F_LOG : 0;
	m.payload.addr.desc_user_addr = desc_uva;
	m.payload.addr.avail_user_addr = avail_uva;
	m.payload.addr.used_user_addr = used_uva;
	return vu_fe_request(fe, &m, false, 0);
}

int vu_fe_set_vring_fd(struct vu_frontend *fe, uint32_t request,
		       uint32_t index, int fd)
{
	uint64_t val = index & VHOST_USER_VRING_IDX_MASK;

	if (index > VHOST_USER_VRING_IDX_MASK)
		return -EINVAL;
	if (fd < 0)
		return vu_fe_set_u64(fe, request, val | VHOST_USER_VRING_NOFD_MASK,
				     NULL, 0);
	return vu_fe_set_u64(fe, request, val, &fd, 1);
}

int vu_fe_set_vring_enable(struct vu_frontend *fe, uint32_t index, bool on)
{
	return vu_fe_set_state(fe, VHOST_USER_SET_VRING_ENABLE, index, on);
}

int vu_fe_get_vring_base(struct vu_frontend *fe, uint32_t index, uint16_t *base)
{
	struct vu_msg m;
	int r;

	vu_msg_init(&m, VHOST_USER_GET_VRING_BASE);
	m.hdr.size = sizeof(m.payload.state);
	m.payload.state.index = index;
	m.payload.state.num = 0;
	r = vu_fe_request(fe, &m, true, sizeof(m.payload.state));
	if (r)
		return r;
	if (m.payload.state.index != index || m.payload.state.num > UINT16_MAX) {
		pr_err("vhost-user GET_VRING_BASE: reply {%u, %u} for ring %u",
		       m.payload.state.index, m.payload.state.num, index);
		return -EPROTO;
	}
	*base = m.payload.state.num;
	return 0;
}
