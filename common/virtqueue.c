// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device side of a split virtqueue (virtio 1.2, 2.7).
 *
 * The driver may rewrite any ring byte while we read it, so every shared
 * field is loaded once into a local and only the local is checked and used.
 * Anything malformed breaks the queue for good: a driver that writes
 * garbage once is not trusted to have written anything else right.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/virtqueue.h"

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/*
 * Indirect tables longer than this are refused outright, as Linux vhost
 * does, so a huge table of zero-length descriptors cannot keep us spinning.
 */
#define VQ_MAX_INDIRECT		VIRTQ_MAX_SIZE

bool vring_layout_valid(uint16_t num, const void *desc, const void *avail,
			const void *used)
{
	return num && num <= VIRTQ_MAX_SIZE && !(num & (num - 1)) &&
	       desc && avail && used &&
	       !((uintptr_t)desc % VRING_DESC_ALIGN) &&
	       !((uintptr_t)avail % VRING_AVAIL_ALIGN) &&
	       !((uintptr_t)used % VRING_USED_ALIGN);
}

int vq_init(struct vq *vq, const struct mem_table *mem, uint16_t num,
	    struct vring_desc *desc, struct vring_avail *avail,
	    struct vring_used *used, uint16_t base, bool event_idx)
{
	if (!mem || !vring_layout_valid(num, desc, avail, used))
		return -EINVAL;

	memset(vq, 0, sizeof(*vq));
	vq->num = num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->mem = mem;
	vq->event_idx = event_idx;
	vq->last_avail_idx = base;
	vq->used_idx = READ_ONCE(used->idx);
	return 0;
}

/*
 * A private copy of a descriptor. Indirect tables need not be aligned, so
 * copy bytes; the barrier stops the compiler from re-reading shared memory
 * in place of the copy after we have checked it.
 */
static void read_desc(const struct vring_desc *src, struct vring_desc *d)
{
	memcpy(d, src, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
}

static int vq_break(struct vq *vq, int err, const char *why)
{
	if (!vq->broken)
		pr_err("virtqueue: %s; queue stopped\n", why);
	vq->broken = true;
	return err;
}

/* Appends one buffer descriptor's iovecs to e, enforcing out-before-in. */
static int add_buffer(struct vq *vq, struct vq_elem *e, const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	unsigned int n = e->out_num + e->in_num;
	int ret;

	if (!writable && e->in_num)
		return vq_break(vq, -EINVAL, "readable descriptor after a writable one");
	ret = mem_gpa_to_iov(vq->mem, d->addr, d->len, e->iov, &n, VQ_MAX_IOV);
	if (ret == -ENOBUFS)
		return vq_break(vq, ret, "descriptor chain needs too many iovecs");
	if (ret)
		return vq_break(vq, -EINVAL, "buffer outside guest memory");

	if (writable) {
		e->in_num = n - e->out_num;
		e->in_len += d->len;
	} else {
		e->out_num = n;
		e->out_len += d->len;
	}
	return 0;
}

/* Walks the table an indirect descriptor d points at. */
static int walk_indirect(struct vq *vq, struct vq_elem *e, const struct vring_desc *ind)
{
	const struct vring_desc *table;
	struct vring_desc d;
	unsigned int count = 0, max;
	uint16_t i = 0;
	int ret;

	if (ind->flags & VRING_DESC_F_NEXT)
		return vq_break(vq, -EINVAL, "indirect descriptor with NEXT");
	if (ind->len == 0 || ind->len % sizeof(struct vring_desc))
		return vq_break(vq, -EINVAL, "indirect table length not a multiple of 16");
	max = ind->len / sizeof(struct vring_desc);
	if (max > VQ_MAX_INDIRECT)
		return vq_break(vq, -EINVAL, "indirect table too long");
	table = mem_gpa_to_host(vq->mem, ind->addr, ind->len);
	if (!table)
		return vq_break(vq, -EINVAL, "indirect table outside guest memory");

	for (;;) {
		/* max descriptors visited without reaching an end: a loop. */
		if (++count > max)
			return vq_break(vq, -EINVAL, "loop in indirect table");
		read_desc(&table[i], &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return vq_break(vq, -EINVAL, "nested indirect table");
		ret = add_buffer(vq, e, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= max)
			return vq_break(vq, -EINVAL, "indirect next out of range");
		i = d.next;
	}
}

/* Walks the chain starting at head in the ring's own descriptor table. */
static int walk_chain(struct vq *vq, struct vq_elem *e, uint16_t head)
{
	struct vring_desc d;
	unsigned int count = 0;
	uint16_t i = head;
	int ret;

	for (;;) {
		if (++count > vq->num)
			return vq_break(vq, -EINVAL, "loop in descriptor chain");
		read_desc(&vq->desc[i], &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			/* It cannot have NEXT, so it ends the chain. */
			return walk_indirect(vq, e, &d);
		ret = add_buffer(vq, e, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->num)
			return vq_break(vq, -EINVAL, "descriptor next out of range");
		i = d.next;
	}
}

int vq_pop(struct vq *vq, struct vq_elem *e)
{
	uint16_t avail_idx, pending, head;
	int ret;

	if (vq->broken)
		return -EINVAL;

	/* Acquire: the ring entry and descriptors are read after the index. */
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	pending = avail_idx - vq->last_avail_idx;
	if (pending > vq->num)
		return vq_break(vq, -EINVAL, "avail index moved past the ring size");
	if (!pending)
		return 0;

	head = READ_ONCE(vq->avail->ring[vq->last_avail_idx & (vq->num - 1)]);
	if (head >= vq->num)
		return vq_break(vq, -EINVAL, "head index out of range");

	e->head = head;
	e->out_num = e->in_num = 0;
	e->out_len = e->in_len = 0;
	ret = walk_chain(vq, e, head);
	if (ret)
		return ret;
	vq->last_avail_idx++;
	return 1;
}

void vq_push(struct vq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *u = &vq->used->ring[vq->used_idx & (vq->num - 1)];

	WRITE_ONCE(u->id, head);
	WRITE_ONCE(u->len, len);
	vq->used_idx++;
	/* Release: the driver that sees the new idx sees the element. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool vq_should_notify(struct vq *vq)
{
	uint16_t old, event;
	bool valid;

	/*
	 * Our used->idx store must be visible before we read the driver's
	 * flags or used_event, pairing with the driver's barrier between
	 * writing those and reading used->idx; else both sides may sleep.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (!vq->event_idx)
		return !(READ_ONCE(vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);

	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;

	event = READ_ONCE(*vring_used_event(vq->avail, vq->num));
	return vring_need_event(event, vq->used_idx, old);
}

bool vq_enable_notify(struct vq *vq)
{
	if (vq->event_idx)
		WRITE_ONCE(*vring_avail_event(vq->used, vq->num), vq->last_avail_idx);
	else
		WRITE_ONCE(vq->used->flags, 0);
	/*
	 * The store above must be visible before we look at avail->idx:
	 * otherwise a driver that added a buffer just now may have read the
	 * old value, skipped its kick, and we would sleep on a full ring.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail_idx;
}

void vq_disable_notify(struct vq *vq)
{
	/* With EVENT_IDX, an avail_event left behind already suppresses kicks. */
	if (!vq->event_idx)
		WRITE_ONCE(vq->used->flags, VRING_USED_F_NO_NOTIFY);
}
