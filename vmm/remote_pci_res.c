// SPDX-License-Identifier: GPL-2.0-only
/*
 * What proxyd asks the vmm to bind into the VM (remote_pci_int.h): memory
 * slots in SHM BARs, ioeventfds in REMOTE BARs and irqfds on MSI-X vectors.
 * Slots and ioeventfds follow their BAR and leave the guest's address space
 * while it does not decode; KVM keeps no ioeventfd or slot of a BAR that is
 * not there.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/range.h"
#include "vmm/memslot.h"
#include "vmm/remote_pci_int.h"
#include "vmm/vm.h"

void remote_res_init(struct remote_pci *rp)
{
	for (unsigned int i = 0; i < DEVCHAN_MAX_IOEVENTFDS; i++)
		rp->ioev[i].fd = -1;
}

/* --- memory slots ---------------------------------------------------------- */

static bool shm_overlaps(struct remote_pci *rp, const struct devchan_shm_map *map)
{
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++) {
		const struct remote_shm *s = &rp->shm[i];

		if (s->used && s->bar == map->bar &&
		    range_overlaps(s->bar_offset, s->size,
				   map->bar_offset, map->size))
			return true;
	}
	return false;
}

int remote_shm_map(struct remote_pci *rp, const struct devchan_shm_map *map, int fd)
{
	const struct remote_bar *bar = &rp->bars[map->bar];
	struct remote_shm *s = &rp->shm[map->slot];
	int r;

	pthread_mutex_lock(&rp->lock);
	if (s->used)
		r = -EEXIST;
	else if (shm_overlaps(rp, map))
		r = -EBUSY;
	else
		r = memslot_add(rp->vm, fd, map->fd_offset, map->size,
				bar->addr + map->bar_offset, bar->mapped,
				map->flags & DEVCHAN_SHM_F_READONLY);
	if (r >= 0) {
		*s = (struct remote_shm){ .used = true, .bar = map->bar,
					  .bar_offset = map->bar_offset, .size = map->size,
					  .kvm_slot = r };
		r = 0;
	}
	pthread_mutex_unlock(&rp->lock);
	close(fd);	/* the slot's mapping holds the file */
	return r;
}

static int shm_remove(struct remote_pci *rp, struct remote_shm *s)
{
	int r = memslot_remove(rp->vm, s->kvm_slot);

	memset(s, 0, sizeof(*s));
	return r;
}

int remote_shm_unmap(struct remote_pci *rp, uint32_t slot)
{
	struct remote_shm *s = &rp->shm[slot];
	int r = -ENOENT;

	pthread_mutex_lock(&rp->lock);
	if (s->used)
		r = shm_remove(rp, s);
	pthread_mutex_unlock(&rp->lock);
	return r;
}

/* --- ioeventfds ------------------------------------------------------------ */

static int ioeventfd_set(struct remote_pci *rp, struct remote_ioeventfd *io,
			 uint64_t addr, bool assign)
{
	struct kvm_ioeventfd k = {
		.datamatch = io->value,
		.addr = addr,
		.len = io->len,
		.fd = io->fd,
		.flags = (io->datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(rp->vm->vm_fd, KVM_IOEVENTFD, &k) < 0)
		return -errno;
	io->assigned = assign;
	io->addr = addr;
	return 0;
}

static void ioeventfd_unplace(struct remote_pci *rp, struct remote_ioeventfd *io)
{
	int r;

	if (!io->assigned)
		return;
	r = ioeventfd_set(rp, io, io->addr, false);
	if (r)
		pr_warn_limited("%s: ioeventfd deassign at %#llx: %s", rp->name,
				(unsigned long long)io->addr, strerror(-r));
}

int remote_ioeventfd_add(struct remote_pci *rp, const struct devchan_ioeventfd_add *a,
			 int fd)
{
	struct remote_ioeventfd *io = &rp->ioev[a->id];
	const struct remote_bar *bar = &rp->bars[a->bar];
	int r = 0;

	pthread_mutex_lock(&rp->lock);
	if (io->fd >= 0) {
		r = -EEXIST;
		goto out;
	}
	*io = (struct remote_ioeventfd){
		.fd = fd, .bar = a->bar, .len = a->len, .offset = a->offset,
		.datamatch = a->flags & DEVCHAN_IOEVENTFD_F_DATAMATCH,
		.value = a->datamatch,
	};
	if (bar->mapped)
		r = ioeventfd_set(rp, io, bar->addr + a->offset, true);
	if (r)
		io->fd = -1;
out:
	pthread_mutex_unlock(&rp->lock);
	if (r)
		close(fd);
	return r;
}

static void ioeventfd_remove(struct remote_pci *rp, struct remote_ioeventfd *io)
{
	ioeventfd_unplace(rp, io);
	close(io->fd);
	io->fd = -1;
}

int remote_ioeventfd_del(struct remote_pci *rp, uint32_t id)
{
	struct remote_ioeventfd *io = &rp->ioev[id];
	int r = -ENOENT;

	pthread_mutex_lock(&rp->lock);
	if (io->fd >= 0) {
		ioeventfd_remove(rp, io);
		r = 0;
	}
	pthread_mutex_unlock(&rp->lock);
	return r;
}

/* --- irqfds ---------------------------------------------------------------- */

int remote_irqfd_add(struct remote_pci *rp, uint32_t id, uint16_t vector, int fd)
{
	int r = 0;

	pthread_mutex_lock(&rp->lock);
	if (rp->irqfd[id] || !rp->has_msix) {
		r = rp->irqfd[id] ? -EEXIST : -EINVAL;
		close(fd);
	} else {
		rp->irqfd[id] = msix_add_irqfd(&rp->msix, vector, fd, &r);
	}
	pthread_mutex_unlock(&rp->lock);
	return r;
}

int remote_irqfd_del(struct remote_pci *rp, uint32_t id)
{
	int r = -ENOENT;

	pthread_mutex_lock(&rp->lock);
	if (rp->irqfd[id]) {
		msix_del_irqfd(&rp->msix, rp->irqfd[id]);
		rp->irqfd[id] = NULL;
		r = 0;
	}
	pthread_mutex_unlock(&rp->lock);
	return r;
}

/* --- following the BARs ---------------------------------------------------- */

static void shm_follow(struct remote_pci *rp, int bar, uint64_t addr, bool mapped)
{
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++) {
		struct remote_shm *s = &rp->shm[i];
		int r;

		if (!s->used || s->bar != bar)
			continue;
		r = memslot_move(rp->vm, s->kvm_slot, addr + s->bar_offset, mapped);
		if (r)	/* the guest put the BAR over something KVM has */
			pr_warn_limited("%s: shared memory slot %u not at %#llx: %s",
					rp->name, i,
					(unsigned long long)(addr + s->bar_offset),
					strerror(-r));
	}
}

static void ioeventfd_follow(struct remote_pci *rp, int bar, uint64_t addr,
			     bool mapped)
{
	for (unsigned int i = 0; i < DEVCHAN_MAX_IOEVENTFDS; i++) {
		struct remote_ioeventfd *io = &rp->ioev[i];
		int r;

		if (io->fd < 0 || io->bar != bar)
			continue;
		ioeventfd_unplace(rp, io);
		if (!mapped)
			continue;
		/* Unplaced, the write goes over the access channel: slower, not lost. */
		r = ioeventfd_set(rp, io, addr + io->offset, true);
		if (r)
			pr_warn_limited("%s: ioeventfd %u at %#llx: %s", rp->name, i,
					(unsigned long long)(addr + io->offset),
					strerror(-r));
	}
}

void remote_res_bar_moved(struct remote_pci *rp, int bar, uint64_t addr, bool mapped)
{
	pthread_mutex_lock(&rp->lock);
	rp->bars[bar].addr = addr;
	rp->bars[bar].mapped = mapped;
	shm_follow(rp, bar, addr, mapped);
	ioeventfd_follow(rp, bar, addr, mapped);
	pthread_mutex_unlock(&rp->lock);
}

void remote_res_clear(struct remote_pci *rp)
{
	pthread_mutex_lock(&rp->lock);
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++)
		if (rp->shm[i].used)
			shm_remove(rp, &rp->shm[i]);
	for (unsigned int i = 0; i < DEVCHAN_MAX_IOEVENTFDS; i++)
		if (rp->ioev[i].fd >= 0)
			ioeventfd_remove(rp, &rp->ioev[i]);
	for (unsigned int i = 0; i < DEVCHAN_MAX_IRQFDS; i++) {
		if (rp->irqfd[i])
			msix_del_irqfd(&rp->msix, rp->irqfd[i]);
		rp->irqfd[i] = NULL;
	}
	pthread_mutex_unlock(&rp->lock);
}
