/* fuzz_ring.c: libFuzzer target for the ring header check of cmd/shmcat/ring.c:
 * a segment anyone with write access may have filled with garbage. The
 * input is the segment's first bytes; the rest is zeros. A header is
 * refused with EBADMSG, or taken and then its counters read safely and
 * found to add up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t segsize = RING_HDR + 8192;
	unsigned char *seg = aligned_alloc(4096, segsize);
	if (!seg)
		return 0;
	memset(seg, 0, segsize);
	memcpy(seg, data, size < segsize ? size : segsize);
	struct ring_handle h;
	struct ring_info info;
	const char *why;
	if (ring_attach(&h, seg, segsize, false, &why) < 0) {
		if (errno != EBADMSG)
			abort();
	} else if (ring_info(seg, segsize, &info) == 0 &&
		   (info.capacity > segsize || info.used > info.capacity ||
		    info.dropped > info.bytes_dropped ||
		    info.bytes_out + info.bytes_dropped > info.bytes_in)) {
		abort();
	}
	free(seg);
	return 0;
}
