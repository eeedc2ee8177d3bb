// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver side of a split virtqueue (virtio 1.2, 2.7). Free descriptors are a
 * private list linked through slots[].next; a chain takes a prefix of it, so
 * the same links walk the chain when it comes back. Each used entry is read
 * once into locals and checked against the private slots before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/virtqueue.h"
#include "common/vring_driver.h"

struct vring_drv_slot {
	void *token;
	uint64_t in_len;	/* writable bytes of the chain headed here */
	uint16_t next;		/* next descriptor of the chain or free list */
	uint16_t ndesc;		/* descriptors of the chain headed here; 0: no head */
};

int vring_drv_init(struct vring_drv *vq, uint16_t num, struct vring_desc *desc,
		   struct vring_avail *avail, struct vring_used *used,
		   bool event_idx)
{
	struct vring_drv_slot *slots;

	if (!vring_layout_valid(num, desc, avail, used))
		return -EINVAL;
	slots = calloc(num, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint16_t i = 0; i < num; i++)
		slots[i].next = i + 1;
	memset(desc, 0, VRING_DESC_SIZE(num));
	memset(avail, 0, VRING_AVAIL_SIZE(num));
	memset(used, 0, VRING_USED_SIZE(num));
	*vq = (struct vring_drv){
		.num = num, .desc = desc, .avail = avail, .used = used,
		.event_idx = event_idx, .num_free = num, .slots = slots,
	};
	return 0;
}

void vring_drv_destroy(struct vring_drv *vq)
{
	free(vq->slots);
	vq->slots = NULL;
	vq->num_free = 0;
}

static void fill_desc(struct vring_desc *d, const struct vring_buf *b,
		      bool more, uint16_t next)
{
	*d = (struct vring_desc){
		.addr = b->addr,
		.len = b->len,
		.flags = (b->write ? VRING_DESC_F_WRITE : 0) |
			 (more ? VRING_DESC_F_NEXT : 0),
		.next = more ? next : 0,
	};
}

static uint64_t writable_bytes(const struct vring_buf *bufs, unsigned int n)
{
	uint64_t len = 0;

	for (unsigned int k = 0; k < n; k++)
		len += bufs[k].write ? bufs[k].len : 0;
	return len;
}

/* Takes ndesc descriptors off the free list for a chain; returns its head. */
static uint16_t take_chain(struct vring_drv *vq, uint16_t ndesc, void *token,
			   uint64_t in_len)
{
	uint16_t head = vq->free_head, i = head;

	for (uint16_t k = 0; k < ndesc; k++)
		i = vq->slots[i].next;
	vq->free_head = i;
	vq->num_free -= ndesc;
	vq->slots[head].token = token;
	vq->slots[head].in_len = in_len;
	vq->slots[head].ndesc = ndesc;
	return head;
}

int vring_drv_add(struct vring_drv *vq, const struct vring_buf *bufs,
		  unsigned int n, void *token)
{
	uint16_t head, i;

	if (n == 0 || n > vq->num)
		return -EINVAL;
	if (n > vq->num_free)
		return -ENOSPC;
	head = take_chain(vq, n, token, writable_bytes(bufs, n));
	i = head;
	for (unsigned int k = 0; k < n; k++) {
		fill_desc(&vq->desc[i], &bufs[k], k + 1 < n, vq->slots[i].next);
		i = vq->slots[i].next;
	}
	vring_drv_publish(vq, head);
	return head;
}

int vring_drv_add_indirect(struct vring_drv *vq, struct vring_desc *table,
			   uint64_t table_addr, const struct vring_buf *bufs,
			   unsigned int n, void *token)
{
	uint16_t head;

	if (n == 0 || n > VIRTQ_MAX_SIZE)
		return -EINVAL;
	if (!vq->num_free)
		return -ENOSPC;
	for (unsigned int k = 0; k < n; k++)
		fill_desc(&table[k], &bufs[k], k + 1 < n, k + 1);
	head = take_chain(vq, 1, token, writable_bytes(bufs, n));
	vq->desc[head] = (struct vring_desc){
		.addr = table_addr,
		.len = n * sizeof(struct vring_desc),
		.flags = VRING_DESC_F_INDIRECT,
	};
	vring_drv_publish(vq, head);
	return head;
}

void vring_drv_publish(struct vring_drv *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
	vq->avail_idx++;
	/* Release: a device that sees the new idx sees the entry and chain. */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

bool vring_drv_kick_prepare(struct vring_drv *vq)
{
	uint16_t old = vq->kicked_idx, event;

	/*
	 * Our avail->idx store must be visible before we read avail_event or
	 * the flags, pairing with the device's barrier in vq_enable_notify;
	 * else both sides may sleep with a buffer on the ring.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->kicked_idx = vq->avail_idx;
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) &
			 VRING_USED_F_NO_NOTIFY);
	event = __atomic_load_n(vring_avail_event(vq->used, vq->num), __ATOMIC_RELAXED);
	return vring_need_event(event, vq->avail_idx, old);
}

bool vring_drv_has_used(const struct vring_drv *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

static int vring_drv_break(struct vring_drv *vq, const char *why, uint32_t v)
{
	if (!vq->broken)
		pr_err("virtqueue driver: %s (%u); queue stopped", why, v);
	vq->broken = true;
	return -EPROTO;
}

/* Puts the chain headed at head back on the free list. */
static void free_chain(struct vring_drv *vq, uint16_t head)
{
	struct vring_drv_slot *s = &vq->slots[head];
	uint16_t last = head;

	for (uint16_t k = 1; k < s->ndesc; k++)
		last = vq->slots[last].next;
	vq->slots[last].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += s->ndesc;
	s->ndesc = 0;
	s->token = NULL;
}

int vring_drv_get_used(struct vring_drv *vq, uint16_t *id, uint32_t *len,
		       void **token)
{
	const struct vring_used_elem *e;
	uint16_t used_idx, pending;
	uint32_t eid, elen;

	if (vq->broken)
		return -EPROTO;
	/* Acquire: the element is read after the index that covers it. */
	used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	pending = used_idx - vq->last_used;
	if (!pending)
		return 0;
	if (pending > vq->num)
		return vring_drv_break(vq, "used index moved past the ring size", used_idx);
	e = &vq->used->ring[vq->last_used & (vq->num - 1)];
	eid = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	elen = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	if (eid >= vq->num || !vq->slots[eid].ndesc)
		return vring_drv_break(vq, "used id is not an outstanding head", eid);
	if (elen > vq->slots[eid].in_len)
		return vring_drv_break(vq, "used len beyond the chain's writable bytes", elen);

	vq->last_used++;
	*id = (uint16_t)eid;
	*len = elen;
	if (token)
		*token = vq->slots[eid].token;
	free_chain(vq, (uint16_t)eid);
	if (vq->event_idx) {
		/* Interrupt at the next completion; visible before we look again. */
		__atomic_store_n(vring_used_event(vq->avail, vq->num), vq->last_used,
				 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return 1;
}
