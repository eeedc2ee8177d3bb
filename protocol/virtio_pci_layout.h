/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the virtio-pci modern structures live in BAR0, for every virtio-pci
 * device of the project: the vmm's devices and the vvu-proxy device
 * (protocol/vvu.h) look alike, as crosvm laid the latter out.
 *
 *   0x0000 common configuration      0x3000 notify (doorbells)
 *   0x1000 ISR status                0x6000 MSI-X table
 *   0x2000 device configuration      0x7000 MSI-X PBA
 *
 * Each structure has a 4 KiB region to itself, so a BAR access falls into
 * one region by its offset alone. The doorbell of a queue whose
 * queue_notify_off is n is at VIRTIO_PCI_NOTIFY_OFF + n * NOTIFY_MULT.
 */
#ifndef PROTOCOL_VIRTIO_PCI_LAYOUT_H
#define PROTOCOL_VIRTIO_PCI_LAYOUT_H

#include <assert.h>

#define VIRTIO_PCI_BAR			0
#define VIRTIO_PCI_BAR_SIZE		0x8000u	/* 32-bit memory */
#define VIRTIO_PCI_REGION_SIZE		0x1000u

#define VIRTIO_PCI_COMMON_OFF		0x0000u
#define VIRTIO_PCI_ISR_OFF		0x1000u
#define VIRTIO_PCI_DEVCFG_OFF		0x2000u
#define VIRTIO_PCI_NOTIFY_OFF		0x3000u
#define VIRTIO_PCI_MSIX_TABLE_OFF	0x6000u
#define VIRTIO_PCI_MSIX_PBA_OFF		0x7000u

/* notify_off_multiplier of the notify capability. */
#define VIRTIO_PCI_NOTIFY_MULT		4u

static_assert(VIRTIO_PCI_MSIX_PBA_OFF + VIRTIO_PCI_REGION_SIZE <= VIRTIO_PCI_BAR_SIZE,
	      "every region lies inside BAR0");
static_assert(!(VIRTIO_PCI_BAR_SIZE & (VIRTIO_PCI_BAR_SIZE - 1)),
	      "a BAR's size is a power of two");

#endif /* PROTOCOL_VIRTIO_PCI_LAYOUT_H */
