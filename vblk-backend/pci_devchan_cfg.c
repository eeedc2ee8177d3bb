// SPDX-License-Identifier: GPL-2.0-only
/* pci_devchan's config space: see pci_devchan_cfg.h. */
#include <linux/pci_regs.h>
#include <string.h>

#include "vblk-backend/pci_devchan_cfg.h"

/* Command bits a driver may set: memory decoding, bus master, INTx off. */
#define CMD_WRITABLE	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			 PCI_COMMAND_INTX_DISABLE)
#define MSIX_CTRL_WRITABLE	(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL)

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* BAR registers: type bits only; with no VM there is no address to show. */
static void build_bars(uint8_t *img, const struct devchan_device *dev)
{
	for (unsigned int n = 0; n < DEVCHAN_NUM_BARS; n++) {
		const struct devchan_bar *b = &dev->bars[n];
		uint32_t v = 0;

		if (b->type == DEVCHAN_BAR_MEM64)
			v |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		if (b->flags & DEVCHAN_BAR_F_PREFETCH)
			v |= PCI_BASE_ADDRESS_MEM_PREFETCH;
		put32(img + PCI_BASE_ADDRESS_0 + 4 * n, v);
	}
}

/* Vendor caps at 0x40 + their offset, linked, then MSI-X: devchan.md's layout. */
static void build_caps(struct devchan_cfg *c, const struct devchan_device *dev)
{
	const uint8_t *caps = dev->caps;
	uint32_t at = DEVCHAN_CAPS_START, next;

	c->caps_end = DEVCHAN_CAPS_START + dev->caps_len;
	c->msix = dev->msix.nvectors ? c->caps_end : 0;
	if (dev->caps_len || c->msix) {
		c->img[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
		c->img[PCI_CAPABILITY_LIST] = DEVCHAN_CAPS_START;
	}
	/* DEVICE was checked: lengths are multiples of 4 within caps_len. */
	for (uint32_t off = 0; off < dev->caps_len; off += caps[off + 2]) {
		at = DEVCHAN_CAPS_START + off;
		next = at + caps[off + 2];
		c->img[at] = caps[off];
		c->img[at + PCI_CAP_LIST_NEXT] = next < c->caps_end ? next : c->msix;
		c->owned[at] = c->owned[at + PCI_CAP_LIST_NEXT] = true;
	}
	if (!c->msix)
		return;
	c->img[c->msix] = PCI_CAP_ID_MSIX;
	put16(c->img + c->msix + PCI_MSIX_FLAGS, dev->msix.nvectors - 1);
	put32(c->img + c->msix + PCI_MSIX_TABLE,
	      dev->msix.table_off | dev->msix.table_bar);
	put32(c->img + c->msix + PCI_MSIX_PBA, dev->msix.pba_off | dev->msix.pba_bar);
}

void devchan_cfg_build(struct devchan_cfg *c, const struct devchan_device *dev)
{
	uint8_t *img = c->img;

	memset(c, 0, sizeof(*c));
	put16(img + PCI_VENDOR_ID, dev->vendor_id);
	put16(img + PCI_DEVICE_ID, dev->device_id);
	img[PCI_REVISION_ID] = dev->revision;
	img[PCI_CLASS_PROG] = dev->prog_if;
	img[PCI_CLASS_DEVICE] = dev->subclass;
	img[PCI_CLASS_DEVICE + 1] = dev->class_code;
	put16(img + PCI_SUBSYSTEM_VENDOR_ID, dev->subsys_vendor_id);
	put16(img + PCI_SUBSYSTEM_ID, dev->subsys_id);
	build_bars(img, dev);
	build_caps(c, dev);
}

static bool in_vendor_caps(const struct devchan_cfg *c, uint32_t off)
{
	return off >= DEVCHAN_CAPS_START && off < c->caps_end;
}

int devchan_cfg_read(struct devchan_cfg *c, struct devchan_host *h,
		     uint32_t off, uint32_t len, uint32_t *val)
{
	uint8_t b[4] = { 0 };
	uint64_t v = 0;
	int r;

	if (!in_vendor_caps(c, off)) {
		memcpy(b, c->img + off, len);
	} else {
		r = devchan_host_read(h, DEVCHAN_REGION_CONFIG, off, (uint8_t)len, &v);
		if (r)
			return r;
		memcpy(b, &v, len);
		for (uint32_t i = 0; i < len; i++)
			if (c->owned[off + i])
				b[i] = c->img[off + i];
	}
	memcpy(val, b, 4);
	return 0;
}

/* The Command register changed: ours, and proxyd hears the new value. */
static int write_command(struct devchan_cfg *c, struct devchan_host *h,
			 uint32_t off, uint32_t len, uint32_t val)
{
	uint8_t b[4];
	uint16_t cmd;

	memcpy(b, &val, 4);
	for (uint32_t i = 0; i < len; i++)
		if (off + i == PCI_COMMAND || off + i == PCI_COMMAND + 1)
			c->img[off + i] = b[i];
	memcpy(&cmd, c->img + PCI_COMMAND, 2);
	cmd &= CMD_WRITABLE;
	put16(c->img + PCI_COMMAND, cmd);
	return devchan_host_write(h, DEVCHAN_REGION_CONFIG, PCI_COMMAND, 2, cmd);
}

/* MSI-X enable and function mask: bookkeeping only (msix_enable acts). */
static void write_msix_ctrl(struct devchan_cfg *c, uint32_t off, uint32_t len,
			    uint32_t val)
{
	uint32_t hi = c->msix + PCI_MSIX_FLAGS + 1;	/* both bits live here */
	uint16_t v, bits;

	if (off > hi || off + len <= hi)
		return;
	bits = (uint16_t)(((val >> (8 * (hi - off))) & 0xff) << 8);
	memcpy(&v, c->img + hi - 1, 2);
	v = (uint16_t)((v & ~MSIX_CTRL_WRITABLE) | (bits & MSIX_CTRL_WRITABLE));
	put16(c->img + hi - 1, v);
}

int devchan_cfg_write(struct devchan_cfg *c, struct devchan_host *h,
		      uint32_t off, uint32_t len, uint32_t val)
{
	if (in_vendor_caps(c, off))
		return devchan_host_write(h, DEVCHAN_REGION_CONFIG, off,
					  (uint8_t)len, val);
	if (off <= PCI_COMMAND + 1 && off + len > PCI_COMMAND)
		return write_command(c, h, off, len, val);
	if (c->msix)
		write_msix_ctrl(c, off, len, val);
	return 0;	/* the rest is read-only here, as on a vmm */
}
