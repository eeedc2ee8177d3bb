// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bringing the vvu-proxy device up as a virtio 1.x device: reset, feature
 * negotiation, rxq/txq in DMA memory with their MSI-X vectors, the vhost
 * queues' kick vectors, and DRIVER_OK. Also used to start again after a
 * reset, which is how this driver ends a front-end's session.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "protocol/virtio.h"
#include "protocol/vvu.h"
#include "vblk-backend/vvu_dev.h"

#define CFG(field)	offsetof(struct virtio_pci_common_cfg, field)
/* How long a device may take to finish a reset. */
#define VVU_RESET_POLLS	1000

uint64_t vvu_common_read(struct vvu *v, uint64_t field, unsigned int size)
{
	uint64_t val = ~0ull;

	pci_bar_read(v->pci, v->l.common.bar, v->l.common.off + field, size, &val);
	return val;
}

void vvu_common_write(struct vvu *v, uint64_t field, unsigned int size,
		      uint64_t val)
{
	pci_bar_write(v->pci, v->l.common.bar, v->l.common.off + field, size, val);
}

static void common_write64(struct vvu *v, uint64_t lo_field, uint64_t val)
{
	vvu_common_write(v, lo_field, 4, (uint32_t)val);
	vvu_common_write(v, lo_field + 4, 4, val >> 32);
}

static uint8_t status(struct vvu *v)
{
	return (uint8_t)vvu_common_read(v, CFG(device_status), 1);
}

int vvu_dev_reset(struct vvu *v)
{
	const struct timespec ms = { .tv_nsec = 1000000 };

	vvu_common_write(v, CFG(device_status), 1, 0);
	for (int i = 0; i < VVU_RESET_POLLS; i++) {
		if (status(v) == 0)
			return 0;
		nanosleep(&ms, NULL);
	}
	pr_err("%s: the device did not finish its reset", v->pci->name);
	return -ETIMEDOUT;
}

/* VERSION_1 is all this driver needs and takes. */
static int negotiate(struct vvu *v)
{
	uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	uint32_t hi;

	vvu_common_write(v, CFG(device_status), 1, st);
	vvu_common_write(v, CFG(device_feature_select), 4, 1);
	hi = (uint32_t)vvu_common_read(v, CFG(device_feature), 4);
	if (!(hi & (1u << (VIRTIO_F_VERSION_1 - 32)))) {
		pr_err("%s: the device does not offer VIRTIO_F_VERSION_1",
		       v->pci->name);
		return -ENOTSUP;
	}
	vvu_common_write(v, CFG(driver_feature_select), 4, 0);
	vvu_common_write(v, CFG(driver_feature), 4, 0);
	vvu_common_write(v, CFG(driver_feature_select), 4, 1);
	vvu_common_write(v, CFG(driver_feature), 4, 1u << (VIRTIO_F_VERSION_1 - 32));
	vvu_common_write(v, CFG(device_status), 1, st | VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(status(v) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		pr_err("%s: the device refused our features", v->pci->name);
		return -ENOTSUP;
	}
	return 0;
}

/* Ring q's parts in DMA memory, at fixed offsets (vvu_dev.h). */
static uint64_t ring_off(unsigned int q, unsigned int part)
{
	return VVU_DMA_RING_OFF(q) + part * VVU_DMA_RING_PART;
}

static int queue_setup(struct vvu *v, uint16_t q, uint16_t vector)
{
	struct vring_drv *ring = q == VVU_RXQ ? &v->rx : &v->tx;
	uint16_t num;
	int ret;

	vvu_common_write(v, CFG(queue_select), 2, q);
	num = (uint16_t)vvu_common_read(v, CFG(queue_size), 2);
	if (num == 0 || num == 0xffff) {
		pr_err("%s: queue %u does not exist", v->pci->name, q);
		return -ENODEV;
	}
	if (num > VVU_RING_SIZE)
		num = VVU_RING_SIZE;
	num = (uint16_t)(1u << (31 - __builtin_clz(num)));	/* power of two */
	vring_drv_destroy(ring);
	ret = vring_drv_init(ring, num, (void *)(v->dma + ring_off(q, 0)),
			     (void *)(v->dma + ring_off(q, 1)),
			     (void *)(v->dma + ring_off(q, 2)), false);
	if (ret)
		return ret;
	vvu_common_write(v, CFG(queue_size), 2, num);
	vvu_common_write(v, CFG(queue_msix_vector), 2, vector);
	if ((uint16_t)vvu_common_read(v, CFG(queue_msix_vector), 2) != vector) {
		pr_err("%s: queue %u: vector %u refused", v->pci->name, q, vector);
		return -ENOSPC;
	}
	common_write64(v, CFG(queue_desc_lo), v->dma_iova + ring_off(q, 0));
	common_write64(v, CFG(queue_driver_lo), v->dma_iova + ring_off(q, 1));
	common_write64(v, CFG(queue_device_lo), v->dma_iova + ring_off(q, 2));
	v->notify_off[q] = (uint16_t)vvu_common_read(v, CFG(queue_notify_off), 2);
	vvu_common_write(v, CFG(queue_enable), 2, 1);
	return 0;
}

/* Where each vhost queue's kicks are to arrive. */
static int kick_vectors(struct vvu *v)
{
	const struct vvu_region *n = &v->l.notification;
	uint64_t got = ~0ull;

	for (unsigned int i = 0; i < v->nqueues; i++) {
		pci_bar_write(v->pci, n->bar, n->off, 2, i);
		pci_bar_write(v->pci, n->bar, n->off + 2, 2, VVU_VEC_KICK(i));
		pci_bar_read(v->pci, n->bar, n->off + 2, 2, &got);
		if (got != VVU_VEC_KICK(i)) {
			pr_err("%s: vhost queue %u: notification vector %u refused",
			       v->pci->name, i, VVU_VEC_KICK(i));
			return -ENOSPC;
		}
	}
	return 0;
}

void vvu_rx_post(struct vvu *v, unsigned int i)
{
	struct vring_buf b = { .addr = v->dma_iova + VVU_DMA_RX_BUF(i),
			       .len = VVU_BUF_SIZE, .write = true };

	vring_drv_add(&v->rx, &b, 1, (void *)(uintptr_t)(i + 1));
}

void vvu_queue_kick(struct vvu *v, uint16_t q)
{
	const struct vvu_region *n = &v->l.notify;
	uint64_t off = (uint64_t)v->notify_off[q] * v->l.notify_mult;

	if (off + 2 > n->len) {
		pr_err("%s: queue %u: notify offset %#llx is outside the notify region",
		       v->pci->name, q, (unsigned long long)off);
		return;
	}
	pci_bar_write(v->pci, n->bar, n->off + off, 2, q);
}

int vvu_dev_start(struct vvu *v)
{
	int ret;

	ret = vvu_dev_reset(v);
	if (ret)
		return ret;
	ret = negotiate(v);
	if (ret)
		goto fail;
	vvu_common_write(v, CFG(config_msix_vector), 2, VVU_VEC_CONFIG);
	ret = queue_setup(v, VVU_RXQ, VVU_VEC_RXQ);
	if (!ret)
		ret = queue_setup(v, VVU_TXQ, VVU_VEC_TXQ);
	if (!ret)
		ret = kick_vectors(v);
	if (ret)
		goto fail;
	memset(v->tx_busy, 0, sizeof(v->tx_busy));
	for (unsigned int i = 0; i < VVU_RX_BUFS; i++)
		vvu_rx_post(v, i);
	vvu_common_write(v, CFG(device_status), 1, status(v) | VIRTIO_CONFIG_S_DRIVER_OK);
	vvu_queue_kick(v, VVU_RXQ);
	return 0;
fail:
	vvu_common_write(v, CFG(device_status), 1, VIRTIO_CONFIG_S_FAILED);
	return ret;
}
