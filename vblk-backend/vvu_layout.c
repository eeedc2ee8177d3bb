// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding the vvu-proxy device's structures the way a virtio driver must:
 * from the vendor capabilities in config space, never from where this
 * project happens to put them. Every capability is checked against the
 * size of the BAR it names, so a device cannot make us reach past a BAR.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "protocol/virtio.h"
#include "protocol/vvu.h"
#include "vblk-backend/vvu.h"

/* More would mean a loop in the list. */
#define PCI_MAX_CAPS		48

static int cfg8(struct pci_dev *d, uint32_t off, uint8_t *v)
{
	uint32_t x;
	int ret = pci_cfg_read(d, off, 1, &x);

	*v = (uint8_t)x;
	return ret;
}

static int cfg32(struct pci_dev *d, uint32_t off, uint32_t *v)
{
	return pci_cfg_read(d, off, 4, v);
}

static struct vvu_region *layout_slot(struct vvu_layout *l, uint8_t cfg_type)
{
	switch (cfg_type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:		return &l->common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:		return &l->notify;
	case VIRTIO_PCI_CAP_ISR_CFG:		return &l->isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG:		return &l->devcfg;
	case VVU_PCI_CAP_DOORBELL_CFG:		return &l->doorbell;
	case VVU_PCI_CAP_NOTIFICATION_CFG:	return &l->notification;
	case VVU_PCI_CAP_SHARED_MEMORY_CFG:	return &l->shm;
	}
	return NULL;
}

/* One vendor capability at pos, cap_len bytes long. */
static int read_vndr_cap(struct pci_dev *d, uint32_t pos, uint8_t cap_len,
			 struct vvu_layout *l)
{
	uint8_t type, bar;
	uint32_t off, len, hi, mult;
	struct vvu_region *r;

	if (cap_len < sizeof(struct virtio_pci_cap) ||
	    pos + cap_len > PCI_CFG_SPACE_SIZE)
		return -EINVAL;
	if (cfg8(d, pos + offsetof(struct virtio_pci_cap, cfg_type), &type) ||
	    cfg8(d, pos + offsetof(struct virtio_pci_cap, bar), &bar) ||
	    cfg32(d, pos + offsetof(struct virtio_pci_cap, offset), &off) ||
	    cfg32(d, pos + offsetof(struct virtio_pci_cap, length), &len))
		return -EIO;
	r = layout_slot(l, type);
	if (!r || r->found)
		return 0;	/* one we do not use, or a later duplicate */
	*r = (struct vvu_region){ .found = true, .bar = bar, .off = off,
				  .len = len };
	if (type == VVU_PCI_CAP_SHARED_MEMORY_CFG) {
		if (cap_len < sizeof(struct virtio_pci_cap64) ||
		    cfg32(d, pos + offsetof(struct virtio_pci_cap64, offset_hi), &hi))
			return -EINVAL;
		r->off |= (uint64_t)hi << 32;
		if (cfg32(d, pos + offsetof(struct virtio_pci_cap64, length_hi), &hi))
			return -EIO;
		r->len |= (uint64_t)hi << 32;
	} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG ||
		   type == VVU_PCI_CAP_DOORBELL_CFG) {
		if (cap_len < sizeof(struct virtio_pci_notify_cap) ||
		    cfg32(d, pos + offsetof(struct virtio_pci_notify_cap,
					    notify_off_multiplier), &mult))
			return -EINVAL;
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			l->notify_mult = mult;
		else
			l->doorbell_mult = mult;
	}
	return 0;
}

static int walk_caps(struct pci_dev *d, struct vvu_layout *l)
{
	uint8_t pos, id, next, len;
	uint32_t status;
	int ret;

	if (pci_cfg_read(d, PCI_STATUS, 2, &status))
		return -EIO;
	if (!(status & PCI_STATUS_CAP_LIST))
		return -ENOENT;
	if (cfg8(d, PCI_CAPABILITY_LIST, &pos))
		return -EIO;
	for (int n = 0; pos && n < PCI_MAX_CAPS; n++, pos = next) {
		pos &= ~3u;
		if (pos < 0x40 || cfg8(d, pos, &id) || cfg8(d, pos + 1u, &next) ||
		    cfg8(d, pos + 2u, &len))
			return -EINVAL;
		if (id != PCI_CAP_ID_VNDR)
			continue;
		ret = read_vndr_cap(d, pos, len, l);
		if (ret)
			return ret;
	}
	return pos ? -ELOOP : 0;
}

static int check_region(struct pci_dev *d, const char *what,
			const struct vvu_region *r, uint64_t min_len)
{
	uint64_t bar_size;

	if (!r->found) {
		pr_err("%s: no %s capability", d->name, what);
		return -ENOENT;
	}
	bar_size = r->bar < 6 ? d->ops->bar_size(d, r->bar) : 0;
	if (r->len < min_len || r->off > bar_size || r->len > bar_size - r->off) {
		pr_err("%s: %s [%#llx, +%#llx) does not fit BAR%u (%#llx bytes)",
		       d->name, what, (unsigned long long)r->off,
		       (unsigned long long)r->len, r->bar,
		       (unsigned long long)bar_size);
		return -EINVAL;
	}
	return 0;
}

int vvu_find_layout(struct pci_dev *d, struct vvu_layout *l)
{
	const struct {
		const char *what;
		const struct vvu_region *r;
		uint64_t min_len;
	} need[] = {
		{ "common config", &l->common, sizeof(struct virtio_pci_common_cfg) },
		{ "notify", &l->notify, 2 },
		{ "device config", &l->devcfg, sizeof(struct vvu_config) },
		{ "doorbell", &l->doorbell, 4 },
		{ "notification", &l->notification, sizeof(struct vvu_notification_cfg) },
		{ "shared memory", &l->shm, 4096 },
	};
	int ret;

	*l = (struct vvu_layout){ 0 };
	ret = walk_caps(d, l);
	if (ret) {
		pr_err("%s: bad capability list: %s", d->name, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		ret = check_region(d, need[i].what, need[i].r, need[i].min_len);
		if (ret)
			return ret;
	}
	return 0;
}
