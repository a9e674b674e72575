/* frame.c: discrete messages in a byte stream (CONTRACT.md section 2):
 * lines, NUL-terminated, the whole input, or djb netstrings. The reader
 * holds at most one message plus one read-ahead chunk, whatever the size of
 * the input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipctools.h"

enum { OPT_WHOLE = 0x1100, OPT_NETSTRING, OPT_LINES };
enum { CHUNK = 65536 };

static const struct argp_option frame_options[] = {
	{"lines", OPT_LINES, NULL, 0, "one message per line (the default)", 0},
	{"null", '0', NULL, 0, "messages end with a NUL byte, not a newline", 0},
	{"whole", OPT_WHOLE, NULL, 0, "all of the input is one message", 0},
	{"netstring", OPT_NETSTRING, NULL, 0,
	 "messages are netstrings LEN:BYTES, (binary safe)", 0},
	{0}
};

/* The same options worded for a tool that writes messages. */
static const struct argp_option frame_out_options[] = {
	{"lines", OPT_LINES, NULL, 0, "each message then a newline (the default)",
	 0},
	{"null", '0', NULL, 0, "each message then a NUL byte", 0},
	{"whole", OPT_WHOLE, NULL, 0, "each message as is, nothing after it", 0},
	{"netstring", OPT_NETSTRING, NULL, 0,
	 "each message as a netstring LEN:BYTES, (binary safe)", 0},
	{0}
};

const char *it_frame_name(enum it_framing framing)
{
	static const char *const names[] = { "--lines", "--null", "--whole",
					     "--netstring" };
	return names[framing];
}

static error_t frame_parse(int key, char *arg, struct argp_state *state)
{
	enum it_framing *fr = state->input;
	enum it_framing want;
	(void)arg;
	switch (key) {
	case OPT_LINES: want = IT_FRAME_LINE; break;
	case '0': want = IT_FRAME_NUL; break;
	case OPT_WHOLE: want = IT_FRAME_WHOLE; break;
	case OPT_NETSTRING: want = IT_FRAME_NETSTRING; break;
	case ARGP_KEY_INIT:
		*fr = IT_FRAME_LINE;
		state->hook = NULL;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	/* state->hook remembers that a framing was chosen explicitly, so
	 * that two different ones are a usage error. */
	if (state->hook && *fr != want)
		argp_error(state, "%s and %s are two framings: choose one",
			   it_frame_name(*fr), it_frame_name(want));
	*fr = want;
	state->hook = fr;
	return 0;
}

const struct argp it_frame_argp = { frame_options, frame_parse, NULL, NULL,
				    NULL, NULL, NULL };
const struct argp it_frame_out_argp = { frame_out_options, frame_parse, NULL,
					NULL, NULL, NULL, NULL };

void it_reader_init(struct it_reader *r, int fd, enum it_framing framing)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->framing = framing;
}

void it_reader_free(struct it_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Reads more input, keeping room for need unread bytes; 0 at EOF. */
static int fill(struct it_reader *r, size_t need)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	/* Grow by a chunk at a time, and never past what one message needs:
	 * a large limit costs memory only when a large message comes. */
	if (need > r->end + CHUNK)
		need = r->end + CHUNK;
	if (need > r->cap) {
		size_t cap = r->cap ? r->cap : CHUNK;
		while (cap < need)
			cap *= 2;
		char *p = realloc(r->buf, cap);
		if (!p)
			return -1;
		r->buf = p;
		r->cap = cap;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
		return n > 0;
	}
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* The first unread byte; NULL before anything was read (NULL + 0 is
 * undefined behaviour, which the fuzzer's UBSan found). */
static char *unread(const struct it_reader *r)
{
	return r->buf ? r->buf + r->start : NULL;
}

static int read_delim(struct it_reader *r, char delim, size_t max,
		      const char **msg, size_t *len)
{
	size_t scanned = 0;
	for (;;) {
		char *base = unread(r);
		size_t avail = r->end - r->start;
		char *nl = avail > scanned
			   ? memchr(base + scanned, delim, avail - scanned) : NULL;
		if (nl || (r->eof && avail > 0)) {
			size_t n = nl ? (size_t)(nl - base) : avail;
			if (n > max)
				return fail(EMSGSIZE);
			*msg = base;
			*len = n;
			r->start += n + (nl != NULL);
			return 1;
		}
		if (avail > max)
			return fail(EMSGSIZE);
		if (r->eof)
			return 0;
		scanned = avail;
		if (fill(r, max + 2) < 0)
			return -1;
	}
}

static int read_whole(struct it_reader *r, size_t max, const char **msg,
		      size_t *len)
{
	if (r->done)
		return 0;
	while (!r->eof) {
		if (r->end - r->start > max)
			return fail(EMSGSIZE);
		if (fill(r, max + 1) < 0)
			return -1;
	}
	if (r->end - r->start > max)
		return fail(EMSGSIZE);
	r->done = true;
	*msg = r->buf ? r->buf + r->start : "";
	*len = r->end - r->start;
	r->start = r->end;
	return 1;
}

static int read_netstring(struct it_reader *r, size_t max, const char **msg,
			  size_t *len)
{
	for (;;) {
		char *base = unread(r);
		size_t avail = r->end - r->start;
		size_t i = 0;
		uint64_t n = 0;
		while (i < avail && base[i] >= '0' && base[i] <= '9' && i < 20)
			n = n * 10 + (uint64_t)(base[i++] - '0');
		if (i < avail || i == 20) {
			/* The length is complete: check its form. */
			if (i == 0 || base[i] != ':' || (base[0] == '0' && i > 1) ||
			    i == 20)
				return fail(EBADMSG);
			if (n > max)
				return fail(EMSGSIZE);
			if (avail >= i + 1 + n + 1) {
				if (base[i + 1 + n] != ',')
					return fail(EBADMSG);
				*msg = base + i + 1;
				*len = (size_t)n;
				r->start += i + 1 + n + 1;
				return 1;
			}
		}
		if (r->eof)
			return avail == 0 ? 0 : fail(EBADMSG);
		if (fill(r, 21 + max + 1) < 0)
			return -1;
	}
}

int it_read_msg(struct it_reader *r, size_t max, const char **msg, size_t *len)
{
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4;  /* keeps max + overhead from wrapping */
	switch (r->framing) {
	case IT_FRAME_NUL:
		return read_delim(r, '\0', max, msg, len);
	case IT_FRAME_WHOLE:
		return read_whole(r, max, msg, len);
	case IT_FRAME_NETSTRING:
		return read_netstring(r, max, msg, len);
	default:
		return read_delim(r, '\n', max, msg, len);
	}
}

void it_reader_giveback(struct it_reader *r)
{
	size_t ahead = r->end - r->start;
	/* Fails harmlessly (ESPIPE) on pipes and terminals. */
	if (ahead > 0 && lseek(r->fd, -(off_t)ahead, SEEK_CUR) >= 0)
		r->end = r->start;
}

void it_writer_init(struct it_writer *w, int fd, enum it_framing framing)
{
	w->fd = fd;
	w->framing = framing;
	w->len = 0;
}

int it_writer_flush(struct it_writer *w)
{
	size_t n = w->len;
	w->len = 0;
	return it_write_full(w->fd, w->buf, n);
}

static int put(struct it_writer *w, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > sizeof w->buf - w->len && it_writer_flush(w) < 0)
		return -1;
	if (n >= sizeof w->buf)
		return it_write_full(w->fd, p, n);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

/* What stands before and after a message of len bytes: the netstring
 * length, and the terminator. Returns the length of head. */
static size_t frame_parts(enum it_framing framing, size_t len, char head[24],
			  const char **trail)
{
	size_t n = 0;
	if (framing == IT_FRAME_NETSTRING)
		n = (size_t)snprintf(head, 24, "%zu:", len);
	*trail = framing == IT_FRAME_LINE ? "\n"
		 : framing == IT_FRAME_NUL ? "" : framing == IT_FRAME_NETSTRING
		 ? "," : NULL;
	return n;
}

int it_write_msg2(struct it_writer *w, const void *pre, size_t prelen,
		  const void *msg, size_t len)
{
	char head[24];
	const char *trail;
	size_t hlen = frame_parts(w->framing, prelen + len, head, &trail);
	if (put(w, head, hlen) < 0 || put(w, pre, prelen) < 0 ||
	    put(w, msg, len) < 0)
		return -1;
	return trail ? put(w, trail, 1) : 0;
}

size_t it_frame_msg(char *dst, enum it_framing framing, const void *pre,
		    size_t prelen, const void *msg, size_t len, size_t *text)
{
	char head[24];
	const char *trail;
	size_t o = frame_parts(framing, prelen + len, head, &trail);
	memcpy(dst, head, o);
	if (prelen)
		memcpy(dst + o, pre, prelen);
	o += prelen;
	*text = o;
	if (len)
		memmove(dst + o, msg, len);
	o += len;
	if (trail)
		dst[o++] = *trail;
	return o;
}

int it_write_msg(struct it_writer *w, const void *msg, size_t len)
{
	return it_write_msg2(w, NULL, 0, msg, len);
}
