/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PVH boot protocol (xen/include/public/arch-x86/hvm/start_info.h and
 * xen/include/public/elfnote.h): a kernel's ELF note gives a 32-bit entry
 * point, entered in flat protected mode without paging with EBX pointing to
 * hvm_start_info. Shared by the vmm's loader and the tiny test guests.
 */
#ifndef PROTOCOL_PVH_H
#define PROTOCOL_PVH_H

#include <stdint.h>

#define XEN_ELFNOTE_PHYS32_ENTRY	18	/* note type; name "Xen" */
#define HVM_START_MAGIC			0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");

/* Types as in the e820 map. */
#define HVM_MEMMAP_TYPE_RAM		1
#define HVM_MEMMAP_TYPE_RESERVED	2

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "hvm_memmap_entry");

#endif /* PROTOCOL_PVH_H */
