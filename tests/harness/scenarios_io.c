// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scenarios a correct back-end passes: vblk-backend and qemu-storage-daemon
 * both run them, which is what shows the harness itself is right.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/harness/harness.h"

#define SECTOR		VIRTIO_BLK_SECTOR_SIZE

int session_open(struct drv *d, const char *sock, unsigned int nqueues)
{
	int r = drv_connect(d, sock, nqueues);

	if (!r)
		r = drv_start(d, 0);
	if (r)
		pr_err("session on %s failed: %s", sock, strerror(-r));
	return r;
}

void fill_pattern(void *buf, uint32_t len, uint32_t seed)
{
	uint32_t *w = buf, x = seed * 2654435761u + 1;

	for (uint32_t i = 0; i < len / 4; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		w[i] = x;
	}
}

int file_matches(const char *path, uint64_t off, const void *expect, uint32_t len)
{
	uint8_t buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || len > sizeof(buf))
		return 0;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len && !memcmp(buf, expect, len);
}

/* Writes len bytes of pattern seed at sector, reads them back, compares. */
static int write_read(struct drv *d, unsigned int q, uint64_t sector,
		      uint64_t gpa, uint32_t len, uint32_t seg, bool indirect,
		      uint32_t seed)
{
	uint64_t rd = drv_alloc(d, len, 512);
	int st;

	fill_pattern(drv_host(d, gpa), len, seed);
	st = drv_blk_rw(d, q, VIRTIO_BLK_T_OUT, sector, gpa, len, seg, indirect);
	CHECK(st == VIRTIO_BLK_S_OK, "write %u bytes at sector %llu: status %d",
	      len, (unsigned long long)sector, st);
	memset(drv_host(d, rd), 0xa5, len);
	st = drv_blk_rw(d, q, VIRTIO_BLK_T_IN, sector, rd, len, seg, indirect);
	CHECK(st == VIRTIO_BLK_S_OK, "read back: status %d", st);
	CHECK(!memcmp(drv_host(d, rd), drv_host(d, gpa), len),
	      "read back at sector %llu differs", (unsigned long long)sector);
	return 0;
}

int io_roundtrip(struct drv *d, unsigned int q, uint64_t sector, uint32_t seed)
{
	return write_read(d, q, sector, drv_alloc(d, 4096, 4096), 4096, 0,
			  false, seed);
}

static int zeroes_at(struct drv *d, uint64_t sector, uint32_t len)
{
	uint64_t rd = drv_alloc(d, len, 512);
	uint8_t *p = drv_host(d, rd);
	int st;

	memset(p, 0xa5, len);
	st = drv_blk_rw(d, 0, VIRTIO_BLK_T_IN, sector, rd, len, 0, false);
	CHECK(st == VIRTIO_BLK_S_OK, "read: status %d", st);
	for (uint32_t i = 0; i < len; i++)
		CHECK(p[i] == 0, "byte %u at sector %llu is 0x%x, not zero", i,
		      (unsigned long long)sector, p[i]);
	return 0;
}

int blk_range_op(struct drv *d, uint32_t type, uint64_t sector, uint32_t num)
{
	uint64_t gpa = drv_alloc(d, 16, 16);
	struct virtio_blk_discard_write_zeroes *s = drv_host(d, gpa);

	*s = (struct virtio_blk_discard_write_zeroes){ .sector = sector,
						       .num_sectors = num };
	return drv_blk_rw(d, 0, type, 0, gpa, sizeof(*s), 0, false);
}

static int check_get_id(struct harness *h, struct drv *d)
{
	uint64_t gpa = drv_alloc(d, VIRTIO_BLK_ID_BYTES, 16);
	char *id = drv_host(d, gpa);
	int st = drv_blk_rw(d, 0, VIRTIO_BLK_T_GET_ID, 0, gpa,
			    VIRTIO_BLK_ID_BYTES, 0, false);

	CHECK(st == VIRTIO_BLK_S_OK, "GET_ID: status %d", st);
	if (h->serial)
		CHECK(!strncmp(id, h->serial, VIRTIO_BLK_ID_BYTES),
		      "GET_ID '%.20s', expected '%s'", id, h->serial);
	return 0;
}

/* The writes of the io scenario, and where they must land in the file. */
static int io_writes(struct drv *d, uint64_t *gpas)
{
	uint64_t border = DRV_RAM_GPA + DRV_REGION_SPLIT - 2048;

	gpas[0] = drv_alloc(d, 8192, 4096);
	gpas[1] = drv_alloc(d, 12288, 4096);
	gpas[2] = drv_alloc(d, 8192, 4096);
	gpas[3] = border;	/* spans the two memory regions */
	CHECK(d->brk < border, "harness RAM layout: buffers reach the border");
	CHECK(!write_read(d, 0, 0, gpas[0], 8192, 0, false, 1), "plain");
	CHECK(!write_read(d, 0, 100, gpas[1], 12288, 4096, false, 2), "3 descriptors");
	CHECK(!write_read(d, 0, 200, gpas[2], 8192, 1024, true, 3), "indirect");
	CHECK(!write_read(d, 0, 300, gpas[3], 4096, 0, false, 4), "across regions");
	return 0;
}

static int io_check_file(struct harness *h, struct drv *d, const uint64_t *gpas)
{
	static const struct { uint64_t sector; uint32_t len; } at[] = {
		{ 0, 8192 }, { 100, 12288 }, { 200, 8192 }, { 300, 4096 },
	};

	for (unsigned int i = 0; i < 4; i++) {
		if (i == 0 || i == 1)
			continue;	/* overwritten by DISCARD / WRITE_ZEROES */
		CHECK(file_matches(h->file, at[i].sector * SECTOR,
				   drv_host(d, gpas[i]), at[i].len),
		      "%s does not hold write %u at sector %llu", h->file, i,
		      (unsigned long long)at[i].sector);
	}
	return 0;
}

static int scenario_io(struct harness *h)
{
	struct drv d;
	uint64_t gpas[4];
	uint16_t base;
	int st, r = -1;

	CHECK(!drv_init(&d), "driver init");
	if (session_open(&d, h->sock, 1) || io_writes(&d, gpas))
		goto out;
	st = drv_blk_rw(&d, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, false);
	CHECK(st == VIRTIO_BLK_S_OK, "FLUSH: status %d", st);
	st = blk_range_op(&d, VIRTIO_BLK_T_DISCARD, 0, 16);
	CHECK(st == VIRTIO_BLK_S_OK, "DISCARD: status %d", st);
	if (zeroes_at(&d, 0, 8192))
		goto out;
	st = blk_range_op(&d, VIRTIO_BLK_T_WRITE_ZEROES, 100, 24);
	CHECK(st == VIRTIO_BLK_S_OK, "WRITE_ZEROES: status %d", st);
	if (zeroes_at(&d, 100, 12288) || check_get_id(h, &d))
		goto out;
	CHECK(!drv_stop(&d, &base), "stop");
	CHECK(base == d.vq[0].ring.avail_idx, "GET_VRING_BASE %u, driver made %u available",
	      base, d.vq[0].ring.avail_idx);
	r = io_check_file(h, &d, gpas);
out:
	drv_destroy(&d);
	return r;
}

/* Every round's write is in the file: nothing was lost across reconnects. */
static int reconnect_check_file(struct harness *h)
{
	uint8_t expect[4096];

	fill_pattern(expect, sizeof(expect), 11);
	CHECK(file_matches(h->file, 8 * SECTOR, expect, sizeof(expect)),
	      "first write lost");
	for (int round = 0; round < 3; round++) {
		fill_pattern(expect, sizeof(expect), 20 + round);
		CHECK(file_matches(h->file, (64 + 8 * round) * SECTOR, expect,
				   sizeof(expect)), "round %d's write lost", round);
	}
	return 0;
}

/* Drop the connection mid-session; a new one resumes the same rings. */
static int scenario_reconnect(struct harness *h)
{
	struct drv d;
	int r = -1;

	CHECK(!drv_init(&d), "driver init");
	if (session_open(&d, h->sock, 1) || io_roundtrip(&d, 0, 8, 11))
		goto out;
	drv_disconnect(&d);
	for (int round = 0; round < 3; round++) {
		/* As QEMU does after losing the back-end: resume from used->idx. */
		if (drv_connect(&d, h->sock, 1) || drv_start(&d, d.vq[0].ring.last_used))
			goto out;
		if (io_roundtrip(&d, 0, 64 + 8 * round, 20 + round))
			goto out;
		drv_disconnect(&d);
	}
	r = reconnect_check_file(h);
out:
	drv_destroy(&d);
	return r;
}

static int scenario_readonly(struct harness *h)
{
	struct drv d;
	uint64_t gpa;
	int st, r = -1;

	CHECK(!drv_init(&d), "driver init");
	if (session_open(&d, h->sock, 1))
		goto out;
	CHECK(d.fe.features & VIRTIO_BIT(VIRTIO_BLK_F_RO), "RO not offered");
	gpa = drv_alloc(&d, 4096, 4096);
	st = drv_blk_rw(&d, 0, VIRTIO_BLK_T_OUT, 0, gpa, 4096, 0, false);
	CHECK(st == VIRTIO_BLK_S_IOERR, "write to a read-only disk: status %d", st);
	st = drv_blk_rw(&d, 0, VIRTIO_BLK_T_IN, 0, gpa, 4096, 0, false);
	CHECK(st == VIRTIO_BLK_S_OK, "read of a read-only disk: status %d", st);
	r = 0;
out:
	drv_destroy(&d);
	return r;
}

/* Two queues with requests in flight on both at once. */
static int scenario_multiqueue(struct harness *h)
{
	struct drv d;
	int r = -1;

	CHECK(!drv_init(&d), "driver init");
	if (session_open(&d, h->sock, 2))
		goto out;
	for (unsigned int i = 0; i < 8; i++)
		if (io_roundtrip(&d, i % 2, 16 * i, 100 + i))
			goto out;
	r = 0;
out:
	drv_destroy(&d);
	return r;
}

/* Puts n requests of len bytes on queue 0 at once, then reaps them all. */
static int batch_rw(struct drv *d, uint32_t type, uint64_t *data, unsigned int n,
		    uint32_t len)
{
	uint64_t hdrs = drv_alloc(d, 32 * n, 16);
	uint32_t id, used_len;

	for (unsigned int i = 0; i < n; i++) {
		struct virtio_blk_outhdr *hdr = drv_host(d, hdrs + 32 * i);
		struct vring_buf segs[3] = {
			{ hdrs + 32 * i, sizeof(*hdr), false },
			{ data[i], len, type == VIRTIO_BLK_T_IN },
			{ hdrs + 32 * i + 16, 1, true },
		};

		*hdr = (struct virtio_blk_outhdr){ .type = type,
						   .sector = i * (len / SECTOR) };
		CHECK(drv_submit(d, 0, segs, 3, false) >= 0, "submit %u", i);
	}
	for (unsigned int i = 0; i < n; i++)
		CHECK(!drv_wait_used(d, 0, 5000, &id, &used_len), "completion %u", i);
	for (unsigned int i = 0; i < n; i++)
		CHECK(*(uint8_t *)drv_host(d, hdrs + 32 * i + 16) == VIRTIO_BLK_S_OK,
		      "request %u failed", i);
	return 0;
}

/*
 * Big requests in flight together: the back-end serves such batches on
 * several threads, and every byte must still land where it belongs.
 */
static int scenario_batch(struct harness *h)
{
	enum { N = 12, LEN = 128 * 1024 };
	uint64_t wr[N], rd[N];
	struct drv d;
	int r = -1;

	CHECK(!drv_init(&d), "driver init");
	if (session_open(&d, h->sock, 1))
		goto out;
	for (unsigned int i = 0; i < N; i++) {
		wr[i] = drv_alloc(&d, LEN, 4096);
		rd[i] = drv_alloc(&d, LEN, 4096);
		fill_pattern(drv_host(&d, wr[i]), LEN, 500 + i);
	}
	if (batch_rw(&d, VIRTIO_BLK_T_OUT, wr, N, LEN) ||
	    batch_rw(&d, VIRTIO_BLK_T_IN, rd, N, LEN))
		goto out;
	for (unsigned int i = 0; i < N; i++) {
		CHECK(!memcmp(drv_host(&d, rd[i]), drv_host(&d, wr[i]), LEN),
		      "request %u read back differs", i);
		CHECK(file_matches(h->file, (uint64_t)i * LEN, drv_host(&d, wr[i]),
				   65536), "%s lacks request %u", h->file, i);
	}
	r = 0;
out:
	drv_destroy(&d);
	return r;
}

const struct scenario io_scenarios[] = {
	{ "batch", scenario_batch },
	{ "io", scenario_io },
	{ "reconnect", scenario_reconnect },
	{ "readonly", scenario_readonly },
	{ "multiqueue", scenario_multiqueue },
	{ NULL, NULL },
};
