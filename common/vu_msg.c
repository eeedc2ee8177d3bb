/* SPDX-License-Identifier: GPL-2.0-only */
/* One vhost-user message with its fds: parse, serialize, receive, send. */
#include <errno.h>
#include <string.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/vu_msg.h"

static_assert(VHOST_USER_MAX_FDS <= FDPASS_MAX_FDS, "fd limits");

void vu_msg_init(struct vu_msg *m, uint32_t request)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->hdr.request = request;
	m->hdr.flags = VHOST_USER_VERSION;
	for (i = 0; i < VHOST_USER_MAX_FDS; i++)
		m->fds[i] = -1;
}

static bool vu_hdr_valid(const struct vhost_user_hdr *hdr)
{
	return (hdr->flags & VHOST_USER_VERSION_MASK) == VHOST_USER_VERSION &&
	       hdr->size <= VHOST_USER_PAYLOAD_MAX;
}

int vu_msg_parse(struct vu_msg *m, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	vu_msg_init(m, VHOST_USER_NONE);
	if (len < sizeof(m->hdr))
		return -EPROTO;
	memcpy(&m->hdr, p, sizeof(m->hdr));
	if (!vu_hdr_valid(&m->hdr) || len - sizeof(m->hdr) != m->hdr.size)
		return -EPROTO;
	memcpy(&m->payload, p + sizeof(m->hdr), m->hdr.size);
	if (m->hdr.flags & VHOST_USER_REPLY_MASK)
		return 0;
	return vu_msg_check_size(m);
}

ssize_t vu_msg_serialize(const struct vu_msg *m, void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (m->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return -EINVAL;
	if (cap < sizeof(m->hdr) + m->hdr.size)
		return -ENOBUFS;
	memcpy(p, &m->hdr, sizeof(m->hdr));
	memcpy(p + sizeof(m->hdr), &m->payload, m->hdr.size);
	return (ssize_t)(sizeof(m->hdr) + m->hdr.size);
}

int vu_msg_recv(int sock, struct vu_msg *m)
{
	int hdr_err, r;

	vu_msg_init(m, VHOST_USER_NONE);
	hdr_err = fd_recv(sock, &m->hdr, sizeof(m->hdr), m->fds,
			  VHOST_USER_MAX_FDS, &m->nfds);
	/* After -EMSGSIZE the header is whole; skip its payload below. */
	if (hdr_err == -EPIPE)
		return -EPROTO;
	if (hdr_err && hdr_err != -EMSGSIZE)
		return hdr_err;

	if (!vu_hdr_valid(&m->hdr)) {
		r = -EPROTO;
		goto fail;
	}

	r = read_full(sock, &m->payload, m->hdr.size);
	if (r == -EPIPE)
		r = -EPROTO;
	if (r)
		goto fail;
	return hdr_err;

fail:
	vu_msg_close_fds(m);
	return r;
}

int vu_msg_send(int sock, const struct vu_msg *m)
{
	uint8_t buf[VU_MSG_MAX_LEN];
	ssize_t len = vu_msg_serialize(m, buf, sizeof(buf));

	if (len < 0)
		return (int)len;
	if (m->nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	return fd_send(sock, buf, (size_t)len, m->fds, m->nfds);
}

void vu_msg_close_fds(struct vu_msg *m)
{
	fds_close(m->fds, VHOST_USER_MAX_FDS);
	m->nfds = 0;
}

int vu_msg_take_fd(struct vu_msg *m, size_t i)
{
	return fds_take(m->fds, m->nfds < VHOST_USER_MAX_FDS ? m->nfds
							     : VHOST_USER_MAX_FDS, i);
}

void vu_msg_make_reply(struct vu_msg *m, uint32_t size)
{
	/* Request fds the handler left must not travel back with the reply. */
	vu_msg_close_fds(m);
	m->hdr.flags = VHOST_USER_REPLY_FLAGS;
	m->hdr.size = size;
}

#define VU_REQ(name)	[VHOST_USER_##name] = #name

static const char *const vu_request_names[VHOST_USER_REQUEST_MAX] = {
	VU_REQ(GET_FEATURES),
	VU_REQ(SET_FEATURES),
	VU_REQ(SET_OWNER),
	VU_REQ(RESET_OWNER),
	VU_REQ(SET_MEM_TABLE),
	VU_REQ(SET_LOG_BASE),
	VU_REQ(SET_LOG_FD),
	VU_REQ(SET_VRING_NUM),
	VU_REQ(SET_VRING_ADDR),
	VU_REQ(SET_VRING_BASE),
	VU_REQ(GET_VRING_BASE),
	VU_REQ(SET_VRING_KICK),
	VU_REQ(SET_VRING_CALL),
	VU_REQ(SET_VRING_ERR),
	VU_REQ(GET_PROTOCOL_FEATURES),
	VU_REQ(SET_PROTOCOL_FEATURES),
	VU_REQ(GET_QUEUE_NUM),
	VU_REQ(SET_VRING_ENABLE),
	VU_REQ(SEND_RARP),
	VU_REQ(NET_SET_MTU),
	VU_REQ(SET_BACKEND_REQ_FD),
	VU_REQ(IOTLB_MSG),
	VU_REQ(SET_VRING_ENDIAN),
	VU_REQ(GET_CONFIG),
	VU_REQ(SET_CONFIG),
	VU_REQ(CREATE_CRYPTO_SESSION),
	VU_REQ(CLOSE_CRYPTO_SESSION),
	VU_REQ(POSTCOPY_ADVISE),
	VU_REQ(POSTCOPY_LISTEN),
	VU_REQ(POSTCOPY_END),
	VU_REQ(GET_INFLIGHT_FD),
	VU_REQ(SET_INFLIGHT_FD),
	VU_REQ(GPU_SET_SOCKET),
	VU_REQ(RESET_DEVICE),
	VU_REQ(VRING_KICK),
	VU_REQ(GET_MAX_MEM_SLOTS),
	VU_REQ(ADD_MEM_REG),
	VU_REQ(REM_MEM_REG),
	VU_REQ(SET_STATUS),
	VU_REQ(GET_STATUS),
};

const char *vu_request_name(uint32_t request)
{
	if (request >= VHOST_USER_REQUEST_MAX || !vu_request_names[request])
		return "UNKNOWN";
	return vu_request_names[request];
}

/* Payload a front-end request carries; min marks a variable-sized one. */
struct vu_payload_rule {
	uint16_t size;
	bool min;
	bool known;
};

#define EXACT(sz)	{ .size = (sz), .min = false, .known = true }
#define AT_LEAST(sz)	{ .size = (sz), .min = true, .known = true }

#define U64		sizeof(uint64_t)
#define STATE		sizeof(struct vhost_user_vring_state)

/*
 * CREATE_CRYPTO_SESSION is absent: its payload is larger than any message
 * VVU accepts, so it can never be valid here.
 */
static const struct vu_payload_rule vu_payload_rules[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES]		= EXACT(0),
	[VHOST_USER_SET_FEATURES]		= EXACT(U64),
	[VHOST_USER_SET_OWNER]			= EXACT(0),
	[VHOST_USER_RESET_OWNER]		= EXACT(0),
	[VHOST_USER_SET_MEM_TABLE]		= AT_LEAST(VHOST_USER_MEMORY_SIZE(0)),
	[VHOST_USER_SET_LOG_BASE]		= EXACT(sizeof(struct vhost_user_log)),
	/* QEMU sends none; other front-ends send a u64. */
	[VHOST_USER_SET_LOG_FD]			= AT_LEAST(0),
	[VHOST_USER_SET_VRING_NUM]		= EXACT(STATE),
	[VHOST_USER_SET_VRING_ADDR]		= EXACT(sizeof(struct vhost_user_vring_addr)),
	[VHOST_USER_SET_VRING_BASE]		= EXACT(STATE),
	[VHOST_USER_GET_VRING_BASE]		= EXACT(STATE),
	[VHOST_USER_SET_VRING_KICK]		= EXACT(U64),
	[VHOST_USER_SET_VRING_CALL]		= EXACT(U64),
	[VHOST_USER_SET_VRING_ERR]		= EXACT(U64),
	[VHOST_USER_GET_PROTOCOL_FEATURES]	= EXACT(0),
	[VHOST_USER_SET_PROTOCOL_FEATURES]	= EXACT(U64),
	[VHOST_USER_GET_QUEUE_NUM]		= EXACT(0),
	[VHOST_USER_SET_VRING_ENABLE]		= EXACT(STATE),
	[VHOST_USER_SEND_RARP]			= EXACT(U64),
	[VHOST_USER_NET_SET_MTU]		= EXACT(U64),
	[VHOST_USER_SET_BACKEND_REQ_FD]		= AT_LEAST(0),
	[VHOST_USER_IOTLB_MSG]			= EXACT(sizeof(struct vhost_user_iotlb)),
	[VHOST_USER_SET_VRING_ENDIAN]		= EXACT(STATE),
	[VHOST_USER_GET_CONFIG]			= AT_LEAST(VHOST_USER_CONFIG_HDR_SIZE),
	[VHOST_USER_SET_CONFIG]			= AT_LEAST(VHOST_USER_CONFIG_HDR_SIZE),
	[VHOST_USER_CLOSE_CRYPTO_SESSION]	= EXACT(U64),
	[VHOST_USER_POSTCOPY_ADVISE]		= EXACT(0),
	[VHOST_USER_POSTCOPY_LISTEN]		= EXACT(0),
	[VHOST_USER_POSTCOPY_END]		= EXACT(0),
	[VHOST_USER_GET_INFLIGHT_FD]		= EXACT(sizeof(struct vhost_user_inflight)),
	[VHOST_USER_SET_INFLIGHT_FD]		= EXACT(sizeof(struct vhost_user_inflight)),
	[VHOST_USER_GPU_SET_SOCKET]		= EXACT(0),
	[VHOST_USER_RESET_DEVICE]		= EXACT(0),
	[VHOST_USER_VRING_KICK]			= EXACT(STATE),
	[VHOST_USER_GET_MAX_MEM_SLOTS]		= EXACT(0),
	[VHOST_USER_ADD_MEM_REG]		= EXACT(sizeof(struct vhost_user_mem_reg)),
	[VHOST_USER_REM_MEM_REG]		= EXACT(sizeof(struct vhost_user_mem_reg)),
	[VHOST_USER_SET_STATUS]			= EXACT(U64),
	[VHOST_USER_GET_STATUS]			= EXACT(0),
};

bool vu_request_payload_size(uint32_t request, size_t *size, bool *exact)
{
	const struct vu_payload_rule *rule;

	if (request >= VHOST_USER_REQUEST_MAX)
		return false;
	rule = &vu_payload_rules[request];
	if (!rule->known)
		return false;
	*size = rule->size;
	*exact = !rule->min;
	return true;
}

int vu_msg_check_size(const struct vu_msg *m)
{
	const char *name = vu_request_name(m->hdr.request);
	size_t size;
	bool exact;

	if (!vu_request_payload_size(m->hdr.request, &size, &exact)) {
		pr_err("request %u (%s): no payload size known", m->hdr.request, name);
		return -EPROTO;
	}
	if ((exact && m->hdr.size != size) || m->hdr.size < size) {
		pr_err("%s: payload of %u bytes, want %s%zu", name, m->hdr.size,
		       exact ? "" : "at least ", size);
		return -EPROTO;
	}
	return 0;
}
