/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Virtio 1.x wire formats: device status, common feature bits, the split
 * virtqueue, and the virtio-pci modern transport's capabilities and common
 * configuration. Multi-byte fields are little-endian; the project only runs
 * on little-endian hosts (checked below), so they are plain integers.
 */
#ifndef PROTOCOL_VIRTIO_H
#define PROTOCOL_VIRTIO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	      "virtio structures are used in place: little-endian hosts only");

/* Device status (virtio 1.2, 2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE	0x01
#define VIRTIO_CONFIG_S_DRIVER		0x02
#define VIRTIO_CONFIG_S_DRIVER_OK	0x04
#define VIRTIO_CONFIG_S_FEATURES_OK	0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET	0x40
#define VIRTIO_CONFIG_S_FAILED		0x80

/* Transport / ring feature bits. */
#define VIRTIO_F_NOTIFY_ON_EMPTY	24
#define VIRTIO_F_ANY_LAYOUT		27
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34
#define VIRTIO_F_IN_ORDER		35
#define VIRTIO_F_ORDER_PLATFORM		36
#define VIRTIO_F_SR_IOV			37
#define VIRTIO_F_NOTIFICATION_DATA	38

#define VIRTIO_BIT(b)			(1ull << (b))

/* Split virtqueue (virtio 1.2, 2.7). */
#define VIRTQ_MAX_SIZE			32768

#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4

#define VRING_AVAIL_F_NO_INTERRUPT	1
#define VRING_USED_F_NO_NOTIFY		1

/* Ring alignment the split layout requires of each part. */
#define VRING_DESC_ALIGN		16
#define VRING_AVAIL_ALIGN		2
#define VRING_USED_ALIGN		4

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
static_assert(sizeof(struct vring_desc) == 16, "vring_desc");

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then le16 used_event, with EVENT_IDX */
};
static_assert(sizeof(struct vring_avail) == 4, "vring_avail");

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
static_assert(sizeof(struct vring_used_elem) == 8, "vring_used_elem");

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];	/* then le16 avail_event */
};
static_assert(sizeof(struct vring_used) == 4, "vring_used");

/* Byte sizes of the three parts of a split ring of num entries. */
#define VRING_DESC_SIZE(num)	((uint64_t)(num) * sizeof(struct vring_desc))
#define VRING_AVAIL_SIZE(num)	(sizeof(struct vring_avail) + 2 * (uint64_t)(num) + 2)
#define VRING_USED_SIZE(num)	(sizeof(struct vring_used) + \
				 (uint64_t)(num) * sizeof(struct vring_used_elem) + 2)

/* The event-index test of virtio 1.2, 2.7.10: notify if event lies in (old, new]. */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx,
				   uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* virtio-pci (virtio 1.2, 4.1). */
#define VIRTIO_PCI_VENDOR_ID		0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE	0x1040	/* + virtio device type */
#define VIRTIO_PCI_MODERN_REVISION	1

#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2

#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8

#define VIRTIO_MSI_NO_VECTOR		0xffff

#define VIRTIO_PCI_ISR_QUEUE		0x1
#define VIRTIO_PCI_ISR_CONFIG		0x2

/* A vendor-specific PCI capability (cap_vndr 0x09) describing one structure. */
struct virtio_pci_cap {
	uint8_t cap_vndr;
	uint8_t cap_next;
	uint8_t cap_len;
	uint8_t cfg_type;
	uint8_t bar;
	uint8_t id;
	uint8_t padding[2];
	uint32_t offset;
	uint32_t length;
};
static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap");

struct virtio_pci_notify_cap {
	struct virtio_pci_cap cap;
	uint32_t notify_off_multiplier;
};
static_assert(sizeof(struct virtio_pci_notify_cap) == 20, "notify cap");

struct virtio_pci_cap64 {
	struct virtio_pci_cap cap;
	uint32_t offset_hi;
	uint32_t length_hi;
};
static_assert(sizeof(struct virtio_pci_cap64) == 24, "cap64");

struct virtio_pci_common_cfg {
	/* About the whole device. */
	uint32_t device_feature_select;	/* 0x00 rw */
	uint32_t device_feature;	/* 0x04 ro */
	uint32_t driver_feature_select;	/* 0x08 rw */
	uint32_t driver_feature;	/* 0x0c rw */
	uint16_t config_msix_vector;	/* 0x10 rw */
	uint16_t num_queues;		/* 0x12 ro */
	uint8_t device_status;		/* 0x14 rw */
	uint8_t config_generation;	/* 0x15 ro */
	/* About one queue, the one queue_select names. */
	uint16_t queue_select;		/* 0x16 rw */
	uint16_t queue_size;		/* 0x18 rw */
	uint16_t queue_msix_vector;	/* 0x1a rw */
	uint16_t queue_enable;		/* 0x1c rw */
	uint16_t queue_notify_off;	/* 0x1e ro */
	uint32_t queue_desc_lo;		/* 0x20 rw */
	uint32_t queue_desc_hi;		/* 0x24 rw */
	uint32_t queue_driver_lo;	/* 0x28 rw: the avail ring */
	uint32_t queue_driver_hi;	/* 0x2c rw */
	uint32_t queue_device_lo;	/* 0x30 rw: the used ring */
	uint32_t queue_device_hi;	/* 0x34 rw */
};
static_assert(sizeof(struct virtio_pci_common_cfg) == 0x38, "common cfg");
static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 0x16, "queue_select");
static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc_lo) == 0x20, "queue_desc");

#endif /* PROTOCOL_VIRTIO_H */
