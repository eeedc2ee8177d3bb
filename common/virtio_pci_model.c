// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci modern register model: the common configuration state
 * machine, the ISR and the device configuration window. See
 * virtio_pci_model.h for what the embedder does around it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "common/virtio_pci_model.h"

#define CFG_FIELD(f)		offsetof(struct virtio_pci_common_cfg, f)

/* --- helpers ------------------------------------------------------------- */

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi32(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

static void set_lo(uint64_t *v, uint32_t val)
{
	*v = (*v & ~0xffffffffull) | val;
}

static void set_hi(uint64_t *v, uint32_t val)
{
	*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
}

static bool power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

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

static struct virtio_pci_model_queue *selected_queue(struct virtio_pci_model *m)
{
	if (m->queue_select >= m->num_queues)
		return NULL;
	return &m->queues[m->queue_select];
}

/* --- MSI-X vectors ------------------------------------------------------- */

/*
 * The spec lets the device refuse a vector by reading back NO_VECTOR;
 * the embedder hears of every change, to rebind what fires the vector.
 */
static void vector_write(struct virtio_pci_model *m, int q, uint16_t *vector,
			 uint32_t val)
{
	uint16_t v = val < m->num_vectors ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;

	if (v == *vector)
		return;
	*vector = v;
	if (m->ops->vector_changed)
		m->ops->vector_changed(m, q, v);
}

/* --- queues -------------------------------------------------------------- */

static void queue_enable(struct virtio_pci_model *m,
			 struct virtio_pci_model_queue *q, unsigned int idx)
{
	if (!power_of_two(q->size) || q->size > q->max_size) {
		pr_warn_limited("%s: queue %u not enabled: size %u not a power of two up to %u",
				m->name, idx, q->size, q->max_size);
	} else if (!m->ops->queue_enable || m->ops->queue_enable(m, idx)) {
		q->enabled = true;
		return;
	}
	/* Drivers do not read queue_enable back (Linux does not): say it so. */
	virtio_pci_model_needs_reset(m);
}

static uint32_t queue_read(struct virtio_pci_model *m, uint64_t off)
{
	struct virtio_pci_model_queue *q = selected_queue(m);

	if (!q)
		return 0;	/* size 0 tells the driver the queue is absent */
	switch (off) {
	case CFG_FIELD(queue_size):		return q->size;
	case CFG_FIELD(queue_msix_vector):	return q->msix_vector;
	case CFG_FIELD(queue_enable):		return q->enabled;
	case CFG_FIELD(queue_notify_off):
		return virtio_pci_model_notify_off(m->queue_select);
	case CFG_FIELD(queue_desc_lo):		return lo32(q->desc);
	case CFG_FIELD(queue_desc_hi):		return hi32(q->desc);
	case CFG_FIELD(queue_driver_lo):	return lo32(q->avail);
	case CFG_FIELD(queue_driver_hi):	return hi32(q->avail);
	case CFG_FIELD(queue_device_lo):	return lo32(q->used);
	case CFG_FIELD(queue_device_hi):	return hi32(q->used);
	}
	return 0;
}

static void queue_write(struct virtio_pci_model *m, uint64_t off, uint32_t val)
{
	struct virtio_pci_model_queue *q = selected_queue(m);

	if (!q)
		return;
	if (off == CFG_FIELD(queue_msix_vector)) {
		vector_write(m, m->queue_select, &q->msix_vector, val);
		return;
	}
	/* The driver must not touch an enabled queue's layout (4.1.4.3.2). */
	if (q->enabled)
		return;
	switch (off) {
	case CFG_FIELD(queue_size):	q->size = (uint16_t)val; break;
	case CFG_FIELD(queue_enable):
		if (val == 1)
			queue_enable(m, q, m->queue_select);
		break;
	case CFG_FIELD(queue_desc_lo):	set_lo(&q->desc, val); break;
	case CFG_FIELD(queue_desc_hi):	set_hi(&q->desc, val); break;
	case CFG_FIELD(queue_driver_lo): set_lo(&q->avail, val); break;
	case CFG_FIELD(queue_driver_hi): set_hi(&q->avail, val); break;
	case CFG_FIELD(queue_device_lo): set_lo(&q->used, val); break;
	case CFG_FIELD(queue_device_hi): set_hi(&q->used, val); break;
	}
}

static void queues_reset(struct virtio_pci_model *m)
{
	for (unsigned int i = 0; i < m->num_queues; i++) {
		struct virtio_pci_model_queue *q = &m->queues[i];

		q->size = q->max_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		q->enabled = false;
		q->desc = q->avail = q->used = 0;
	}
}

/* --- device status ------------------------------------------------------- */

/* Stops the device if it was started; was it? */
static bool device_stop(struct virtio_pci_model *m)
{
	if (!virtio_pci_model_driver_ok(m))
		return false;
	if (m->ops->stop)
		m->ops->stop(m);
	return true;
}

static bool features_ok(struct virtio_pci_model *m)
{
	uint64_t unoffered = m->driver_features & ~m->device_features;

	if (unoffered) {
		pr_warn_limited("%s: driver accepted unoffered features 0x%llx",
				m->name, (unsigned long long)unoffered);
		return false;
	}
	if (!(m->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		pr_warn_limited("%s: driver did not accept VERSION_1", m->name);
		return false;
	}
	return !m->ops->features_ok || m->ops->features_ok(m);
}

/* DRIVER_OK only follows FEATURES_OK, and not while a reset is due. */
static bool driver_ok_allowed(struct virtio_pci_model *m, uint8_t status)
{
	if (status & VIRTIO_CONFIG_S_NEEDS_RESET) {
		pr_warn_limited("%s: DRIVER_OK before the reset the device needs",
				m->name);
		return false;
	}
	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		pr_warn_limited("%s: DRIVER_OK without FEATURES_OK", m->name);
		return false;
	}
	return true;
}

static void status_write(struct virtio_pci_model *m, uint8_t val)
{
	uint8_t added = val & ~m->status;

	if (val == 0) {
		virtio_pci_model_reset(m);
		return;
	}
	/* Bits only go away through a reset (or virtio_pci_model_stop). */
	val |= m->status;
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_ok(m))
		val &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !driver_ok_allowed(m, val)) {
		val &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
		added &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	m->status = val;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && m->ops->start &&
	    m->ops->start(m))
		virtio_pci_model_needs_reset(m);
}

/* --- common configuration ------------------------------------------------ */

/* 32 feature bits at a time; only 64 exist, higher windows read 0. */
static uint32_t feature_window(uint64_t features, uint32_t select)
{
	if (select > 1)
		return 0;
	return select ? hi32(features) : lo32(features);
}

static uint32_t common_read(struct virtio_pci_model *m, uint64_t off)
{
	switch (off) {
	case CFG_FIELD(device_feature_select):
		return m->device_feature_select;
	case CFG_FIELD(device_feature):
		return feature_window(m->device_features, m->device_feature_select);
	case CFG_FIELD(driver_feature_select):
		return m->driver_feature_select;
	case CFG_FIELD(driver_feature):
		return feature_window(m->driver_features, m->driver_feature_select);
	case CFG_FIELD(config_msix_vector):
		return m->config_vector;
	case CFG_FIELD(num_queues):
		return m->num_queues;
	case CFG_FIELD(device_status):
		return m->status;
	case CFG_FIELD(config_generation):
		return m->config_generation;
	case CFG_FIELD(queue_select):
		return m->queue_select;
	}
	return queue_read(m, off);
}

static void driver_feature_write(struct virtio_pci_model *m, uint32_t val)
{
	/* Frozen once FEATURES_OK is set (3.1.1). */
	if (m->driver_feature_select > 1 ||
	    (m->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	if (m->driver_feature_select)
		set_hi(&m->driver_features, val);
	else
		set_lo(&m->driver_features, val);
}

static void common_write(struct virtio_pci_model *m, uint64_t off, uint32_t val)
{
	switch (off) {
	case CFG_FIELD(device_feature_select):
		m->device_feature_select = val;
		return;
	case CFG_FIELD(driver_feature_select):
		m->driver_feature_select = val;
		return;
	case CFG_FIELD(driver_feature):
		driver_feature_write(m, val);
		return;
	case CFG_FIELD(config_msix_vector):
		vector_write(m, VIRTIO_PCI_MODEL_CONFIG, &m->config_vector, val);
		return;
	case CFG_FIELD(device_status):
		status_write(m, (uint8_t)val);
		return;
	case CFG_FIELD(queue_select):
		m->queue_select = (uint16_t)val;
		return;
	case CFG_FIELD(device_feature):
	case CFG_FIELD(num_queues):
	case CFG_FIELD(config_generation):
	case CFG_FIELD(queue_notify_off):
		return;		/* read-only */
	}
	queue_write(m, off, val);
}

/* Only natural-width accesses to a whole field count (4.1.3.1). */
void virtio_pci_model_common_read(struct virtio_pci_model *m, uint64_t off,
				  void *data, uint32_t len)
{
	uint32_t val;

	memset(data, 0, len);
	if (len != common_field_width(off))
		return;
	val = common_read(m, off);
	memcpy(data, &val, len);
}

void virtio_pci_model_common_write(struct virtio_pci_model *m, uint64_t off,
				   const void *data, uint32_t len)
{
	uint32_t val = 0;

	if (len != common_field_width(off))
		return;
	memcpy(&val, data, len);
	common_write(m, off, val);
}

/* --- ISR and device configuration ---------------------------------------- */

void virtio_pci_model_isr_read(struct virtio_pci_model *m, uint64_t off,
			       void *data, uint32_t len)
{
	memset(data, 0, len);
	if (off == 0 && len) {
		*(uint8_t *)data = m->isr;
		m->isr = 0;
	}
}

static bool config_inside(const struct virtio_pci_model *m, uint64_t off,
			  uint32_t len)
{
	return off < m->config_size && len <= m->config_size - off;
}

void virtio_pci_model_config_read(struct virtio_pci_model *m, uint64_t off,
				  void *data, uint32_t len)
{
	memset(data, 0, len);
	if (config_inside(m, off, len) && m->ops->config_read)
		m->ops->config_read(m, (uint32_t)off, data, len);
}

void virtio_pci_model_config_write(struct virtio_pci_model *m, uint64_t off,
				   const void *data, uint32_t len)
{
	if (config_inside(m, off, len) && m->ops->config_write)
		m->ops->config_write(m, (uint32_t)off, data, len);
}

bool virtio_pci_model_bar_access(struct virtio_pci_model *m, uint64_t offset,
				 void *data, uint32_t len, bool is_write)
{
	uint64_t region = offset & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1);
	uint64_t off = offset - region;

	switch (region) {
	case VIRTIO_PCI_COMMON_OFF:
		if (is_write)
			virtio_pci_model_common_write(m, off, data, len);
		else
			virtio_pci_model_common_read(m, off, data, len);
		return true;
	case VIRTIO_PCI_ISR_OFF:
		if (!is_write)
			virtio_pci_model_isr_read(m, off, data, len);
		return true;
	case VIRTIO_PCI_DEVCFG_OFF:
		if (is_write)
			virtio_pci_model_config_write(m, off, data, len);
		else
			virtio_pci_model_config_read(m, off, data, len);
		return true;
	}
	return false;
}

void virtio_pci_model_config_changed(struct virtio_pci_model *m)
{
	m->config_generation++;
	m->isr |= VIRTIO_PCI_ISR_CONFIG;
	if (m->config_vector != VIRTIO_MSI_NO_VECTOR && m->ops->config_irq)
		m->ops->config_irq(m, m->config_vector);
}

/* --- whole device -------------------------------------------------------- */

void virtio_pci_model_needs_reset(struct virtio_pci_model *m)
{
	m->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (virtio_pci_model_driver_ok(m))
		virtio_pci_model_config_changed(m);
}

/* Everything the driver can change, back to its initial value. */
static void state_reset(struct virtio_pci_model *m)
{
	m->status = 0;
	m->driver_features = 0;
	m->device_feature_select = 0;
	m->driver_feature_select = 0;
	m->config_vector = VIRTIO_MSI_NO_VECTOR;
	m->queue_select = 0;
	m->isr = 0;
	queues_reset(m);
}

void virtio_pci_model_reset(struct virtio_pci_model *m)
{
	device_stop(m);
	state_reset(m);
	if (m->ops->reset)
		m->ops->reset(m);
}

bool virtio_pci_model_stop(struct virtio_pci_model *m)
{
	if (!device_stop(m))
		return false;
	m->status &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	m->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	return true;
}

static bool params_valid(const struct virtio_pci_model_params *p)
{
	return p->ops && p->config_size <= VIRTIO_PCI_REGION_SIZE &&
	       p->num_queues >= 1 &&
	       p->num_queues <= VIRTIO_PCI_MODEL_MAX_QUEUES &&
	       power_of_two(p->queue_max_size) &&
	       p->queue_max_size <= VIRTQ_MAX_SIZE &&
	       p->num_vectors <= VIRTIO_MSI_NO_VECTOR;
}

int virtio_pci_model_init(struct virtio_pci_model *m,
			  const struct virtio_pci_model_params *p)
{
	memset(m, 0, sizeof(*m));
	if (!params_valid(p))
		return -EINVAL;
	m->name = p->name;
	m->ops = p->ops;
	m->config_size = p->config_size;
	m->num_queues = p->num_queues;
	m->num_vectors = p->num_vectors;
	m->device_features = p->features | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	for (unsigned int i = 0; i < m->num_queues; i++)
		m->queues[i].max_size = p->queue_max_size;
	state_reset(m);		/* no ops yet: the embedder is still setting up */
	return 0;
}
