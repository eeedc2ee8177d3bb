// SPDX-License-Identifier: GPL-2.0-only
/* vmm: a minimal KVM virtual machine monitor. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/log.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/legacy.h"
#include "vmm/pci.h"
#include "vmm/serial.h"
#include "vmm/vcpu.h"
#include "vmm/vhost_user_blk.h"
#include "vmm/vm.h"

#define PROG		"vmm"
#define EXIT_USAGE	2
#define DEFAULT_CMDLINE	"console=ttyS0 reboot=k panic=-1"
#define MEM_MIN_MIB	16
#define MEM_MAX_MIB	(1024 * 1024)
#define MAX_BLK_DEVS	8

struct run_opts {
	unsigned int mem_mib;
	unsigned int cpus;
	const char *initrd;
	const char *params;
	const char *serial_file;	/* NULL: stdout */
	const char *kernel;
	const char *blk_socks[MAX_BLK_DEVS];
	unsigned int nblk;
};

/* What vmm_run builds and tears down, in reverse order. */
struct vmm {
	struct vm vm;
	pthread_t signal_thread;
	bool signal_thread_started;
	struct serial *serial;
	struct vhost_user_blk *blk[MAX_BLK_DEVS];
	unsigned int nblk;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " run [OPTIONS] KERNEL\n"
		"       " PROG " --help | --version\n"
		"Boot KERNEL, an ELF vmlinux with a PVH entry note, or a bzImage,\n"
		"in a KVM VM.\n"
		"\n"
		"  -m, --mem MiB         guest RAM (default 256, %d..%d)\n"
		"  -c, --cpus N          vCPUs (default 1, at most %d)\n"
		"  -i, --initrd PATH     initial ramdisk\n"
		"  -p, --params STR      appended to the kernel command line\n"
		"                        (\"" DEFAULT_CMDLINE "\")\n"
		"      --serial stdout|file=PATH\n"
		"                        where the console goes (default stdout);\n"
		"                        console input is read from stdin\n"
		"      --vhost-user-blk SOCK\n"
		"                        a virtio-blk disk served by the vhost-user\n"
		"                        back-end listening on SOCK (repeatable, at\n"
		"                        most %d; /dev/vda, vdb, ... in order)\n"
		"  -h, --help            show this help\n"
		"      --version         show the version\n"
		"\n"
		"The guest's poweroff and reboot end the vmm with status 0, as do\n"
		"SIGTERM and SIGINT; a vCPU fault or KVM error ends it with 1.\n"
		"A vhost-user back-end that goes away is reconnected to every second\n"
		"(one that connects but fails: backing off to every 16 s); the guest's\n"
		"I/O waits meanwhile.\n",
		MEM_MIN_MIB, MEM_MAX_MIB, VM_MAX_CPUS, MAX_BLK_DEVS);
}

static int parse_serial(const char *arg, struct run_opts *o)
{
	if (!strcmp(arg, "stdout")) {
		o->serial_file = NULL;
		return 0;
	}
	if (!strncmp(arg, "file=", 5) && arg[5]) {
		o->serial_file = arg + 5;
		return 0;
	}
	fprintf(stderr, PROG ": --serial: '%s' is neither stdout nor file=PATH\n", arg);
	return -1;
}

static int add_blk(const char *arg, struct run_opts *o)
{
	if (!*arg) {
		fprintf(stderr, PROG ": --vhost-user-blk: empty socket path\n");
		return -1;
	}
	if (o->nblk == MAX_BLK_DEVS) {
		fprintf(stderr, PROG ": --vhost-user-blk '%s': at most %d disks\n",
			arg, MAX_BLK_DEVS);
		return -1;
	}
	o->blk_socks[o->nblk++] = arg;
	return 0;
}

static void print_version(void)
{
	printf(PROG " " VVU_VERSION "\n");
}

static int parse_run_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "params", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 's' },
		{ "vhost-user-blk", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c, r = 0;

	while (!r && (c = getopt_long(argc, argv, "m:c:i:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': r = cli_parse_uint(PROG, "mem", optarg, MEM_MIN_MIB, MEM_MAX_MIB, &o->mem_mib); break;
		case 'c': r = cli_parse_uint(PROG, "cpus", optarg, 1, VM_MAX_CPUS, &o->cpus); break;
		case 'i': o->initrd = optarg; break;
		case 'p': o->params = optarg; break;
		case 's': r = parse_serial(optarg, o); break;
		case 'b': r = add_blk(optarg, o); break;
		case 'h': usage(stdout); return 1;
		case 'V': print_version(); return 1;
		default: r = -1; break;
		}
	}
	if (!r && optind != argc - 1) {
		fprintf(stderr, PROG " run: %s\n", optind >= argc ?
			"no KERNEL given" : "more than one KERNEL given");
		r = -1;
	}
	if (r) {
		fprintf(stderr, "Try '" PROG " run --help' for more information.\n");
		return -1;
	}
	o->kernel = argv[optind];
	return 0;
}

/* What the signal thread waits for; every other thread blocks them. */
#define SIGNAL_THREAD_STOP	SIGUSR2

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGNAL_THREAD_STOP);
}

/*
 * SIGTERM and SIGINT end the VM cleanly; a second one while it is ending
 * ends the vmm at once. SIGNAL_THREAD_STOP, from main, ends the thread.
 */
static void *signal_thread(void *arg)
{
	unsigned int n = 0;
	sigset_t set;
	int sig;

	signal_set(&set);
	while (!sigwait(&set, &sig) && sig != SIGNAL_THREAD_STOP) {
		if (n++) {
			pr_err("%s again: exiting now", strsignal(sig));
			_exit(1);
		}
		/* First the exit: a log line may wait on a full stderr. */
		vm_request_exit(arg, 0);
		pr_info("%s: stopping the VM", strsignal(sig));
	}
	return NULL;
}

static int open_console(const struct run_opts *o)
{
	int fd;

	if (!o->serial_file)
		return STDOUT_FILENO;
	fd = open(o->serial_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		pr_err("--serial file=%s: %m", o->serial_file);
	return fd;
}

/* The PCI bus and its devices, before ACPI describes the bus. */
static int devices_create(struct vmm *m, const struct run_opts *o)
{
	int r = pci_bus_create(&m->vm);

	for (unsigned int i = 0; !r && i < o->nblk; i++) {
		m->blk[i] = vhost_user_blk_create(&m->vm, o->blk_socks[i], -1);
		if (!m->blk[i])
			r = -1;
		else
			m->nblk++;
	}
	return r;
}

static void devices_destroy(struct vmm *m)
{
	for (unsigned int i = 0; i < m->nblk; i++)
		vhost_user_blk_destroy(m->blk[i]);
	m->nblk = 0;
	pci_bus_destroy(&m->vm);
}

static int vm_setup_and_boot(struct vmm *m, const struct run_opts *o, int out_fd)
{
	struct vm *vm = &m->vm;
	char *cmdline = NULL;
	struct boot_params_in in = { .kernel = o->kernel, .initrd = o->initrd };
	int r;

	if (vm_create(vm, o->mem_mib, o->cpus) || vcpus_create(vm) ||
	    legacy_setup(vm) || devices_create(m, o) ||
	    acpi_setup(vm, BOOT_ACPI_GPA, &in.rsdp_gpa))
		return -1;
	/* Console input from a terminal or a pipe, not from a file or /dev/null. */
	m->serial = serial_create(vm, out_fd, isatty(STDIN_FILENO) ||
				  lseek(STDIN_FILENO, 0, SEEK_CUR) < 0 ? STDIN_FILENO : -1);
	if (!m->serial)
		return -1;
	if (asprintf(&cmdline, "%s%s%s", DEFAULT_CMDLINE, o->params ? " " : "",
		     o->params ? o->params : "") < 0)
		return -1;
	in.cmdline = cmdline;
	r = boot_kernel(vm, &in);
	free(cmdline);
	return r;
}

static int vmm_run(const struct run_opts *o)
{
	struct vmm m = { 0 };
	sigset_t set;
	int out_fd, status = 1;

	/* Only the signal thread takes SIGTERM/SIGINT; others inherit the mask. */
	signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	out_fd = open_console(o);
	if (out_fd < 0)
		return 1;
	if (!vm_setup_and_boot(&m, o, out_fd) &&
	    !pthread_create(&m.signal_thread, NULL, signal_thread, &m.vm)) {
		m.signal_thread_started = true;
		if (!vm_start_device_thread(&m.vm) && !vcpus_start(&m.vm))
			status = vm_wait_exit(&m.vm);
	}
	vm_request_exit(&m.vm, status);
	vcpus_join(&m.vm);
	if (m.signal_thread_started) {
		pthread_kill(m.signal_thread, SIGNAL_THREAD_STOP);
		pthread_join(m.signal_thread, NULL);
	}
	/* No device callback may run while the devices go. */
	vm_stop_device_thread(&m.vm);
	devices_destroy(&m);
	serial_free(m.serial);
	vcpus_destroy(&m.vm);
	vm_destroy(&m.vm);
	if (out_fd != STDOUT_FILENO)
		close(out_fd);
	return status;
}

int main(int argc, char **argv)
{
	struct run_opts o = { .mem_mib = 256, .cpus = 1 };
	int r;

	log_init(PROG, LOG_LVL_INFO);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		print_version();
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "run")) {
		fprintf(stderr, PROG ": %s%s%s\nTry '" PROG " --help'.\n",
			argc < 2 ? "no command given" : "unknown command '",
			argc < 2 ? "" : argv[1], argc < 2 ? "" : "'");
		return EXIT_USAGE;
	}
	/* getopt's messages start with argv[0]: "vmm run: ...". */
	argv[1] = (char[]){ PROG " run" };
	r = parse_run_args(argc - 1, argv + 1, &o);
	if (r)
		return r < 0 ? EXIT_USAGE : 0;
	return vmm_run(&o);
}
