// SPDX-License-Identifier: GPL-2.0-only
/*
 * BAR4, the shared-memory BAR: where each of the sibling's memory regions
 * lies in it. Regions go back to back at page-aligned offsets, the lowest
 * free range first; a region whose mmap_offset is not page aligned gets a
 * slot from the page below it, so bar_off (what the back-end is told)
 * points at its first byte. Pure bookkeeping: sibling.c sends the SHM_MAPs.
 */
#include <errno.h>
#include <string.h>

#include "common/range.h"
#include "vvu-proxyd/proxyd.h"

#define SHM_PAGE	((uint64_t)DEVCHAN_PAGE_SIZE)

static_assert(PROXY_SHM_MAX_REGIONS <= DEVCHAN_MAX_SHM_SLOTS, "slots");

void shm_init(struct proxy_shm *s, uint64_t bar_size)
{
	memset(s, 0, sizeof(*s));
	s->bar_size = bar_size;
}

/* size > 0 and no end that wraps: the front-end chose these numbers. */
static bool wire_sane(const struct vhost_user_mem_region *w)
{
	return w->memory_size &&
	       w->guest_phys_addr <= UINT64_MAX - w->memory_size &&
	       w->userspace_addr <= UINT64_MAX - w->memory_size &&
	       w->mmap_offset <= UINT64_MAX - SHM_PAGE - w->memory_size;
}

static bool overlaps_any(const struct proxy_shm *s,
			 const struct vhost_user_mem_region *w)
{
	for (unsigned int i = 0; i < PROXY_SHM_MAX_REGIONS; i++) {
		const struct vhost_user_mem_region *o = &s->regions[i].wire;

		if (!s->regions[i].used)
			continue;
		if (range_overlaps(o->guest_phys_addr, o->memory_size,
				   w->guest_phys_addr, w->memory_size) ||
		    range_overlaps(o->userspace_addr, o->memory_size,
				   w->userspace_addr, w->memory_size))
			return true;
	}
	return false;
}

static bool bar_range_free(const struct proxy_shm *s, uint64_t off,
			   uint64_t size)
{
	if (!range_contains(0, s->bar_size, off, size))
		return false;
	for (unsigned int i = 0; i < PROXY_SHM_MAX_REGIONS; i++) {
		const struct shm_region *r = &s->regions[i];

		if (r->used && range_overlaps(r->map_off, r->map_size, off, size))
			return false;
	}
	return true;
}

/* Lowest free range of size bytes: at 0 or right after a used slot. */
static int bar_find(const struct proxy_shm *s, uint64_t size, uint64_t *off)
{
	bool found = false;
	uint64_t best = 0;

	for (int i = -1; i < PROXY_SHM_MAX_REGIONS; i++) {
		const struct shm_region *r = i < 0 ? NULL : &s->regions[i];
		uint64_t cand = r ? r->map_off + r->map_size : 0;

		if (r && !r->used)
			continue;
		if ((!found || cand < best) && bar_range_free(s, cand, size)) {
			best = cand;
			found = true;
		}
	}
	*off = best;
	return found ? 0 : -ENOSPC;
}

static int free_slot(const struct proxy_shm *s)
{
	for (unsigned int i = 0; i < PROXY_SHM_MAX_REGIONS; i++)
		if (!s->regions[i].used)
			return (int)i;
	return -ENOSPC;
}

int shm_place(const struct proxy_shm *s, const struct vhost_user_mem_region *wire,
	      uint64_t file_size, struct shm_region *out)
{
	uint64_t delta;
	int slot, r;

	if (!wire_sane(wire))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->wire = *wire;
	out->fd_off = wire->mmap_offset & ~(SHM_PAGE - 1);
	delta = wire->mmap_offset - out->fd_off;
	out->map_size = (delta + wire->memory_size + SHM_PAGE - 1) & ~(SHM_PAGE - 1);
	/* The vmm maps the whole slot: past the file's end it would fault. */
	if (!range_contains(0, file_size, out->fd_off, out->map_size))
		return -EINVAL;
	if (overlaps_any(s, wire))
		return -EEXIST;
	slot = free_slot(s);
	if (slot < 0)
		return slot;
	r = bar_find(s, out->map_size, &out->map_off);
	if (r)
		return r;
	out->bar_off = out->map_off + delta;
	out->used = true;
	return slot;
}

int shm_find(const struct proxy_shm *s, const struct vhost_user_mem_region *wire)
{
	for (unsigned int i = 0; i < PROXY_SHM_MAX_REGIONS; i++) {
		const struct vhost_user_mem_region *o = &s->regions[i].wire;

		if (s->regions[i].used &&
		    o->guest_phys_addr == wire->guest_phys_addr &&
		    o->memory_size == wire->memory_size &&
		    o->userspace_addr == wire->userspace_addr)
			return (int)i;
	}
	return -ENOENT;
}
