// SPDX-License-Identifier: GPL-2.0-only
/* The real VM core as a test fixture; see vm_fixture.h. */
#include <check.h>
#include <event2/event.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/kvm/vm_fixture.h"
#include "tests/unit/test_run.h"
#include "vmm/pci.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

struct vm *fixture_vm_create(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	if (vm_create(vm, FIXTURE_RAM_MIB, 1) || vcpus_create(vm) || pci_bus_create(vm)) {
		fixture_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

void fixture_vm_destroy(struct vm *vm)
{
	pci_bus_destroy(vm);
	vcpus_destroy(vm);
	vm_destroy(vm);
	free(vm);
}

void fixture_vm_poll(struct vm *vm, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	event_base_loopexit(vm->evbase, &tv);
	event_base_loop(vm->evbase, EVLOOP_NO_EXIT_ON_EMPTY);
}

bool fixture_msi_route(struct vm *vm, uint32_t gsi, uint64_t *addr, uint32_t *data)
{
	const struct kvm_irq_routing *t = vm->irq.table;

	for (unsigned int i = 0; i < t->nr; i++) {
		const struct kvm_irq_routing_entry *e = &t->entries[i];

		if (e->gsi == gsi && e->type == KVM_IRQ_ROUTING_MSI) {
			*addr = (uint64_t)e->u.msi.address_hi << 32 | e->u.msi.address_lo;
			*data = e->u.msi.data;
			return true;
		}
	}
	return false;
}

void fixture_pci_enable(struct vm *vm, const struct pci_dev *dev)
{
	uint8_t cmd[2] = { PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0 };

	pci_config_write(vm->pci, (unsigned int)dev->slot << 3, PCI_COMMAND, cmd, 2);
}

struct pci_dev *fixture_pci_dev(struct vm *vm, int slot)
{
	return slot >= 0 && slot < PCI_MAX_SLOTS ? vm->pci->devs[slot] : NULL;
}

bool fixture_kvm_missing(void)
{
	struct vm *vm = fixture_vm_create();

	if (!vm) {
		printf("no usable /dev/kvm: cannot create a VM\n");
		return true;
	}
	fixture_vm_destroy(vm);
	return false;
}

int fixture_run_suite(Suite *s)
{
	if (fixture_kvm_missing()) {
		srunner_free(srunner_create(s));	/* frees s: no leak on a skip */
		return 77;
	}
	return test_run_suite(s);
}
