// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X table and PBA emulation on top of KVM GSI routes and irqfds.
 * See msix.h for why the eventfd counter doubles as the pending bit.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "common/log.h"
#include "vmm/irq.h"
#include "vmm/msix.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

/* Capability layout (PCI 3.0, 6.8.2). */
struct msix_cap {
	uint8_t id;
	uint8_t next;
	uint16_t ctrl;		/* table size - 1, function mask, enable */
	uint32_t table;		/* offset | BIR */
	uint32_t pba;		/* offset | BIR */
} __attribute__((packed));

#define MSIX_CTRL_OFF		2

static int kvm_irqfd(struct msix *m, int fd, int gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd,
		.gsi = (uint32_t)gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(m->vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return 0;
}

static int irqfd_set(struct msix *m, struct msix_vector *v, bool assign)
{
	int ret = kvm_irqfd(m, v->efd, v->gsi, assign);

	if (!ret)
		v->irqfd = assign;
	return ret;
}

static int extra_set(struct msix *m, struct msix_vector *v,
		     struct msix_irqfd *x, bool assign)
{
	int ret = kvm_irqfd(m, x->fd, v->gsi, assign);

	if (!ret)
		x->assigned = assign;
	return ret;
}

/* Binds (or unbinds) every extra eventfd of v that is not yet so. */
static void extras_set(struct msix *m, struct msix_vector *v, bool assign)
{
	for (struct msix_irqfd *x = v->extra; x; x = x->next) {
		int ret;

		if (x->assigned == assign)
			continue;
		ret = extra_set(m, v, x, assign);
		if (ret)
			pr_warn_limited("%s: MSI-X irqfd %s gsi %d: %s", m->pdev->name,
				assign ? "assign" : "deassign", v->gsi, strerror(-ret));
	}
}

static bool vector_masked(const struct msix *m, const struct msix_vector *v)
{
	return !m->enabled || m->fmask || (v->ctrl & MSIX_ENTRY_CTRL_MASKED);
}

/*
 * Brings KVM in line with the guest's view of vector v: an unmasked vector
 * has its route and its irqfd; a masked one has no irqfd, so signals stay
 * in the eventfd until it is unmasked. Called with m->lock held.
 */
static void vector_sync(struct msix *m, struct msix_vector *v)
{
	uint64_t addr = ((uint64_t)v->addr_hi << 32) | v->addr_lo;
	int ret;

	if (v->gsi < 0)
		return;
	if (vector_masked(m, v)) {
		extras_set(m, v, false);
		if (v->irqfd) {
			ret = irqfd_set(m, v, false);
			if (ret)
				pr_warn_limited("%s: MSI-X irqfd deassign gsi %d: %s",
					m->pdev->name, v->gsi, strerror(-ret));
		}
		return;
	}
	if (!v->routed) {
		ret = irq_set_msi_route(m->vm, (uint32_t)v->gsi, addr, v->data);
		if (ret) {
			pr_warn_limited("%s: MSI route gsi %d: %s", m->pdev->name,
				v->gsi, strerror(-ret));
			return;
		}
		v->routed = true;
	}
	extras_set(m, v, true);
	if (!v->irqfd && v->efd >= 0) {
		ret = irqfd_set(m, v, true);
		if (ret)
			pr_warn_limited("%s: MSI-X irqfd assign gsi %d: %s",
				m->pdev->name, v->gsi, strerror(-ret));
	}
}

static void sync_all(struct msix *m)
{
	for (unsigned int i = 0; i < m->nvec; i++)
		vector_sync(m, &m->vec[i]);
}

int msix_init(struct msix *m, struct vm *vm, struct pci_dev *pdev,
	      unsigned int nvec, int bar, uint32_t table_off, uint32_t pba_off)
{
	return msix_init_split(m, vm, pdev, nvec, bar, table_off, bar, pba_off);
}

static bool bar_ok(int bar)
{
	return bar >= 0 && bar < PCI_NUM_BARS;
}

int msix_init_split(struct msix *m, struct vm *vm, struct pci_dev *pdev,
		    unsigned int nvec, int table_bar, uint32_t table_off,
		    int pba_bar, uint32_t pba_off)
{
	struct msix_cap cap = {
		.id = PCI_CAP_ID_MSIX,
		.ctrl = (uint16_t)(nvec - 1),
		.table = table_off | (uint32_t)table_bar,
		.pba = pba_off | (uint32_t)pba_bar,
	};
	int off;

	memset(m, 0, sizeof(*m));
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS || !bar_ok(table_bar) ||
	    !bar_ok(pba_bar) || (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	m->vm = vm;
	m->pdev = pdev;
	m->nvec = nvec;
	m->vec = calloc(nvec, sizeof(*m->vec));
	if (!m->vec)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	for (unsigned int i = 0; i < nvec; i++) {
		m->vec[i].ctrl = MSIX_ENTRY_CTRL_MASKED;
		m->vec[i].gsi = -1;
		m->vec[i].efd = -1;
	}
	for (unsigned int i = 0; i < nvec; i++) {
		struct msix_vector *v = &m->vec[i];

		v->gsi = irq_alloc_gsi(vm);
		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->gsi < 0 || v->efd < 0) {
			int err = v->gsi < 0 ? v->gsi : -errno;

			pr_err("%s: MSI-X vector %u: %s", pdev->name, i,
			       strerror(-err));
			msix_destroy(m);
			return err;
		}
	}
	off = pci_dev_add_cap(pdev, &cap, sizeof(cap));
	if (off < 0) {
		msix_destroy(m);
		return off;
	}
	m->cap = (uint8_t)off;
	/* The guest may only flip enable and function mask. */
	pdev->cfg_wmask[off + MSIX_CTRL_OFF + 1] = (uint8_t)((MSIX_CTRL_ENABLE |
							     MSIX_CTRL_FMASK) >> 8);
	return 0;
}

void msix_destroy(struct msix *m)
{
	if (!m->vec)
		return;
	for (unsigned int i = 0; i < m->nvec; i++) {
		struct msix_vector *v = &m->vec[i];

		while (v->extra)
			msix_del_irqfd(m, v->extra);
		if (v->irqfd)
			irqfd_set(m, v, false);
		if (v->efd >= 0)
			close(v->efd);
		if (v->gsi >= 0)
			irq_free_gsi(m->vm, (uint32_t)v->gsi);
	}
	free(m->vec);
	m->vec = NULL;
	pthread_mutex_destroy(&m->lock);
}

static uint32_t *entry_field(struct msix_vector *v, unsigned int word)
{
	switch (word) {
	case 0: return &v->addr_lo;
	case 1: return &v->addr_hi;
	case 2: return &v->data;
	default: return &v->ctrl;
	}
}

static void entry_write(struct msix *m, struct msix_vector *v,
			unsigned int word, uint32_t val)
{
	uint32_t *f = entry_field(v, word);

	if (word == 3)
		val &= MSIX_ENTRY_CTRL_MASKED;	/* other bits are reserved */
	if (*f != val && word != 3)
		v->routed = false;
	*f = val;
	/*
	 * The spec leaves an address/data change of an unmasked vector
	 * undefined; updating the route at once is what the guest means. If
	 * the route cannot follow, the vector stops firing at the old one:
	 * it waits, pending, for a write that succeeds.
	 */
	if (!v->routed && (v->irqfd || v->extra)) {
		uint64_t addr = ((uint64_t)v->addr_hi << 32) | v->addr_lo;

		if (!irq_set_msi_route(m->vm, (uint32_t)v->gsi, addr, v->data)) {
			v->routed = true;
		} else {
			extras_set(m, v, false);
			if (v->irqfd && irqfd_set(m, v, false))
				pr_warn_limited("%s: MSI-X vector on a stale route",
						m->pdev->name);
		}
	}
	vector_sync(m, v);
}

/* Table accesses are dword or aligned qword (PCI 3.0, 6.8.2.9). */
void msix_table_access(struct msix *m, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write)
{
	unsigned int idx = (unsigned int)(offset / MSIX_ENTRY_SIZE);
	unsigned int word = (unsigned int)(offset % MSIX_ENTRY_SIZE) / 4;

	if (offset >= msix_table_size(m->nvec) || (len != 4 && len != 8) ||
	    (offset & (len - 1))) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < len / 4; i++) {
		struct msix_vector *v = &m->vec[idx];
		uint32_t val;

		if (is_write) {
			memcpy(&val, data + 4 * i, 4);
			entry_write(m, v, word + i, val);
		} else {
			memcpy(data + 4 * i, entry_field(v, word + i), 4);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

static bool efd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A masked vector is pending while one of its eventfds counts. */
static bool vector_pending(const struct msix *m, const struct msix_vector *v)
{
	if (!vector_masked(m, v))
		return false;
	if (v->efd >= 0 && efd_readable(v->efd))
		return true;
	for (const struct msix_irqfd *x = v->extra; x; x = x->next)
		if (efd_readable(x->fd))
			return true;
	return false;
}

/* Pending bits are read-only; a masked vector is pending while its eventfd counts. */
void msix_pba_access(struct msix *m, uint64_t offset, uint8_t *data,
		     uint32_t len, bool is_write)
{
	uint64_t bits = 0;

	if (is_write)
		return;
	memset(data, 0, len);
	if (offset >= msix_pba_size(m->nvec) || (len != 4 && len != 8) ||
	    (offset & (len - 1)))
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned int b = 0; b < len * 8; b++) {
		uint64_t v = offset * 8 + b;

		if (v >= m->nvec)
			break;
		if (vector_pending(m, &m->vec[v]))
			bits |= 1ull << b;
	}
	pthread_mutex_unlock(&m->lock);
	memcpy(data, &bits, len);
}

void msix_cfg_write(struct msix *m, uint32_t offset, uint32_t len)
{
	uint32_t ctrl_off = m->cap + MSIX_CTRL_OFF;
	uint16_t ctrl;

	if (!m->vec || offset + len <= ctrl_off || offset >= ctrl_off + 2)
		return;
	memcpy(&ctrl, &m->pdev->cfg[ctrl_off], 2);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & MSIX_CTRL_ENABLE;
	m->fmask = ctrl & MSIX_CTRL_FMASK;
	sync_all(m);
	pthread_mutex_unlock(&m->lock);
}

int msix_vector_fd(struct msix *m, unsigned int v)
{
	int fd;

	if (v >= m->nvec)
		return -1;
	pthread_mutex_lock(&m->lock);
	fd = m->vec[v].efd;
	pthread_mutex_unlock(&m->lock);
	return fd;
}

int msix_set_vector_fd(struct msix *m, unsigned int v, int fd)
{
	struct msix_vector *vec;

	if (v >= m->nvec || fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	vec = &m->vec[v];
	if (fd == vec->efd) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	/* KVM must let go of the old eventfd before it is closed. */
	if (vec->irqfd && irqfd_set(m, vec, false)) {
		pthread_mutex_unlock(&m->lock);
		close(fd);
		return -EBUSY;
	}
	if (vec->efd >= 0)
		close(vec->efd);
	vec->efd = fd;
	vector_sync(m, vec);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

struct msix_irqfd *msix_add_irqfd(struct msix *m, unsigned int v, int fd, int *err)
{
	struct msix_irqfd *x;
	struct msix_vector *vec;

	x = v < m->nvec ? calloc(1, sizeof(*x)) : NULL;
	if (!x) {
		*err = v < m->nvec ? -ENOMEM : -EINVAL;
		close(fd);
		return NULL;
	}
	x->fd = fd;
	x->vector = v;
	pthread_mutex_lock(&m->lock);
	vec = &m->vec[v];
	*err = 0;
	/* Deliverable now: bind it here, where a refusal can be reported. */
	if (!vector_masked(m, vec) && vec->routed && vec->gsi >= 0)
		*err = extra_set(m, vec, x, true);
	if (!*err) {
		x->next = vec->extra;
		vec->extra = x;
	}
	pthread_mutex_unlock(&m->lock);
	if (*err) {
		close(fd);
		free(x);
		return NULL;
	}
	return x;
}

void msix_del_irqfd(struct msix *m, struct msix_irqfd *x)
{
	struct msix_vector *v = &m->vec[x->vector];
	struct msix_irqfd **p;

	pthread_mutex_lock(&m->lock);
	for (p = &v->extra; *p && *p != x; p = &(*p)->next)
		;
	if (*p)
		*p = x->next;
	/* KVM must let go of the eventfd before it is closed. */
	if (x->assigned && extra_set(m, v, x, false))
		pr_warn_limited("%s: MSI-X irqfd deassign gsi %d failed", m->pdev->name, v->gsi);
	pthread_mutex_unlock(&m->lock);
	close(x->fd);
	free(x);
}

void msix_notify(struct msix *m, unsigned int v)
{
	int r = -1;

	if (v >= m->nvec)
		return;
	/* Under the lock: msix_set_vector_fd may be closing the old fd. */
	pthread_mutex_lock(&m->lock);
	if (m->vec[v].efd >= 0)
		r = eventfd_write(m->vec[v].efd, 1);
	pthread_mutex_unlock(&m->lock);
	if (r)
		pr_warn_limited("%s: MSI-X vector %u: eventfd write failed",
			m->pdev->name, v);
}

bool msix_is_masked(struct msix *m, unsigned int v)
{
	bool masked;

	if (v >= m->nvec)
		return true;
	pthread_mutex_lock(&m->lock);
	masked = vector_masked(m, &m->vec[v]);
	pthread_mutex_unlock(&m->lock);
	return masked;
}
