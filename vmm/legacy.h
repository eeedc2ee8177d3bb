/* SPDX-License-Identifier: GPL-2.0-only */
/* Legacy PC ports: the i8042 reset line and the POST port. */
#ifndef VMM_LEGACY_H
#define VMM_LEGACY_H

struct vm;

int legacy_setup(struct vm *vm);

#endif /* VMM_LEGACY_H */
