/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The harness's virtio driver: what a guest does on the other side of a
 * vhost-user back-end. Guest RAM is one memfd handed over as two regions
 * (so buffers can span a region border), split rings live in it, and
 * virtio-blk requests are built in it. It drives vblk-backend and
 * qemu-storage-daemon alike.
 */
#ifndef HARNESS_DRIVER_H
#define HARNESS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/vring_driver.h"
#include "common/vu_frontend.h"
#include "protocol/virtio.h"
#include "protocol/virtio_blk.h"

#define DRV_RAM_SIZE		(8u << 20)
#define DRV_RAM_GPA		0x100000ull	/* region 0; region 1 follows */
#define DRV_REGION_SPLIT	(DRV_RAM_SIZE / 2)
#define DRV_MAX_QUEUES		4
#define DRV_QUEUE_SIZE		128

struct drv_vq {
	struct vring_drv ring;		/* in guest RAM at the gpas below */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd, call_fd;
};

struct drv {
	struct vu_frontend fe;
	int mem_fd;
	uint8_t *ram;
	struct mem_table mem;	/* RAM as the two regions handed over */
	uint64_t brk;		/* bump allocator over guest RAM, a gpa */
	uint64_t features;	/* negotiated */
	uint64_t capacity;	/* sectors, from GET_CONFIG */
	unsigned int nqueues;
	struct drv_vq vq[DRV_MAX_QUEUES];
};

int drv_init(struct drv *d);
void drv_destroy(struct drv *d);

/* Guest memory: allocate (never freed), translate (NULL outside RAM). */
uint64_t drv_alloc(struct drv *d, uint64_t size, uint64_t align);
void *drv_host(struct drv *d, uint64_t gpa);

/* Connect and start as QEMU 7.2 does, then stop; base is each ring's start. */
int drv_connect(struct drv *d, const char *sock, unsigned int nqueues);
int drv_start(struct drv *d, uint16_t base);
int drv_stop(struct drv *d, uint16_t *bases);
void drv_disconnect(struct drv *d);

/*
 * Places a chain of segments (guest-physical buffers) on queue q, as an
 * indirect table if indirect, and kicks. Returns the head id or -errno.
 */
int drv_submit(struct drv *d, unsigned int q, const struct vring_buf *segs,
	       unsigned int n, bool indirect);
void drv_kick(struct drv *d, unsigned int q);
/*
 * Waits for one used element (id, len): 0, -ETIMEDOUT, -EPIPE on hang-up, or
 * -EPROTO if the back-end wrote an invalid one.
 */
int drv_wait_used(struct drv *d, unsigned int q, int timeout_ms,
		  uint32_t *id, uint32_t *len);

/*
 * One virtio-blk request on queue q: type, sector, data of len bytes at
 * data_gpa (split into chunks of seg bytes, 0 = one segment). Returns the
 * status byte (>= 0) or -errno.
 */
int drv_blk_rw(struct drv *d, unsigned int q, uint32_t type, uint64_t sector,
	       uint64_t data_gpa, uint32_t len, uint32_t seg, bool indirect);

#endif /* HARNESS_DRIVER_H */
