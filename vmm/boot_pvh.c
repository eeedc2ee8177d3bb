// SPDX-License-Identifier: GPL-2.0-only
/*
 * PVH boot (xen/include/public/arch-x86/hvm/start_info.h): the kernel's ELF
 * note XEN_ELFNOTE_PHYS32_ENTRY gives a 32-bit entry point that takes
 * hvm_start_info in EBX, in flat protected mode without paging, so the
 * kernel needs no decompressor and no real-mode setup.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "protocol/pvh.h"
#include "vmm/boot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* Looks for the PVH entry note in the PT_NOTE segments; 0 if none. */
static uint32_t elf_pvh_entry(const struct boot_file *f, const Elf64_Ehdr *eh)
{
	const Elf64_Phdr *ph = (const void *)(f->data + eh->e_phoff);

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		uint64_t off = ph[i].p_offset, end = off + ph[i].p_filesz;

		/* Notes are 4-byte aligned; a misaligned one is not a kernel's. */
		if (ph[i].p_type != PT_NOTE || off % 4 ||
		    !boot_file_has(f, off, ph[i].p_filesz))
			continue;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *n = (const void *)(f->data + off);
			uint64_t name = off + sizeof(*n);
			uint64_t desc = name + ((n->n_namesz + 3ull) & ~3ull);

			off = desc + ((n->n_descsz + 3ull) & ~3ull);
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

/*
 * Loads the PT_LOAD segments. They must lie in RAM above 1 MiB: below it
 * are the vmm's boot structures and the ACPI tables, which a segment would
 * overwrite (or be overwritten by). The entry must be in a loaded segment.
 */
static int elf_load_segments(struct vm *vm, const struct boot_file *f,
			     const Elf64_Ehdr *eh, uint32_t entry, uint64_t *end)
{
	const Elf64_Phdr *ph = (const void *)(f->data + eh->e_phoff);
	bool entry_loaded = false;

	*end = 0;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		uint8_t *dst;

		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!boot_file_has(f, ph[i].p_offset, ph[i].p_filesz) ||
		    ph[i].p_filesz > ph[i].p_memsz) {
			pr_err("%s: segment %u lies outside the file", f->path, i);
			return -EINVAL;
		}
		dst = vm_gpa_to_host(vm, ph[i].p_paddr, ph[i].p_memsz);
		if (!dst || ph[i].p_paddr < BOOT_BIOS_END) {
			pr_err("%s: segment %u at %#llx (+%#llx) is %s", f->path, i,
			       (unsigned long long)ph[i].p_paddr,
			       (unsigned long long)ph[i].p_memsz,
			       dst ? "below 1 MiB, where the vmm's boot data is"
				   : "outside guest RAM");
			return -EINVAL;
		}
		if (boot_file_copy(f, ph[i].p_offset, ph[i].p_filesz, dst))
			return -EIO;
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
		if (ph[i].p_paddr + ph[i].p_memsz > *end)
			*end = ph[i].p_paddr + ph[i].p_memsz;
		if (entry >= ph[i].p_paddr && entry - ph[i].p_paddr < ph[i].p_filesz)
			entry_loaded = true;
	}
	if (!entry_loaded) {
		pr_err("%s: the PVH entry %#x is in no loaded segment", f->path, entry);
		return -EINVAL;
	}
	return 0;
}

bool boot_is_elf(const struct boot_file *f)
{
	return f->size >= SELFMAG && !memcmp(f->data, ELFMAG, SELFMAG);
}

/* Validates the ELF header and program headers; the entry, or 0 on error. */
static uint32_t elf_check(const struct boot_file *f)
{
	const Elf64_Ehdr *eh = (const void *)f->data;
	uint32_t entry;

	if (f->size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64) {
		pr_err("%s: not an x86-64 ELF vmlinux", f->path);
		return 0;
	}
	/* The mapping is page-aligned, so an aligned offset is an aligned pointer. */
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff % 8 ||
	    !boot_file_has(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
		pr_err("%s: bad program header table", f->path);
		return 0;
	}
	entry = elf_pvh_entry(f, eh);
	if (!entry)
		pr_err("%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build with CONFIG_PVH",
		       f->path);
	return entry;
}

static int boot_start_info(struct vm *vm, const struct boot_params_in *in,
			   uint64_t kernel_end)
{
	struct hvm_start_info *si = vm_gpa_to_host(vm, BOOT_START_INFO_GPA, sizeof(*si));
	struct hvm_memmap_entry *mm = vm_gpa_to_host(vm, BOOT_MEMMAP_GPA,
						      BOOT_E820_MAX * sizeof(*mm));
	struct hvm_modlist_entry *mod = vm_gpa_to_host(vm, BOOT_MODLIST_GPA, sizeof(*mod));
	struct boot_e820 map[BOOT_E820_MAX];
	unsigned int n = boot_e820(vm, map);
	int r;

	/* hvm_start_info has no limit of its own; boot_cmdline caps it. */
	r = boot_cmdline(vm, in, BOOT_CMDLINE_MAX - 1);
	if (r)
		return r;
	for (unsigned int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ map[i].addr, map[i].size, map[i].type, 0 };
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = BOOT_CMDLINE_GPA,
		.rsdp_paddr = in->rsdp_gpa,
		.memmap_paddr = BOOT_MEMMAP_GPA,
		.memmap_entries = n,
	};
	if (in->initrd) {
		/* Below 4 GiB, above the kernel: where any PVH kernel can reach it. */
		*mod = (struct hvm_modlist_entry){ 0 };
		r = boot_initrd(vm, in->initrd, kernel_end, VM_4G, &mod->paddr, &mod->size);
		if (r)
			return r;
		si->nr_modules = 1;
		si->modlist_paddr = BOOT_MODLIST_GPA;
	}
	return 0;
}

int boot_pvh(struct vm *vm, const struct boot_params_in *in, const struct boot_file *f)
{
	uint64_t kernel_end;
	uint32_t entry = elf_check(f);
	int r;

	if (!entry)
		return -EINVAL;
	r = elf_load_segments(vm, f, (const void *)f->data, entry, &kernel_end);
	if (!r)
		r = boot_start_info(vm, in, kernel_end);
	if (!r)
		r = vcpu_setup_pvh(&vm->vcpus[0], entry, BOOT_START_INFO_GPA);
	return r;
}
