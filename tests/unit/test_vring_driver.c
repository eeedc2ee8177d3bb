// SPDX-License-Identifier: GPL-2.0-only
/*
 * The driver side of the split ring against the project's device side
 * (common/virtqueue.c) over one memory table: chains, indirect tables,
 * index wraparound, a full ring, EVENT_IDX and flags, and used entries a
 * device must not write.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/memtable.h"
#include "common/virtqueue.h"
#include "common/vring_driver.h"
#include "tests/unit/test_run.h"

#define GPA		0x100000ull
#define MEM_SIZE	0x10000
#define DESC_OFF	0x0
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define TABLE_OFF	0x3000
#define DATA_OFF	0x4000

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));
static struct mem_table table;
static struct vring_drv drv;
static struct vq dev;
static struct vq_elem elem;

static void *at(uint64_t off)
{
	return mem + off;
}

/* Driver and device on a ring of num entries in mem. */
static void rings_init(uint16_t num, bool event_idx)
{
	struct mem_region r = {
		.gpa = GPA, .size = MEM_SIZE, .uva = 0x7f0000000000ull, .host = mem,
	};

	memset(mem, 0xcc, sizeof(mem));
	mem_table_init(&table);
	ck_assert_int_eq(mem_table_add(&table, &r), 0);
	ck_assert_int_eq(vring_drv_init(&drv, num, at(DESC_OFF), at(AVAIL_OFF),
					at(USED_OFF), event_idx), 0);
	ck_assert_int_eq(vq_init(&dev, &table, num, at(DESC_OFF), at(AVAIL_OFF),
				 at(USED_OFF), 0, event_idx), 0);
}

static void rings_fini(void)
{
	vring_drv_destroy(&drv);
}

/* A virtio-blk-like request: header out, data in, status in. */
static int add_request(void *token)
{
	const struct vring_buf bufs[3] = {
		{ GPA + DATA_OFF, 16, false },
		{ GPA + DATA_OFF + 0x100, 512, true },
		{ GPA + DATA_OFF + 0x400, 1, true },
	};

	return vring_drv_add(&drv, bufs, 3, token);
}

/* The device takes the next chain and completes it with len bytes. */
static uint16_t device_complete(uint32_t len)
{
	ck_assert_int_eq(vq_pop(&dev, &elem), 1);
	vq_push(&dev, elem.head, len);
	return elem.head;
}

static void expect_used(uint16_t id, uint32_t len, void *token)
{
	uint16_t got_id = 0xffff;
	uint32_t got_len = 0;
	void *got_token = NULL;

	ck_assert(vring_drv_has_used(&drv));
	ck_assert_int_eq(vring_drv_get_used(&drv, &got_id, &got_len, &got_token), 1);
	ck_assert_uint_eq(got_id, id);
	ck_assert_uint_eq(got_len, len);
	ck_assert_ptr_eq(got_token, token);
}

START_TEST(test_init_geometry)
{
	struct vring_drv v;

	ck_assert_int_eq(vring_drv_init(&v, 0, at(DESC_OFF), at(AVAIL_OFF), at(USED_OFF), false), -EINVAL);
	ck_assert_int_eq(vring_drv_init(&v, 3, at(DESC_OFF), at(AVAIL_OFF), at(USED_OFF), false), -EINVAL);
	ck_assert_int_eq(vring_drv_init(&v, 4, at(DESC_OFF + 8), at(AVAIL_OFF), at(USED_OFF), false), -EINVAL);
	ck_assert_int_eq(vring_drv_init(&v, 4, at(DESC_OFF), at(AVAIL_OFF + 1), at(USED_OFF), false), -EINVAL);
	ck_assert_int_eq(vring_drv_init(&v, 4, at(DESC_OFF), at(AVAIL_OFF), at(USED_OFF + 2), false), -EINVAL);
	ck_assert_int_eq(vring_drv_init(&v, 4, NULL, at(AVAIL_OFF), at(USED_OFF), false), -EINVAL);
	/* The rings start zeroed. */
	memset(mem, 0xcc, sizeof(mem));
	ck_assert_int_eq(vring_drv_init(&v, 4, at(DESC_OFF), at(AVAIL_OFF), at(USED_OFF), false), 0);
	ck_assert_uint_eq(((struct vring_avail *)at(AVAIL_OFF))->idx, 0);
	ck_assert_uint_eq(((struct vring_used *)at(USED_OFF))->idx, 0);
	ck_assert_uint_eq(v.num_free, 4);
	vring_drv_destroy(&v);
}
END_TEST

START_TEST(test_round_trip)
{
	int token, head;

	rings_init(8, false);
	head = add_request(&token);
	ck_assert_int_ge(head, 0);
	ck_assert_uint_eq(drv.num_free, 5);
	ck_assert_int_eq(vring_drv_get_used(&drv, NULL, NULL, NULL), 0);
	ck_assert(!vring_drv_has_used(&drv));

	ck_assert_int_eq(vq_pop(&dev, &elem), 1);
	ck_assert_uint_eq(elem.head, head);
	ck_assert_uint_eq(elem.out_num, 1);
	ck_assert_uint_eq(elem.in_num, 2);
	ck_assert_uint_eq(elem.out_len, 16);
	ck_assert_uint_eq(elem.in_len, 513);
	ck_assert_ptr_eq(elem.iov[1].iov_base, at(DATA_OFF + 0x100));
	vq_push(&dev, elem.head, 513);

	expect_used((uint16_t)head, 513, &token);
	ck_assert_uint_eq(drv.num_free, 8);
	ck_assert_int_eq(vring_drv_get_used(&drv, NULL, NULL, NULL), 0);
	rings_fini();
}
END_TEST

START_TEST(test_indirect)
{
	const struct vring_buf bufs[3] = {
		{ GPA + DATA_OFF, 16, false },
		{ GPA + DATA_OFF + 0x100, 4096, true },
		{ GPA + DATA_OFF + 0x2000, 1, true },
	};
	int token, head;

	rings_init(4, false);
	head = vring_drv_add_indirect(&drv, at(TABLE_OFF), GPA + TABLE_OFF, bufs, 3,
				      &token);
	ck_assert_int_ge(head, 0);
	ck_assert_uint_eq(drv.num_free, 3);
	ck_assert_int_eq(vq_pop(&dev, &elem), 1);
	ck_assert_uint_eq(elem.out_len, 16);
	ck_assert_uint_eq(elem.in_len, 4097);
	vq_push(&dev, elem.head, 4097);
	expect_used((uint16_t)head, 4097, &token);
	ck_assert_uint_eq(drv.num_free, 4);
	ck_assert_int_eq(vring_drv_add_indirect(&drv, at(TABLE_OFF), GPA + TABLE_OFF,
						bufs, 0, NULL), -EINVAL);
	rings_fini();
}
END_TEST

/* One add, pop, push, get cycle without Check's per-assert bookkeeping. */
static bool cycle_ok(int *tokens)
{
	const struct vring_buf one = { GPA + DATA_OFF, 8, true };
	int a = add_request(&tokens[0]);
	int b = vring_drv_add(&drv, &one, 1, &tokens[1]);
	uint16_t id_b, id_a;
	uint32_t len_b, len_a;
	void *tok_b, *tok_a;
	uint16_t head_a, head_b;

	if (a < 0 || b < 0 || vq_pop(&dev, &elem) != 1)
		return false;
	head_a = elem.head;
	if (vq_pop(&dev, &elem) != 1)
		return false;
	head_b = elem.head;
	/* The single buffer completes first. */
	vq_push(&dev, head_b, 8);
	vq_push(&dev, head_a, 1);
	return head_a == a && head_b == b &&
	       vring_drv_get_used(&drv, &id_b, &len_b, &tok_b) == 1 &&
	       vring_drv_get_used(&drv, &id_a, &len_a, &tok_a) == 1 &&
	       id_b == b && len_b == 8 && tok_b == &tokens[1] &&
	       id_a == a && len_a == 1 && tok_a == &tokens[0] &&
	       drv.num_free == 4;
}

/* 16-bit indices wrap over; out-of-order completion on the way. */
START_TEST(test_wraparound)
{
	unsigned int i, n = 40000;	/* 80000 entries each way */
	int tokens[2];

	rings_init(4, true);
	for (i = 0; i < n && cycle_ok(tokens); i++)
		;
	ck_assert_uint_eq(i, n);
	ck_assert_uint_eq(drv.avail_idx, (uint16_t)(2 * n));
	ck_assert_uint_eq(drv.last_used, (uint16_t)(2 * n));
	ck_assert_uint_eq(*vring_used_event(drv.avail, drv.num), drv.last_used);
	rings_fini();
}
END_TEST

START_TEST(test_full_ring)
{
	const struct vring_buf one = { GPA + DATA_OFF, 8, true };
	int heads[4], token;

	rings_init(4, false);
	ck_assert_int_eq(vring_drv_add(&drv, &one, 5, NULL), -EINVAL);
	ck_assert_int_eq(add_request(&token), 0);
	/* Three descriptors taken: a second request does not fit, one does. */
	ck_assert_int_eq(add_request(&token), -ENOSPC);
	heads[0] = vring_drv_add(&drv, &one, 1, &heads[0]);
	ck_assert_int_eq(heads[0], 3);
	ck_assert_int_eq(vring_drv_add(&drv, &one, 1, NULL), -ENOSPC);
	ck_assert_int_eq(vring_drv_add_indirect(&drv, at(TABLE_OFF), GPA + TABLE_OFF,
						&one, 1, NULL), -ENOSPC);
	ck_assert_uint_eq(drv.num_free, 0);

	/* Completing the single buffer frees exactly one descriptor. */
	ck_assert_uint_eq(device_complete(1), 0);
	ck_assert_uint_eq(device_complete(8), 3);
	expect_used(0, 1, &token);
	ck_assert_uint_eq(drv.num_free, 3);
	expect_used(3, 8, &heads[0]);
	for (int i = 0; i < 4; i++)
		ck_assert_int_ge(heads[i] = vring_drv_add(&drv, &one, 1, NULL), 0);
	ck_assert_int_eq(vring_drv_add(&drv, &one, 1, NULL), -ENOSPC);
	rings_fini();
}
END_TEST

/* Writes used entry idx as a device would, bypassing vq_push's checks. */
static void raw_used(uint32_t id, uint32_t len)
{
	struct vring_used *u = drv.used;

	u->ring[u->idx & (drv.num - 1)] = (struct vring_used_elem){ id, len };
	__atomic_store_n(&u->idx, (uint16_t)(u->idx + 1), __ATOMIC_RELEASE);
}

static void expect_broken(void)
{
	uint16_t id;
	uint32_t len;

	ck_assert_int_eq(vring_drv_get_used(&drv, &id, &len, NULL), -EPROTO);
	ck_assert(drv.broken);
	/* It stays broken. */
	ck_assert_int_eq(vring_drv_get_used(&drv, &id, &len, NULL), -EPROTO);
	rings_fini();
}

START_TEST(test_bad_used_id_range)
{
	rings_init(8, false);
	ck_assert_int_ge(add_request(NULL), 0);
	raw_used(8, 0);
	expect_broken();
}
END_TEST

START_TEST(test_bad_used_id_not_head)
{
	int head;

	rings_init(8, false);
	head = add_request(NULL);
	ck_assert_int_eq(head, 0);
	/* Descriptor 1 is in the chain, not its head; 5 is free. */
	raw_used(1, 0);
	expect_broken();
	rings_init(8, false);
	add_request(NULL);
	raw_used(5, 0);
	expect_broken();
}
END_TEST

START_TEST(test_bad_used_id_twice)
{
	uint16_t id;
	uint32_t len;

	rings_init(8, false);
	ck_assert_int_eq(add_request(NULL), 0);
	raw_used(0, 1);
	ck_assert_int_eq(vring_drv_get_used(&drv, &id, &len, NULL), 1);
	raw_used(0, 1);
	expect_broken();
}
END_TEST

START_TEST(test_bad_used_len)
{
	rings_init(8, false);
	ck_assert_int_eq(add_request(NULL), 0);
	raw_used(0, 514);
	expect_broken();
}
END_TEST

START_TEST(test_bad_used_idx_jump)
{
	rings_init(8, false);
	ck_assert_int_eq(add_request(NULL), 0);
	raw_used(0, 1);
	drv.used->idx += 8;
	expect_broken();
}
END_TEST

START_TEST(test_event_idx)
{
	uint16_t *avail_event, *used_event;
	uint16_t id;
	uint32_t len;

	rings_init(8, true);
	avail_event = vring_avail_event(drv.used, drv.num);
	used_event = vring_used_event(drv.avail, drv.num);

	/* The device wants a kick once entry 0 is made available. */
	ck_assert(!vq_enable_notify(&dev));
	ck_assert_uint_eq(*avail_event, 0);
	ck_assert_int_ge(add_request(NULL), 0);
	ck_assert(vring_drv_kick_prepare(&drv));
	/* Nothing new since: no kick; entries 1 and 2 with avail_event 0: none. */
	ck_assert(!vring_drv_kick_prepare(&drv));
	ck_assert_int_ge(add_request(NULL), 0);
	ck_assert(!vring_drv_kick_prepare(&drv));
	/* The device asks for entry 2 (avail_event 2): the next add kicks. */
	*avail_event = 2;
	ck_assert_int_ge(vring_drv_add(&drv, &(struct vring_buf){ GPA, 1, true }, 1, NULL), 0);
	ck_assert(vring_drv_kick_prepare(&drv));

	/* used_event follows what the driver took: interrupt for the next one. */
	ck_assert_uint_eq(*used_event, 0);
	device_complete(0);
	ck_assert(vq_should_notify(&dev));
	ck_assert_int_eq(vring_drv_get_used(&drv, &id, &len, NULL), 1);
	ck_assert_uint_eq(*used_event, 1);
	device_complete(0);
	ck_assert(vq_should_notify(&dev));
	device_complete(0);
	/* The driver has not taken entry 1 yet: no interrupt for entry 2. */
	ck_assert(!vq_should_notify(&dev));
	rings_fini();
}
END_TEST

START_TEST(test_flags_notify)
{
	rings_init(8, false);
	ck_assert_int_ge(add_request(NULL), 0);
	ck_assert(vring_drv_kick_prepare(&drv));
	vq_disable_notify(&dev);
	ck_assert_int_ge(add_request(NULL), 0);
	ck_assert(!vring_drv_kick_prepare(&drv));
	ck_assert(vq_enable_notify(&dev));	/* buffers arrived meanwhile */
	ck_assert(vring_drv_kick_prepare(&drv));
	rings_fini();
}
END_TEST

START_TEST(test_publish_raw)
{
	rings_init(4, false);
	/* A head the driver does not track is offered, its completion refused. */
	drv.desc[2] = (struct vring_desc){ GPA + DATA_OFF, 4, VRING_DESC_F_WRITE, 0 };
	vring_drv_publish(&drv, 2);
	ck_assert_uint_eq(device_complete(4), 2);
	expect_broken();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vring_driver");
	TCase *tc = tcase_create("vring_driver");

	tcase_add_test(tc, test_init_geometry);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_indirect);
	tcase_add_test(tc, test_wraparound);
	tcase_add_test(tc, test_full_ring);
	tcase_add_test(tc, test_bad_used_id_range);
	tcase_add_test(tc, test_bad_used_id_not_head);
	tcase_add_test(tc, test_bad_used_id_twice);
	tcase_add_test(tc, test_bad_used_len);
	tcase_add_test(tc, test_bad_used_idx_jump);
	tcase_add_test(tc, test_event_idx);
	tcase_add_test(tc, test_flags_notify);
	tcase_add_test(tc, test_publish_raw);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
