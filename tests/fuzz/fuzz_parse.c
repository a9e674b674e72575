/* fuzz_parse.c: libFuzzer target for the strict parsers of lib/: every
 * string is taken or refused with EINVAL or ERANGE, never anything else,
 * and what is taken is in range. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipctools.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void refused_cleanly(int rc)
{
	if (rc < 0 && errno != EINVAL && errno != ERANGE)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	if (!s)
		return 0;
	int64_t ns;
	uint64_t sz;
	int32_t key;
	long l;
	unsigned long ul;
	mode_t mode;
	int sig;
	errno = 0;
	int rc = it_parse_duration(s, &ns);
	refused_cleanly(rc);
	if (rc == 0 && ns < 0)
		abort();
	rc = it_parse_size(s, 1u << 30, &sz);
	refused_cleanly(rc);
	if (rc == 0 && sz > 1u << 30)
		abort();
	refused_cleanly(it_parse_key(s, &key));
	rc = it_parse_long(s, -5, 5, &l);
	refused_cleanly(rc);
	if (rc == 0 && (l < -5 || l > 5))
		abort();
	refused_cleanly(it_parse_ulong(s, 1000, &ul));
	rc = it_parse_mode(s, &mode);
	refused_cleanly(rc);
	if (rc == 0 && mode > 0777)
		abort();
	if (it_sig_parse(s, true, &sig) == 0 && (sig < 0 || sig > SIGRTMAX))
		abort();
	if (it_posix_name_ok(s) == 0 && (s[0] != '/' || strchr(s + 1, '/')))
		abort();
	free(s);
	return 0;
}
