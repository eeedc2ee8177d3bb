// SPDX-License-Identifier: GPL-2.0-only
/* Wire-format facts beyond the static assertions in protocol/. */
#include <check.h>
#include <stddef.h>
#include <string.h>

#include "protocol/devchan.h"
#include "protocol/pvh.h"
#include "protocol/vhost_user.h"
#include "protocol/virtio.h"
#include "protocol/virtio_blk.h"
#include "protocol/virtio_pci_layout.h"
#include "protocol/vvu.h"

START_TEST(test_vring_sizes)
{
	/* The split-ring sizes Linux's vring_size() gives for a 256 queue. */
	ck_assert_uint_eq(VRING_DESC_SIZE(256), 4096);
	ck_assert_uint_eq(VRING_AVAIL_SIZE(256), 6 + 2 * 256);
	ck_assert_uint_eq(VRING_USED_SIZE(256), 6 + 8 * 256);
}
END_TEST

START_TEST(test_need_event)
{
	/* Event index inside (old, new]: notify. */
	ck_assert(vring_need_event(5, 6, 5));
	ck_assert(vring_need_event(5, 10, 3));
	/* Before old or at/after new: no notification. */
	ck_assert(!vring_need_event(2, 10, 3));
	ck_assert(!vring_need_event(10, 10, 3));
	/* Wrap-around of the free-running u16 indices. */
	ck_assert(vring_need_event(0xffff, 1, 0xfffe));
	ck_assert(!vring_need_event(1, 1, 0xfffe));
}
END_TEST

START_TEST(test_vhost_user_layout)
{
	ck_assert_uint_eq(VHOST_USER_MEMORY_SIZE(1), 40);
	ck_assert_uint_eq(VHOST_USER_MEMORY_SIZE(8), 264);
	ck_assert_uint_ge(VHOST_USER_PAYLOAD_MAX, VHOST_USER_MEMORY_SIZE(8));
	ck_assert_uint_eq(VHOST_USER_REPLY_FLAGS, 0x5);
	/* QEMU's GET_CONFIG sizes for virtio-blk: 36, 48 and 57 bytes. */
	ck_assert_uint_ge(sizeof(struct virtio_blk_config), 57);
}
END_TEST

START_TEST(test_devchan_layout)
{
	/* The numbers protocol/devchan.md states. */
	ck_assert_uint_eq(DEVCHAN_MSG_MAX, 328);
	ck_assert_uint_eq(DEVCHAN_CAPS_MAX, 176);
	ck_assert_uint_eq(DEVCHAN_CAPS_START + DEVCHAN_CAPS_MAX + DEVCHAN_MSIX_CAP_SIZE,
			  DEVCHAN_CONFIG_SIZE - 4);
	ck_assert_uint_eq(offsetof(struct devchan_access_cmd, region), 2);
	ck_assert_uint_eq(offsetof(struct devchan_access_cmd, offset), 16);
	ck_assert_uint_eq(offsetof(struct devchan_access_cmd, data), 24);
	/* "DCHN" in memory order. */
	ck_assert_int_eq(memcmp(&(uint32_t){ DEVCHAN_MAGIC }, "DCHN", 4), 0);
}
END_TEST

START_TEST(test_vvu_layout)
{
	ck_assert_uint_eq(VVU_MSIX_VECTORS, 19);
	ck_assert_uint_lt(VIRTIO_PCI_MSIX_TABLE_OFF + VVU_MSIX_VECTORS * 16,
			  VIRTIO_PCI_MSIX_PBA_OFF);
	ck_assert_uint_lt(VVU_NOTIFICATION_OFFSET + 4, VVU_BAR2_SIZE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc = tcase_create("layout");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_vring_sizes);
	tcase_add_test(tc, test_need_event);
	tcase_add_test(tc, test_vhost_user_layout);
	tcase_add_test(tc, test_vvu_layout);
	tcase_add_test(tc, test_devchan_layout);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
