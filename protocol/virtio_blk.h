/* SPDX-License-Identifier: GPL-2.0-only */
/* virtio-blk wire format (virtio 1.2, 5.2). Little-endian, used in place. */
#ifndef PROTOCOL_VIRTIO_BLK_H
#define PROTOCOL_VIRTIO_BLK_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

#define VIRTIO_BLK_SECTOR_SHIFT		9
#define VIRTIO_BLK_SECTOR_SIZE		512u

struct virtio_blk_geometry {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct virtio_blk_topology {
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
};

struct virtio_blk_config {
	uint64_t capacity;			/* 0: in 512-byte sectors */
	uint32_t size_max;			/* 8 */
	uint32_t seg_max;			/* 12 */
	struct virtio_blk_geometry geometry;	/* 16 */
	uint32_t blk_size;			/* 20 */
	struct virtio_blk_topology topology;	/* 24 */
	uint8_t writeback;			/* 32 */
	uint8_t unused0;
	uint16_t num_queues;			/* 34 */
	uint32_t max_discard_sectors;		/* 36 */
	uint32_t max_discard_seg;		/* 40 */
	uint32_t discard_sector_alignment;	/* 44 */
	uint32_t max_write_zeroes_sectors;	/* 48 */
	uint32_t max_write_zeroes_seg;		/* 52 */
	uint8_t write_zeroes_may_unmap;		/* 56 */
	uint8_t unused1[3];
} __attribute__((packed));
static_assert(sizeof(struct virtio_blk_config) == 60, "virtio_blk_config");
static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "blk_size");
static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "num_queues");
static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36, "discard");
static_assert(offsetof(struct virtio_blk_config, max_write_zeroes_sectors) == 48, "wz");
static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56, "wz unmap");

/* Request types. */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

/* Status byte, the last byte the device writes. */
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_ID_BYTES		20

struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};
static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr");

/* One segment of a DISCARD or WRITE_ZEROES request. */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP	1

struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "dwz segment");

#endif /* PROTOCOL_VIRTIO_BLK_H */
