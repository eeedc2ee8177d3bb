// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user back-end: session state, request dispatch, and the handlers
 * that neither touch memory nor vrings (those are in vu_mem.c, vu_vring.c).
 *
 * Policy: a request that is malformed, not negotiated or not supported is
 * logged and drops the connection. A front-end that sends garbage once is
 * not trusted to have sent anything else right, and a fresh connection
 * starts from a clean state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "protocol/virtio.h"
#include "vblk-backend/vu_backend.h"
#include "vblk-backend/work_pool.h"

/* Ring and transport features the back-end itself implements. */
#define VU_RING_FEATURES	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
				 VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | \
				 VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) | \
				 VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC))

#define VU_PROTOCOL_FEATURES	(VIRTIO_BIT(VHOST_USER_PROTOCOL_F_MQ) | \
				 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
				 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG) | \
				 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

/*
 * Requests served per queue before yielding to the loop, so one busy guest
 * queue cannot starve the socket or the other queues.
 */
#define VU_PROCESS_BUDGET	1024

/* A batch moving at least this many bytes is served on the pool too. */
#define VU_PARALLEL_MIN_BYTES	(256 * 1024)

int vu_backend_init(struct vu_backend *vb, unsigned int nqueues,
		    const struct vu_device_ops *dev_ops, void *dev,
		    const struct vu_transport_ops *tr_ops, void *tr)
{
	unsigned int i;

	if (nqueues == 0 || nqueues > VU_MAX_QUEUES)
		return -EINVAL;
	memset(vb, 0, sizeof(*vb));
	vb->elems = calloc(VU_BATCH, sizeof(*vb->elems));
	if (!vb->elems)
		return -ENOMEM;
	vb->dev_ops = dev_ops;
	vb->dev = dev;
	vb->tr_ops = tr_ops;
	vb->tr = tr;
	vb->nqueues = nqueues;
	vb->offered_features = VU_RING_FEATURES | dev_ops->features(dev);
	vb->offered_protocol = VU_PROTOCOL_FEATURES;
	mem_table_init(&vb->mem);
	for (i = 0; i < VU_MAX_QUEUES; i++) {
		vb->vrings[i].kick_fd = -1;
		vb->vrings[i].call_fd = -1;
		vb->vrings[i].err_fd = -1;
	}
	return 0;
}

void vu_backend_reset(struct vu_backend *vb)
{
	unsigned int i;

	for (i = 0; i < VU_MAX_QUEUES; i++)
		vu_vring_reset(vb, i);
	mem_table_clear(&vb->mem);
	vb->features = 0;
	vb->protocol = 0;
	vb->owner = false;
}

void vu_backend_destroy(struct vu_backend *vb)
{
	vu_backend_reset(vb);
	free(vb->elems);
	vb->elems = NULL;
}

static void vu_notify(struct vu_backend *vb, unsigned int qidx)
{
	struct vu_vring *vr = &vb->vrings[qidx];

	if (!vr->call_set)
		return;
	if (vb->tr_ops && vb->tr_ops->notify) {
		vb->tr_ops->notify(vb->tr, qidx);
		return;
	}
	/* Non-blocking: a counter near overflow just means one is pending. */
	if (vr->call_fd >= 0 && eventfd_write(vr->call_fd, 1) < 0 &&
	    errno != EAGAIN)
		pr_warn("queue %u: call notification failed: %m", qidx);
}

/* Out of budget: kick ourselves so the loop comes back after other work. */
static void vu_rekick(struct vu_backend *vb, unsigned int qidx)
{
	int fd = vb->vrings[qidx].kick_fd;

	if (vb->tr_ops && vb->tr_ops->rekick) {
		vb->tr_ops->rekick(vb->tr, qidx);
		return;
	}
	if (fd >= 0 && eventfd_write(fd, 1) < 0 && errno != EAGAIN)
		pr_warn("queue %u: cannot re-kick: %m", qidx);
}

static void vu_serve_one(void *arg, unsigned int i)
{
	struct vu_backend *vb = arg;

	vb->batch_ret[i] = vb->dev_ops->handle_elem(vb->dev, vb->batch_qidx,
						    &vb->elems[i],
						    &vb->batch_len[i]);
}

/*
 * Worth waking the pool? Only for a batch whose copies dwarf a thread
 * wake-up: small requests are served faster on the loop's own thread.
 */
static bool vu_batch_parallel(struct vu_backend *vb, unsigned int n)
{
	uint64_t bytes = 0;

	if (!vb->pool || n < 2)
		return false;
	for (unsigned int i = 0; i < n; i++)
		bytes += vb->elems[i].out_len + vb->elems[i].in_len;
	return bytes >= VU_PARALLEL_MIN_BYTES;
}

/* Serves elems[0..n) and pushes them in order; -EINVAL if one was malformed. */
static int vu_serve_batch(struct vu_backend *vb, unsigned int qidx, unsigned int n)
{
	struct vu_vring *vr = &vb->vrings[qidx];
	unsigned int i;

	vb->batch_qidx = qidx;
	if (vu_batch_parallel(vb, n))
		work_pool_run(vb->pool, vu_serve_one, vb, n);
	else
		for (i = 0; i < n; i++)
			vu_serve_one(vb, i);
	for (i = 0; i < n; i++) {
		if (vb->batch_ret[i]) {
			vr->vq.broken = true;
			return -EINVAL;
		}
		vq_push(&vr->vq, vb->elems[i].head, vb->batch_len[i]);
	}
	return 0;
}

/* Pops up to VU_BATCH requests; *err is vq_pop's error, if it stopped on one. */
static unsigned int vu_pop_batch(struct vu_backend *vb, struct vq *vq, int *err)
{
	unsigned int n = 0;
	int ret = 0;

	while (n < VU_BATCH && (ret = vq_pop(vq, &vb->elems[n])) == 1)
		n++;
	*err = ret < 0 ? ret : 0;
	return n;
}

int vu_backend_process_vring(struct vu_backend *vb, unsigned int qidx)
{
	struct vu_vring *vr;
	unsigned int n, done = 0;
	int ret = 0, err = 0;

	if (qidx >= vb->nqueues)
		return -EINVAL;
	vr = &vb->vrings[qidx];
	if (!vr->started || !vr->mapped || !vr->enabled)
		return 0;

	for (;;) {
		vq_disable_notify(&vr->vq);
		while (!ret && !err && done < VU_PROCESS_BUDGET &&
		       (n = vu_pop_batch(vb, &vr->vq, &err)) > 0) {
			ret = vu_serve_batch(vb, qidx, n);
			done += n;
		}
		if (ret || err)
			break;
		if (done >= VU_PROCESS_BUDGET) {
			vu_rekick(vb, qidx);
			break;
		}
		/* Re-enable, then look once more: closes the lost-kick race. */
		if (!vq_enable_notify(&vr->vq))
			break;
	}

	/* One call per batch, if the driver asked for it. */
	if (done && vq_should_notify(&vr->vq))
		vu_notify(vb, qidx);
	if (ret || err) {
		pr_err("queue %u: malformed request; dropping the front-end", qidx);
		return -EINVAL;
	}
	return 0;
}

/* Fills m with a reply carrying one u64. */
static void vu_reply_u64(struct vu_msg *m, uint64_t v)
{
	vu_msg_make_reply(m, sizeof(uint64_t));
	m->payload.u64 = v;
}

static int vu_handle_get_features(struct vu_backend *vb, struct vu_msg *m)
{
	vu_reply_u64(m, vb->offered_features);
	return 0;
}

/* Takes f as the acked set, unless it has bits we did not offer. */
static int vu_ack_features(const char *what, uint64_t f, uint64_t offered,
			   uint64_t *acked)
{
	if (f & ~offered) {
		pr_err("%s: %#llx has bits we did not offer (%#llx)", what,
		       (unsigned long long)f, (unsigned long long)offered);
		return -EINVAL;
	}
	*acked = f;
	pr_debug("%s %#llx", what, (unsigned long long)f);
	return 0;
}

static int vu_handle_set_features(struct vu_backend *vb, struct vu_msg *m)
{
	return vu_ack_features("SET_FEATURES", m->payload.u64,
			       vb->offered_features, &vb->features);
}

static int vu_handle_get_protocol_features(struct vu_backend *vb, struct vu_msg *m)
{
	vu_reply_u64(m, vb->offered_protocol);
	return 0;
}

static int vu_handle_set_protocol_features(struct vu_backend *vb, struct vu_msg *m)
{
	return vu_ack_features("SET_PROTOCOL_FEATURES", m->payload.u64,
			       vb->offered_protocol, &vb->protocol);
}

static int vu_handle_set_owner(struct vu_backend *vb, struct vu_msg *m)
{
	(void)m;
	vb->owner = true;
	return 0;
}

static int vu_handle_reset_owner(struct vu_backend *vb, struct vu_msg *m)
{
	(void)m;
	pr_info("RESET_OWNER: resetting the session");
	vu_backend_reset(vb);
	return 0;
}

static int vu_handle_get_queue_num(struct vu_backend *vb, struct vu_msg *m)
{
	vu_reply_u64(m, vb->nqueues);
	return 0;
}

static int vu_handle_set_backend_req_fd(struct vu_backend *vb, struct vu_msg *m)
{
	(void)vb;
	/* We never send back-end requests; the fd is closed by the caller. */
	pr_debug("SET_BACKEND_REQ_FD: not used, fd closed");
	(void)m;
	return 0;
}

static int vu_handle_get_config(struct vu_backend *vb, struct vu_msg *m)
{
	struct vhost_user_config *c = &m->payload.config;
	uint32_t avail = vb->dev_ops->config_size(vb->dev);
	uint32_t off = c->offset, size = c->size;

	if (size > VHOST_USER_CONFIG_MAX ||
	    m->hdr.size != VHOST_USER_CONFIG_HDR_SIZE + size) {
		pr_err("GET_CONFIG: size %u does not match the payload (%u bytes)",
		       size, m->hdr.size);
		return -EINVAL;
	}
	if (off > avail || size > avail - off) {
		pr_err("GET_CONFIG: [%u, +%u) is past the %u-byte config",
		       off, size, avail);
		return -EINVAL;
	}
	memset(c->region, 0, sizeof(c->region));
	vb->dev_ops->get_config(vb->dev, c->region, off, size);
	vu_msg_make_reply(m, VHOST_USER_CONFIG_HDR_SIZE + size);
	return 0;
}

static int vu_handle_set_config(struct vu_backend *vb, struct vu_msg *m)
{
	(void)vb;
	pr_err("SET_CONFIG: offset %u size %u: no writable config fields",
	       m->payload.config.offset, m->payload.config.size);
	return -EINVAL;
}

static int vu_handle_unsupported(struct vu_backend *vb, struct vu_msg *m)
{
	(void)vb;
	pr_err("%s: not negotiated or not supported", vu_request_name(m->hdr.request));
	return -ENOTSUP;
}

/* How many fds a request may carry; the _CHECKED kinds check in the handler. */
enum vu_fds {
	VU_FDS_NONE,
	VU_FDS_ONE,
	VU_FDS_OPTIONAL,	/* zero or one, closed unused */
	VU_FDS_CHECKED,
};

struct vu_request_rule {
	int (*handler)(struct vu_backend *vb, struct vu_msg *m);
	enum vu_fds fds;
	bool has_reply;
	int8_t protocol_feature;	/* needed to send it; -1: none */
};

#define RULE(fn, nfds, reply, pf) \
	{ .handler = (fn), .fds = (nfds), .has_reply = (reply), .protocol_feature = (pf) }
#define NO_PF	-1
#define UNSUPPORTED	RULE(vu_handle_unsupported, VU_FDS_CHECKED, false, NO_PF)

static const struct vu_request_rule vu_rules[VHOST_USER_REQUEST_MAX] = {
	[VHOST_USER_GET_FEATURES] = RULE(vu_handle_get_features, VU_FDS_NONE, true, NO_PF),
	[VHOST_USER_SET_FEATURES] = RULE(vu_handle_set_features, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_SET_OWNER] = RULE(vu_handle_set_owner, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_RESET_OWNER] = RULE(vu_handle_reset_owner, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_SET_MEM_TABLE] = RULE(vu_handle_set_mem_table, VU_FDS_CHECKED, false, NO_PF),
	[VHOST_USER_SET_LOG_BASE] = UNSUPPORTED,
	[VHOST_USER_SET_LOG_FD] = UNSUPPORTED,
	[VHOST_USER_SET_VRING_NUM] = RULE(vu_handle_set_vring_num, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_SET_VRING_ADDR] = RULE(vu_handle_set_vring_addr, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_SET_VRING_BASE] = RULE(vu_handle_set_vring_base, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_GET_VRING_BASE] = RULE(vu_handle_get_vring_base, VU_FDS_NONE, true, NO_PF),
	[VHOST_USER_SET_VRING_KICK] = RULE(vu_handle_set_vring_kick, VU_FDS_CHECKED, false, NO_PF),
	[VHOST_USER_SET_VRING_CALL] = RULE(vu_handle_set_vring_call, VU_FDS_CHECKED, false, NO_PF),
	[VHOST_USER_SET_VRING_ERR] = RULE(vu_handle_set_vring_err, VU_FDS_CHECKED, false, NO_PF),
	[VHOST_USER_GET_PROTOCOL_FEATURES] = RULE(vu_handle_get_protocol_features,
						  VU_FDS_NONE, true, NO_PF),
	[VHOST_USER_SET_PROTOCOL_FEATURES] = RULE(vu_handle_set_protocol_features,
						  VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_GET_QUEUE_NUM] = RULE(vu_handle_get_queue_num, VU_FDS_NONE, true,
					  VHOST_USER_PROTOCOL_F_MQ),
	[VHOST_USER_SET_VRING_ENABLE] = RULE(vu_handle_set_vring_enable, VU_FDS_NONE, false, NO_PF),
	[VHOST_USER_SEND_RARP] = UNSUPPORTED,
	[VHOST_USER_NET_SET_MTU] = UNSUPPORTED,
	[VHOST_USER_SET_BACKEND_REQ_FD] = RULE(vu_handle_set_backend_req_fd,
					       VU_FDS_OPTIONAL, false, NO_PF),
	[VHOST_USER_IOTLB_MSG] = UNSUPPORTED,
	[VHOST_USER_SET_VRING_ENDIAN] = UNSUPPORTED,
	[VHOST_USER_GET_CONFIG] = RULE(vu_handle_get_config, VU_FDS_NONE, true,
				       VHOST_USER_PROTOCOL_F_CONFIG),
	[VHOST_USER_SET_CONFIG] = RULE(vu_handle_set_config, VU_FDS_NONE, false,
				       VHOST_USER_PROTOCOL_F_CONFIG),
	[VHOST_USER_CREATE_CRYPTO_SESSION] = UNSUPPORTED,
	[VHOST_USER_CLOSE_CRYPTO_SESSION] = UNSUPPORTED,
	[VHOST_USER_POSTCOPY_ADVISE] = UNSUPPORTED,
	[VHOST_USER_POSTCOPY_LISTEN] = UNSUPPORTED,
	[VHOST_USER_POSTCOPY_END] = UNSUPPORTED,
	[VHOST_USER_GET_INFLIGHT_FD] = UNSUPPORTED,
	[VHOST_USER_SET_INFLIGHT_FD] = UNSUPPORTED,
	[VHOST_USER_GPU_SET_SOCKET] = UNSUPPORTED,
	[VHOST_USER_RESET_DEVICE] = UNSUPPORTED,
	[VHOST_USER_VRING_KICK] = UNSUPPORTED,
	[VHOST_USER_GET_MAX_MEM_SLOTS] = RULE(vu_handle_get_max_mem_slots, VU_FDS_NONE, true,
					      VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS),
	[VHOST_USER_ADD_MEM_REG] = RULE(vu_handle_add_mem_reg, VU_FDS_ONE, false,
					VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS),
	[VHOST_USER_REM_MEM_REG] = RULE(vu_handle_rem_mem_reg, VU_FDS_OPTIONAL, false,
					VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS),
	[VHOST_USER_SET_STATUS] = UNSUPPORTED,
	[VHOST_USER_GET_STATUS] = UNSUPPORTED,
};

/* Framing checks every request gets before its handler runs. */
static int vu_check_msg(struct vu_backend *vb, const struct vu_msg *m,
			const struct vu_request_rule *rule)
{
	const char *name = vu_request_name(m->hdr.request);

	if (rule->protocol_feature >= 0 &&
	    !vu_has_protocol(vb, (unsigned int)rule->protocol_feature)) {
		pr_err("%s: protocol feature %d not negotiated", name,
		       rule->protocol_feature);
		return -EPROTO;
	}
	if (vu_msg_check_size(m))
		return -EPROTO;
	if (vu_fdless(vb))
		return 0;	/* the transport parsed them from bytes: none */
	if ((rule->fds == VU_FDS_NONE && m->nfds != 0) ||
	    (rule->fds == VU_FDS_ONE && m->nfds != 1) ||
	    (rule->fds == VU_FDS_OPTIONAL && m->nfds > 1)) {
		pr_err("%s: %zu fds attached, which it does not take", name, m->nfds);
		return -EPROTO;
	}
	return 0;
}

static int vu_dispatch(struct vu_backend *vb, struct vu_msg *m, bool *has_reply)
{
	const struct vu_request_rule *rule = NULL;
	int ret;

	if (m->hdr.request < VHOST_USER_REQUEST_MAX)
		rule = &vu_rules[m->hdr.request];
	if (!rule || !rule->handler) {
		pr_err("unknown request %u (%zu fds): dropping the front-end",
		       m->hdr.request, m->nfds);
		return -EPROTO;
	}
	*has_reply = rule->has_reply;
	if (rule->handler == vu_handle_unsupported)
		return vu_handle_unsupported(vb, m);
	ret = vu_check_msg(vb, m, rule);
	if (ret)
		return ret;
	return rule->handler(vb, m);
}

int vu_backend_handle_msg(struct vu_backend *vb, struct vu_msg *m, bool *reply)
{
	bool need_ack = (m->hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
			vu_has_protocol(vb, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	bool has_reply = false;
	uint32_t request = m->hdr.request;
	int ret;

	pr_debug("%s (%u) size %u fds %zu", vu_request_name(request), request,
		 m->hdr.size, m->nfds);
	ret = vu_dispatch(vb, m, &has_reply);
	/* Whatever fds the handler did not keep are ours to close. */
	vu_msg_close_fds(m);

	*reply = false;
	if (has_reply) {
		*reply = ret == 0;
	} else if (need_ack) {
		/* Sent even on failure so the front-end learns why we hang up. */
		m->hdr.request = request;
		vu_reply_u64(m, ret ? 1 : 0);
		*reply = true;
	}
	if (ret)
		pr_err("%s (%u) failed: dropping the front-end",
		       vu_request_name(request), request);
	return ret;
}
