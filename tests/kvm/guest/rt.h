/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Runtime of the tiny test guests (kvm-unit-tests style) that `vmm run`
 * boots like a kernel: an ELF with a PVH entry note, entered in flat 32-bit
 * protected mode with hvm_start_info in EBX. It gives them the serial
 * console, poweroff through the ACPI sleep register, an IDT, the local APIC
 * and PCI configuration mechanism #1.
 *
 * Kept tiny: on the project's machines guest ring-0 code is emulated at
 * about 1.5 million instructions a second.
 *
 * A guest reports "tiny: PASS" or "tiny: FAIL <why>" and powers off; the
 * test script reads the console.
 */
#ifndef TESTS_KVM_GUEST_RT_H
#define TESTS_KVM_GUEST_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/pvh.h"

extern const struct hvm_start_info *guest_start_info;

/*
 * An interrupt handler: plain C, called from an assembly stub with
 * interrupts off. The stub returns without IRET, which KVM's instruction
 * emulator (all ring-0 code runs through it on this host) only implements
 * for real mode.
 */
typedef void (*guest_irq_fn)(void);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void guest_sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void guest_cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/*
 * Bounded waiting for the host side (a back-end, maybe an ASan build under
 * nested KVM on a loaded machine) without a clock: each step is a VM exit
 * to the vmm (a read of the UART's line status), microseconds on hardware
 * and far longer nested, so GUEST_WAIT_STEPS is 20 s or more anywhere. The
 * TSC will not do: under nested KVM on TCG it jumps, and cut a wait short.
 */
#define GUEST_WAIT_STEPS	10000000u

static inline void guest_wait_step(void)
{
	(void)inb(0x3f8 + 5);
}

/* Halts until an interrupt; sti's one-instruction shadow makes it race-free. */
static inline void guest_wait_irq(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#define R8(a)	(*(volatile uint8_t *)(uintptr_t)(a))
#define R16(a)	(*(volatile uint16_t *)(uintptr_t)(a))
#define R32(a)	(*(volatile uint32_t *)(uintptr_t)(a))

void guest_puts(const char *s);
void guest_puthex(uint32_t v);
/* "tiny: <what> ok" */
void guest_ok(const char *what);
/* "tiny: FAIL <why>", then poweroff. */
__attribute__((noreturn)) void guest_fail(const char *why);
#define guest_check(cond, why)	do { if (!(cond)) guest_fail(why); } while (0)
/* ACPI S5 through the sleep control register the FADT names. */
__attribute__((noreturn)) void guest_poweroff(void);

/* Vector vec gets handler; every other vector gets stray. */
void guest_set_irq_handler(uint8_t vec, guest_irq_fn handler, guest_irq_fn stray);
/* Handlers that count the interrupts at vec, and the others, and EOI them. */
void guest_count_irqs(uint8_t vec, volatile uint32_t *count, volatile uint32_t *stray);
void lapic_enable(void);
void lapic_eoi(void);

/* PCI configuration mechanism #1 on bus 0; devfn = slot << 3 | function. */
uint32_t pci_read32(uint8_t devfn, uint8_t off);
uint16_t pci_read16(uint8_t devfn, uint8_t off);
uint8_t pci_read8(uint8_t devfn, uint8_t off);
void pci_write32(uint8_t devfn, uint8_t off, uint32_t v);
void pci_write16(uint8_t devfn, uint8_t off, uint16_t v);
/* devfn of the first function with this vendor:device, or -1. */
int pci_find(uint16_t vendor, uint16_t device);

/* The test's entry point; returning means PASS. */
void guest_main(void);

#endif /* TESTS_KVM_GUEST_RT_H */
