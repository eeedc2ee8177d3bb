// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tiny guest: what `vmm run` hands a PVH kernel. hvm_start_info with the
 * command line and a memory map whose RAM covers the guest's own image,
 * and ACPI tables that Linux would accept: RSDP -> XSDT -> FADT (hardware
 * reduced, with a sleep register) -> DSDT (_S5_, COM1, PCI0) and the MADT,
 * every one with a valid checksum. Prints the command line for the test.
 */
#include "rt.h"

#define FADT_HW_REDUCED	(1u << 20)

struct sdt {
	char sig[4];
	uint32_t len;
	uint8_t rev, csum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static bool same(const char *a, const char *b, unsigned int n)
{
	while (n--)
		if (*a++ != *b++)
			return false;
	return true;
}

static uint8_t sum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s += *b++;
	return s;
}

static bool contains(const uint8_t *p, uint32_t len, const char *what)
{
	for (uint32_t i = 0; i + 4 <= len; i++)
		if (same((const char *)p + i, what, 4))
			return true;
	return false;
}

static const struct sdt *table(uint64_t gpa, const char *sig)
{
	const struct sdt *t = (const struct sdt *)(uint32_t)gpa;

	guest_check(gpa && gpa < 0x100000, "ACPI table outside low memory");
	guest_check(same(t->sig, sig, 4), "ACPI table signature");
	guest_check(sum(t, t->len) == 0, "ACPI table checksum");
	return t;
}

static void check_memmap(void)
{
	const struct hvm_memmap_entry *m =
		(const struct hvm_memmap_entry *)(uint32_t)guest_start_info->memmap_paddr;
	bool covered = false;

	guest_check(guest_start_info->memmap_entries >= 2, "memory map too short");
	for (uint32_t i = 0; i < guest_start_info->memmap_entries; i++)
		if (m[i].type == HVM_MEMMAP_TYPE_RAM && m[i].addr <= 0x100000 &&
		    m[i].addr + m[i].size >= 0x200000)
			covered = true;
	guest_check(covered, "no RAM entry covers the image at 1 MiB");
	guest_ok("memory map");
}

static void check_acpi(void)
{
	const uint8_t *rsdp = (const uint8_t *)(uint32_t)guest_start_info->rsdp_paddr;
	const struct sdt *xsdt, *fadt = 0, *dsdt;
	const uint8_t *body;
	bool madt = false;
	uint64_t x;

	guest_check(rsdp && same((const char *)rsdp, "RSD PTR ", 8), "no RSDP");
	guest_check(sum(rsdp, 20) == 0 && sum(rsdp, 36) == 0, "RSDP checksum");
	__builtin_memcpy(&x, rsdp + 24, 8);
	xsdt = table(x, "XSDT");
	for (uint32_t off = sizeof(*xsdt); off + 8 <= xsdt->len; off += 8) {
		const struct sdt *t;

		__builtin_memcpy(&x, (const uint8_t *)xsdt + off, 8);
		t = (const struct sdt *)(uint32_t)x;
		if (same(t->sig, "FACP", 4))
			fadt = table(x, "FACP");
		else if (same(t->sig, "APIC", 4))
			madt = table(x, "APIC") != 0;
	}
	guest_check(fadt && madt, "XSDT lacks the FADT or the MADT");
	body = (const uint8_t *)fadt;
	__builtin_memcpy(&x, body + 112, 4);
	guest_check((uint32_t)x & FADT_HW_REDUCED, "FADT is not hardware-reduced");
	guest_check(body[244] == 1 && body[248] == 0xc0 && body[249] == 0x03,
		    "FADT sleep control register is not I/O port 0x3c0");
	__builtin_memcpy(&x, body + 140, 8);
	dsdt = table(x, "DSDT");
	body = (const uint8_t *)dsdt;
	guest_check(contains(body, dsdt->len, "_S5_"), "DSDT has no _S5_");
	guest_check(contains(body, dsdt->len, "COM1"), "DSDT has no COM1");
	guest_check(contains(body, dsdt->len, "PCI0"), "DSDT has no PCI0");
	guest_ok("acpi tables");
}

void guest_main(void)
{
	guest_check(guest_start_info->cmdline_paddr, "no command line");
	guest_puts("tiny: cmdline [");
	guest_puts((const char *)(uint32_t)guest_start_info->cmdline_paddr);
	guest_puts("]\n");
	check_memmap();
	check_acpi();
}
