/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-pci modern transport (virtio 1.2, 4.1) with MSI-X, on KVM.
 * The registers are common/virtio_pci_model.c's; this is the glue around
 * them: the PCI function, doorbells, interrupts and guest RAM checks.
 *
 * Everything lives in BAR0 (32-bit memory), laid out as
 * protocol/virtio_pci_layout.h says, like the vvu-proxy device's.
 *
 * Each doorbell is a KVM ioeventfd on its MMIO address: a guest kick is an
 * eventfd signal that whoever processes the queue (the vmm, or a vhost-user
 * back-end that got the fd) waits on. Each queue's interrupt is the eventfd
 * of its MSI-X vector (msix.h). Vector 0..n are the guest's choice; the
 * transport offers one per queue plus one for configuration changes.
 *
 * The device model sees a struct virtio_dev_ops. All its callbacks run with
 * vp->lock held, which also serialises them against the guest's register
 * accesses; a device doing work from another thread takes vp->lock too.
 */
#ifndef VMM_VIRTIO_PCI_H
#define VMM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/virtio_pci_model.h"
#include "protocol/virtio.h"
#include "protocol/virtio_pci_layout.h"
#include "vmm/msix.h"
#include "vmm/pci.h"

struct vm;
struct virtio_pci;

#define VIRTIO_PCI_MAX_QUEUES		VIRTIO_PCI_MODEL_MAX_QUEUES

/* The vmm's half of a queue; the register half is vp->model.queues[]. */
struct virtio_pci_queue {
	int kick_fd;			/* doorbell eventfd (KVM ioeventfd) */
	uint64_t ioeventfd_addr;	/* where it is registered, 0 if not */
};

struct virtio_dev_ops {
	/* Reads/writes len bytes at off, already checked to be inside the config. */
	void (*config_read)(struct virtio_pci *vp, uint32_t off, void *buf,
			    uint32_t len);
	void (*config_write)(struct virtio_pci *vp, uint32_t off,
			     const void *buf, uint32_t len);
	/*
	 * The driver set DRIVER_OK: vp->model.driver_features is negotiated
	 * and the enabled queues are checked to lie in guest RAM. Non-zero
	 * makes the transport set DEVICE_NEEDS_RESET.
	 */
	int (*start)(struct virtio_pci *vp);
	/* Device reset (status 0 written) or teardown: stop processing queues. */
	void (*reset)(struct virtio_pci *vp);
};

struct virtio_pci {
	struct pci_dev pdev;
	struct msix msix;
	struct virtio_pci_model model;	/* the registers (vp->lock) */
	struct vm *vm;
	const struct virtio_dev_ops *ops;
	void *opaque;			/* the device model's */
	pthread_mutex_t lock;

	struct virtio_pci_queue queues[VIRTIO_PCI_MAX_QUEUES];

	bool ioeventfd_any_len;		/* KVM_CAP_IOEVENTFD_ANY_LENGTH */
	bool added;			/* on the PCI bus */
	bool bus_master;		/* PCI_COMMAND_MASTER as last written (bus lock) */
};

struct virtio_pci_params {
	const char *name;
	uint16_t device_type;		/* VIRTIO_ID_*: PCI id 0x1040 + type */
	uint16_t class_code;		/* class << 8 | subclass */
	uint64_t features;		/* device features; VERSION_1 is added */
	uint32_t config_size;		/* <= VIRTIO_PCI_REGION_SIZE */
	unsigned int nqueues;		/* <= VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max_size;	/* power of two <= VIRTQ_MAX_SIZE */
	const struct virtio_dev_ops *ops;
	void *opaque;
};

/* Builds the function, its capabilities, MSI-X and doorbells. 0 or -errno. */
int virtio_pci_init(struct virtio_pci *vp, struct vm *vm,
		    const struct virtio_pci_params *p);
/* Puts it on the VM's PCI bus (slot < 0: first free). Slot or -errno. */
int virtio_pci_add(struct virtio_pci *vp, int slot);
/* Stops the device (ops->reset if running) and frees what init made. */
void virtio_pci_destroy(struct virtio_pci *vp);

/* The BAR0 handler (exposed for tests). */
void virtio_pci_bar_access(void *opaque, uint64_t offset, uint8_t *data,
			   uint32_t len, bool is_write);
/* pci_dev_ops for the bus (exposed for tests). */
extern const struct pci_dev_ops virtio_pci_dev_ops;

/* The eventfd that interrupts the guest for queue q, -1 if it has no vector. */
int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned int q);

/*
 * The device's configuration changed: bumps the generation, sets the ISR
 * bit and fires the config vector. Called with vp->lock held.
 */
void virtio_pci_config_changed(struct virtio_pci *vp);

/* Sets DEVICE_NEEDS_RESET and tells the driver. Called with vp->lock held. */
void virtio_pci_needs_reset(struct virtio_pci *vp);

static inline bool virtio_pci_driver_ok(const struct virtio_pci *vp)
{
	return virtio_pci_model_driver_ok(&vp->model);
}

#endif /* VMM_VIRTIO_PCI_H */
