/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One KVM virtual machine: the VM fd, guest RAM (one shared memfd, split
 * around the 32-bit PCI hole), the I/O buses and the PCI bus its devices sit
 * on, the GSI routing table, its vCPUs, and the device thread: one libevent
 * loop where devices watch their sockets and timers. How the VM ends is
 * recorded once (vm_request_exit) and every vCPU is kicked out of KVM_RUN.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/memtable.h"
#include "vmm/iobus.h"
#include "vmm/irq.h"
#include "vmm/memslot.h"

/* RAM above this guest-physical address moves above 4 GiB. */
#define VM_PCI_HOLE_START	0xc0000000ull
#define VM_4G			0x100000000ull
#define VM_MAX_CPUS		64

struct vcpu;
struct pci_bus;
struct event_base;
struct event;

struct vm {
	int kvm_fd;
	int vm_fd;
	int mem_fd;
	uint8_t *ram;			/* the whole memfd, mapped */
	uint64_t ram_size;
	/* RAM's regions in address order: uva is host, fd is mem_fd. */
	struct mem_table mem;
	struct memslot_table memslots;	/* device memory beyond RAM */
	unsigned int ncpus;
	struct vcpu *vcpus;
	unsigned int phys_bits;		/* guest-physical address width */
	struct io_bus pio;
	struct io_bus mmio;
	struct irq_routing irq;
	struct pci_bus *pci;

	struct event_base *evbase;	/* the device thread's loop */
	struct event *dev_thread_stop;
	pthread_t dev_thread;
	bool dev_thread_started;

	pthread_mutex_t exit_lock;
	pthread_cond_t exit_cond;
	bool exiting;
	int exit_status;
};

/* Opens /dev/kvm, creates the VM, irqchip, PIT and guest RAM. 0 or -errno. */
int vm_create(struct vm *vm, uint64_t ram_mib, unsigned int ncpus);
void vm_destroy(struct vm *vm);

/*
 * Starts the device thread, which runs vm->evbase until vm_destroy. Events
 * may be added from any thread (libevent's pthread locking is on).
 */
int vm_start_device_thread(struct vm *vm);
/* Stops it (idempotent): after this no device callback runs. */
void vm_stop_device_thread(struct vm *vm);

/* Host pointer to [gpa, gpa + len) if it lies in guest RAM, else NULL. */
void *vm_gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len);

/* Ends the VM with status (the first request wins) and kicks every vCPU. */
void vm_request_exit(struct vm *vm, int status);
/* Blocks until vm_request_exit; returns the status. */
int vm_wait_exit(struct vm *vm);

#endif /* VMM_VM_H */
