// SPDX-License-Identifier: GPL-2.0-only
/*
 * ACPI 6 tables for a hardware-reduced platform, as Cloud Hypervisor and
 * Firecracker give their guests: no PM1 blocks, no SCI, just a sleep control
 * register (FADT) and an _S5 object (DSDT) so "poweroff" has a way out, a
 * MADT so the guest finds its CPUs and the IOAPIC, and the PCI host bridge
 * and COM1 in the DSDT.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vmm/acpi.h"
#include "vmm/aml.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

#define ACPI_HW_REDUCED		(1u << 20)
#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_SLP_EN		(1u << 5)
#define ACPI_SLP_TYP_SHIFT	2
#define ACPI_SLP_TYP_MASK	7
#define ACPI_LAPIC_BASE		0xfee00000u
#define ACPI_IOAPIC_BASE	0xfec00000u
#define ACPI_TABLES_SIZE	0x10000

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

/* The FADT up to what a hardware-reduced guest reads (ACPI 6.x, 276 bytes). */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t facs;
	uint32_t dsdt;
	uint8_t legacy[68];		/* PM blocks, lengths, latencies: unused */
	uint32_t flags;			/* offset 112 */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;		/* offset 131 */
	uint64_t x_facs;
	uint64_t x_dsdt;		/* offset 140 */
	struct acpi_gas x_legacy[8];	/* X_PM1a_EVT_BLK .. X_GPE1_BLK */
	struct acpi_gas sleep_control;	/* offset 244 */
	struct acpi_gas sleep_status;	/* offset 256 */
	uint64_t hypervisor_id;		/* offset 268 */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT size");

struct madt_lapic {
	uint8_t type, length, processor_uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, ioapic_id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "VVU   ", 6);
	memcpy(h->oem_table_id, "VVUVMM  ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "VVU ", 4);
	h->creator_revision = 1;
}

static void acpi_finish(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

/* A bump allocator over the table area; 16-byte aligned pieces. */
struct acpi_area {
	uint8_t *host;
	uint64_t gpa;
	uint64_t used;
};

static void *acpi_alloc(struct acpi_area *a, uint64_t len, uint64_t *gpa)
{
	void *p = a->host + a->used;

	*gpa = a->gpa + a->used;
	a->used += (len + 15) & ~15ull;
	memset(p, 0, len);
	return p;
}

/*
 * The COM1 device: a hardware-reduced platform has no legacy IRQs, so the
 * UART's IRQ 4 only gets mapped through this device (Linux's 8250_pnp).
 */
static void dsdt_com1(struct aml *sb)
{
	struct aml dev, res;

	aml_init(&dev);
	aml_init(&res);
	aml_name(&dev, "_HID");
	aml_eisaid(&dev, "PNP0501");
	aml_name(&dev, "_UID");
	aml_integer(&dev, 0);
	aml_res_io(&res, 0x3f8, 8);
	aml_res_irq(&res, 4);
	aml_name(&dev, "_CRS");
	aml_resource_template(&dev, &res);
	aml_device(sb, "COM1", &dev);
	aml_free(&res);
	aml_free(&dev);
}

/*
 * The PCI host bridge, so Linux scans bus 0 through ACPI: its windows are
 * where the vmm put the BARs. A conventional PCI root needs no _OSC. The
 * 64-bit window is not called prefetchable (as QEMU's is not): it holds
 * non-prefetchable 64-bit BARs too, which Linux keeps out of such windows.
 */
static void dsdt_pci0(struct aml *sb, const struct pci_bus *bus)
{
	struct aml dev, res;

	aml_init(&dev);
	aml_init(&res);
	aml_name(&dev, "_HID");
	aml_eisaid(&dev, "PNP0A03");
	aml_name(&dev, "_UID");
	aml_integer(&dev, 0);
	aml_name(&dev, "_SEG");
	aml_integer(&dev, 0);
	aml_name(&dev, "_BBN");
	aml_integer(&dev, 0);
	aml_res_bus_numbers(&res, 0, 0);
	aml_res_io(&res, 0xcf8, 8);
	aml_res_mem32(&res, (uint32_t)bus->mmio32.base,
		      (uint32_t)(bus->mmio32.base + bus->mmio32.size - 1));
	if (bus->mmio64.size)
		aml_res_mem64(&res, bus->mmio64.base,
			      bus->mmio64.base + bus->mmio64.size - 1);
	aml_name(&dev, "_CRS");
	aml_resource_template(&dev, &res);
	aml_device(sb, "PCI0", &dev);
	aml_free(&res);
	aml_free(&dev);
}

/* \_S5 names the SLP_TYP of soft-off; \_SB holds the devices. */
int acpi_build_dsdt_aml(struct aml *dsdt, const struct pci_bus *bus)
{
	struct aml s5, sb;

	aml_init(&s5);
	aml_init(&sb);
	aml_integer(&s5, ACPI_S5_SLP_TYP);
	aml_integer(&s5, 0);
	aml_name(dsdt, "_S5_");
	aml_package(dsdt, 2, &s5);
	dsdt_com1(&sb);
	if (bus)
		dsdt_pci0(&sb, bus);
	aml_scope(dsdt, "_SB_", &sb);
	aml_free(&s5);
	aml_free(&sb);
	return dsdt->failed ? -ENOMEM : 0;
}

static uint64_t acpi_build_dsdt(struct acpi_area *a, const struct aml *aml)
{
	uint64_t gpa;
	struct acpi_header *h = acpi_alloc(a, sizeof(*h) + aml->len, &gpa);

	acpi_header_init(h, "DSDT", sizeof(*h) + aml->len, 6);
	memcpy(h + 1, aml->buf, aml->len);
	acpi_finish(h);
	return gpa;
}

static uint64_t acpi_build_fadt(struct acpi_area *a, uint64_t dsdt)
{
	const struct acpi_gas sleep = {
		.space_id = ACPI_GAS_SYSTEM_IO, .bit_width = 8, .access_size = 1,
		.address = ACPI_SLEEP_PORT,
	};
	uint64_t gpa;
	struct acpi_fadt *f = acpi_alloc(a, sizeof(*f), &gpa);

	acpi_header_init(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 3;
	f->flags = ACPI_HW_REDUCED;
	f->x_dsdt = dsdt;
	f->sleep_control = sleep;
	f->sleep_status = sleep;
	memcpy(&f->hypervisor_id, "VVUVMM  ", 8);
	acpi_finish(&f->h);
	return gpa;
}

static uint64_t acpi_build_madt(struct acpi_area *a, unsigned int ncpus)
{
	uint32_t len = sizeof(struct acpi_header) + 8 +
		       ncpus * sizeof(struct madt_lapic) + sizeof(struct madt_ioapic);
	uint64_t gpa;
	struct acpi_header *h = acpi_alloc(a, len, &gpa);
	uint32_t *lapic_addr = (uint32_t *)(h + 1);
	struct madt_lapic *l = (struct madt_lapic *)(lapic_addr + 2);
	struct madt_ioapic *io;

	acpi_header_init(h, "APIC", len, 5);
	lapic_addr[0] = ACPI_LAPIC_BASE;
	lapic_addr[1] = 1;		/* PCAT_COMPAT: there are 8259s too */
	for (unsigned int i = 0; i < ncpus; i++)
		l[i] = (struct madt_lapic){ 0, sizeof(*l), i, i, 1 /* enabled */ };
	io = (struct madt_ioapic *)&l[ncpus];
	*io = (struct madt_ioapic){ 1, sizeof(*io), 0, 0, ACPI_IOAPIC_BASE, 0 };
	acpi_finish(h);
	return gpa;
}

static uint64_t acpi_build_xsdt(struct acpi_area *a, const uint64_t *tables,
				unsigned int n)
{
	uint32_t len = sizeof(struct acpi_header) + n * sizeof(uint64_t);
	uint64_t gpa;
	struct acpi_header *h = acpi_alloc(a, len, &gpa);

	acpi_header_init(h, "XSDT", len, 1);
	memcpy(h + 1, tables, n * sizeof(uint64_t));
	acpi_finish(h);
	return gpa;
}

static void acpi_build_rsdp(struct acpi_rsdp *r, uint64_t xsdt)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, "VVU   ", 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = acpi_checksum(r, 20);
	r->extended_checksum = acpi_checksum(r, sizeof(*r));
}

/* SLP_EN with the _S5 type: power off. Other sleep states are not offered. */
static void acpi_sleep_io(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	(void)offset;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if ((data[0] & ACPI_SLP_EN) &&
	    ((data[0] >> ACPI_SLP_TYP_SHIFT) & ACPI_SLP_TYP_MASK) == ACPI_S5_SLP_TYP) {
		vm_request_exit(vm, 0);
		pr_info("guest powered off");
	}
}

int acpi_setup(struct vm *vm, uint64_t gpa, uint64_t *rsdp_gpa)
{
	struct acpi_area a = { vm_gpa_to_host(vm, gpa, ACPI_TABLES_SIZE), gpa, 0 };
	struct acpi_rsdp *rsdp;
	uint64_t tables[2];
	struct aml dsdt;
	int r;

	aml_init(&dsdt);
	r = acpi_build_dsdt_aml(&dsdt, vm->pci);
	if (!r && (!a.host || dsdt.len > ACPI_TABLES_SIZE / 2))
		r = -EINVAL;
	if (r) {
		pr_err("ACPI: cannot build the tables: %s", strerror(-r));
		aml_free(&dsdt);
		return r;
	}
	rsdp = acpi_alloc(&a, sizeof(*rsdp), rsdp_gpa);
	tables[0] = acpi_build_fadt(&a, acpi_build_dsdt(&a, &dsdt));
	aml_free(&dsdt);
	tables[1] = acpi_build_madt(&a, vm->ncpus);
	acpi_build_rsdp(rsdp, acpi_build_xsdt(&a, tables, 2));
	return io_bus_register(&vm->pio, ACPI_SLEEP_PORT, 1, acpi_sleep_io, vm);
}
