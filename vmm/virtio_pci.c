// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci modern transport on KVM: the PCI function and its
 * capabilities, BAR0 routed to the register model (common/virtio_pci_model.c)
 * and MSI-X, doorbells as KVM ioeventfds, rings checked against guest RAM.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "common/log.h"
#include "vmm/virtio_pci.h"
#include "vmm/vm.h"

static unsigned int num_vectors(unsigned int nqueues)
{
	return nqueues + 1;		/* one per queue, one for config */
}

/* --- doorbells ----------------------------------------------------------- */

static int ioeventfd_set(struct virtio_pci *vp, struct virtio_pci_queue *q,
			 uint64_t addr, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = vp->ioeventfd_any_len ? 0 : 2,
		.fd = q->kick_fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(vp->vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

/* Moves every doorbell's ioeventfd to follow BAR0 (addr 0: unmapped). */
static void doorbells_move(struct virtio_pci *vp, uint64_t bar_addr)
{
	for (unsigned int i = 0; i < vp->model.num_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];
		uint64_t addr = bar_addr ? bar_addr + VIRTIO_PCI_NOTIFY_OFF +
				virtio_pci_model_doorbell_offset(i) : 0;
		int ret;

		if (q->ioeventfd_addr == addr)
			continue;
		if (q->ioeventfd_addr) {
			ret = ioeventfd_set(vp, q, q->ioeventfd_addr, false);
			if (ret)
				pr_warn_limited("%s: queue %u: ioeventfd deassign: %s",
					vp->pdev.name, i, strerror(-ret));
			q->ioeventfd_addr = 0;
		}
		if (!addr)
			continue;
		ret = ioeventfd_set(vp, q, addr, true);
		if (ret) {
			/* The notify handler still relays kicks, just slower. */
			pr_warn_limited("%s: queue %u: ioeventfd at 0x%llx: %s",
				vp->pdev.name, i, (unsigned long long)addr,
				strerror(-ret));
			continue;
		}
		q->ioeventfd_addr = addr;
	}
}

static void kick(struct virtio_pci_queue *q)
{
	if (eventfd_write(q->kick_fd, 1))
		pr_warn_limited("virtio-pci: kick eventfd write failed");
}

/* Only reached when no ioeventfd caught the write (e.g. an odd width). */
static void notify_access(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	uint64_t q = virtio_pci_model_doorbell_queue(off);

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (q < vp->model.num_queues)
		kick(&vp->queues[q]);
}

/* --- the register model's hooks (vp->lock held) -------------------------- */

static struct virtio_pci *to_vp(struct virtio_pci_model *m)
{
	return (struct virtio_pci *)((char *)m - offsetof(struct virtio_pci, model));
}

static bool ring_ok(struct virtio_pci *vp, uint64_t gpa, uint64_t len,
		    uint64_t align)
{
	return !(gpa & (align - 1)) && vm_gpa_to_host(vp->vm, gpa, len);
}

/* A device can only use rings that lie, aligned, in guest RAM. */
static bool vp_queue_enable(struct virtio_pci_model *m, unsigned int idx)
{
	struct virtio_pci *vp = to_vp(m);
	const struct virtio_pci_model_queue *q = &m->queues[idx];
	const char *why = NULL;

	if (!ring_ok(vp, q->desc, VRING_DESC_SIZE(q->size), VRING_DESC_ALIGN))
		why = "descriptor table misaligned or outside RAM";
	else if (!ring_ok(vp, q->avail, VRING_AVAIL_SIZE(q->size), VRING_AVAIL_ALIGN))
		why = "available ring misaligned or outside RAM";
	else if (!ring_ok(vp, q->used, VRING_USED_SIZE(q->size), VRING_USED_ALIGN))
		why = "used ring misaligned or outside RAM";
	if (why)
		pr_warn_limited("%s: queue %u not enabled: %s", m->name, idx, why);
	return !why;
}

static int vp_start(struct virtio_pci_model *m)
{
	struct virtio_pci *vp = to_vp(m);

	return vp->ops->start ? vp->ops->start(vp) : 0;
}

static void vp_stop(struct virtio_pci_model *m)
{
	struct virtio_pci *vp = to_vp(m);

	if (vp->ops->reset)
		vp->ops->reset(vp);
}

static void vp_config_read(struct virtio_pci_model *m, uint32_t off,
			   void *buf, uint32_t len)
{
	struct virtio_pci *vp = to_vp(m);

	if (vp->ops->config_read)
		vp->ops->config_read(vp, off, buf, len);
}

static void vp_config_write(struct virtio_pci_model *m, uint32_t off,
			    const void *buf, uint32_t len)
{
	struct virtio_pci *vp = to_vp(m);

	if (vp->ops->config_write)
		vp->ops->config_write(vp, off, buf, len);
}

static void vp_config_irq(struct virtio_pci_model *m, uint16_t vector)
{
	msix_notify(&to_vp(m)->msix, vector);
}

/*
 * No vector_changed: a queue's interrupt is looked up when the device
 * starts (virtio_pci_queue_irqfd), and MSI-X routes follow the table.
 */
static const struct virtio_pci_model_ops vp_model_ops = {
	.queue_enable = vp_queue_enable,
	.start = vp_start,
	.stop = vp_stop,
	.config_read = vp_config_read,
	.config_write = vp_config_write,
	.config_irq = vp_config_irq,
};

/* --- BAR0 ---------------------------------------------------------------- */

void virtio_pci_bar_access(void *opaque, uint64_t offset, uint8_t *data,
			   uint32_t len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	uint64_t region = offset & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
	uint64_t off = offset - region;

	/* MSI-X has its own lock; the guest may touch it from any vCPU. */
	if (region == VIRTIO_PCI_MSIX_TABLE_OFF) {
		msix_table_access(&vp->msix, off, data, len, is_write);
		return;
	}
	if (region == VIRTIO_PCI_MSIX_PBA_OFF) {
		msix_pba_access(&vp->msix, off, data, len, is_write);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (region == VIRTIO_PCI_NOTIFY_OFF)
		notify_access(vp, off, data, len, is_write);
	else if (!virtio_pci_model_bar_access(&vp->model, offset, data, len, is_write) &&
		 !is_write)
		memset(data, 0xff, len);
	pthread_mutex_unlock(&vp->lock);
}

/* --- PCI glue ------------------------------------------------------------ */

/*
 * A driver that turns bus mastering off takes away the device's right to
 * touch guest memory: the running device stops (its back-end lets go of
 * the rings) and, since where the rings stood is not kept, DRIVER_OK
 * clears and NEEDS_RESET sets: only a reset makes the device usable again.
 * (No config interrupt: an MSI is a bus-master write too.) Like every
 * config write this runs under the PCI bus lock, so a hung back-end holds
 * config space up to its reply timeout, as QEMU's vhost stop holds its BQL.
 */
static void bus_master_write(struct virtio_pci *vp)
{
	bool was_on = vp->bus_master;

	vp->bus_master = vp->pdev.cfg[PCI_COMMAND] & PCI_COMMAND_MASTER;
	if (!was_on || vp->bus_master)
		return;
	pthread_mutex_lock(&vp->lock);
	if (virtio_pci_model_stop(&vp->model))
		pr_warn_limited("%s: bus mastering turned off while running; the device needs a reset",
				vp->pdev.name);
	pthread_mutex_unlock(&vp->lock);
}

static void vp_cfg_write(struct pci_dev *dev, uint32_t offset, uint32_t len)
{
	struct virtio_pci *vp = dev->opaque;

	if (offset <= PCI_COMMAND && offset + len > PCI_COMMAND)
		bus_master_write(vp);
	msix_cfg_write(&vp->msix, offset, len);
}

static void vp_bar_moved(struct pci_dev *dev, int bar, uint64_t addr,
			 bool mapped)
{
	struct virtio_pci *vp = dev->opaque;

	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vp->lock);
	doorbells_move(vp, mapped ? addr : 0);
	pthread_mutex_unlock(&vp->lock);
}

const struct pci_dev_ops virtio_pci_dev_ops = {
	.cfg_write = vp_cfg_write,
	.bar_moved = vp_bar_moved,
};

static int add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off,
		   uint32_t len)
{
	struct virtio_pci_notify_cap c = {
		.cap = {
			.cap_vndr = PCI_CAP_ID_VNDR,
			.cfg_type = type,
			.bar = VIRTIO_PCI_BAR,
			.offset = off,
			.length = len,
		},
		.notify_off_multiplier = VIRTIO_PCI_NOTIFY_MULT,
	};
	size_t size = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? sizeof(c) :
			sizeof(c.cap);
	int ret;

	c.cap.cap_len = (uint8_t)size;
	ret = pci_dev_add_cap(&vp->pdev, &c, size);
	return ret < 0 ? ret : 0;
}

static int add_caps(struct virtio_pci *vp)
{
	int ret;

	ret = add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
		      sizeof(struct virtio_pci_common_cfg));
	if (!ret)
		ret = add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1);
	if (!ret && vp->model.config_size)
		ret = add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG,
			      VIRTIO_PCI_DEVCFG_OFF, vp->model.config_size);
	/* Up to the end of the last queue's doorbell. */
	if (!ret)
		ret = add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			      virtio_pci_model_doorbell_offset(vp->model.num_queues));
	return ret;
}

static int kick_fds_open(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->model.num_queues; i++) {
		vp->queues[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->queues[i].kick_fd < 0)
			return -errno;
	}
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, struct vm *vm,
		    const struct virtio_pci_params *p)
{
	struct virtio_pci_model_params mp = {
		.name = p->name,
		.features = p->features,
		.config_size = p->config_size,
		.num_queues = p->nqueues,
		.queue_max_size = p->queue_max_size,
		.num_vectors = num_vectors(p->nqueues),
		.ops = &vp_model_ops,
	};
	int ret;

	memset(vp, 0, sizeof(*vp));
	for (unsigned int i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->queues[i].kick_fd = -1;
	if (!p->ops || virtio_pci_model_init(&vp->model, &mp))
		return -EINVAL;
	vp->vm = vm;
	vp->ops = p->ops;
	vp->opaque = p->opaque;
	pthread_mutex_init(&vp->lock, NULL);
	vp->ioeventfd_any_len = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
				      KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;

	pci_dev_init(&vp->pdev, p->name, VIRTIO_PCI_VENDOR_ID,
		     (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + p->device_type),
		     (uint8_t)(p->class_code >> 8), (uint8_t)p->class_code, 0,
		     VIRTIO_PCI_MODERN_REVISION);
	vp->pdev.ops = &virtio_pci_dev_ops;
	vp->pdev.opaque = vp;
	pci_dev_set_bar(&vp->pdev, VIRTIO_PCI_BAR, PCI_BAR_MEM32, false,
			VIRTIO_PCI_BAR_SIZE, virtio_pci_bar_access, vp);
	ret = kick_fds_open(vp);
	if (!ret)
		ret = add_caps(vp);
	if (!ret)
		ret = msix_init(&vp->msix, vm, &vp->pdev, vp->model.num_vectors,
				VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_TABLE_OFF,
				VIRTIO_PCI_MSIX_PBA_OFF);
	if (ret) {
		pr_err("%s: virtio-pci setup: %s", p->name, strerror(-ret));
		virtio_pci_destroy(vp);
	}
	return ret;
}

int virtio_pci_add(struct virtio_pci *vp, int slot)
{
	int ret = pci_bus_add(vp->vm->pci, &vp->pdev, slot);

	if (ret >= 0)
		vp->added = true;
	return ret;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp->ops)
		return;
	if (vp->added)
		pci_bus_remove(vp->vm->pci, &vp->pdev);
	vp->added = false;
	pthread_mutex_lock(&vp->lock);
	virtio_pci_model_reset(&vp->model);
	doorbells_move(vp, 0);
	pthread_mutex_unlock(&vp->lock);
	msix_destroy(&vp->msix);
	for (unsigned int i = 0; i < vp->model.num_queues; i++) {
		if (vp->queues[i].kick_fd >= 0)
			close(vp->queues[i].kick_fd);
		vp->queues[i].kick_fd = -1;
	}
	pthread_mutex_destroy(&vp->lock);
	vp->ops = NULL;
}

int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned int q)
{
	uint16_t vector;

	if (q >= vp->model.num_queues)
		return -1;
	vector = vp->model.queues[q].msix_vector;
	if (vector == VIRTIO_MSI_NO_VECTOR)
		return -1;
	return msix_vector_fd(&vp->msix, vector);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	virtio_pci_model_config_changed(&vp->model);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	virtio_pci_model_needs_reset(&vp->model);
}
