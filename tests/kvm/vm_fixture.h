/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vmm's own VM core (vm_create, vcpus_create, pci_bus_create) as a
 * fixture for device tests: irqfds, ioeventfds and GSI routes are the real
 * thing, and the test plays the guest through pci_config_* and the BAR
 * handlers, running the device thread's event base itself.
 */
#ifndef TESTS_KVM_VM_FIXTURE_H
#define TESTS_KVM_VM_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_dev;

#define FIXTURE_RAM_MIB	16

/* A VM with FIXTURE_RAM_MIB of RAM, one vCPU and a PCI bus; NULL without KVM. */
struct vm *fixture_vm_create(void);
void fixture_vm_destroy(struct vm *vm);

/* Dispatches the VM's event base for up to ms milliseconds. */
void fixture_vm_poll(struct vm *vm, int ms);

/* The MSI route KVM has for gsi, as the vmm last pushed it. */
bool fixture_msi_route(struct vm *vm, uint32_t gsi, uint64_t *addr, uint32_t *data);

/* The guest turns on memory decoding: the device's BARs map where assigned. */
void fixture_pci_enable(struct vm *vm, const struct pci_dev *dev);

/* The device in slot, NULL if empty. */
struct pci_dev *fixture_pci_dev(struct vm *vm, int slot);

/* Prints the skip reason and returns true if /dev/kvm cannot make a VM. */
bool fixture_kvm_missing(void);

struct Suite;
/* Runs a Check suite: the test's exit status (0, 1; 77 without KVM). */
int fixture_run_suite(struct Suite *s);

#endif /* TESTS_KVM_VM_FIXTURE_H */
