// SPDX-License-Identifier: GPL-2.0-only
/* The GSI routing table and legacy interrupt lines; see irq.h. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

/* KVM_MAX_IRQ_ROUTES is 4096; the vmm needs far fewer. */
#define IRQ_MAX_ROUTES		1024
#define IRQ_PIC_PINS		16
#define IRQ_IOAPIC_PINS		24

static struct kvm_irq_routing_entry *irq_entry_add(struct irq_routing *r)
{
	struct kvm_irq_routing *t = r->table;

	if (t->nr == r->cap) {
		unsigned int cap = r->cap * 2;

		if (cap > IRQ_MAX_ROUTES)
			return NULL;
		t = realloc(t, sizeof(*t) + cap * sizeof(t->entries[0]));
		if (!t)
			return NULL;
		r->table = t;
		r->cap = cap;
	}
	memset(&t->entries[t->nr], 0, sizeof(t->entries[0]));
	return &t->entries[t->nr++];
}

static void irq_add_irqchip(struct irq_routing *r, uint32_t gsi,
			    uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = irq_entry_add(r);

	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

static int irq_push(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->irq.table) < 0) {
		pr_err("KVM_SET_GSI_ROUTING (%u routes): %m", vm->irq.table->nr);
		return -errno;
	}
	return 0;
}

int irq_routing_init(struct vm *vm)
{
	struct irq_routing *r = &vm->irq;

	pthread_mutex_init(&r->lock, NULL);
	r->cap = 64;
	r->table = calloc(1, sizeof(*r->table) + r->cap * sizeof(r->table->entries[0]));
	if (!r->table)
		return -ENOMEM;
	for (uint32_t pin = 0; pin < IRQ_IOAPIC_PINS; pin++) {
		irq_add_irqchip(r, pin, KVM_IRQCHIP_IOAPIC, pin);
		if (pin < IRQ_PIC_PINS)
			irq_add_irqchip(r, pin, pin < 8 ? KVM_IRQCHIP_PIC_MASTER
						     : KVM_IRQCHIP_PIC_SLAVE, pin % 8);
	}
	r->next_gsi = IRQ_FIRST_MSI_GSI;
	return irq_push(vm);
}

void irq_routing_destroy(struct vm *vm)
{
	if (!vm->irq.table)
		return;
	free(vm->irq.table);
	vm->irq.table = NULL;
	pthread_mutex_destroy(&vm->irq.lock);
}

int irq_alloc_gsi(struct vm *vm)
{
	int gsi = -ENOSPC;

	pthread_mutex_lock(&vm->irq.lock);
	if (vm->irq.next_gsi < IRQ_MAX_ROUTES)
		gsi = (int)vm->irq.next_gsi++;
	pthread_mutex_unlock(&vm->irq.lock);
	return gsi;
}

int irq_set_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = &vm->irq;
	struct kvm_irq_routing_entry *e = NULL;
	int ret;

	if (gsi < IRQ_FIRST_MSI_GSI)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < r->table->nr && !e; i++)
		if (r->table->entries[i].gsi == gsi)
			e = &r->table->entries[i];
	if (!e) {
		e = irq_entry_add(r);
		if (!e) {
			pthread_mutex_unlock(&r->lock);
			return -ENOSPC;
		}
	}
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = {
			.address_lo = (uint32_t)addr,
			.address_hi = (uint32_t)(addr >> 32),
			.data = data,
		},
	};
	ret = irq_push(vm);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_line(struct vm *vm, unsigned int irq, bool level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		pr_warn("KVM_IRQ_LINE %u: %m", irq);
}
