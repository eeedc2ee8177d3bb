/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interrupts into the in-kernel irqchip: the IOAPIC/PIC lines of legacy
 * devices, and the KVM GSI routing table that MSI-X vectors live in.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table the vmm pushes
 * always starts with KVM's default routes (GSI 0-15 to both the PIC and the
 * IOAPIC, 16-23 to the IOAPIC); MSI routes take GSIs from 24 up.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_irq_routing;

/* The first GSI past the IOAPIC's pins. */
#define IRQ_FIRST_MSI_GSI	24

/* MSI GSIs: as many as KVM's table has room for beside the default routes. */
#define IRQ_MAX_ROUTES		1024
#define IRQ_DEFAULT_ROUTES	40	/* 24 IOAPIC pins, 16 PIC pins */
#define IRQ_MSI_GSIS		(IRQ_MAX_ROUTES - IRQ_DEFAULT_ROUTES)

struct irq_routing {
	pthread_mutex_t lock;
	struct kvm_irq_routing *table;
	unsigned int cap;		/* entries table has room for */
	uint64_t msi_used[(IRQ_MSI_GSIS + 63) / 64];	/* GSI 24 + bit */
};

/* Pushes the default routes. 0 or -errno (logged). */
int irq_routing_init(struct vm *vm);
void irq_routing_destroy(struct vm *vm);

/* A GSI for one MSI vector, or -ENOSPC. */
int irq_alloc_gsi(struct vm *vm);
/* Gives gsi back and removes its route. */
void irq_free_gsi(struct vm *vm, uint32_t gsi);

/*
 * Routes gsi (from irq_alloc_gsi) to the MSI (addr, data). 0 or -errno; on
 * error the table is as it was.
 */
int irq_set_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);

/* Raises or lowers a line of the in-kernel PIC/IOAPIC. */
void irq_line(struct vm *vm, unsigned int irq, bool level);

#endif /* VMM_IRQ_H */
