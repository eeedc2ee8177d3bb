/* SPDX-License-Identifier: GPL-2.0-only */
/* vCPUs: one thread each, running KVM_RUN and dispatching its exits. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

/* Creates vm->ncpus vCPUs with KVM's supported CPUID and their APIC ids. */
int vcpus_create(struct vm *vm);
void vcpus_destroy(struct vm *vm);

/* PVH entry state for the boot vCPU: 32-bit flat protected mode, no paging. */
int vcpu_setup_pvh(struct vcpu *v, uint32_t entry, uint32_t start_info);
/*
 * 64-bit boot protocol entry state for the boot vCPU: long mode on the page
 * tables at cr3, a GDT written at gdt_gpa (4 entries: flat 64-bit code at
 * 0x10, flat data at 0x18, loaded in CS and DS/ES/SS/FS/GS), RSI = rsi.
 */
int vcpu_setup_long_mode(struct vcpu *v, uint64_t entry, uint64_t rsi,
			 uint64_t cr3, uint64_t gdt_gpa);

int vcpus_start(struct vm *vm);
/* The id of the vCPU the calling thread runs, -1 on any other thread. */
int vcpu_current_id(void);
/* Gets every running vCPU out of KVM_RUN (after vm_request_exit). */
void vcpus_kick(struct vm *vm);
void vcpus_join(struct vm *vm);

#endif /* VMM_VCPU_H */
