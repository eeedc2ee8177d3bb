/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest memory beyond RAM: KVM memory slots that devices add, move and
 * remove at run time, each backed by a shared mapping of a file (a memfd
 * another process handed over). A device's memory BAR is made of such slots:
 * they appear where the guest put the BAR, follow it when it moves, and
 * leave the guest's address space while the BAR does not decode, without
 * losing their mapping.
 *
 * RAM keeps slots 0 and 1 (vm.c); these take the rest of what KVM offers.
 * All calls are serialised by the table's own lock and may come from any
 * thread.
 */
#ifndef VMM_MEMSLOT_H
#define VMM_MEMSLOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

#define MEMSLOT_FIRST		2	/* after the two RAM regions */
#define MEMSLOT_MAX		256	/* ours, within KVM_CAP_NR_MEMSLOTS */

struct memslot {
	bool used;
	bool present;		/* in the guest's address space at gpa */
	bool readonly;
	uint64_t gpa;
	uint64_t size;
	void *host;		/* our mapping of the file range */
};

struct memslot_table {
	pthread_mutex_t lock;
	unsigned int limit;	/* slot ids below this are usable */
	struct memslot slots[MEMSLOT_MAX];
};

/* Reads KVM's slot limit. 0 or -errno. */
int memslot_table_init(struct memslot_table *t, struct vm *vm);
/* Removes every slot from the guest and unmaps it. */
void memslot_table_destroy(struct memslot_table *t, struct vm *vm);

/*
 * Maps [fd_offset, fd_offset + size) of fd (page-aligned, inside the file)
 * and, if present, makes it guest memory at gpa. fd is not taken: the
 * mapping holds its own reference. Returns the slot id or -errno (logged).
 */
int memslot_add(struct vm *vm, int fd, uint64_t fd_offset, uint64_t size,
		uint64_t gpa, bool present, bool readonly);
/* Moves slot id to gpa, or out of (present false) the address space. */
int memslot_move(struct vm *vm, int id, uint64_t gpa, bool present);
/* Removes slot id from the guest and unmaps it. */
int memslot_remove(struct vm *vm, int id);

#endif /* VMM_MEMSLOT_H */
