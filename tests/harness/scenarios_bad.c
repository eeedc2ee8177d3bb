// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bad-input catalogue (REFERENCE.md), one scenario per item. Each sends
 * one malformed thing and then asserts what a hardened back-end must do:
 * drop that connection (or fail the request), stay alive, keep no fd of it,
 * and serve the next front-end correctly. Run against vblk-backend only:
 * qemu-storage-daemon crashes on several of these.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/harness/harness.h"

enum bad_stage {
	STAGE_CONNECTED,	/* socket open, nothing negotiated */
	STAGE_NEGOTIATED,	/* connect sequence done */
	STAGE_STARTED,		/* queue 0 running */
};

enum bad_expect {
	EXPECT_DROP,		/* the back-end closes the connection */
	EXPECT_SURVIVE,		/* we hang up half-way: nothing to observe */
	EXPECT_ANY,		/* a completion or a drop are both fine */
	EXPECT_CHECKED,		/* the case checks the outcome itself */
};

struct bad_case {
	const char *name;
	enum bad_stage stage;
	enum bad_expect expect;
	int (*send)(struct drv *d);
};

int raw_send(int sock, uint32_t request, uint32_t size, const void *payload,
	     uint32_t len, const int *fds, int nfds)
{
	struct vhost_user_hdr hdr = { request, VHOST_USER_VERSION, size };
	char ctrl[CMSG_SPACE(16 * sizeof(int))] = { 0 };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	struct cmsghdr *c;

	if (nfds) {
		mh.msg_control = ctrl;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int send_payload(struct drv *d, uint32_t request, const void *p,
			uint32_t len)
{
	return raw_send(d->fe.sock, request, len, p, len, NULL, 0);
}

static int send_state(struct drv *d, uint32_t request, uint32_t index,
		      uint32_t num)
{
	struct vhost_user_vring_state s = { index, num };

	return send_payload(d, request, &s, sizeof(s));
}

/* -- protocol level -- */

static int bad_vring_num_index(struct drv *d)
{
	return send_state(d, VHOST_USER_SET_VRING_NUM, 5000, 128);
}

static int bad_vring_base_index(struct drv *d)
{
	return send_state(d, VHOST_USER_SET_VRING_BASE, 5000, 0);
}

static int bad_get_vring_base_index(struct drv *d)
{
	return send_state(d, VHOST_USER_GET_VRING_BASE, 100000, 0);
}

static int bad_vring_num_not_pow2(struct drv *d)
{
	return send_state(d, VHOST_USER_SET_VRING_NUM, 0, 100);
}

static int bad_vring_num_too_big(struct drv *d)
{
	return send_state(d, VHOST_USER_SET_VRING_NUM, 0, 65536);
}

static void region_at(struct vhost_user_mem_region *r, uint64_t gpa,
		      uint64_t size, uint64_t uva, uint64_t off)
{
	*r = (struct vhost_user_mem_region){ gpa, size, uva, off };
}

static uint64_t ram_uva(struct drv *d)
{
	return (uint64_t)(uintptr_t)d->ram;
}

static int bad_mem_table_40_regions(struct drv *d)
{
	struct vhost_user_memory m = { .nregions = 40 };

	region_at(&m.regions[0], 0, DRV_RAM_SIZE, ram_uva(d), 0);
	return raw_send(d->fe.sock, VHOST_USER_SET_MEM_TABLE,
			VHOST_USER_MEMORY_SIZE(8), &m, VHOST_USER_MEMORY_SIZE(8),
			&d->mem_fd, 1);
}

static int send_mem_table(struct drv *d, const struct vhost_user_memory *m)
{
	int fds[VHOST_USER_MEM_REGIONS_MAX];

	for (unsigned int i = 0; i < m->nregions; i++)
		fds[i] = d->mem_fd;
	return raw_send(d->fe.sock, VHOST_USER_SET_MEM_TABLE,
			VHOST_USER_MEMORY_SIZE(m->nregions), m,
			VHOST_USER_MEMORY_SIZE(m->nregions), fds, m->nregions);
}

static int bad_regions_overlap(struct drv *d)
{
	struct vhost_user_memory m = { .nregions = 2 };

	region_at(&m.regions[0], 0, 0x200000, ram_uva(d), 0);
	region_at(&m.regions[1], 0x100000, 0x200000, ram_uva(d) + 0x400000, 0x400000);
	return send_mem_table(d, &m);
}

static int bad_mmap_offset_overflow(struct drv *d)
{
	struct vhost_user_memory m = { .nregions = 1 };

	region_at(&m.regions[0], 0, 0x2000, ram_uva(d), UINT64_MAX - 0x1000);
	return send_mem_table(d, &m);
}

static int bad_region_past_memfd(struct drv *d)
{
	struct vhost_user_memory m = { .nregions = 1 };

	region_at(&m.regions[0], 0, 2 * (uint64_t)DRV_RAM_SIZE, ram_uva(d), 0);
	return send_mem_table(d, &m);
}

static int bad_rem_unknown_region(struct drv *d)
{
	struct vhost_user_mem_reg r = { 0 };

	region_at(&r.region, 0xdead0000, 0x1000, 0xdead0000, 0);
	return send_payload(d, VHOST_USER_REM_MEM_REG, &r, sizeof(r));
}

static int bad_payload_size(struct drv *d)
{
	uint32_t half_state = 0;

	return send_payload(d, VHOST_USER_SET_VRING_NUM, &half_state,
			    sizeof(half_state));
}

static int bad_truncated_payload(struct drv *d)
{
	uint8_t part[10] = { 0 };

	/* Announces a 40-byte vring address, sends 10 bytes, hangs up. */
	return raw_send(d->fe.sock, VHOST_USER_SET_VRING_ADDR, 40, part,
			sizeof(part), NULL, 0);
}

static int bad_short_header(struct drv *d)
{
	uint8_t part[6] = { VHOST_USER_GET_FEATURES };

	return send(d->fe.sock, part, sizeof(part), MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int bad_too_many_fds(struct drv *d)
{
	struct vhost_user_memory m = { .nregions = 1 };
	int fds[12];

	region_at(&m.regions[0], 0, DRV_RAM_SIZE, ram_uva(d), 0);
	for (unsigned int i = 0; i < 12; i++)
		fds[i] = d->mem_fd;
	return raw_send(d->fe.sock, VHOST_USER_SET_MEM_TABLE,
			VHOST_USER_MEMORY_SIZE(1), &m, VHOST_USER_MEMORY_SIZE(1),
			fds, 12);
}

static int bad_fd_on_plain_request(struct drv *d)
{
	return raw_send(d->fe.sock, VHOST_USER_GET_FEATURES, 0, NULL, 0,
			&d->vq[0].kick_fd, 1);
}

static int bad_unknown_request(struct drv *d)
{
	uint64_t v = 0;

	return send_payload(d, 999, &v, sizeof(v));
}

static int bad_get_config_past_end(struct drv *d)
{
	struct vhost_user_config c = { .offset = 50, .size = 57 };

	return send_payload(d, VHOST_USER_GET_CONFIG, &c,
			    VHOST_USER_CONFIG_HDR_SIZE + c.size);
}

static int bad_inflight_not_negotiated(struct drv *d)
{
	struct vhost_user_inflight in = {
		.mmap_size = 4096, .num_queues = 64, .queue_size = 128,
	};

	return raw_send(d->fe.sock, VHOST_USER_SET_INFLIGHT_FD, sizeof(in),
			&in, sizeof(in), &d->mem_fd, 1);
}

static int bad_ring_at_region_end(struct drv *d)
{
	struct vhost_user_vring_addr a = {
		.index = 0,
		.desc_user_addr = ram_uva(d) + DRV_RAM_SIZE - 16,
		.avail_user_addr = (uint64_t)(uintptr_t)d->vq[0].ring.avail,
		.used_user_addr = (uint64_t)(uintptr_t)d->vq[0].ring.used,
	};

	/* 128 descriptors need 2 KiB: the table runs off the end of RAM. */
	return send_payload(d, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a));
}

/* -- ring level: queue 0 runs, the descriptors are malformed -- */

struct req_bufs {
	uint64_t hdr, data, status;
};

static struct req_bufs req_bufs(struct drv *d)
{
	struct req_bufs b = { drv_alloc(d, 16, 16), drv_alloc(d, 4096, 4096),
			      drv_alloc(d, 1, 1) };
	struct virtio_blk_outhdr *h = drv_host(d, b.hdr);

	*h = (struct virtio_blk_outhdr){ .type = VIRTIO_BLK_T_IN };
	return b;
}

static void put_desc(struct drv *d, uint16_t i, uint64_t gpa, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->vq[0].ring.desc[i] = (struct vring_desc){ gpa, len, flags, next };
}

/* Offers a chain put_desc wrote; the ring does not track it. */
static int publish(struct drv *d, uint16_t head)
{
	vring_drv_publish(&d->vq[0].ring, head);
	drv_kick(d, 0);
	return 0;
}

static int bad_desc_loop(struct drv *d)
{
	struct req_bufs b = req_bufs(d);

	put_desc(d, 0, b.hdr, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, b.data, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	put_desc(d, 2, b.data, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	return publish(d, 0);
}

static int bad_buffer_outside_memory(struct drv *d)
{
	struct req_bufs b = req_bufs(d);

	put_desc(d, 0, b.hdr, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, 0xdead00000ull, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	put_desc(d, 2, b.status, 1, VRING_DESC_F_WRITE, 0);
	return publish(d, 0);
}

static int bad_next_out_of_range(struct drv *d)
{
	struct req_bufs b = req_bufs(d);

	put_desc(d, 0, b.hdr, 16, VRING_DESC_F_NEXT, 500);
	return publish(d, 0);
}

static int bad_head_out_of_range(struct drv *d)
{
	return publish(d, 200);
}

static int bad_indirect_len(struct drv *d)
{
	uint64_t table = drv_alloc(d, 64, 16);

	put_desc(d, 0, table, 24, VRING_DESC_F_INDIRECT, 0);
	return publish(d, 0);
}

static int bad_nested_indirect(struct drv *d)
{
	uint64_t table = drv_alloc(d, 32, 16);
	struct vring_desc *t = drv_host(d, table);

	t[0] = (struct vring_desc){ table, 32, VRING_DESC_F_INDIRECT, 0 };
	put_desc(d, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	return publish(d, 0);
}

static int odd_zero_length_desc(struct drv *d)
{
	struct req_bufs b = req_bufs(d);
	const struct vring_buf segs[3] = {
		{ b.hdr, 16, false }, { b.data, 0, true }, { b.status, 1, true },
	};

	/* A tracked chain: if it is served, its used entry is taken back. */
	return drv_submit(d, 0, segs, 3, false) < 0;
}

static int bad_avail_idx_jump(struct drv *d)
{
	struct vring_drv *ring = &d->vq[0].ring;

	ring->avail_idx += 200;
	__atomic_store_n(&ring->avail->idx, ring->avail_idx, __ATOMIC_RELEASE);
	drv_kick(d, 0);
	return 0;
}

static int bad_status_missing(struct drv *d)
{
	struct req_bufs b = req_bufs(d);

	put_desc(d, 0, b.hdr, 16, 0, 0);
	return publish(d, 0);
}

static int bad_status_readonly(struct drv *d)
{
	struct req_bufs b = req_bufs(d);

	put_desc(d, 0, b.hdr, 16, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, b.status, 1, 0, 0);
	return publish(d, 0);
}

static int bad_short_request_header(struct drv *d)
{
	struct req_bufs b = req_bufs(d);

	put_desc(d, 0, b.hdr, 8, VRING_DESC_F_NEXT, 1);
	put_desc(d, 1, b.status, 1, VRING_DESC_F_WRITE, 0);
	return publish(d, 0);
}

/* -- virtio-blk level: the request fails, the connection stays -- */

static int blk_sector_overflow(struct drv *d)
{
	uint64_t gpa = drv_alloc(d, 4096, 4096);
	int st = drv_blk_rw(d, 0, VIRTIO_BLK_T_IN, (UINT64_MAX >> 9) + 1, gpa,
			    4096, 0, false);

	CHECK(st == VIRTIO_BLK_S_IOERR, "read at sector 2^55: status %d", st);
	return io_roundtrip(d, 0, 0, 7);
}

static int blk_range_past_capacity(struct drv *d, uint32_t type)
{
	int st = blk_range_op(d, type, d->capacity - 1, 16);

	CHECK(st == VIRTIO_BLK_S_IOERR, "type %u past capacity: status %d", type, st);
	st = blk_range_op(d, type, UINT64_MAX - 4, 16);
	CHECK(st == VIRTIO_BLK_S_IOERR, "type %u at sector 2^64-5: status %d", type, st);
	return io_roundtrip(d, 0, 0, 8);
}

static int blk_discard_past_capacity(struct drv *d)
{
	return blk_range_past_capacity(d, VIRTIO_BLK_T_DISCARD);
}

static int blk_write_zeroes_past_capacity(struct drv *d)
{
	return blk_range_past_capacity(d, VIRTIO_BLK_T_WRITE_ZEROES);
}

static const struct bad_case bad_cases[] = {
	{ "bad-vring-num-index", STAGE_NEGOTIATED, EXPECT_DROP, bad_vring_num_index },
	{ "bad-vring-base-index", STAGE_NEGOTIATED, EXPECT_DROP, bad_vring_base_index },
	{ "bad-get-vring-base-index", STAGE_NEGOTIATED, EXPECT_DROP, bad_get_vring_base_index },
	{ "bad-vring-num-not-pow2", STAGE_NEGOTIATED, EXPECT_DROP, bad_vring_num_not_pow2 },
	{ "bad-vring-num-too-big", STAGE_NEGOTIATED, EXPECT_DROP, bad_vring_num_too_big },
	{ "bad-mem-table-40-regions", STAGE_NEGOTIATED, EXPECT_DROP, bad_mem_table_40_regions },
	{ "bad-regions-overlap", STAGE_NEGOTIATED, EXPECT_DROP, bad_regions_overlap },
	{ "bad-mmap-offset-overflow", STAGE_NEGOTIATED, EXPECT_DROP, bad_mmap_offset_overflow },
	{ "bad-region-past-memfd", STAGE_NEGOTIATED, EXPECT_DROP, bad_region_past_memfd },
	{ "bad-rem-unknown-region", STAGE_NEGOTIATED, EXPECT_DROP, bad_rem_unknown_region },
	{ "bad-payload-size", STAGE_NEGOTIATED, EXPECT_DROP, bad_payload_size },
	{ "bad-truncated-payload", STAGE_CONNECTED, EXPECT_SURVIVE, bad_truncated_payload },
	{ "bad-short-header", STAGE_CONNECTED, EXPECT_SURVIVE, bad_short_header },
	{ "bad-too-many-fds", STAGE_NEGOTIATED, EXPECT_DROP, bad_too_many_fds },
	{ "bad-fd-on-plain-request", STAGE_NEGOTIATED, EXPECT_DROP, bad_fd_on_plain_request },
	{ "bad-unknown-request", STAGE_NEGOTIATED, EXPECT_DROP, bad_unknown_request },
	{ "bad-get-config-past-end", STAGE_NEGOTIATED, EXPECT_DROP, bad_get_config_past_end },
	{ "bad-inflight-not-negotiated", STAGE_NEGOTIATED, EXPECT_DROP, bad_inflight_not_negotiated },
	{ "bad-ring-at-region-end", STAGE_STARTED, EXPECT_DROP, bad_ring_at_region_end },
	{ "bad-desc-loop", STAGE_STARTED, EXPECT_DROP, bad_desc_loop },
	{ "bad-buffer-outside-memory", STAGE_STARTED, EXPECT_DROP, bad_buffer_outside_memory },
	{ "bad-next-out-of-range", STAGE_STARTED, EXPECT_DROP, bad_next_out_of_range },
	{ "bad-head-out-of-range", STAGE_STARTED, EXPECT_DROP, bad_head_out_of_range },
	{ "bad-indirect-len", STAGE_STARTED, EXPECT_DROP, bad_indirect_len },
	{ "bad-nested-indirect", STAGE_STARTED, EXPECT_DROP, bad_nested_indirect },
	{ "bad-zero-length-desc", STAGE_STARTED, EXPECT_ANY, odd_zero_length_desc },
	{ "bad-avail-idx-jump", STAGE_STARTED, EXPECT_DROP, bad_avail_idx_jump },
	{ "bad-status-missing", STAGE_STARTED, EXPECT_DROP, bad_status_missing },
	{ "bad-status-readonly", STAGE_STARTED, EXPECT_DROP, bad_status_readonly },
	{ "bad-short-request-header", STAGE_STARTED, EXPECT_DROP, bad_short_request_header },
	{ "bad-sector-overflow", STAGE_STARTED, EXPECT_CHECKED, blk_sector_overflow },
	{ "bad-discard-past-capacity", STAGE_STARTED, EXPECT_CHECKED, blk_discard_past_capacity },
	{ "bad-write-zeroes-past-capacity", STAGE_STARTED, EXPECT_CHECKED, blk_write_zeroes_past_capacity },
};

#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Reads (and discards replies) until the back-end hangs up: true if it did. */
static bool hung_up(int sock, int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char buf[512];

	for (;;) {
		if (poll(&p, 1, timeout_ms) <= 0)
			return false;
		ssize_t n = recv(sock, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return false;
	}
}

int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* The back-end may close our connection's fds a moment after we see EOF. */
static bool fds_settle_to(pid_t pid, int want)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < 40; i++) {
		if (count_fds(pid) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static int bad_reach_stage(struct drv *d, const char *sock, enum bad_stage stage)
{
	if (stage == STAGE_CONNECTED)
		return vu_fe_connect(&d->fe, sock);
	if (stage == STAGE_NEGOTIATED)
		return drv_connect(d, sock, 1);
	return session_open(d, sock, 1);
}

static bool bad_outcome_ok(const struct bad_case *c, struct drv *d, int sent)
{
	uint32_t id, len;

	switch (c->expect) {
	case EXPECT_DROP:
		return !sent && hung_up(d->fe.sock, 3000);
	case EXPECT_ANY:
		return !sent && (drv_wait_used(d, 0, 3000, &id, &len) == 0 ||
				 hung_up(d->fe.sock, 3000));
	case EXPECT_CHECKED:
		return sent == 0;
	case EXPECT_SURVIVE:
		break;
	}
	return true;
}

static int run_bad_case(struct harness *h, const struct bad_case *c)
{
	int fds_before[HARNESS_MAX_PIDS];
	struct drv d;
	bool ok;

	for (unsigned int i = 0; i < h->npids; i++)
		fds_before[i] = count_fds(h->pids[i]);
	CHECK(!drv_init(&d), "driver init");
	CHECK(!bad_reach_stage(&d, h->sock, c->stage), "%s: setting up", c->name);
	ok = bad_outcome_ok(c, &d, c->send(&d));
	drv_destroy(&d);
	CHECK(ok, "%s: the back-end did not react as it must", c->name);

	for (unsigned int i = 0; i < h->npids; i++)
		CHECK(kill(h->pids[i], 0) == 0, "%s: process %d died", c->name,
		      (int)h->pids[i]);
	CHECK(!drv_init(&d), "driver init");
	ok = !session_open(&d, h->sock, 1) && !io_roundtrip(&d, 0, 32, 99);
	drv_destroy(&d);
	CHECK(ok, "%s: the next front-end is not served", c->name);
	for (unsigned int i = 0; i < h->npids; i++)
		CHECK(fds_settle_to(h->pids[i], fds_before[i]),
		      "%s: process %d had %d fds before, %d after", c->name,
		      (int)h->pids[i], fds_before[i], count_fds(h->pids[i]));
	pr_info("%s: handled", c->name);
	return 0;
}

static int scenario_bad_all(struct harness *h)
{
	for (unsigned int i = 0; i < NBAD; i++)
		if (run_bad_case(h, &bad_cases[i]))
			return -1;
	return 0;
}

/* Each case is also a scenario of its own, so meson names the failure. */
static int scenario_bad_named(struct harness *h, const char *name)
{
	for (unsigned int i = 0; i < NBAD; i++)
		if (!strcmp(bad_cases[i].name, name))
			return run_bad_case(h, &bad_cases[i]);
	return -2;
}

int bad_scenario_run(struct harness *h, const char *name)
{
	if (!strcmp(name, "bad-all"))
		return scenario_bad_all(h);
	return scenario_bad_named(h, name);
}

void bad_scenario_list(FILE *out)
{
	for (unsigned int i = 0; i < NBAD; i++)
		fprintf(out, "%s\n", bad_cases[i].name);
}
