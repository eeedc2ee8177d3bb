// SPDX-License-Identifier: GPL-2.0-only
/* vCPU threads: KVM_RUN, then port I/O and MMIO exits to the buses. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* The signal that gets a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL	SIGUSR1

#define CPUID_MAX_ENTRIES	256
#define CPUID_HYPERVISOR_BIT	(1u << 31)

/* The vCPU this thread runs, for devices with per-vCPU state. */
static __thread int vcpu_self = -1;

int vcpu_current_id(void)
{
	return vcpu_self;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;	/* only to interrupt KVM_RUN with EINTR */
}

/* KVM's CPUID; the table grows until it holds every leaf (E2BIG). */
static struct kvm_cpuid2 *vcpu_supported_cpuid(struct vm *vm)
{
	for (unsigned int n = CPUID_MAX_ENTRIES; n <= 16 * CPUID_MAX_ENTRIES; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG)
			break;
	}
	pr_err("KVM_GET_SUPPORTED_CPUID: %m");
	return NULL;
}

/* KVM's CPUID with this vCPU's APIC id, and the hypervisor bit set. */
static int vcpu_set_cpuid(struct vcpu *v, struct kvm_cpuid2 *c)
{
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
			e->ecx |= CPUID_HYPERVISOR_BIT;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = v->id;		/* x2APIC id */
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		pr_err("vCPU %u: KVM_SET_CPUID2: %m", v->id);
		return -errno;
	}
	return 0;
}

static int vcpu_create(struct vm *vm, struct vcpu *v, unsigned int id,
		       struct kvm_cpuid2 *cpuid)
{
	int mmap_size;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		pr_err("KVM_CREATE_VCPU %u: %m", id);
		return -errno;
	}
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0)
		return -EINVAL;
	v->run_size = (size_t)mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	return vcpu_set_cpuid(v, cpuid);
}

/* The guest-physical address width KVM reports (CPUID 0x80000008 EAX[7:0]). */
static unsigned int cpuid_phys_bits(const struct kvm_cpuid2 *c)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008 && (c->entries[i].eax & 0xff))
			return c->entries[i].eax & 0xff;
	return 36;	/* what a CPU without the leaf implies */
}

int vcpus_create(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid = vcpu_supported_cpuid(vm);
	int r = 0;

	if (!cpuid)
		return -ENOTSUP;
	vm->phys_bits = cpuid_phys_bits(cpuid);
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(cpuid);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned int i = 0; i < vm->ncpus && !r; i++)
		r = vcpu_create(vm, &vm->vcpus[i], i, cpuid);
	free(cpuid);
	return r;
}

void vcpus_destroy(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, v->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
}

/* The boot protocols' flat segments (Linux's __BOOT_CS and __BOOT_DS). */
#define BOOT_CS			0x10
#define BOOT_DS			0x18
#define BOOT_GDT_ENTRIES	4
#define SEG_CODE		0xb	/* execute/read, accessed */
#define SEG_DATA		0x3	/* read/write, accessed */
#define CR0_PE			(1ull << 0)
#define CR0_ET			(1ull << 4)
#define CR0_PG			(1ull << 31)
#define CR4_PAE			(1ull << 5)
#define EFER_LME		(1ull << 8)
#define EFER_LMA		(1ull << 10)

/* A flat 4 GiB ring-0 segment; l: 64-bit code, which must have D/B clear. */
static struct kvm_segment seg_flat(uint16_t sel, uint8_t type, bool l)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !l, .s = 1, .l = l, .g = 1,
	};
}

/* The GDT descriptor that loads as s (page-granular limit). */
static uint64_t seg_desc(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffff) | (s->base & 0xffffffull) << 16 |
	       (uint64_t)s->type << 40 | (uint64_t)s->s << 44 |
	       (uint64_t)s->dpl << 45 | (uint64_t)s->present << 47 |
	       (limit & 0xf0000) << 32 | (uint64_t)s->avl << 52 |
	       (uint64_t)s->l << 53 | (uint64_t)s->db << 54 |
	       (uint64_t)s->g << 55 | (s->base & 0xff000000ull) << 32;
}

/* The reset state with the flat boot segments; 64-bit code if long_mode. */
static int vcpu_boot_sregs(struct vcpu *v, struct kvm_sregs *s, bool long_mode)
{
	if (ioctl(v->fd, KVM_GET_SREGS, s) < 0) {
		pr_err("vCPU %u: KVM_GET_SREGS: %m", v->id);
		return -errno;
	}
	s->cs = seg_flat(BOOT_CS, SEG_CODE, long_mode);
	s->ds = seg_flat(BOOT_DS, SEG_DATA, false);
	s->es = s->fs = s->gs = s->ss = s->ds;
	/* VM entry wants a usable TR, whatever the guest does with it. */
	s->tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	return 0;
}

static int vcpu_load_boot_state(struct vcpu *v, const struct kvm_sregs *s,
				struct kvm_regs *regs, const char *what)
{
	regs->rflags = 2;	/* interrupts off */
	if (ioctl(v->fd, KVM_SET_SREGS, s) < 0 || ioctl(v->fd, KVM_SET_REGS, regs) < 0) {
		pr_err("vCPU %u: setting the %s entry state: %m", v->id, what);
		return -errno;
	}
	return 0;
}

int vcpu_setup_pvh(struct vcpu *v, uint32_t entry, uint32_t start_info)
{
	struct kvm_regs regs = { .rip = entry, .rbx = start_info };
	struct kvm_sregs s;
	int r = vcpu_boot_sregs(v, &s, false);

	if (r)
		return r;
	s.cr0 = CR0_PE | CR0_ET;	/* paging off */
	s.cr4 = 0;
	s.efer = 0;
	return vcpu_load_boot_state(v, &s, &regs, "PVH");
}

int vcpu_setup_long_mode(struct vcpu *v, uint64_t entry, uint64_t rsi,
			 uint64_t cr3, uint64_t gdt_gpa)
{
	uint64_t *gdt = vm_gpa_to_host(v->vm, gdt_gpa, BOOT_GDT_ENTRIES * 8);
	struct kvm_regs regs = { .rip = entry, .rsi = rsi };
	struct kvm_sregs s;
	int r;

	if (!gdt)
		return -EINVAL;
	r = vcpu_boot_sregs(v, &s, true);
	if (r)
		return r;
	/* The GDT holds exactly what the segment registers were loaded with. */
	memset(gdt, 0, BOOT_GDT_ENTRIES * 8);
	gdt[BOOT_CS / 8] = seg_desc(&s.cs);
	gdt[BOOT_DS / 8] = seg_desc(&s.ds);
	s.gdt = (struct kvm_dtable){ .base = gdt_gpa, .limit = BOOT_GDT_ENTRIES * 8 - 1 };
	s.cr0 = CR0_PE | CR0_ET | CR0_PG;
	s.cr3 = cr3;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	return vcpu_load_boot_state(v, &s, &regs, "64-bit");
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep ins/outs) comes as count items back to back. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		io_bus_dispatch(&v->vm->pio, run->io.port, data, run->io.size, write);
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.len > sizeof(run->mmio.data))
		return;
	io_bus_dispatch(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			run->mmio.len, run->mmio.is_write);
}

static void vcpu_dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return;
	pr_err("vCPU %u: rip %#llx rsp %#llx rax %#llx rbx %#llx rcx %#llx rdx %#llx",
	       v->id, r.rip, r.rsp, r.rax, r.rbx, r.rcx, r.rdx);
	pr_err("vCPU %u: rsi %#llx rdi %#llx rflags %#llx cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx",
	       v->id, r.rsi, r.rdi, r.rflags, s.cr0, s.cr3, s.cr4, s.efer);
}

/* Handles one exit; returns false when the VM must end (status recorded). */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_CRASH) {
			pr_err("vCPU %u: the guest reported a crash", v->id);
			break;
		}
		vm_request_exit(v->vm, 0);
		pr_info("guest %s", run->system_event.type == KVM_SYSTEM_EVENT_RESET
			? "reset" : "shutdown");
		return false;
	case KVM_EXIT_SHUTDOWN:
		pr_err("vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", v->id);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: VM entry failed, hardware reason %#llx", v->id,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vCPU %u: KVM internal error, suberror %u", v->id,
		       run->internal.suberror);
		break;
	default:
		pr_err("vCPU %u: unhandled exit reason %u", v->id, run->exit_reason);
		break;
	}
	vcpu_dump(v);
	vm_request_exit(v->vm, 1);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t kick;

	vcpu_self = (int)v->id;
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	for (;;) {
		if (__atomic_load_n(&v->vm->exiting, __ATOMIC_ACQUIRE))
			break;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			pr_err("vCPU %u: KVM_RUN: %m", v->id);
			vm_request_exit(v->vm, 1);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	int r;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	for (unsigned int i = 0; i < vm->ncpus; i++) {
		r = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r) {
			pr_err("cannot start vCPU %u: %s", i, strerror(r));
			vm_request_exit(vm, 1);
			return -r;
		}
		vm->vcpus[i].started = true;
	}
	return 0;
}

void vcpus_kick(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		if (!pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
}

void vcpus_join(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
}
