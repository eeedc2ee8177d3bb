/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transport-agnostic vhost-user back-end: the state one front-end session
 * builds (features, memory table, vrings, fds) and one handler per request.
 *
 * The socket server feeds it messages read from a UNIX socket; a future
 * VFIO transport feeds it messages taken from virtqueue buffers. Whatever
 * differs between the two (how a kick is watched, how a call is raised, how
 * a memory region gets mapped) goes through struct vu_transport_ops. What the
 * device is (virtio-blk) goes through struct vu_device_ops.
 */
#ifndef VBLK_VU_BACKEND_H
#define VBLK_VU_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "common/memtable.h"
#include "common/virtqueue.h"
#include "common/vu_msg.h"

struct work_pool;

/* Queues one back-end serves at most (the KICK/CALL index field is 8 bits). */
#define VU_MAX_QUEUES		64
/* Requests popped, then served (maybe in parallel), then pushed, at a time. */
#define VU_BATCH		16
/* GET_MAX_MEM_SLOTS: regions ADD_MEM_REG may build up, like libvhost-user. */
#define VU_MAX_MEM_SLOTS	32

struct vu_backend;

struct vu_device_ops {
	/* Device feature bits (virtio-blk's), beside the ring ones we add. */
	uint64_t (*features)(void *dev);
	/* Bytes of device config space; get_config copies [off, off + len). */
	uint32_t (*config_size)(void *dev);
	void (*get_config)(void *dev, void *buf, uint32_t off, uint32_t len);
	/*
	 * Serves one request. Returns 0 with *used_len the bytes written for
	 * the driver, or -EINVAL if the driver built the request so badly that
	 * the queue cannot go on (the connection is then dropped).
	 */
	int (*handle_elem)(void *dev, unsigned int qidx, struct vq_elem *e,
			   uint32_t *used_len);
};

struct vu_transport_ops {
	/*
	 * Messages carry no fds (the vvu device's queues: the device kept
	 * them). Regions then reach map_region with fd -1; kicks arrive
	 * through the transport, which calls vu_backend_process_vring; calls
	 * go out through notify.
	 */
	bool fdless;
	/*
	 * Starts (fd >= 0) or stops (fd -1) watching queue qidx's kick fd.
	 * Returns 0 or -errno (the fd cannot be watched: drop).
	 */
	int (*watch_kick)(void *opaque, unsigned int qidx, int fd);
	/*
	 * Raises queue qidx's interrupt, whose CALL came without NOFD;
	 * NULL: write the call eventfd.
	 */
	void (*notify)(void *opaque, unsigned int qidx);
	/*
	 * Brings queue qidx back to the loop later (it ran out of budget);
	 * NULL: write its kick eventfd.
	 */
	void (*rekick)(void *opaque, unsigned int qidx);
	/* Maps one region; NULL: mem_region_map_fd on the region's fd. */
	int (*map_region)(void *opaque, const struct vhost_user_mem_region *wire,
			  int fd, struct mem_region *out);
};

struct vu_vring {
	uint16_t num;			/* SET_VRING_NUM; 0 = not set */
	uint16_t base;			/* SET_VRING_BASE, or where the ring stopped */
	bool addr_set;
	uint64_t desc_uva, avail_uva, used_uva;
	int kick_fd, call_fd, err_fd;
	bool call_set;			/* SET_VRING_CALL without NOFD */
	bool enabled;			/* SET_VRING_ENABLE */
	bool started;			/* SET_VRING_KICK .. GET_VRING_BASE */
	bool mapped;			/* started and the rings translate */
	struct vq vq;
};

struct vu_backend {
	const struct vu_device_ops *dev_ops;
	void *dev;
	const struct vu_transport_ops *tr_ops;
	void *tr;

	unsigned int nqueues;
	uint64_t offered_features;
	uint64_t offered_protocol;

	uint64_t features;		/* SET_FEATURES */
	uint64_t protocol;		/* SET_PROTOCOL_FEATURES */
	bool owner;
	struct mem_table mem;
	struct vu_vring vrings[VU_MAX_QUEUES];
	/* One batch of popped requests and their outcomes. */
	struct vq_elem *elems;		/* VU_BATCH of them, ~16 KiB each */
	uint32_t batch_len[VU_BATCH];
	int batch_ret[VU_BATCH];
	unsigned int batch_qidx;
	struct work_pool *pool;		/* NULL: serve on the loop's thread */
};

/* 0 or -ENOMEM; nqueues in 1..VU_MAX_QUEUES. */
int vu_backend_init(struct vu_backend *vb, unsigned int nqueues,
		    const struct vu_device_ops *dev_ops, void *dev,
		    const struct vu_transport_ops *tr_ops, void *tr);
/*
 * Lets batches big enough to be worth it be served on pool's threads too
 * (device ops must then be thread-safe for distinct requests). NULL: inline.
 */
static inline void vu_backend_set_pool(struct vu_backend *vb,
				       struct work_pool *pool)
{
	vb->pool = pool;
}

/* The transport's hooks, set before the first message. */
static inline void vu_backend_set_transport(struct vu_backend *vb,
					    const struct vu_transport_ops *ops,
					    void *tr)
{
	vb->tr_ops = ops;
	vb->tr = tr;
}

/* Session reset: unmaps memory, closes every fd, forgets negotiation. */
void vu_backend_reset(struct vu_backend *vb);
void vu_backend_destroy(struct vu_backend *vb);

/*
 * Handles one request. Takes every fd in m (keeps or closes it). On return
 * *reply says whether m now holds a reply to send. Returns 0 to carry on or
 * -errno to drop the connection (a REPLY_ACK nack may still be in m).
 */
int vu_backend_handle_msg(struct vu_backend *vb, struct vu_msg *m, bool *reply);

/*
 * Serves everything queue qidx has available, after a kick (or when it may
 * have been missed). 0, or -EINVAL if the driver broke the queue: drop.
 */
int vu_backend_process_vring(struct vu_backend *vb, unsigned int qidx);

static inline bool vu_fdless(const struct vu_backend *vb)
{
	return vb->tr_ops && vb->tr_ops->fdless;
}

/* Is bit set in the features the front-end acked? */
static inline bool vu_has_feature(const struct vu_backend *vb, unsigned int bit)
{
	return vb->features & (1ull << bit);
}

static inline bool vu_has_protocol(const struct vu_backend *vb, unsigned int bit)
{
	return vb->protocol & (1ull << bit);
}

/* Internal to vu_backend*.c: the per-request handlers, by file. */
int vu_handle_set_mem_table(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_add_mem_reg(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_rem_mem_reg(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_get_max_mem_slots(struct vu_backend *vb, struct vu_msg *m);

int vu_handle_set_vring_num(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_set_vring_addr(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_set_vring_base(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_get_vring_base(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_set_vring_kick(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_set_vring_call(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_set_vring_err(struct vu_backend *vb, struct vu_msg *m);
int vu_handle_set_vring_enable(struct vu_backend *vb, struct vu_msg *m);

/* vu_vring.c: ring lifecycle used by the memory handlers and reset. */
int vu_vring_remap_all(struct vu_backend *vb);
void vu_vring_stop(struct vu_backend *vb, unsigned int qidx);
void vu_vring_reset(struct vu_backend *vb, unsigned int qidx);

#endif /* VBLK_VU_BACKEND_H */
