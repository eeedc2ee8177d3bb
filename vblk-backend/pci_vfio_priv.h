/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pci_vfio.c's way in for unit tests: the ops over any fd laid out like a
 * vfio device fd (regions at offsets), e.g. a plain file, with no container
 * or group. pread, pwrite and mmap then behave as on the device; ioctls
 * fail, so MSI-X can only be seen refusing cleanly.
 */
#ifndef VBLK_PCI_VFIO_PRIV_H
#define VBLK_PCI_VFIO_PRIV_H

#include <stdint.h>

struct event_base;

struct pci_vfio_region_desc {
	uint64_t size;		/* 0: no such region */
	uint64_t offset;	/* in the fd */
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_* */
};

/* Regions: [0] config space, [1..6] BAR0..5. Takes fd; NULL if no memory. */
struct pci_dev *pci_vfio_from_fd(int fd,
				 const struct pci_vfio_region_desc regions[7],
				 unsigned int msix_count,
				 struct event_base *base);

#endif /* VBLK_PCI_VFIO_PRIV_H */
