/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * struct pci_dev over Linux VFIO: the vvu-proxy device bound to vfio-pci in
 * the device VM, normally in no-IOMMU mode (/dev/vfio/noiommu-N).
 *
 * Config space goes through pread/pwrite of the config region (vfio-pci
 * virtualizes parts of it); BAR registers through a cached mmap of the BAR
 * when vfio allows it, else pread/pwrite; MSI-X vectors become eventfds the
 * event loop watches; DMA memory comes from pci_vfio_dma.c.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "common/range.h"
#include "vblk-backend/pci_dev.h"
#include "vblk-backend/pci_vfio_dma.h"
#include "vblk-backend/pci_vfio_priv.h"
#include "vblk-backend/pci_vfio_sysfs.h"

#define PCI_NUM_BARS	6

struct vfio_region {
	uint64_t size;		/* 0: no such region */
	uint64_t offset;	/* in the device fd */
	uint32_t flags;		/* VFIO_REGION_INFO_FLAG_* */
	void *map;		/* whole-BAR mapping, NULL until needed */
};

struct vfio_vec {
	struct pci_vfio *d;
	struct event *ev;
	int fd;			/* eventfd, -1 if none */
	unsigned int v;
};

struct pci_vfio {
	struct pci_dev pub;
	int container, group, device;
	bool noiommu;
	struct vfio_region cfg;
	struct vfio_region bar[PCI_NUM_BARS];
	unsigned int msix_count;	/* vectors the device has */
	struct vfio_vec *vecs;		/* nvec of them while enabled */
	unsigned int nvec;
	pci_irq_fn *irq_fn;
	void *irq_arg;
	struct dma_pool *dma;
};

static struct pci_vfio *to_vfio(struct pci_dev *pd)
{
	return (struct pci_vfio *)((char *)pd - offsetof(struct pci_vfio, pub));
}

/* Little-endian bytes <-> value: config space and BARs are little endian. */
static uint64_t le_get(const uint8_t *b, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = len; i--;)
		v = v << 8 | b[i];
	return v;
}

static void le_put(uint8_t *b, unsigned int len, uint64_t v)
{
	for (unsigned int i = 0; i < len; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

/* len is 1, 2, 4 (or 8 if wide) and off a multiple of it. */
static bool access_ok(uint64_t off, unsigned int len, bool wide)
{
	if (len != 1 && len != 2 && len != 4 && !(wide && len == 8))
		return false;
	return !(off & (len - 1));
}

/* len bytes at off of region r through the device fd; 0 or -errno. */
static int region_rw(struct pci_vfio *d, const struct vfio_region *r,
		     uint64_t off, unsigned int len, uint64_t *val, bool write)
{
	uint8_t buf[8];
	ssize_t n;

	if (write) {
		le_put(buf, len, *val);
		n = pwrite(d->device, buf, len, (off_t)(r->offset + off));
	} else {
		n = pread(d->device, buf, len, (off_t)(r->offset + off));
	}
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	if (!write)
		*val = le_get(buf, len);
	return 0;
}

static int vfio_cfg_read(struct pci_dev *pd, uint32_t off, uint32_t len,
			 uint32_t *val)
{
	struct pci_vfio *d = to_vfio(pd);
	uint64_t v;
	int ret;

	if (!access_ok(off, len, false) ||
	    !range_contains(0, d->cfg.size, off, len))
		return -EINVAL;
	ret = region_rw(d, &d->cfg, off, len, &v, false);
	if (!ret)
		*val = (uint32_t)v;
	return ret;
}

static int vfio_cfg_write(struct pci_dev *pd, uint32_t off, uint32_t len,
			  uint32_t val)
{
	struct pci_vfio *d = to_vfio(pd);
	uint64_t v = val;

	if (!access_ok(off, len, false) ||
	    !range_contains(0, d->cfg.size, off, len))
		return -EINVAL;
	return region_rw(d, &d->cfg, off, len, &v, true);
}

/* The mapping of all of BAR bar, made once; NULL with errno if not. */
static void *bar_mapping(struct pci_vfio *d, unsigned int bar)
{
	struct vfio_region *r = &d->bar[bar];
	void *p;

	if (r->map)
		return r->map;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = ENOTSUP;
		return NULL;
	}
	p = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->device,
		 (off_t)r->offset);
	if (p == MAP_FAILED) {
		pr_err("vfio %s: mmap BAR%u (%llu bytes): %m", d->pub.name,
		       bar, (unsigned long long)r->size);
		return NULL;
	}
	r->map = p;
	return p;
}

/* BAR bar's region if [off, off + size) is a valid access in it. */
static struct vfio_region *bar_region(struct pci_vfio *d, unsigned int bar,
				      uint64_t off, unsigned int size)
{
	struct vfio_region *r;

	if (bar >= PCI_NUM_BARS || !access_ok(off, size, true))
		return NULL;
	r = &d->bar[bar];
	if (!r->size || !range_contains(0, r->size, off, size))
		return NULL;
	return r;
}

/* One load of the access's width: MMIO must not be split or merged. */
static uint64_t mmio_load(const volatile void *p, unsigned int size)
{
	switch (size) {
	case 1:
		return *(const volatile uint8_t *)p;
	case 2:
		return *(const volatile uint16_t *)p;
	case 4:
		return *(const volatile uint32_t *)p;
	default:
		return *(const volatile uint64_t *)p;
	}
}

static void mmio_store(volatile void *p, unsigned int size, uint64_t val)
{
	switch (size) {
	case 1:
		*(volatile uint8_t *)p = (uint8_t)val;
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)val;
		break;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)val;
		break;
	default:
		*(volatile uint64_t *)p = val;
	}
}

static int bar_rw(struct pci_dev *pd, unsigned int bar, uint64_t off,
		  unsigned int size, uint64_t *val, bool write)
{
	struct pci_vfio *d = to_vfio(pd);
	struct vfio_region *r = bar_region(d, bar, off, size);
	uint8_t *map;

	if (!r)
		return -EINVAL;
	/* MMIO loads and stores are little endian on the hosts we run on. */
	map = (r->flags & VFIO_REGION_INFO_FLAG_MMAP) ? bar_mapping(d, bar) :
							 NULL;
	if (!map)
		return region_rw(d, r, off, size, val, write);
	if (write)
		mmio_store(map + off, size, *val);
	else
		*val = mmio_load(map + off, size);
	return 0;
}

static int vfio_bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off,
			 unsigned int size, uint64_t *val)
{
	return bar_rw(pd, bar, off, size, val, false);
}

static int vfio_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  unsigned int size, uint64_t val)
{
	return bar_rw(pd, bar, off, size, &val, true);
}

static void *vfio_bar_map(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  uint64_t len, void **map_base, size_t *map_len)
{
	struct pci_vfio *d = to_vfio(pd);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), delta = off & (page - 1);
	struct vfio_region *r;
	uint8_t *p;

	if (bar >= PCI_NUM_BARS || !d->bar[bar].size || !len ||
	    !range_contains(0, d->bar[bar].size, off, len)) {
		errno = EINVAL;
		return NULL;
	}
	r = &d->bar[bar];
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		pr_err("vfio %s: BAR%u cannot be mapped (vfio-pci does not allow mmap of it)",
		       d->pub.name, bar);
		errno = ENOTSUP;
		return NULL;
	}
	p = mmap(NULL, len + delta, PROT_READ | PROT_WRITE, MAP_SHARED, d->device,
		 (off_t)(r->offset + off - delta));
	if (p == MAP_FAILED) {
		pr_err("vfio %s: mmap of BAR%u [%#llx, +%#llx): %m", d->pub.name,
		       bar, (unsigned long long)off, (unsigned long long)len);
		return NULL;
	}
	*map_base = p;
	*map_len = len + delta;
	return p + delta;
}

static uint64_t vfio_bar_size(struct pci_dev *pd, unsigned int bar)
{
	struct pci_vfio *d = to_vfio(pd);

	return bar < PCI_NUM_BARS ? d->bar[bar].size : 0;
}

/* count 0 with DATA_NONE: MSI-X off, the eventfds released by vfio. */
static int msix_set_none(struct pci_vfio *d)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = 0,
		.count = 0,
	};

	return ioctl(d->device, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

static void msix_free_vecs(struct pci_vfio *d)
{
	for (unsigned int i = 0; i < d->nvec; i++) {
		if (d->vecs[i].ev)
			event_free(d->vecs[i].ev);
		if (d->vecs[i].fd >= 0)
			close(d->vecs[i].fd);
	}
	free(d->vecs);
	d->vecs = NULL;
	d->nvec = 0;
}

static void msix_disable(struct pci_vfio *d)
{
	int ret;

	if (!d->vecs)
		return;
	ret = msix_set_none(d);
	if (ret)
		pr_warn("vfio %s: disabling MSI-X: %s", d->pub.name,
			strerror(-ret));
	msix_free_vecs(d);
}

static void msix_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vfio_vec *vec = arg;
	uint64_t n;

	(void)what;
	/* One read takes the whole count: coalesced edges, one callback. */
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	vec->d->irq_fn(vec->d->irq_arg, vec->v);
}

/* nvec eventfds, each with a (not yet added) event on the loop. */
static int msix_make_vecs(struct pci_vfio *d, unsigned int nvec)
{
	d->vecs = calloc(nvec, sizeof(*d->vecs));
	if (!d->vecs)
		return -ENOMEM;
	d->nvec = nvec;
	for (unsigned int i = 0; i < nvec; i++)
		d->vecs[i].fd = -1;
	for (unsigned int i = 0; i < nvec; i++) {
		struct vfio_vec *vec = &d->vecs[i];

		vec->d = d;
		vec->v = i;
		vec->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vec->fd < 0)
			return -errno;
		vec->ev = event_new(d->pub.base, vec->fd, EV_READ | EV_PERSIST,
				    msix_fired, vec);
		if (!vec->ev)
			return -ENOMEM;
	}
	return 0;
}

/* Hands the eventfds to vfio as the MSI-X triggers of vectors 0..nvec-1. */
static int msix_set_eventfds(struct pci_vfio *d)
{
	size_t len = sizeof(struct vfio_irq_set) + d->nvec * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, len);
	int32_t *fds;
	int ret = 0;

	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)len;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = d->nvec;
	fds = (int32_t *)set->data;
	for (unsigned int i = 0; i < d->nvec; i++)
		fds[i] = d->vecs[i].fd;
	if (ioctl(d->device, VFIO_DEVICE_SET_IRQS, set))
		ret = -errno;
	free(set);
	return ret;
}

static int vfio_msix_enable(struct pci_dev *pd, unsigned int nvec,
			    pci_irq_fn *fn, void *arg)
{
	struct pci_vfio *d = to_vfio(pd);
	int ret;

	if (!fn)
		return -EINVAL;
	if (!nvec || nvec > d->msix_count) {
		pr_err("vfio %s: cannot enable %u MSI-X vectors: the device has %u",
		       pd->name, nvec, d->msix_count);
		return -EINVAL;
	}
	/* Again (after a device reset, say): start from nothing. */
	msix_disable(d);
	d->irq_fn = fn;
	d->irq_arg = arg;
	ret = msix_make_vecs(d, nvec);
	if (!ret)
		ret = msix_set_eventfds(d);
	if (ret) {
		pr_err("vfio %s: enabling %u MSI-X vectors: %s", pd->name,
		       nvec, strerror(-ret));
		msix_free_vecs(d);
		return ret;
	}
	for (unsigned int i = 0; i < nvec; i++) {
		if (event_add(d->vecs[i].ev, NULL)) {
			pr_err("vfio %s: cannot watch MSI-X vector %u",
			       pd->name, i);
			msix_disable(d);
			return -ENOMEM;
		}
	}
	return 0;
}

static void *vfio_dma_alloc(struct pci_dev *pd, size_t size, uint64_t *iova)
{
	return dma_pool_alloc(to_vfio(pd)->dma, size, iova);
}

/* Sets or clears bits of the command register; 0 or -errno. */
static int command_bits(struct pci_vfio *d, uint32_t bits, bool on)
{
	uint32_t cmd;
	int ret;

	ret = vfio_cfg_read(&d->pub, PCI_COMMAND, 2, &cmd);
	if (ret)
		return ret;
	cmd = on ? cmd | bits : cmd & ~bits;
	return vfio_cfg_write(&d->pub, PCI_COMMAND, 2, cmd);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void vfio_close(struct pci_dev *pd)
{
	struct pci_vfio *d = to_vfio(pd);

	if (d->device >= 0) {
		msix_disable(d);
		/* No more DMA into memory about to be freed. */
		if (d->cfg.size)
			command_bits(d, PCI_COMMAND_MASTER, false);
	}
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		if (d->bar[i].map)
			munmap(d->bar[i].map, d->bar[i].size);
	/* vfio-pci resets the device when its last fd closes. */
	close_fd(&d->device);
	dma_pool_free(d->dma);
	close_fd(&d->group);
	close_fd(&d->container);
	free(d);
}

static const struct pci_dev_ops vfio_ops = {
	.cfg_read	= vfio_cfg_read,
	.cfg_write	= vfio_cfg_write,
	.bar_read	= vfio_bar_read,
	.bar_write	= vfio_bar_write,
	.bar_map	= vfio_bar_map,
	.bar_size	= vfio_bar_size,
	.msix_enable	= vfio_msix_enable,
	.dma_alloc	= vfio_dma_alloc,
	.close		= vfio_close,
};

/* Opens a VFIO node; on failure -errno after a message naming the fix. */
static int open_node(const char *path, bool noiommu)
{
	char msg[VFIO_MSG_LEN];
	int fd = open(path, O_RDWR | O_CLOEXEC), err;

	if (fd >= 0)
		return fd;
	err = errno;
	vfio_open_error_msg(path, err, noiommu, msg, sizeof(msg));
	pr_err("vfio: %s", msg);
	return -err;
}

/* The container with the IOMMU model the group needs; 0 or -errno. */
static int open_container(struct pci_vfio *d)
{
	int type = d->noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	int ret;

	d->container = open_node("/dev/vfio/vfio", d->noiommu);
	if (d->container < 0)
		return d->container;
	ret = ioctl(d->container, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		pr_err("vfio: API version %d, want %d", ret, VFIO_API_VERSION);
		return -EINVAL;
	}
	if (ioctl(d->container, VFIO_CHECK_EXTENSION,
		  (unsigned long)type) <= 0) {
		if (d->noiommu)
			pr_err("vfio: no VFIO_NOIOMMU_IOMMU: no-IOMMU mode is off: as root, echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode and rebind the device");
		else
			pr_err("vfio: the IOMMU does not offer VFIO_TYPE1v2_IOMMU");
		return -EINVAL;
	}
	return 0;
}

/* The group, viable and joined to the container; 0 or -errno. */
static int open_group(struct pci_vfio *d, const char *path)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int type = d->noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;

	d->group = open_node(path, d->noiommu);
	if (d->group < 0)
		return d->group;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st)) {
		pr_err("vfio: VFIO_GROUP_GET_STATUS %s: %m", path);
		return -errno;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("vfio: group %s is not viable: bind every device in it to vfio-pci (see /sys/kernel/iommu_groups/)",
		       path);
		return -EBUSY;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container)) {
		pr_err("vfio: VFIO_GROUP_SET_CONTAINER %s: %m", path);
		return -errno;
	}
	if (ioctl(d->container, VFIO_SET_IOMMU, (unsigned long)type)) {
		pr_err("vfio: VFIO_SET_IOMMU %s: %m",
		       d->noiommu ? "no-IOMMU" : "type1v2");
		return -errno;
	}
	return 0;
}

static int open_device(struct pci_vfio *d, const char *group)
{
	char msg[VFIO_MSG_LEN];
	int err;

	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->pub.name);
	if (d->device >= 0)
		return 0;
	err = errno;
	d->device = -1;
	/* no-IOMMU devices need CAP_SYS_RAWIO here, not only at open. */
	vfio_open_error_msg(group, err, d->noiommu, msg, sizeof(msg));
	pr_err("vfio: VFIO_GROUP_GET_DEVICE_FD %s: %s", d->pub.name, msg);
	return -err;
}

static int region_info(struct pci_vfio *d, uint32_t index,
		       struct vfio_region *r)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		pr_err("vfio %s: VFIO_DEVICE_GET_REGION_INFO %u: %m",
		       d->pub.name, index);
		return -errno;
	}
	r->size = ri.size;
	r->offset = ri.offset;
	r->flags = ri.flags;
	return 0;
}

/* Device, config region, BARs and the MSI-X count; 0 or -errno. */
static int device_info(struct pci_vfio *d)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_irq_info ii = {
		.argsz = sizeof(ii),
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
	};
	int ret;

	if (ioctl(d->device, VFIO_DEVICE_GET_INFO, &di)) {
		pr_err("vfio %s: VFIO_DEVICE_GET_INFO: %m", d->pub.name);
		return -errno;
	}
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX ||
	    di.num_irqs <= VFIO_PCI_MSIX_IRQ_INDEX) {
		pr_err("vfio %s: not a vfio-pci device (flags 0x%x, %u regions, %u irqs)",
		       d->pub.name, di.flags, di.num_regions, di.num_irqs);
		return -ENODEV;
	}
	ret = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &d->cfg);
	for (unsigned int i = 0; !ret && i < PCI_NUM_BARS; i++)
		ret = region_info(d, VFIO_PCI_BAR0_REGION_INDEX + i,
				  &d->bar[i]);
	if (ret)
		return ret;
	if (ioctl(d->device, VFIO_DEVICE_GET_IRQ_INFO, &ii)) {
		pr_err("vfio %s: VFIO_DEVICE_GET_IRQ_INFO MSI-X: %m",
		       d->pub.name);
		return -errno;
	}
	d->msix_count = (ii.flags & VFIO_IRQ_INFO_EVENTFD) ? ii.count : 0;
	return 0;
}

static void log_regions(const struct pci_vfio *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		if (d->bar[i].size)
			pr_debug("vfio %s: BAR%u %llu bytes%s", d->pub.name,
				 i, (unsigned long long)d->bar[i].size,
				 (d->bar[i].flags & VFIO_REGION_INFO_FLAG_MMAP) ?
				 ", mmap" : "");
	pr_info("vfio %s: open (%s), %u MSI-X vectors", d->pub.name,
		d->noiommu ? "no-IOMMU" : "IOMMU", d->msix_count);
}

static int vfio_setup(struct pci_vfio *d, const struct vfio_group_node *g)
{
	int ret;

	d->noiommu = g->noiommu;
	ret = open_container(d);
	if (!ret)
		ret = open_group(d, g->path);
	if (!ret)
		ret = open_device(d, g->path);
	if (!ret)
		ret = device_info(d);
	if (ret)
		return ret;
	ret = command_bits(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, true);
	if (ret) {
		pr_err("vfio %s: enabling memory and bus mastering: %s",
		       d->pub.name, strerror(-ret));
		return ret;
	}
	d->dma = dma_pool_new(d->noiommu ? -1 : d->container);
	if (!d->dma)
		return -ENOMEM;
	log_regions(d);
	return 0;
}

static struct pci_vfio *vfio_new(const char *name, struct event_base *base)
{
	struct pci_vfio *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->pub.ops = &vfio_ops;
	d->pub.base = base;
	snprintf(d->pub.name, sizeof(d->pub.name), "%s", name);
	d->container = d->group = d->device = -1;
	return d;
}

static void region_set(struct vfio_region *r,
		       const struct pci_vfio_region_desc *desc)
{
	r->size = desc->size;
	r->offset = desc->offset;
	r->flags = desc->flags;
}

struct pci_dev *pci_vfio_from_fd(int fd,
				 const struct pci_vfio_region_desc regions[7],
				 unsigned int msix_count,
				 struct event_base *base)
{
	struct pci_vfio *d = vfio_new("fake", base);

	if (!d) {
		close(fd);
		return NULL;
	}
	d->device = fd;
	d->noiommu = true;
	d->msix_count = msix_count;
	region_set(&d->cfg, &regions[0]);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		region_set(&d->bar[i], &regions[1 + i]);
	d->dma = dma_pool_new(-1);
	if (!d->dma) {
		vfio_close(&d->pub);
		return NULL;
	}
	return &d->pub;
}

struct pci_dev *pci_vfio_open(const char *bdf, struct event_base *base)
{
	static const struct vfio_roots roots = { "/sys", "/dev" };
	char name[PCI_BDF_LEN], msg[VFIO_MSG_LEN];
	struct vfio_group_node g;
	struct pci_vfio *d;
	int ret;

	if (pci_bdf_parse(bdf, name)) {
		pr_err("vfio: bad PCI address '%s': want DDDD:BB:DD.F or BB:DD.F (e.g. 0000:00:10.0)",
		       bdf ? bdf : "(null)");
		errno = EINVAL;
		return NULL;
	}
	ret = vfio_sysfs_check(&roots, name, &g, msg, sizeof(msg));
	if (ret) {
		pr_err("vfio: %s", msg);
		errno = -ret;
		return NULL;
	}
	d = vfio_new(name, base);
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	ret = vfio_setup(d, &g);
	if (ret) {
		vfio_close(&d->pub);
		errno = -ret;
		return NULL;
	}
	return &d->pub;
}
