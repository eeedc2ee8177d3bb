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
#include "vmm/proxyd.h"
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
#define MAX_PROXY_DEVS	8

struct run_opts {
	unsigned int mem_mib;
	unsigned int cpus;
	const char *initrd;
	const char *params;
	const char *serial_file;	/* NULL: stdout */
	const char *kernel;
	const char *blk_socks[MAX_BLK_DEVS];
	unsigned int nblk;
	struct proxyd_opts proxies[MAX_PROXY_DEVS];
	unsigned int nproxy;
};

/* What vmm_run builds and tears down, in reverse order. */
struct vmm {
	struct vm vm;
	pthread_t signal_thread;
	bool signal_thread_started;
	struct serial *serial;
	struct vhost_user_blk *blk[MAX_BLK_DEVS];
	unsigned int nblk;
	struct proxyd *proxy[MAX_PROXY_DEVS];
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
		"      --vvu-proxy SOCK[,addr=[DDDD:]BB:DD.F][,shm=SIZE][,uuid=UUID][,proxyd=CTRL]\n"
		"                        a vvu-proxy PCI device (repeatable, at most %d)\n"
		"                        serving the vhost-user socket SOCK to a sibling\n"
		"                        VM; its model is a vvu-proxyd process. addr: its\n"
		"                        PCI address, domain 0000, bus 00, function 0,\n"
		"                        device 01..1f (default: the first free slot).\n"
		"                        The vmm starts vvu-proxyd --socket SOCK (found\n"
		"                        beside the vmm, in its build tree, or on PATH;\n"
		"                        $VVU_PROXYD overrides) with shm= (the shared-\n"
		"                        memory BAR: a power of two, K/M/G/T suffixes) and\n"
		"                        uuid=, and stops it when the VM ends; or, with\n"
		"                        proxyd=CTRL, connects to the control socket of a\n"
		"                        running vvu-proxyd (which has its own shm and uuid)\n"
		"  -h, --help            show this help\n"
		"      --version         show the version\n"
		"\n"
		"The guest's poweroff and reboot end the vmm with status 0, as do\n"
		"SIGTERM and SIGINT; a vCPU fault or KVM error ends it with 1.\n"
		"A vhost-user back-end that goes away is reconnected to every second\n"
		"(one that connects but fails: backing off to every 16 s); the guest's\n"
		"I/O waits meanwhile. A vvu-proxyd that exits, hangs or breaks the\n"
		"device channel leaves its device dead (reading all ones) and the VM\n"
		"running.\n",
		MEM_MIN_MIB, MEM_MAX_MIB, VM_MAX_CPUS, MAX_BLK_DEVS, MAX_PROXY_DEVS);
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

static int add_proxy(const char *arg, struct run_opts *o)
{
	struct proxyd_opts *p = &o->proxies[o->nproxy];

	if (o->nproxy == MAX_PROXY_DEVS) {
		fprintf(stderr, PROG ": --vvu-proxy '%s': at most %d devices\n",
			arg, MAX_PROXY_DEVS);
		return -1;
	}
	if (proxyd_parse(PROG, arg, p))
		return -1;
	o->nproxy++;
	for (unsigned int i = 0; i + 1 < o->nproxy; i++) {
		if (p->slot >= 0 && o->proxies[i].slot == p->slot) {
			fprintf(stderr, PROG ": --vvu-proxy '%s': slot %02x is taken by '%s'\n",
				arg, p->slot, o->proxies[i].arg);
			return -1;
		}
	}
	return 0;
}

static void free_proxies(struct run_opts *o)
{
	for (unsigned int i = 0; i < o->nproxy; i++)
		proxyd_opts_free(&o->proxies[i]);
	o->nproxy = 0;
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
		{ "vvu-proxy", required_argument, NULL, 'P' },
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
		case 'P': r = add_proxy(optarg, o); break;
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

/* vvu-proxy devices with (fixed true) or without an address of their own. */
static int proxies_create(struct vmm *m, const struct run_opts *o, bool fixed)
{
	for (unsigned int i = 0; i < o->nproxy; i++) {
		if ((o->proxies[i].slot >= 0) != fixed)
			continue;
		m->proxy[i] = proxyd_create(&m->vm, &o->proxies[i]);
		if (!m->proxy[i])
			return -1;
	}
	return 0;
}

/*
 * The PCI bus and its devices, before ACPI describes the bus; devices with
 * an address first, so the others cannot take it.
 */
static int devices_create(struct vmm *m, const struct run_opts *o)
{
	int r = pci_bus_create(&m->vm);

	if (!r)
		r = proxies_create(m, o, true);
	for (unsigned int i = 0; !r && i < o->nblk; i++) {
		m->blk[i] = vhost_user_blk_create(&m->vm, o->blk_socks[i], -1);
		if (!m->blk[i])
			r = -1;
		else
			m->nblk++;
	}
	if (!r)
		r = proxies_create(m, o, false);
	return r;
}

static void devices_destroy(struct vmm *m)
{
	for (unsigned int i = 0; i < m->nblk; i++)
		vhost_user_blk_destroy(m->blk[i]);
	m->nblk = 0;
	for (unsigned int i = 0; i < MAX_PROXY_DEVS; i++) {
		proxyd_destroy(m->proxy[i]);
		m->proxy[i] = NULL;
	}
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
	if (!r)
		r = vmm_run(&o);
	else
		r = r < 0 ? EXIT_USAGE : 0;
	free_proxies(&o);
	return r;
}
