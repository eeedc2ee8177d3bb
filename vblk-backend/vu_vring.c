// SPDX-License-Identifier: GPL-2.0-only
/*
 * Vring requests and the ring lifecycle.
 *
 * A ring is *started* by SET_VRING_KICK and stopped by GET_VRING_BASE; it
 * is served only while started, enabled (SET_VRING_ENABLE, or implicitly
 * without PROTOCOL_FEATURES) and *mapped*, i.e. its three parts translate
 * through the current memory table. A memory change that unmaps a running
 * ring pauses it instead of leaving dangling pointers; it resumes, without
 * losing its indices, once its memory is back.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vblk-backend/vu_backend.h"

/* Index in a vring state payload; -EINVAL (logged) if out of range. */
static int vu_vring_index(struct vu_backend *vb, const char *what, uint64_t idx)
{
	if (idx >= vb->nqueues) {
		pr_err("%s: ring index %llu, we have %u queues", what,
		       (unsigned long long)idx, vb->nqueues);
		return -EINVAL;
	}
	return (int)idx;
}

static int vu_watch_kick(struct vu_backend *vb, unsigned int qidx, int fd)
{
	if (vb->tr_ops && vb->tr_ops->watch_kick)
		return vb->tr_ops->watch_kick(vb->tr, qidx, fd);
	return 0;
}

/* The ring's three parts as local pointers, all checked; -EFAULT if not. */
static int vu_vring_translate(struct vu_backend *vb, unsigned int qidx,
			      struct vring_desc **desc, struct vring_avail **avail,
			      struct vring_used **used)
{
	struct vu_vring *vr = &vb->vrings[qidx];

	*desc = mem_uva_to_host(&vb->mem, vr->desc_uva, VRING_DESC_SIZE(vr->num));
	*avail = mem_uva_to_host(&vb->mem, vr->avail_uva, VRING_AVAIL_SIZE(vr->num));
	*used = mem_uva_to_host(&vb->mem, vr->used_uva, VRING_USED_SIZE(vr->num));
	if (!*desc || !*avail || !*used) {
		pr_err("queue %u: ring (desc %#llx avail %#llx used %#llx, size %u) is not inside one memory region",
		       qidx, (unsigned long long)vr->desc_uva,
		       (unsigned long long)vr->avail_uva,
		       (unsigned long long)vr->used_uva, vr->num);
		return -EFAULT;
	}
	if ((uintptr_t)*desc % VRING_DESC_ALIGN ||
	    (uintptr_t)*avail % VRING_AVAIL_ALIGN ||
	    (uintptr_t)*used % VRING_USED_ALIGN) {
		pr_err("queue %u: ring parts are misaligned", qidx);
		return -EINVAL;
	}
	return 0;
}

/* Points a started ring at the current table; indices are kept. */
static int vu_vring_remap(struct vu_backend *vb, unsigned int qidx)
{
	struct vu_vring *vr = &vb->vrings[qidx];
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool was_mapped = vr->mapped;

	vr->mapped = false;
	if (vu_vring_translate(vb, qidx, &desc, &avail, &used)) {
		pr_warn("queue %u: paused until its memory is back", qidx);
		return 0;
	}
	vr->vq.desc = desc;
	vr->vq.avail = avail;
	vr->vq.used = used;
	vr->mapped = true;
	/* Kicks that came while it was paused were drained: look now. */
	if (!was_mapped)
		return vu_backend_process_vring(vb, qidx);
	return 0;
}

int vu_vring_remap_all(struct vu_backend *vb)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vb->nqueues; i++) {
		if (!vb->vrings[i].started)
			continue;
		ret = vu_vring_remap(vb, i);
		if (ret)
			return ret;
	}
	return 0;
}

void vu_vring_stop(struct vu_backend *vb, unsigned int qidx)
{
	struct vu_vring *vr = &vb->vrings[qidx];

	if (vr->kick_fd >= 0) {
		vu_watch_kick(vb, qidx, -1);
		close(vr->kick_fd);
		vr->kick_fd = -1;
	}
	if (vr->started)
		vr->base = vr->vq.last_avail_idx;
	vr->started = false;
	vr->mapped = false;
}

void vu_vring_reset(struct vu_backend *vb, unsigned int qidx)
{
	struct vu_vring *vr = &vb->vrings[qidx];

	vu_vring_stop(vb, qidx);
	if (vr->call_fd >= 0)
		close(vr->call_fd);
	if (vr->err_fd >= 0)
		close(vr->err_fd);
	memset(vr, 0, sizeof(*vr));
	vr->kick_fd = -1;
	vr->call_fd = -1;
	vr->err_fd = -1;
}

int vu_handle_set_vring_num(struct vu_backend *vb, struct vu_msg *m)
{
	const struct vhost_user_vring_state *s = &m->payload.state;
	uint32_t num = s->num;
	int qidx = vu_vring_index(vb, "SET_VRING_NUM", s->index);

	if (qidx < 0)
		return qidx;
	if (num == 0 || num > VIRTQ_MAX_SIZE || (num & (num - 1))) {
		pr_err("SET_VRING_NUM: queue %d size %u is not a power of two in 1..%d",
		       qidx, num, VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	if (vb->vrings[qidx].started) {
		pr_err("SET_VRING_NUM: queue %d is running", qidx);
		return -EBUSY;
	}
	vb->vrings[qidx].num = (uint16_t)num;
	return 0;
}

int vu_handle_set_vring_addr(struct vu_backend *vb, struct vu_msg *m)
{
	const struct vhost_user_vring_addr *a = &m->payload.addr;
	int qidx = vu_vring_index(vb, "SET_VRING_ADDR", a->index);
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vu_vring *vr;
	int ret;

	if (qidx < 0)
		return qidx;
	vr = &vb->vrings[qidx];
	vr->desc_uva = a->desc_user_addr;
	vr->avail_uva = a->avail_user_addr;
	vr->used_uva = a->used_user_addr;
	vr->addr_set = true;
	/* Dirty logging is never negotiated, so log_guest_addr is unused. */

	/*
	 * Check now if we can (a front-end may send it before the table): only
	 * a memory change may leave a started ring paused, never new addresses.
	 */
	if (vb->mem.nregions) {
		ret = vu_vring_translate(vb, (unsigned int)qidx, &desc, &avail, &used);
		if (ret)
			return ret;
	}
	if (vr->started)
		return vu_vring_remap(vb, (unsigned int)qidx);
	return 0;
}

int vu_handle_set_vring_base(struct vu_backend *vb, struct vu_msg *m)
{
	const struct vhost_user_vring_state *s = &m->payload.state;
	int qidx = vu_vring_index(vb, "SET_VRING_BASE", s->index);

	if (qidx < 0)
		return qidx;
	if (s->num > UINT16_MAX) {
		pr_err("SET_VRING_BASE: queue %d base %u is not a split-ring index",
		       qidx, s->num);
		return -EINVAL;
	}
	if (vb->vrings[qidx].started) {
		pr_err("SET_VRING_BASE: queue %d is running", qidx);
		return -EBUSY;
	}
	vb->vrings[qidx].base = (uint16_t)s->num;
	return 0;
}

int vu_handle_get_vring_base(struct vu_backend *vb, struct vu_msg *m)
{
	struct vhost_user_vring_state *s = &m->payload.state;
	int qidx = vu_vring_index(vb, "GET_VRING_BASE", s->index);

	if (qidx < 0)
		return qidx;
	vu_vring_stop(vb, (unsigned int)qidx);
	vu_msg_make_reply(m, sizeof(*s));
	s->index = (uint32_t)qidx;
	s->num = vb->vrings[qidx].base;
	pr_debug("queue %d stopped at %u", qidx, s->num);
	return 0;
}

/*
 * Decodes the u64 of SET_VRING_KICK/CALL/ERR and takes its fd: *fd is -1
 * with NOFD. Exactly one fd must come without NOFD, none with it.
 */
static int vu_vring_fd_arg(struct vu_backend *vb, struct vu_msg *m, int *fd,
			   bool *set)
{
	const char *what = vu_request_name(m->hdr.request);
	uint64_t v = m->payload.u64;
	bool nofd = v & VHOST_USER_VRING_NOFD_MASK;
	int qidx;

	if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) {
		pr_err("%s: payload %#llx has unknown bits (index > 255?)", what,
		       (unsigned long long)v);
		return -EINVAL;
	}
	qidx = vu_vring_index(vb, what, v & VHOST_USER_VRING_IDX_MASK);
	if (qidx < 0)
		return qidx;
	*set = !nofd;
	if (m->nfds != (nofd || vu_fdless(vb) ? 0u : 1u)) {
		pr_err("%s: %zu fds with NOFD %s", what, m->nfds, nofd ? "set" : "clear");
		return -EINVAL;
	}
	*fd = m->nfds ? vu_msg_take_fd(m, 0) : -1;
	/* Never block the loop on a peer's eventfd (or whatever it sent). */
	if (*fd >= 0 && fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK) < 0) {
		pr_err("%s: unusable fd: %m", what);
		close(*fd);
		return -EINVAL;
	}
	return qidx;
}

static int vu_vring_start(struct vu_backend *vb, unsigned int qidx)
{
	struct vu_vring *vr = &vb->vrings[qidx];
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	int ret;

	if (!vr->num || !vr->addr_set) {
		pr_err("SET_VRING_KICK: queue %u has no %s yet", qidx,
		       vr->num ? "addresses" : "size");
		return -EINVAL;
	}
	ret = vu_vring_translate(vb, qidx, &desc, &avail, &used);
	if (ret)
		return ret;
	ret = vq_init(&vr->vq, &vb->mem, vr->num, desc, avail, used, vr->base,
		      vu_has_feature(vb, VIRTIO_RING_F_EVENT_IDX));
	if (ret) {
		pr_err("SET_VRING_KICK: queue %u: bad ring geometry", qidx);
		return ret;
	}
	vr->started = true;
	vr->mapped = true;
	/* Without PROTOCOL_FEATURES a ring is enabled as soon as it starts. */
	if (!vu_has_feature(vb, VHOST_USER_F_PROTOCOL_FEATURES))
		vr->enabled = true;
	pr_debug("queue %u started: size %u base %u used %u", qidx, vr->num,
		 vr->base, vr->vq.used_idx);
	return 0;
}

int vu_handle_set_vring_kick(struct vu_backend *vb, struct vu_msg *m)
{
	struct vu_vring *vr;
	int qidx, fd, ret;
	bool set;

	qidx = vu_vring_fd_arg(vb, m, &fd, &set);
	if (qidx < 0)
		return qidx;
	vr = &vb->vrings[qidx];
	if (vr->kick_fd >= 0) {
		vu_watch_kick(vb, (unsigned int)qidx, -1);
		close(vr->kick_fd);
	}
	vr->kick_fd = fd;
	if (!set)
		pr_warn("SET_VRING_KICK: queue %d without a kick fd is only served on enable",
			qidx);

	if (!vr->started) {
		ret = vu_vring_start(vb, (unsigned int)qidx);
		if (ret)
			return ret;
	}
	if (fd >= 0) {
		ret = vu_watch_kick(vb, (unsigned int)qidx, fd);
		if (ret) {
			pr_err("SET_VRING_KICK: queue %d: cannot watch the kick fd", qidx);
			return ret;
		}
	}
	/* The driver may have queued requests before we started (reconnect). */
	return vu_backend_process_vring(vb, (unsigned int)qidx);
}

/* Replaces *slot with fd, closing the old one. */
static void vu_replace_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

int vu_handle_set_vring_call(struct vu_backend *vb, struct vu_msg *m)
{
	int qidx, fd;
	bool set;

	qidx = vu_vring_fd_arg(vb, m, &fd, &set);
	if (qidx < 0)
		return qidx;
	vu_replace_fd(&vb->vrings[qidx].call_fd, fd);
	vb->vrings[qidx].call_set = set;
	return 0;
}

int vu_handle_set_vring_err(struct vu_backend *vb, struct vu_msg *m)
{
	int qidx, fd;
	bool set;

	/* Kept only to be closed: we never report ring errors this way. */
	qidx = vu_vring_fd_arg(vb, m, &fd, &set);
	if (qidx < 0)
		return qidx;
	vu_replace_fd(&vb->vrings[qidx].err_fd, fd);
	return 0;
}

int vu_handle_set_vring_enable(struct vu_backend *vb, struct vu_msg *m)
{
	const struct vhost_user_vring_state *s = &m->payload.state;
	int qidx = vu_vring_index(vb, "SET_VRING_ENABLE", s->index);

	if (qidx < 0)
		return qidx;
	if (s->num > 1) {
		pr_err("SET_VRING_ENABLE: queue %d: %u is neither 0 nor 1", qidx, s->num);
		return -EINVAL;
	}
	vb->vrings[qidx].enabled = s->num;
	pr_debug("queue %d %s", qidx, s->num ? "enabled" : "disabled");
	return vu_backend_process_vring(vb, (unsigned int)qidx);
}
