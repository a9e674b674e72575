/* packprobe.c: a test driver for lib/pack.c, until the tools take --pack
 * and --unpack, and for checking it against Python's struct and perl's
 * pack. Not installed; tests/pack.bats runs it.
 *
 *   packprobe size FMT     the record size, as struct.calcsize(FMT)
 *   packprobe pack FMT     lines of tab-separated fields in, records out
 *   packprobe unpack FMT   records in, one line each out */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipctools.h"

static int pack(const struct it_pack *p)
{
	/* static, so what it_die leaves is still reachable, not a leak */
	static char *line;
	static unsigned char *rec;
	char why[256];
	size_t cap = 0, field, n = 0;
	ssize_t len;
	rec = malloc(p->size ? p->size : 1);
	if (!rec)
		it_die(IT_OSERR, "out of memory");
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		n++;
		if (len && line[len - 1] == '\n')
			len--;
		if (it_pack(p, line, (size_t)len, rec, &field, why, sizeof why) < 0)
			it_die(IT_DATAERR, "line %zu, field %zu: %s", n, field, why);
		if (it_write_full(STDOUT_FILENO, rec, p->size) < 0)
			it_xfail(errno, "write", "standard output", NULL);
	}
	free(rec);
	free(line);
	return 0;
}

static int unpack(const struct it_pack *p)
{
	static unsigned char *rec;      /* static: see pack() */
	static char *line;
	rec = malloc(p->size ? p->size : 1);
	line = malloc(it_unpack_maxline(p) + 1);
	ssize_t n;
	if (!rec || !line)
		it_die(IT_OSERR, "out of memory");
	while ((n = it_read_full(STDIN_FILENO, rec, p->size)) > 0) {
		if ((size_t)n < p->size)
			it_die(IT_DATAERR, "a last record of %zd bytes, not %zu",
			       n, p->size);
		size_t len = it_unpack(p, rec, line);
		line[len++] = '\n';
		if (it_write_full(STDOUT_FILENO, line, len) < 0)
			it_xfail(errno, "write", "standard output", NULL);
	}
	free(rec);
	free(line);
	return n < 0 ? IT_IOERR : 0;
}

int main(int argc, char **argv)
{
	static struct it_pack p;      /* static: see pack() */
	char why[256];
	it_init();
	if (argc != 3)
		it_die(IT_USAGE, "usage: packprobe size|pack|unpack FORMAT");
	if (it_pack_parse(&p, argv[2], why, sizeof why) < 0)
		it_die(IT_USAGE, "invalid format '%s': %s", argv[2], why);
	int rc = IT_USAGE;
	if (strcmp(argv[1], "size") == 0)
		rc = printf("%zu\n", p.size) < 0 ? IT_IOERR : 0;
	else if (strcmp(argv[1], "pack") == 0)
		rc = pack(&p);
	else if (strcmp(argv[1], "unpack") == 0)
		rc = unpack(&p);
	it_pack_free(&p);
	return rc;
}
