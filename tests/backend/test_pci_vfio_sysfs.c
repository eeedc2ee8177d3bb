// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_vfio's preconditions without a device: the PCI address parser, and
 * every sysfs check against a fake sysfs and /dev tree in a temporary
 * directory, each failure asserted by the fix its message names.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/test_run.h"
#include "vblk-backend/pci_vfio_sysfs.h"

#define BDF	"0000:00:10.0"

START_TEST(test_bdf_good)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "0000:00:10.0", "0000:00:10.0" },
		{ "00:10.0", "0000:00:10.0" },
		{ "0001:Ab:1F.7", "0001:ab:1f.7" },
		{ "ffff:ff:00.3", "ffff:ff:00.3" },
	};
	char out[PCI_BDF_LEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(out, 'x', sizeof(out));
		ck_assert_int_eq(pci_bdf_parse(good[i].in, out), 0);
		ck_assert_str_eq(out, good[i].out);
	}
}
END_TEST

START_TEST(test_bdf_bad)
{
	static const char *const bad[] = {
		"", "0", "00:10", "0000:00:10", "00:10.8", "00:20.0",
		"0:00:10.0", "00000:00:10.0", "0000:00:10.0 ", " 00:10.0",
		"0000-00:10.0", "0000:00.10.0", "0000:00:10:0", "00:1g.0",
		"0000:00:10.00", "+0:00:10.0", "0x00:10.0", "00:10.0\n",
	};
	char out[PCI_BDF_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pci_bdf_parse(bad[i], out) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(pci_bdf_parse(NULL, out), -EINVAL);
}
END_TEST

/* The fake tree: <top>/sys and <top>/dev. */
static char top[64], sys_root[96], dev_root[96];
static struct vfio_roots roots = { sys_root, dev_root };

static void mkdirs(const char *rel)
{
	char path[256], *p;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	for (p = path + strlen(top) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		ck_assert(!mkdir(path, 0755) || errno == EEXIST);
		*p = '/';
	}
	ck_assert(!mkdir(path, 0755) || errno == EEXIST);
}

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void link_to(const char *rel, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	unlink(path);
	ck_assert_int_eq(symlink(target, path), 0);
}

static void drop(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	ck_assert_int_eq(unlink(path), 0);
}

#define DEV	"sys/bus/pci/devices/" BDF

/* A vvu-proxy device bound to vfio-pci in no-IOMMU group 0: all is well. */
static void setup(void)
{
	strcpy(top, "/tmp/test_pci_vfio_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(sys_root, sizeof(sys_root), "%s/sys", top);
	snprintf(dev_root, sizeof(dev_root), "%s/dev", top);
	mkdirs(DEV);
	mkdirs("sys/bus/pci/drivers/vfio-pci");
	mkdirs("dev/vfio");
	put(DEV "/vendor", "0x1af4\n");
	put(DEV "/device", "0x107d\n");
	link_to(DEV "/driver", "../../../bus/pci/drivers/vfio-pci");
	link_to(DEV "/iommu_group", "../../../kernel/iommu_groups/0");
	put("dev/vfio/noiommu-0", "");
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char msg[VFIO_MSG_LEN];
static struct vfio_group_node node;

static int check(void)
{
	msg[0] = '\0';
	return vfio_sysfs_check(&roots, BDF, &node, msg, sizeof(msg));
}

/* The check fails with err and a message holding every one of the texts. */
static void fails_with(int err, const char *const *texts)
{
	ck_assert_int_eq(check(), err);
	for (; *texts; texts++)
		ck_assert_msg(strstr(msg, *texts), "'%s' not in '%s'", *texts,
			      msg);
}

START_TEST(test_noiommu_ok)
{
	char want[256];

	ck_assert_int_eq(check(), 0);
	snprintf(want, sizeof(want), "%s/vfio/noiommu-0", dev_root);
	ck_assert_str_eq(node.path, want);
	ck_assert(node.noiommu);
}
END_TEST

START_TEST(test_iommu_group_ok)
{
	char want[256];

	link_to(DEV "/iommu_group", "../../../kernel/iommu_groups/12");
	put("dev/vfio/12", "");
	ck_assert_int_eq(check(), 0);
	snprintf(want, sizeof(want), "%s/vfio/12", dev_root);
	ck_assert_str_eq(node.path, want);
	ck_assert(!node.noiommu);
}
END_TEST

START_TEST(test_no_device)
{
	static const char *const want[] = {
		"no PCI device " BDF ": see lspci", NULL
	};

	teardown();
	ck_assert_int_eq(mkdir(top, 0755), 0);
	fails_with(-ENODEV, want);
}
END_TEST

START_TEST(test_wrong_ids)
{
	static const char *const want[] = {
		BDF " is 1af4:1042, not a vvu-proxy device (1af4:107d)", NULL
	};

	put(DEV "/device", "0x1042\n");
	fails_with(-ENODEV, want);
}
END_TEST

START_TEST(test_unreadable_id)
{
	static const char *const want[] = { "cannot read ", "/vendor", NULL };

	drop(DEV "/vendor");
	fails_with(-ENOENT, want);
	put(DEV "/vendor", "vendor\n");
	fails_with(-EINVAL, want);
}
END_TEST

START_TEST(test_other_driver)
{
	char l1[256], l2[256], l3[256];
	const char *const want[] = {
		BDF " is bound to virtio-pci, not vfio-pci", l1, l2, l3, NULL
	};

	snprintf(l1, sizeof(l1),
		 "echo vfio-pci > %s/bus/pci/devices/" BDF "/driver_override\n",
		 sys_root);
	snprintf(l2, sizeof(l2),
		 "echo " BDF " > %s/bus/pci/devices/" BDF "/driver/unbind\n",
		 sys_root);
	snprintf(l3, sizeof(l3),
		 "echo " BDF " > %s/bus/pci/drivers/vfio-pci/bind", sys_root);
	link_to(DEV "/driver", "../../../bus/pci/drivers/virtio-pci");
	fails_with(-ENODEV, want);
}
END_TEST

START_TEST(test_no_driver)
{
	char l1[256], l3[256];
	const char *const want[] = {
		BDF " is bound to no driver, not vfio-pci", l1, l3, NULL
	};

	snprintf(l1, sizeof(l1),
		 "echo vfio-pci > %s/bus/pci/devices/" BDF "/driver_override\n",
		 sys_root);
	snprintf(l3, sizeof(l3),
		 "echo " BDF " > %s/bus/pci/drivers/vfio-pci/bind", sys_root);
	drop(DEV "/driver");
	fails_with(-ENODEV, want);
	/* Nothing to unbind from. */
	ck_assert_ptr_null(strstr(msg, "unbind"));
}
END_TEST

START_TEST(test_no_iommu_group)
{
	static const char *const want[] = {
		BDF " has no IOMMU group", "no-IOMMU mode is off",
		"enable_unsafe_noiommu_mode=1",
		"echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
		"rebind", "/driver/unbind", "/drivers/vfio-pci/bind", NULL
	};

	drop(DEV "/iommu_group");
	fails_with(-ENODEV, want);
}
END_TEST

START_TEST(test_no_group_node)
{
	static const char *const want[] = {
		BDF " is in IOMMU group 0 but neither ", "/vfio/0 nor ",
		"/vfio/noiommu-0 exists", "no-IOMMU mode is off",
		"enable_unsafe_noiommu_mode=1", "rebind", NULL
	};

	drop("dev/vfio/noiommu-0");
	fails_with(-ENOENT, want);
}
END_TEST

START_TEST(test_open_errors)
{
	char m[VFIO_MSG_LEN];

	vfio_open_error_msg("/dev/vfio/noiommu-0", EPERM, true, m, sizeof(m));
	ck_assert_ptr_nonnull(strstr(m, "/dev/vfio/noiommu-0"));
	ck_assert_ptr_nonnull(strstr(m, "run as root"));
	ck_assert_ptr_nonnull(strstr(m, "CAP_SYS_RAWIO"));
	vfio_open_error_msg("/dev/vfio/3", EACCES, false, m, sizeof(m));
	ck_assert_ptr_nonnull(strstr(m, "run as root"));
	ck_assert_ptr_null(strstr(m, "CAP_SYS_RAWIO"));
	vfio_open_error_msg("/dev/vfio/vfio", ENOENT, false, m, sizeof(m));
	ck_assert_ptr_nonnull(strstr(m, "modprobe vfio-pci"));
	vfio_open_error_msg("/dev/vfio/3", EBUSY, false, m, sizeof(m));
	ck_assert_ptr_nonnull(strstr(m, "another process"));
	/* A short buffer is cut, never overrun. */
	vfio_open_error_msg("/dev/vfio/3", EPERM, true, m, 8);
	ck_assert_uint_eq(strlen(m), 7);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pci_vfio_sysfs");
	TCase *tc = tcase_create("bdf");

	tcase_add_test(tc, test_bdf_good);
	tcase_add_test(tc, test_bdf_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("sysfs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_noiommu_ok);
	tcase_add_test(tc, test_iommu_group_ok);
	tcase_add_test(tc, test_no_device);
	tcase_add_test(tc, test_wrong_ids);
	tcase_add_test(tc, test_unreadable_id);
	tcase_add_test(tc, test_other_driver);
	tcase_add_test(tc, test_no_driver);
	tcase_add_test(tc, test_no_iommu_group);
	tcase_add_test(tc, test_no_group_node);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
