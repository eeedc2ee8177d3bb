// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory table. Everything here is fed by a peer we do not trust
 * (vhost-user front-end, guest driver), so every range is checked as
 * [start, start + len) with explicit overflow tests, never as "start is
 * inside", which is how DPDK's CVE-2018-1059 happened.
 *
 * Lookups are a linear scan without side effects: queues on other threads
 * share the table read-only, and a handful of regions scan faster than any
 * cache we would have to keep coherent.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/memtable.h"
#include "common/range.h"

static_assert(sizeof(size_t) == sizeof(uint64_t),
	      "region sizes and iov_len are used interchangeably: 64-bit hosts only");

void mem_table_init(struct mem_table *t)
{
	memset(t, 0, sizeof(*t));
}

int mem_region_map_fd(const struct vhost_user_mem_region *wire, int fd,
		      struct mem_region *out)
{
	uint64_t size = wire->memory_size;
	uint64_t offset = wire->mmap_offset;
	uint64_t end, map_off, delta, map_len;
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	void *base;

	if (size == 0 || __builtin_add_overflow(offset, size, &end)) {
		pr_err("memory region: bad size %#llx at offset %#llx\n",
		       (unsigned long long)size, (unsigned long long)offset);
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	/*
	 * Only a regular file (memfd, shm, hugetlbfs) has a size we can trust;
	 * touching a mapping past it raises SIGBUS.
	 */
	if (!S_ISREG(st.st_mode)) {
		pr_err("memory region: fd is not a regular file\n");
		return -EINVAL;
	}
	if (st.st_size < 0 || end > (uint64_t)st.st_size) {
		pr_err("memory region: [%#llx, %#llx) is not inside its %lld-byte file\n",
		       (unsigned long long)offset, (unsigned long long)end,
		       (long long)st.st_size);
		return -EINVAL;
	}

	/* mmap wants a page-aligned offset; map from the page below it. */
	map_off = offset & ~((uint64_t)page - 1);
	delta = offset - map_off;
	map_len = size + delta;		/* <= end <= st_size: no overflow */
	base = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		    fd, (off_t)map_off);
	if (base == MAP_FAILED)
		return -errno;

	out->gpa = wire->guest_phys_addr;
	out->size = size;
	out->uva = wire->userspace_addr;
	out->host = (uint8_t *)base + delta;
	out->fd = -1;
	out->fd_offset = offset;
	out->map_base = base;
	out->map_len = map_len;
	return 0;
}

static void region_unmap(struct mem_region *r)
{
	if (r->map_len)
		munmap(r->map_base, r->map_len);
	r->map_base = NULL;
	r->map_len = 0;
}

int mem_table_add(struct mem_table *t, const struct mem_region *r)
{
	uint64_t end;
	uintptr_t host_end;
	unsigned int i;

	if (t->nregions >= MEM_TABLE_MAX_REGIONS)
		return -ENOSPC;
	if (r->size == 0 || !r->host ||
	    __builtin_add_overflow(r->gpa, r->size, &end) ||
	    __builtin_add_overflow(r->uva, r->size, &end) ||
	    __builtin_add_overflow((uintptr_t)r->host, r->size, &host_end))
		return -EINVAL;

	for (i = 0; i < t->nregions; i++) {
		const struct mem_region *o = &t->regions[i];

		if (range_overlaps(r->gpa, r->size, o->gpa, o->size) ||
		    range_overlaps(r->uva, r->size, o->uva, o->size)) {
			pr_err("memory region gpa %#llx uva %#llx size %#llx overlaps another\n",
			       (unsigned long long)r->gpa, (unsigned long long)r->uva,
			       (unsigned long long)r->size);
			return -EINVAL;
		}
	}
	t->regions[t->nregions++] = *r;
	return 0;
}

int mem_table_remove(struct mem_table *t, uint64_t gpa, uint64_t size, uint64_t uva)
{
	unsigned int i;

	for (i = 0; i < t->nregions; i++) {
		struct mem_region *r = &t->regions[i];

		if (r->gpa != gpa || r->size != size || r->uva != uva)
			continue;
		region_unmap(r);
		t->nregions--;
		memmove(r, r + 1, (t->nregions - i) * sizeof(*r));
		memset(&t->regions[t->nregions], 0, sizeof(*r));
		return 0;
	}
	return -ENOENT;
}

void mem_table_clear(struct mem_table *t)
{
	unsigned int i;

	for (i = 0; i < t->nregions; i++)
		region_unmap(&t->regions[i]);
	mem_table_init(t);
}

/* The region holding gpa (len 0 ranges need their start inside one too). */
static const struct mem_region *find_gpa(const struct mem_table *t, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < t->nregions; i++) {
		const struct mem_region *r = &t->regions[i];

		if (range_contains(r->gpa, r->size, gpa, 0))
			return r;
	}
	return NULL;
}

void *mem_gpa_to_host(const struct mem_table *t, uint64_t gpa, uint64_t len)
{
	const struct mem_region *r = find_gpa(t, gpa);

	if (!r || !range_contains(r->gpa, r->size, gpa, len))
		return NULL;
	return r->host + (gpa - r->gpa);
}

void *mem_uva_to_host(const struct mem_table *t, uint64_t uva, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < t->nregions; i++) {
		const struct mem_region *r = &t->regions[i];

		if (range_contains(r->uva, r->size, uva, len))
			return r->host + (uva - r->uva);
	}
	return NULL;
}

int mem_gpa_to_iov(const struct mem_table *t, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned int *niov, unsigned int max_iov)
{
	unsigned int n = *niov;
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return -EFAULT;

	while (len) {
		const struct mem_region *r = find_gpa(t, gpa);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		if (n >= max_iov)
			return -ENOBUFS;
		off = gpa - r->gpa;
		chunk = r->size - off;
		if (chunk > len)
			chunk = len;
		iov[n].iov_base = r->host + off;
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	*niov = n;
	return 0;
}
