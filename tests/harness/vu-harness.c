// SPDX-License-Identifier: GPL-2.0-only
/* vu-harness: drives a vhost-user-blk back-end through one named scenario. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tests/harness/harness.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vu-harness --socket PATH --file DISK --scenario NAME\n"
		"                  [--backend-pid PID]... [--serial ID]\n"
		"Drives a vhost-user-blk back-end as a front-end would and checks\n"
		"what it does. DISK is the back-end's disk file, read on the host\n"
		"to check writes landed. With --backend-pid (up to twice: the\n"
		"back-end and a vvu-proxyd in front of it), bad-input scenarios\n"
		"also check each stays alive and leaks no fd.\n"
		"Scenarios: io batch reconnect readonly multiqueue bad-all, and:\n");
	bad_scenario_list(out);
}

static int run_scenario(struct harness *h, const char *name)
{
	for (const struct scenario *s = io_scenarios; s->name; s++)
		if (!strcmp(s->name, name))
			return s->run(h);
	return bad_scenario_run(h, name);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "scenario", required_argument, NULL, 'n' },
		{ "backend-pid", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct harness h = { 0 };
	const char *scenario = NULL;
	int c, r;

	log_init("vu-harness", LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': h.sock = optarg; break;
		case 'f': h.file = optarg; break;
		case 'n': scenario = optarg; break;
		case 'p':
			if (h.npids == HARNESS_MAX_PIDS) {
				fprintf(stderr, "vu-harness: --backend-pid: at most %d\n",
					HARNESS_MAX_PIDS);
				return 2;
			}
			h.pids[h.npids++] = atoi(optarg);
			break;
		case 'i': h.serial = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!h.sock || !h.file || !scenario) {
		fprintf(stderr, "vu-harness: --socket, --file and --scenario are required\n");
		usage(stderr);
		return 2;
	}
	r = run_scenario(&h, scenario);
	if (r == -2) {
		fprintf(stderr, "vu-harness: unknown scenario '%s'\n", scenario);
		return 2;
	}
	printf("scenario %s: %s\n", scenario, r ? "FAILED" : "passed");
	return r ? 1 : 0;
}
