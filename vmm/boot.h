/* SPDX-License-Identifier: GPL-2.0-only */
/* Loading a kernel: the guest-physical layout and the PVH boot protocol. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stdint.h>

struct vm;

/* Low-memory layout the vmm uses; the guest sees it as reserved. */
#define BOOT_START_INFO_GPA	0x6000ull
#define BOOT_MODLIST_GPA	0x6800ull
#define BOOT_MEMMAP_GPA		0x7000ull
#define BOOT_CMDLINE_GPA	0x20000ull
#define BOOT_CMDLINE_MAX	0x10000ull
#define BOOT_EBDA_START		0x9fc00ull
#define BOOT_ACPI_GPA		0xe0000ull	/* RSDP, then the tables */
#define BOOT_BIOS_END		0x100000ull

struct boot_params_in {
	const char *kernel;
	const char *initrd;	/* NULL: none */
	const char *cmdline;
	uint64_t rsdp_gpa;
};

/*
 * Loads an ELF vmlinux with a PVH entry note and everything PVH hands it
 * (hvm_start_info, memory map, command line, initrd module), and sets up
 * the boot vCPU. 0 or -errno with a message naming what is wrong.
 */
int boot_pvh(struct vm *vm, const struct boot_params_in *in);

#endif /* VMM_BOOT_H */
