/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hardware-reduced ACPI tables (RSDP, XSDT, FADT, DSDT, MADT), and the
 * sleep control register through which the guest powers off.
 */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdint.h>

struct vm;
struct aml;
struct pci_bus;

/* The port of the FADT's sleep control and status registers. */
#define ACPI_SLEEP_PORT		0x3c0
/* The SLP_TYP the DSDT's _S5 object names. */
#define ACPI_S5_SLP_TYP		5

/* The DSDT's AML for this bus (NULL: none) into dsdt. 0 or -ENOMEM. */
int acpi_build_dsdt_aml(struct aml *dsdt, const struct pci_bus *bus);

/*
 * Writes the tables at gpa and registers the sleep port; the RSDP's gpa.
 * After pci_bus_create: the DSDT describes the bus's windows.
 */
int acpi_setup(struct vm *vm, uint64_t gpa, uint64_t *rsdp_gpa);

#endif /* VMM_ACPI_H */
