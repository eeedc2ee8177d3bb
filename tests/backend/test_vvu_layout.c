// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the vvu driver believes of a device it does not trust: the vendor
 * capabilities (vvu_find_layout) must each lie inside their BAR and the list
 * must end, and a memory region the front-end describes (map_region) must
 * lie inside the shared-memory BAR. A fake pci_dev serves config space from
 * an array the tests write.
 */
#include <check.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <stddef.h>
#include <string.h>

#include "protocol/virtio.h"
#include "protocol/vvu.h"
#include "tests/unit/test_run.h"
#include "vblk-backend/vvu.h"

#define SHM_SIZE	(1ull << 30)

static uint8_t cfg[PCI_CFG_SPACE_SIZE];
static uint64_t bar_sizes[6];

static int fake_cfg_read(struct pci_dev *d, uint32_t off, uint32_t len,
			 uint32_t *val)
{
	(void)d;
	if (off + len > sizeof(cfg))
		return -EINVAL;
	*val = 0;
	memcpy(val, cfg + off, len);
	return 0;
}

static uint64_t fake_bar_size(struct pci_dev *d, unsigned int bar)
{
	(void)d;
	return bar < 6 ? bar_sizes[bar] : 0;
}

/* Where the fake maps BARs: an address never dereferenced. */
#define FAKE_MAP	((uintptr_t)0x100000000000ull)

static void *fake_bar_map(struct pci_dev *d, unsigned int bar, uint64_t off,
			  uint64_t len, void **map_base, size_t *map_len)
{
	(void)d;
	(void)len;
	*map_base = NULL;
	*map_len = 0;
	return (void *)(FAKE_MAP + ((uintptr_t)bar << 40) + off);
}

static const struct pci_dev_ops fake_ops = {
	.cfg_read = fake_cfg_read,
	.bar_size = fake_bar_size,
	.bar_map = fake_bar_map,
};

static struct pci_dev fake = { .ops = &fake_ops, .name = "fake" };
static uint8_t next_cap;	/* where the next capability goes */
static uint8_t prev_next;	/* the next field of the last one */

/* Appends a vendor capability of cap_len bytes; returns its position. */
static uint8_t put_cap(uint8_t cfg_type, uint8_t bar, uint32_t off,
		       uint64_t len, uint8_t cap_len, uint32_t extra)
{
	uint8_t pos = next_cap;
	struct virtio_pci_cap64 c = {
		.cap = { .cap_vndr = PCI_CAP_ID_VNDR, .cap_len = cap_len,
			 .cfg_type = cfg_type, .bar = bar, .offset = off,
			 .length = (uint32_t)len },
		.offset_hi = cfg_type == VVU_PCI_CAP_SHARED_MEMORY_CFG ? 0 : extra,
		.length_hi = (uint32_t)(len >> 32),
	};

	memcpy(cfg + pos, &c, cap_len);
	/* Link it after the previous one. */
	cfg[prev_next] = pos;
	prev_next = (uint8_t)(pos + 1);
	next_cap = (uint8_t)(pos + ((cap_len + 3) & ~3));
	return pos;
}

/* The vvu-proxy device's capabilities as vvu-proxyd builds them. */
static void good_device(void)
{
	memset(cfg, 0, sizeof(cfg));
	cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	next_cap = 0x40;
	prev_next = PCI_CAPABILITY_LIST;
	bar_sizes[0] = 0x8000;
	bar_sizes[2] = VVU_BAR2_SIZE;
	bar_sizes[4] = SHM_SIZE;
	put_cap(VIRTIO_PCI_CAP_COMMON_CFG, 0, 0, 0x38, 16, 0);
	put_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, 0, 0x3000, 8, 20, 4);
	put_cap(VIRTIO_PCI_CAP_ISR_CFG, 0, 0x1000, 1, 16, 0);
	put_cap(VIRTIO_PCI_CAP_DEVICE_CFG, 0, 0x2000, sizeof(struct vvu_config), 16, 0);
	put_cap(VVU_PCI_CAP_DOORBELL_CFG, 2, 0, VVU_DOORBELL_SIZE, 20, 4);
	put_cap(VVU_PCI_CAP_NOTIFICATION_CFG, 2, VVU_NOTIFICATION_OFFSET, 4, 16, 0);
	put_cap(VVU_PCI_CAP_SHARED_MEMORY_CFG, 4, 0, SHM_SIZE, 24, 0);
}

START_TEST(test_good_layout)
{
	struct vvu_layout l;

	good_device();
	ck_assert_int_eq(vvu_find_layout(&fake, &l), 0);
	ck_assert_uint_eq(l.notify.off, 0x3000);
	ck_assert_uint_eq(l.notify_mult, 4);
	ck_assert_uint_eq(l.doorbell.bar, 2);
	ck_assert_uint_eq(l.doorbell_mult, 4);
	ck_assert_uint_eq(l.shm.bar, 4);
	ck_assert_uint_eq(l.shm.len, SHM_SIZE);
}
END_TEST

START_TEST(test_region_past_bar)
{
	struct vvu_layout l;

	good_device();
	put_cap(VIRTIO_PCI_CAP_COMMON_CFG, 0, 0x7ff0, 0x38, 16, 0);
	/* A later duplicate is ignored: the first one counts. */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), 0);

	good_device();
	memset(cfg + 0x40 + offsetof(struct virtio_pci_cap, offset), 0xff, 4);
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);	/* offset */

	good_device();
	bar_sizes[4] = SHM_SIZE / 2;				/* shm > BAR4 */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);

	good_device();
	bar_sizes[2] = 0;					/* no BAR2 */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);

	good_device();
	cfg[0x40 + offsetof(struct virtio_pci_cap, bar)] = 9;	/* no such BAR */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);
}
END_TEST

START_TEST(test_bad_lists)
{
	struct vvu_layout l;

	good_device();
	cfg[PCI_STATUS] = 0;					/* no list */
	ck_assert_int_lt(vvu_find_layout(&fake, &l), 0);

	good_device();
	cfg[0x41] = 0x40;					/* a loop */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -ELOOP);

	good_device();
	cfg[PCI_CAPABILITY_LIST] = 0x20;			/* in the header */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);

	good_device();
	cfg[0x42] = 4;						/* cap_len too short */
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);

	good_device();
	cfg[0xfc] = PCI_CAP_ID_VNDR;				/* runs off the end */
	cfg[0xfe] = 16;
	cfg[prev_next] = 0xfc;
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -EINVAL);
}
END_TEST

START_TEST(test_missing_shm)
{
	struct vvu_layout l;

	good_device();
	/* Turn the shared-memory capability into one we do not know. */
	for (unsigned int p = 0x40; p < 0xf0; p += 4)
		if (cfg[p] == PCI_CAP_ID_VNDR &&
		    cfg[p + 3] == VVU_PCI_CAP_SHARED_MEMORY_CFG)
			cfg[p + 3] = 0x7f;
	ck_assert_int_eq(vvu_find_layout(&fake, &l), -ENOENT);
}
END_TEST

START_TEST(test_map_region_bounds)
{
	struct vvu v = { .pci = &fake, .shm_size = SHM_SIZE,
			 .l.shm = { .found = true, .bar = 4, .off = 0x1000 } };
	struct vhost_user_mem_region w = { .guest_phys_addr = 0x100000,
					   .memory_size = 0x1000,
					   .userspace_addr = 0x7f0000000000,
					   .mmap_offset = 0x2000 };
	struct mem_region r;

	ck_assert_int_eq(vvu_transport_ops.map_region(&v, &w, -1, &r), 0);
	ck_assert_ptr_eq(r.host, (void *)(FAKE_MAP + (4ull << 40) + 0x1000 + 0x2000));
	ck_assert_uint_eq(r.gpa, 0x100000);
	ck_assert_uint_eq(r.map_len, 0);	/* the BAR mapping is not ours */

	w.mmap_offset = SHM_SIZE - 0x800;			/* past the end */
	ck_assert_int_eq(vvu_transport_ops.map_region(&v, &w, -1, &r), -EINVAL);
	w.mmap_offset = UINT64_MAX - 0x10;			/* overflow */
	ck_assert_int_eq(vvu_transport_ops.map_region(&v, &w, -1, &r), -EINVAL);
	w.mmap_offset = 0;
	w.memory_size = 0;					/* empty */
	ck_assert_int_eq(vvu_transport_ops.map_region(&v, &w, -1, &r), -EINVAL);
	w.memory_size = SHM_SIZE;				/* all of it */
	ck_assert_int_eq(vvu_transport_ops.map_region(&v, &w, -1, &r), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vvu_layout");
	TCase *tc = tcase_create("untrusted device");

	tcase_add_test(tc, test_good_layout);
	tcase_add_test(tc, test_region_past_bar);
	tcase_add_test(tc, test_bad_lists);
	tcase_add_test(tc, test_missing_shm);
	tcase_add_test(tc, test_map_region_bounds);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
