// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registers of the vvu-proxy device: BAR0's virtio-pci structures
 * through common/virtio_pci_model (the same model the vmm's devices use),
 * BAR2's notification configuration, and the vendor capabilities in
 * config space. Interrupts and the driver's doorbells are eventfds of
 * proxyd's that the vmm binds as irqfds and ioeventfds, so neither a kick
 * nor an interrupt crosses an access channel once they are bound.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "vvu-proxyd/proxyd.h"

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MASTER	0x4

static struct proxy *model_proxy(struct virtio_pci_model *m)
{
	return (struct proxy *)((char *)m - offsetof(struct proxy, dev.model));
}

static void signal_fd(int fd)
{
	/* Non-blocking: a counter near its limit already means "pending". */
	if (fd >= 0 && eventfd_write(fd, 1) < 0 && errno != EAGAIN)
		pr_warn_limited("cannot signal an interrupt eventfd: %m");
}

/* --- interrupts: the driver's vectors ------------------------------------- */

/* irq i (config, rxq, txq) now raises vector, or nothing. */
static void irq_rebind(struct proxy *p, unsigned int i, uint16_t vector)
{
	struct proxy_dev *d = &p->dev;

	if (d->irq_bound[i])
		p->host->irqfd_del(p, PROXY_IRQFD_CONFIG + i);
	d->irq_bound[i] = vector != VIRTIO_MSI_NO_VECTOR;
	if (d->irq_bound[i])
		p->host->irqfd_add(p, PROXY_IRQFD_CONFIG + i, vector, d->irq_fd[i]);
}

static void irqs_unbind(struct proxy *p)
{
	for (unsigned int i = 0; i < PROXY_NUM_DRIVER_IRQS; i++)
		irq_rebind(p, i, VIRTIO_MSI_NO_VECTOR);
}

void proxy_dev_queue_irq(struct proxy *p, unsigned int qi)
{
	p->dev.model.isr |= VIRTIO_PCI_ISR_QUEUE;
	signal_fd(p->dev.irq_fd[PROXY_IRQFD_QUEUE(qi)]);
}

/* --- model hooks ---------------------------------------------------------- */

static bool op_queue_enable(struct virtio_pci_model *m, unsigned int q)
{
	return queues_enable(model_proxy(m), q);
}

static int op_start(struct virtio_pci_model *m)
{
	struct proxy *p = model_proxy(m);

	queues_start(p);
	sibling_enable(p, true);
	return 0;
}

/*
 * Queues first: the driver is resetting (or lost bus mastering), so the
 * sibling goes without a marker in its rings or a config interrupt.
 */
static void op_stop(struct virtio_pci_model *m)
{
	struct proxy *p = model_proxy(m);

	queues_stop(p);
	sibling_enable(p, false);
}

static void notifications_reset(struct proxy_dev *d)
{
	d->notif_select = 0;
	for (unsigned int i = 0; i < VVU_MAX_VHOST_QUEUES; i++)
		d->notif_vector[i] = VIRTIO_MSI_NO_VECTOR;
}

/* After a device reset: vectors are gone without vector_changed calls. */
static void op_reset(struct virtio_pci_model *m)
{
	struct proxy *p = model_proxy(m);

	queues_stop(p);
	sibling_enable(p, false);
	irqs_unbind(p);
	notifications_reset(&p->dev);
}

static void op_vector_changed(struct virtio_pci_model *m, int q,
			      uint16_t vector)
{
	unsigned int i = q == VIRTIO_PCI_MODEL_CONFIG ? PROXY_IRQFD_CONFIG
						       : PROXY_IRQFD_QUEUE(q);

	irq_rebind(model_proxy(m), i, vector);
}

static void op_config_read(struct virtio_pci_model *m, uint32_t off,
			   void *buf, uint32_t len)
{
	memcpy(buf, (uint8_t *)&model_proxy(m)->dev.config + off, len);
}

static void op_config_irq(struct virtio_pci_model *m, uint16_t vector)
{
	(void)vector;	/* the irqfd is bound to it */
	signal_fd(model_proxy(m)->dev.irq_fd[PROXY_IRQFD_CONFIG]);
}

static const struct virtio_pci_model_ops proxy_model_ops = {
	.queue_enable = op_queue_enable,
	.start = op_start,
	.stop = op_stop,
	.reset = op_reset,
	.vector_changed = op_vector_changed,
	.config_read = op_config_read,
	.config_irq = op_config_irq,
};

/* --- BAR2: doorbells and notification configuration ----------------------- */

static uint64_t notification_read(struct proxy_dev *d, uint64_t off,
				  uint8_t size)
{
	uint16_t sel = d->notif_select;

	if (size != 2)
		return 0;
	if (off == offsetof(struct vvu_notification_cfg, notification_select))
		return sel;
	if (off == offsetof(struct vvu_notification_cfg, notification_msix_vector))
		return sel < VVU_MAX_VHOST_QUEUES ? d->notif_vector[sel]
						  : VIRTIO_MSI_NO_VECTOR;
	return 0;
}

static void notification_write(struct proxy *p, uint64_t off, uint8_t size,
			       uint64_t val)
{
	struct proxy_dev *d = &p->dev;
	uint16_t sel = d->notif_select, v;

	if (size != 2)
		return;
	if (off == offsetof(struct vvu_notification_cfg, notification_select)) {
		d->notif_select = (uint16_t)val;
		return;
	}
	if (off != offsetof(struct vvu_notification_cfg, notification_msix_vector) ||
	    sel >= VVU_MAX_VHOST_QUEUES)
		return;
	/* As for virtio's own vectors: one out of range reads back as none. */
	v = val < d->model.num_vectors ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
	if (v == d->notif_vector[sel])
		return;
	d->notif_vector[sel] = v;
	sibling_vector_changed(p, sel);
}

static uint64_t bar2_access(struct proxy *p, const struct devchan_access *a)
{
	uint64_t off;

	/*
	 * A doorbell write reaches us only while no call eventfd is bound
	 * there: nobody is listening, so it is dropped (reads give 0).
	 */
	if (a->offset < VVU_NOTIFICATION_OFFSET)
		return 0;
	off = a->offset - VVU_NOTIFICATION_OFFSET;
	if (!a->write)
		return notification_read(&p->dev, off, a->size);
	notification_write(p, off, a->size, a->data);
	return 0;
}

/* --- BAR0: the virtio-pci structures -------------------------------------- */

static void notify_write(struct proxy *p, uint64_t off)
{
	uint64_t q = virtio_pci_model_doorbell_queue(off);

	/* Before the vmm bound the ioeventfd, a doorbell comes this way. */
	if (q < VVU_NUM_QUEUES && !(off % VIRTIO_PCI_NOTIFY_MULT))
		queues_kick(p, (unsigned int)q);
}

static uint64_t bar0_access(struct proxy *p, const struct devchan_access *a)
{
	uint64_t region = a->offset & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
	uint64_t val = a->data;

	if (region == VIRTIO_PCI_NOTIFY_OFF) {
		if (a->write)
			notify_write(p, a->offset - region);
		return 0;
	}
	/* The device configuration is read-only: the model has no writer. */
	if (!virtio_pci_model_bar_access(&p->dev.model, a->offset, &val, a->size, a->write))
		return 0;
	return a->write ? 0 : val;
}

/* --- config space: vendor capabilities, the Command register --------------- */

static void command_write(struct proxy *p, uint64_t val)
{
	bool master = val & PCI_COMMAND_MASTER;

	if (master == p->dev.bus_master)
		return;
	p->dev.bus_master = master;
	/* Without bus mastering the rings may no longer be touched. */
	if (!master && virtio_pci_model_stop(&p->dev.model))
		pr_info("bus mastering off: the device stops until a reset");
}

static uint64_t config_access(struct proxy *p, const struct devchan_access *a)
{
	const struct devchan_device *d = &p->dev.desc;
	uint64_t val = 0;

	if (a->write) {
		/* Capabilities are read-only; the vmm forwards Command changes. */
		if (a->offset == PCI_COMMAND && a->size == 2)
			command_write(p, a->data);
		return 0;
	}
	if (a->offset >= DEVCHAN_CAPS_START &&
	    a->offset - DEVCHAN_CAPS_START + a->size <= d->caps_len)
		memcpy(&val, d->caps + a->offset - DEVCHAN_CAPS_START, a->size);
	return val;
}

uint64_t proxy_access(struct proxy *p, const struct devchan_access *a)
{
	switch (a->region) {
	case VIRTIO_PCI_BAR:
		return bar0_access(p, a);
	case VVU_BAR2:
		return bar2_access(p, a);
	case DEVCHAN_REGION_CONFIG:
		return config_access(p, a);
	}
	return 0;
}

/* --- setup ---------------------------------------------------------------- */

static void on_kick(int fd, void *arg)
{
	struct proxy_kick_watch *w = arg;
	eventfd_t n;

	/* Drain it; the ring says what there is to do. */
	if (eventfd_read(fd, &n) < 0 && errno != EAGAIN)
		pr_warn_limited("queue %u: cannot read its doorbell: %m", w->q);
	queues_kick(w->p, w->q);
}

void proxy_dev_bind_kicks(struct proxy *p)
{
	for (unsigned int q = 0; q < VVU_NUM_QUEUES; q++) {
		struct proxy_kick_watch *w = &p->dev.kick_watch[q];
		struct devchan_ioeventfd_add add = {
			.id = PROXY_IOEVENTFD_QUEUE(q),
			.bar = VIRTIO_PCI_BAR,
			.len = 0,	/* a write of any size */
			.offset = VIRTIO_PCI_NOTIFY_OFF +
				  virtio_pci_model_doorbell_offset(q),
		};

		w->p = p;
		w->q = q;
		if (p->base && !w->ev)
			w->ev = evloop_watch_fd(p->base, p->dev.kick_fd[q], on_kick, w);
		p->host->ioeventfd_add(p, &add, p->dev.kick_fd[q]);
	}
}

void proxy_dev_reset(struct proxy *p)
{
	virtio_pci_model_reset(&p->dev.model);
	p->dev.bus_master = false;
}

void proxy_dev_set_status(struct proxy *p, uint32_t bits, bool on)
{
	uint32_t old = p->dev.config.status;

	p->dev.config.status = on ? old | bits : old & ~bits;
	if (p->dev.config.status != old)
		virtio_pci_model_config_changed(&p->dev.model);
}

static int eventfds_open(struct proxy_dev *d)
{
	for (unsigned int i = 0; i < PROXY_NUM_DRIVER_IRQS; i++) {
		d->irq_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->irq_fd[i] < 0)
			return -errno;
	}
	for (unsigned int q = 0; q < VVU_NUM_QUEUES; q++) {
		d->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick_fd[q] < 0)
			return -errno;
	}
	return 0;
}

int proxy_dev_init(struct proxy *p, uint64_t shm_size, const uint8_t uuid[16])
{
	struct proxy_dev *d = &p->dev;
	struct virtio_pci_model_params params = {
		.name = "vvu-proxy",
		.config_size = sizeof(struct vvu_config),
		.num_queues = VVU_NUM_QUEUES,
		.queue_max_size = PROXY_QUEUE_MAX_SIZE,
		.num_vectors = VVU_MSIX_VECTORS,
		.ops = &proxy_model_ops,
	};
	int r;

	memset(d, 0, sizeof(*d));
	memset(d->irq_fd, -1, sizeof(d->irq_fd));
	memset(d->kick_fd, -1, sizeof(d->kick_fd));
	d->shm_size = shm_size;
	d->config.max_vhost_queues = VVU_MAX_VHOST_QUEUES;
	memcpy(d->config.uuid, uuid, sizeof(d->config.uuid));
	notifications_reset(d);
	proxy_device_describe(&d->desc, shm_size);
	r = virtio_pci_model_init(&d->model, &params);
	return r ? r : eventfds_open(d);
}

void proxy_dev_destroy(struct proxy *p)
{
	for (unsigned int i = 0; i < PROXY_NUM_DRIVER_IRQS; i++)
		if (p->dev.irq_fd[i] >= 0)
			close(p->dev.irq_fd[i]);
	for (unsigned int q = 0; q < VVU_NUM_QUEUES; q++) {
		evloop_unwatch(&p->dev.kick_watch[q].ev);
		if (p->dev.kick_fd[q] >= 0)
			close(p->dev.kick_fd[q]);
	}
	memset(p->dev.irq_fd, -1, sizeof(p->dev.irq_fd));
	memset(p->dev.kick_fd, -1, sizeof(p->dev.kick_fd));
}
