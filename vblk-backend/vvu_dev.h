/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal to vvu*.c: the virtio side of the vvu driver (vvu_dev.c). */
#ifndef VBLK_VVU_DEV_H
#define VBLK_VVU_DEV_H

#include "common/vu_msg.h"
#include "vblk-backend/vvu.h"

/*
 * The one DMA allocation: rxq's and txq's rings (desc, avail, used, a page
 * each), then the rx buffers, then the tx buffers. Every buffer holds the
 * largest vhost-user message.
 */
#define VVU_DMA_RING_PART	4096u
#define VVU_DMA_RING_OFF(q)	((uint64_t)(q) * 3 * VVU_DMA_RING_PART)
#define VVU_BUF_SIZE		((VU_MSG_MAX_LEN + 63) & ~63u)
#define VVU_DMA_RX_BUF(i)	(VVU_DMA_RING_OFF(2) + (uint64_t)(i) * VVU_BUF_SIZE)
#define VVU_DMA_TX_BUF(i)	(VVU_DMA_RX_BUF(VVU_RX_BUFS) + (uint64_t)(i) * VVU_BUF_SIZE)
#define VVU_DMA_SIZE		(VVU_DMA_TX_BUF(VVU_TX_BUFS))

uint64_t vvu_common_read(struct vvu *v, uint64_t field, unsigned int size);
void vvu_common_write(struct vvu *v, uint64_t field, unsigned int size,
		      uint64_t val);

/* Status 0, and wait until the device says it is reset. 0 or -ETIMEDOUT. */
int vvu_dev_reset(struct vvu *v);
/* Reset, negotiate, set up rxq/txq and kick vectors, DRIVER_OK. */
int vvu_dev_start(struct vvu *v);
/* Offers rx buffer i again. */
void vvu_rx_post(struct vvu *v, unsigned int i);
/* Notifies the device of new buffers on its queue q. */
void vvu_queue_kick(struct vvu *v, uint16_t q);

#endif /* VBLK_VVU_DEV_H */
