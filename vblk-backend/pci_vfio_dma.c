/* SPDX-License-Identifier: GPL-2.0-only */
/* DMA memory for pci_vfio.c; the strategy is described in pci_vfio_dma.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vblk-backend/pci_vfio_dma.h"

#define DMA_PAGE	4096ul
#define DMA_HUGE	(2ul << 20)
/* The driver wants well under 2 MiB; refuse what is surely a bug. */
#define DMA_MAX		(64ul << 20)
/* 4 KiB pool searched for a run: this many times the request, at least. */
#define DMA_POOL_MUL	8
#define DMA_POOL_MIN	(4ul << 20)
/* Type1 IOVAs start above the first MiB, clear of legacy ranges. */
#define DMA_IOVA_BASE	(1ull << 20)

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif

struct dma_chunk {
	struct dma_chunk *next;
	uint8_t *va;
	size_t len;		/* mapped and usable */
	size_t used;		/* carved off the front */
	uint64_t iova;		/* of va[0] */
};

struct dma_pool {
	struct dma_chunk *chunks;
	int container;		/* type1 IOMMU, or -1: no IOMMU */
	int pagemap;		/* -1 until first needed */
	uint64_t next_iova;	/* type1 */
	bool warned_4k;
};

int pagemap_entry_pfn(uint64_t entry, uint64_t *pfn)
{
	if (!(entry & PAGEMAP_PRESENT))
		return -ENOENT;
	if (!(entry & PAGEMAP_PFN_MASK))
		return -EPERM;
	*pfn = entry & PAGEMAP_PFN_MASK;
	return 0;
}

size_t pfn_run_len(const uint64_t *pfns, size_t n, size_t start)
{
	size_t end = start + 1;

	while (end < n && pfns[end] == pfns[end - 1] + 1)
		end++;
	return end - start;
}

ssize_t pfn_contig_run(const uint64_t *pfns, size_t n, size_t want)
{
	size_t i = 0, len;

	if (!want)
		return -1;
	while (i < n) {
		len = pfn_run_len(pfns, n, i);
		if (len >= want)
			return (ssize_t)i;
		i += len;
	}
	return -1;
}

int pagemap_read(int pagemap_fd, const void *va, size_t n, uint64_t *pfns)
{
	uint64_t off = (uintptr_t)va / DMA_PAGE * sizeof(uint64_t);
	size_t want = n * sizeof(uint64_t);
	ssize_t got;
	int ret;

	got = pread(pagemap_fd, pfns, want, (off_t)off);
	if (got < 0)
		return -errno;
	if ((size_t)got != want)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		ret = pagemap_entry_pfn(pfns[i], &pfns[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* The PFNs of the n pages at va, or -errno (logged). */
static int chunk_pfns(struct dma_pool *p, const void *va, size_t n,
		      uint64_t *pfns)
{
	int ret;

	if (p->pagemap < 0) {
		p->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (p->pagemap < 0) {
			ret = -errno;
			pr_err("vfio dma: cannot open /proc/self/pagemap: %m");
			return ret;
		}
	}
	ret = pagemap_read(p->pagemap, va, n, pfns);
	if (ret == -EPERM)
		pr_err("vfio dma: /proc/self/pagemap hides physical addresses (PFN 0): reading them needs CAP_SYS_ADMIN; run as root");
	else if (ret)
		pr_err("vfio dma: reading /proc/self/pagemap: %s", strerror(-ret));
	return ret;
}

static struct dma_chunk *chunk_add(struct dma_pool *p, void *va, size_t len,
				   uint64_t iova)
{
	struct dma_chunk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	/*
	 * After a fork, our first write to a copy-on-write page would move it
	 * to a new physical page the device knows nothing of.
	 */
	madvise(va, len, MADV_DONTFORK);
	c->va = va;
	c->len = len;
	c->iova = iova;
	c->next = p->chunks;
	p->chunks = c;
	return c;
}

/*
 * The IOVA of [va, va + len) if it is physically contiguous; -EAGAIN if
 * not, other -errno (logged) when the PFNs cannot be read.
 */
static int contig_iova(struct dma_pool *p, void *va, size_t len,
		       uint64_t *iova)
{
	size_t n = len / DMA_PAGE;
	uint64_t *pfns = calloc(n, sizeof(*pfns));
	int ret;

	if (!pfns)
		return -ENOMEM;
	ret = chunk_pfns(p, va, n, pfns);
	if (!ret && pfn_run_len(pfns, n, 0) != n)
		ret = -EAGAIN;
	if (!ret)
		*iova = pfns[0] * DMA_PAGE;
	free(pfns);
	return ret;
}

/*
 * A chunk of whole 2 MiB hugetlb pages; -EAGAIN (quietly) when there are
 * none reserved (vm.nr_hugepages) or several were not contiguous.
 */
static int chunk_hugetlb(struct dma_pool *p, size_t len)
{
	size_t hlen = (len + DMA_HUGE - 1) & ~(DMA_HUGE - 1);
	uint64_t iova;
	void *va;
	int ret;

	va = mmap(NULL, hlen, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB |
		  MAP_POPULATE, -1, 0);
	if (va == MAP_FAILED)
		return -EAGAIN;
	/* hugetlb pages are neither swapped nor compacted: no mlock needed. */
	memset(va, 0, hlen);
	ret = contig_iova(p, va, hlen, &iova);
	if (!ret && !chunk_add(p, va, hlen, iova))
		ret = -ENOMEM;
	if (ret)
		munmap(va, hlen);
	return ret;
}

/* Warns once that locked 4 KiB pages can still be moved by compaction. */
static void warn_compaction(struct dma_pool *p)
{
	char c = '1';
	int fd;

	if (p->warned_4k)
		return;
	p->warned_4k = true;
	fd = open("/proc/sys/vm/compact_unevictable_allowed",
		  O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		close(fd);
	}
	if (c != '0')
		pr_warn("vfio dma: using locked 4 KiB pages, which compaction may still move under the device: reserve 2 MiB hugepages (echo 4 > /proc/sys/vm/nr_hugepages) or set vm.compact_unevictable_allowed=0");
}

/* Locks and fills [va, va + len), then freezes it against THP collapse. */
static int pool_populate(void *va, size_t len)
{
	/* THP hands out 2 MiB at once: contiguous runs become likely. */
	madvise(va, len, MADV_HUGEPAGE);
	if (mlock(va, len)) {
		pr_err("vfio dma: mlock %zu KiB: %m (RLIMIT_MEMLOCK; run as root)",
		       len >> 10);
		return -ENOMEM;
	}
	memset(va, 0, len);
	/*
	 * khugepaged collapsing 4 KiB pages into a new huge page would change
	 * their physical addresses under the device: forbid it from now on
	 * (this does not split huge pages already there).
	 */
	madvise(va, len, MADV_NOHUGEPAGE);
	return 0;
}

/* Returns [va + keep, va + keep + klen) of the pool [va, va + len). */
static void pool_trim(uint8_t *va, size_t len, size_t keep, size_t klen)
{
	if (keep)
		munmap(va, keep);
	if (keep + klen < len)
		munmap(va + keep + klen, len - keep - klen);
}

/*
 * A chunk of at least len bytes of physically contiguous 4 KiB pages,
 * found in a larger locked pool; the rest of the pool is returned.
 */
static int chunk_4k(struct dma_pool *p, size_t len)
{
	size_t want = len / DMA_PAGE, plen, n, run;
	uint64_t *pfns = NULL;
	uint8_t *raw, *va;
	ssize_t at;
	int ret;

	plen = len * DMA_POOL_MUL > DMA_POOL_MIN ? len * DMA_POOL_MUL :
						   DMA_POOL_MIN;
	n = plen / DMA_PAGE;
	/* One huge page more, to align the pool for THP. */
	raw = mmap(NULL, plen + DMA_HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		pr_err("vfio dma: mmap %zu KiB: %m", plen >> 10);
		return -ENOMEM;
	}
	va = (uint8_t *)(((uintptr_t)raw + DMA_HUGE - 1) & ~(DMA_HUGE - 1));
	pool_trim(raw, plen + DMA_HUGE, (size_t)(va - raw), plen);

	pfns = calloc(n, sizeof(*pfns));
	ret = pfns ? pool_populate(va, plen) : -ENOMEM;
	if (!ret)
		ret = chunk_pfns(p, va, n, pfns);
	if (ret)
		goto fail;
	at = pfn_contig_run(pfns, n, want);
	if (at < 0) {
		pr_err("vfio dma: no %zu KiB of physically contiguous memory among %zu KiB of 4 KiB pages: reserve 2 MiB hugepages (echo 4 > /proc/sys/vm/nr_hugepages)",
		       len >> 10, plen >> 10);
		ret = -ENOMEM;
		goto fail;
	}
	/* Keep the whole run: later allocations are carved from it. */
	run = pfn_run_len(pfns, n, (size_t)at);
	if (!chunk_add(p, va + (size_t)at * DMA_PAGE, run * DMA_PAGE,
		       pfns[at] * DMA_PAGE)) {
		ret = -ENOMEM;
		goto fail;
	}
	pool_trim(va, plen, (size_t)at * DMA_PAGE, run * DMA_PAGE);
	free(pfns);
	warn_compaction(p);
	return 0;
fail:
	munmap(va, plen);
	free(pfns);
	return ret;
}

/* Type1 IOMMU: any memory, mapped at the next IOVA. */
static int chunk_type1(struct dma_pool *p, size_t len)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.size = len,
	};
	void *va;
	int ret;

	va = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED) {
		pr_err("vfio dma: mmap %zu KiB: %m", len >> 10);
		return -ENOMEM;
	}
	map.vaddr = (uintptr_t)va;
	map.iova = p->next_iova;
	if (ioctl(p->container, VFIO_IOMMU_MAP_DMA, &map)) {
		ret = -errno;
		pr_err("vfio dma: VFIO_IOMMU_MAP_DMA %zu KiB at 0x%llx: %m",
		       len >> 10, (unsigned long long)map.iova);
		munmap(va, len);
		return ret;
	}
	if (!chunk_add(p, va, len, map.iova)) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = map.iova,
			.size = len,
		};

		ioctl(p->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
		munmap(va, len);
		return -ENOMEM;
	}
	p->next_iova += len;
	return 0;
}

struct dma_pool *dma_pool_new(int container)
{
	struct dma_pool *p;

	if (sysconf(_SC_PAGESIZE) != (long)DMA_PAGE) {
		pr_err("vfio dma: page size %ld, want %lu",
		       sysconf(_SC_PAGESIZE), DMA_PAGE);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		pr_err("vfio dma: out of memory");
		return NULL;
	}
	p->container = container;
	p->pagemap = -1;
	p->next_iova = DMA_IOVA_BASE;
	return p;
}

static void *carve(struct dma_chunk *c, size_t len, uint64_t *iova)
{
	void *va = c->va + c->used;

	*iova = c->iova + c->used;
	c->used += len;
	return va;
}

void *dma_pool_alloc(struct dma_pool *p, size_t size, uint64_t *iova)
{
	size_t len;
	int ret;

	if (!size || size > DMA_MAX) {
		pr_err("vfio dma: bad size %zu (1..%lu)", size, DMA_MAX);
		errno = EINVAL;
		return NULL;
	}
	len = (size + DMA_PAGE - 1) & ~(DMA_PAGE - 1);
	for (struct dma_chunk *c = p->chunks; c; c = c->next)
		if (c->len - c->used >= len)
			return carve(c, len, iova);

	if (p->container >= 0) {
		ret = chunk_type1(p, len);
	} else {
		ret = chunk_hugetlb(p, len);
		if (ret == -EAGAIN)
			ret = chunk_4k(p, len);
	}
	if (ret) {
		errno = -ret;
		return NULL;
	}
	return carve(p->chunks, len, iova);
}

void dma_pool_free(struct dma_pool *p)
{
	struct dma_chunk *c;

	if (!p)
		return;
	while ((c = p->chunks)) {
		p->chunks = c->next;
		if (p->container >= 0) {
			struct vfio_iommu_type1_dma_unmap unmap = {
				.argsz = sizeof(unmap),
				.iova = c->iova,
				.size = c->len,
			};

			ioctl(p->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
		}
		munmap(c->va, c->len);
		free(c);
	}
	if (p->pagemap >= 0)
		close(p->pagemap);
	free(p);
}
