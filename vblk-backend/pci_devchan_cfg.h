/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The config space pci_devchan presents, as a vmm builds it from proxyd's
 * DEVICE (protocol/devchan.md): the header, BARs and MSI-X capability are
 * ours; reads of the vendor capabilities go to proxyd (with our IDs and
 * next pointers), writes to them too, and so does each new Command value.
 */
#ifndef VBLK_PCI_DEVCHAN_CFG_H
#define VBLK_PCI_DEVCHAN_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/devchan_host.h"

struct devchan_cfg {
	uint8_t img[DEVCHAN_CONFIG_SIZE];	/* our bytes */
	bool owned[DEVCHAN_CONFIG_SIZE];	/* ours inside the vendor caps */
	uint32_t caps_end;			/* vendor caps: [0x40, caps_end) */
	uint32_t msix;				/* MSI-X capability, 0: none */
};

void devchan_cfg_build(struct devchan_cfg *c, const struct devchan_device *dev);
/* Aligned accesses of 1, 2 or 4 bytes (the caller checked). 0 or -errno. */
int devchan_cfg_read(struct devchan_cfg *c, struct devchan_host *h,
		     uint32_t off, uint32_t len, uint32_t *val);
int devchan_cfg_write(struct devchan_cfg *c, struct devchan_host *h,
		      uint32_t off, uint32_t len, uint32_t val);

#endif /* VBLK_PCI_DEVCHAN_CFG_H */
