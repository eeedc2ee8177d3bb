/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver side of a split virtqueue (common/virtqueue.h is the device
 * side): add chains of buffers, publish them, decide on kicks (EVENT_IDX or
 * flags), and take used chains back. The rings live in memory the caller
 * provides and reaches through plain pointers; buffer addresses are written
 * as given (guest-physical, BAR offsets: whatever the device expects).
 *
 * What the device writes is not trusted: a used entry whose id is not a head
 * the driver has outstanding, or whose len exceeds the chain's writable
 * bytes, breaks the queue. Bookkeeping (free list, tokens) lives in private
 * memory, never in the rings the device can write.
 */
#ifndef COMMON_VRING_DRIVER_H
#define COMMON_VRING_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/virtio.h"

/* One buffer of a chain: len bytes at addr, written by the device if write. */
struct vring_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

struct vring_drv_slot;

struct vring_drv {
	uint16_t num;			/* ring size, power of two */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool broken;			/* the device wrote something invalid */
	uint16_t avail_idx;		/* our copy of avail->idx */
	uint16_t last_used;		/* next used entry to take */
	uint16_t kicked_idx;		/* avail_idx at the last kick decision */
	uint16_t num_free;		/* descriptors not in any chain */
	uint16_t free_head;
	struct vring_drv_slot *slots;	/* per descriptor, private */
};

/*
 * Binds the rings (num a power of two in 1..32768, parts aligned as the
 * split layout requires) and zeroes them: the device must not be using them
 * yet. 0, -EINVAL or -ENOMEM. vring_drv_destroy frees what init allocated.
 */
int vring_drv_init(struct vring_drv *vq, uint16_t num, struct vring_desc *desc,
		   struct vring_avail *avail, struct vring_used *used,
		   bool event_idx);
void vring_drv_destroy(struct vring_drv *vq);

/*
 * Adds bufs[0..n) as one chain and publishes it (avail->idx, release
 * ordered after the descriptors). token comes back with the used entry.
 * Returns the head id, -EINVAL (n 0 or more than the ring), or -ENOSPC
 * (not enough free descriptors). Does not notify: see vring_drv_kick_prepare.
 */
int vring_drv_add(struct vring_drv *vq, const struct vring_buf *bufs,
		  unsigned int n, void *token);

/*
 * The same as one descriptor pointing to an indirect table of n entries the
 * caller provides: table (local pointer) at table_addr (as the device sees
 * it), which must stay untouched until the chain is used.
 */
int vring_drv_add_indirect(struct vring_drv *vq, struct vring_desc *table,
			   uint64_t table_addr, const struct vring_buf *bufs,
			   unsigned int n, void *token);

/*
 * Makes head available as is. vring_drv_add uses it; on its own it offers
 * descriptors the caller wrote itself (tests offering malformed chains),
 * which the ring does not track: their used entries are rejected.
 */
void vring_drv_publish(struct vring_drv *vq, uint16_t head);

/*
 * After adding: must the device be notified of what was published since
 * the last call? With EVENT_IDX, avail_event decides; else the used ring's
 * NO_NOTIFY flag.
 */
bool vring_drv_kick_prepare(struct vring_drv *vq);

/* Is a used entry waiting? */
bool vring_drv_has_used(const struct vring_drv *vq);

/*
 * Takes the next used entry: its head id, the bytes the device wrote and the
 * chain's token; the chain's descriptors are free again. With EVENT_IDX,
 * asks for an interrupt at the next completion (used_event). Returns 1, 0 if
 * none is waiting, or -EPROTO if the entry is invalid (id not an outstanding
 * head, len beyond the chain's writable bytes); the queue is then broken and
 * later calls return -EPROTO too.
 */
int vring_drv_get_used(struct vring_drv *vq, uint16_t *id, uint32_t *len,
		       void **token);

#endif /* COMMON_VRING_DRIVER_H */
