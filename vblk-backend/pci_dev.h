/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the vvu driver needs of a PCI device, whatever reaches it:
 *  - Linux VFIO in a device VM (pci_vfio.c: vfio-pci, no-IOMMU mode), or
 *  - vvu-proxyd's device channel, played directly by this process the way a
 *    vmm would (pci_devchan.c): the harness transport, no VM at all.
 * Everything above it (virtio init, rx/tx, doorbells, vectors, the vhost-user
 * session, virtio-blk) is the same code for both.
 *
 * All calls are made from the one thread that runs the event loop given at
 * open; interrupt callbacks run on that loop too.
 */
#ifndef VBLK_PCI_DEV_H
#define VBLK_PCI_DEV_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct pci_dev;

/*
 * Called on the loop after MSI-X vector fired (its eventfds drained): an
 * edge, never lost, possibly coalesced with earlier ones.
 */
typedef void pci_irq_fn(void *arg, unsigned int vector);

struct pci_dev_ops {
	/* Config space, len 1, 2 or 4 at off (aligned). 0 or -errno. */
	int (*cfg_read)(struct pci_dev *d, uint32_t off, uint32_t len,
			uint32_t *val);
	int (*cfg_write)(struct pci_dev *d, uint32_t off, uint32_t len,
			 uint32_t val);
	/*
	 * Register access in a memory BAR, size 1, 2, 4 or 8, naturally
	 * aligned. 0 or -errno (-EINVAL: no such BAR or outside it).
	 */
	int (*bar_read)(struct pci_dev *d, unsigned int bar, uint64_t off,
			unsigned int size, uint64_t *val);
	int (*bar_write)(struct pci_dev *d, unsigned int bar, uint64_t off,
			 unsigned int size, uint64_t val);
	/*
	 * Maps [off, off + len) of memory BAR bar for plain loads and stores
	 * (the shared-memory BAR: whatever the device places there shows
	 * through) and returns the address of off. *map_base and *map_len say
	 * what the caller munmaps when done; *map_len 0: the mapping is the
	 * transport's, never unmapped by the caller. Only the part asked for
	 * is mapped: a 64 GiB BAR mapped whole would cost a device VM page
	 * tables it does not have. NULL with errno set on failure.
	 */
	void *(*bar_map)(struct pci_dev *d, unsigned int bar, uint64_t off,
			 uint64_t len, void **map_base, size_t *map_len);
	/* Size of BAR bar in bytes, 0 if it does not exist. */
	uint64_t (*bar_size)(struct pci_dev *d, unsigned int bar);
	/*
	 * Enables MSI-X with vectors 0..nvec-1; fn(arg, v) runs on the loop
	 * when vector v fires. Turns the device's interrupts into eventfds
	 * the loop watches directly: no thread in between. 0 or -errno.
	 */
	int (*msix_enable)(struct pci_dev *d, unsigned int nvec, pci_irq_fn *fn,
			   void *arg);
	/*
	 * size bytes of zeroed memory the device can reach by DMA, *iova the
	 * address it uses for the first byte; page aligned, physically
	 * contiguous as far as the device can tell. Freed at close. NULL with
	 * errno set on failure.
	 */
	void *(*dma_alloc)(struct pci_dev *d, size_t size, uint64_t *iova);
	/* Disables interrupts, unmaps, frees, closes; d is gone. */
	void (*close)(struct pci_dev *d);
};

struct pci_dev {
	const struct pci_dev_ops *ops;
	struct event_base *base;
	char name[64];			/* for messages: "0000:00:10.0" */
};

/*
 * Opens the PCI device at bdf ("0000:00:10.0" or "00:10.0") through
 * vfio-pci. On failure NULL, after a message naming the fix (bind with the
 * sysfs commands shown, enable no-IOMMU mode, run as root...).
 */
struct pci_dev *pci_vfio_open(const char *bdf, struct event_base *base);

/*
 * Connects to the vvu-proxyd listening on control socket path and plays the
 * vmm hosting its device: the harness transport. NULL on failure (logged).
 */
struct pci_dev *pci_devchan_open(const char *path, struct event_base *base);

static inline int pci_cfg_read(struct pci_dev *d, uint32_t off, uint32_t len,
			       uint32_t *val)
{
	return d->ops->cfg_read(d, off, len, val);
}

static inline int pci_cfg_write(struct pci_dev *d, uint32_t off, uint32_t len,
				uint32_t val)
{
	return d->ops->cfg_write(d, off, len, val);
}

static inline int pci_bar_read(struct pci_dev *d, unsigned int bar,
			       uint64_t off, unsigned int size, uint64_t *val)
{
	return d->ops->bar_read(d, bar, off, size, val);
}

static inline int pci_bar_write(struct pci_dev *d, unsigned int bar,
				uint64_t off, unsigned int size, uint64_t val)
{
	return d->ops->bar_write(d, bar, off, size, val);
}

static inline void pci_dev_close(struct pci_dev *d)
{
	if (d)
		d->ops->close(d);
}

#endif /* VBLK_PCI_DEV_H */
