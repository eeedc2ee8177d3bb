/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small ACPI Machine Language encoder (ACPI 6.4, chapter 20; resource
 * descriptors, 6.4), enough for
 * the vmm's DSDT: names, integers, strings, packages, scopes, devices and
 * resource templates. Constructs with a PkgLength take their body as a
 * finished struct aml, so lengths are known when the header is written.
 *
 * Allocation failures are sticky: a->failed is set, later calls do nothing,
 * and the caller checks once at the end.
 */
#ifndef VMM_AML_H
#define VMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool failed;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
void aml_append(struct aml *a, const struct aml *b);

/* Data objects. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);	/* "PNP0A03" */

/* Name (NAME, <value appended next>); name is a path like "\\_SB_.PCI0". */
void aml_name(struct aml *a, const char *name);

/* Package () { elements }, with n elements in els. */
void aml_package(struct aml *a, unsigned int n, const struct aml *els);
void aml_scope(struct aml *a, const char *name, const struct aml *body);
void aml_device(struct aml *a, const char *name, const struct aml *body);

/* ResourceTemplate () { items }: a Buffer with the end tag added. */
void aml_resource_template(struct aml *a, const struct aml *items);

/* Resource descriptors (ACPI 6.4, 6.4.2 and 6.4.3). */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, unsigned int irq);
void aml_res_bus_numbers(struct aml *a, uint16_t min, uint16_t max);
void aml_res_mem32(struct aml *a, uint32_t min, uint32_t max);
/* A cacheable (not prefetchable) read-write memory window. */
void aml_res_mem64(struct aml *a, uint64_t min, uint64_t max);

#endif /* VMM_AML_H */
