// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk request handling, driven with hand-built elements whose
 * iovecs point at local buffers, over a real temporary disk file.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vblk-backend/blk.h"

#define DISK_SECTORS	64
#define DISK_BYTES	(DISK_SECTORS * 512)

static struct blk_dev blk;
static struct vq_elem *elem;
static int disk_fd = -1;

/* A fresh disk: sector s is filled with the byte (s + 1). */
static int make_disk(void)
{
	char path[] = "/tmp/test_blk.XXXXXX";
	uint8_t sector[512];
	int fd = mkstemp(path), s;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	for (s = 0; s < DISK_SECTORS; s++) {
		memset(sector, s + 1, sizeof(sector));
		ck_assert_int_eq(pwrite(fd, sector, sizeof(sector), s * 512), 512);
	}
	return fd;
}

static void setup_rw(void)
{
	disk_fd = make_disk();
	ck_assert_int_eq(blk_init(&blk, disk_fd, false, 2, "vvu-serial-1"), 0);
	elem = calloc(1, sizeof(*elem));
	ck_assert_ptr_nonnull(elem);
}

static void setup_ro(void)
{
	disk_fd = make_disk();
	ck_assert_int_eq(blk_init(&blk, disk_fd, true, 1, NULL), 0);
	elem = calloc(1, sizeof(*elem));
	ck_assert_ptr_nonnull(elem);
}

static void teardown(void)
{
	close(disk_fd);
	free(elem);
}

/* Starts an element; add buffers with add_out / add_in, in that order. */
static void elem_reset(void)
{
	elem->out_num = elem->in_num = 0;
	elem->out_len = elem->in_len = 0;
	elem->head = 3;
}

static void add_out(void *buf, size_t len)
{
	ck_assert_uint_eq(elem->in_num, 0);
	elem->iov[elem->out_num].iov_base = buf;
	elem->iov[elem->out_num].iov_len = len;
	elem->out_num++;
	elem->out_len += len;
}

static void add_in(void *buf, size_t len)
{
	elem->iov[elem->out_num + elem->in_num].iov_base = buf;
	elem->iov[elem->out_num + elem->in_num].iov_len = len;
	elem->in_num++;
	elem->in_len += len;
}

static struct virtio_blk_outhdr hdr_of(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	return h;
}

/* Runs the element; returns the status byte, checks used_len if >= 0. */
static uint8_t run(uint8_t *status, long want_used)
{
	uint32_t used = 0;

	*status = 0xee;
	ck_assert_int_eq(blk_handle_request(&blk, elem, &used), 0);
	if (want_used >= 0)
		ck_assert_uint_eq(used, (uint32_t)want_used);
	return *status;
}

static void read_disk(uint64_t off, void *buf, size_t len)
{
	ck_assert_int_eq(pread(disk_fd, buf, len, (off_t)off), (ssize_t)len);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

START_TEST(test_config_and_features)
{
	uint64_t f = blk_features(&blk);
	struct virtio_blk_config cfg;

	ck_assert_uint_eq(blk.capacity, DISK_SECTORS);
	ck_assert_uint_eq(blk_device_ops.config_size(&blk), sizeof(cfg));
	blk_device_ops.get_config(&blk, &cfg, 0, sizeof(cfg));
	ck_assert_uint_eq(cfg.capacity, DISK_SECTORS);
	ck_assert_uint_eq(cfg.seg_max, BLK_SEG_MAX);
	ck_assert_uint_eq(cfg.blk_size, 512);
	ck_assert_uint_eq(cfg.num_queues, 2);
	ck_assert_uint_eq(cfg.max_discard_sectors, BLK_MAX_DISCARD_SECTORS);
	ck_assert_uint_eq(cfg.max_write_zeroes_sectors, BLK_MAX_DISCARD_SECTORS);
	ck_assert_uint_eq(cfg.write_zeroes_may_unmap, 1);
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	ck_assert(!(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
}
END_TEST

START_TEST(test_ro_features)
{
	uint64_t f = blk_features(&blk);

	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	ck_assert(!(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD)));
	ck_assert(!(f & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES)));
	ck_assert_uint_eq(blk.config.max_discard_sectors, 0);
}
END_TEST

START_TEST(test_read)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_IN, 5);
	uint8_t data[1024], status;

	elem_reset();
	add_out(&h, sizeof(h));
	add_in(data, sizeof(data));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1025), VIRTIO_BLK_S_OK);
	ck_assert(all_bytes(data, 512, 6));
	ck_assert(all_bytes(data + 512, 512, 7));
}
END_TEST

START_TEST(test_read_scattered_with_status_in_data_buffer)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_IN, 1);
	uint8_t hdrbuf[16], a[100], b[412 + 1];

	/* Header split across two buffers, status sharing the last one. */
	memcpy(hdrbuf, &h, sizeof(h));
	elem_reset();
	add_out(hdrbuf, 7);
	add_out(hdrbuf + 7, 9);
	add_in(a, sizeof(a));
	add_in(b, sizeof(b));
	ck_assert_uint_eq(run(&b[412], 513), VIRTIO_BLK_S_OK);
	ck_assert(all_bytes(a, sizeof(a), 2));
	ck_assert(all_bytes(b, 412, 2));
}
END_TEST

START_TEST(test_write_then_flush)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_OUT, DISK_SECTORS - 2);
	uint8_t d1[300], d2[724], status, back[1024];

	memset(d1, 0xa1, sizeof(d1));
	memset(d2, 0xb2, sizeof(d2));
	elem_reset();
	add_out(&h, sizeof(h));
	add_out(d1, sizeof(d1));
	add_out(d2, sizeof(d2));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_OK);
	read_disk((DISK_SECTORS - 2) * 512, back, sizeof(back));
	ck_assert(all_bytes(back, 300, 0xa1));
	ck_assert(all_bytes(back + 300, 724, 0xb2));

	h = hdr_of(VIRTIO_BLK_T_FLUSH, 0);
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(test_past_capacity_and_overflow)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_IN, DISK_SECTORS - 1);
	uint8_t data[1024], status, back[512];

	/* One sector fits, two do not. */
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(data, sizeof(data));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_IOERR);

	/* sector * 512 wraps to a small offset: must not write sector 0. */
	h = hdr_of(VIRTIO_BLK_T_OUT, (UINT64_MAX >> 9) + 1);
	memset(data, 0xcc, sizeof(data));
	elem_reset();
	add_out(&h, sizeof(h));
	add_out(data, 512);
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_IOERR);
	h.sector = UINT64_MAX;
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_IOERR);
	read_disk(0, back, sizeof(back));
	ck_assert(all_bytes(back, sizeof(back), 1));

	/* Starting exactly at the end with data is past it too. */
	h = hdr_of(VIRTIO_BLK_T_IN, DISK_SECTORS);
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(data, 512);
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(test_partial_sector_is_ioerr)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_OUT, 0);
	uint8_t data[513] = { 0 }, status, back[512];

	elem_reset();
	add_out(&h, sizeof(h));
	add_out(data, sizeof(data));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_IOERR);
	read_disk(0, back, sizeof(back));
	ck_assert(all_bytes(back, sizeof(back), 1));
}
END_TEST

START_TEST(test_get_id)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_GET_ID, 0);
	uint8_t id[20], status;
	char want[20] = "vvu-serial-1";

	memset(id, 0xff, sizeof(id));
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(id, sizeof(id));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 21), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(id, want, sizeof(want));

	/* A short buffer gets what fits and nothing beyond it. */
	memset(id, 0xff, sizeof(id));
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(id, 4);
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 5), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(id, "vvu-", 4);
	ck_assert_uint_eq(id[4], 0xff);
}
END_TEST

START_TEST(test_unknown_type_unsupp)
{
	struct virtio_blk_outhdr h = hdr_of(99, 0);
	uint8_t status;

	elem_reset();
	add_out(&h, sizeof(h));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_UNSUPP);
}
END_TEST

/* A DISCARD or WRITE_ZEROES request with the given segments. */
static uint8_t run_dwz(uint32_t type, const struct virtio_blk_discard_write_zeroes *seg,
		       size_t nseg, size_t extra_bytes)
{
	static uint8_t buf[16 + 64 * 16 + 16];
	struct virtio_blk_outhdr h = hdr_of(type, 0);
	uint8_t status;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 16, seg, nseg * sizeof(*seg));
	elem_reset();
	add_out(buf, 16 + nseg * sizeof(*seg) + extra_bytes);
	add_in(&status, 1);
	return run(&status, 1);
}

START_TEST(test_write_zeroes)
{
	struct virtio_blk_discard_write_zeroes seg[2] = {
		{ .sector = 2, .num_sectors = 2, .flags = 0 },
		{ .sector = 10, .num_sectors = 1, .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP },
	};
	uint8_t back[512 * 12];

	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, seg, 2, 0), VIRTIO_BLK_S_OK);
	read_disk(0, back, sizeof(back));
	ck_assert(all_bytes(back + 512, 512, 2));
	ck_assert(all_bytes(back + 1024, 1024, 0));
	ck_assert(all_bytes(back + 2048, 512, 5));
	ck_assert(all_bytes(back + 9 * 512, 512, 10));
	ck_assert(all_bytes(back + 10 * 512, 512, 0));
	ck_assert(all_bytes(back + 11 * 512, 512, 12));
}
END_TEST

START_TEST(test_discard)
{
	struct virtio_blk_discard_write_zeroes seg = {
		.sector = 8, .num_sectors = 8, .flags = 0,
	};
	struct stat st;

	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_DISCARD, &seg, 1, 0), VIRTIO_BLK_S_OK);
	/* The file keeps its size (KEEP_SIZE), whatever got punched. */
	ck_assert_int_eq(fstat(disk_fd, &st), 0);
	ck_assert_int_eq(st.st_size, DISK_BYTES);
}
END_TEST

START_TEST(test_discard_bad_requests)
{
	struct virtio_blk_discard_write_zeroes seg = {
		.sector = DISK_SECTORS - 1, .num_sectors = 2,
	};
	struct virtio_blk_discard_write_zeroes many[BLK_MAX_DISCARD_SEG + 1];
	uint8_t back[512];

	/* Past capacity, and sector + num wrapping around. */
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1, 0),
			  VIRTIO_BLK_S_IOERR);
	seg.sector = UINT64_MAX - 1;
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_DISCARD, &seg, 1, 0), VIRTIO_BLK_S_IOERR);
	/* Flags discard does not know; unknown write-zeroes flags. */
	seg.sector = 0;
	seg.num_sectors = 1;
	seg.flags = 1;
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_DISCARD, &seg, 1, 0), VIRTIO_BLK_S_UNSUPP);
	seg.flags = 2;
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1, 0),
			  VIRTIO_BLK_S_UNSUPP);
	/* Data that is not whole segments; no segment; too many. */
	seg.flags = 0;
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1, 3),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 0, 0),
			  VIRTIO_BLK_S_UNSUPP);
	memset(many, 0, sizeof(many));
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, many,
				  BLK_MAX_DISCARD_SEG + 1, 0), VIRTIO_BLK_S_UNSUPP);
	/* A bad second segment stops the good first one too. */
	many[0].num_sectors = 1;
	many[1].sector = DISK_SECTORS;
	many[1].num_sectors = 1;
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, many, 2, 0),
			  VIRTIO_BLK_S_IOERR);
	read_disk(0, back, sizeof(back));
	ck_assert(all_bytes(back, sizeof(back), 1));
}
END_TEST

START_TEST(test_read_only_rejects_writes)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_OUT, 0);
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0, .num_sectors = 1 };
	uint8_t data[512], status, back[512];

	memset(data, 0x55, sizeof(data));
	elem_reset();
	add_out(&h, sizeof(h));
	add_out(data, sizeof(data));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_DISCARD, &seg, 1, 0), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1, 0),
			  VIRTIO_BLK_S_IOERR);
	read_disk(0, back, sizeof(back));
	ck_assert(all_bytes(back, sizeof(back), 1));

	/* Reads and flushes still work. */
	h = hdr_of(VIRTIO_BLK_T_IN, 3);
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(data, sizeof(data));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 513), VIRTIO_BLK_S_OK);
	ck_assert(all_bytes(data, sizeof(data), 4));
	h = hdr_of(VIRTIO_BLK_T_FLUSH, 0);
	elem_reset();
	add_out(&h, sizeof(h));
	add_in(&status, 1);
	ck_assert_uint_eq(run(&status, 1), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(test_malformed_requests_break_queue)
{
	struct virtio_blk_outhdr h = hdr_of(VIRTIO_BLK_T_IN, 0);
	uint8_t data[512], status = 0x77;
	uint32_t used = 0;

	/* Header shorter than 16 bytes. */
	elem_reset();
	add_out(&h, 15);
	add_in(data, sizeof(data));
	add_in(&status, 1);
	ck_assert_int_eq(blk_handle_request(&blk, elem, &used), -EINVAL);
	ck_assert_uint_eq(status, 0x77);

	/* No writable byte at all: status missing or read-only. */
	elem_reset();
	add_out(&h, sizeof(h));
	add_out(&status, 1);
	ck_assert_int_eq(blk_handle_request(&blk, elem, &used), -EINVAL);
	ck_assert_uint_eq(status, 0x77);

	/* The header must be readable: a writable one does not count. */
	elem_reset();
	add_in(&h, sizeof(h));
	add_in(&status, 1);
	ck_assert_int_eq(blk_handle_request(&blk, elem, &used), -EINVAL);
}
END_TEST

START_TEST(test_init_rejects_long_serial)
{
	struct blk_dev b2;

	ck_assert_int_eq(blk_init(&b2, disk_fd, false, 1, "123456789012345678901"),
			 -EINVAL);
	ck_assert_int_eq(blk_init(&b2, disk_fd, false, 1, "12345678901234567890"), 0);
	ck_assert_mem_eq(b2.serial, "12345678901234567890", 20);
}
END_TEST

static Suite *blk_suite(void)
{
	Suite *s = suite_create("blk");
	TCase *rw = tcase_create("read-write");
	TCase *ro = tcase_create("read-only");

	tcase_add_checked_fixture(rw, setup_rw, teardown);
	tcase_add_test(rw, test_config_and_features);
	tcase_add_test(rw, test_read);
	tcase_add_test(rw, test_read_scattered_with_status_in_data_buffer);
	tcase_add_test(rw, test_write_then_flush);
	tcase_add_test(rw, test_past_capacity_and_overflow);
	tcase_add_test(rw, test_partial_sector_is_ioerr);
	tcase_add_test(rw, test_get_id);
	tcase_add_test(rw, test_unknown_type_unsupp);
	tcase_add_test(rw, test_write_zeroes);
	tcase_add_test(rw, test_discard);
	tcase_add_test(rw, test_discard_bad_requests);
	tcase_add_test(rw, test_malformed_requests_break_queue);
	tcase_add_test(rw, test_init_rejects_long_serial);
	suite_add_tcase(s, rw);

	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, test_ro_features);
	tcase_add_test(ro, test_read_only_rejects_writes);
	suite_add_tcase(s, ro);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(blk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
