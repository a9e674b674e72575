/* fuzz_pack.c: libFuzzer target for lib/pack.c. The input is a format, a
 * NUL, then a line. Any format must parse or be refused; a line packed
 * and unpacked must pack again to the same record; and whatever a record
 * of arbitrary bytes unpacks to must pack again (what we print, we read). */
#include <stdlib.h>
#include <string.h>

#include "ipctools.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const unsigned char *nul = memchr(data, 0, size);
	if (!nul)
		return 0;
	char *fmt = strndup((const char *)data, (size_t)(nul - data));
	const char *line = (const char *)nul + 1;
	size_t len = size - (size_t)(nul - data) - 1;
	struct it_pack p;
	char why[256];
	if (!fmt || it_pack_parse(&p, fmt, why, sizeof why) < 0 ||
	    p.size > 65536) {
		if (fmt && p.f)
			it_pack_free(&p);
		free(fmt);
		return 0;
	}
	unsigned char *a = malloc(p.size + 1), *b = malloc(p.size + 1);
	char *text = malloc(it_unpack_maxline(&p) + 1);
	size_t field;
	if (it_pack(&p, line, len, a, &field, why, sizeof why) == 0) {
		size_t n = it_unpack(&p, a, text);
		if (it_pack(&p, text, n, b, &field, why, sizeof why) != 0 ||
		    memcmp(a, b, p.size) != 0)
			abort();
	}
	/* The line's bytes as a record. */
	memset(a, 0, p.size);
	memcpy(a, line, len < p.size ? len : p.size);
	size_t n = it_unpack(&p, a, text);
	if (n > it_unpack_maxline(&p) ||
	    it_pack(&p, text, n, b, &field, why, sizeof why) != 0)
		abort();
	free(a);
	free(b);
	free(text);
	it_pack_free(&p);
	free(fmt);
	return 0;
}
