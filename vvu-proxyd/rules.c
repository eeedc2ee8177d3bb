// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the proxy does with each vhost-user request QEMU 7.2 can send, and
 * what it lets a back-end offer.
 *
 * The device carries messages, not file descriptors: only fds it can turn
 * into something of the device VM cross it (memory into BAR4, call eventfds
 * into doorbells, kick eventfds into MSI-X vectors). So a back-end behind
 * it cannot offer what needs another fd to travel:
 *  - LOG_SHMFD and VHOST_F_LOG_ALL (the dirty log is an fd: SET_LOG_BASE),
 *  - INFLIGHT_SHMFD (GET_INFLIGHT_FD's reply carries an fd back),
 *  - BACKEND_REQ, BACKEND_SEND_FD, HOST_NOTIFIER (the back-end's own
 *    channel is a socket; host notifiers are fds on it),
 *  - PAGEFAULT (POSTCOPY_ADVISE's reply carries a userfaultfd),
 *  - INBAND_NOTIFICATIONS (its calls travel on the back-end's channel),
 *  - CRYPTO_SESSION (CREATE_CRYPTO_SESSION is larger than any message
 *    the proxy carries),
 * and bits the proxy does not know (a later protocol) are masked too, since
 * nobody here could tell whether they need an fd.
 */
#include "protocol/virtio.h"
#include "vvu-proxyd/proxyd.h"

#define PF(b)	(1ull << VHOST_USER_PROTOCOL_F_##b)

const uint64_t proxy_protocol_mask =
	PF(MQ) | PF(RARP) | PF(REPLY_ACK) | PF(MTU) | PF(CROSS_ENDIAN) |
	PF(CONFIG) | PF(RESET_DEVICE) | PF(CONFIGURE_MEM_SLOTS) | PF(STATUS);

const uint64_t proxy_features_mask = ~VIRTIO_BIT(VHOST_F_LOG_ALL);

#define R(req, rule)	[VHOST_USER_##req] = RULE_##rule

static const enum proxy_rule proxy_rules[VHOST_USER_REQUEST_MAX] = {
	R(GET_FEATURES, CARRY),
	R(SET_FEATURES, CARRY),
	R(SET_OWNER, CARRY),
	R(RESET_OWNER, CARRY),
	R(SET_MEM_TABLE, MEM_TABLE),
	R(SET_LOG_BASE, REFUSE),
	R(SET_LOG_FD, REFUSE),
	R(SET_VRING_NUM, CARRY),
	R(SET_VRING_ADDR, CARRY),
	R(SET_VRING_BASE, CARRY),
	R(GET_VRING_BASE, CARRY),
	R(SET_VRING_KICK, VRING_KICK),
	R(SET_VRING_CALL, VRING_CALL),
	R(SET_VRING_ERR, VRING_ERR),
	R(GET_PROTOCOL_FEATURES, CARRY),
	R(SET_PROTOCOL_FEATURES, CARRY),
	R(GET_QUEUE_NUM, CARRY),
	R(SET_VRING_ENABLE, CARRY),
	R(SEND_RARP, CARRY),
	R(NET_SET_MTU, CARRY),
	R(SET_BACKEND_REQ_FD, REFUSE),
	R(IOTLB_MSG, CARRY),
	R(SET_VRING_ENDIAN, CARRY),
	R(GET_CONFIG, CARRY),
	R(SET_CONFIG, CARRY),
	R(CREATE_CRYPTO_SESSION, REFUSE),
	R(CLOSE_CRYPTO_SESSION, REFUSE),
	R(POSTCOPY_ADVISE, REFUSE),
	R(POSTCOPY_LISTEN, REFUSE),
	R(POSTCOPY_END, REFUSE),
	R(GET_INFLIGHT_FD, REFUSE),
	R(SET_INFLIGHT_FD, REFUSE),
	R(GPU_SET_SOCKET, REFUSE),
	R(RESET_DEVICE, CARRY),
	R(VRING_KICK, REFUSE),
	R(GET_MAX_MEM_SLOTS, CARRY),
	R(ADD_MEM_REG, ADD_MEM_REG),
	R(REM_MEM_REG, REM_MEM_REG),
	R(SET_STATUS, CARRY),
	R(GET_STATUS, CARRY),
};

enum proxy_rule proxy_request_rule(uint32_t request)
{
	return request < VHOST_USER_REQUEST_MAX ? proxy_rules[request]
						: RULE_UNKNOWN;
}

bool proxy_request_vring_index(const struct vu_msg *m, uint32_t *index)
{
	switch (m->hdr.request) {
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
		*index = m->payload.state.index;
		return true;
	case VHOST_USER_SET_VRING_ADDR:
		*index = m->payload.addr.index;
		return true;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		*index = (uint32_t)(m->payload.u64 & VHOST_USER_VRING_IDX_MASK);
		return true;
	}
	return false;
}

static bool clamp_u64(struct vu_msg *m, uint64_t max)
{
	if (m->payload.u64 <= max)
		return false;
	m->payload.u64 = max;
	return true;
}

static bool mask_u64(struct vu_msg *m, uint64_t mask)
{
	uint64_t v = m->payload.u64 & mask;

	if (v == m->payload.u64)
		return false;
	m->payload.u64 = v;
	return true;
}

bool proxy_mask_reply(struct vu_msg *m)
{
	if (!(m->hdr.flags & VHOST_USER_REPLY_MASK) ||
	    m->hdr.size != sizeof(m->payload.u64))
		return false;
	switch (m->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		return mask_u64(m, proxy_features_mask);
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return mask_u64(m, proxy_protocol_mask);
	case VHOST_USER_GET_QUEUE_NUM:
		/* BAR2 has doorbells, and the device vectors, for this many. */
		return clamp_u64(m, VVU_MAX_VHOST_QUEUES);
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		return clamp_u64(m, PROXY_SHM_MAX_REGIONS);
	}
	return false;
}
