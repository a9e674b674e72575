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

static void json_quote(const char *s)
{
	fputc('"', stdout);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			fputc(*p, stdout);
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
