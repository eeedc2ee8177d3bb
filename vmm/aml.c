// SPDX-License-Identifier: GPL-2.0-only
/* The AML encoder of aml.h. */
#include <stdlib.h>
#include <string.h>

#include "vmm/aml.h"

#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_ROOT_CHAR		'\\'
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82

/* Resource descriptor tags. */
#define RES_IRQ_NO_FLAGS	0x22	/* small, 2 bytes */
#define RES_IO			0x47	/* small, 7 bytes */
#define RES_END			0x79
#define RES_DWORD_ADDR		0x87
#define RES_WORD_ADDR		0x88
#define RES_QWORD_ADDR		0x8a

#define RES_TYPE_MEM		0
#define RES_TYPE_BUS		2
/* General flags: min and max fixed, positive decode, producer (a window). */
#define RES_WINDOW_FLAGS	0x0c
#define RES_MEM_RW		0x01
#define RES_MEM_CACHEABLE	0x02

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->failed)
		return;
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		uint8_t *b;

		while (cap < a->len + n)
			cap *= 2;
		b = realloc(a->buf, cap);
		if (!b) {
			a->failed = true;
			return;
		}
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_append(struct aml *a, const struct aml *b)
{
	if (b->failed)
		a->failed = true;
	else
		aml_bytes(a, b->buf, b->len);
}

/* PkgLength (20.2.4): counts itself and the n bytes that follow it. */
static void aml_pkglength(struct aml *a, size_t n)
{
	size_t len;

	if (n + 1 < 0x40) {
		aml_byte(a, (uint8_t)(n + 1));
		return;
	}
	for (unsigned int extra = 1; extra <= 3; extra++) {
		len = n + 1 + extra;
		if (len < (1ull << (4 + 8 * extra))) {
			aml_byte(a, (uint8_t)((extra << 6) | (len & 0xf)));
			aml_le(a, len >> 4, extra);
			return;
		}
	}
	a->failed = true;	/* over 256 MiB: not a table we build */
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, v ? AML_ONE_OP : AML_ZERO_OP);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

/* "PNP0A03": three letters in 5 bits each, four hex digits, big-endian. */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		a->failed = true;
		return;
	}
	for (int i = 0; i < 3; i++)
		v = (v << 5) | ((uint32_t)(id[i] - 0x40) & 0x1f);
	for (int i = 3; i < 7; i++) {
		char c = id[i];

		v = (v << 4) | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	aml_byte(a, AML_DWORD_PREFIX);
	for (int i = 3; i >= 0; i--)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* A NameString: optional root, then 4-character segments separated by '.'. */
static void aml_namestring(struct aml *a, const char *path)
{
	unsigned int nseg = 1;

	if (*path == AML_ROOT_CHAR)
		aml_byte(a, (uint8_t)*path++);
	for (const char *p = path; *p; p++)
		nseg += *p == '.';
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nseg);
	}
	while (*path) {
		size_t n = strcspn(path, ".");
		char seg[4] = { '_', '_', '_', '_' };

		if (n == 0 || n > 4) {
			a->failed = true;
			return;
		}
		memcpy(seg, path, n);
		aml_bytes(a, seg, 4);
		path += n + (path[n] == '.');
	}
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
}

/* op [ext] PkgLength NameString body */
static void aml_named_block(struct aml *a, const uint8_t *op, size_t oplen,
			    const char *name, const struct aml *body)
{
	struct aml head;

	aml_init(&head);
	aml_namestring(&head, name);
	aml_bytes(a, op, oplen);
	aml_pkglength(a, head.len + body->len);
	aml_append(a, &head);
	aml_append(a, body);
	if (head.failed)
		a->failed = true;
	aml_free(&head);
}

void aml_scope(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[] = { AML_SCOPE_OP };

	aml_named_block(a, op, sizeof(op), name, body);
}

void aml_device(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };

	aml_named_block(a, op, sizeof(op), name, body);
}

void aml_package(struct aml *a, unsigned int n, const struct aml *els)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_pkglength(a, 1 + els->len);
	aml_byte(a, (uint8_t)n);
	aml_append(a, els);
}

void aml_resource_template(struct aml *a, const struct aml *items)
{
	struct aml size;

	/* The buffer's size comes first as an integer, then the bytes. */
	aml_init(&size);
	aml_integer(&size, items->len + 2);
	aml_byte(a, AML_BUFFER_OP);
	aml_pkglength(a, size.len + items->len + 2);
	aml_append(a, &size);
	aml_append(a, items);
	aml_byte(a, RES_END);
	aml_byte(a, 0);		/* checksum 0: "treat as correct" */
	if (size.failed)
		a->failed = true;
	aml_free(&size);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 1);		/* decodes 16 address bits */
	aml_le(a, base, 2);	/* minimum */
	aml_le(a, base, 2);	/* maximum */
	aml_byte(a, 1);		/* alignment */
	aml_byte(a, len);
}

void aml_res_irq(struct aml *a, unsigned int irq)
{
	if (irq > 15) {
		a->failed = true;	/* IRQNoFlags covers the ISA IRQs only */
		return;
	}
	aml_byte(a, RES_IRQ_NO_FLAGS);
	aml_le(a, 1u << irq, 2);
}

/* The large address space descriptors share one layout in three widths. */
static void aml_res_addr(struct aml *a, uint8_t tag, unsigned int width,
			 uint8_t type, uint8_t type_flags, uint64_t min,
			 uint64_t max)
{
	aml_byte(a, tag);
	aml_le(a, 3 + 5 * width, 2);	/* length after this field */
	aml_byte(a, type);
	aml_byte(a, RES_WINDOW_FLAGS);
	aml_byte(a, type_flags);
	aml_le(a, 0, width);		/* granularity */
	aml_le(a, min, width);
	aml_le(a, max, width);
	aml_le(a, 0, width);		/* translation offset */
	aml_le(a, max - min + 1, width);
}

void aml_res_bus_numbers(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_addr(a, RES_WORD_ADDR, 2, RES_TYPE_BUS, 0, min, max);
}

void aml_res_mem32(struct aml *a, uint32_t min, uint32_t max)
{
	aml_res_addr(a, RES_DWORD_ADDR, 4, RES_TYPE_MEM, RES_MEM_RW, min, max);
}

void aml_res_mem64(struct aml *a, uint64_t min, uint64_t max)
{
	aml_res_addr(a, RES_QWORD_ADDR, 8, RES_TYPE_MEM, RES_MEM_RW | RES_MEM_CACHEABLE,
		     min, max);
}
