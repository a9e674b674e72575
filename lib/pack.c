/* pack.c: binary records as the C programs of the notes pass them (a struct
 * in a message or a segment), described in the notation of Python's struct
 * module, and converted to and from one line of tab-separated text fields.
 * Separate from frame.c: framing cuts a stream into messages, this gives a
 * message's bytes a shape. Everything it is handed is untrusted. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipctools.h"

/* One letter of the notation: its size and alignment in native mode (@)
 * and its size in the standard modes (= < > !), 0 where it has none. */
struct code {
	char c;
	unsigned char nsize, nalign, ssize;
	bool sign;
};

static const struct code codes[] = {
	{'x', 1, 1, 1, false},
	{'c', 1, 1, 1, false},
	{'b', 1, 1, 1, true},
	{'B', 1, 1, 1, false},
	{'?', sizeof(_Bool), _Alignof(_Bool), 1, false},
	{'h', sizeof(short), _Alignof(short), 2, true},
	{'H', sizeof(short), _Alignof(short), 2, false},
	{'i', sizeof(int), _Alignof(int), 4, true},
	{'I', sizeof(int), _Alignof(int), 4, false},
	{'l', sizeof(long), _Alignof(long), 4, true},
	{'L', sizeof(long), _Alignof(long), 4, false},
	{'q', sizeof(long long), _Alignof(long long), 8, true},
	{'Q', sizeof(long long), _Alignof(long long), 8, false},
	{'n', sizeof(ssize_t), _Alignof(ssize_t), 0, true},
	{'N', sizeof(size_t), _Alignof(size_t), 0, false},
	{'f', sizeof(float), _Alignof(float), 4, false},
	{'d', sizeof(double), _Alignof(double), 8, false},
	{'s', 1, 1, 1, false},
};

static const struct code *find_code(char c)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].c == c)
			return &codes[i];
	return NULL;
}

static int bad(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* Adds one field; the array grows by doubling. */
static int add_field(struct it_pack *p, char code, size_t size, size_t off)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct it_pack_field *f = realloc(p->f, cap * sizeof *f);
		if (!f)
			return -1;
		p->f = f;
		p->cap = cap;
	}
	p->f[p->n++] = (struct it_pack_field){ .code = code, .size = size,
					       .offset = off };
	return 0;
}

/* The byte order and mode prefix: native (@) aligns and uses the host's
 * sizes; the others use standard sizes and no padding. */
static const char *prefix(struct it_pack *p, const char *s)
{
	const unsigned one = 1;
	bool little_host = *(const unsigned char *)&one == 1;
	p->native = true;
	p->big = !little_host;
	switch (*s) {
	case '@': return s + 1;
	case '=': p->native = false; return s + 1;
	case '<': p->native = false; p->big = false; return s + 1;
	case '>': case '!': p->native = false; p->big = true; return s + 1;
	default: return s;
	}
}

static int parse_item(struct it_pack *p, const struct code *k, size_t count,
		      char *why, size_t whylen)
{
	size_t size = p->native ? k->nsize : k->ssize;
	if (!size && k->c != 's')
		return bad(why, whylen, "'%c' has no standard size: use it "
			   "only in native mode (@)", k->c);
	if (p->native && k->c != 's' && k->c != 'x' && p->size % k->nalign)
		p->size += k->nalign - p->size % k->nalign;
	if (k->c == 's' || k->c == 'x') {
		if (count > IT_PACK_MAXSIZE - p->size)
			return bad(why, whylen, "a record of more than %d bytes",
				   IT_PACK_MAXSIZE);
		if (k->c == 's' && add_field(p, 's', count, p->size) < 0)
			return -1;
		p->size += count;
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		if (size > IT_PACK_MAXSIZE - p->size)
			return bad(why, whylen, "a record of more than %d bytes",
				   IT_PACK_MAXSIZE);
		if (p->n >= IT_PACK_MAXFIELDS)
			return bad(why, whylen, "more than %d fields",
				   IT_PACK_MAXFIELDS);
		if (add_field(p, k->c, size, p->size) < 0)
			return -1;
		p->size += size;
	}
	return 0;
}

int it_pack_parse(struct it_pack *p, const char *fmt, char *why, size_t whylen)
{
	memset(p, 0, sizeof *p);
	const char *s = prefix(p, fmt);
	for (;;) {
		while (*s && strchr(" \t\n\r\v\f", *s))
			s++;
		if (!*s)
			break;
		size_t count = 1;
		if (*s >= '0' && *s <= '9') {
			count = 0;
			for (; *s >= '0' && *s <= '9'; s++) {
				count = count * 10 + (size_t)(*s - '0');
				if (count > IT_PACK_MAXSIZE) {
					it_pack_free(p);
					return bad(why, whylen, "count over %d",
						   IT_PACK_MAXSIZE);
				}
			}
		}
		const struct code *k = *s ? find_code(*s) : NULL;
		if (!k) {
			it_pack_free(p);
			if (!*s || strchr(" \t\n\r\v\f", *s))
				return bad(why, whylen, "a count with no "
					   "letter after it");
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return bad(why, whylen, "unknown letter '\\x%02x'",
					   (unsigned char)*s);
			return bad(why, whylen, "unknown letter '%c'", *s);
		}
		if (parse_item(p, k, count, why, whylen) < 0) {
			int err = errno;
			it_pack_free(p);
			errno = err;
			return -1;
		}
		s++;
	}
	if (p->n == 0) {
		it_pack_free(p);
		return bad(why, whylen, "no field");
	}
	return 0;
}

void it_pack_free(struct it_pack *p)
{
	free(p->f);
	p->f = NULL;
	p->n = p->cap = 0;
}

/* ---- record to text ---- */

static bool host_big(void)
{
	const unsigned one = 1;
	return *(const unsigned char *)&one == 0;
}

/* The field's bytes in the host's order, into out (at most 8 bytes). */
static void load(const struct it_pack *p, const struct it_pack_field *f,
		 const unsigned char *rec, unsigned char *out)
{
	bool swap = p->big != host_big();
	for (size_t i = 0; i < f->size; i++)
		out[i] = rec[f->offset + (swap ? f->size - 1 - i : i)];
}

static void store(const struct it_pack *p, const struct it_pack_field *f,
		  const unsigned char *in, unsigned char *rec)
{
	bool swap = p->big != host_big();
	for (size_t i = 0; i < f->size; i++)
		rec[f->offset + (swap ? f->size - 1 - i : i)] = in[i];
}

/* An integer field of size bytes, as the host reads it, widened. */
static uint64_t get_uint(const unsigned char *b, size_t size)
{
	uint64_t v = 0;
	if (host_big())
		for (size_t i = 0; i < size; i++)
			v = v << 8 | b[i];
	else
		for (size_t i = size; i-- > 0;)
			v = v << 8 | b[i];
	return v;
}

static void put_uint(unsigned char *b, size_t size, uint64_t v)
{
	for (size_t i = 0; i < size; i++) {
		size_t at = host_big() ? size - 1 - i : i;
		b[at] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* Escapes bytes as CONTRACT.md section 7 does, and the backslash too, so
 * that the text reads back to the same bytes. */
static size_t escape_bytes(char *dst, const unsigned char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c == '\\') {
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else if (c == '\t') {
			dst[o++] = '\\';
			dst[o++] = 't';
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else if (c == '\r') {
			dst[o++] = '\\';
			dst[o++] = 'r';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(dst + o, "\\x%02x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	return o;
}

/* A field as an error message shows it: at most 40 bytes, escaped, so a
 * NUL or a control byte in the input reads as itself. */
struct shown { char s[4 * 40 + 4]; };
static const char *shown(struct shown *b, const char *s, size_t len)
{
	size_t n = escape_bytes(b->s, (const unsigned char *)s,
				len > 40 ? 40 : len);
	if (len > 40)
		n += (size_t)sprintf(b->s + n, "...");
	b->s[n] = '\0';
	return b->s;
}

size_t it_unpack_maxline(const struct it_pack *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += 4 * p->f[i].size + 32;
	return n;
}

/* What it_unpack writes, and room for numbers written out in full (a
 * double's longest exact decimal has 767 significant digits). */
size_t it_pack_maxline(const struct it_pack *p)
{
	return it_unpack_maxline(p) + 1100 * p->n;
}

/* The fewest digits (from lo to hi) that read back to the same value, as
 * Python's repr does: 0.1, not 0.10000000000000001. Every decimal of
 * FLT_DIG (DBL_DIG) digits survives the round trip through a normal value,
 * so lo can start there; a subnormal has fewer bits and starts at 1. */
static size_t shortest(char *dst, double v, int lo, int hi, bool single)
{
	int n = 0;
	for (int prec = lo; prec <= hi; prec++) {
		n = sprintf(dst, "%.*g", prec, v);
		double back = strtod(dst, NULL);
		if (single ? (float)back == (float)v : back == v)
			break;
	}
	return (size_t)n;
}

static size_t unpack_field(const struct it_pack *p,
			   const struct it_pack_field *f,
			   const unsigned char *rec, char *dst)
{
	unsigned char b[8];
	if (f->code == 's') {
		size_t len = f->size;
		while (len && rec[f->offset + len - 1] == '\0')
			len--;
		return escape_bytes(dst, rec + f->offset, len);
	}
	if (f->code == 'c')
		return escape_bytes(dst, rec + f->offset, 1);
	load(p, f, rec, b);
	if (f->code == 'f') {
		float v;
		memcpy(&v, b, sizeof v);
		return shortest(dst, v, fpclassify(v) == FP_SUBNORMAL ? 1 : 6,
				9, true);
	}
	if (f->code == 'd') {
		double v;
		memcpy(&v, b, sizeof v);
		return shortest(dst, v, fpclassify(v) == FP_SUBNORMAL ? 1 : 15,
				17, false);
	}
	uint64_t u = get_uint(b, f->size);
	if (f->code == '?')
		return (size_t)sprintf(dst, "%d", u != 0);
	if (find_code(f->code)->sign) {
		unsigned bits = 8 * (unsigned)f->size;
		int64_t v = bits < 64 && (u >> (bits - 1)) ? (int64_t)(u - (1ULL << bits))
							     : (int64_t)u;
		return (size_t)sprintf(dst, "%lld", (long long)v);
	}
	return (size_t)sprintf(dst, "%llu", (unsigned long long)u);
}

size_t it_unpack(const struct it_pack *p, const void *rec, char *dst)
{
	size_t o = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			dst[o++] = '\t';
		o += unpack_field(p, &p->f[i], rec, dst + o);
	}
	return o;
}

/* ---- text to record ---- */

/* Undoes escape_bytes into out (room for len bytes): the length, or -1 for
 * an escape that is not one of ours. */
static ssize_t unescape(const char *s, size_t len, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			out[o++] = (unsigned char)s[i];
			continue;
		}
		if (++i == len)
			return -1;
		switch (s[i]) {
		case '\\': out[o++] = '\\'; break;
		case 't': out[o++] = '\t'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case '0': out[o++] = '\0'; break;
		case 'x': {
			unsigned v = 0;
			for (int d = 0; d < 2; d++) {
				char c = ++i < len ? s[i] : 0;
				unsigned x = c >= '0' && c <= '9' ? (unsigned)(c - '0')
					     : (c | 0x20) >= 'a' && (c | 0x20) <= 'f'
					     ? (unsigned)((c | 0x20) - 'a' + 10) : 16;
				if (x == 16)
					return -1;
				v = v * 16 + x;
			}
			out[o++] = (unsigned char)v;
			break;
		}
		default:
			return -1;
		}
	}
	return (ssize_t)o;
}

/* A decimal integer, "-" only where signed, within the field's range. */
static int parse_int(const struct it_pack_field *f, const char *s, size_t len,
		     uint64_t *out, char *why, size_t whylen)
{
	struct shown sh;
	bool sign = find_code(f->code)->sign, neg = len && s[0] == '-';
	unsigned bits = 8 * (unsigned)f->size;
	uint64_t v = 0, max = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;
	uint64_t lim = sign ? (neg ? max / 2 + 1 : max / 2) : max;
	size_t i = neg;
	if (i == len || (neg && !sign))
		goto notint;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto notint;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return bad(why, whylen, "%s does not fit '%c' (%s%llu..%llu)",
				   shown(&sh, s, len), f->code,
				   sign ? "-" : "", sign ? (unsigned long long)(max / 2 + 1)
				   : 0ULL, (unsigned long long)(sign ? max / 2 : max));
		v = v * 10 + d;
	}
	*out = neg ? (uint64_t)0 - v : v;
	return 0;
notint:
	return bad(why, whylen, "'%s' is not an integer for '%c'",
		   shown(&sh, s, len), f->code);
}

/* A decimal or hex float, or inf, infinity, nan in any case, with an
 * optional '-' (no '+', no spaces: as integers). A finite value too large
 * for the field, or one so small it would become 0, does not fit; rounding
 * to the nearest value, subnormals included, is fine, as Python does. */
static int parse_float(const struct it_pack_field *f, const char *s,
		       size_t len, unsigned char *b, char *why, size_t whylen)
{
	struct shown sh;
	char tmp[64];
	const char *t = len && s[0] == '-' ? s + 1 : s;
	if (len == 0 || len >= sizeof tmp || memchr(s, '\0', len) ||
	    t == s + len || !(*t == '.' || (*t >= '0' && *t <= '9') || *t == 'i' || *t == 'I' ||
	      *t == 'n' || *t == 'N'))
		return bad(why, whylen, "'%s' is not a number for '%c'",
			   shown(&sh, s, len), f->code);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	int range = errno;
	if (*end || end == tmp)
		return bad(why, whylen, "'%s' is not a number for '%c'",
			   shown(&sh, s, len), f->code);
	if (f->code == 'f') {
		float fv = (float)v;
		if ((isinf(fv) && !isinf(v)) || (fv == 0 && v != 0) ||
		    (range == ERANGE && (isinf(v) || v == 0)))
			return bad(why, whylen, "%s does not fit 'f'",
				   shown(&sh, s, len));
		memcpy(b, &fv, sizeof fv);
	} else {
		if (range == ERANGE && (isinf(v) || v == 0))
			return bad(why, whylen, "%s does not fit 'd'",
				   shown(&sh, s, len));
		memcpy(b, &v, sizeof v);
	}
	return 0;
}

static int pack_field(const struct it_pack *p, const struct it_pack_field *f,
		      const char *s, size_t len, unsigned char *rec,
		      char *why, size_t whylen)
{
	struct shown sh;
	unsigned char b[8];
	if (f->code == 's' || f->code == 'c') {
		/* Escapes only shorten: len bytes of room is enough. */
		unsigned char *t = malloc(len ? len : 1);
		if (!t)
			return -1;
		ssize_t n = unescape(s, len, t);
		int rc = 0;
		if (n < 0)
			rc = bad(why, whylen, "a bad escape in '%s'",
				 shown(&sh, s, len));
		else if (f->code == 'c' && n != 1)
			rc = bad(why, whylen, "'c' takes one byte, not %zd", n);
		else if ((size_t)n > f->size)
			rc = bad(why, whylen, "%zd bytes do not fit '%zus'", n,
				 f->size);
		else
			memcpy(rec + f->offset, t, (size_t)n);
		free(t);
		return rc;
	}
	if (f->code == 'f' || f->code == 'd') {
		if (parse_float(f, s, len, b, why, whylen) < 0)
			return -1;
		store(p, f, b, rec);
		return 0;
	}
	uint64_t v = 0;
	if (f->code == '?') {
		if (len != 1 || (s[0] != '0' && s[0] != '1'))
			return bad(why, whylen, "'%s' is not 0 or 1 for '?'",
				   shown(&sh, s, len));
		v = (uint64_t)(s[0] - '0');
	} else if (parse_int(f, s, len, &v, why, whylen) < 0) {
		return -1;
	}
	put_uint(b, f->size, v);
	store(p, f, b, rec);
	return 0;
}

int it_pack(const struct it_pack *p, const char *line, size_t len, void *rec,
	    size_t *field, char *why, size_t whylen)
{
	memset(rec, 0, p->size);
	size_t start = 0;
	for (size_t i = 0; i < p->n; i++) {
		*field = i + 1;
		if (start > len)
			return bad(why, whylen, "%zu fields where the format has %zu",
				   i, p->n);
		const char *tab = memchr(line + start, '\t', len - start);
		size_t end = tab ? (size_t)(tab - line) : len;
		if (i + 1 == p->n && tab) {
			*field = i + 2;
			return bad(why, whylen, "more fields than the format's %zu",
				   p->n);
		}
		if (pack_field(p, &p->f[i], line + start, end - start, rec, why,
			       whylen) < 0)
			return -1;
		start = end + 1;
	}
	return 0;
}

void it_argp_pack(const struct argp_state *state, const char *arg,
		  struct it_pack *p)
{
	char why[256], q[48];
	if (it_pack_parse(p, arg, why, sizeof why) == 0)
		return;
	if (errno == ENOMEM)
		it_xfail(errno, "allocate", "the format", NULL);
	argp_error(state, "invalid format '%s': %s", it_quote(arg, q, sizeof q),
		   why);
}
