/* SPDX-License-Identifier: GPL-2.0-only */
/* An 8250/16550A UART at 0x3f8, IRQ 4: the guest's console. */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H

struct vm;
struct serial;

/*
 * Registers COM1 on the VM's port bus. Output goes to out_fd; in_fd (or -1)
 * feeds the guest's input from a thread of its own. NULL on failure.
 */
struct serial *serial_create(struct vm *vm, int out_fd, int in_fd);
void serial_free(struct serial *s);

#endif /* VMM_SERIAL_H */
