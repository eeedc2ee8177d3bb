/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading a kernel: the guest-physical layout, the pieces every boot
 * protocol shares (memory map, command line, initrd), and the two protocols
 * (PVH for an ELF vmlinux, the 64-bit boot protocol for a bzImage).
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/*
 * Low-memory layout the vmm uses. [BOOT_VMM_START, BOOT_VMM_END) is marked
 * reserved in the memory map, so the kernel never allocates over what it
 * still has to read; below 1 MiB, everything else but the EBDA..BIOS range
 * stays RAM (the kernel wants some there for its SMP trampoline).
 */
#define BOOT_VMM_START		0x5000ull
#define BOOT_GDT_GPA		0x5000ull	/* bzImage: boot GDT */
#define BOOT_START_INFO_GPA	0x6000ull	/* PVH: hvm_start_info */
#define BOOT_MODLIST_GPA	0x6800ull	/* PVH: the initrd module */
#define BOOT_MEMMAP_GPA		0x7000ull	/* PVH: memory map */
#define BOOT_ZERO_PAGE_GPA	0x8000ull	/* bzImage: struct boot_params */
#define BOOT_PGTABLE_GPA	0x9000ull	/* bzImage: PML4, PDPT, 4 PDs */
#define BOOT_PGTABLE_END	0xf000ull
#define BOOT_CMDLINE_GPA	0x20000ull
#define BOOT_CMDLINE_MAX	0x10000ull	/* bytes, with the NUL */
#define BOOT_VMM_END		(BOOT_CMDLINE_GPA + BOOT_CMDLINE_MAX)
#define BOOT_EBDA_START		0x9fc00ull
#define BOOT_ACPI_GPA		0xe0000ull	/* RSDP, then the tables */
#define BOOT_BIOS_END		0x100000ull

#define E820_RAM		1
#define E820_RESERVED		2
#define BOOT_E820_MAX		8

struct boot_params_in {
	const char *kernel;
	const char *initrd;	/* NULL: none */
	const char *cmdline;
	uint64_t rsdp_gpa;
};

/* A kernel or initrd file: headers are read in place, payloads copied. */
struct boot_file {
	const char *path;
	const uint8_t *data;	/* the whole file, mapped read-only */
	size_t size;
	int fd;
};

/* 0, or -errno with a message that starts with what ("kernel", "initrd"). */
int boot_file_map(const char *what, const char *path, struct boot_file *f);
void boot_file_unmap(struct boot_file *f);
/* Does [off, off + len) lie inside the file? */
bool boot_file_has(const struct boot_file *f, uint64_t off, uint64_t len);
/*
 * Copies [off, off + len) of the file to dst (guest RAM) with pread: the
 * page cache goes straight into guest pages, without faulting in a second
 * mapping of the file. 0, or -errno with a message.
 */
int boot_file_copy(const struct boot_file *f, uint64_t off, uint64_t len, void *dst);

struct boot_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* The guest's memory map (at most BOOT_E820_MAX entries); the count. */
unsigned int boot_e820(struct vm *vm, struct boot_e820 *map);

/*
 * Copies in->cmdline to BOOT_CMDLINE_GPA if it has at most max_len
 * characters (the kernel's limit, without the NUL). 0 or -E2BIG.
 */
int boot_cmdline(struct vm *vm, const struct boot_params_in *in, uint64_t max_len);

/*
 * Loads the initrd at path page-aligned as high as possible in guest RAM
 * within [lo, hi), preferring RAM below 4 GiB; its address and size.
 * 0 or -errno with a message.
 */
int boot_initrd(struct vm *vm, const char *path, uint64_t lo, uint64_t hi,
		uint64_t *gpa, uint64_t *size);

/*
 * Loads the kernel in->kernel, telling its format by its content, with its
 * command line, initrd and memory map, and sets up the boot vCPU. 0 or
 * -errno with a message naming the file and what is wrong.
 */
int boot_kernel(struct vm *vm, const struct boot_params_in *in);

/*
 * The two protocols, on the kernel file boot_kernel mapped: does it look
 * like theirs (a magic number), then the loader, which checks the rest.
 */
bool boot_is_elf(const struct boot_file *f);
int boot_pvh(struct vm *vm, const struct boot_params_in *in,
	     const struct boot_file *f);
bool boot_is_bzimage(const struct boot_file *f);
int boot_bzimage(struct vm *vm, const struct boot_params_in *in,
		 const struct boot_file *f);

#endif /* VMM_BOOT_H */
