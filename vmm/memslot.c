// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM memory slots for device memory (memslot.h).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/memslot.h"
#include "vmm/vm.h"

int memslot_table_init(struct memslot_table *t, struct vm *vm)
{
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	/* KVM promises at least 32 when it does not say. */
	t->limit = n > 0 ? (unsigned int)n : 32;
	if (t->limit > MEMSLOT_MAX)
		t->limit = MEMSLOT_MAX;
	return 0;
}

/* Tells KVM where slot id is now: at s->gpa, or nowhere (size 0). */
static int memslot_set(struct vm *vm, int id, const struct memslot *s, bool present)
{
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)id,
		.flags = s->readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = present ? s->gpa : 0,
		.memory_size = present ? s->size : 0,
		.userspace_addr = (uintptr_t)s->host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int err = errno;

		pr_err("memory slot %d at %#llx (+%#llx): KVM_SET_USER_MEMORY_REGION: %s",
		       id, (unsigned long long)s->gpa, (unsigned long long)s->size,
		       strerror(err));
		return -err;
	}
	return 0;
}

/* The file range must exist: a mapping past EOF faults the guest with SIGBUS. */
static int memslot_check_range(int fd, uint64_t fd_offset, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;

	if (!size || (fd_offset | size) & (uint64_t)(page - 1) ||
	    fd_offset + size < fd_offset)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (fd_offset + size > (uint64_t)st.st_size)
		return -ERANGE;
	return 0;
}

static int memslot_find_free(struct memslot_table *t)
{
	for (unsigned int i = MEMSLOT_FIRST; i < t->limit; i++)
		if (!t->slots[i].used)
			return (int)i;
	return -ENOSPC;
}

int memslot_add(struct vm *vm, int fd, uint64_t fd_offset, uint64_t size,
		uint64_t gpa, bool present, bool readonly)
{
	struct memslot_table *t = &vm->memslots;
	struct memslot *s;
	int id, r;

	r = memslot_check_range(fd, fd_offset, size);
	if (r) {
		pr_err("device memory [%#llx, +%#llx) of fd %d: %s",
		       (unsigned long long)fd_offset, (unsigned long long)size, fd,
		       r == -ERANGE ? "past the end of the file" : strerror(-r));
		return r;
	}
	pthread_mutex_lock(&t->lock);
	id = memslot_find_free(t);
	if (id < 0) {
		pr_err("no free KVM memory slot (limit %u)", t->limit);
		goto out;
	}
	s = &t->slots[id];
	s->host = mmap(NULL, size, PROT_READ | (readonly ? 0 : PROT_WRITE),
		       MAP_SHARED, fd, (off_t)fd_offset);
	if (s->host == MAP_FAILED) {
		id = -errno;
		pr_err("mmap of device memory (%#llx bytes): %m", (unsigned long long)size);
		goto out;
	}
	s->gpa = gpa;
	s->size = size;
	s->readonly = readonly;
	r = present ? memslot_set(vm, id, s, true) : 0;
	if (r) {
		munmap(s->host, size);
		id = r;
		goto out;
	}
	s->used = true;
	s->present = present;
out:
	pthread_mutex_unlock(&t->lock);
	return id;
}

static struct memslot *memslot_get(struct memslot_table *t, int id)
{
	if (id < MEMSLOT_FIRST || (unsigned int)id >= t->limit || !t->slots[id].used)
		return NULL;
	return &t->slots[id];
}

int memslot_move(struct vm *vm, int id, uint64_t gpa, bool present)
{
	struct memslot_table *t = &vm->memslots;
	struct memslot *s;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	s = memslot_get(t, id);
	if (!s) {
		r = -ENOENT;
		goto out;
	}
	/* KVM moves a present slot in one step (KVM_MR_MOVE). */
	if (present || s->present) {
		uint64_t old = s->gpa;

		s->gpa = gpa;
		r = memslot_set(vm, id, s, present);
		if (r)
			s->gpa = old;
	}
	if (!r) {
		s->gpa = gpa;
		s->present = present;
	}
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

int memslot_remove(struct vm *vm, int id)
{
	struct memslot_table *t = &vm->memslots;
	struct memslot *s;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	s = memslot_get(t, id);
	if (!s) {
		r = -ENOENT;
		goto out;
	}
	if (s->present)
		r = memslot_set(vm, id, s, false);
	/* A slot KVM would not drop keeps its mapping: the guest still sees it. */
	if (!r) {
		munmap(s->host, s->size);
		memset(s, 0, sizeof(*s));
	}
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void memslot_table_destroy(struct memslot_table *t, struct vm *vm)
{
	for (unsigned int i = MEMSLOT_FIRST; i < MEMSLOT_MAX; i++)
		if (t->slots[i].used)
			memslot_remove(vm, (int)i);
	pthread_mutex_destroy(&t->lock);
}
