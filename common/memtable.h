/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest memory table: the regions of a guest's RAM, and translation of
 * guest-physical (descriptor) and front-end user (ring) addresses to local
 * pointers. A back-end keeps the regions a front-end handed over; a
 * front-end (the vmm, the test harness) keeps its own RAM in one, and hands
 * its regions over as they are. Every check is overflow-safe: a range is
 * accepted only if it lies wholly inside the table.
 *
 * The table does not care how a region got its local mapping: a back-end on
 * a host mmaps the memfd it received (mem_region_map_fd), a back-end in a
 * device VM points into its mmap of the shared-memory BAR.
 */
#ifndef COMMON_MEMTABLE_H
#define COMMON_MEMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "protocol/vhost_user.h"

#define MEM_TABLE_MAX_REGIONS	64

struct mem_region {
	uint64_t gpa;		/* guest_phys_addr */
	uint64_t size;		/* memory_size, > 0 */
	uint64_t uva;		/* the front-end's userspace_addr */
	uint8_t *host;		/* local address of gpa */
	/* The file behind it, as a front-end hands it over: lent, -1 if unknown. */
	int fd;
	uint64_t fd_offset;	/* mmap_offset: where gpa lies in fd */
	/* What to munmap when the region goes; map_len 0: not ours to unmap. */
	void *map_base;
	size_t map_len;
};

struct mem_table {
	unsigned int nregions;
	struct mem_region regions[MEM_TABLE_MAX_REGIONS];
};

void mem_table_init(struct mem_table *t);

/*
 * mmaps [mmap_offset, mmap_offset + memory_size) of fd, shared, read-write.
 * Rejects size 0, offset + size overflow, and a range past the end of the
 * file (which would SIGBUS on access). Fills *out (fd -1: the mapping keeps
 * its own reference, fd is not kept or closed). 0 or -errno.
 */
int mem_region_map_fd(const struct vhost_user_mem_region *wire, int fd,
		      struct mem_region *out);

/*
 * Adds r (taking its mapping). Rejects: a full table, size 0, gpa + size or
 * uva + size overflow, a gpa range or uva range overlapping an existing
 * region. On error the caller still owns r's mapping. 0 or -errno.
 */
int mem_table_add(struct mem_table *t, const struct mem_region *r);

/*
 * Removes the region with exactly this gpa, size and uva, unmapping it if
 * the table owns the mapping. -ENOENT if there is none.
 */
int mem_table_remove(struct mem_table *t, uint64_t gpa, uint64_t size, uint64_t uva);

/* Removes (and unmaps) every region. */
void mem_table_clear(struct mem_table *t);

/* Local pointer to [gpa, gpa+len) if it lies inside one region, else NULL. */
void *mem_gpa_to_host(const struct mem_table *t, uint64_t gpa, uint64_t len);

/* The same for a front-end user address (SET_VRING_ADDR). */
void *mem_uva_to_host(const struct mem_table *t, uint64_t uva, uint64_t len);

/*
 * Maps [gpa, gpa+len), which may span adjacent regions, to iovecs appended at
 * iov[*niov] (capacity max_iov). Returns 0, -EFAULT if any byte lies outside
 * the table or gpa + len overflows, -ENOBUFS if max_iov is too small.
 * len 0 appends nothing and succeeds.
 */
int mem_gpa_to_iov(const struct mem_table *t, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned int *niov, unsigned int max_iov);

#endif /* COMMON_MEMTABLE_H */
