// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory requests: SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG, GET_MAX_MEM_SLOTS.
 *
 * A table is built completely before it replaces the old one, so a bad
 * region leaves the old table (and the rings in it) untouched. After any
 * change every started ring is translated again: a new table may put the
 * same front-end addresses at other local addresses.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"
#include "vblk-backend/vu_backend.h"

static int vu_map_region(struct vu_backend *vb, const struct vhost_user_mem_region *wire,
			 int fd, struct mem_region *out)
{
	if (vb->tr_ops && vb->tr_ops->map_region)
		return vb->tr_ops->map_region(vb->tr, wire, fd, out);
	return mem_region_map_fd(wire, fd, out);
}

static void vu_unmap_region(struct mem_region *r)
{
	if (r->map_len)
		munmap(r->map_base, r->map_len);
	r->map_len = 0;
}

static void vu_log_region(const char *what, const struct vhost_user_mem_region *w)
{
	pr_debug("%s: gpa %#llx size %#llx uva %#llx offset %#llx", what,
		 (unsigned long long)w->guest_phys_addr,
		 (unsigned long long)w->memory_size,
		 (unsigned long long)w->userspace_addr,
		 (unsigned long long)w->mmap_offset);
}

/* Maps wire with fd and adds it to t; on failure nothing stays mapped. */
static int vu_add_region(struct vu_backend *vb, struct mem_table *t,
			 const struct vhost_user_mem_region *wire, int fd,
			 const char *what)
{
	struct mem_region r;
	int ret;

	vu_log_region(what, wire);
	ret = vu_map_region(vb, wire, fd, &r);
	if (ret) {
		pr_err("%s: cannot map region gpa %#llx size %#llx: %s", what,
		       (unsigned long long)wire->guest_phys_addr,
		       (unsigned long long)wire->memory_size, strerror(-ret));
		return ret;
	}
	ret = mem_table_add(t, &r);
	if (ret) {
		pr_err("%s: region gpa %#llx size %#llx uva %#llx rejected: %s",
		       what, (unsigned long long)wire->guest_phys_addr,
		       (unsigned long long)wire->memory_size,
		       (unsigned long long)wire->userspace_addr, strerror(-ret));
		vu_unmap_region(&r);
	}
	return ret;
}

int vu_handle_set_mem_table(struct vu_backend *vb, struct vu_msg *m)
{
	const struct vhost_user_memory *mem = &m->payload.memory;
	struct mem_table t;
	uint32_t i, n = mem->nregions;
	int ret;

	if (n > VHOST_USER_MEM_REGIONS_MAX) {
		pr_err("SET_MEM_TABLE: %u regions, at most %d", n,
		       VHOST_USER_MEM_REGIONS_MAX);
		return -EINVAL;
	}
	if (m->hdr.size < VHOST_USER_MEMORY_SIZE(n)) {
		pr_err("SET_MEM_TABLE: %u regions do not fit %u payload bytes",
		       n, m->hdr.size);
		return -EINVAL;
	}
	if (m->nfds != (vu_fdless(vb) ? 0 : n)) {
		pr_err("SET_MEM_TABLE: %u regions but %zu fds", n, m->nfds);
		return -EINVAL;
	}

	mem_table_init(&t);
	for (i = 0; i < n; i++) {
		ret = vu_add_region(vb, &t, &mem->regions[i],
				    vu_fdless(vb) ? -1 : m->fds[i],
				    "SET_MEM_TABLE");
		if (ret) {
			mem_table_clear(&t);
			return ret;
		}
	}
	/* The mappings hold their own references; the caller closes the fds. */
	mem_table_clear(&vb->mem);
	vb->mem = t;
	pr_info("memory table: %u regions", n);
	return vu_vring_remap_all(vb);
}

int vu_handle_add_mem_reg(struct vu_backend *vb, struct vu_msg *m)
{
	int ret;

	if (vb->mem.nregions >= VU_MAX_MEM_SLOTS) {
		pr_err("ADD_MEM_REG: all %d slots in use", VU_MAX_MEM_SLOTS);
		return -ENOSPC;
	}
	ret = vu_add_region(vb, &vb->mem, &m->payload.mem_reg.region, m->fds[0],
			    "ADD_MEM_REG");
	if (ret)
		return ret;
	return vu_vring_remap_all(vb);
}

int vu_handle_rem_mem_reg(struct vu_backend *vb, struct vu_msg *m)
{
	const struct vhost_user_mem_region *w = &m->payload.mem_reg.region;
	int ret;

	/* The spec lets a front-end attach an fd here; it is closed unused. */
	vu_log_region("REM_MEM_REG", w);
	ret = mem_table_remove(&vb->mem, w->guest_phys_addr, w->memory_size,
			       w->userspace_addr);
	if (ret) {
		pr_err("REM_MEM_REG: no region gpa %#llx size %#llx uva %#llx",
		       (unsigned long long)w->guest_phys_addr,
		       (unsigned long long)w->memory_size,
		       (unsigned long long)w->userspace_addr);
		return ret;
	}
	/* Rings that lived there pause until their memory comes back. */
	return vu_vring_remap_all(vb);
}

int vu_handle_get_max_mem_slots(struct vu_backend *vb, struct vu_msg *m)
{
	(void)vb;
	vu_msg_make_reply(m, sizeof(uint64_t));
	m->payload.u64 = VU_MAX_MEM_SLOTS;
	return 0;
}
