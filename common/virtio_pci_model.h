/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The register model of a virtio-pci modern device (virtio 1.2, 4.1.4):
 * the common configuration structure with its state machine, the ISR and
 * the bounds of the device configuration window. Pure code: no KVM, no
 * eventfds, no locking. The embedder (the vmm's virtio_pci.c, or a proxy
 * daemon implementing the vvu-proxy device) routes BAR accesses here,
 * serialises them against its own calls, and does through the ops what only
 * it can: check rings against guest memory, start and stop the device,
 * rebind interrupts, and deliver the configuration interrupt.
 *
 * Doorbells are the embedder's too (a KVM ioeventfd, a proxy's eventfd);
 * the model only says where each queue's doorbell is, so that every
 * embedder computes it the same way.
 */
#ifndef COMMON_VIRTIO_PCI_MODEL_H
#define COMMON_VIRTIO_PCI_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/virtio.h"
#include "protocol/virtio_pci_layout.h"

#define VIRTIO_PCI_MODEL_MAX_QUEUES	64

/* The q that vector_changed passes for the configuration vector. */
#define VIRTIO_PCI_MODEL_CONFIG		(-1)

struct virtio_pci_model;

struct virtio_pci_model_queue {
	uint16_t max_size;
	uint16_t size;			/* the driver's choice */
	uint16_t msix_vector;		/* VIRTIO_MSI_NO_VECTOR if none */
	bool enabled;
	uint64_t desc;			/* guest-physical addresses */
	uint64_t avail;
	uint64_t used;
};

/* Every callback is optional; each runs inside the call that caused it. */
struct virtio_pci_model_ops {
	/*
	 * The driver enables queue q, whose size the model checked (a power
	 * of two up to max_size). false refuses: the queue stays disabled and
	 * the device needs a reset (drivers do not read queue_enable back).
	 */
	bool (*queue_enable)(struct virtio_pci_model *m, unsigned int q);
	/*
	 * The driver sets FEATURES_OK with driver_features a subset of the
	 * device's, VERSION_1 included. false keeps FEATURES_OK clear.
	 */
	bool (*features_ok)(struct virtio_pci_model *m);
	/* The driver set DRIVER_OK. Non-zero sets DEVICE_NEEDS_RESET. */
	int (*start)(struct virtio_pci_model *m);
	/* A started device stops: reset, or virtio_pci_model_stop(). */
	void (*stop)(struct virtio_pci_model *m);
	/* After a device reset (not init): the state is back to its initial values. */
	void (*reset)(struct virtio_pci_model *m);
	/*
	 * The driver changed the MSI-X vector of queue q (or of the
	 * configuration, q == VIRTIO_PCI_MODEL_CONFIG) to vector, which may
	 * be VIRTIO_MSI_NO_VECTOR. Not called on reset (see reset).
	 */
	void (*vector_changed)(struct virtio_pci_model *m, int q,
			       uint16_t vector);
	/* Device configuration: off + len already checked against config_size. */
	void (*config_read)(struct virtio_pci_model *m, uint32_t off,
			    void *buf, uint32_t len);
	void (*config_write)(struct virtio_pci_model *m, uint32_t off,
			     const void *buf, uint32_t len);
	/* Fire MSI-X vector, the configuration vector (only called if set). */
	void (*config_irq)(struct virtio_pci_model *m, uint16_t vector);
};

struct virtio_pci_model_params {
	const char *name;		/* for log messages */
	uint64_t features;		/* device features; VERSION_1 is added */
	uint32_t config_size;		/* <= VIRTIO_PCI_REGION_SIZE */
	unsigned int num_queues;	/* 1..VIRTIO_PCI_MODEL_MAX_QUEUES */
	uint16_t queue_max_size;	/* power of two <= VIRTQ_MAX_SIZE */
	unsigned int num_vectors;	/* MSI-X vectors the driver may pick */
	const struct virtio_pci_model_ops *ops;
};

struct virtio_pci_model {
	const char *name;
	const struct virtio_pci_model_ops *ops;
	uint32_t config_size;
	unsigned int num_queues;
	unsigned int num_vectors;

	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint16_t config_vector;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	uint16_t queue_select;
	struct virtio_pci_model_queue queues[VIRTIO_PCI_MODEL_MAX_QUEUES];
};

/* Sets the model up in its reset state. 0, or -EINVAL for bad params. */
int virtio_pci_model_init(struct virtio_pci_model *m,
			  const struct virtio_pci_model_params *p);

/*
 * Register accesses, off relative to the structure's region. A read fills
 * all len bytes (zeros where nothing is to be read); wrong widths and
 * writes to read-only places are ignored, as the spec lets a device do.
 */
void virtio_pci_model_common_read(struct virtio_pci_model *m, uint64_t off,
				  void *data, uint32_t len);
void virtio_pci_model_common_write(struct virtio_pci_model *m, uint64_t off,
				   const void *data, uint32_t len);
/* Reading the ISR clears it (4.1.4.5). */
void virtio_pci_model_isr_read(struct virtio_pci_model *m, uint64_t off,
			       void *data, uint32_t len);
void virtio_pci_model_config_read(struct virtio_pci_model *m, uint64_t off,
				  void *data, uint32_t len);
void virtio_pci_model_config_write(struct virtio_pci_model *m, uint64_t off,
				   const void *data, uint32_t len);

/*
 * An access at offset of the BAR that holds the structures in the one
 * layout of protocol/virtio_pci_layout.h: the common configuration, ISR and
 * device configuration regions are served here. Returns false for any other
 * offset (notify, MSI-X, nothing): those are the embedder's.
 */
bool virtio_pci_model_bar_access(struct virtio_pci_model *m, uint64_t offset,
				 void *data, uint32_t len, bool is_write);

/* Device reset, as the driver writing 0 to device_status does. */
void virtio_pci_model_reset(struct virtio_pci_model *m);

/*
 * Stops a started device for good (e.g. the driver turned bus mastering
 * off, so the rings may no longer be touched): ops->stop, DRIVER_OK off,
 * DEVICE_NEEDS_RESET on, and no interrupt. Returns whether it was started.
 */
bool virtio_pci_model_stop(struct virtio_pci_model *m);

/*
 * The device configuration changed: bumps config_generation, sets the ISR
 * config bit and fires ops->config_irq.
 */
void virtio_pci_model_config_changed(struct virtio_pci_model *m);

/* Sets DEVICE_NEEDS_RESET, telling a started driver through a config change. */
void virtio_pci_model_needs_reset(struct virtio_pci_model *m);

static inline bool virtio_pci_model_driver_ok(const struct virtio_pci_model *m)
{
	return m->status & VIRTIO_CONFIG_S_DRIVER_OK;
}

/* queue_notify_off of queue q: each queue has a doorbell of its own. */
static inline uint16_t virtio_pci_model_notify_off(unsigned int q)
{
	return (uint16_t)q;
}

/* Offset of queue q's doorbell in the notify region. */
static inline uint32_t virtio_pci_model_doorbell_offset(unsigned int q)
{
	return virtio_pci_model_notify_off(q) * VIRTIO_PCI_NOTIFY_MULT;
}

/* The queue whose doorbell is at offset off of the notify region (may be >= num_queues). */
static inline uint64_t virtio_pci_model_doorbell_queue(uint64_t off)
{
	return off / VIRTIO_PCI_NOTIFY_MULT;
}

#endif /* COMMON_VIRTIO_PCI_MODEL_H */
