/* fuzz_rpc.c: libFuzzer target for the call/reply envelope of lib/rpc.c,
 * which mqrecv --reply reads from a queue anyone with write access may
 * fill and mqsend --call reads replies from. The input is one message.
 * What decodes must point within the input, and must encode again into
 * the same bytes, so that no two envelopes mean the same. */
#include <stdlib.h>
#include <string.h>

#include "ipctools.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *msg = (const char *)data;
	struct it_rpc m, again;
	if (it_rpc_decode(msg, size, &m) < 0)
		return 0;
	if (m.payload < msg || m.payload + m.len != msg + size ||
	    (!m.reply && (m.to < msg || m.to + m.tolen > m.payload)))
		abort();
	char *buf = malloc(size + IT_RPC_HEAD);
	if (!buf)
		abort();
	ssize_t n = it_rpc_encode(&m, buf, size + IT_RPC_HEAD);
	if (n < 0 || it_rpc_decode(buf, (size_t)n, &again) < 0 ||
	    again.reply != m.reply || again.nonce != m.nonce ||
	    again.len != m.len || memcmp(again.payload, m.payload, m.len) ||
	    (m.reply ? again.status != m.status :
	     again.deadline_ms != m.deadline_ms || again.tolen != m.tolen ||
	     memcmp(again.to, m.to, m.tolen)))
		abort();
	free(buf);
	return 0;
}
