// SPDX-License-Identifier: GPL-2.0-only
/* The harness's virtio driver: guest RAM, split rings, virtio-blk requests. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/harness/driver.h"

#define DRV_WANT_PROTOCOL \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

#define DRV_WANT_FEATURES \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
	 VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) | \
	 VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_RO))

/* QEMU asks for this much config with DISCARD and WRITE_ZEROES. */
#define DRV_CONFIG_SIZE		57

int drv_init(struct drv *d)
{
	memset(d, 0, sizeof(*d));
	d->fe.sock = -1;
	d->mem_fd = memfd_create("harness-ram", MFD_CLOEXEC);
	if (d->mem_fd < 0 || ftruncate(d->mem_fd, DRV_RAM_SIZE) < 0)
		return -errno;
	d->ram = mmap(NULL, DRV_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->mem_fd, 0);
	if (d->ram == MAP_FAILED)
		return -errno;
	for (unsigned int i = 0; i < 2; i++) {
		struct mem_region r = {
			.gpa = DRV_RAM_GPA + i * DRV_REGION_SPLIT,
			.size = DRV_REGION_SPLIT,
			.uva = (uint64_t)(uintptr_t)(d->ram + i * DRV_REGION_SPLIT),
			.host = d->ram + i * DRV_REGION_SPLIT,
			.fd = d->mem_fd,
			.fd_offset = i * DRV_REGION_SPLIT,
		};
		int err = mem_table_add(&d->mem, &r);

		if (err)
			return err;
	}
	d->brk = DRV_RAM_GPA;
	for (unsigned int q = 0; q < DRV_MAX_QUEUES; q++) {
		d->vq[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->vq[q].call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->vq[q].kick_fd < 0 || d->vq[q].call_fd < 0)
			return -errno;
	}
	return 0;
}

void drv_destroy(struct drv *d)
{
	vu_fe_close(&d->fe);
	for (unsigned int q = 0; q < DRV_MAX_QUEUES; q++) {
		close(d->vq[q].kick_fd);
		close(d->vq[q].call_fd);
		vring_drv_destroy(&d->vq[q].ring);
	}
	if (d->ram && d->ram != MAP_FAILED)
		munmap(d->ram, DRV_RAM_SIZE);
	close(d->mem_fd);
}

uint64_t drv_alloc(struct drv *d, uint64_t size, uint64_t align)
{
	uint64_t gpa = (d->brk + align - 1) & ~(align - 1);

	if (gpa + size > DRV_RAM_GPA + DRV_RAM_SIZE) {
		pr_err("harness guest RAM exhausted");
		return 0;
	}
	d->brk = gpa + size;
	return gpa;
}

void *drv_host(struct drv *d, uint64_t gpa)
{
	/* The regions are one mapping: a buffer may run on across the split. */
	return mem_gpa_to_host(&d->mem, gpa, 0);
}

static uint64_t drv_uva(struct drv *d, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)drv_host(d, gpa);
}

static int drv_alloc_rings(struct drv *d, struct drv_vq *vq)
{
	if (vq->ring.desc)
		return 0;
	vq->desc_gpa = drv_alloc(d, VRING_DESC_SIZE(DRV_QUEUE_SIZE), 4096);
	vq->avail_gpa = drv_alloc(d, VRING_AVAIL_SIZE(DRV_QUEUE_SIZE), 2);
	vq->used_gpa = drv_alloc(d, VRING_USED_SIZE(DRV_QUEUE_SIZE), 4096);
	if (!vq->desc_gpa || !vq->avail_gpa || !vq->used_gpa)
		return -ENOMEM;
	return vring_drv_init(&vq->ring, DRV_QUEUE_SIZE, drv_host(d, vq->desc_gpa),
			      drv_host(d, vq->avail_gpa), drv_host(d, vq->used_gpa),
			      d->features & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
}

static int drv_read_capacity(struct drv *d)
{
	struct virtio_blk_config cfg;
	int r;

	r = vu_fe_get_config(&d->fe, 0, &cfg, DRV_CONFIG_SIZE);
	if (r)
		return r;
	d->capacity = cfg.capacity;
	return 0;
}

int drv_connect(struct drv *d, const char *sock, unsigned int nqueues)
{
	unsigned int q;
	int r;

	if (nqueues == 0 || nqueues > DRV_MAX_QUEUES)
		return -EINVAL;
	r = vu_fe_connect(&d->fe, sock);
	if (r) {
		pr_err("connect %s: %s", sock, strerror(-r));
		return r;
	}
	r = vu_fe_negotiate(&d->fe, DRV_WANT_PROTOCOL,
			    1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	if (r)
		return r;
	if (nqueues > d->fe.queue_num) {
		pr_err("back-end has %u queues, harness wants %u",
		       d->fe.queue_num, nqueues);
		return -ENOTSUP;
	}
	d->nqueues = nqueues;
	for (q = 0; q < nqueues; q++) {
		r = vu_fe_set_vring_fd(&d->fe, VHOST_USER_SET_VRING_CALL, q,
				       d->vq[q].call_fd);
		if (r)
			return r;
	}
	return drv_read_capacity(d);
}

static int drv_set_memory(struct drv *d)
{
	const struct mem_region *r = d->mem.regions;
	int err = 0;

	if (d->fe.max_mem_slots < 2)
		return vu_fe_set_mem_table(&d->fe, r, 2);
	for (unsigned int i = 0; i < 2 && !err; i++)
		err = vu_fe_add_mem_reg(&d->fe, &r[i]);
	return err;
}

static int drv_start_queue(struct drv *d, unsigned int q, uint16_t base)
{
	struct drv_vq *vq = &d->vq[q];
	int r;

	r = drv_alloc_rings(d, vq);
	if (r)
		return r;
	r = vu_fe_set_vring(&d->fe, q, vq->ring.num, base, drv_uva(d, vq->desc_gpa),
			    drv_uva(d, vq->avail_gpa), drv_uva(d, vq->used_gpa),
			    false);
	if (!r)
		r = vu_fe_set_vring_fd(&d->fe, VHOST_USER_SET_VRING_KICK, q,
				       vq->kick_fd);
	if (!r)
		r = vu_fe_set_vring_fd(&d->fe, VHOST_USER_SET_VRING_CALL, q,
				       vq->call_fd);
	return r;
}

int drv_start(struct drv *d, uint16_t base)
{
	unsigned int q;
	int r;

	d->features = d->fe.features & DRV_WANT_FEATURES;
	r = vu_fe_set_features(&d->fe, d->features);
	if (!r)
		r = drv_set_memory(d);
	for (q = 0; q < d->nqueues && !r; q++)
		r = drv_start_queue(d, q, base);
	for (q = 0; q < d->nqueues && !r; q++)
		r = vu_fe_set_vring_enable(&d->fe, q, true);
	return r;
}

int drv_stop(struct drv *d, uint16_t *bases)
{
	unsigned int q;
	int r = 0;

	for (q = 0; q < d->nqueues && !r; q++)
		r = vu_fe_set_vring_enable(&d->fe, q, false);
	for (q = 0; q < d->nqueues && !r; q++)
		r = vu_fe_get_vring_base(&d->fe, q, &bases[q]);
	return r;
}

void drv_disconnect(struct drv *d)
{
	vu_fe_close(&d->fe);
}

void drv_kick(struct drv *d, unsigned int q)
{
	uint64_t one = 1;

	/* Kick on every submission: the harness tests function, not speed. */
	if (write(d->vq[q].kick_fd, &one, sizeof(one)) != sizeof(one))
		pr_err("kick queue %u: %m", q);
}

int drv_submit(struct drv *d, unsigned int q, const struct vring_buf *segs,
	       unsigned int n, bool indirect)
{
	struct vring_drv *ring = &d->vq[q].ring;
	uint64_t table_gpa = 0;
	int head;

	if (indirect) {
		table_gpa = drv_alloc(d, n * sizeof(struct vring_desc), 16);
		if (!table_gpa)
			return -ENOMEM;
	}
	head = indirect ? vring_drv_add_indirect(ring, drv_host(d, table_gpa),
						 table_gpa, segs, n, NULL)
			: vring_drv_add(ring, segs, n, NULL);
	if (head >= 0)
		drv_kick(d, q);
	return head;
}

int drv_wait_used(struct drv *d, unsigned int q, int timeout_ms,
		  uint32_t *id, uint32_t *len)
{
	struct drv_vq *vq = &d->vq[q];
	struct pollfd p[2] = {
		{ .fd = vq->call_fd, .events = POLLIN },
		{ .fd = d->fe.sock, .events = POLLRDHUP },
	};
	uint16_t head;
	uint64_t cnt;
	int r;

	while (!vring_drv_has_used(&vq->ring)) {
		int n = poll(p, d->fe.sock >= 0 ? 2 : 1, timeout_ms);

		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			if (!vring_drv_has_used(&vq->ring))
				return -EPIPE;
			break;
		}
		if (read(vq->call_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return -errno;
	}
	r = vring_drv_get_used(&vq->ring, &head, len, NULL);
	if (r < 0)
		return r;
	*id = head;
	return 0;
}

/* Header, data split into seg-sized pieces, status: the segments of a request. */
static unsigned int drv_blk_segs(struct vring_buf *segs, unsigned int max,
				 uint64_t hdr_gpa, uint64_t data_gpa,
				 uint32_t len, uint32_t seg, bool data_in)
{
	unsigned int n = 0;

	segs[n++] = (struct vring_buf){ hdr_gpa, sizeof(struct virtio_blk_outhdr), false };
	for (uint32_t off = 0; off < len && n + 1 < max; ) {
		uint32_t chunk = seg && len - off > seg ? seg : len - off;

		segs[n++] = (struct vring_buf){ data_gpa + off, chunk, data_in };
		off += chunk;
	}
	segs[n++] = (struct vring_buf){ hdr_gpa + sizeof(struct virtio_blk_outhdr), 1, true };
	return n;
}

int drv_blk_rw(struct drv *d, unsigned int q, uint32_t type, uint64_t sector,
	       uint64_t data_gpa, uint32_t len, uint32_t seg, bool indirect)
{
	struct vring_buf segs[64];
	uint64_t hdr_gpa = drv_alloc(d, 32, 16);
	struct virtio_blk_outhdr *hdr;
	uint8_t *status;
	uint32_t id, used_len;
	unsigned int n;
	int head, r;

	if (!hdr_gpa)
		return -ENOMEM;
	hdr = drv_host(d, hdr_gpa);
	status = (uint8_t *)(hdr + 1);
	*hdr = (struct virtio_blk_outhdr){ .type = type, .sector = sector };
	*status = 0xee;
	n = drv_blk_segs(segs, 64, hdr_gpa, data_gpa, len, seg,
			 type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID);
	head = drv_submit(d, q, segs, n, indirect);
	if (head < 0)
		return head;
	r = drv_wait_used(d, q, 5000, &id, &used_len);
	if (r)
		return r;
	if (id != (uint32_t)head) {
		pr_err("used id %u, expected head %d", id, head);
		return -EPROTO;
	}
	return *status;
}
