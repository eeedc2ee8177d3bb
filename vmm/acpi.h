/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hardware-reduced ACPI tables (RSDP, XSDT, FADT, DSDT, MADT), and the
 * sleep control register through which the guest powers off.
 */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdint.h>

struct vm;

/* The port of the FADT's sleep control and status registers. */
#define ACPI_SLEEP_PORT		0x3c0
/* The SLP_TYP the DSDT's _S5 object names. */
#define ACPI_S5_SLP_TYP		5

/* Writes the tables at gpa and registers the sleep port; the RSDP's gpa. */
int acpi_setup(struct vm *vm, uint64_t gpa, uint64_t *rsdp_gpa);

#endif /* VMM_ACPI_H */
