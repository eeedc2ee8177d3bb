// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vvu-proxy device model through its register functions, with a fake
 * host recording what proxyd would ask of the vmm: identity, BARs and
 * capabilities, the virtio-pci model as the driver sees it, queue setup
 * against device-VM RAM, vectors and notification registers, doorbell
 * math, BAR4 placement, reply masks, the request table, the sandbox.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/test_run.h"
#include "vvu-proxyd/proxyd.h"

#define CFG(f)		offsetof(struct virtio_pci_common_cfg, f)
#define RAM_GPA		0x100000ull
#define RAM_SIZE	(1u << 20)

/* --- a fake host ---------------------------------------------------------- */

struct fake_host {
	int irqfd_vector[DEVCHAN_MAX_IRQFDS];	/* -1: none */
	struct devchan_ioeventfd_add ioev[DEVCHAN_MAX_IOEVENTFDS];
	bool ioev_used[DEVCHAN_MAX_IOEVENTFDS];
	unsigned int calls;
};

static struct fake_host host;

static void f_shm_map(struct proxy *p, const struct devchan_shm_map *map, int fd)
{
	(void)p; (void)map; (void)fd;
	host.calls++;
}

static void f_shm_unmap(struct proxy *p, uint32_t slot)
{
	(void)p; (void)slot;
	host.calls++;
}

static void f_ioeventfd_add(struct proxy *p, const struct devchan_ioeventfd_add *add,
			    int efd)
{
	(void)p;
	ck_assert_int_ge(efd, 0);
	ck_assert(!host.ioev_used[add->id]);
	host.ioev[add->id] = *add;
	host.ioev_used[add->id] = true;
	host.calls++;
}

static void f_ioeventfd_del(struct proxy *p, uint32_t id)
{
	(void)p;
	ck_assert(host.ioev_used[id]);
	host.ioev_used[id] = false;
	host.calls++;
}

static void f_irqfd_add(struct proxy *p, uint32_t id, uint16_t vector, int efd)
{
	(void)p;
	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(host.irqfd_vector[id], -1);
	host.irqfd_vector[id] = vector;
	host.calls++;
}

static void f_irqfd_del(struct proxy *p, uint32_t id)
{
	(void)p;
	ck_assert_int_ne(host.irqfd_vector[id], -1);
	host.irqfd_vector[id] = -1;
	host.calls++;
}

static const struct proxy_host_ops fake_ops = {
	.shm_map = f_shm_map, .shm_unmap = f_shm_unmap,
	.ioeventfd_add = f_ioeventfd_add, .ioeventfd_del = f_ioeventfd_del,
	.irqfd_add = f_irqfd_add, .irqfd_del = f_irqfd_del,
};

static struct proxy *px;
static uint8_t *ram;

static void setup(void)
{
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
					  13, 14, 15, 16 };
	int fd;

	memset(&host, 0, sizeof(host));
	memset(host.irqfd_vector, -1, sizeof(host.irqfd_vector));
	px = calloc(1, sizeof(*px));
	ck_assert_ptr_nonnull(px);
	px->host = &fake_ops;
	ck_assert_int_eq(proxy_dev_init(px, 1ull << 30, uuid), 0);
	ck_assert_int_eq(queues_init(&px->q), 0);
	sibling_init(px);
	fd = memfd_create("ram", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, RAM_SIZE), 0);
	ck_assert_int_eq(queues_ram_add(px, RAM_GPA, RAM_SIZE, 0, fd), 0);
	ram = px->q.ram.regions[0].host;
	close(fd);
}

static void teardown(void)
{
	sibling_close(px);
	queues_destroy(&px->q);
	proxy_dev_destroy(px);
	free(px);
}

static uint64_t acc(uint8_t region, uint64_t off, uint8_t size, bool write,
		    uint64_t data)
{
	struct devchan_access a = { .write = write, .resp = !write,
		.region = region, .size = size, .offset = off, .data = data };
	const char *why = "";

	ck_assert_msg(!devchan_access_check_device(&a, &px->dev.desc, &why),
		      "access outside the device: %s", why);
	return proxy_access(px, &a);
}

static uint64_t common_rd(uint64_t f, uint8_t size)
{
	return acc(VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF + f, size, false, 0);
}

static void common_wr(uint64_t f, uint8_t size, uint64_t v)
{
	acc(VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF + f, size, true, v);
}

/* --- identity, BARs, capabilities ------------------------------------------- */

START_TEST(test_identity_and_bars)
{
	const struct devchan_device *d = &px->dev.desc;
	const char *why = "";

	ck_assert_int_eq(devchan_device_check(d, &why), 0);
	ck_assert_uint_eq(d->vendor_id, 0x1af4);
	ck_assert_uint_eq(d->device_id, 0x107d);
	ck_assert_uint_eq(d->subsys_vendor_id, 0x1af4);
	ck_assert_uint_eq(d->subsys_id, 0x107d);
	ck_assert_uint_eq(d->class_code, 0x00);
	ck_assert_uint_eq(d->subclass, 0xff);
	ck_assert_uint_eq(d->revision, 1);
	ck_assert_uint_eq(d->bars[0].type, DEVCHAN_BAR_MEM32);
	ck_assert_uint_eq(d->bars[0].kind, DEVCHAN_BAR_KIND_REMOTE);
	ck_assert_uint_eq(d->bars[0].size, 0x8000);
	ck_assert_uint_eq(d->bars[2].type, DEVCHAN_BAR_MEM64);
	ck_assert_uint_eq(d->bars[2].kind, DEVCHAN_BAR_KIND_REMOTE);
	ck_assert_uint_eq(d->bars[2].size, 0x4000);
	ck_assert_uint_eq(d->bars[4].type, DEVCHAN_BAR_MEM64);
	ck_assert_uint_eq(d->bars[4].kind, DEVCHAN_BAR_KIND_SHM);
	ck_assert_uint_eq(d->bars[4].flags, DEVCHAN_BAR_F_PREFETCH);
	ck_assert_uint_eq(d->bars[4].size, 1ull << 30);
	ck_assert_uint_eq(d->msix.nvectors, 2 + 16 + 1);
	ck_assert_uint_eq(d->msix.table_bar, 0);
	ck_assert_uint_eq(d->msix.table_off, 0x6000);
	ck_assert_uint_eq(d->msix.pba_off, 0x7000);
}
END_TEST

START_TEST(test_shm_sizes)
{
	struct devchan_device d;
	const char *why = "";

	ck_assert(proxy_shm_size_valid(PROXY_SHM_SIZE_DEFAULT));
	ck_assert(proxy_shm_size_valid(4096));
	ck_assert(!proxy_shm_size_valid(3ull << 30));
	ck_assert(!proxy_shm_size_valid(2048));
	ck_assert(!proxy_shm_size_valid(1ull << 47));
	proxy_device_describe(&d, PROXY_SHM_SIZE_DEFAULT);
	ck_assert_int_eq(devchan_device_check(&d, &why), 0);
}
END_TEST

/* The capability of cfg_type in caps[], NULL if absent. */
static const uint8_t *find_cap(uint8_t type, unsigned int *n_seen)
{
	const struct devchan_device *d = &px->dev.desc;

	for (uint32_t off = 0; off < d->caps_len; off += d->caps[off + 2]) {
		(*n_seen)++;
		if (d->caps[off + 3] == type)
			return d->caps + off;
	}
	return NULL;
}

START_TEST(test_capabilities)
{
	static const uint8_t order[] = { 1, 2, 3, 4, 6, 7, 8 };
	const struct virtio_pci_notify_cap *n;
	const struct vvu_doorbell_cap *db;
	const struct virtio_pci_cap64 *shm;
	const struct virtio_pci_cap *c;
	unsigned int seen = 0;

	for (unsigned int i = 0; i < sizeof(order); i++) {
		seen = 0;
		c = (const void *)find_cap(order[i], &seen);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(seen, i + 1);		/* in this order */
		ck_assert_uint_eq(c->cap_vndr, 0x09);
	}
	n = (const void *)find_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, &seen);
	ck_assert_uint_eq(n->cap.bar, 0);
	ck_assert_uint_eq(n->cap.offset, 0x3000);
	ck_assert_uint_eq(n->notify_off_multiplier, 4);
	db = (const void *)find_cap(VVU_PCI_CAP_DOORBELL_CFG, &seen);
	ck_assert_uint_eq(db->cap_len, 20);
	ck_assert_uint_eq(db->bar, 2);
	ck_assert_uint_eq(db->offset, 0);
	ck_assert_uint_eq(db->length, 0x2000);
	ck_assert_uint_eq(db->doorbell_off_multiplier, 4);
	c = (const void *)find_cap(VVU_PCI_CAP_NOTIFICATION_CFG, &seen);
	ck_assert_uint_eq(c->bar, 2);
	ck_assert_uint_eq(c->offset, 0x2000);
	shm = (const void *)find_cap(VVU_PCI_CAP_SHARED_MEMORY_CFG, &seen);
	ck_assert_uint_eq(shm->cap.cap_len, 24);
	ck_assert_uint_eq(shm->cap.bar, 4);
	ck_assert_uint_eq(shm->cap.length | (uint64_t)shm->length_hi << 32, 1ull << 30);
}
END_TEST

START_TEST(test_config_space_reads_caps)
{
	const struct devchan_device *d = &px->dev.desc;
	uint32_t v = (uint32_t)acc(DEVCHAN_REGION_CONFIG, 0x40, 4, false, 0);

	ck_assert_mem_eq(&v, d->caps, 4);
	v = (uint32_t)acc(DEVCHAN_REGION_CONFIG, 0x40 + 16, 4, false, 0);
	ck_assert_mem_eq(&v, d->caps + 16, 4);
	/* Capabilities are read-only. */
	acc(DEVCHAN_REGION_CONFIG, 0x44, 4, true, 0xdeadbeef);
	v = (uint32_t)acc(DEVCHAN_REGION_CONFIG, 0x44, 4, false, 0);
	ck_assert_mem_eq(&v, d->caps + 4, 4);
}
END_TEST

START_TEST(test_device_config)
{
	uint8_t uuid[16];

	ck_assert_uint_eq(acc(0, VIRTIO_PCI_DEVCFG_OFF, 4, false, 0), 0);
	ck_assert_uint_eq(acc(0, VIRTIO_PCI_DEVCFG_OFF + 4, 4, false, 0), 16);
	for (unsigned int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)acc(0, VIRTIO_PCI_DEVCFG_OFF + 8 + i, 1, false, 0);
	ck_assert_uint_eq(uuid[0], 1);
	ck_assert_uint_eq(uuid[15], 16);
	/* Past the config: zeros. */
	ck_assert_uint_eq(acc(0, VIRTIO_PCI_DEVCFG_OFF + 24, 4, false, 0), 0);
	proxy_dev_set_status(px, VVU_STATUS_BACKEND_UP, true);
	ck_assert_uint_eq(acc(0, VIRTIO_PCI_DEVCFG_OFF, 4, false, 0), 1);
	ck_assert_uint_eq(common_rd(CFG(config_generation), 1), 1);
}
END_TEST

/* --- the virtio-pci model as the driver sees it ------------------------------- */

START_TEST(test_common_config)
{
	ck_assert_uint_eq(common_rd(CFG(num_queues), 2), 2);
	common_wr(CFG(device_feature_select), 4, 1);
	ck_assert_uint_eq(common_rd(CFG(device_feature), 4), 1);	/* VERSION_1 */
	common_wr(CFG(queue_select), 2, 1);
	ck_assert_uint_eq(common_rd(CFG(queue_size), 2), PROXY_QUEUE_MAX_SIZE);
	ck_assert_uint_eq(common_rd(CFG(queue_notify_off), 2), 1);
	common_wr(CFG(queue_select), 2, 2);
	ck_assert_uint_eq(common_rd(CFG(queue_size), 2), 0);
}
END_TEST

static void features_ok(void)
{
	common_wr(CFG(device_status), 1, 3);
	common_wr(CFG(driver_feature_select), 4, 1);
	common_wr(CFG(driver_feature), 4, 1);
	common_wr(CFG(device_status), 1, 3 | VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert(common_rd(CFG(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK);
}

static void queue_at(uint16_t q, uint64_t base, uint16_t size)
{
	common_wr(CFG(queue_select), 2, q);
	common_wr(CFG(queue_size), 2, size);
	common_wr(CFG(queue_desc_lo), 4, (uint32_t)base);
	common_wr(CFG(queue_driver_lo), 4, (uint32_t)(base + 0x1000));
	common_wr(CFG(queue_device_lo), 4, (uint32_t)(base + 0x2000));
	common_wr(CFG(queue_enable), 2, 1);
}

START_TEST(test_queue_setup_in_ram)
{
	features_ok();
	queue_at(VVU_RXQ, RAM_GPA, 64);
	ck_assert_uint_eq(common_rd(CFG(queue_enable), 2), 1);
	ck_assert(px->q.ready[VVU_RXQ]);
	/* Rings past the device VM's RAM are refused: the device needs a reset. */
	queue_at(VVU_TXQ, RAM_GPA + RAM_SIZE - 0x1000, 64);
	ck_assert_uint_eq(common_rd(CFG(queue_enable), 2), 0);
	ck_assert(common_rd(CFG(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	common_wr(CFG(device_status), 1, 0);
	ck_assert(!px->q.ready[VVU_RXQ]);
	ck_assert_uint_eq(common_rd(CFG(device_status), 1), 0);
}
END_TEST

/* Bus mastering off stops a started device; the sibling may not stay. */
START_TEST(test_bus_master_off_stops)
{
	acc(DEVCHAN_REGION_CONFIG, 4, 2, true, 0x6);
	features_ok();
	queue_at(VVU_RXQ, RAM_GPA, 64);
	queue_at(VVU_TXQ, RAM_GPA + 0x4000, 64);
	common_wr(CFG(device_status), 1, 0xf);
	ck_assert(px->q.started);
	ck_assert(px->sib.enabled);
	acc(DEVCHAN_REGION_CONFIG, 4, 2, true, 0x2);
	ck_assert(!px->q.started);
	ck_assert(!px->sib.enabled);
	ck_assert(common_rd(CFG(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
}
END_TEST

START_TEST(test_vectors_become_irqfds)
{
	common_wr(CFG(config_msix_vector), 2, 0);
	ck_assert_int_eq(host.irqfd_vector[PROXY_IRQFD_CONFIG], 0);
	common_wr(CFG(queue_select), 2, 1);
	common_wr(CFG(queue_msix_vector), 2, 2);
	ck_assert_int_eq(host.irqfd_vector[PROXY_IRQFD_QUEUE(1)], 2);
	common_wr(CFG(queue_msix_vector), 2, 7);
	ck_assert_int_eq(host.irqfd_vector[PROXY_IRQFD_QUEUE(1)], 7);
	/* Out of range: none, and the irqfd goes. */
	common_wr(CFG(queue_msix_vector), 2, 19);
	ck_assert_uint_eq(common_rd(CFG(queue_msix_vector), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_int_eq(host.irqfd_vector[PROXY_IRQFD_QUEUE(1)], -1);
	/* A reset takes every vector away. */
	common_wr(CFG(device_status), 1, 0);
	ck_assert_int_eq(host.irqfd_vector[PROXY_IRQFD_CONFIG], -1);
}
END_TEST

START_TEST(test_driver_doorbells)
{
	proxy_dev_bind_kicks(px);
	for (unsigned int q = 0; q < VVU_NUM_QUEUES; q++) {
		const struct devchan_ioeventfd_add *a = &host.ioev[PROXY_IOEVENTFD_QUEUE(q)];

		ck_assert(host.ioev_used[PROXY_IOEVENTFD_QUEUE(q)]);
		ck_assert_uint_eq(a->bar, 0);
		ck_assert_uint_eq(a->offset, 0x3000 + 4 * q);
		ck_assert_uint_eq(a->len, 0);
		ck_assert_uint_eq(a->flags, 0);
	}
}
END_TEST

/* --- BAR2: notification select and vector -------------------------------------- */

static uint64_t notif(uint64_t off, bool write, uint64_t v)
{
	return acc(VVU_BAR2, VVU_NOTIFICATION_OFFSET + off, 2, write, v);
}

START_TEST(test_notification_registers)
{
	ck_assert_uint_eq(notif(2, false, 0), VIRTIO_MSI_NO_VECTOR);
	notif(0, true, 3);
	notif(2, true, 7);
	ck_assert_uint_eq(notif(0, false, 0), 3);
	ck_assert_uint_eq(notif(2, false, 0), 7);
	ck_assert_uint_eq(px->dev.notif_vector[3], 7);
	notif(2, true, 100);		/* beyond the 19 vectors */
	ck_assert_uint_eq(notif(2, false, 0), VIRTIO_MSI_NO_VECTOR);
	notif(0, true, 16);		/* beyond the 16 queues */
	notif(2, true, 1);
	ck_assert_uint_eq(notif(2, false, 0), VIRTIO_MSI_NO_VECTOR);
	/* Wrong widths are ignored; doorbell reads give 0. */
	notif(0, true, 3);
	ck_assert_uint_eq(acc(VVU_BAR2, VVU_NOTIFICATION_OFFSET, 4, false, 0), 0);
	ck_assert_uint_eq(acc(VVU_BAR2, 4 * 5, 4, false, 0), 0);
	/* No kick fd yet: nothing to bind. */
	ck_assert_int_eq(host.irqfd_vector[PROXY_IRQFD_VHOST(3)], -1);
}
END_TEST

/* --- BAR4 layout ---------------------------------------------------------------- */

static int place(struct proxy_shm *s, uint64_t gpa, uint64_t size, uint64_t uva,
		 uint64_t off, uint64_t file)
{
	struct vhost_user_mem_region w = { gpa, size, uva, off };
	struct shm_region r;
	int slot = shm_place(s, &w, file, &r);

	if (slot >= 0)
		s->regions[slot] = r;
	return slot;
}

START_TEST(test_shm_back_to_back)
{
	struct proxy_shm s;

	shm_init(&s, 1 << 24);
	ck_assert_int_eq(place(&s, 0, 0x3000, 0x10000, 0, 0x3000), 0);
	ck_assert_int_eq(place(&s, 0x10000, 0x1800, 0x40000, 0x800, 0x2000), 1);
	ck_assert_uint_eq(s.regions[0].map_off, 0);
	ck_assert_uint_eq(s.regions[1].map_off, 0x3000);
	ck_assert_uint_eq(s.regions[1].fd_off, 0);
	ck_assert_uint_eq(s.regions[1].bar_off, 0x3800);	/* any mmap_offset */
	ck_assert_uint_eq(s.regions[1].map_size, 0x2000);
	/* A removed slot's range is used again, lowest first. */
	s.regions[0].used = false;
	ck_assert_int_eq(place(&s, 0x80000, 0x1000, 0x90000, 0, 0x1000), 0);
	ck_assert_uint_eq(s.regions[0].map_off, 0);
	ck_assert_int_eq(place(&s, 0xa0000, 0x2000, 0xb0000, 0, 0x2000), 2);
	ck_assert_uint_eq(s.regions[2].map_off, 0x1000);	/* the gap fits */
}
END_TEST

START_TEST(test_shm_refusals)
{
	struct vhost_user_mem_region w = { 0, 0x1000, 0x1000, 0 };
	struct proxy_shm s;

	shm_init(&s, 1 << 20);
	ck_assert_int_eq(place(&s, 0, 0x2000, 0x10000, 0, 0x2000), 0);
	ck_assert_int_eq(place(&s, 0x1000, 0x1000, 0x90000, 0, 0x1000), -EEXIST);
	ck_assert_int_eq(place(&s, 0x8000, 0x1000, 0x11000, 0, 0x1000), -EEXIST);
	ck_assert_int_eq(place(&s, 0x8000, 0x2000, 0x90000, 0, 0x1000), -EINVAL);
	ck_assert_int_eq(place(&s, 0x8000, 0, 0x90000, 0, 0x1000), -EINVAL);
	ck_assert_int_eq(place(&s, 0x8000, 0x1000, 0x90000, UINT64_MAX - 10, 1),
			 -EINVAL);
	ck_assert_int_eq(place(&s, UINT64_MAX - 0x10, 0x1000, 0x90000, 0, 0x1000),
			 -EINVAL);
	ck_assert_int_eq(place(&s, 0x100000, 1 << 21, 0x900000, 0, 1 << 21), -ENOSPC);
	ck_assert_int_eq(shm_find(&s, &w), -ENOENT);
	w.memory_size = 0x2000;
	w.userspace_addr = 0x10000;
	ck_assert_int_eq(shm_find(&s, &w), 0);
}
END_TEST

/* --- rules and masks --------------------------------------------------------------- */

START_TEST(test_every_request_has_a_rule)
{
	for (uint32_t r = 1; r < VHOST_USER_REQUEST_MAX; r++)
		ck_assert_msg(proxy_request_rule(r) != RULE_UNKNOWN,
			      "%s has no handling", vu_request_name(r));
	ck_assert_int_eq(proxy_request_rule(0), RULE_UNKNOWN);
	ck_assert_int_eq(proxy_request_rule(VHOST_USER_REQUEST_MAX), RULE_UNKNOWN);
	ck_assert_int_eq(proxy_request_rule(VHOST_USER_SET_INFLIGHT_FD), RULE_REFUSE);
	ck_assert_int_eq(proxy_request_rule(VHOST_USER_SET_LOG_BASE), RULE_REFUSE);
}
END_TEST

static uint64_t masked(uint32_t request, uint64_t v, uint32_t flags)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	m.hdr.flags = flags;
	m.hdr.size = 8;
	m.payload.u64 = v;
	proxy_mask_reply(&m);
	return m.payload.u64;
}

START_TEST(test_reply_masks)
{
	const uint32_t reply = VHOST_USER_REPLY_FLAGS;
	uint64_t pf = masked(VHOST_USER_GET_PROTOCOL_FEATURES, ~0ull, reply);

	ck_assert_uint_eq(masked(VHOST_USER_GET_FEATURES, ~0ull, reply),
			  ~VIRTIO_BIT(VHOST_F_LOG_ALL));
	ck_assert_uint_eq(pf & (1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD), 0);
	ck_assert_uint_eq(pf & (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD), 0);
	ck_assert_uint_eq(pf & (1ull << VHOST_USER_PROTOCOL_F_HOST_NOTIFIER), 0);
	ck_assert_uint_eq(pf & (1ull << VHOST_USER_PROTOCOL_F_PAGEFAULT), 0);
	ck_assert_uint_eq(pf & (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ), 0);
	ck_assert_uint_eq(pf & (1ull << VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD), 0);
	ck_assert(pf & (1ull << VHOST_USER_PROTOCOL_F_CONFIG));
	ck_assert(pf & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	ck_assert(pf & (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
	ck_assert_uint_eq(masked(VHOST_USER_GET_QUEUE_NUM, 64, reply), 16);
	ck_assert_uint_eq(masked(VHOST_USER_GET_QUEUE_NUM, 4, reply), 4);
	ck_assert_uint_eq(masked(VHOST_USER_GET_MAX_MEM_SLOTS, 509, reply),
			  PROXY_SHM_MAX_REGIONS);
	/* Requests are not replies: untouched. */
	ck_assert_uint_eq(masked(VHOST_USER_GET_FEATURES, ~0ull, VHOST_USER_VERSION),
			  ~0ull);
}
END_TEST

/* --- the sandbox ----------------------------------------------------------------- */

static int sandboxed_child(bool forbidden)
{
	int sv[2];
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);	/* no core file */
		if (proxyd_sandbox_enter())
			_exit(10);
		if (accept4(-1, NULL, NULL, 0) != -1 || errno != EBADF)
			_exit(11);	/* allowed: fails on the fd only */
		if (forbidden)
			socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(test_sandbox_allows_the_daemon)
{
	int status = sandboxed_child(false);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %#x", status);
}
END_TEST

START_TEST(test_sandbox_forbidden_call_kills)
{
	int status = sandboxed_child(true);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "status %#x, want SIGSYS", status);
}
END_TEST

static Suite *proxyd_suite(void)
{
	Suite *s = suite_create("vvu-proxyd");
	TCase *model = tcase_create("model");
	TCase *pure = tcase_create("pure");

	tcase_add_checked_fixture(model, setup, teardown);
	tcase_add_test(model, test_identity_and_bars);
	tcase_add_test(model, test_capabilities);
	tcase_add_test(model, test_config_space_reads_caps);
	tcase_add_test(model, test_device_config);
	tcase_add_test(model, test_common_config);
	tcase_add_test(model, test_queue_setup_in_ram);
	tcase_add_test(model, test_bus_master_off_stops);
	tcase_add_test(model, test_vectors_become_irqfds);
	tcase_add_test(model, test_driver_doorbells);
	tcase_add_test(model, test_notification_registers);
	suite_add_tcase(s, model);
	tcase_add_test(pure, test_shm_sizes);
	tcase_add_test(pure, test_shm_back_to_back);
	tcase_add_test(pure, test_shm_refusals);
	tcase_add_test(pure, test_every_request_has_a_rule);
	tcase_add_test(pure, test_reply_masks);
	tcase_add_test(pure, test_sandbox_allows_the_daemon);
	tcase_add_test(pure, test_sandbox_forbidden_call_kills);
	suite_add_tcase(s, pure);
	return s;
}

int main(void)
{
	return test_run_suite(proxyd_suite());
}
