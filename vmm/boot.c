// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every boot protocol hands the kernel the same way: the memory map,
 * the command line and the initrd, and telling which protocol a kernel file
 * speaks. The protocols themselves are in boot_pvh.c and boot_bzimage.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

#define PAGE_MASK	0xfffull

int boot_file_map(const char *what, const char *path, struct boot_file *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;
	int err;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err = errno;
		pr_err("%s %s: %s", what, path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size) {
		pr_err("%s %s: %s", what, path,
		       S_ISREG(st.st_mode) ? "empty file" : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		pr_err("%s %s: mmap: %s", what, path, strerror(err));
		close(fd);
		return -err;
	}
	*f = (struct boot_file){ path, p, (size_t)st.st_size, fd };
	return 0;
}

void boot_file_unmap(struct boot_file *f)
{
	munmap((void *)f->data, f->size);
	close(f->fd);
	f->data = NULL;
	f->fd = -1;
}

int boot_file_copy(const struct boot_file *f, uint64_t off, uint64_t len, void *dst)
{
	uint8_t *d = dst;
	ssize_t n;

	if (!boot_file_has(f, off, len))
		return -EINVAL;
	while (len) {
		n = pread(f->fd, d, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_err("%s: read at %#llx: %s", f->path, (unsigned long long)off,
			       n ? strerror(errno) : "file shrank");
			return n ? -errno : -EIO;
		}
		d += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

bool boot_file_has(const struct boot_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

/*
 * RAM, minus what the vmm keeps for itself below 1 MiB (boot structures the
 * kernel reads after it starts allocating) and the EBDA..BIOS range where
 * the ACPI tables are. RAM below 1 MiB is region 0's start.
 */
unsigned int boot_e820(struct vm *vm, struct boot_e820 *map)
{
	unsigned int n = 0;

	map[n++] = (struct boot_e820){ 0, BOOT_VMM_START, E820_RAM };
	map[n++] = (struct boot_e820){ BOOT_VMM_START, BOOT_VMM_END - BOOT_VMM_START,
				       E820_RESERVED };
	map[n++] = (struct boot_e820){ BOOT_VMM_END, BOOT_EBDA_START - BOOT_VMM_END,
				       E820_RAM };
	map[n++] = (struct boot_e820){ BOOT_EBDA_START, BOOT_BIOS_END - BOOT_EBDA_START,
				       E820_RESERVED };
	for (unsigned int i = 0; i < vm->mem.nregions && n < BOOT_E820_MAX; i++) {
		uint64_t start = vm->mem.regions[i].gpa, size = vm->mem.regions[i].size;

		if (start < BOOT_BIOS_END) {
			size -= BOOT_BIOS_END - start;
			start = BOOT_BIOS_END;
		}
		map[n++] = (struct boot_e820){ start, size, E820_RAM };
	}
	return n;
}

int boot_cmdline(struct vm *vm, const struct boot_params_in *in, uint64_t max_len)
{
	size_t len = strlen(in->cmdline);

	if (max_len > BOOT_CMDLINE_MAX - 1)
		max_len = BOOT_CMDLINE_MAX - 1;
	if (len > max_len) {
		pr_err("%s: the kernel command line is %zu bytes, this kernel takes at most %llu",
		       in->kernel, len, (unsigned long long)max_len);
		return -E2BIG;
	}
	memcpy(vm_gpa_to_host(vm, BOOT_CMDLINE_GPA, len + 1), in->cmdline, len + 1);
	return 0;
}

/* Highest page-aligned gpa in region r for size bytes within [lo, hi); 0: none. */
static uint64_t initrd_fit(const struct mem_region *r, uint64_t size,
			   uint64_t lo, uint64_t hi)
{
	uint64_t top = r->gpa + r->size < hi ? r->gpa + r->size : hi;
	uint64_t bottom = r->gpa > lo ? r->gpa : lo, gpa;

	if (top < size)
		return 0;
	gpa = (top - size) & ~PAGE_MASK;
	return gpa >= bottom && gpa ? gpa : 0;
}

int boot_initrd(struct vm *vm, const char *path, uint64_t lo, uint64_t hi,
		uint64_t *gpa, uint64_t *size)
{
	struct boot_file f;
	uint64_t at = 0;
	int r = boot_file_map("initrd", path, &f);

	if (r)
		return r;
	/* Regions are in address order: below 4 GiB first. */
	for (unsigned int i = 0; i < vm->mem.nregions && !at; i++)
		at = initrd_fit(&vm->mem.regions[i], f.size, lo, hi);
	if (!at) {
		pr_err("initrd %s (%zu bytes) does not fit in guest RAM between %#llx and %#llx",
		       path, f.size, (unsigned long long)lo, (unsigned long long)hi);
		boot_file_unmap(&f);
		return -ENOSPC;
	}
	r = boot_file_copy(&f, 0, f.size, vm_gpa_to_host(vm, at, f.size));
	*gpa = at;
	*size = f.size;
	boot_file_unmap(&f);
	return r;
}

int boot_kernel(struct vm *vm, const struct boot_params_in *in)
{
	struct boot_file f;
	int r = boot_file_map("kernel", in->kernel, &f);

	if (r)
		return r;
	if (boot_is_elf(&f)) {
		r = boot_pvh(vm, in, &f);
	} else if (boot_is_bzimage(&f)) {
		r = boot_bzimage(vm, in, &f);
	} else {
		pr_err("kernel %s: not an ELF vmlinux with a PVH note nor a bzImage",
		       in->kernel);
		r = -EINVAL;
	}
	boot_file_unmap(&f);
	return r;
}
