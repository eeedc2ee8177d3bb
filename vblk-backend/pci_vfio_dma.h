/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory the vvu-proxy device reaches by DMA, for pci_vfio.c.
 *
 * No IOMMU (our case, vfio no-IOMMU mode): the device uses guest-physical
 * addresses, so each allocation must be physically contiguous and must not
 * move. Chunks come first from a 2 MiB hugetlb page (contiguous by
 * construction, never swapped, not moved by compaction), else from 4 KiB
 * pages: a locked pool, offered to THP so it is likely contiguous, then
 * searched through /proc/self/pagemap for a long enough physically
 * contiguous run. Allocations are carved from chunks and only freed all
 * at once, which fits the driver (rings and buffers for its whole life).
 *
 * With a type1 IOMMU the memory is mapped with VFIO_IOMMU_MAP_DMA at IOVAs
 * handed out in order; contiguity then comes from the IOMMU.
 */
#ifndef VBLK_PCI_VFIO_DMA_H
#define VBLK_PCI_VFIO_DMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* /proc/self/pagemap: one 64-bit entry per virtual page. */
#define PAGEMAP_PRESENT		(1ull << 63)
#define PAGEMAP_PFN_MASK	((1ull << 55) - 1)

/*
 * The PFN of one pagemap entry: 0 and *pfn; -ENOENT if the page is not
 * present; -EPERM if present with PFN 0, which is how the kernel hides
 * PFNs from readers without CAP_SYS_ADMIN.
 */
int pagemap_entry_pfn(uint64_t entry, uint64_t *pfn);

/*
 * Where in pfns[0..n) the first run of want physically consecutive pages
 * starts (pfns[i + 1] == pfns[i] + 1 throughout), or -1 if none (or want
 * is 0).
 */
ssize_t pfn_contig_run(const uint64_t *pfns, size_t n, size_t want);

/* How many of pfns[start..n) continue the run begun at start (>= 1). */
size_t pfn_run_len(const uint64_t *pfns, size_t n, size_t start);

/*
 * Reads the PFNs of the n pages from va (page aligned) from pagemap_fd.
 * 0 or -errno (-EPERM: PFNs hidden, -ENOENT: a page not present).
 */
int pagemap_read(int pagemap_fd, const void *va, size_t n, uint64_t *pfns);

struct dma_pool;

/*
 * container: the VFIO container fd to map into with a type1 IOMMU, or -1
 * for no-IOMMU mode. NULL (logged) on failure.
 */
struct dma_pool *dma_pool_new(int container);

/* As pci_dev_ops.dma_alloc; errors logged. */
void *dma_pool_alloc(struct dma_pool *p, size_t size, uint64_t *iova);

/* Unmaps everything; the device must no longer do DMA. */
void dma_pool_free(struct dma_pool *p);

#endif /* VBLK_PCI_VFIO_DMA_H */
