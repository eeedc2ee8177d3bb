// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vvu-proxy device's identity and layout, as crosvm built it
 * (REFERENCE.md): what the vmm presents in config space and BARs.
 *
 *   BAR0 32-bit 0x8000, REMOTE: virtio-pci structures, MSI-X table/PBA
 *   BAR2 64-bit 0x4000, REMOTE: doorbells, notification configuration
 *   BAR4 64-bit prefetchable, SHM: the sibling's memory regions
 */
#include <string.h>

#include "protocol/virtio.h"
#include "vvu-proxyd/proxyd.h"

static void *cap_put(struct devchan_device *dev, size_t len, uint8_t cfg_type,
		     uint8_t bar, uint64_t off, uint64_t size)
{
	struct virtio_pci_cap *c = (void *)(dev->caps + dev->caps_len);

	c->cap_vndr = DEVCHAN_PCI_CAP_ID_VNDR;
	c->cap_len = (uint8_t)len;
	c->cfg_type = cfg_type;
	c->bar = bar;
	c->offset = (uint32_t)off;
	c->length = (uint32_t)size;
	dev->caps_len += (uint32_t)len;
	return c;
}

/* virtio's own four structures, all in BAR0 (virtio_pci_layout.h). */
static void caps_virtio(struct devchan_device *dev)
{
	struct virtio_pci_notify_cap *n;

	cap_put(dev, sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_COMMON_CFG,
		VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF,
		sizeof(struct virtio_pci_common_cfg));
	n = cap_put(dev, sizeof(*n), VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_BAR,
		    VIRTIO_PCI_NOTIFY_OFF,
		    virtio_pci_model_doorbell_offset(VVU_NUM_QUEUES));
	n->notify_off_multiplier = VIRTIO_PCI_NOTIFY_MULT;
	cap_put(dev, sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_ISR_CFG,
		VIRTIO_PCI_BAR, VIRTIO_PCI_ISR_OFF, 1);
	cap_put(dev, sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_DEVICE_CFG,
		VIRTIO_PCI_BAR, VIRTIO_PCI_DEVCFG_OFF, sizeof(struct vvu_config));
}

/* The vvu ones: doorbells and notifications in BAR2, memory in BAR4. */
static void caps_vvu(struct devchan_device *dev, uint64_t shm_size)
{
	struct vvu_doorbell_cap *d;
	struct virtio_pci_cap64 *s;

	d = cap_put(dev, sizeof(*d), VVU_PCI_CAP_DOORBELL_CFG, VVU_BAR2,
		    VVU_DOORBELL_OFFSET, VVU_DOORBELL_SIZE);
	d->doorbell_off_multiplier = VVU_DOORBELL_OFF_MULTIPLIER;
	cap_put(dev, sizeof(struct virtio_pci_cap), VVU_PCI_CAP_NOTIFICATION_CFG,
		VVU_BAR2, VVU_NOTIFICATION_OFFSET,
		sizeof(struct vvu_notification_cfg));
	s = cap_put(dev, sizeof(*s), VVU_PCI_CAP_SHARED_MEMORY_CFG, VVU_BAR4, 0,
		    shm_size);
	s->length_hi = (uint32_t)(shm_size >> 32);
}

void proxy_device_describe(struct devchan_device *dev, uint64_t shm_size)
{
	memset(dev, 0, sizeof(*dev));
	dev->version = DEVCHAN_VERSION;
	dev->vendor_id = VVU_PCI_VENDOR_ID;
	dev->device_id = VVU_PCI_DEVICE_ID;
	dev->subsys_vendor_id = VVU_PCI_VENDOR_ID;
	dev->subsys_id = VVU_PCI_DEVICE_ID;
	dev->class_code = VVU_PCI_CLASS;
	dev->subclass = VVU_PCI_SUBCLASS;
	dev->revision = VVU_PCI_REVISION;
	/* The MSI-X table and PBA share BAR0 with the remote registers. */
	dev->bars[VIRTIO_PCI_BAR] = (struct devchan_bar){
		.type = DEVCHAN_BAR_MEM32, .kind = DEVCHAN_BAR_KIND_REMOTE,
		.size = VIRTIO_PCI_BAR_SIZE };
	dev->bars[VVU_BAR2] = (struct devchan_bar){
		.type = DEVCHAN_BAR_MEM64, .kind = DEVCHAN_BAR_KIND_REMOTE,
		.size = VVU_BAR2_SIZE };
	dev->bars[VVU_BAR4] = (struct devchan_bar){
		.type = DEVCHAN_BAR_MEM64, .flags = DEVCHAN_BAR_F_PREFETCH,
		.kind = DEVCHAN_BAR_KIND_SHM, .size = shm_size };
	dev->msix = (struct devchan_msix){
		.nvectors = VVU_MSIX_VECTORS,
		.table_bar = VIRTIO_PCI_BAR, .pba_bar = VIRTIO_PCI_BAR,
		.table_off = VIRTIO_PCI_MSIX_TABLE_OFF,
		.pba_off = VIRTIO_PCI_MSIX_PBA_OFF };
	caps_virtio(dev);
	caps_vvu(dev, shm_size);
}

bool proxy_shm_size_valid(uint64_t size)
{
	return size >= DEVCHAN_BAR_MIN_SIZE && size <= DEVCHAN_BAR_MAX_SIZE64 &&
	       !(size & (size - 1));
}
