// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 8250 UART, with as much of the 16550A as Linux's driver probes and
 * uses: FIFO detection, the loopback test, THRE and RX interrupts. Without
 * the THRE interrupt, the tty layer would stall after its first write.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/irq.h"
#include "vmm/serial.h"
#include "vmm/vm.h"

#define COM1_PORT	0x3f8
#define COM1_IRQ	4
#define RX_BUF		256
#define SERIAL_STALL_POLL_MS	100	/* how often a stalled console checks for exit */

/* Registers (offsets from the base) and their bits. */
#define UART_RX		0	/* read, DLAB 0 */
#define UART_TX		0	/* write, DLAB 0 */
#define UART_IER	1
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_IER_RDI	0x01
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_FIFO	0xc0
#define UART_FCR_FIFO	0x01
#define UART_LCR_DLAB	0x80
#define UART_MCR_LOOP	0x10
#define UART_LSR_DR	0x01
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MSR_IDLE	0xb0	/* DCD, DSR, CTS */

struct serial {
	struct vm *vm;
	pthread_mutex_t lock;
	int out_fd;
	int in_fd;
	int stop_fd;		/* eventfd: the input thread ends */
	pthread_t input;
	bool input_started;
	bool registered;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_pending;	/* THR empty, interrupt not yet acknowledged */
	bool thr_event;		/* THR emptied again since the line last rose */
	bool irq_level;
	uint8_t rx[RX_BUF];
	unsigned int rx_head, rx_count;
};

static uint8_t serial_iir(const struct serial *s)
{
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_pending)
		return UART_IIR_THRI;
	return UART_IIR_NO_INT;
}

/*
 * IRQ 4 is edge-triggered on the IOAPIC: a THR that empties again while the
 * line is still high must make a new edge, or the driver, which wrote the
 * FIFO inside its handler, would wait for an interrupt that never comes.
 */
static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir(s) != UART_IIR_NO_INT;

	if (level && s->irq_level && s->thr_event)
		irq_line(s->vm, COM1_IRQ, false);
	if (level != s->irq_level || (level && s->thr_event))
		irq_line(s->vm, COM1_IRQ, level);
	s->irq_level = level;
	s->thr_event = false;
}

/* In loopback mode the modem outputs come back as the modem inputs. */
static uint8_t serial_msr(const struct serial *s)
{
	if (!(s->mcr & UART_MCR_LOOP))
		return UART_MSR_IDLE;
	return ((s->mcr & 0x02) ? 0x10 : 0) | ((s->mcr & 0x01) ? 0x20 : 0) |
	       ((s->mcr & 0x04) ? 0x40 : 0) | ((s->mcr & 0x08) ? 0x80 : 0);
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB)
			return s->dll;
		if (!s->rx_count)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_BUF;
		s->rx_count--;
		return v;
	case UART_IER:
		return s->lcr & UART_LCR_DLAB ? s->dlm : s->ier;
	case UART_IIR:
		v = serial_iir(s);
		if (v == UART_IIR_THRI)
			s->thr_pending = false;	/* reading IIR acknowledges THRE */
		return v | ((s->fcr & UART_FCR_FIFO) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

/*
 * A console that stops reading (a full pipe, a terminal on ^S) holds the
 * guest's output, as a slow UART would, but never the VM's exit: the wait
 * gives up once the VM is ending. A console that fails is dropped.
 */
static void serial_out(struct serial *s, uint8_t c)
{
	struct pollfd p = { .fd = s->out_fd, .events = POLLOUT };
	ssize_t n;

	while (s->out_fd >= 0) {
		if (poll(&p, 1, SERIAL_STALL_POLL_MS) == 1) {
			n = write(s->out_fd, &c, 1);
			if (n == 1)
				return;
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			s->out_fd = -1;
		} else if (__atomic_load_n(&s->vm->exiting, __ATOMIC_ACQUIRE)) {
			return;
		}
	}
}

static void serial_tx(struct serial *s, uint8_t c)
{
	/* Loopback output goes nowhere. */
	if (!(s->mcr & UART_MCR_LOOP))
		serial_out(s, c);
	s->thr_pending = true;
	s->thr_event = true;
}

static void serial_write(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_TX:
		if (s->lcr & UART_LCR_DLAB)
			s->dll = v;
		else
			serial_tx(s, v);
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
			break;
		}
		if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			s->thr_pending = true;	/* THR is empty: say so */
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		s->fcr = v;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;
	}
}

static void serial_io(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len && offset + i < 8; i++) {
		if (is_write)
			serial_write(s, (unsigned int)(offset + i), data[i]);
		else
			data[i] = serial_read(s, (unsigned int)(offset + i));
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* Guest input: stdin until EOF, or until serial_free says stop. */
static void *serial_input_thread(void *arg)
{
	struct serial *s = arg;
	struct pollfd p[2] = {
		{ .fd = s->in_fd, .events = POLLIN },
		{ .fd = s->stop_fd, .events = POLLIN },
	};
	uint8_t buf[64];
	ssize_t n;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		n = read(s->in_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		pthread_mutex_lock(&s->lock);
		for (ssize_t i = 0; i < n && s->rx_count < RX_BUF; i++) {
			s->rx[(s->rx_head + s->rx_count) % RX_BUF] = buf[i];
			s->rx_count++;
		}
		serial_update_irq(s);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

struct serial *serial_create(struct vm *vm, int out_fd, int in_fd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->vm = vm;
	s->out_fd = out_fd;
	s->in_fd = in_fd;
	s->stop_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (io_bus_register(&vm->pio, COM1_PORT, 8, serial_io, s)) {
		pr_err("serial: port %#x is taken", COM1_PORT);
		serial_free(s);
		return NULL;
	}
	s->registered = true;
	if (in_fd < 0)
		return s;
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0 || pthread_create(&s->input, NULL, serial_input_thread, s)) {
		pr_err("serial: cannot start the console input thread");
		serial_free(s);
		return NULL;
	}
	s->input_started = true;
	return s;
}

/* After the vCPUs stopped: no port access can reach s any more. */
void serial_free(struct serial *s)
{
	if (!s)
		return;
	if (s->input_started) {
		if (eventfd_write(s->stop_fd, 1))
			pr_warn("serial: cannot stop the input thread: %m");
		else
			pthread_join(s->input, NULL);
	}
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->registered)
		io_bus_unregister(&s->vm->pio, COM1_PORT);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
