// SPDX-License-Identifier: GPL-2.0-only
/*
 * PVH boot (xen/include/public/arch-x86/hvm/start_info.h): the kernel's ELF
 * note XEN_ELFNOTE_PHYS32_ENTRY gives a 32-bit entry point that takes
 * hvm_start_info in EBX, in flat protected mode without paging, so the
 * kernel needs no decompressor and no real-mode setup.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578
#define E820_RAM			1
#define E820_RESERVED			2

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct file_map {
	const uint8_t *data;
	size_t size;
};

static int file_map(const char *path, struct file_map *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("%s: %m", path);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	f->size = (size_t)st.st_size;
	f->data = f->size ? mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (f->data == MAP_FAILED || !f->size) {
		pr_err("%s: cannot map (empty file?)", path);
		return -EINVAL;
	}
	return 0;
}

static void file_unmap(struct file_map *f)
{
	munmap((void *)f->data, f->size);
}

/* [off, off + len) inside the file? */
static bool file_has(const struct file_map *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

/* Looks for the PVH entry note in the PT_NOTE segments; 0 if none. */
static uint32_t elf_pvh_entry(const struct file_map *f, const Elf64_Ehdr *eh)
{
	const Elf64_Phdr *ph = (const void *)(f->data + eh->e_phoff);

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		uint64_t off = ph[i].p_offset, end = off + ph[i].p_filesz;

		if (ph[i].p_type != PT_NOTE || !file_has(f, off, ph[i].p_filesz))
			continue;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *n = (const void *)(f->data + off);
			uint64_t name = off + sizeof(*n);
			uint64_t desc = name + ((n->n_namesz + 3) & ~3u);

			off = desc + ((n->n_descsz + 3) & ~3ull);
			if (off > end)
				break;
			if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
			    !memcmp(f->data + name, "Xen", 4) && n->n_descsz >= 4) {
				uint32_t entry;

				memcpy(&entry, f->data + desc, sizeof(entry));
				return entry;
			}
		}
	}
	return 0;
}

static int elf_load_segments(struct vm *vm, const struct file_map *f,
			     const Elf64_Ehdr *eh, uint64_t *end)
{
	const Elf64_Phdr *ph = (const void *)(f->data + eh->e_phoff);

	*end = 0;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		uint8_t *dst;

		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!file_has(f, ph[i].p_offset, ph[i].p_filesz) ||
		    ph[i].p_filesz > ph[i].p_memsz) {
			pr_err("kernel: segment %u lies outside the file", i);
			return -EINVAL;
		}
		dst = vm_gpa_to_host(vm, ph[i].p_paddr, ph[i].p_memsz);
		if (!dst) {
			pr_err("kernel: segment %u at %#llx (+%#llx) is outside guest RAM",
			       i, (unsigned long long)ph[i].p_paddr,
			       (unsigned long long)ph[i].p_memsz);
			return -EINVAL;
		}
		memcpy(dst, f->data + ph[i].p_offset, ph[i].p_filesz);
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
		if (ph[i].p_paddr + ph[i].p_memsz > *end)
			*end = ph[i].p_paddr + ph[i].p_memsz;
	}
	return 0;
}

/* Validates the ELF header and program headers; the entry, or 0 on error. */
static uint32_t elf_check(const char *path, const struct file_map *f)
{
	const Elf64_Ehdr *eh = (const void *)f->data;
	uint32_t entry;

	if (f->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64) {
		pr_err("%s: not an x86-64 ELF vmlinux (bzImage is not supported yet)",
		       path);
		return 0;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !file_has(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
		pr_err("%s: bad program header table", path);
		return 0;
	}
	entry = elf_pvh_entry(f, eh);
	if (!entry)
		pr_err("%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build with CONFIG_PVH",
		       path);
	return entry;
}

/* The guest's memory map: RAM, minus what the vmm and firmware tables use. */
static unsigned int boot_memmap(struct vm *vm, struct hvm_memmap_entry *m)
{
	unsigned int n = 0;

	m[n++] = (struct hvm_memmap_entry){ 0, BOOT_EBDA_START, E820_RAM, 0 };
	m[n++] = (struct hvm_memmap_entry){ BOOT_EBDA_START,
		BOOT_BIOS_END - BOOT_EBDA_START, E820_RESERVED, 0 };
	for (unsigned int i = 0; i < vm->nregions; i++) {
		uint64_t start = vm->regions[i].gpa, size = vm->regions[i].size;

		if (start < BOOT_BIOS_END) {
			size -= BOOT_BIOS_END - start;
			start = BOOT_BIOS_END;
		}
		m[n++] = (struct hvm_memmap_entry){ start, size, E820_RAM, 0 };
	}
	return n;
}

/* Puts the initrd at the top of low RAM, above the kernel; 0 or -errno. */
static int boot_load_initrd(struct vm *vm, const char *path, uint64_t kernel_end,
			    struct hvm_modlist_entry *mod)
{
	struct file_map f;
	uint64_t top = vm->regions[0].size, gpa;
	int r = file_map(path, &f);

	if (r)
		return r;
	gpa = (top - f.size) & ~0xfffull;
	if (f.size > top || gpa < kernel_end) {
		pr_err("initrd %s (%zu bytes) does not fit in guest RAM above the kernel",
		       path, f.size);
		file_unmap(&f);
		return -ENOSPC;
	}
	memcpy(vm_gpa_to_host(vm, gpa, f.size), f.data, f.size);
	*mod = (struct hvm_modlist_entry){ .paddr = gpa, .size = f.size };
	file_unmap(&f);
	return 0;
}

static int boot_start_info(struct vm *vm, const struct boot_params_in *in,
			   uint64_t kernel_end)
{
	struct hvm_start_info *si = vm_gpa_to_host(vm, BOOT_START_INFO_GPA, sizeof(*si));
	struct hvm_memmap_entry *mm = vm_gpa_to_host(vm, BOOT_MEMMAP_GPA, 8 * sizeof(*mm));
	struct hvm_modlist_entry *mod = vm_gpa_to_host(vm, BOOT_MODLIST_GPA, sizeof(*mod));
	size_t len = strlen(in->cmdline) + 1;
	int r;

	if (len > BOOT_CMDLINE_MAX) {
		pr_err("kernel command line is %zu bytes, at most %llu", len,
		       (unsigned long long)BOOT_CMDLINE_MAX);
		return -E2BIG;
	}
	memcpy(vm_gpa_to_host(vm, BOOT_CMDLINE_GPA, len), in->cmdline, len);
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = BOOT_CMDLINE_GPA,
		.rsdp_paddr = in->rsdp_gpa,
		.memmap_paddr = BOOT_MEMMAP_GPA,
		.memmap_entries = boot_memmap(vm, mm),
	};
	if (in->initrd) {
		r = boot_load_initrd(vm, in->initrd, kernel_end, mod);
		if (r)
			return r;
		si->nr_modules = 1;
		si->modlist_paddr = BOOT_MODLIST_GPA;
	}
	return 0;
}

int boot_pvh(struct vm *vm, const struct boot_params_in *in)
{
	struct file_map f;
	uint64_t kernel_end;
	uint32_t entry;
	int r;

	r = file_map(in->kernel, &f);
	if (r)
		return r;
	entry = elf_check(in->kernel, &f);
	r = entry ? elf_load_segments(vm, &f, (const void *)f.data, &kernel_end)
		  : -EINVAL;
	file_unmap(&f);
	if (!r)
		r = boot_start_info(vm, in, kernel_end);
	if (!r)
		r = vcpu_setup_pvh(&vm->vcpus[0], entry, BOOT_START_INFO_GPA);
	return r;
}
