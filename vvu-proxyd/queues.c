// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device's own virtqueues, in the device VM's RAM: rxq (0) carries
 * each front-end message, whole, in one driver buffer; txq (1) brings the
 * back-end's messages (replies) one per buffer. Everything the driver put
 * in the rings is checked by common/virtqueue against the RAM table.
 *
 * Messages wait in a bounded backlog while the driver has no rx buffer;
 * when it is full, sibling.c stops reading the socket until it drains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/iov.h"
#include "common/log.h"
#include "common/range.h"
#include "vvu-proxyd/proxyd.h"

int queues_init(struct proxy_queues *q)
{
	memset(q, 0, sizeof(*q));
	mem_table_init(&q->ram);
	for (unsigned int i = 0; i < VVU_NUM_QUEUES; i++) {
		q->elem[i] = calloc(1, sizeof(*q->elem[i]));
		if (!q->elem[i])
			return -ENOMEM;
	}
	q->rx = calloc(PROXY_RX_BACKLOG, sizeof(*q->rx));
	return q->rx ? 0 : -ENOMEM;
}

void queues_destroy(struct proxy_queues *q)
{
	mem_table_clear(&q->ram);
	for (unsigned int i = 0; i < VVU_NUM_QUEUES; i++) {
		free(q->elem[i]);
		q->elem[i] = NULL;
	}
	free(q->rx);
	q->rx = NULL;
}

int queues_ram_add(struct proxy *p, uint64_t gpa, uint64_t size,
		   uint64_t fd_offset, int memfd)
{
	/* uva is only a key here: make it the gpa, so overlaps are gpa overlaps. */
	struct vhost_user_mem_region wire = {
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = gpa, .mmap_offset = fd_offset,
	};
	struct mem_region r;
	int err;

	for (unsigned int i = 0; i < p->q.ram.nregions; i++) {
		const struct mem_region *o = &p->q.ram.regions[i];

		/* The device channel's refusal for an overlap. */
		if (range_overlaps(gpa, size, o->gpa, o->size))
			return -EEXIST;
	}
	err = mem_region_map_fd(&wire, memfd, &r);
	if (err)
		return err;
	err = mem_table_add(&p->q.ram, &r);
	if (err)
		munmap(r.map_base, r.map_len);
	return err;
}

/* --- queue state ---------------------------------------------------------- */

static bool queue_usable(const struct proxy *p, unsigned int qi)
{
	return p->q.started && p->q.ready[qi] && p->dev.bus_master &&
	       !p->q.vq[qi].broken;
}

bool queues_enable(struct proxy *p, unsigned int qi)
{
	const struct virtio_pci_model_queue *mq = &p->dev.model.queues[qi];
	const struct mem_table *ram = &p->q.ram;
	void *desc, *avail, *used;

	desc = mem_gpa_to_host(ram, mq->desc, VRING_DESC_SIZE(mq->size));
	avail = mem_gpa_to_host(ram, mq->avail, VRING_AVAIL_SIZE(mq->size));
	used = mem_gpa_to_host(ram, mq->used, VRING_USED_SIZE(mq->size));
	if (!desc || !avail || !used ||
	    vq_init(&p->q.vq[qi], ram, mq->size, desc, avail, used, 0, false)) {
		pr_warn_limited("queue %u: rings outside the device VM's RAM or misaligned",
				qi);
		return false;
	}
	p->q.ready[qi] = true;
	return true;
}

static void rx_clear(struct proxy_queues *q)
{
	q->rx_head = 0;
	q->rx_count = 0;
}

void queues_start(struct proxy *p)
{
	p->q.started = true;
	rx_clear(&p->q);
}

void queues_stop(struct proxy *p)
{
	p->q.started = false;
	memset(p->q.ready, 0, sizeof(p->q.ready));
	rx_clear(&p->q);
}

/* A ring the driver corrupted: tell it, and stop using it. */
static void queue_broken(struct proxy *p, unsigned int qi, int err)
{
	pr_warn("queue %u: the driver's ring is malformed (%s); the device needs a reset",
		qi, strerror(-err));
	virtio_pci_model_needs_reset(&p->dev.model);
}

static void queue_push(struct proxy *p, unsigned int qi, uint16_t head,
		       uint32_t len)
{
	struct vq *vq = &p->q.vq[qi];

	vq_push(vq, head, len);
	if (vq_should_notify(vq))
		proxy_dev_queue_irq(p, qi);
}

/* --- rxq: front-end messages to the driver --------------------------------- */

bool queues_rx_room(const struct proxy *p)
{
	return p->q.rx_count < PROXY_RX_BACKLOG;
}

/* Puts the oldest waiting message into e; false if it does not fit. */
static bool rx_fill(struct proxy *p, const struct vq_elem *e, uint32_t *len)
{
	const struct proxy_rx_entry *m = &p->q.rx[p->q.rx_head];

	*len = m->len;
	if (e->in_len < m->len) {
		pr_warn("a %u-byte front-end message does not fit a %llu-byte rx buffer",
			m->len, (unsigned long long)e->in_len);
		return false;
	}
	iov_from_buf(e->iov + e->out_num, e->in_num, 0, m->data, m->len);
	return true;
}

static void rx_deliver(struct proxy *p)
{
	struct vq_elem *e = p->q.elem[VVU_RXQ];
	bool pushed = false;
	uint32_t len;
	int r;

	while (p->q.rx_count && !p->q.rx_held && queue_usable(p, VVU_RXQ)) {
		r = vq_pop(&p->q.vq[VVU_RXQ], e);
		if (r < 0)
			queue_broken(p, VVU_RXQ, r);
		if (r <= 0)
			break;
		if (!rx_fill(p, e, &len)) {
			/*
			 * Never truncated: the sibling goes. The buffer was only
			 * read, so it goes back on the ring for the marker
			 * that sibling_drop queues.
			 */
			p->q.vq[VVU_RXQ].last_avail_idx--;
			sibling_drop(p, "message larger than the rx buffer");
			break;
		}
		queue_push(p, VVU_RXQ, e->head, len);
		p->q.rx_head = (p->q.rx_head + 1) % PROXY_RX_BACKLOG;
		p->q.rx_count--;
		pushed = true;
	}
	if (pushed)
		sibling_rx_drained(p);
}

void queues_rx_hold(struct proxy *p, bool hold)
{
	p->q.rx_held = hold;
	if (!hold)
		rx_deliver(p);
}

static struct proxy_rx_entry *rx_tail(struct proxy_queues *q)
{
	return &q->rx[(q->rx_head + q->rx_count) % PROXY_RX_BACKLOG];
}

void queues_rx_send(struct proxy *p, const void *msg, uint32_t len)
{
	struct proxy_rx_entry *t;

	if (!p->q.started || !queues_rx_room(p) || !len ||
	    len > sizeof(t->data))
		return;
	t = rx_tail(&p->q);
	t->len = len;
	memcpy(t->data, msg, len);
	p->q.rx_count++;
	rx_deliver(p);
}

void queues_rx_disconnected(struct proxy *p)
{
	if (!p->q.started)
		return;
	rx_clear(&p->q);
	rx_tail(&p->q)->len = 0;
	p->q.rx_count++;
	rx_deliver(p);
}

/* --- txq: the back-end's messages to the sibling ---------------------------- */

static void tx_one(struct proxy *p, const struct vq_elem *e)
{
	uint8_t buf[VU_MSG_MAX_LEN];
	size_t len;

	if (e->out_len == 0 && e->in_len == 0) {
		sibling_session_ended(p);
		return;
	}
	if (e->out_len > sizeof(buf) || e->out_len < sizeof(struct vhost_user_hdr)) {
		pr_warn_limited("txq: a %llu-byte buffer is no vhost-user message",
				(unsigned long long)e->out_len);
		sibling_drop(p, "bad message from the driver");
		return;
	}
	len = iov_to_buf(e->iov, e->out_num, 0, buf, sizeof(buf));
	sibling_from_driver(p, buf, len);
}

static void tx_process(struct proxy *p)
{
	struct vq_elem *e = p->q.elem[VVU_TXQ];
	int r;

	while (queue_usable(p, VVU_TXQ)) {
		r = vq_pop(&p->q.vq[VVU_TXQ], e);
		if (r < 0)
			queue_broken(p, VVU_TXQ, r);
		if (r <= 0)
			return;
		tx_one(p, e);
		queue_push(p, VVU_TXQ, e->head, 0);
	}
}

void queues_kick(struct proxy *p, unsigned int qi)
{
	if (qi == VVU_RXQ)
		rx_deliver(p);
	else
		tx_process(p);
}
