// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote PCI device (remote_pci.h): the function built from DEVICE,
 * guest accesses forwarded on the calling vCPU's access channel, and the
 * device's death.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/devchan.h"
#include "common/log.h"
#include "vmm/remote_pci.h"
#include "vmm/remote_pci_int.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define STR_(x)	#x
#define STR(x)	STR_(x)

static bool is_dead(const struct remote_pci *rp)
{
	return __atomic_load_n(&rp->dead, __ATOMIC_ACQUIRE);
}

bool remote_pci_dead(const struct remote_pci *rp)
{
	return is_dead(rp);
}

struct pci_dev *remote_pci_pdev(struct remote_pci *rp)
{
	return &rp->pdev;
}

/* --- death ----------------------------------------------------------------- */

/* On the device thread: what the VM fd holds for the device goes. */
static void dead_cb(evutil_socket_t fd, short what, void *arg)
{
	struct remote_pci *rp = arg;

	(void)fd;
	(void)what;
	remote_ctrl_close(rp);
	remote_res_clear(rp);
}

void remote_die(struct remote_pci *rp, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (__atomic_exchange_n(&rp->dead, true, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (rp->ready)
		pr_err("%s: %s; the device is gone (reads all ones, the VM goes on)",
		       rp->name, why);
	else
		pr_err("%s: %s", rp->name, why);
	/* Wakes a vCPU waiting on a channel; the fds stay until destroy. */
	for (unsigned int i = 0; i < rp->nchan; i++)
		if (rp->chans[i].fd >= 0)
			shutdown(rp->chans[i].fd, SHUT_RDWR);
	if (rp->dead_ev)
		event_active(rp->dead_ev, 0, 0);
}

/* --- forwarding accesses ----------------------------------------------------- */

static struct remote_chan *my_chan(struct remote_pci *rp)
{
	int id = vcpu_current_id();

	/* Threads that are no vCPU (tests, the device thread) share channel 0. */
	return &rp->chans[id >= 0 && (unsigned int)id < rp->nchan ? id : 0];
}

static const char *chan_fault(int r, const char *why)
{
	if (r == -EAGAIN)
		return "no answer within " STR(REMOTE_ACCESS_TIMEOUT_MS) " ms";
	return why ? why : strerror(-r);
}

/*
 * One access on the calling vCPU's channel: reads wait for the response,
 * writes are posted. False if the device died (the access is lost).
 */
static bool forward(struct remote_pci *rp, uint8_t region, uint64_t offset,
		    uint8_t *data, uint32_t len, bool is_write)
{
	struct remote_chan *c = my_chan(rp);
	struct devchan_access a = {
		.write = is_write, .resp = !is_write, .region = region,
		.size = (uint8_t)len, .offset = offset,
	};
	struct devchan_access_cmd cmd;
	const char *why = NULL;
	uint64_t val = 0;
	int r;

	if (is_write)
		memcpy(&a.data, data, len);
	pthread_mutex_lock(&c->lock);
	a.user_data = ++c->seq;
	r = devchan_access_encode(&cmd, &a);
	if (!r)
		r = devchan_access_send_cmd(c->fd, &cmd);
	if (!r && !is_write)
		r = devchan_access_recv_resp(c->fd, &a, &val, &why);
	pthread_mutex_unlock(&c->lock);
	if (r) {
		remote_die(rp, "%s of %u bytes at %#llx of %s: %s",
			   is_write ? "write" : "read", len, (unsigned long long)offset,
			   region == DEVCHAN_REGION_CONFIG ? "config space" : "a BAR",
			   chan_fault(r, why));
		return false;
	}
	if (!is_write)
		memcpy(data, &val, len);
	return true;
}

static bool size_ok(uint32_t len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

static void unclaimed(uint8_t *data, uint32_t len, bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
}

/* --- config space ------------------------------------------------------------ */

static bool in_vendor_caps(const struct remote_pci *rp, uint32_t offset)
{
	return offset >= DEVCHAN_CAPS_START &&
	       offset < DEVCHAN_CAPS_START + rp->dev.caps_len;
}

/* A forwarded read shows our capability IDs and next pointers. */
static void own_bytes(const struct remote_pci *rp, uint32_t offset, uint8_t *data,
		      uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (rp->cfg_owned[offset + i])
			data[i] = rp->pdev.cfg[offset + i];
}

static bool rp_cfg_access(struct pci_dev *dev, uint32_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct remote_pci *rp = dev->opaque;

	if (is_dead(rp)) {
		unclaimed(data, len, is_write);
		return true;
	}
	if (!in_vendor_caps(rp, offset))
		return false;
	if (!forward(rp, DEVCHAN_REGION_CONFIG, offset, data, len, is_write))
		unclaimed(data, len, is_write);
	else if (!is_write)
		own_bytes(rp, offset, data, len);
	return true;
}

/* proxyd hears of Command changes: memory decoding, bus mastering. */
static void rp_cfg_write(struct pci_dev *dev, uint32_t offset, uint32_t len)
{
	struct remote_pci *rp = dev->opaque;

	if (offset <= PCI_COMMAND + 1 && offset + len > PCI_COMMAND)
		forward(rp, DEVCHAN_REGION_CONFIG, PCI_COMMAND, &dev->cfg[PCI_COMMAND],
			2, true);
	if (rp->has_msix)
		msix_cfg_write(&rp->msix, offset, len);
}

static void rp_bar_moved(struct pci_dev *dev, int bar, uint64_t addr, bool mapped)
{
	remote_res_bar_moved(dev->opaque, bar, addr, mapped);
}

static const struct pci_dev_ops remote_pci_ops = {
	.cfg_access = rp_cfg_access,
	.cfg_write = rp_cfg_write,
	.bar_moved = rp_bar_moved,
};

/* --- BARs -------------------------------------------------------------------- */

static bool in_range(uint64_t offset, uint64_t base, uint64_t size)
{
	return offset >= base && offset - base < size;
}

/* MSI-X table or PBA accesses, if they are in this BAR; true if taken. */
static bool msix_access(struct remote_pci *rp, int bar, uint64_t offset,
			uint8_t *data, uint32_t len, bool is_write)
{
	const struct devchan_msix *x = &rp->dev.msix;

	if (!rp->has_msix)
		return false;
	if (x->table_bar == bar && in_range(offset, x->table_off,
					    msix_table_size(x->nvectors))) {
		msix_table_access(&rp->msix, offset - x->table_off, data, len, is_write);
		return true;
	}
	if (x->pba_bar == bar && in_range(offset, x->pba_off,
					  msix_pba_size(x->nvectors))) {
		msix_pba_access(&rp->msix, offset - x->pba_off, data, len, is_write);
		return true;
	}
	return false;
}

/*
 * Every BAR's exits: the MSI-X table and PBA here, REMOTE BARs to proxyd,
 * the rest (an SHM BAR where no slot is mapped) reads all ones.
 */
static void rp_bar_access(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct remote_bar *bar = opaque;
	struct remote_pci *rp = bar->rp;

	if (is_dead(rp) || !size_ok(len))
		unclaimed(data, len, is_write);
	else if (msix_access(rp, bar->index, offset, data, len, is_write))
		return;
	else if (bar->kind != DEVCHAN_BAR_KIND_REMOTE ||
		 !forward(rp, bar->index, offset, data, len, is_write))
		unclaimed(data, len, is_write);
}

/* --- building the function ----------------------------------------------------- */

static void add_bars(struct remote_pci *rp)
{
	for (int n = 0; n < DEVCHAN_NUM_BARS; n++) {
		const struct devchan_bar *b = &rp->dev.bars[n];

		rp->bars[n] = (struct remote_bar){ .rp = rp, .index = (uint8_t)n,
						   .kind = b->kind };
		if (b->type == DEVCHAN_BAR_NONE)
			continue;
		pci_dev_set_bar(&rp->pdev, n, b->type == DEVCHAN_BAR_MEM64 ?
				PCI_BAR_MEM64 : PCI_BAR_MEM32,
				b->flags & DEVCHAN_BAR_F_PREFETCH, b->size,
				rp_bar_access, &rp->bars[n]);
	}
}

/* The vendor capabilities, where devchan.md says: 0x40 + their offset in caps. */
static int add_caps(struct remote_pci *rp)
{
	const uint8_t *caps = rp->dev.caps;

	for (uint32_t off = 0; off < rp->dev.caps_len; off += caps[off + 2]) {
		int at = pci_dev_add_cap(&rp->pdev, caps + off, caps[off + 2]);

		if (at != (int)(DEVCHAN_CAPS_START + off))
			return -ENOSPC;
		rp->cfg_owned[at] = rp->cfg_owned[at + 1] = true;
	}
	return 0;
}

static int add_msix(struct remote_pci *rp)
{
	const struct devchan_msix *x = &rp->dev.msix;
	int r;

	if (!x->nvectors)
		return 0;
	r = msix_init_split(&rp->msix, rp->vm, &rp->pdev, x->nvectors, x->table_bar,
			    x->table_off, x->pba_bar, x->pba_off);
	rp->has_msix = !r;
	return r;
}

static int build_function(struct remote_pci *rp)
{
	const struct devchan_device *d = &rp->dev;
	int r;

	pci_dev_init(&rp->pdev, rp->name, d->vendor_id, d->device_id, d->class_code,
		     d->subclass, d->prog_if, d->revision);
	pci_dev_set_subsystem(&rp->pdev, d->subsys_vendor_id, d->subsys_id);
	rp->pdev.ops = &remote_pci_ops;
	rp->pdev.opaque = rp;
	add_bars(rp);
	r = add_caps(rp);
	if (r) {
		pr_err("%s: the device's capabilities do not fit", rp->name);
		return r;
	}
	return add_msix(rp);
}

static int chans_alloc(struct remote_pci *rp)
{
	rp->nchan = rp->vm->ncpus;
	rp->chans = calloc(rp->nchan, sizeof(*rp->chans));
	if (!rp->chans)
		return -ENOMEM;
	for (unsigned int i = 0; i < rp->nchan; i++) {
		pthread_mutex_init(&rp->chans[i].lock, NULL);
		rp->chans[i].fd = -1;
	}
	return 0;
}

static struct remote_pci *rp_alloc(struct vm *vm, const char *name, int ctrl)
{
	struct remote_pci *rp = calloc(1, sizeof(*rp));

	if (!rp || !(rp->name = strdup(name))) {
		free(rp);
		close(ctrl);
		return NULL;
	}
	rp->vm = vm;
	rp->ctrl = ctrl;
	pthread_mutex_init(&rp->lock, NULL);
	remote_res_init(rp);
	rp->dead_ev = event_new(vm->evbase, -1, 0, dead_cb, rp);
	if (!rp->dead_ev || chans_alloc(rp)) {
		remote_pci_destroy(rp);
		return NULL;
	}
	return rp;
}

struct remote_pci *remote_pci_create(struct vm *vm, const char *name, int ctrl,
				     int slot)
{
	struct remote_pci *rp = rp_alloc(vm, name, ctrl);
	int r;

	if (!rp)
		return NULL;
	r = remote_handshake(rp);
	if (!r)
		r = build_function(rp);
	if (!r) {
		r = pci_bus_add(vm->pci, &rp->pdev, slot);
		rp->added = r >= 0;
	}
	if (r >= 0)
		r = remote_hand_over(rp);
	if (!r)
		r = remote_ctrl_watch(rp);
	if (r) {
		pr_err("%s: cannot set up the device", name);
		remote_pci_destroy(rp);
		return NULL;
	}
	rp->ready = true;
	return rp;
}

void remote_pci_destroy(struct remote_pci *rp)
{
	if (!rp)
		return;
	if (rp->added)
		pci_bus_remove(rp->vm->pci, &rp->pdev);
	remote_ctrl_close(rp);
	remote_res_clear(rp);
	if (rp->has_msix)
		msix_destroy(&rp->msix);
	for (unsigned int i = 0; i < rp->nchan; i++) {
		if (rp->chans[i].fd >= 0)
			close(rp->chans[i].fd);
		pthread_mutex_destroy(&rp->chans[i].lock);
	}
	free(rp->chans);
	if (rp->dead_ev)
		event_free(rp->dead_ev);
	pthread_mutex_destroy(&rp->lock);
	free(rp->name);
	free(rp);
}
