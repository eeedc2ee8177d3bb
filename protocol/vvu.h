/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-vhost-user ("vvu-proxy") PCI device, laid out as crosvm built
 * it, so that a device VM sees what crosvm's documentation shows.
 */
#ifndef PROTOCOL_VVU_H
#define PROTOCOL_VVU_H

#include <assert.h>
#include <stdint.h>

#include "protocol/virtio_pci_layout.h"

#define VVU_PCI_VENDOR_ID		0x1af4
#define VVU_PCI_DEVICE_ID		0x107d
#define VVU_PCI_REVISION		1
#define VVU_PCI_CLASS			0x00	/* unclassified */
#define VVU_PCI_SUBCLASS		0xff
#define VVU_VIRTIO_DEVICE_TYPE		61	/* non-standard */

/*
 * BAR0: the virtio-pci modern structures and MSI-X, where every virtio-pci
 * device of the project has them (VIRTIO_PCI_*_OFF, virtio_pci_layout.h).
 */

/* BAR2: 64-bit memory, doorbells and the notification configuration. */
#define VVU_BAR2			2
#define VVU_BAR2_SIZE			0x4000
#define VVU_DOORBELL_OFFSET		0x0000
#define VVU_DOORBELL_SIZE		0x2000
#define VVU_DOORBELL_OFF_MULTIPLIER	4
#define VVU_NOTIFICATION_OFFSET		0x2000

/* BAR4: 64-bit prefetchable memory, the sibling's RAM regions back to back. */
#define VVU_BAR4			4

/* Vendor capability cfg_types beyond virtio's own. */
#define VVU_PCI_CAP_DOORBELL_CFG	6
#define VVU_PCI_CAP_NOTIFICATION_CFG	7
#define VVU_PCI_CAP_SHARED_MEMORY_CFG	8

/* Virtqueues of the device itself. */
#define VVU_RXQ				0	/* device -> driver: front-end messages */
#define VVU_TXQ				1	/* driver -> device: back-end messages */
#define VVU_NUM_QUEUES			2

/* The sibling may have this many vhost-user queues. */
#define VVU_MAX_VHOST_QUEUES		16
/* MSI-X vectors: config, rxq/txq, then one per vhost queue notification. */
#define VVU_MSIX_VECTORS		(2 + VVU_MAX_VHOST_QUEUES + 1)

#define VVU_STATUS_BACKEND_UP		(1u << 0)

/*
 * What the back-end (the driver of this device) receives on rxq: one whole
 * vhost-user message per buffer, header and payload, without fds. The
 * device consumed the fds and says so in the message itself:
 *
 *  - SET_MEM_TABLE, ADD_MEM_REG: each region's mmap_offset is its offset
 *    in BAR4 (the first byte of guest_phys_addr lies at BAR4 + mmap_offset);
 *    guest_phys_addr, memory_size and userspace_addr are the front-end's.
 *    A SET_MEM_TABLE replaces BAR4's contents: the previous table's regions
 *    are no longer mapped. A region's offset in BAR4 is not page aligned
 *    when its mmap_offset in the front-end's file was not. REM_MEM_REG
 *    carries the BAR4 offset the region had.
 *  - SET_VRING_CALL for queue i: without NOFD, writing doorbell i (BAR2 +
 *    VVU_DOORBELL_OFFSET + VVU_DOORBELL_OFF_MULTIPLIER * i, any width)
 *    signals the front-end's call eventfd; with NOFD there is none.
 *  - SET_VRING_KICK for queue i: without NOFD, the front-end's kicks raise
 *    the MSI-X vector the driver wrote for queue i through the notification
 *    registers (notification_select = i, notification_msix_vector).
 *  - SET_VRING_ERR always arrives with NOFD: the error eventfd is closed.
 *
 * A zero-length used rx buffer means the front-end disconnected: everything
 * of its session (BAR4 contents, doorbells, kick vectors' bindings) is gone,
 * and the next front-end starts with GET_FEATURES. Device config status
 * bit 0 (VVU_STATUS_BACKEND_UP) says whether a front-end is connected. The
 * driver answers that buffer with a zero-length txq buffer, the end of the
 * session: the device drops what the driver sends before it (late replies
 * to the gone front-end) and connects the next front-end only after it.
 *
 * The back-end sends replies on txq, one whole message per buffer. The
 * device masks what it cannot carry (vvu-proxyd/rules.c): feature
 * VHOST_F_LOG_ALL and the protocol features whose messages need an fd to
 * travel (LOG_SHMFD, INFLIGHT_SHMFD, BACKEND_REQ, BACKEND_SEND_FD,
 * HOST_NOTIFIER, PAGEFAULT, INBAND_NOTIFICATIONS, CRYPTO_SESSION); the queue
 * count is capped at VVU_MAX_VHOST_QUEUES.
 */

struct vvu_config {
	uint32_t status;
	uint32_t max_vhost_queues;
	uint8_t uuid[16];
};
static_assert(sizeof(struct vvu_config) == 24, "vvu_config");

/* BAR2 + VVU_NOTIFICATION_OFFSET. */
struct vvu_notification_cfg {
	uint16_t notification_select;
	uint16_t notification_msix_vector;	/* VIRTIO_MSI_NO_VECTOR: none */
};
static_assert(sizeof(struct vvu_notification_cfg) == 4, "notification cfg");

/* virtio_pci_cap + doorbell multiplier. */
struct vvu_doorbell_cap {
	uint8_t cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2];
	uint32_t offset;
	uint32_t length;
	uint32_t doorbell_off_multiplier;
};
static_assert(sizeof(struct vvu_doorbell_cap) == 20, "doorbell cap");

#endif /* PROTOCOL_VVU_H */
