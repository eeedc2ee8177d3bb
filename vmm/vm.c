// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KVM VM: creation, guest RAM in a shared memfd, the device thread,
 * exit bookkeeping.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

/* Where KVM keeps the TSS and identity map it needs on Intel: below 4 GiB. */
#define VM_TSS_ADDR		0xfffbd000ull
#define VM_IDENTITY_MAP_ADDR	0xfffbc000ull

static int vm_kvm_open(struct vm *vm)
{
	int version;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		pr_err("cannot open /dev/kvm: %m");
		return -errno;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		pr_err("KVM API version %d, expected %d", version, KVM_API_VERSION);
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %m");
		return -errno;
	}
	return 0;
}

static int vm_ioctl(struct vm *vm, unsigned long req, const void *arg,
		    const char *what)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		pr_err("%s: %m", what);
		return -errno;
	}
	return 0;
}

/* The in-kernel PIC, IOAPIC, LAPICs and PIT: interrupts never exit to us. */
static int vm_create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = VM_IDENTITY_MAP_ADDR;
	int r;

	r = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity, "KVM_SET_IDENTITY_MAP_ADDR");
	if (!r && ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_ADDR) < 0) {
		pr_err("KVM_SET_TSS_ADDR: %m");
		r = -errno;
	}
	if (!r)
		r = vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
	if (!r)
		r = vm_ioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
	return r;
}

static int vm_add_region(struct vm *vm, uint64_t gpa, uint64_t size,
			 uint64_t offset)
{
	struct kvm_userspace_memory_region slot = {
		.slot = vm->mem.nregions,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)(vm->ram + offset),
	};
	struct mem_region r = {
		.gpa = gpa, .size = size, .uva = slot.userspace_addr,
		.host = vm->ram + offset, .fd = vm->mem_fd, .fd_offset = offset,
	};
	int err = mem_table_add(&vm->mem, &r);

	if (err)
		return err;
	return vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot,
			"KVM_SET_USER_MEMORY_REGION");
}

/*
 * One memfd (shared, so vhost-user back-ends can map it) holds all of RAM;
 * what does not fit below the PCI hole continues at 4 GiB.
 */
static int vm_create_ram(struct vm *vm, uint64_t size)
{
	uint64_t low = size < VM_PCI_HOLE_START ? size : VM_PCI_HOLE_START;
	int r;

	vm->ram_size = size;
	vm->mem_fd = memfd_create("vmm-ram", MFD_CLOEXEC);
	if (vm->mem_fd < 0 || ftruncate(vm->mem_fd, (off_t)size) < 0) {
		pr_err("guest RAM (%llu MiB): %m", (unsigned long long)(size >> 20));
		return -errno;
	}
	vm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       vm->mem_fd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		pr_err("mmap of guest RAM: %m");
		return -errno;
	}
	r = vm_add_region(vm, 0, low, 0);
	if (!r && size > low)
		r = vm_add_region(vm, VM_4G, size - low, low);
	return r;
}

/* Devices add events from vCPU threads too: libevent must lock. */
static int vm_create_evbase(struct vm *vm)
{
	if (evthread_use_pthreads() < 0) {
		pr_err("libevent without pthread support");
		return -ENOTSUP;
	}
	vm->evbase = event_base_new();
	if (!vm->evbase) {
		pr_err("cannot create the device thread's event base");
		return -ENOMEM;
	}
	return 0;
}

static void *vm_device_thread(void *arg)
{
	struct vm *vm = arg;

	if (event_base_loop(vm->evbase, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
		pr_err("device thread: event loop failed");
	return NULL;
}

static void vm_device_thread_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

int vm_start_device_thread(struct vm *vm)
{
	int r;

	/*
	 * The loop is stopped from inside: event_base_loop() forgets a
	 * loopbreak that comes before it starts, an active event it does not.
	 */
	vm->dev_thread_stop = event_new(vm->evbase, -1, 0, vm_device_thread_stop_cb,
					vm->evbase);
	if (!vm->dev_thread_stop)
		return -ENOMEM;
	r = pthread_create(&vm->dev_thread, NULL, vm_device_thread, vm);

	if (r) {
		pr_err("cannot start the device thread: %s", strerror(r));
		return -r;
	}
	vm->dev_thread_started = true;
	return 0;
}

void vm_stop_device_thread(struct vm *vm)
{
	if (vm->dev_thread_started) {
		event_active(vm->dev_thread_stop, 0, 0);
		pthread_join(vm->dev_thread, NULL);
		vm->dev_thread_started = false;
	}
	if (vm->dev_thread_stop)
		event_free(vm->dev_thread_stop);
	vm->dev_thread_stop = NULL;
}

int vm_create(struct vm *vm, uint64_t ram_mib, unsigned int ncpus)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->mem_fd = -1;
	vm->ncpus = ncpus;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_cond_init(&vm->exit_cond, NULL);
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	r = vm_kvm_open(vm);
	if (!r)
		r = vm_create_irqchip(vm);
	if (!r)
		r = irq_routing_init(vm);
	if (!r)
		r = vm_create_ram(vm, ram_mib << 20);
	if (!r)
		r = memslot_table_init(&vm->memslots, vm);
	if (!r)
		r = vm_create_evbase(vm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	vm_stop_device_thread(vm);
	if (vm->evbase)
		event_base_free(vm->evbase);
	irq_routing_destroy(vm);
	if (vm->memslots.limit)
		memslot_table_destroy(&vm->memslots, vm);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	io_bus_destroy(&vm->pio);
	io_bus_destroy(&vm->mmio);
	pthread_cond_destroy(&vm->exit_cond);
	pthread_mutex_destroy(&vm->exit_lock);
}

void *vm_gpa_to_host(struct vm *vm, uint64_t gpa, uint64_t len)
{
	return mem_gpa_to_host(&vm->mem, gpa, len);
}

void vm_request_exit(struct vm *vm, int status)
{
	bool first;

	pthread_mutex_lock(&vm->exit_lock);
	first = !vm->exiting;
	if (first) {
		__atomic_store_n(&vm->exiting, true, __ATOMIC_RELEASE);
		vm->exit_status = status;
		pthread_cond_broadcast(&vm->exit_cond);
	}
	pthread_mutex_unlock(&vm->exit_lock);
	/* One kick suffices: a vCPU checks exiting before every KVM_RUN. */
	if (first)
		vcpus_kick(vm);
}

int vm_wait_exit(struct vm *vm)
{
	int status;

	pthread_mutex_lock(&vm->exit_lock);
	while (!vm->exiting)
		pthread_cond_wait(&vm->exit_cond, &vm->exit_lock);
	status = vm->exit_status;
	pthread_mutex_unlock(&vm->exit_lock);
	return status;
}
