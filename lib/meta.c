/* meta.c: object metadata as shell assignments that eval accepts, or as
 * one JSON object (CONTRACT.md section 5). Writes to stdout. */
#include <stdio.h>
#include <string.h>

#include "ipctools.h"

void it_meta_begin(struct it_meta *m, bool json)
{
	m->json = json;
	m->n = 0;
	if (json)
		fputc('{', stdout);
}

static void key(struct it_meta *m, const char *k)
{
	if (m->json)
		printf("%s\"%s\":", m->n ? "," : "", k);
	else
		printf("%s=", k);
	m->n++;
}

/* Quotes only what needs it, so simple values stay readable. */
static void shell_quote(const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-./:,+@%") == strlen(s)) {
		fputs(s, stdout);
		return;
	}
	fputc('\'', stdout);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			fputc(*s, stdout);
	fputc('\'', stdout);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3
		     : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return len;
}

/* A JSON string for any bytes: a byte that is not part of valid UTF-8
 * becomes \udcXX, the lone surrogate that python's surrogateescape reads
 * back as that byte, so the output is always valid JSON. */
static void json_quote(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	fputc('"', stdout);
	for (size_t i = 0; i < n;) {
		size_t u;
		if (p[i] == '"' || p[i] == '\\') {
			printf("\\%c", p[i++]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			printf("\\u%04x", p[i++]);
		} else if (p[i] < 0x80) {
			fputc(p[i++], stdout);
		} else if ((u = utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, u, stdout);
			i += u;
		} else {
			printf("\\udc%02x", p[i++]);
		}
	}
	fputc('"', stdout);
}

void it_meta_str(struct it_meta *m, const char *k, const char *val)
{
	key(m, k);
	if (m->json)
		json_quote(val);
	else {
		shell_quote(val);
		fputc('\n', stdout);
	}
}

void it_meta_int(struct it_meta *m, const char *k, long long val)
{
	key(m, k);
	printf(m->json ? "%lld" : "%lld\n", val);
}

void it_meta_end(struct it_meta *m)
{
	if (m->json)
		fputs("}\n", stdout);
}
