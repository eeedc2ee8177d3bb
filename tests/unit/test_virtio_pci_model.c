// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-pci register model with the test as both the driver (register
 * accesses) and the embedder (ops that count what they are told).
 */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/virtio_pci_model.h"

#define NQ		2
#define QMAX		64
#define NVEC		(NQ + 1)
#define DEV_FEATURES	(1ull << 9)
#define C(f)		offsetof(struct virtio_pci_common_cfg, f)

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

/* What the embedder was told, and what it answers. */
static struct {
	int queue_enables, starts, stops, resets, vector_changes, config_irqs;
	int config_reads, config_writes;
	unsigned int last_enable_q;
	int last_vector_q;
	uint16_t last_vector, last_irq_vector;
	bool refuse_queue, refuse_features;
	int start_ret;
} e;

static struct virtio_pci_model m;
static uint8_t devcfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static bool t_queue_enable(struct virtio_pci_model *mm, unsigned int q)
{
	(void)mm;
	e.queue_enables++;
	e.last_enable_q = q;
	return !e.refuse_queue;
}

static bool t_features_ok(struct virtio_pci_model *mm)
{
	(void)mm;
	return !e.refuse_features;
}

static int t_start(struct virtio_pci_model *mm)
{
	(void)mm;
	e.starts++;
	return e.start_ret;
}

static void t_stop(struct virtio_pci_model *mm)
{
	(void)mm;
	e.stops++;
}

static void t_reset(struct virtio_pci_model *mm)
{
	(void)mm;
	e.resets++;
}

static void t_vector_changed(struct virtio_pci_model *mm, int q, uint16_t vector)
{
	(void)mm;
	e.vector_changes++;
	e.last_vector_q = q;
	e.last_vector = vector;
}

static void t_config_read(struct virtio_pci_model *mm, uint32_t off, void *buf,
			  uint32_t len)
{
	(void)mm;
	e.config_reads++;
	memcpy(buf, devcfg + off, len);
}

static void t_config_write(struct virtio_pci_model *mm, uint32_t off,
			   const void *buf, uint32_t len)
{
	(void)mm;
	e.config_writes++;
	memcpy(devcfg + off, buf, len);
}

static void t_config_irq(struct virtio_pci_model *mm, uint16_t vector)
{
	(void)mm;
	e.config_irqs++;
	e.last_irq_vector = vector;
}

static const struct virtio_pci_model_ops t_ops = {
	.queue_enable = t_queue_enable,
	.features_ok = t_features_ok,
	.start = t_start,
	.stop = t_stop,
	.reset = t_reset,
	.vector_changed = t_vector_changed,
	.config_read = t_config_read,
	.config_write = t_config_write,
	.config_irq = t_config_irq,
};

static const struct virtio_pci_model_params params = {
	.name = "test", .features = DEV_FEATURES, .config_size = sizeof(devcfg),
	.num_queues = NQ, .queue_max_size = QMAX, .num_vectors = NVEC,
	.ops = &t_ops,
};

static void setup(void)
{
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(virtio_pci_model_init(&m, &params), 0);
}

static uint32_t rd(uint64_t off, uint32_t len)
{
	uint32_t v = 0xdeadbeef;

	virtio_pci_model_common_read(&m, off, &v, len);
	/* A read fills exactly len bytes. */
	if (len < 4)
		ck_assert_uint_eq(v >> (8 * len), 0xdeadbeef >> (8 * len));
	return len < 4 ? v & ((1u << (8 * len)) - 1) : v;
}

static void wr(uint64_t off, uint32_t len, uint32_t v)
{
	virtio_pci_model_common_write(&m, off, &v, len);
}

static uint64_t rd64(uint64_t off)
{
	return rd(off, 4) | (uint64_t)rd(off + 4, 4) << 32;
}

/* The selected queue's registers read as want says. */
static void assert_selected_queue(const struct virtio_pci_model_queue *want)
{
	ck_assert_uint_eq(rd(C(queue_size), 2), want->size);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), want->msix_vector);
	ck_assert_uint_eq(rd(C(queue_enable), 2), want->enabled);
	ck_assert_uint_eq(rd64(C(queue_desc_lo)), want->desc);
	ck_assert_uint_eq(rd64(C(queue_driver_lo)), want->avail);
	ck_assert_uint_eq(rd64(C(queue_device_lo)), want->used);
}

static uint8_t status(void)
{
	return (uint8_t)rd(C(device_status), 1);
}

/* The driver's side of feature negotiation: features, then FEATURES_OK. */
static void negotiate(uint64_t features)
{
	wr(C(device_status), 1, S_ACK | S_DRIVER);
	wr(C(driver_feature_select), 4, 0);
	wr(C(driver_feature), 4, (uint32_t)features);
	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, (uint32_t)(features >> 32));
	wr(C(device_status), 1, S_ACK | S_DRIVER | S_FEATURES_OK);
}

static const uint64_t version_1 = VIRTIO_BIT(VIRTIO_F_VERSION_1);

static void driver_ok(void)
{
	negotiate(version_1 | DEV_FEATURES);
	wr(C(device_status), 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* Queue q set up as a driver does, ending with queue_enable = 1. */
static void setup_queue(uint16_t q, uint16_t size)
{
	wr(C(queue_select), 2, q);
	wr(C(queue_size), 2, size);
	wr(C(queue_desc_lo), 4, 0x10000);
	wr(C(queue_desc_hi), 4, 0x1);
	wr(C(queue_driver_lo), 4, 0x20000);
	wr(C(queue_device_lo), 4, 0x30000);
	wr(C(queue_enable), 2, 1);
}

/* params with one field changed. */
#define PARAMS_WITH(field, value) \
	({ struct virtio_pci_model_params p_ = params; p_.field = value; p_; })

START_TEST(test_init_rejects_bad_params)
{
	const struct virtio_pci_model_params bad[] = {
		PARAMS_WITH(num_queues, 0),
		PARAMS_WITH(num_queues, VIRTIO_PCI_MODEL_MAX_QUEUES + 1),
		PARAMS_WITH(queue_max_size, 48),
		PARAMS_WITH(queue_max_size, 0),
		PARAMS_WITH(config_size, VIRTIO_PCI_REGION_SIZE + 1),
		PARAMS_WITH(num_vectors, VIRTIO_MSI_NO_VECTOR + 1),
		PARAMS_WITH(ops, NULL),
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(virtio_pci_model_init(&m, &bad[i]), -EINVAL);
	/* Init tells the embedder nothing: it is still setting up. */
	ck_assert_int_eq(virtio_pci_model_init(&m, &params), 0);
	ck_assert_int_eq(e.resets, 0);
}
END_TEST

START_TEST(test_feature_windows)
{
	ck_assert_uint_eq(rd(C(num_queues), 2), NQ);
	ck_assert_uint_eq(rd(C(device_feature), 4), DEV_FEATURES);
	wr(C(device_feature_select), 4, 1);
	ck_assert_uint_eq(rd(C(device_feature_select), 4), 1);
	ck_assert_uint_eq(rd(C(device_feature), 4), 1);	/* VERSION_1, added */
	wr(C(device_feature_select), 4, 2);
	ck_assert_uint_eq(rd(C(device_feature), 4), 0);
	wr(C(device_feature), 4, 0xffffffff);			/* read-only */
	wr(C(device_feature_select), 4, 0);
	ck_assert_uint_eq(rd(C(device_feature), 4), DEV_FEATURES);

	wr(C(driver_feature_select), 4, 0);
	wr(C(driver_feature), 4, 0x11);
	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, 0x22);
	wr(C(driver_feature_select), 4, 2);
	wr(C(driver_feature), 4, 0x33);				/* ignored */
	ck_assert_uint_eq(rd(C(driver_feature), 4), 0);
	ck_assert_uint_eq(m.driver_features, 0x2200000011ull);
	wr(C(driver_feature_select), 4, 1);
	ck_assert_uint_eq(rd(C(driver_feature), 4), 0x22);
}
END_TEST

START_TEST(test_status_sequence)
{
	negotiate(version_1 | DEV_FEATURES);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER | S_FEATURES_OK);
	/* Frozen after FEATURES_OK (3.1.1). */
	wr(C(driver_feature_select), 4, 0);
	wr(C(driver_feature), 4, 0);
	ck_assert_uint_eq(m.driver_features, version_1 | DEV_FEATURES);
	ck_assert_int_eq(e.starts, 0);
	wr(C(device_status), 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	ck_assert_int_eq(e.starts, 1);
	ck_assert(virtio_pci_model_driver_ok(&m));
	/* Bits only go away through a reset. */
	wr(C(device_status), 1, S_ACK);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	ck_assert_int_eq(e.starts, 1);
}
END_TEST

START_TEST(test_features_ok_refused)
{
	/* A feature the device does not offer. */
	negotiate(version_1 | DEV_FEATURES | (1ull << 10));
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER);
	/* No VERSION_1. */
	negotiate(DEV_FEATURES);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER);
	/* The embedder says no. */
	e.refuse_features = true;
	negotiate(version_1);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER);
	e.refuse_features = false;
	negotiate(version_1);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER | S_FEATURES_OK);
}
END_TEST

START_TEST(test_driver_ok_refused)
{
	wr(C(device_status), 1, S_ACK | S_DRIVER | S_DRIVER_OK);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER);
	ck_assert_int_eq(e.starts, 0);
	/* Not while a reset is due either. */
	negotiate(version_1);
	virtio_pci_model_needs_reset(&m);
	wr(C(device_status), 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	ck_assert_uint_eq(status() & S_DRIVER_OK, 0);
	ck_assert_int_eq(e.starts, 0);
}
END_TEST

START_TEST(test_start_failure_needs_reset)
{
	wr(C(config_msix_vector), 2, 0);
	e.start_ret = -EIO;
	driver_ok();
	ck_assert_int_eq(e.starts, 1);
	ck_assert_uint_eq(status() & S_NEEDS_RESET, S_NEEDS_RESET);
	/* The driver hears of it through a configuration change. */
	ck_assert_int_eq(e.config_irqs, 1);
	ck_assert_uint_eq(e.last_irq_vector, 0);
	ck_assert_uint_eq(rd(C(config_generation), 1), 1);
}
END_TEST

START_TEST(test_reset_clears_everything)
{
	const struct virtio_pci_model_queue fresh = {
		.size = QMAX, .msix_vector = VIRTIO_MSI_NO_VECTOR,
	};

	wr(C(device_feature_select), 4, 1);
	wr(C(config_msix_vector), 2, 1);
	setup_queue(1, 16);
	wr(C(queue_msix_vector), 2, 2);
	driver_ok();
	virtio_pci_model_config_changed(&m);
	ck_assert_uint_eq(m.isr, VIRTIO_PCI_ISR_CONFIG);

	wr(C(device_status), 1, 0);
	ck_assert_int_eq(e.stops, 1);		/* it was started */
	ck_assert_int_eq(e.resets, 1);
	ck_assert_uint_eq(status(), 0);
	ck_assert_uint_eq(m.driver_features, 0);
	ck_assert_uint_eq(rd(C(device_feature_select), 4), 0);
	ck_assert_uint_eq(rd(C(driver_feature_select), 4), 0);
	ck_assert_uint_eq(rd(C(config_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(rd(C(queue_select), 2), 0);
	ck_assert_uint_eq(m.isr, 0);
	for (uint16_t q = 0; q < NQ; q++) {
		wr(C(queue_select), 2, q);
		assert_selected_queue(&fresh);
	}
	/* A device that was not started is not stopped again. */
	wr(C(device_status), 1, 0);
	ck_assert_int_eq(e.stops, 1);
	ck_assert_int_eq(e.resets, 2);
}
END_TEST

START_TEST(test_queue_select_out_of_range)
{
	const struct virtio_pci_model_queue absent = { 0 };

	setup_queue(0, 16);
	wr(C(queue_select), 2, NQ);
	ck_assert_uint_eq(rd(C(queue_select), 2), NQ);
	/* All zeros: size 0 tells the driver the queue is absent. */
	assert_selected_queue(&absent);
	ck_assert_uint_eq(rd(C(queue_notify_off), 2), 0);
	/* Writes go nowhere. */
	e.queue_enables = e.vector_changes = 0;
	wr(C(queue_size), 2, 8);
	wr(C(queue_msix_vector), 2, 1);
	wr(C(queue_desc_lo), 4, 0x50000);
	wr(C(queue_enable), 2, 1);
	ck_assert_uint_eq(rd(C(queue_size), 2), 0);
	ck_assert_int_eq(e.queue_enables, 0);
	ck_assert_int_eq(e.vector_changes, 0);
	ck_assert_uint_eq(status() & S_NEEDS_RESET, 0);
	for (unsigned int q = 0; q < NQ; q++) {
		ck_assert_uint_ne(m.queues[q].size, 8);
		ck_assert_uint_eq(m.queues[q].msix_vector, VIRTIO_MSI_NO_VECTOR);
	}
	ck_assert_uint_eq(m.queues[0].desc, 0x100010000ull);
	ck_assert(m.queues[0].enabled);
	ck_assert(!m.queues[1].enabled);
}
END_TEST

START_TEST(test_queue_size_checked)
{
	static const uint16_t bad[] = { 0, 12, QMAX * 2 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wr(C(device_status), 1, 0);
		setup_queue(1, bad[i]);
		ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
		ck_assert_uint_eq(status() & S_NEEDS_RESET, S_NEEDS_RESET);
		/* The embedder is not asked about a queue the model refused. */
		ck_assert_int_eq(e.queue_enables, 0);
	}
	wr(C(device_status), 1, 0);
	setup_queue(1, QMAX);
	ck_assert_uint_eq(rd(C(queue_enable), 2), 1);
	ck_assert_int_eq(e.queue_enables, 1);
	ck_assert_uint_eq(e.last_enable_q, 1);
	ck_assert_uint_eq(status() & S_NEEDS_RESET, 0);
	ck_assert_uint_eq(rd(C(queue_desc_lo), 4), 0x10000);
	ck_assert_uint_eq(rd(C(queue_desc_hi), 4), 0x1);
	ck_assert_uint_eq(rd(C(queue_driver_lo), 4), 0x20000);
	ck_assert_uint_eq(rd(C(queue_device_lo), 4), 0x30000);
	/* An enabled queue's layout is frozen (4.1.4.3.2). */
	wr(C(queue_size), 2, 16);
	wr(C(queue_desc_lo), 4, 0x40000);
	ck_assert_uint_eq(rd(C(queue_size), 2), QMAX);
	ck_assert_uint_eq(rd(C(queue_desc_lo), 4), 0x10000);
}
END_TEST

START_TEST(test_queue_enable_refused_by_embedder)
{
	e.refuse_queue = true;
	setup_queue(1, 16);
	ck_assert_int_eq(e.queue_enables, 1);
	ck_assert_uint_eq(e.last_enable_q, 1);
	ck_assert_uint_eq(rd(C(queue_enable), 2), 0);
	ck_assert(!m.queues[1].enabled);
	ck_assert_uint_eq(status() & S_NEEDS_RESET, S_NEEDS_RESET);
	ck_assert_int_eq(e.config_irqs, 0);	/* the driver is not started */
}
END_TEST

START_TEST(test_wrong_widths_ignored)
{
	wr(C(device_feature_select), 2, 1);
	wr(C(device_feature_select) + 2, 2, 1);
	ck_assert_uint_eq(rd(C(device_feature_select), 4), 0);
	wr(C(queue_select), 4, 1);
	ck_assert_uint_eq(rd(C(queue_select), 2), 0);
	wr(C(queue_select), 1, 1);
	ck_assert_uint_eq(rd(C(queue_select), 2), 0);
	wr(C(device_status), 2, S_ACK);
	ck_assert_uint_eq(status(), 0);
	wr(C(config_msix_vector) + 1, 1, 0);
	ck_assert_uint_eq(rd(C(config_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	/* Reads of a part or of two fields read zeros. */
	ck_assert_uint_eq(rd(C(config_msix_vector), 1), 0);
	ck_assert_uint_eq(rd(C(config_msix_vector), 4), 0);
	ck_assert_uint_eq(rd(C(queue_size), 4), 0);
	ck_assert_uint_eq(rd(C(device_feature) + 1, 1), 0);
	ck_assert_uint_eq(rd(C(queue_desc_lo), 2), 0);
	/* Past the structure. */
	ck_assert_uint_eq(rd(sizeof(struct virtio_pci_common_cfg), 4), 0);
	wr(C(queue_select), 2, 1);
	ck_assert_uint_eq(rd(C(queue_select), 2), 1);
}
END_TEST

START_TEST(test_isr_read_clears)
{
	uint8_t isr[4];

	virtio_pci_model_isr_read(&m, 0, isr, 1);
	ck_assert_uint_eq(isr[0], 0);
	virtio_pci_model_config_changed(&m);
	/* Only offset 0 holds the ISR; elsewhere reads 0 and keeps it. */
	virtio_pci_model_isr_read(&m, 1, isr, 1);
	ck_assert_uint_eq(isr[0], 0);
	memset(isr, 0xff, sizeof(isr));
	virtio_pci_model_isr_read(&m, 0, isr, 4);
	ck_assert_uint_eq(isr[0], VIRTIO_PCI_ISR_CONFIG);
	ck_assert_uint_eq(isr[1] | isr[2] | isr[3], 0);
	virtio_pci_model_isr_read(&m, 0, isr, 1);
	ck_assert_uint_eq(isr[0], 0);
}
END_TEST

START_TEST(test_config_generation)
{
	ck_assert_uint_eq(rd(C(config_generation), 1), 0);
	virtio_pci_model_config_changed(&m);
	ck_assert_uint_eq(rd(C(config_generation), 1), 1);
	ck_assert_int_eq(e.config_irqs, 0);	/* no vector: nothing to fire */
	wr(C(config_generation), 1, 7);		/* read-only */
	ck_assert_uint_eq(rd(C(config_generation), 1), 1);
	wr(C(config_msix_vector), 2, 2);
	virtio_pci_model_config_changed(&m);
	ck_assert_uint_eq(rd(C(config_generation), 1), 2);
	ck_assert_int_eq(e.config_irqs, 1);
	ck_assert_uint_eq(e.last_irq_vector, 2);
}
END_TEST

START_TEST(test_msix_vectors)
{
	wr(C(queue_select), 2, 1);
	wr(C(queue_msix_vector), 2, NVEC - 1);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), NVEC - 1);
	ck_assert_int_eq(e.vector_changes, 1);
	ck_assert_int_eq(e.last_vector_q, 1);
	ck_assert_uint_eq(e.last_vector, NVEC - 1);
	/* The same vector again changes nothing. */
	wr(C(queue_msix_vector), 2, NVEC - 1);
	ck_assert_int_eq(e.vector_changes, 1);
	/* One beyond the table reads back NO_VECTOR, and the embedder hears. */
	wr(C(queue_msix_vector), 2, NVEC);
	ck_assert_uint_eq(rd(C(queue_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_int_eq(e.vector_changes, 2);
	ck_assert_uint_eq(e.last_vector, VIRTIO_MSI_NO_VECTOR);
	/* An enabled queue's vector still changes. */
	setup_queue(0, 16);
	wr(C(queue_msix_vector), 2, 0);
	ck_assert_int_eq(e.vector_changes, 3);
	ck_assert_int_eq(e.last_vector_q, 0);
	ck_assert_uint_eq(m.queues[0].msix_vector, 0);

	wr(C(config_msix_vector), 2, 0);
	ck_assert_uint_eq(rd(C(config_msix_vector), 2), 0);
	ck_assert_int_eq(e.vector_changes, 4);
	ck_assert_int_eq(e.last_vector_q, VIRTIO_PCI_MODEL_CONFIG);
	ck_assert_uint_eq(e.last_vector, 0);
	wr(C(config_msix_vector), 2, 99);
	ck_assert_uint_eq(rd(C(config_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_int_eq(e.vector_changes, 5);
}
END_TEST

START_TEST(test_device_config_window)
{
	uint8_t buf[4];
	uint32_t v;

	virtio_pci_model_config_read(&m, 4, &v, 4);
	ck_assert_uint_eq(v, 0x08070605);
	ck_assert_int_eq(e.config_reads, 1);
	/* Crossing the end, or past it: zeros, the embedder is not asked. */
	memset(buf, 0xff, sizeof(buf));
	virtio_pci_model_config_read(&m, 6, buf, 4);
	ck_assert_uint_eq(buf[0] | buf[1] | buf[2] | buf[3], 0);
	virtio_pci_model_config_read(&m, sizeof(devcfg), buf, 1);
	virtio_pci_model_config_read(&m, ~0ull, buf, 1);
	ck_assert_int_eq(e.config_reads, 1);

	v = 0xaabbccdd;
	virtio_pci_model_config_write(&m, 6, &v, 4);
	ck_assert_int_eq(e.config_writes, 0);
	virtio_pci_model_config_write(&m, 4, &v, 4);
	ck_assert_int_eq(e.config_writes, 1);
	ck_assert_uint_eq(devcfg[4], 0xdd);
}
END_TEST

/* The one BAR layout: each region reaches its structure; the rest is not the model's. */
START_TEST(test_bar_dispatch)
{
	uint32_t v = 0;
	uint8_t isr = 0xff;

	ck_assert(virtio_pci_model_bar_access(&m, VIRTIO_PCI_COMMON_OFF + C(num_queues),
					      &v, 2, false));
	ck_assert_uint_eq(v, rd(C(num_queues), 2));
	v = 1;
	ck_assert(virtio_pci_model_bar_access(&m, VIRTIO_PCI_COMMON_OFF + C(queue_select),
					      &v, 2, true));
	ck_assert_uint_eq(rd(C(queue_select), 2), 1);
	virtio_pci_model_config_changed(&m);
	ck_assert(virtio_pci_model_bar_access(&m, VIRTIO_PCI_ISR_OFF, &isr, 1, false));
	ck_assert_uint_eq(isr, VIRTIO_PCI_ISR_CONFIG);
	ck_assert(virtio_pci_model_bar_access(&m, VIRTIO_PCI_ISR_OFF, &isr, 1, false));
	ck_assert_uint_eq(isr, 0);
	ck_assert(virtio_pci_model_bar_access(&m, VIRTIO_PCI_DEVCFG_OFF + 4, &v, 4, false));
	ck_assert_uint_eq(v, 0x08070605);
	v = 0x11;
	ck_assert(virtio_pci_model_bar_access(&m, VIRTIO_PCI_DEVCFG_OFF + 4, &v, 1, true));
	ck_assert_uint_eq(devcfg[4], 0x11);
	ck_assert(!virtio_pci_model_bar_access(&m, VIRTIO_PCI_NOTIFY_OFF, &v, 2, true));
	ck_assert(!virtio_pci_model_bar_access(&m, VIRTIO_PCI_MSIX_TABLE_OFF, &v, 4, false));
	ck_assert(!virtio_pci_model_bar_access(&m, VIRTIO_PCI_BAR_SIZE, &v, 4, false));
}
END_TEST

START_TEST(test_stop)
{
	ck_assert(!virtio_pci_model_stop(&m));
	ck_assert_int_eq(e.stops, 0);
	driver_ok();
	ck_assert(virtio_pci_model_stop(&m));
	ck_assert_int_eq(e.stops, 1);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
	ck_assert_int_eq(e.config_irqs, 0);
	/* Only a reset makes it usable again. */
	wr(C(device_status), 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	ck_assert_int_eq(e.starts, 1);
	wr(C(device_status), 1, 0);
	ck_assert_int_eq(e.stops, 1);
	driver_ok();
	ck_assert_int_eq(e.starts, 2);
}
END_TEST

START_TEST(test_doorbells)
{
	for (uint16_t q = 0; q < NQ; q++) {
		wr(C(queue_select), 2, q);
		ck_assert_uint_eq(rd(C(queue_notify_off), 2), q);
		wr(C(queue_notify_off), 2, 9);		/* read-only */
		ck_assert_uint_eq(rd(C(queue_notify_off), 2), q);
		ck_assert_uint_eq(virtio_pci_model_doorbell_offset(q),
				  q * VIRTIO_PCI_NOTIFY_MULT);
		ck_assert_uint_eq(virtio_pci_model_doorbell_queue(
				  virtio_pci_model_doorbell_offset(q)), q);
		ck_assert_uint_eq(virtio_pci_model_doorbell_queue(
				  virtio_pci_model_doorbell_offset(q) + 2), q);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_pci_model");
	TCase *tc = tcase_create("registers");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init_rejects_bad_params);
	tcase_add_test(tc, test_bar_dispatch);
	tcase_add_test(tc, test_feature_windows);
	tcase_add_test(tc, test_status_sequence);
	tcase_add_test(tc, test_features_ok_refused);
	tcase_add_test(tc, test_driver_ok_refused);
	tcase_add_test(tc, test_start_failure_needs_reset);
	tcase_add_test(tc, test_reset_clears_everything);
	tcase_add_test(tc, test_queue_select_out_of_range);
	tcase_add_test(tc, test_queue_size_checked);
	tcase_add_test(tc, test_queue_enable_refused_by_embedder);
	tcase_add_test(tc, test_wrong_widths_ignored);
	tcase_add_test(tc, test_isr_read_clears);
	tcase_add_test(tc, test_config_generation);
	tcase_add_test(tc, test_msix_vectors);
	tcase_add_test(tc, test_device_config_window);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_doorbells);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
