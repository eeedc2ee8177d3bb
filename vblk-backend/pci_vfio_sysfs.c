/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sysfs preconditions of opening the vvu-proxy device through VFIO:
 * each failure names the fix, with the commands to type where there are
 * some (crosvm's documented way of binding a vvu-proxy device to vfio-pci).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vblk-backend/pci_vfio_sysfs.h"

/* Exactly n hex digits at *p, which moves past them. */
static int hex_field(const char **p, unsigned int n, unsigned int *v)
{
	unsigned int x = 0;

	for (unsigned int i = 0; i < n; i++) {
		char c = (*p)[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		x = x * 16 + d;
	}
	*p += n;
	*v = x;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

int pci_bdf_parse(const char *s, char out[PCI_BDF_LEN])
{
	unsigned int dom = 0, bus, dev, fn;
	const char *p = s;
	size_t len;

	if (!s)
		return -EINVAL;
	len = strnlen(s, PCI_BDF_LEN);
	if (len == PCI_BDF_LEN - 1) {
		if (hex_field(&p, 4, &dom) || expect(&p, ':'))
			return -EINVAL;
	} else if (len != PCI_BDF_LEN - 1 - 5) {
		return -EINVAL;
	}
	if (hex_field(&p, 2, &bus) || expect(&p, ':') ||
	    hex_field(&p, 2, &dev) || expect(&p, '.') ||
	    hex_field(&p, 1, &fn) || *p)
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, PCI_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static int fail(int err, char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int err, char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return err;
}

/* "<root>/bus/pci/devices/<bdf>/<name>" into buf; -ENAMETOOLONG if cut. */
static int dev_path(char *buf, size_t len, const struct vfio_roots *r,
		    const char *bdf, const char *name)
{
	int n = snprintf(buf, len, "%s/bus/pci/devices/%s%s%s", r->sys, bdf,
			 *name ? "/" : "", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A sysfs id file ("0x1af4\n") as a number; -errno if unreadable or bad. */
static int read_id(const char *path, unsigned int *id)
{
	char buf[32], *end;
	unsigned long v;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 16);
	if (errno || end == buf || (*end && *end != '\n') || v > 0xffff)
		return -EINVAL;
	*id = (unsigned int)v;
	return 0;
}

static int check_ids(const struct vfio_roots *r, const char *bdf, char *msg,
		     size_t msglen)
{
	static const char *const names[] = { "vendor", "device" };
	unsigned int id[2];
	char path[VFIO_PATH_LEN];
	int ret;

	for (unsigned int i = 0; i < 2; i++) {
		ret = dev_path(path, sizeof(path), r, bdf, names[i]);
		if (!ret)
			ret = read_id(path, &id[i]);
		if (ret)
			return fail(ret, msg, msglen, "cannot read %s: %s",
				    path, strerror(-ret));
	}
	if (id[0] != VVU_PROXY_VENDOR || id[1] != VVU_PROXY_DEVICE)
		return fail(-ENODEV, msg, msglen,
			    "%s is %04x:%04x, not a vvu-proxy device (%04x:%04x)",
			    bdf, id[0], id[1], VVU_PROXY_VENDOR,
			    VVU_PROXY_DEVICE);
	return 0;
}

/*
 * The last component of the target of the device's symlink link into name
 * ("" if there is no such link). 0, or -errno and msg.
 */
static int dev_link(const struct vfio_roots *r, const char *bdf,
		    const char *link, char *name, size_t len, char *msg,
		    size_t msglen)
{
	char path[VFIO_PATH_LEN], target[VFIO_PATH_LEN];
	const char *base;
	ssize_t n;
	int ret;

	name[0] = '\0';
	ret = dev_path(path, sizeof(path), r, bdf, link);
	if (ret)
		return fail(ret, msg, msglen, "%s: path too long", r->sys);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0)
		return fail(-errno, msg, msglen, "cannot read %s: %m", path);
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return fail(-ENAMETOOLONG, msg, msglen, "%s: odd link %s",
			    path, target);
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

/* The commands binding bdf to vfio-pci; unbind only when it has a driver. */
static void bind_commands(const struct vfio_roots *r, const char *bdf,
			  bool has_driver, char *buf, size_t len)
{
	const char *s = r->sys;

	if (has_driver)
		snprintf(buf, len,
			 "  echo vfio-pci > %s/bus/pci/devices/%s/driver_override\n"
			 "  echo %s > %s/bus/pci/devices/%s/driver/unbind\n"
			 "  echo %s > %s/bus/pci/drivers/vfio-pci/bind",
			 s, bdf, bdf, s, bdf, bdf, s);
	else
		snprintf(buf, len,
			 "  echo vfio-pci > %s/bus/pci/devices/%s/driver_override\n"
			 "  echo %s > %s/bus/pci/drivers/vfio-pci/bind",
			 s, bdf, bdf, s);
}

/* The way to turn no-IOMMU mode on, shared by both of its symptoms. */
#define NOIOMMU_FIX							\
	"no-IOMMU mode is off: as root, load vfio with "		\
	"enable_unsafe_noiommu_mode=1 (or echo Y > "			\
	"/sys/module/vfio/parameters/enable_unsafe_noiommu_mode), "	\
	"then rebind the device:\n"

static int check_driver(const struct vfio_roots *r, const char *bdf,
			char *msg, size_t msglen)
{
	char drv[64], cmds[VFIO_MSG_LEN / 2];
	int ret;

	ret = dev_link(r, bdf, "driver", drv, sizeof(drv), msg, msglen);
	if (ret)
		return ret;
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	bind_commands(r, bdf, drv[0], cmds, sizeof(cmds));
	/*
	 * A bind that fails with EINVAL is vfio-pci finding no IOMMU group:
	 * say so here, where the user will be looking.
	 */
	return fail(-ENODEV, msg, msglen,
		    "%s is bound to %s, not vfio-pci; bind it as root:\n%s\n"
		    "(if the bind fails with 'Invalid argument', no-IOMMU mode "
		    "is off: load vfio with enable_unsafe_noiommu_mode=1)",
		    bdf, drv[0] ? drv : "no driver", cmds);
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static int check_group(const struct vfio_roots *r, const char *bdf,
		       struct vfio_group_node *g, char *msg, size_t msglen)
{
	char grp[32], cmds[VFIO_MSG_LEN / 2];
	int ret, n;

	bind_commands(r, bdf, true, cmds, sizeof(cmds));
	ret = dev_link(r, bdf, "iommu_group", grp, sizeof(grp), msg, msglen);
	if (ret)
		return ret;
	if (!grp[0])
		return fail(-ENODEV, msg, msglen,
			    "%s has no IOMMU group (no iommu_group link in sysfs); "
			    NOIOMMU_FIX "%s", bdf, cmds);

	n = snprintf(g->path, sizeof(g->path), "%s/vfio/%s", r->dev, grp);
	if (n < 0 || (size_t)n >= sizeof(g->path))
		return fail(-ENAMETOOLONG, msg, msglen, "%s/vfio/%s: too long",
			    r->dev, grp);
	g->noiommu = false;
	if (exists(g->path))
		return 0;
	n = snprintf(g->path, sizeof(g->path), "%s/vfio/noiommu-%s", r->dev,
		     grp);
	if (n < 0 || (size_t)n >= sizeof(g->path))
		return fail(-ENAMETOOLONG, msg, msglen,
			    "%s/vfio/noiommu-%s: too long", r->dev, grp);
	g->noiommu = true;
	if (exists(g->path))
		return 0;
	return fail(-ENOENT, msg, msglen,
		    "%s is in IOMMU group %s but neither %s/vfio/%s nor %s "
		    "exists; " NOIOMMU_FIX "%s",
		    bdf, grp, r->dev, grp, g->path, cmds);
}

int vfio_sysfs_check(const struct vfio_roots *r, const char *bdf,
		     struct vfio_group_node *g, char *msg, size_t msglen)
{
	char path[VFIO_PATH_LEN];
	int ret;

	ret = dev_path(path, sizeof(path), r, bdf, "");
	if (ret)
		return fail(ret, msg, msglen, "%s: path too long", r->sys);
	if (!exists(path))
		return fail(-ENODEV, msg, msglen, "no PCI device %s: see lspci",
			    bdf);
	ret = check_ids(r, bdf, msg, msglen);
	if (!ret)
		ret = check_driver(r, bdf, msg, msglen);
	if (!ret)
		ret = check_group(r, bdf, g, msg, msglen);
	return ret;
}

void vfio_open_error_msg(const char *path, int err, bool noiommu, char *msg,
			 size_t msglen)
{
	switch (err) {
	case EACCES:
	case EPERM:
		snprintf(msg, msglen, "cannot open %s: %s: run as root%s", path,
			 strerror(err),
			 noiommu ? " (no-IOMMU mode needs CAP_SYS_RAWIO)" : "");
		break;
	case EBUSY:
		snprintf(msg, msglen,
			 "cannot open %s: %s: another process has the device "
			 "(another vblk-backend, a vmm?)", path, strerror(err));
		break;
	case ENOENT:
	case ENODEV:
		snprintf(msg, msglen,
			 "cannot open %s: %s: is the vfio-pci module loaded? "
			 "(modprobe vfio-pci)", path, strerror(err));
		break;
	default:
		snprintf(msg, msglen, "cannot open %s: %s", path,
			 strerror(err));
	}
}
