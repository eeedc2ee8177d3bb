// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmm/memslot.c on a real VM: slots become guest memory where asked (KVM
 * refuses a second slot over the same range), follow a move, leave the
 * address space while absent, and give back their id, mapping and fd
 * reference when removed; bad file ranges are refused.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/kvm/vm_fixture.h"
#include "tests/unit/test_fds.h"
#include "vmm/vm.h"

#define SLOT_GPA	0x200000000ull	/* above RAM, like a 64-bit BAR */
#define SLOT_SIZE	0x200000ull

static int memfd_of(uint64_t size)
{
	int fd = memfd_create("test-slot", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* True if KVM has a slot somewhere in [gpa, gpa + size): it refuses another. */
static bool occupied(struct vm *vm, int fd, uint64_t gpa)
{
	int id = memslot_add(vm, fd, 0, 0x1000, gpa, true, false);

	if (id < 0)
		return true;
	ck_assert_int_eq(memslot_remove(vm, id), 0);
	return false;
}

START_TEST(slot_follows_moves)
{
	struct vm *vm = fixture_vm_create();
	int fd = memfd_of(2 * SLOT_SIZE), probe = memfd_of(0x1000), id;

	ck_assert_ptr_nonnull(vm);
	id = memslot_add(vm, fd, SLOT_SIZE, SLOT_SIZE, SLOT_GPA, true, false);
	ck_assert_int_ge(id, MEMSLOT_FIRST);
	ck_assert(occupied(vm, probe, SLOT_GPA + SLOT_SIZE - 0x1000));
	ck_assert(!occupied(vm, probe, SLOT_GPA + SLOT_SIZE));

	ck_assert_int_eq(memslot_move(vm, id, SLOT_GPA + 4 * SLOT_SIZE, true), 0);
	ck_assert(!occupied(vm, probe, SLOT_GPA));
	ck_assert(occupied(vm, probe, SLOT_GPA + 4 * SLOT_SIZE));

	ck_assert_int_eq(memslot_move(vm, id, SLOT_GPA, false), 0);
	ck_assert(!occupied(vm, probe, SLOT_GPA));
	ck_assert(!occupied(vm, probe, SLOT_GPA + 4 * SLOT_SIZE));
	ck_assert_int_eq(memslot_move(vm, id, SLOT_GPA, true), 0);
	ck_assert(occupied(vm, probe, SLOT_GPA));

	/* Writes through our mapping are in the file at fd_offset. */
	ck_assert_int_eq(pwrite(fd, "sibling", 7, (off_t)SLOT_SIZE), 7);
	ck_assert_mem_eq(vm->memslots.slots[id].host, "sibling", 7);

	ck_assert_int_eq(memslot_remove(vm, id), 0);
	ck_assert(!occupied(vm, probe, SLOT_GPA));
	ck_assert_int_eq(memslot_remove(vm, id), -ENOENT);
	ck_assert_int_eq(memslot_move(vm, id, SLOT_GPA, true), -ENOENT);
	close(fd);
	close(probe);
	fixture_vm_destroy(vm);
}
END_TEST

START_TEST(bad_ranges_refused)
{
	struct vm *vm = fixture_vm_create();
	int fd = memfd_of(SLOT_SIZE);

	ck_assert_ptr_nonnull(vm);
	ck_assert_int_eq(memslot_add(vm, fd, 0, 2 * SLOT_SIZE, SLOT_GPA, true, false), -ERANGE);
	ck_assert_int_eq(memslot_add(vm, fd, 0x800, 0x1000, SLOT_GPA, true, false), -EINVAL);
	ck_assert_int_eq(memslot_add(vm, fd, 0, 0, SLOT_GPA, true, false), -EINVAL);
	ck_assert_int_eq(memslot_add(vm, fd, ~0ull & ~0xfffull, 0x2000, SLOT_GPA, true, false),
			 -EINVAL);
	/* Over guest RAM: KVM refuses, and the slot is not kept. */
	ck_assert_int_lt(memslot_add(vm, fd, 0, 0x1000, 0x100000, true, false), 0);
	ck_assert_int_ge(memslot_add(vm, fd, 0, 0x1000, SLOT_GPA, true, false), MEMSLOT_FIRST);
	close(fd);
	fixture_vm_destroy(vm);
}
END_TEST

/* Every slot can be taken and given back; ids are reused; no fd is kept. */
START_TEST(all_slots_and_back)
{
	struct vm *vm = fixture_vm_create();
	int before = count_open_fds(), fd = memfd_of(0x1000), n = 0, id;
	int ids[MEMSLOT_MAX];

	ck_assert_ptr_nonnull(vm);
	before = count_open_fds() - 1;
	while ((id = memslot_add(vm, fd, 0, 0x1000, SLOT_GPA + (uint64_t)n * 0x1000,
				 n % 2, false)) >= 0)
		ids[n++] = id;
	ck_assert_int_eq(id, -ENOSPC);
	ck_assert_int_eq(n, (int)vm->memslots.limit - MEMSLOT_FIRST);
	close(fd);
	ck_assert_int_eq(count_open_fds(), before);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(memslot_remove(vm, ids[i]), 0);
	fd = memfd_of(0x1000);
	ck_assert_int_eq(memslot_add(vm, fd, 0, 0x1000, SLOT_GPA, true, false), MEMSLOT_FIRST);
	close(fd);
	fixture_vm_destroy(vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memslot");
	TCase *tc = tcase_create("memslot");

	tcase_add_test(tc, slot_follows_moves);
	tcase_add_test(tc, bad_ranges_refused);
	tcase_add_test(tc, all_slots_and_back);
	suite_add_tcase(s, tc);
	return fixture_run_suite(s);
}
