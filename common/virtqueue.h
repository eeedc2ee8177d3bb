/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device side of a split virtqueue whose rings and buffers live in a
 * guest memory table: pop descriptor chains (direct and indirect) as iovecs,
 * push used elements, and decide on notifications (EVENT_IDX or flags).
 *
 * Everything the driver wrote is untrusted: indices are bounds-checked, chain
 * length is capped by the queue size (loops), indirect tables are checked for
 * size, nesting and position, and buffers must lie inside the memory table.
 * A malformed chain makes the queue broken: the caller stops serving it and
 * drops the connection.
 */
#ifndef COMMON_VIRTQUEUE_H
#define COMMON_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/iov.h"
#include "common/memtable.h"
#include "protocol/virtio.h"

/* Most iovecs one element may use (descriptors, split at region borders). */
#define VQ_MAX_IOV	1024

struct vq_elem {
	uint16_t head;			/* id to push back */
	unsigned int out_num;		/* driver -> device iovecs, first */
	unsigned int in_num;		/* device -> driver iovecs, after them */
	uint64_t out_len;		/* bytes readable */
	uint64_t in_len;		/* bytes writable */
	struct iovec iov[VQ_MAX_IOV];	/* out_num readable, then in_num writable */
};

struct vq {
	uint16_t num;			/* ring size, power of two */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	const struct mem_table *mem;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool broken;			/* driver wrote something invalid */
	uint16_t last_avail_idx;	/* next avail entry to pop */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last notification */
	bool signalled_used_valid;
};

/*
 * The split-ring geometry both sides require: num a power of two in
 * 1..VIRTQ_MAX_SIZE, each part present and aligned as the layout says.
 */
bool vring_layout_valid(uint16_t num, const void *desc, const void *avail,
			const void *used);

/* EVENT_IDX fields: used_event ends the avail ring, avail_event the used one. */
static inline uint16_t *vring_used_event(struct vring_avail *avail, uint16_t num)
{
	return &avail->ring[num];
}

static inline uint16_t *vring_avail_event(struct vring_used *used, uint16_t num)
{
	return (uint16_t *)&used->ring[num];
}

/*
 * Checks the ring geometry (num a power of two in 1..32768, rings aligned)
 * and binds the rings. base is the initial last_avail_idx (SET_VRING_BASE);
 * used_idx starts from the used ring's current idx. 0 or -EINVAL.
 */
int vq_init(struct vq *vq, const struct mem_table *mem, uint16_t num,
	    struct vring_desc *desc, struct vring_avail *avail,
	    struct vring_used *used, uint16_t base, bool event_idx);

/*
 * Pops the next available chain into *e. Returns 1 if one was popped, 0 if
 * the ring is empty, -EINVAL if the driver's data is malformed (vq->broken is
 * then set and later calls keep failing), -ENOBUFS if the chain needs more
 * than VQ_MAX_IOV iovecs (also breaks the queue).
 */
int vq_pop(struct vq *vq, struct vq_elem *e);

/* Puts head back as used with len bytes written, and publishes used->idx. */
void vq_push(struct vq *vq, uint16_t head, uint32_t len);

/* After pushes: does the driver want an interrupt now? Updates signalled_used. */
bool vq_should_notify(struct vq *vq);

/*
 * Asks the driver for kicks (or not). With EVENT_IDX, enabling writes
 * avail_event; returns true if buffers arrived meanwhile (so poll again).
 */
bool vq_enable_notify(struct vq *vq);
void vq_disable_notify(struct vq *vq);

#endif /* COMMON_VIRTQUEUE_H */
