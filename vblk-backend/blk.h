/* SPDX-License-Identifier: GPL-2.0-only */
/* virtio-blk device logic over a file or block device. */
#ifndef VBLK_BLK_H
#define VBLK_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/virtqueue.h"
#include "protocol/virtio_blk.h"
#include "vblk-backend/vu_backend.h"

/* Data segments per request we advertise (seg_max). */
#define BLK_SEG_MAX			254
/* Limits of one DISCARD / WRITE_ZEROES request. */
#define BLK_MAX_DISCARD_SECTORS		(1u << 22)	/* 2 GiB */
#define BLK_MAX_DISCARD_SEG		16
/* discard_sector_alignment, in sectors: a 4 KiB file-system block. */
#define BLK_DISCARD_ALIGN		8

struct blk_dev {
	int fd;
	bool read_only;
	uint64_t capacity;		/* 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
};

/*
 * Sets up b over fd (a regular file or a block device, opened read-write
 * unless read_only); serial is at most VIRTIO_BLK_ID_BYTES bytes. Does not
 * take fd. 0 or -errno (logged).
 */
int blk_init(struct blk_dev *b, int fd, bool read_only, unsigned int nqueues,
	     const char *serial);

uint64_t blk_features(const struct blk_dev *b);

/*
 * Serves one request: writes the status byte and returns 0 with *used_len
 * the bytes written for the driver; -EINVAL if the request has no room for
 * a header or a status byte, which breaks the queue.
 */
int blk_handle_request(struct blk_dev *b, struct vq_elem *e, uint32_t *used_len);

/* The device hooks for vu_backend; dev is a struct blk_dev. */
extern const struct vu_device_ops blk_device_ops;

#endif /* VBLK_BLK_H */
