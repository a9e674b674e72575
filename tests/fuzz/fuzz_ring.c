/* fuzz_ring.c: libFuzzer target for the ring header check of lib/ring.c:
 * a segment anyone with write access may have filled with garbage. The
 * input is the segment's first bytes; the rest is zeros. A header is
 * refused with EBADMSG, or taken and then its counters read safely. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipctools.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t segsize = IT_RING_HDR + 8192;
	unsigned char *seg = aligned_alloc(4096, segsize);
	if (!seg)
		return 0;
	memset(seg, 0, segsize);
	memcpy(seg, data, size < segsize ? size : segsize);
	struct it_ring h;
	struct it_ring_info info;
	const char *why;
	if (it_ring_attach(&h, seg, segsize, false, &why) < 0) {
		if (errno != EBADMSG)
			abort();
	} else if (it_ring_info(seg, segsize, &info) == 0 &&
		   (info.capacity > segsize || info.used > info.capacity)) {
		abort();
	}
	free(seg);
	return 0;
}
