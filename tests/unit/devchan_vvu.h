/* SPDX-License-Identifier: GPL-2.0-only */
/* A DEVICE message as vvu-proxyd sends it, for the device channel's tests. */
#ifndef TESTS_UNIT_DEVCHAN_VVU_H
#define TESTS_UNIT_DEVCHAN_VVU_H

#include <stdint.h>
#include <string.h>

#include "protocol/devchan.h"

/* One vendor capability of len bytes with cfg_type and bar. */
static inline void devchan_put_cap(struct devchan_device *d, uint8_t len, uint8_t cfg_type,
		    uint8_t bar)
{
	uint8_t *c = d->caps + d->caps_len;

	c[0] = DEVCHAN_PCI_CAP_ID_VNDR;
	c[1] = 0;
	c[2] = len;
	c[3] = cfg_type;
	c[4] = bar;
	d->caps_len += len;
}

/* The vvu-proxy device as crosvm laid it out (REFERENCE.md), BAR4 shm_size. */
static inline void devchan_vvu_device(struct devchan_device *d, uint64_t shm_size)
{
	memset(d, 0, sizeof(*d));
	d->version = DEVCHAN_VERSION;
	d->vendor_id = 0x1af4;
	d->device_id = 0x107d;
	d->subsys_vendor_id = 0x1af4;
	d->subsys_id = 0x107d;
	d->class_code = 0x00;
	d->subclass = 0xff;
	d->revision = 1;
	d->bars[0] = (struct devchan_bar){ .type = DEVCHAN_BAR_MEM32,
		.kind = DEVCHAN_BAR_KIND_REMOTE, .size = 0x8000 };
	d->bars[2] = (struct devchan_bar){ .type = DEVCHAN_BAR_MEM64,
		.kind = DEVCHAN_BAR_KIND_REMOTE, .size = 0x4000 };
	d->bars[4] = (struct devchan_bar){ .type = DEVCHAN_BAR_MEM64,
		.flags = DEVCHAN_BAR_F_PREFETCH, .kind = DEVCHAN_BAR_KIND_SHM,
		.size = shm_size };
	d->msix = (struct devchan_msix){ .nvectors = 19, .table_bar = 0,
		.pba_bar = 0, .table_off = 0x6000, .pba_off = 0x7000 };
	devchan_put_cap(d, 20, 6, 2);	/* doorbell */
	devchan_put_cap(d, 16, 7, 2);	/* notification */
	devchan_put_cap(d, 24, 8, 4);	/* shared memory (virtio_pci_cap64) */
}

#endif /* TESTS_UNIT_DEVCHAN_VVU_H */
