// SPDX-License-Identifier: GPL-2.0-only
/*
 * The x86 64-bit boot protocol (Documentation/x86/boot.rst) for a bzImage:
 * the real-mode setup sectors are skipped, the protected-mode part (the
 * decompressor) is loaded, a zero page (struct boot_params) describes the
 * machine, and the boot vCPU starts at the 64-bit entry, load + 0x200,
 * already in long mode on identity-mapped page tables. No BIOS and no
 * real-mode code run, so the zero page is all the kernel learns from us.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "common/range.h"
#include "vmm/boot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define BZ_HDR_OFFSET		0x1f1	/* setup header, in the image and zero page */
#define BZ_JUMP_OFFSET		0x200	/* its end is 0x202 + the byte at 0x201 */
#define BZ_MAGIC_OFFSET		0x202
#define BZ_MAGIC		"HdrS"
#define BZ_VERSION_64		0x020c	/* 2.12: xloadflags, the 64-bit entry */
#define BZ_VERSION_RSDP		0x020e	/* 2.14: acpi_rsdp_addr */
#define BZ_ENTRY_64		0x200	/* from the protected-mode part's start */
#define BZ_SECTOR		512
#define BZ_SETUP_SECTS_OLD	4	/* what setup_sects 0 means */

#define LOADED_HIGH			(1u << 0)
#define XLF_KERNEL_64			(1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G	(1u << 1)
#define LOADER_UNDEFINED		0xff

#define PTE_PRESENT	(1ull << 0)
#define PTE_WRITE	(1ull << 1)
#define PTE_LARGE	(1ull << 7)
#define PAGE_SIZE	0x1000ull
#define HUGE_2M		0x200000ull
#define IDMAP_GIB	4	/* one page directory per GiB */

/* The setup header (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
struct bz_setup_header {
	uint8_t setup_sects;		/* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;		/* protected-mode part, 16-byte units */
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;			/* 0x200 */
	uint32_t header;		/* "HdrS" */
	uint16_t version;		/* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;		/* 0x210 */
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* last byte the initrd may use */
	uint32_t kernel_alignment;	/* 0x230 */
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;		/* characters, without the NUL */
	uint32_t hardware_subarch;	/* 0x23c */
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;		/* 0x250 */
	uint64_t pref_address;		/* 0x258 */
	uint32_t init_size;		/* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset;	/* 0x268 */
} __attribute__((packed));

struct bz_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The zero page (Documentation/x86/zero-page.rst), only what we fill. */
struct bz_zero_page {
	uint8_t pad0[0x70];
	uint64_t acpi_rsdp_addr;	/* 0x070 */
	uint8_t pad1[0xc0 - 0x78];
	uint32_t ext_ramdisk_image;	/* 0x0c0: bits 63..32 */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad2[0x1e8 - 0xcc];
	uint8_t e820_entries;		/* 0x1e8 */
	uint8_t pad3[BZ_HDR_OFFSET - 0x1e9];
	struct bz_setup_header hdr;	/* 0x1f1 */
	uint8_t pad4[0x2d0 - BZ_HDR_OFFSET - sizeof(struct bz_setup_header)];
	struct bz_e820_entry e820_table[128];	/* 0x2d0 */
	uint8_t pad5[0x1000 - 0xcd0];
} __attribute__((packed));

_Static_assert(offsetof(struct bz_setup_header, init_size) == 0x260 - BZ_HDR_OFFSET,
	       "setup header layout");
_Static_assert(offsetof(struct bz_zero_page, hdr) == BZ_HDR_OFFSET, "zero page layout");
_Static_assert(sizeof(struct bz_zero_page) == PAGE_SIZE, "zero page size");
_Static_assert(BOOT_E820_MAX <= 128, "e820 table size");
_Static_assert(BOOT_PGTABLE_GPA + (2 + IDMAP_GIB) * PAGE_SIZE == BOOT_PGTABLE_END,
	       "page table room");

/* What the checks found out about the image. */
struct bz_image {
	struct bz_setup_header h;	/* as read; the zero page gets a copy */
	uint64_t hdr_len;		/* setup header bytes the image has */
	uint64_t setup_size;		/* real-mode part, skipped */
	uint64_t pm_size;		/* protected-mode part, loaded */
	uint64_t load;			/* where it is loaded */
	uint64_t end;			/* first byte the kernel leaves alone */
};

bool boot_is_bzimage(const struct boot_file *f)
{
	return boot_file_has(f, BZ_MAGIC_OFFSET, 4) &&
	       !memcmp(f->data + BZ_MAGIC_OFFSET, BZ_MAGIC, 4);
}

/* Reads the setup header and checks it against the file; 0 or -EINVAL. */
static int bz_parse(const struct boot_file *f, struct bz_image *bz)
{
	struct bz_setup_header *h = &bz->h;
	uint64_t hdr_end, sects;

	if (!boot_file_has(f, BZ_HDR_OFFSET, sizeof(*h))) {
		pr_err("%s: truncated bzImage: %zu bytes, no room for the setup header",
		       f->path, f->size);
		return -EINVAL;
	}
	memcpy(h, f->data + BZ_HDR_OFFSET, sizeof(*h));
	if (h->version < BZ_VERSION_64 || !(h->xloadflags & XLF_KERNEL_64)) {
		pr_err("%s: bzImage boot protocol %u.%02u lacks the 64-bit entry (needs 2.12+ with XLF_KERNEL_64)",
		       f->path, h->version >> 8, h->version & 0xff);
		return -EINVAL;
	}
	/* Everything up to init_size exists from 2.10 on; a shorter header lies. */
	hdr_end = BZ_JUMP_OFFSET + 2 + f->data[BZ_JUMP_OFFSET + 1];
	if (hdr_end < BZ_HDR_OFFSET + offsetof(struct bz_setup_header, handover_offset)) {
		pr_err("%s: bzImage setup header ends at %#llx, too short for protocol %u.%02u",
		       f->path, (unsigned long long)hdr_end, h->version >> 8, h->version & 0xff);
		return -EINVAL;
	}
	if (hdr_end > BZ_HDR_OFFSET + sizeof(*h))
		hdr_end = BZ_HDR_OFFSET + sizeof(*h);	/* fields newer than we know */
	bz->hdr_len = hdr_end - BZ_HDR_OFFSET;

	sects = h->setup_sects ? h->setup_sects : BZ_SETUP_SECTS_OLD;
	bz->setup_size = (sects + 1) * BZ_SECTOR;
	if (bz->setup_size < hdr_end || bz->setup_size >= f->size) {
		pr_err("%s: truncated bzImage: %zu bytes, but its setup code alone takes %llu",
		       f->path, f->size, (unsigned long long)bz->setup_size);
		return -EINVAL;
	}
	bz->pm_size = f->size - bz->setup_size;
	if ((uint64_t)h->syssize * 16 > bz->pm_size) {
		pr_err("%s: truncated bzImage: the kernel after the setup code is %llu bytes, the header says %llu",
		       f->path, (unsigned long long)bz->pm_size,
		       (unsigned long long)h->syssize * 16);
		return -EINVAL;
	}
	if (h->relocatable_kernel &&
	    (!h->kernel_alignment || h->kernel_alignment & (h->kernel_alignment - 1))) {
		pr_err("%s: bzImage kernel_alignment %#x is not a power of two",
		       f->path, h->kernel_alignment);
		return -EINVAL;
	}
	return 0;
}

/* [gpa, gpa + len) in RAM below the PCI hole, which the identity map covers? */
static bool bz_in_low_ram(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	const struct mem_region *r = &vm->mem.regions[0];

	return range_contains(r->gpa, r->size, gpa, len);
}

/*
 * Picks the load address and loads the protected-mode part. The
 * decompressor runs at max(align_up(load, kernel_alignment), pref_address)
 * if relocatable, else at pref_address, and uses init_size bytes from there
 * before it reads the memory map: all of that must be RAM we map. Loading a
 * relocatable kernel at pref_address saves the decompressor moving itself.
 */
static int bz_load(struct vm *vm, const struct boot_file *f, struct bz_image *bz)
{
	const struct bz_setup_header *h = &bz->h;
	uint64_t align = h->relocatable_kernel ? h->kernel_alignment : 1;
	uint64_t pref = h->pref_address, run;

	bz->load = BOOT_BIOS_END;
	if (h->relocatable_kernel && pref >= BOOT_BIOS_END && !(pref & (align - 1)) &&
	    bz_in_low_ram(vm, pref, bz->pm_size > h->init_size ? bz->pm_size : h->init_size))
		bz->load = pref;
	run = (bz->load + align - 1) & ~(align - 1);
	if (run < pref)
		run = pref;
	if (!bz_in_low_ram(vm, bz->load, bz->pm_size) || !bz_in_low_ram(vm, run, h->init_size)) {
		pr_err("%s: the kernel needs %#x bytes of guest RAM at %#llx to start, beyond the %llu MiB below the PCI hole",
		       f->path, h->init_size, (unsigned long long)run,
		       (unsigned long long)(vm->mem.regions[0].size >> 20));
		return -ENOSPC;
	}
	if (boot_file_copy(f, bz->setup_size, bz->pm_size,
			   vm_gpa_to_host(vm, bz->load, bz->pm_size)))
		return -EIO;
	bz->end = bz->load + bz->pm_size;
	if (run + h->init_size > bz->end)
		bz->end = run + h->init_size;
	return 0;
}

/* Fills the zero page, with the command line and initrd it points to. */
static int bz_zero_page(struct vm *vm, const struct boot_params_in *in,
			const struct boot_file *f, const struct bz_image *bz)
{
	struct bz_zero_page *zp = vm_gpa_to_host(vm, BOOT_ZERO_PAGE_GPA, sizeof(*zp));
	struct boot_e820 map[BOOT_E820_MAX];
	unsigned int n = boot_e820(vm, map);
	uint64_t rd_gpa = 0, rd_size = 0, rd_limit;
	int r;

	r = boot_cmdline(vm, in, bz->h.cmdline_size);
	if (r)
		return r;
	if (in->initrd) {
		rd_limit = bz->h.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? UINT64_MAX
			   : (uint64_t)bz->h.initrd_addr_max + 1;
		r = boot_initrd(vm, in->initrd, bz->end, rd_limit, &rd_gpa, &rd_size);
		if (r)
			return r;
	}

	/* A clean page with the image's setup header, as boot.rst asks. */
	memset(zp, 0, sizeof(*zp));
	memcpy(&zp->hdr, f->data + BZ_HDR_OFFSET, bz->hdr_len);
	zp->hdr.type_of_loader = LOADER_UNDEFINED;
	/* Loaded high; no heap, as no real-mode setup code runs. */
	zp->hdr.loadflags = LOADED_HIGH;
	zp->hdr.code32_start = (uint32_t)bz->load;
	zp->hdr.cmd_line_ptr = BOOT_CMDLINE_GPA;
	zp->hdr.ramdisk_image = (uint32_t)rd_gpa;
	zp->hdr.ramdisk_size = (uint32_t)rd_size;
	zp->ext_ramdisk_image = (uint32_t)(rd_gpa >> 32);
	zp->ext_ramdisk_size = (uint32_t)(rd_size >> 32);
	zp->hdr.setup_data = 0;
	zp->hdr.hardware_subarch = 0;	/* a PC: ACPI and the usual devices */
	/* Older kernels find the RSDP by scanning 0xe0000..0xfffff, where it is. */
	if (bz->h.version >= BZ_VERSION_RSDP)
		zp->acpi_rsdp_addr = in->rsdp_gpa;
	for (unsigned int i = 0; i < n; i++)
		zp->e820_table[i] = (struct bz_e820_entry){ map[i].addr, map[i].size,
							    map[i].type };
	zp->e820_entries = (uint8_t)n;
	return 0;
}

/*
 * Identity map of the first 4 GiB with 2 MiB pages: the kernel, zero page
 * and command line must be mapped at entry; the decompressor soon switches
 * to page tables of its own. Returns CR3.
 */
static uint64_t bz_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa_to_host(vm, BOOT_PGTABLE_GPA,
					BOOT_PGTABLE_END - BOOT_PGTABLE_GPA);
	uint64_t *pdpt = pml4 + 512, *pd = pdpt + 512;
	uint64_t pdpt_gpa = BOOT_PGTABLE_GPA + PAGE_SIZE, pd_gpa = pdpt_gpa + PAGE_SIZE;

	memset(pml4, 0, BOOT_PGTABLE_END - BOOT_PGTABLE_GPA);
	pml4[0] = pdpt_gpa | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < IDMAP_GIB; i++)
		pdpt[i] = (pd_gpa + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < IDMAP_GIB * 512; i++)
		pd[i] = (i * HUGE_2M) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	return BOOT_PGTABLE_GPA;
}

int boot_bzimage(struct vm *vm, const struct boot_params_in *in,
		 const struct boot_file *f)
{
	struct bz_image bz;
	int r;

	r = bz_parse(f, &bz);
	if (!r)
		r = bz_load(vm, f, &bz);
	if (!r)
		r = bz_zero_page(vm, in, f, &bz);
	if (!r)
		r = vcpu_setup_long_mode(&vm->vcpus[0], bz.load + BZ_ENTRY_64,
					 BOOT_ZERO_PAGE_GPA, bz_page_tables(vm),
					 BOOT_GDT_GPA);
	return r;
}
