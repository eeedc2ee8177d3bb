// SPDX-License-Identifier: GPL-2.0-only
/* --vvu-proxy's argument (proxyd.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/pci.h"
#include "vmm/proxyd.h"

/* The shared-memory BAR's size: a BAR is a power of two, 4 KiB .. 2^46. */
#define SHM_MIN		4096ull
#define SHM_MAX		(1ull << 46)

static int __attribute__((format(printf, 3, 4)))
bad(const char *prog, const struct proxyd_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: --vvu-proxy '%s': ", prog, o->arg);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* A hex field of exactly n digits. */
static bool hex_field(const char *s, size_t n, unsigned int *v)
{
	char *end;

	if (strlen(s) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	*v = (unsigned int)strtoul(s, &end, 16);
	return end == s + n;
}

/* [DDDD:]BB:DD.F with domain 0, bus 0, function 0: our bus is flat. */
static int parse_addr(const char *prog, const char *v, struct proxyd_opts *o)
{
	unsigned int dom = 0, bus, dev, fn;
	const char *p = v;

	if (strlen(p) == 12) {
		if (!hex_field(p, 4, &dom) || p[4] != ':')
			goto bad;
		p += 5;
	}
	if (strlen(p) != 7 || !hex_field(p, 2, &bus) || p[2] != ':' ||
	    !hex_field(p + 3, 2, &dev) || p[5] != '.' || !hex_field(p + 6, 1, &fn))
		goto bad;
	if (dom || bus)
		return bad(prog, o, "addr=%s: only domain 0000, bus 00 exists", v);
	if (fn)
		return bad(prog, o, "addr=%s: devices are single-function: function 0 only", v);
	if (dev < 1 || dev >= PCI_MAX_SLOTS)
		return bad(prog, o, "addr=%s: the device (slot) must be in 01..1f", v);
	o->slot = (int)dev;
	return 0;
bad:
	return bad(prog, o, "addr=%s is not [DDDD:]BB:DD.F (hex, e.g. 00:05.0)", v);
}

static int parse_shm(const char *prog, const char *v, struct proxyd_opts *o)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	errno = 0;
	n = strtoull(v, &end, 0);
	if (*end && !end[1])
		shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 :
			*end == 'G' || *end == 'g' ? 30 : *end == 'T' || *end == 't' ? 40 : -1;
	if (errno || end == v || *v == '-' || shift < 0 || (*end && end[1]) ||
	    n > SHM_MAX >> shift)
		return bad(prog, o, "shm=%s is not a size (bytes, or with K, M, G, T)", v);
	n <<= shift;
	if (n < SHM_MIN || (n & (n - 1)))
		return bad(prog, o, "shm=%s: the shared-memory BAR must be a power of two, 4K..64T", v);
	o->shm_size = n;
	return 0;
}

static int parse_uuid(const char *prog, const char *v, struct proxyd_opts *o)
{
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (!v[i] || (dash ? v[i] != '-' : !isxdigit((unsigned char)v[i])))
			return bad(prog, o, "uuid=%s is not a UUID (8-4-4-4-12 hex digits)", v);
	}
	if (v[36])
		return bad(prog, o, "uuid=%s is not a UUID (8-4-4-4-12 hex digits)", v);
	o->uuid = strdup(v);
	return 0;
}

static int parse_key(const char *prog, char *kv, struct proxyd_opts *o)
{
	char *val = strchr(kv, '=');

	if (!val)
		return bad(prog, o, "'%s' is not KEY=VALUE", kv);
	*val++ = '\0';
	if (!strcmp(kv, "addr"))
		return parse_addr(prog, val, o);
	if (!strcmp(kv, "shm"))
		return parse_shm(prog, val, o);
	if (!strcmp(kv, "uuid"))
		return parse_uuid(prog, val, o);
	if (!strcmp(kv, "proxyd")) {
		if (!*val)
			return bad(prog, o, "proxyd=%s: empty control socket path", val);
		o->ctrl_path = strdup(val);
		return 0;
	}
	return bad(prog, o, "unknown key '%s' (addr, shm, uuid, proxyd)", kv);
}

int proxyd_parse(const char *prog, const char *arg, struct proxyd_opts *o)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int r = 0;

	*o = (struct proxyd_opts){ .arg = arg, .slot = -1 };
	if (!copy)
		return -1;
	tok = strtok_r(copy, ",", &save);
	if (!tok || arg[0] == ',') {
		free(copy);
		return bad(prog, o, "empty socket path");
	}
	o->sock = strdup(tok);
	while (!r && (tok = strtok_r(NULL, ",", &save)))
		r = parse_key(prog, tok, o);
	free(copy);
	/* A running vvu-proxyd has its shared memory and UUID already. */
	if (!r && o->ctrl_path && (o->shm_size || o->uuid))
		r = bad(prog, o, "%s belongs to that vvu-proxyd's command line, not with proxyd=",
			o->shm_size ? "shm=" : "uuid=");
	if (r)
		proxyd_opts_free(o);
	return r;
}

void proxyd_opts_free(struct proxyd_opts *o)
{
	free(o->sock);
	free(o->uuid);
	free(o->ctrl_path);
	o->sock = o->uuid = o->ctrl_path = NULL;
}
