/* fuzz_frame.c: libFuzzer target for the framing reader of lib/frame.c.
 * The first byte picks the framing and the largest message; the rest is
 * the input stream, read from a memfd as a tool reads stdin. Every message
 * returned must lie within the input and within the limit. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipctools.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	enum it_framing framing = (enum it_framing)(data[0] & 3);
	size_t max = (size_t)1 << (data[0] >> 4);
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || it_write_full(fd, data + 1, size - 1) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0)
		abort();
	struct it_reader r;
	const char *msg;
	size_t len, total = 0;
	it_reader_init(&r, fd, framing);
	while (it_read_msg(&r, max, &msg, &len) == 1) {
		if (len > max)
			abort();
		total += len;
		if (total > size)
			abort();
	}
	it_reader_giveback(&r);
	it_reader_free(&r);
	close(fd);
	return 0;
}
