/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What must hold before VFIO can open the vvu-proxy device, checked in
 * sysfs in the order a user fixes them: the address, the device, its driver,
 * its IOMMU group node. Each failure leaves one message naming the fix.
 *
 * The roots are parameters so the unit tests can check every message
 * against a fake tree in a temporary directory.
 */
#ifndef VBLK_PCI_VFIO_SYSFS_H
#define VBLK_PCI_VFIO_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#define VVU_PROXY_VENDOR	0x1af4
#define VVU_PROXY_DEVICE	0x107d

/* "0000:00:10.0" and its NUL. */
#define PCI_BDF_LEN		13

/* Long enough for the binding commands with a long root. */
#define VFIO_MSG_LEN		1024
#define VFIO_PATH_LEN		256

/*
 * "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex in either case, device up to
 * 1f, function up to 7. 0 and out in sysfs form ("0000:00:10.0"), or
 * -EINVAL.
 */
int pci_bdf_parse(const char *s, char out[PCI_BDF_LEN]);

/* Where the checks look: "/sys" and "/dev" for real. */
struct vfio_roots {
	const char *sys;
	const char *dev;
};

/* The node of the device's group, e.g. "/dev/vfio/noiommu-0". */
struct vfio_group_node {
	char path[VFIO_PATH_LEN];
	bool noiommu;
};

/*
 * Checks bdf (as pci_bdf_parse gives it) is a vvu-proxy device bound to
 * vfio-pci with a group node. 0 and *g, or -errno and msg (msglen bytes)
 * saying what is wrong and how to fix it.
 */
int vfio_sysfs_check(const struct vfio_roots *r, const char *bdf,
		     struct vfio_group_node *g, char *msg, size_t msglen);

/*
 * The message for a failed open(2) of a VFIO node (err is the errno):
 * permissions name root (and CAP_SYS_RAWIO in no-IOMMU mode).
 */
void vfio_open_error_msg(const char *path, int err, bool noiommu, char *msg,
			 size_t msglen);

#endif /* VBLK_PCI_VFIO_SYSFS_H */
