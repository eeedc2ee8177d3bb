// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_dev over vvu-proxyd's device channel: this process is the vmm hosting
 * the device (common/devchan_host) and the device VM at once, so the
 * driver runs with no VM at all (the harness transport).
 *
 *  - device RAM: one memfd at DC_RAM_GPA; dma_alloc bumps through it and
 *    the device's DMA addresses are its guest-physical addresses;
 *  - config space and REMOTE BARs: the access channel, except writes on an
 *    ioeventfd (doorbells), which signal it as KVM would;
 *  - SHM BARs: an address-space reservation where each SHM_MAP lands;
 *  - MSI-X: proxyd's irqfds watched on the loop, each a vector.
 * proxyd's requests are answered from the loop as they come: it holds its
 * rx delivery until the vmm has answered an SHM_MAP, so promptness is
 * what keeps the order right.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/devchan_host.h"
#include "common/log.h"
#include "common/range.h"
#include "vblk-backend/pci_dev.h"
#include "vblk-backend/pci_devchan_cfg.h"

#define DC_RAM_GPA		0x40000000ull
#define DC_RAM_SIZE		(64ull << 20)
#define DC_PAGE_SIZE		4096ull
#define DC_CONNECT_TIMEOUT_MS	2000

struct dc_irq {
	struct pci_devchan *d;
	uint32_t id;
	uint16_t vector;
	struct event *ev;		/* NULL while not watched */
};

struct pci_devchan {
	struct pci_dev pub;
	struct devchan_host host;
	struct devchan_cfg cfg;		/* config space as we present it */
	struct event *ctrl_ev;
	int ram_fd;
	uint8_t *ram;
	uint64_t brk;			/* next free byte of ram */
	uint8_t *shm[DEVCHAN_NUM_BARS];	/* SHM BAR reservations, or NULL */
	unsigned int nvec;		/* 0: MSI-X not enabled */
	pci_irq_fn *irq_fn;
	void *irq_arg;
	struct dc_irq irq[DEVCHAN_MAX_IRQFDS];
};

static struct pci_devchan *to_dc(struct pci_dev *d)
{
	return (struct pci_devchan *)d;
}

static const struct devchan_bar *bar_of(struct pci_devchan *d, unsigned int bar)
{
	return bar < DEVCHAN_NUM_BARS ? &d->host.dev.bars[bar] : NULL;
}

/* --- SHM BARs: a reservation, slots mapped into it ------------------------- */

/* PROT_NONE, reserving nothing: what shows where no slot is mapped. */
static void *reserve(void *at, uint64_t size)
{
	return mmap(at, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE | (at ? MAP_FIXED : 0), -1, 0);
}

static uint8_t *shm_base(struct pci_devchan *d, unsigned int bar)
{
	const struct devchan_bar *b = bar_of(d, bar);
	void *p;

	if (!b || b->kind != DEVCHAN_BAR_KIND_SHM)
		return NULL;
	if (!d->shm[bar]) {
		p = reserve(NULL, b->size);
		if (p == MAP_FAILED) {
			pr_err("%s: cannot reserve %llu bytes for BAR%u: %m",
			       d->pub.name, (unsigned long long)b->size, bar);
			return NULL;
		}
		d->shm[bar] = p;
	}
	return d->shm[bar];
}

static int on_shm_map(void *arg, const struct devchan_host_shm *s, int fd)
{
	struct pci_devchan *d = arg;
	const struct devchan_shm_map *m = &s->map;
	int prot = PROT_READ;
	uint8_t *base = shm_base(d, m->bar);

	if (!base)
		return ENOMEM;
	/* devchan_host checked it too; this is the line a wild mmap must not cross. */
	if (!range_contains(0, bar_of(d, m->bar)->size, m->bar_offset, m->size) ||
	    m->fd_offset > INT64_MAX)
		return EINVAL;
	if (!(m->flags & DEVCHAN_SHM_F_READONLY))
		prot |= PROT_WRITE;
	if (mmap(base + m->bar_offset, m->size, prot, MAP_SHARED | MAP_FIXED,
		 fd, (off_t)m->fd_offset) == MAP_FAILED) {
		int err = errno;

		/* A failed MAP_FIXED may have unmapped the range: restore it. */
		reserve(base + m->bar_offset, m->size);
		return err;
	}
	return 0;
}

static void on_shm_unmap(void *arg, const struct devchan_host_shm *s)
{
	struct pci_devchan *d = arg;
	uint8_t *base = d->shm[s->map.bar];

	if (base && reserve(base + s->map.bar_offset, s->map.size) == MAP_FAILED)
		pr_err("%s: cannot unmap slot %u: %m", d->pub.name, s->map.slot);
}

/* --- MSI-X: irqfds on the loop ---------------------------------------------- */

static void irq_fired(evutil_socket_t fd, short what, void *arg)
{
	struct dc_irq *q = arg;
	eventfd_t n;

	(void)what;
	/* EAGAIN: a wake-up already drained. Edges coalesce; none is lost. */
	if (eventfd_read(fd, &n))
		return;
	q->d->irq_fn(q->d->irq_arg, q->vector);
}

static int irq_watch(struct pci_devchan *d, uint32_t id, uint16_t vector,
		     int fd)
{
	struct dc_irq *q = &d->irq[id];

	/*
	 * Non-blocking for our reads. The file is shared with proxyd, which
	 * only writes: an eventfd write blocks only at a counter of 2^64 - 2.
	 */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return errno;
	q->d = d;
	q->id = id;
	q->vector = vector;
	q->ev = event_new(d->pub.base, fd, EV_READ | EV_PERSIST, irq_fired, q);
	if (!q->ev || event_add(q->ev, NULL)) {
		if (q->ev)
			event_free(q->ev);
		q->ev = NULL;
		return ENOMEM;
	}
	return 0;
}

static void irq_unwatch(struct pci_devchan *d, uint32_t id)
{
	if (d->irq[id].ev)
		event_free(d->irq[id].ev);
	d->irq[id].ev = NULL;
}

static int on_irqfd_add(void *arg, uint32_t id, uint16_t vector, int fd)
{
	struct pci_devchan *d = arg;

	if (!d->nvec)
		return 0;	/* in the table: watched once MSI-X is on */
	if (vector >= d->nvec)
		return EINVAL;	/* a vector the driver did not enable */
	return irq_watch(d, id, vector, fd);
}

static void on_irqfd_del(void *arg, uint32_t id,
			 const struct devchan_host_irqfd *q)
{
	(void)q;
	irq_unwatch(arg, id);
}

static const struct devchan_host_hooks dc_hooks = {
	.shm_map = on_shm_map,
	.shm_unmap = on_shm_unmap,
	.irqfd_add = on_irqfd_add,
	.irqfd_del = on_irqfd_del,
};

static int dc_msix_enable(struct pci_dev *pd, unsigned int nvec, pci_irq_fn *fn,
			  void *arg)
{
	struct pci_devchan *d = to_dc(pd);
	int err;

	if (!fn || !nvec || nvec > d->host.dev.msix.nvectors)
		return -EINVAL;
	if (d->nvec)
		return -EBUSY;
	d->nvec = nvec;
	d->irq_fn = fn;
	d->irq_arg = arg;
	/* The irqfds proxyd added before. */
	for (uint32_t id = 0; id < DEVCHAN_MAX_IRQFDS; id++) {
		const struct devchan_host_irqfd *q = devchan_host_irqfd(&d->host, id);

		if (!q)
			continue;
		if (q->vector >= nvec) {
			pr_warn("%s: irqfd %u on vector %u >= %u: not watched",
				pd->name, id, q->vector, nvec);
			continue;
		}
		err = irq_watch(d, id, q->vector, q->fd);
		if (err)
			return -err;
	}
	return 0;
}

/* --- the control channel on the loop ----------------------------------------- */

static void ctrl_readable(evutil_socket_t fd, short what, void *arg)
{
	struct pci_devchan *d = arg;
	int r;

	(void)fd;
	(void)what;
	r = devchan_host_recv(&d->host);
	if (!r)
		return;
	if (r == -ECONNRESET)
		pr_err("%s: vvu-proxyd closed the device channel", d->pub.name);
	else
		pr_err("%s: device channel broken: %s", d->pub.name, strerror(-r));
	event_del(d->ctrl_ev);
	event_base_loopbreak(d->pub.base);
}

/* --- config space and BARs --------------------------------------------------- */

static bool access_ok(uint64_t off, unsigned int size, uint64_t limit)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return !(off & (size - 1)) && range_contains(0, limit, off, size);
}

static int dc_cfg_read(struct pci_dev *pd, uint32_t off, uint32_t len,
		       uint32_t *val)
{
	if (len > 4 || !access_ok(off, len, DEVCHAN_CONFIG_SIZE))
		return -EINVAL;
	return devchan_cfg_read(&to_dc(pd)->cfg, &to_dc(pd)->host, off, len, val);
}

static int dc_cfg_write(struct pci_dev *pd, uint32_t off, uint32_t len,
			uint32_t val)
{
	if (len > 4 || !access_ok(off, len, DEVCHAN_CONFIG_SIZE))
		return -EINVAL;
	return devchan_cfg_write(&to_dc(pd)->cfg, &to_dc(pd)->host, off, len,
				 val);
}

/* The vmm's own MSI-X table and PBA are not the device's: no access there. */
static bool hits_msix(const struct devchan_msix *x, unsigned int bar,
		      uint64_t off, unsigned int size)
{
	uint64_t pba_len = ((uint64_t)x->nvectors + 63) / 64 * 8;

	if (!x->nvectors)
		return false;
	return (x->table_bar == bar &&
		range_overlaps(x->table_off, (uint64_t)x->nvectors * 16, off, size)) ||
	       (x->pba_bar == bar && range_overlaps(x->pba_off, pba_len, off, size));
}

/* A register access to bar: the device's REMOTE BARs only. */
static int check_bar_access(struct pci_devchan *d, unsigned int bar,
			    uint64_t off, unsigned int size)
{
	const struct devchan_bar *b = bar_of(d, bar);

	if (!b || b->kind != DEVCHAN_BAR_KIND_REMOTE ||
	    !access_ok(off, size, b->size) ||
	    hits_msix(&d->host.dev.msix, bar, off, size))
		return -EINVAL;
	return 0;
}

static int dc_bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	struct pci_devchan *d = to_dc(pd);
	int r = check_bar_access(d, bar, off, size);

	return r ? r : devchan_host_read(&d->host, (uint8_t)bar, off,
					 (uint8_t)size, val);
}

static int dc_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			unsigned int size, uint64_t val)
{
	struct pci_devchan *d = to_dc(pd);
	int r = check_bar_access(d, bar, off, size);

	return r ? r : devchan_host_write(&d->host, (uint8_t)bar, off,
					  (uint8_t)size, val);
}

static uint64_t dc_bar_size(struct pci_dev *pd, unsigned int bar)
{
	const struct devchan_bar *b = bar_of(to_dc(pd), bar);

	return b ? b->size : 0;
}

/* The BAR's reservation is ours: SHM_MAP and SHM_UNMAP keep it up to date. */
static void *dc_bar_map(struct pci_dev *pd, unsigned int bar, uint64_t off,
			uint64_t len, void **map_base, size_t *map_len)
{
	struct pci_devchan *d = to_dc(pd);
	uint8_t *base = shm_base(d, bar);

	if (!base) {
		errno = bar_of(d, bar) ? EINVAL : ENODEV;
		return NULL;
	}
	if (!len || !range_contains(0, d->host.dev.bars[bar].size, off, len)) {
		errno = EINVAL;
		return NULL;
	}
	*map_base = NULL;
	*map_len = 0;
	return base + off;
}

/* --- device RAM ---------------------------------------------------------------- */

static void *dc_dma_alloc(struct pci_dev *pd, size_t size, uint64_t *iova)
{
	struct pci_devchan *d = to_dc(pd);
	uint64_t len = (size + DC_PAGE_SIZE - 1) & ~(DC_PAGE_SIZE - 1);
	void *p;

	if (!size || len < size || !range_contains(0, DC_RAM_SIZE, d->brk, len)) {
		pr_err("%s: no room for %zu bytes of DMA memory", pd->name, size);
		errno = ENOMEM;
		return NULL;
	}
	p = d->ram + d->brk;	/* fresh memfd pages: zero */
	*iova = DC_RAM_GPA + d->brk;
	d->brk += len;
	return p;
}

static int ram_init(struct pci_devchan *d)
{
	void *p;

	d->ram_fd = memfd_create("vblk-devchan-ram", MFD_CLOEXEC);
	if (d->ram_fd < 0 || ftruncate(d->ram_fd, DC_RAM_SIZE))
		return -errno;
	p = mmap(NULL, DC_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 d->ram_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	d->ram = p;
	return 0;
}

/* --- open and close -------------------------------------------------------------- */

static void dc_close(struct pci_dev *pd)
{
	struct pci_devchan *d = to_dc(pd);

	for (uint32_t id = 0; id < DEVCHAN_MAX_IRQFDS; id++)
		irq_unwatch(d, id);
	if (d->ctrl_ev)
		event_free(d->ctrl_ev);
	for (unsigned int i = 0; i < DEVCHAN_NUM_BARS; i++)
		if (d->shm[i])
			munmap(d->shm[i], d->host.dev.bars[i].size);
	devchan_host_close(&d->host);
	if (d->ram)
		munmap(d->ram, DC_RAM_SIZE);
	if (d->ram_fd >= 0)
		close(d->ram_fd);
	free(d);
}

static const struct pci_dev_ops dc_ops = {
	.cfg_read = dc_cfg_read,
	.cfg_write = dc_cfg_write,
	.bar_read = dc_bar_read,
	.bar_write = dc_bar_write,
	.bar_map = dc_bar_map,
	.bar_size = dc_bar_size,
	.msix_enable = dc_msix_enable,
	.dma_alloc = dc_dma_alloc,
	.close = dc_close,
};

/* Connects and shakes hands; proxyd's requests are answered from now on. */
static int dc_start(struct pci_devchan *d, const char *path)
{
	int r = devchan_host_connect(path, DC_CONNECT_TIMEOUT_MS);

	if (r < 0) {
		pr_err("%s: cannot connect: %s", d->pub.name, strerror(-r));
		return r;
	}
	d->host.ctrl = r;
	r = ram_init(d);
	if (r) {
		pr_err("%s: device RAM: %s", d->pub.name, strerror(-r));
		return r;
	}
	r = devchan_host_handshake(&d->host, d->ram_fd, DC_RAM_GPA, DC_RAM_SIZE);
	if (r) {
		pr_err("%s: handshake failed: %s", d->pub.name, strerror(-r));
		return r;
	}
	devchan_cfg_build(&d->cfg, &d->host.dev);
	d->ctrl_ev = event_new(d->pub.base, d->host.ctrl, EV_READ | EV_PERSIST,
			       ctrl_readable, d);
	/* Level-triggered: what is already queued is answered on the loop. */
	if (!d->ctrl_ev || event_add(d->ctrl_ev, NULL))
		return -ENOMEM;
	return 0;
}

struct pci_dev *pci_devchan_open(const char *path, struct event_base *base)
{
	struct pci_devchan *d = calloc(1, sizeof(*d));

	if (!d) {
		pr_err("devchan %s: out of memory", path);
		return NULL;
	}
	d->pub.ops = &dc_ops;
	d->pub.base = base;
	snprintf(d->pub.name, sizeof(d->pub.name), "devchan %.52s", path);
	d->ram_fd = -1;
	devchan_host_init(&d->host, -1, &dc_hooks, d);
	if (dc_start(d, path)) {
		dc_close(&d->pub);
		return NULL;
	}
	pr_info("%s: vvu-proxyd device %04x:%04x", d->pub.name,
		d->host.dev.vendor_id, d->host.dev.device_id);
	return &d->pub;
}
