/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user transport of the vvu-proxy device (protocol/vvu.h): a
 * virtio driver of the device, below vu_backend. Front-end messages arrive
 * as rx buffers and replies leave as tx buffers; the sibling's kicks arrive
 * as MSI-X vectors, calls leave as doorbell writes, and the sibling's memory
 * is read through the shared-memory BAR. Whatever reaches the device (VFIO,
 * the device channel) is behind struct pci_dev.
 */
#ifndef VBLK_VVU_H
#define VBLK_VVU_H

#include <stdbool.h>
#include <stdint.h>

#include "common/vring_driver.h"
#include "protocol/vvu.h"
#include "vblk-backend/pci_dev.h"
#include "vblk-backend/vu_backend.h"

struct event;

/* Ring size of rxq and txq (at most what the device offers). */
#define VVU_RING_SIZE		64
#define VVU_RX_BUFS		32
#define VVU_TX_BUFS		16
/* MSI-X: 0 config, 1 rxq, 2 txq, then vhost queue i's kicks on 3 + i. */
#define VVU_VEC_CONFIG		0
#define VVU_VEC_RXQ		1
#define VVU_VEC_TXQ		2
#define VVU_VEC_KICK(i)		(3 + (i))

/* Where one structure a capability describes lies. */
struct vvu_region {
	bool found;
	uint8_t bar;
	uint64_t off, len;
};

struct vvu_layout {
	struct vvu_region common, notify, isr, devcfg;
	struct vvu_region doorbell, notification, shm;
	uint32_t notify_mult, doorbell_mult;
};

/*
 * Reads the device's virtio capabilities from config space into l: the
 * four virtio structures and the vvu doorbell, notification and shared-
 * memory ones. Each must exist and lie inside its BAR. 0 or -errno (logged).
 */
int vvu_find_layout(struct pci_dev *d, struct vvu_layout *l);

struct vvu {
	struct pci_dev *pci;
	struct vu_backend *vb;
	unsigned int nqueues;		/* vhost queues served */
	struct vvu_layout l;
	uint64_t shm_size;		/* of the shared memory in its BAR */
	uint8_t *dma;			/* rings and buffers */
	uint64_t dma_iova;
	struct vring_drv rx, tx;
	uint16_t notify_off[2];		/* queue_notify_off of rxq, txq */
	bool tx_busy[VVU_TX_BUFS];
	bool sibling;			/* a front-end session is going on */
	struct vvu_rekick {
		struct vvu *v;
		unsigned int qidx;
		struct event *ev;
	} rekick[VVU_MAX_VHOST_QUEUES];
};

/* The hooks; their opaque pointer is the struct vvu. */
extern const struct vu_transport_ops vvu_transport_ops;

/*
 * Sets the device up for nqueues vhost queues served by vb (whose transport
 * must be vvu_transport_ops with v): maps its BARs, takes DMA memory,
 * enables MSI-X, and starts the virtio device (DRIVER_OK). 0 or -errno.
 */
int vvu_open(struct vvu *v, struct pci_dev *pci, struct vu_backend *vb,
	     unsigned int nqueues);

/* Resets the device (the sibling is dropped) and lets go of everything. */
void vvu_close(struct vvu *v);

#endif /* VBLK_VVU_H */
