// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bits of a PC that Linux pokes at with nowhere else to go: the i8042's
 * reset line (reboot=k) and the POST port 0x80 it uses for I/O delays.
 */
#include <string.h>

#include "common/log.h"
#include "vmm/legacy.h"
#include "vmm/vm.h"

#define I8042_DATA		0x60
#define I8042_CMD		0x64
#define I8042_CMD_RESET		0xfe
#define POST_PORT		0x80

/* A controller with nothing to say: status 0 (buffers empty), data 0. */
static void i8042_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (offset == I8042_CMD - I8042_DATA && data[0] == I8042_CMD_RESET) {
		vm_request_exit(vm, 0);
		pr_info("guest reset through the i8042");
	}
}

static void post_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		    bool is_write)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		memset(data, 0, len);
}

int legacy_setup(struct vm *vm)
{
	int r = io_bus_register(&vm->pio, I8042_DATA, I8042_CMD - I8042_DATA + 1,
				i8042_io, vm);

	return r ? r : io_bus_register(&vm->pio, POST_PORT, 1, post_io, vm);
}
