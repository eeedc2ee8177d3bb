// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vvu transport of vu_backend: front-end messages from rxq, replies on
 * txq, kicks as MSI-X vectors, calls as doorbell writes, the sibling's
 * memory through the shared-memory BAR (protocol/vvu.h says how).
 *
 * A session ends when the device hands us an empty rx buffer (the sibling
 * went away). When the front-end breaks the protocol, we end it ourselves
 * the only way a driver can: by resetting the device, which drops the
 * sibling, and starting it again for the next one.
 */
#include <errno.h>
#include <event2/event.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "protocol/vvu.h"
#include "vblk-backend/vvu_dev.h"

/* How long a reply may wait for a free tx buffer before we give up. */
#define VVU_TX_WAIT_MS	1000

static void vvu_restart(struct vvu *v, const char *why)
{
	pr_warn("%s: %s: resetting the device to drop the front-end",
		v->pci->name, why);
	vu_backend_reset(v->vb);
	v->sibling = false;
	if (vvu_dev_start(v))
		pr_err("%s: the device did not start again", v->pci->name);
}

/* Takes back the tx buffers the device has used. -EPROTO if it lied. */
static int tx_reclaim(struct vvu *v)
{
	uint32_t len;
	uint16_t id;
	void *token;
	int r;

	while ((r = vring_drv_get_used(&v->tx, &id, &len, &token)) == 1)
		v->tx_busy[(uintptr_t)token - 1] = false;
	return r;
}

static int tx_free_slot(struct vvu *v)
{
	const struct timespec ms = { .tv_nsec = 1000000 };

	for (int t = 0; t <= VVU_TX_WAIT_MS; t++) {
		if (tx_reclaim(v) < 0)
			return -EPROTO;
		for (unsigned int i = 0; i < VVU_TX_BUFS; i++)
			if (!v->tx_busy[i])
				return (int)i;
		nanosleep(&ms, NULL);
	}
	return -ETIMEDOUT;
}

/* Hands tx buffer i, holding len bytes, to the device. */
static int tx_post(struct vvu *v, int i, uint32_t len)
{
	struct vring_buf b = { .addr = v->dma_iova + VVU_DMA_TX_BUF(i), .len = len };

	if (vring_drv_add(&v->tx, &b, 1, (void *)(uintptr_t)(i + 1)) < 0)
		return -ENOSPC;
	v->tx_busy[i] = true;
	if (vring_drv_kick_prepare(&v->tx))
		vvu_queue_kick(v, VVU_TXQ);
	return 0;
}

static int vvu_send(struct vvu *v, const struct vu_msg *m)
{
	ssize_t len;
	int i;

	i = tx_free_slot(v);
	if (i < 0)
		return i;
	len = vu_msg_serialize(m, v->dma + VVU_DMA_TX_BUF(i), VVU_BUF_SIZE);
	if (len < 0)
		return (int)len;
	return tx_post(v, i, (uint32_t)len);
}

/*
 * The end-of-session mark (protocol/vvu.h): everything sent before it was
 * for the front-end that went; the device connects the next one after it.
 */
static int vvu_send_session_end(struct vvu *v)
{
	int i = tx_free_slot(v);

	return i < 0 ? i : tx_post(v, i, 0);
}

/* One front-end message: 0, or -errno when the session must end. */
static int vvu_handle(struct vvu *v, const uint8_t *buf, uint32_t len)
{
	struct vu_msg m;
	bool reply;
	int ret;

	if (vu_msg_parse(&m, buf, len)) {
		pr_err("%s: malformed %u-byte message from the front-end",
		       v->pci->name, len);
		return -EPROTO;
	}
	if (!v->sibling)
		pr_info("%s: a front-end connected", v->pci->name);
	v->sibling = true;
	ret = vu_backend_handle_msg(v->vb, &m, &reply);
	if (reply) {
		int sret = vvu_send(v, &m);

		if (sret) {
			pr_err("%s: cannot send the reply: %s", v->pci->name,
			       strerror(-sret));
			return sret;
		}
	}
	return ret;
}

static int vvu_session_end(struct vvu *v)
{
	pr_info("%s: the front-end disconnected", v->pci->name);
	vu_backend_reset(v->vb);
	v->sibling = false;
	return vvu_send_session_end(v);
}

static void vvu_rx(struct vvu *v)
{
	unsigned int posted = 0;
	uint32_t len;
	uint16_t id;
	void *token;
	int r;

	while ((r = vring_drv_get_used(&v->rx, &id, &len, &token)) == 1) {
		unsigned int i = (unsigned int)(uintptr_t)token - 1;

		if (len == 0 ? vvu_session_end(v) :
			       vvu_handle(v, v->dma + VVU_DMA_RX_BUF(i), len))
			goto restart;
		vvu_rx_post(v, i);
		posted++;
	}
	if (r < 0) {
		vvu_restart(v, "rxq broken");
		return;
	}
	if (posted && vring_drv_kick_prepare(&v->rx))
		vvu_queue_kick(v, VVU_RXQ);
	return;
restart:
	vvu_restart(v, "front-end session failed");
}

static void vvu_config_changed(struct vvu *v)
{
	const struct vvu_region *c = &v->l.devcfg;
	uint64_t st = 0;

	pci_bar_read(v->pci, c->bar, c->off + offsetof(struct vvu_config, status),
		     4, &st);
	pr_debug("%s: config changed: status %#llx", v->pci->name,
		 (unsigned long long)st);
}

static void vvu_on_irq(void *arg, unsigned int vector)
{
	struct vvu *v = arg;

	pr_debug("%s: vector %u", v->pci->name, vector);
	switch (vector) {
	case VVU_VEC_CONFIG:
		vvu_config_changed(v);
		return;
	case VVU_VEC_RXQ:
		vvu_rx(v);
		return;
	case VVU_VEC_TXQ:
		if (tx_reclaim(v) < 0)
			vvu_restart(v, "txq broken");
		return;
	}
	if (vector - VVU_VEC_KICK(0) < v->nqueues &&
	    vu_backend_process_vring(v->vb, vector - VVU_VEC_KICK(0)))
		vvu_restart(v, "the front-end broke a queue");
}

static void vvu_on_rekick(evutil_socket_t fd, short what, void *arg)
{
	struct vvu_rekick *rk = arg;

	(void)fd;
	(void)what;
	vvu_on_irq(rk->v, VVU_VEC_KICK(rk->qidx));
}

/* --- vu_transport_ops -------------------------------------------------- */

static void vvu_notify(void *opaque, unsigned int qidx)
{
	struct vvu *v = opaque;
	const struct vvu_region *d = &v->l.doorbell;
	uint64_t off = (uint64_t)qidx * v->l.doorbell_mult;

	if (off + 4 > d->len) {
		pr_err("%s: queue %u: no doorbell", v->pci->name, qidx);
		return;
	}
	pci_bar_write(v->pci, d->bar, d->off + off, 4, 1);
}

static void vvu_rekick(void *opaque, unsigned int qidx)
{
	struct vvu *v = opaque;

	if (qidx < v->nqueues)
		event_active(v->rekick[qidx].ev, EV_TIMEOUT, 0);
}

/*
 * A region of the sibling's memory is wherever the device put it in the
 * shared-memory BAR; only that part of the BAR is mapped.
 */
static int vvu_map_region(void *opaque, const struct vhost_user_mem_region *w,
			  int fd, struct mem_region *out)
{
	struct vvu *v = opaque;
	void *map_base;
	size_t map_len;
	uint8_t *host;

	(void)fd;	/* always -1: the device kept it */
	if (w->memory_size == 0 || w->mmap_offset > v->shm_size ||
	    w->memory_size > v->shm_size - w->mmap_offset) {
		pr_err("%s: region [%#llx, +%#llx) is outside the %#llx-byte shared memory",
		       v->pci->name, (unsigned long long)w->mmap_offset,
		       (unsigned long long)w->memory_size,
		       (unsigned long long)v->shm_size);
		return -EINVAL;
	}
	host = v->pci->ops->bar_map(v->pci, v->l.shm.bar, v->l.shm.off + w->mmap_offset,
				    w->memory_size, &map_base, &map_len);
	if (!host)
		return -errno;
	*out = (struct mem_region){
		.gpa = w->guest_phys_addr, .size = w->memory_size,
		.uva = w->userspace_addr, .host = host, .fd = -1,
		.fd_offset = w->mmap_offset, .map_base = map_base,
		.map_len = map_len,
	};
	return 0;
}

const struct vu_transport_ops vvu_transport_ops = {
	.fdless = true,
	.notify = vvu_notify,
	.rekick = vvu_rekick,
	.map_region = vvu_map_region,
};

/* --- setup ----------------------------------------------------------------- */

static int vvu_check_id(struct pci_dev *d)
{
	uint32_t id;

	if (pci_cfg_read(d, 0, 4, &id))
		return -EIO;
	if ((id & 0xffff) != VVU_PCI_VENDOR_ID || id >> 16 != VVU_PCI_DEVICE_ID) {
		pr_err("%s: %04x:%04x is not a vvu-proxy device (%04x:%04x)",
		       d->name, id & 0xffff, id >> 16, VVU_PCI_VENDOR_ID,
		       VVU_PCI_DEVICE_ID);
		return -ENODEV;
	}
	return 0;
}

/* Memory decoding and bus mastering, as any PCI driver turns them on. */
static int vvu_enable_device(struct pci_dev *d)
{
	uint32_t cmd;

	if (pci_cfg_read(d, PCI_COMMAND, 2, &cmd) ||
	    pci_cfg_write(d, PCI_COMMAND, 2,
			  cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return -EIO;
	return 0;
}

static int vvu_check_queues(struct vvu *v)
{
	const struct vvu_region *c = &v->l.devcfg;
	uint64_t max = 0;

	pci_bar_read(v->pci, c->bar,
		     c->off + offsetof(struct vvu_config, max_vhost_queues), 4, &max);
	if (v->nqueues > max || v->nqueues > VVU_MAX_VHOST_QUEUES) {
		pr_err("%s: %u queues asked for, the device carries %llu",
		       v->pci->name, v->nqueues, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

static int vvu_map(struct vvu *v)
{
	/* Only the part the capability describes is the sibling's memory. */
	v->shm_size = v->l.shm.len;
	v->dma = v->pci->ops->dma_alloc(v->pci, VVU_DMA_SIZE, &v->dma_iova);
	if (!v->dma) {
		pr_err("%s: cannot get %llu bytes of DMA memory: %m",
		       v->pci->name, (unsigned long long)VVU_DMA_SIZE);
		return -ENOMEM;
	}
	return 0;
}

static int vvu_events(struct vvu *v)
{
	for (unsigned int i = 0; i < v->nqueues; i++) {
		v->rekick[i] = (struct vvu_rekick){ .v = v, .qidx = i };
		v->rekick[i].ev = event_new(v->pci->base, -1, 0, vvu_on_rekick,
					    &v->rekick[i]);
		if (!v->rekick[i].ev)
			return -ENOMEM;
	}
	return v->pci->ops->msix_enable(v->pci, VVU_VEC_KICK(v->nqueues),
					vvu_on_irq, v);
}

int vvu_open(struct vvu *v, struct pci_dev *pci, struct vu_backend *vb,
	     unsigned int nqueues)
{
	int ret;

	*v = (struct vvu){ .pci = pci, .vb = vb, .nqueues = nqueues };
	ret = vvu_check_id(pci);
	if (!ret)
		ret = vvu_enable_device(pci);
	if (!ret)
		ret = vvu_find_layout(pci, &v->l);
	if (!ret)
		ret = vvu_check_queues(v);
	if (!ret)
		ret = vvu_map(v);
	if (!ret)
		ret = vvu_events(v);
	if (!ret)
		ret = vvu_dev_start(v);
	if (ret)
		vvu_close(v);
	return ret;
}

void vvu_close(struct vvu *v)
{
	if (!v->pci)
		return;
	if (v->l.common.found)
		vvu_dev_reset(v);
	for (unsigned int i = 0; i < v->nqueues; i++)
		if (v->rekick[i].ev)
			event_free(v->rekick[i].ev);
	vring_drv_destroy(&v->rx);
	vring_drv_destroy(&v->tx);
	v->pci = NULL;
}
