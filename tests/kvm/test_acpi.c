// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AML encoder byte for byte (PkgLength at its size boundaries, integer
 * widths, name strings, resource descriptors), and the vmm's ACPI tables
 * as the guest finds them in its RAM (RSDP -> XSDT -> FADT -> DSDT, every
 * checksum), with the DSDT decompiled by ACPICA's iasl: it must parse, and
 * the PCI host bridge's _CRS must hold the bus's windows.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/kvm/vm_fixture.h"
#include "vmm/acpi.h"
#include "vmm/aml.h"
#include "vmm/boot.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

#define IASL	"/usr/bin/iasl"

static void expect_bytes(const struct aml *a, const uint8_t *want, size_t n)
{
	ck_assert(!a->failed);
	ck_assert_uint_eq(a->len, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(a->buf[i] == want[i], "byte %zu: 0x%02x, want 0x%02x",
			      i, a->buf[i], want[i]);
}

START_TEST(integers)
{
	static const uint8_t want[] = {
		0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01,
		0x0c, 0x00, 0x00, 0x01, 0x00, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0,
	};
	struct aml a;

	aml_init(&a);
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 1ull << 32);
	expect_bytes(&a, want, sizeof(want));
	aml_free(&a);
}
END_TEST

START_TEST(names)
{
	static const uint8_t want[] = {
		0x08, '_', 'H', 'I', 'D',
		0x08, '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		0x08, 0x2f, 3, 'A', '_', '_', '_', 'B', 'C', '_', '_', 'D', 'E', 'F', 'G',
	};
	struct aml a;

	aml_init(&a);
	aml_name(&a, "_HID");
	aml_name(&a, "\\_SB_.PCI0");
	aml_name(&a, "A.BC.DEFG");
	expect_bytes(&a, want, sizeof(want));
	aml_name(&a, "TOOLONG");
	ck_assert(a.failed);
	aml_free(&a);
}
END_TEST

/* A Scope whose body is n bytes: the PkgLength bytes it gets. */
static unsigned int pkglength_bytes(size_t n, uint8_t *first)
{
	struct aml body, a;
	unsigned int len;

	aml_init(&body);
	aml_init(&a);
	for (size_t i = 0; i < n; i++)
		aml_integer(&body, 0);
	aml_scope(&a, "S___", &body);
	ck_assert(!a.failed);
	/* ScopeOp, PkgLength, then "S___" and the body. */
	len = (unsigned int)(a.len - 1 - 4 - n);
	*first = a.buf[1];
	aml_free(&body);
	aml_free(&a);
	return len;
}

START_TEST(pkglength)
{
	uint8_t b0;

	/* 4 name bytes + 58 = 62, + 1 PkgLength byte = 63: still one byte. */
	ck_assert_uint_eq(pkglength_bytes(58, &b0), 1);
	ck_assert_uint_eq(b0, 63);
	/* One more needs two bytes: 0x40 | low nibble of 65. */
	ck_assert_uint_eq(pkglength_bytes(59, &b0), 2);
	ck_assert_uint_eq(b0, 0x40 | (65 & 0xf));
	ck_assert_uint_eq(pkglength_bytes(4000, &b0), 2);
	ck_assert_uint_eq(pkglength_bytes(5000, &b0), 3);
	ck_assert_uint_eq(b0 >> 6, 2);
}
END_TEST

START_TEST(resources)
{
	static const uint8_t want[] = {
		0x11, 0x20, 0x0a, 0x1d,			/* Buffer (29) */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,	/* IO 0x3f8, 8 */
		0x22, 0x10, 0x00,			/* IRQNoFlags () {4} */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,	/* WordBusNumber, window */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* granularity, 0..0 */
		0x00, 0x00, 0x01, 0x00,			/* translation, length 1 */
		0x79, 0x00,				/* end tag */
	};
	struct aml items, a;

	aml_init(&items);
	aml_init(&a);
	aml_res_io(&items, 0x3f8, 8);
	aml_res_irq(&items, 4);
	aml_res_bus_numbers(&items, 0, 0);
	aml_resource_template(&a, &items);
	expect_bytes(&a, want, sizeof(want));
	aml_free(&items);
	aml_free(&a);
}
END_TEST

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The table with signature sig at gpa, checked; a host pointer to it. */
static const uint8_t *table(struct vm *vm, uint64_t gpa, const char *sig)
{
	const uint8_t *t = vm_gpa_to_host(vm, gpa, 36);
	uint32_t len;

	ck_assert_ptr_nonnull(t);
	ck_assert_mem_eq(t, sig, 4);
	memcpy(&len, t + 4, 4);
	ck_assert_ptr_nonnull(vm_gpa_to_host(vm, gpa, len));
	ck_assert_msg(sum(t, len) == 0, "%s checksum", sig);
	return t;
}

/* Folds every run of white space to one space, in place. */
static void squeeze(char *s)
{
	char *start = s, *d = s;

	for (; *s; s++) {
		bool ws = *s == ' ' || *s == '\n';

		if (ws && (d == start || d[-1] == ' '))
			continue;
		*d++ = ws ? ' ' : *s;
	}
	*d = 0;
}

/* Runs iasl -d on the DSDT; its disassembly (the test fails if it cannot). */
static char *iasl_disassemble(const uint8_t *dsdt, uint32_t len)
{
	char dir[] = "/tmp/vvu-acpi.XXXXXX", cmd[256], path[96];
	char *out = NULL;
	size_t n = 0;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(dsdt, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && " IASL " -d dsdt.dat >iasl.log 2>&1 && cat dsdt.dsl", dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	out = calloc(1, 65536);
	ck_assert_ptr_nonnull(out);
	n = fread(out, 1, 65535, f);
	ck_assert_int_eq(pclose(f), 0);
	out[n] = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	return out;
}

START_TEST(tables_as_the_guest_sees_them)
{
	struct vm *vm = fixture_vm_create();
	const uint8_t *rsdp, *xsdt, *fadt, *dsdt;
	uint64_t rsdp_gpa, x;
	char *asl, want[160];
	uint32_t len;

	ck_assert_ptr_nonnull(vm);
	ck_assert_int_eq(acpi_setup(vm, BOOT_ACPI_GPA, &rsdp_gpa), 0);
	rsdp = vm_gpa_to_host(vm, rsdp_gpa, 36);
	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(sum(rsdp, 20), 0);
	ck_assert_uint_eq(sum(rsdp, 36), 0);
	memcpy(&x, rsdp + 24, 8);
	xsdt = table(vm, x, "XSDT");
	memcpy(&x, xsdt + 36, 8);
	fadt = table(vm, x, "FACP");
	memcpy(&x, xsdt + 44, 8);
	table(vm, x, "APIC");
	memcpy(&x, fadt + 140, 8);
	dsdt = table(vm, x, "DSDT");
	memcpy(&len, dsdt + 4, 4);

	asl = iasl_disassemble(dsdt, len);
	squeeze(asl);
	ck_assert_ptr_nonnull(strstr(asl, "Device (PCI0)"));
	ck_assert_ptr_nonnull(strstr(asl, "EisaId (\"PNP0A03\")"));
	ck_assert_ptr_nonnull(strstr(asl, "Device (COM1)"));
	ck_assert_ptr_nonnull(strstr(asl, "Name (_S5, Package (0x02)"));
	ck_assert_ptr_nonnull(strstr(asl, "WordBusNumber (ResourceProducer"));
	ck_assert_ptr_nonnull(strstr(asl, "IO (Decode16, 0x0CF8, // Range Minimum"));
	snprintf(want, sizeof(want), "0x%08llX, // Range Minimum",
		 (unsigned long long)vm->pci->mmio32.base);
	ck_assert_msg(strstr(asl, want), "no 32-bit window at %s in:\n%s", want, asl);
	snprintf(want, sizeof(want), "0x%016llX, // Range Minimum",
		 (unsigned long long)vm->pci->mmio64.base);
	ck_assert_msg(strstr(asl, want), "no 64-bit window at %s in:\n%s", want, asl);
	/* Not prefetchable: it holds non-prefetchable 64-bit BARs too. */
	ck_assert_ptr_nonnull(strstr(asl, "QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,"));
	free(asl);
	fixture_vm_destroy(vm);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("aml");

	tcase_add_test(tc, integers);
	tcase_add_test(tc, names);
	tcase_add_test(tc, pkglength);
	tcase_add_test(tc, resources);
	tcase_add_test(tc, tables_as_the_guest_sees_them);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_init("test_acpi", LOG_LVL_WARN);
	if (access(IASL, X_OK)) {
		printf("no %s (package acpica-tools) to decompile the DSDT with\n", IASL);
		return 77;
	}
	return fixture_run_suite(suite());
}
