// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci modern transport: capabilities, common configuration state
 * machine, ISR, device configuration window, notify region with KVM
 * ioeventfds, and MSI-X. See virtio_pci.h for the BAR layout.
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

#define CFG_FIELD(f)		offsetof(struct virtio_pci_common_cfg, f)

static unsigned int num_vectors(const struct virtio_pci *vp)
{
	return vp->nqueues + 1;		/* one per queue, one for config */
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
	for (unsigned int i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];
		uint64_t addr = bar_addr ? bar_addr + VIRTIO_PCI_NOTIFY_OFF +
				VIRTIO_PCI_NOTIFY_MULT * i : 0;
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
	uint64_t q = off / VIRTIO_PCI_NOTIFY_MULT;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (q < vp->nqueues)
		kick(&vp->queues[q]);
}

/* --- common configuration ------------------------------------------------ */

/* Width of the common-config field starting at off, 0 if none starts there. */
static uint32_t common_field_width(uint64_t off)
{
	if (off >= sizeof(struct virtio_pci_common_cfg))
		return 0;
	if (off < CFG_FIELD(config_msix_vector))
		return off % 4 ? 0 : 4;
	if (off < CFG_FIELD(device_status))
		return off % 2 ? 0 : 2;
	if (off < CFG_FIELD(queue_select))
		return 1;
	if (off < CFG_FIELD(queue_desc_lo))
		return off % 2 ? 0 : 2;
	return off % 4 ? 0 : 4;
}

static struct virtio_pci_queue *selected_queue(struct virtio_pci *vp)
{
	if (vp->queue_select >= vp->nqueues)
		return NULL;
	return &vp->queues[vp->queue_select];
}

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi32(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

static uint32_t common_read(struct virtio_pci *vp, uint64_t off)
{
	struct virtio_pci_queue *q = selected_queue(vp);

	switch (off) {
	case CFG_FIELD(device_feature_select):
		return vp->device_feature_select;
	case CFG_FIELD(device_feature):
		if (vp->device_feature_select > 1)
			return 0;
		return (uint32_t)(vp->device_features >>
				  (32 * vp->device_feature_select));
	case CFG_FIELD(driver_feature_select):
		return vp->driver_feature_select;
	case CFG_FIELD(driver_feature):
		if (vp->driver_feature_select > 1)
			return 0;
		return (uint32_t)(vp->driver_features >>
				  (32 * vp->driver_feature_select));
	case CFG_FIELD(config_msix_vector):
		return vp->config_vector;
	case CFG_FIELD(num_queues):
		return vp->nqueues;
	case CFG_FIELD(device_status):
		return vp->status;
	case CFG_FIELD(config_generation):
		return vp->config_generation;
	case CFG_FIELD(queue_select):
		return vp->queue_select;
	}
	if (!q)
		return 0;	/* size 0 tells the driver the queue is absent */
	switch (off) {
	case CFG_FIELD(queue_size):		return q->size;
	case CFG_FIELD(queue_msix_vector):	return q->msix_vector;
	case CFG_FIELD(queue_enable):		return q->enabled;
	case CFG_FIELD(queue_notify_off):	return vp->queue_select;
	case CFG_FIELD(queue_desc_lo):		return lo32(q->desc);
	case CFG_FIELD(queue_desc_hi):		return hi32(q->desc);
	case CFG_FIELD(queue_driver_lo):	return lo32(q->avail);
	case CFG_FIELD(queue_driver_hi):	return hi32(q->avail);
	case CFG_FIELD(queue_device_lo):	return lo32(q->used);
	case CFG_FIELD(queue_device_hi):	return hi32(q->used);
	}
	return 0;
}

static void set_lo(uint64_t *v, uint32_t val)
{
	*v = (*v & ~0xffffffffull) | val;
}

static void set_hi(uint64_t *v, uint32_t val)
{
	*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
}

/* The spec lets the device refuse a vector by reading back NO_VECTOR. */
static uint16_t checked_vector(struct virtio_pci *vp, uint32_t val)
{
	return val < num_vectors(vp) ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
}

static bool ring_ok(struct virtio_pci *vp, uint64_t gpa, uint64_t len,
		    uint64_t align)
{
	return !(gpa & (align - 1)) && vm_gpa_to_host(vp->vm, gpa, len);
}

/* Whether queue q as the driver set it up is one a device can use. */
static bool queue_valid(struct virtio_pci *vp, struct virtio_pci_queue *q,
			unsigned int idx)
{
	const char *why = NULL;

	if (!q->size || (q->size & (q->size - 1)) || q->size > q->max_size)
		why = "size not a power of two up to the maximum";
	else if (!ring_ok(vp, q->desc, VRING_DESC_SIZE(q->size), VRING_DESC_ALIGN))
		why = "descriptor table misaligned or outside RAM";
	else if (!ring_ok(vp, q->avail, VRING_AVAIL_SIZE(q->size), VRING_AVAIL_ALIGN))
		why = "available ring misaligned or outside RAM";
	else if (!ring_ok(vp, q->used, VRING_USED_SIZE(q->size), VRING_USED_ALIGN))
		why = "used ring misaligned or outside RAM";
	if (why)
		pr_warn_limited("%s: queue %u not enabled: %s", vp->pdev.name, idx, why);
	return !why;
}

static void queue_write(struct virtio_pci *vp, uint64_t off, uint32_t val)
{
	struct virtio_pci_queue *q = selected_queue(vp);

	if (!q)
		return;
	if (off == CFG_FIELD(queue_msix_vector)) {
		q->msix_vector = checked_vector(vp, val);
		return;
	}
	/* The driver must not touch an enabled queue's layout (4.1.4.3.2). */
	if (q->enabled)
		return;
	switch (off) {
	case CFG_FIELD(queue_size):	q->size = (uint16_t)val; break;
	case CFG_FIELD(queue_enable):
		/*
		 * Drivers do not read queue_enable back (Linux does not): a
		 * ring the device cannot use also says DEVICE_NEEDS_RESET.
		 */
		if (val == 1) {
			q->enabled = queue_valid(vp, q, vp->queue_select);
			if (!q->enabled)
				virtio_pci_needs_reset(vp);
		}
		break;
	case CFG_FIELD(queue_desc_lo):	set_lo(&q->desc, val); break;
	case CFG_FIELD(queue_desc_hi):	set_hi(&q->desc, val); break;
	case CFG_FIELD(queue_driver_lo): set_lo(&q->avail, val); break;
	case CFG_FIELD(queue_driver_hi): set_hi(&q->avail, val); break;
	case CFG_FIELD(queue_device_lo): set_lo(&q->used, val); break;
	case CFG_FIELD(queue_device_hi): set_hi(&q->used, val); break;
	}
}

static void queues_reset(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];

		q->size = q->max_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enabled = false;
		q->desc = q->avail = q->used = 0;
	}
}

/* Stops the device model if it runs (vp->lock held); was it running? */
static bool device_stop(struct virtio_pci *vp)
{
	if (!(vp->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return false;
	if (vp->ops->reset)
		vp->ops->reset(vp);
	return true;
}

static void device_reset(struct virtio_pci *vp)
{
	device_stop(vp);
	vp->status = 0;
	vp->driver_features = 0;
	vp->device_feature_select = 0;
	vp->driver_feature_select = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queue_select = 0;
	vp->isr = 0;
	queues_reset(vp);
}

static bool features_ok(struct virtio_pci *vp)
{
	if (vp->driver_features & ~vp->device_features) {
		pr_warn_limited("%s: driver accepted unoffered features 0x%llx",
			vp->pdev.name, (unsigned long long)(vp->driver_features &
							    ~vp->device_features));
		return false;
	}
	if (!(vp->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		pr_warn_limited("%s: driver did not accept VERSION_1", vp->pdev.name);
		return false;
	}
	return true;
}

static void status_write(struct virtio_pci *vp, uint8_t val)
{
	uint8_t added = val & ~vp->status;

	if (val == 0) {
		device_reset(vp);
		return;
	}
	/* Bits only go away through a reset (DRIVER_OK: see bus_master_write). */
	val |= vp->status;
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_ok(vp))
		val &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    (!(val & VIRTIO_CONFIG_S_FEATURES_OK) ||
	     (val & VIRTIO_CONFIG_S_NEEDS_RESET))) {
		pr_warn_limited("%s: DRIVER_OK %s", vp->pdev.name,
				val & VIRTIO_CONFIG_S_NEEDS_RESET ?
				"before the reset the device needs" : "without FEATURES_OK");
		val &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
		added &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	vp->status = val;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && vp->ops->start &&
	    vp->ops->start(vp))
		virtio_pci_needs_reset(vp);
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint32_t val)
{
	switch (off) {
	case CFG_FIELD(device_feature_select):
		vp->device_feature_select = val;
		return;
	case CFG_FIELD(driver_feature_select):
		vp->driver_feature_select = val;
		return;
	case CFG_FIELD(driver_feature):
		/* Frozen once FEATURES_OK is set (3.1.1). */
		if (vp->driver_feature_select > 1 ||
		    (vp->status & VIRTIO_CONFIG_S_FEATURES_OK))
			return;
		if (vp->driver_feature_select)
			set_hi(&vp->driver_features, val);
		else
			set_lo(&vp->driver_features, val);
		return;
	case CFG_FIELD(config_msix_vector):
		vp->config_vector = checked_vector(vp, val);
		return;
	case CFG_FIELD(device_status):
		status_write(vp, (uint8_t)val);
		return;
	case CFG_FIELD(queue_select):
		vp->queue_select = (uint16_t)val;
		return;
	case CFG_FIELD(device_feature):
	case CFG_FIELD(num_queues):
	case CFG_FIELD(config_generation):
	case CFG_FIELD(queue_notify_off):
		return;		/* read-only */
	}
	queue_write(vp, off, val);
}

static void common_access(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	uint32_t val = 0;

	/* Only natural-width accesses to a whole field (4.1.3.1). */
	if (len != common_field_width(off)) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write) {
		memcpy(&val, data, len);
		common_write(vp, off, val);
	} else {
		val = common_read(vp, off);
		memcpy(data, &val, len);
	}
}

/* --- ISR and device configuration ---------------------------------------- */

static void isr_access(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		       uint32_t len, bool is_write)
{
	if (is_write)
		return;
	memset(data, 0, len);
	if (off == 0) {
		data[0] = vp->isr;	/* read to clear (4.1.4.5) */
		vp->isr = 0;
	}
}

static void devcfg_access(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	bool inside = off < vp->config_size && len <= vp->config_size - off;

	if (is_write) {
		if (inside && vp->ops->config_write)
			vp->ops->config_write(vp, (uint32_t)off, data, len);
		return;
	}
	memset(data, 0, len);
	if (inside && vp->ops->config_read)
		vp->ops->config_read(vp, (uint32_t)off, data, len);
}

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
	switch (region) {
	case VIRTIO_PCI_COMMON_OFF:
		common_access(vp, off, data, len, is_write);
		break;
	case VIRTIO_PCI_ISR_OFF:
		isr_access(vp, off, data, len, is_write);
		break;
	case VIRTIO_PCI_DEVCFG_OFF:
		devcfg_access(vp, off, data, len, is_write);
		break;
	case VIRTIO_PCI_NOTIFY_OFF:
		notify_access(vp, off, data, len, is_write);
		break;
	default:
		if (!is_write)
			memset(data, 0xff, len);
		break;
	}
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
	if (device_stop(vp)) {
		vp->status &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
		vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		pr_warn_limited("%s: bus mastering turned off while running; the device needs a reset",
				vp->pdev.name);
	}
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
	if (!ret && vp->config_size)
		ret = add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG,
			      VIRTIO_PCI_DEVCFG_OFF, vp->config_size);
	if (!ret)
		ret = add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			      VIRTIO_PCI_NOTIFY_MULT * vp->nqueues);
	return ret;
}

static bool params_valid(const struct virtio_pci_params *p)
{
	return p->ops && p->config_size <= VIRTIO_PCI_REGION_SIZE &&
	       p->nqueues >= 1 && p->nqueues <= VIRTIO_PCI_MAX_QUEUES &&
	       p->queue_max_size && p->queue_max_size <= VIRTQ_MAX_SIZE &&
	       !(p->queue_max_size & (p->queue_max_size - 1));
}

static int kick_fds_open(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->nqueues; i++) {
		vp->queues[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->queues[i].kick_fd < 0)
			return -errno;
	}
	return 0;
}

int virtio_pci_init(struct virtio_pci *vp, struct vm *vm,
		    const struct virtio_pci_params *p)
{
	int ret;

	memset(vp, 0, sizeof(*vp));
	for (unsigned int i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->queues[i].kick_fd = -1;
	if (!params_valid(p))
		return -EINVAL;
	vp->vm = vm;
	vp->ops = p->ops;
	vp->opaque = p->opaque;
	vp->config_size = p->config_size;
	vp->device_features = p->features | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	vp->nqueues = p->nqueues;
	for (unsigned int i = 0; i < vp->nqueues; i++)
		vp->queues[i].max_size = p->queue_max_size;
	pthread_mutex_init(&vp->lock, NULL);
	device_reset(vp);
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
		ret = msix_init(&vp->msix, vm, &vp->pdev, num_vectors(vp),
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
	device_stop(vp);
	vp->status = 0;
	doorbells_move(vp, 0);
	pthread_mutex_unlock(&vp->lock);
	msix_destroy(&vp->msix);
	for (unsigned int i = 0; i < vp->nqueues; i++) {
		if (vp->queues[i].kick_fd >= 0)
			close(vp->queues[i].kick_fd);
		vp->queues[i].kick_fd = -1;
	}
	pthread_mutex_destroy(&vp->lock);
	vp->ops = NULL;
}

int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned int q)
{
	if (q >= vp->nqueues)
		return -1;
	if (vp->queues[q].msix_vector == VIRTIO_MSI_NO_VECTOR)
		return -1;
	return msix_vector_fd(&vp->msix, vp->queues[q].msix_vector);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->config_generation++;
	vp->isr |= VIRTIO_PCI_ISR_CONFIG;
	if (vp->config_vector != VIRTIO_MSI_NO_VECTOR)
		msix_notify(&vp->msix, vp->config_vector);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vp->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_pci_config_changed(vp);
}
