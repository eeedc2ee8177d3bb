// SPDX-License-Identifier: GPL-2.0-only
/* The GSI routing table and legacy interrupt lines; see irq.h. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

#define IRQ_PIC_PINS		16
#define IRQ_IOAPIC_PINS		24
_Static_assert(IRQ_PIC_PINS + IRQ_IOAPIC_PINS == IRQ_DEFAULT_ROUTES, "irq.h");

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
	struct irq_routing *r = &vm->irq;
	int gsi = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < IRQ_MSI_GSIS; i++) {
		if (!(r->msi_used[i / 64] & (1ull << (i % 64)))) {
			r->msi_used[i / 64] |= 1ull << (i % 64);
			gsi = (int)(IRQ_FIRST_MSI_GSI + i);
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

static struct kvm_irq_routing_entry *irq_find(struct irq_routing *r, uint32_t gsi)
{
	for (unsigned int i = 0; i < r->table->nr; i++)
		if (r->table->entries[i].gsi == gsi)
			return &r->table->entries[i];
	return NULL;
}

void irq_free_gsi(struct vm *vm, uint32_t gsi)
{
	struct irq_routing *r = &vm->irq;
	struct kvm_irq_routing_entry *e;
	unsigned int i = gsi - IRQ_FIRST_MSI_GSI;

	if (gsi < IRQ_FIRST_MSI_GSI || i >= IRQ_MSI_GSIS)
		return;
	pthread_mutex_lock(&r->lock);
	e = irq_find(r, gsi);
	if (e) {
		*e = r->table->entries[--r->table->nr];
		irq_push(vm);
	}
	r->msi_used[i / 64] &= ~(1ull << (i % 64));
	pthread_mutex_unlock(&r->lock);
}

int irq_set_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = &vm->irq;
	struct kvm_irq_routing_entry *e, old;
	bool added = false;
	int ret;

	if (gsi < IRQ_FIRST_MSI_GSI)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	e = irq_find(r, gsi);
	if (!e) {
		e = irq_entry_add(r);
		added = true;
		if (!e) {
			pthread_mutex_unlock(&r->lock);
			return -ENOSPC;
		}
	}
	old = *e;
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
	if (ret && added)
		r->table->nr--;
	else if (ret)
		*e = old;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_line(struct vm *vm, unsigned int irq, bool level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		pr_warn("KVM_IRQ_LINE %u: %m", irq);
}
