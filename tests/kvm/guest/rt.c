// SPDX-License-Identifier: GPL-2.0-only
/* Runtime of the tiny test guests; see rt.h. */
#include "rt.h"

#define COM1		0x3f8
#define UART_LSR	5
#define UART_LSR_THRE	0x20
#define ACPI_SLEEP_PORT	0x3c0	/* vmm/acpi.h */
#define ACPI_SLP_S5	((5 << 2) | (1 << 5))	/* SLP_TYP 5, SLP_EN */
#define LAPIC_BASE	0xfee00000u
#define LAPIC_EOI	0xb0
#define LAPIC_SVR	0xf0
#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc

/* The note `vmm run` looks for: the 32-bit entry point. */
__asm__(".pushsection .note.pvh, \"a\", @note\n"
	".balign 4\n"
	".long 4, 4, " "18" "\n"	/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	".asciz \"Xen\"\n"
	".long _start\n"
	".popsection\n");
_Static_assert(XEN_ELFNOTE_PHYS32_ENTRY == 18, "the note above says 18");

/* Flat 4 GiB code (0x08) and data (0x10) segments. */
static const uint64_t gdt[3] __attribute__((aligned(8))) = {
	0,
	0x00cf9a000000ffffull,
	0x00cf92000000ffffull,
};

static struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) gdtr __attribute__((used)) = { sizeof(gdt) - 1, (uint32_t)gdt };

static uint64_t idt[256] __attribute__((aligned(8)));

static struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) idtr __attribute__((used)) = { sizeof(idt) - 1, (uint32_t)idt };

static uint8_t stack[8192] __attribute__((aligned(16), used));

const struct hvm_start_info *guest_start_info;

/* What the two stubs call. */
guest_irq_fn guest_irq_c, guest_stray_c;
void guest_irq_stub(void);
void guest_stray_stub(void);

/*
 * Interrupt gate entry: save registers, call the C handler, then return
 * like IRET would (same privilege: pop EIP, CS, EFLAGS) using POPF and RET,
 * which the emulator handles. The frame [EIP, CS, EFLAGS] is rearranged to
 * [EFLAGS, EIP] first.
 */
#define IRQ_STUB(name, fn)						\
	__asm__(".text\n"						\
		".globl " #name "\n"					\
		#name ":\n"						\
		"	pushal\n"					\
		"	cld\n"						\
		"	call *" #fn "\n"				\
		"	popal\n"					\
		"	push %eax\n"					\
		"	mov 12(%esp), %eax\n"				\
		"	mov %eax, 8(%esp)\n"				\
		"	mov 4(%esp), %eax\n"				\
		"	mov %eax, 12(%esp)\n"				\
		"	pop %eax\n"					\
		"	add $4, %esp\n"					\
		"	popf\n"						\
		"	ret\n")

IRQ_STUB(guest_irq_stub, guest_irq_c);
IRQ_STUB(guest_stray_stub, guest_stray_c);

void guest_start(uint32_t start_info);

/* PVH entry: flat protected mode, paging off, EBX = hvm_start_info. */
__asm__(".section .text.entry, \"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"	cli\n"
	"	lgdt gdtr\n"
	"	ljmp $0x08, $1f\n"
	"1:	mov $0x10, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	mov %ax, %ss\n"
	"	mov %ax, %fs\n"
	"	mov %ax, %gs\n"
	"	mov $stack + 8192, %esp\n"
	"	push %ebx\n"
	"	call guest_start\n"
	"2:	hlt\n"
	"	jmp 2b\n"
	".text\n");

static void serial_putc(char c)
{
	/* The vmm's UART is always ready; the check keeps this honest. */
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1, (uint8_t)c);
}

void guest_puts(const char *s)
{
	for (; *s; s++)
		serial_putc(*s);
}

void guest_puthex(uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[11] = "0x";

	for (int i = 0; i < 8; i++)
		buf[2 + i] = digits[(v >> (28 - 4 * i)) & 0xf];
	buf[10] = 0;
	guest_puts(buf);
}

void guest_ok(const char *what)
{
	guest_puts("tiny: ");
	guest_puts(what);
	guest_puts(" ok\n");
}

void guest_poweroff(void)
{
	outb(ACPI_SLEEP_PORT, ACPI_SLP_S5);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_fail(const char *why)
{
	guest_puts("tiny: FAIL ");
	guest_puts(why);
	guest_puts("\n");
	guest_poweroff();
}

static uint64_t gate(void (*stub)(void))
{
	uint32_t a = (uint32_t)stub;

	/* 32-bit interrupt gate, present, DPL 0, selector 0x08. */
	return (a & 0xffffu) | (0x08ull << 16) | (0x8eull << 40) |
	       ((uint64_t)(a >> 16) << 48);
}

void guest_set_irq_handler(uint8_t vec, guest_irq_fn handler, guest_irq_fn stray)
{
	guest_irq_c = handler;
	guest_stray_c = stray;
	for (unsigned int i = 0; i < 256; i++)
		idt[i] = gate(i == vec ? guest_irq_stub : guest_stray_stub);
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

static volatile uint32_t *irq_count, *stray_count;

static void count_irq(void)
{
	(*irq_count)++;
	lapic_eoi();
}

static void count_stray(void)
{
	(*stray_count)++;
	lapic_eoi();
}

void guest_count_irqs(uint8_t vec, volatile uint32_t *count, volatile uint32_t *stray)
{
	irq_count = count;
	stray_count = stray;
	guest_set_irq_handler(vec, count_irq, count_stray);
}

void lapic_enable(void)
{
	R32(LAPIC_BASE + LAPIC_SVR) = 0x1ff;	/* software enable, spurious 0xff */
}

void lapic_eoi(void)
{
	R32(LAPIC_BASE + LAPIC_EOI) = 0;
}

static void pci_select(uint8_t devfn, uint8_t off)
{
	outl(PCI_ADDR, 0x80000000u | ((uint32_t)devfn << 8) | (off & 0xfcu));
}

uint32_t pci_read32(uint8_t devfn, uint8_t off)
{
	pci_select(devfn, off);
	return inl(PCI_DATA);
}

uint16_t pci_read16(uint8_t devfn, uint8_t off)
{
	pci_select(devfn, off);
	return inw((uint16_t)(PCI_DATA + (off & 2)));
}

uint8_t pci_read8(uint8_t devfn, uint8_t off)
{
	pci_select(devfn, off);
	return inb((uint16_t)(PCI_DATA + (off & 3)));
}

void pci_write32(uint8_t devfn, uint8_t off, uint32_t v)
{
	pci_select(devfn, off);
	outl(PCI_DATA, v);
}

void pci_write16(uint8_t devfn, uint8_t off, uint16_t v)
{
	pci_select(devfn, off);
	outw((uint16_t)(PCI_DATA + (off & 2)), v);
}

int pci_find(uint16_t vendor, uint16_t device)
{
	uint32_t id = vendor | (uint32_t)device << 16;

	for (unsigned int slot = 0; slot < 32; slot++)
		if (pci_read32((uint8_t)(slot << 3), 0) == id)
			return (int)(slot << 3);
	return -1;
}

void guest_start(uint32_t start_info)
{
	guest_start_info = (const struct hvm_start_info *)start_info;
	guest_check(guest_start_info->magic == HVM_START_MAGIC,
		    "EBX does not point to hvm_start_info");
	guest_main();
	guest_puts("tiny: PASS\n");
	guest_poweroff();
}
