/* unit.c: unit tests of lib/: every parser and the framing code, with the
 * nasty cases (empty, junk suffix, overflow, negative, 64 KiB argument). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipctools.h"

static int passed, failed;
static char huge[65537];  /* a 64 KiB argument of digits */

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

static void check(bool ok, const char *what, const char *file, int line)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("not ok: %s:%d: %s\n", file, line, what);
}

/* A parser call that must fail with this errno. */
#define REJECTS(call, err) CHECK((errno = 0, (call) == -1 && errno == (err)))

static void test_long(void)
{
	long v;
	CHECK(it_parse_long("0", 0, 10, &v) == 0 && v == 0);
	CHECK(it_parse_long("10", 0, 10, &v) == 0 && v == 10);
	CHECK(it_parse_long("-5", -5, 10, &v) == 0 && v == -5);
	CHECK(it_parse_long("9223372036854775807", LONG_MIN, LONG_MAX, &v) == 0 &&
	      v == LONG_MAX);
	CHECK(it_parse_long("-9223372036854775808", LONG_MIN, LONG_MAX, &v) == 0 &&
	      v == LONG_MIN);
	REJECTS(it_parse_long("11", 0, 10, &v), ERANGE);
	REJECTS(it_parse_long("-6", -5, 10, &v), ERANGE);
	REJECTS(it_parse_long("-1", 0, 10, &v), ERANGE);
	REJECTS(it_parse_long("", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long("-", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long("5x", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long(" 5", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long("5 ", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long("+5", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long("0x5", 0, 10, &v), EINVAL);
	REJECTS(it_parse_long("9223372036854775808", LONG_MIN, LONG_MAX, &v), ERANGE);
	REJECTS(it_parse_long("-9223372036854775809", LONG_MIN, LONG_MAX, &v), ERANGE);
	REJECTS(it_parse_long("99999999999999999999999", LONG_MIN, LONG_MAX, &v),
		ERANGE);
	REJECTS(it_parse_long(huge, LONG_MIN, LONG_MAX, &v), ERANGE);

	unsigned long u;
	CHECK(it_parse_ulong("18446744073709551615", ULONG_MAX, &u) == 0 &&
	      u == ULONG_MAX);
	REJECTS(it_parse_ulong("18446744073709551616", ULONG_MAX, &u), ERANGE);
	REJECTS(it_parse_ulong("-1", ULONG_MAX, &u), EINVAL);
	REJECTS(it_parse_ulong("", ULONG_MAX, &u), EINVAL);
	REJECTS(it_parse_ulong("1k", ULONG_MAX, &u), EINVAL);
}

static void test_key(void)
{
	int32_t k;
	CHECK(it_parse_key("42", &k) == 0 && k == 42);
	CHECK(it_parse_key("0x2a", &k) == 0 && k == 42);
	CHECK(it_parse_key("0X2A", &k) == 0 && k == 42);
	CHECK(it_parse_key("052", &k) == 0 && k == 42);
	CHECK(it_parse_key("0", &k) == 0 && k == 0);
	CHECK(it_parse_key("0xffffffff", &k) == 0 && k == -1);
	CHECK(it_parse_key("4294967295", &k) == 0 && k == -1);
	CHECK(it_parse_key("037777777777", &k) == 0 && k == -1);
	REJECTS(it_parse_key("4294967296", &k), ERANGE);
	REJECTS(it_parse_key("0x100000000", &k), ERANGE);
	REJECTS(it_parse_key("", &k), EINVAL);
	REJECTS(it_parse_key("0x", &k), EINVAL);
	REJECTS(it_parse_key("08", &k), EINVAL);
	REJECTS(it_parse_key("0x2g", &k), EINVAL);
	REJECTS(it_parse_key("42k", &k), EINVAL);
	REJECTS(it_parse_key("-1", &k), EINVAL);
	REJECTS(it_parse_key(" 1", &k), EINVAL);
	REJECTS(it_parse_key(huge, &k), ERANGE);
}

static void test_size(void)
{
	uint64_t v;
	CHECK(it_parse_size("0", UINT64_MAX, &v) == 0 && v == 0);
	CHECK(it_parse_size("512", UINT64_MAX, &v) == 0 && v == 512);
	CHECK(it_parse_size("64k", UINT64_MAX, &v) == 0 && v == 65536);
	CHECK(it_parse_size("64K", UINT64_MAX, &v) == 0 && v == 65536);
	CHECK(it_parse_size("1M", UINT64_MAX, &v) == 0 && v == 1048576);
	REJECTS(it_parse_size("1MiB", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size("1MB", UINT64_MAX, &v), EINVAL);
	CHECK(it_parse_size("2g", UINT64_MAX, &v) == 0 && v == 2147483648ULL);
	CHECK(it_parse_size("1T", UINT64_MAX, &v) == 0 && v == 1ULL << 40);
	CHECK(it_parse_size("1024", 1024, &v) == 0 && v == 1024);
	CHECK(it_parse_size("16777215T", UINT64_MAX, &v) == 0);
	REJECTS(it_parse_size("16777216T", UINT64_MAX, &v), ERANGE);
	REJECTS(it_parse_size("1025", 1024, &v), ERANGE);
	REJECTS(it_parse_size("2k", 1024, &v), ERANGE);
	REJECTS(it_parse_size("18446744073709551616", UINT64_MAX, &v), ERANGE);
	REJECTS(it_parse_size("", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size("k", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size("1x", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size("1kk", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size("1.5k", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size("-1", UINT64_MAX, &v), EINVAL);
	REJECTS(it_parse_size(huge, UINT64_MAX, &v), ERANGE);
}

static void test_duration(void)
{
	int64_t ns;
	CHECK(it_parse_duration("0", &ns) == 0 && ns == 0);
	CHECK(it_parse_duration("2", &ns) == 0 && ns == 2000000000);
	CHECK(it_parse_duration("250ms", &ns) == 0 && ns == 250000000);
	CHECK(it_parse_duration("1.5s", &ns) == 0 && ns == 1500000000);
	CHECK(it_parse_duration("1.5", &ns) == 0 && ns == 1500000000);
	CHECK(it_parse_duration(".5s", &ns) == 0 && ns == 500000000);
	CHECK(it_parse_duration("2m", &ns) == 0 && ns == 120000000000);
	CHECK(it_parse_duration("1h", &ns) == 0 && ns == 3600000000000);
	CHECK(it_parse_duration("1d", &ns) == 0 && ns == 86400000000000);
	CHECK(it_parse_duration("10us", &ns) == 0 && ns == 10000);
	CHECK(it_parse_duration("7ns", &ns) == 0 && ns == 7);
	CHECK(it_parse_duration("0.0000000019s", &ns) == 0 && ns == 1);
	CHECK(it_parse_duration("9223372036854775807ns", &ns) == 0 &&
	      ns == INT64_MAX);
	REJECTS(it_parse_duration("9223372036854775808ns", &ns), ERANGE);
	REJECTS(it_parse_duration("106752d", &ns), ERANGE);
	REJECTS(it_parse_duration("", &ns), EINVAL);
	REJECTS(it_parse_duration("s", &ns), EINVAL);
	REJECTS(it_parse_duration(".", &ns), EINVAL);
	REJECTS(it_parse_duration("1.", &ns), EINVAL);
	REJECTS(it_parse_duration("1.5.5", &ns), EINVAL);
	REJECTS(it_parse_duration("-1", &ns), EINVAL);
	REJECTS(it_parse_duration("1sec", &ns), EINVAL);
	REJECTS(it_parse_duration("1 s", &ns), EINVAL);
	REJECTS(it_parse_duration("1ms ", &ns), EINVAL);
	REJECTS(it_parse_duration(huge, &ns), ERANGE);
}

static void test_mode(void)
{
	mode_t m;
	CHECK(it_parse_mode("600", &m) == 0 && m == 0600);
	CHECK(it_parse_mode("0600", &m) == 0 && m == 0600);
	CHECK(it_parse_mode("0", &m) == 0 && m == 0);
	CHECK(it_parse_mode("777", &m) == 0 && m == 0777);
	CHECK(it_parse_mode("0000777", &m) == 0 && m == 0777);
	REJECTS(it_parse_mode("1000", &m), ERANGE);
	REJECTS(it_parse_mode("4755", &m), ERANGE);
	REJECTS(it_parse_mode("", &m), EINVAL);
	REJECTS(it_parse_mode("8", &m), EINVAL);
	REJECTS(it_parse_mode("u+rw", &m), EINVAL);
	REJECTS(it_parse_mode("-600", &m), EINVAL);
	REJECTS(it_parse_mode("600x", &m), EINVAL);
	REJECTS(it_parse_mode(huge, &m), EINVAL);
}

static void test_fd(void)
{
	int fd;
	int three = dup2(2, 3);
	CHECK(it_parse_fd("3", &fd) == 0 && fd == 3);
	close(three);
	REJECTS(it_parse_fd("0", &fd), EDOM);
	REJECTS(it_parse_fd("1", &fd), EDOM);
	REJECTS(it_parse_fd("2", &fd), EDOM);
	REJECTS(it_parse_fd("999", &fd), EBADF);
	REJECTS(it_parse_fd("-1", &fd), ERANGE);
	REJECTS(it_parse_fd("", &fd), EINVAL);
	REJECTS(it_parse_fd("1x", &fd), EINVAL);
	REJECTS(it_parse_fd("2147483648", &fd), ERANGE);
	REJECTS(it_parse_fd(huge, &fd), ERANGE);
}

static void test_signals(void)
{
	int s;
	CHECK(it_sig_parse("TERM", false, &s) == 0 && s == SIGTERM);
	CHECK(it_sig_parse("SIGTERM", false, &s) == 0 && s == SIGTERM);
	CHECK(it_sig_parse("term", false, &s) == 0 && s == SIGTERM);
	CHECK(it_sig_parse("sigusr1", false, &s) == 0 && s == SIGUSR1);
	CHECK(it_sig_parse("15", false, &s) == 0 && s == SIGTERM);
	CHECK(it_sig_parse("RTMIN", false, &s) == 0 && s == SIGRTMIN);
	CHECK(it_sig_parse("RTMIN+3", false, &s) == 0 && s == SIGRTMIN + 3);
	CHECK(it_sig_parse("SIGRTMAX-1", false, &s) == 0 && s == SIGRTMAX - 1);
	CHECK(it_sig_parse("rtmax", false, &s) == 0 && s == SIGRTMAX);
	CHECK(it_sig_parse("IOT", false, &s) == 0 && s == SIGABRT);
	CHECK(it_sig_parse("CLD", false, &s) == 0 && s == SIGCHLD);
	CHECK(it_sig_parse("0", true, &s) == 0 && s == 0);
	CHECK(it_sig_parse("64", false, &s) == 0 && s == SIGRTMAX);
	REJECTS(it_sig_parse("0", false, &s), ERANGE);
	REJECTS(it_sig_parse("65", false, &s), ERANGE);
	REJECTS(it_sig_parse("-1", false, &s), EINVAL);
	REJECTS(it_sig_parse("", false, &s), EINVAL);
	REJECTS(it_sig_parse("SIG", false, &s), EINVAL);
	REJECTS(it_sig_parse("TERMX", false, &s), EINVAL);
	REJECTS(it_sig_parse("15x", false, &s), EINVAL);
	REJECTS(it_sig_parse("RTMIN-1", false, &s), EINVAL);
	REJECTS(it_sig_parse("RTMAX+1", false, &s), EINVAL);
	REJECTS(it_sig_parse("RTMIN+31", false, &s), EINVAL);
	REJECTS(it_sig_parse("RTMIN+", false, &s), EINVAL);
	REJECTS(it_sig_parse(huge, false, &s), ERANGE);
	/* Every number's name reads back as that number. */
	for (int i = 1; i <= SIGRTMAX; i++) {
		int back = -1;
		const char *name = it_sig_name(i);
		if (i == 32 || i == 33)
			continue;  /* glibc's reserved pair: no name */
		CHECK(it_sig_parse(name, false, &back) == 0 && back == i);
	}
	CHECK(strcmp(it_sig_name(SIGUSR1), "USR1") == 0);
	CHECK(strcmp(it_sig_name(SIGRTMIN + 2), "RTMIN+2") == 0);
	CHECK(strcmp(it_sig_name(SIGRTMAX - 2), "RTMAX-2") == 0);
	CHECK(strcmp(it_sig_default_action(SIGCHLD), "Ign") == 0);
	CHECK(strcmp(it_sig_default_action(SIGSEGV), "Core") == 0);
	CHECK(strcmp(it_sig_default_action(SIGUSR1), "Term") == 0);
}

static void test_names(void)
{
	CHECK(it_posix_name_ok("/q") == 0);
	REJECTS(it_posix_name_ok("/"), EINVAL);
	REJECTS(it_posix_name_ok(""), EINVAL);
	REJECTS(it_posix_name_ok("q"), EINVAL);
	REJECTS(it_posix_name_ok("/a/b"), EINVAL);
	REJECTS(it_posix_name_ok("//a"), EINVAL);
	REJECTS(it_posix_name_ok("/."), EINVAL);
	REJECTS(it_posix_name_ok("/.."), EINVAL);
	CHECK(it_posix_name_ok("/...") == 0);
	/* NAME_MAX bytes after the slash, as mq_open(3) and shm_open(3) take. */
	char name[NAME_MAX + 3];
	memset(name, 'a', sizeof name);
	name[0] = '/';
	name[NAME_MAX + 1] = '\0';
	CHECK(it_posix_name_ok(name) == 0);
	name[NAME_MAX + 1] = 'a';
	name[NAME_MAX + 2] = '\0';
	REJECTS(it_posix_name_ok(name), ERANGE);
}

/* A seekable in-memory file holding data, positioned at its start. */
static int memfile(const void *data, size_t len)
{
	int fd = memfd_create("unit", 0);
	if (fd < 0 || it_write_full(fd, data, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	return fd;
}

/* Reads every message of data with framing and max; returns the messages
 * joined by '|' and the final status (0 EOF, -1 with errno). */
static int readall(const char *data, size_t n, enum it_framing fr, size_t max,
		   char *out, size_t outlen, int *err)
{
	struct it_reader r;
	int fd = memfile(data, n);
	it_reader_init(&r, fd, fr);
	const char *msg;
	size_t len;
	int rc, count = 0;
	out[0] = '\0';
	while ((rc = it_read_msg(&r, max, &msg, &len)) == 1) {
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s%.*s", count ? "|" : "",
			 (int)len, msg);
		count++;
	}
	*err = rc < 0 ? errno : 0;
	it_reader_free(&r);
	close(fd);
	return rc;
}

#define FRAMES(data, fr, max, want, want_rc, want_err) do { \
	char out[4096]; int err; \
	int rc = readall(data, sizeof(data) - 1, fr, max, out, sizeof out, &err); \
	CHECK(rc == (want_rc) && err == (want_err) && strcmp(out, want) == 0); \
} while (0)

static void test_framing(void)
{
	FRAMES("a\nbc\n", IT_FRAME_LINE, 10, "a|bc", 0, 0);
	FRAMES("a\n\nb", IT_FRAME_LINE, 10, "a||b", 0, 0);  /* empty, unterminated */
	FRAMES("", IT_FRAME_LINE, 10, "", 0, 0);
	FRAMES("\n", IT_FRAME_LINE, 10, "", 0, 0);          /* one empty message */
	FRAMES("abc\n", IT_FRAME_LINE, 3, "abc", 0, 0);     /* exactly max */
	FRAMES("ab\nabcd\nz\n", IT_FRAME_LINE, 3, "ab", -1, EMSGSIZE);
	FRAMES("abcd", IT_FRAME_LINE, 3, "", -1, EMSGSIZE);
	FRAMES("a\0b\0", IT_FRAME_NUL, 10, "a|b", 0, 0);
	FRAMES("a\nb\0c", IT_FRAME_NUL, 10, "a\nb|c", 0, 0);
	FRAMES("a\nb\0", IT_FRAME_WHOLE, 10, "a\nb\0", 0, 0);
	FRAMES("", IT_FRAME_WHOLE, 10, "", 0, 0);
	FRAMES("abcd", IT_FRAME_WHOLE, 3, "", -1, EMSGSIZE);
	FRAMES("3:abc,0:,1:\n,", IT_FRAME_NETSTRING, 10, "abc||\n", 0, 0);
	FRAMES("3:abc,4:abcd,", IT_FRAME_NETSTRING, 3, "abc", -1, EMSGSIZE);
	FRAMES("3:abc", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG);   /* truncated */
	FRAMES("3:abcd", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG);  /* no comma */
	FRAMES("03:abc,", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG); /* leading 0 */
	FRAMES(":abc,", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG);
	FRAMES("x:abc,", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG);
	FRAMES("3:abc,\n", IT_FRAME_NETSTRING, 10, "abc", -1, EBADMSG);
	FRAMES("3", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG);
	FRAMES("99999999999999999999:", IT_FRAME_NETSTRING, 10, "", -1, EBADMSG);
	FRAMES("9999999999999999999:", IT_FRAME_NETSTRING, 10, "", -1, EMSGSIZE);

	/* Messages that straddle the reader's 64 KiB chunks come out whole,
	 * and a 1 MiB line is read without holding the whole input at once. */
	size_t big = 3 * 65536 + 17;
	char *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (i % 1000 == 999) ? '\n' : 'x';
	data[big - 1] = '\n';
	int fd = memfile(data, big);
	struct it_reader r;
	it_reader_init(&r, fd, IT_FRAME_LINE);
	const char *msg;
	size_t len, total = 0, count = 0;
	int rc;
	while ((rc = it_read_msg(&r, 999, &msg, &len)) == 1) {
		total += len + 1;
		count++;
		if (memchr(msg, '\n', len))
			break;
	}
	CHECK(rc == 0 && total == big && count == big / 1000 + 1);
	it_reader_free(&r);
	close(fd);

	/* After an early stop, the unread input is given back to a seekable
	 * file: the next reader starts right after the last message taken. */
	fd = memfile("one\ntwo\nthree\n", 14);
	it_reader_init(&r, fd, IT_FRAME_LINE);
	CHECK(it_read_msg(&r, 10, &msg, &len) == 1 && len == 3);
	it_reader_giveback(&r);
	CHECK(lseek(fd, 0, SEEK_CUR) == 4);
	it_reader_free(&r);
	close(fd);
	free(data);
}

/* Runs the writer over three messages and returns what it produced. */
static void written(enum it_framing fr, char *out, size_t outlen)
{
	int fd = memfd_create("unit", 0);
	struct it_writer w;
	it_writer_init(&w, fd, fr);
	CHECK(it_write_msg(&w, "ab", 2) == 0);
	CHECK(it_write_msg(&w, "", 0) == 0);
	CHECK(it_write_msg2(&w, "7\t", 2, "c\n", 2) == 0);
	CHECK(it_writer_flush(&w) == 0);
	ssize_t n = pread(fd, out, outlen - 1, 0);
	out[n < 0 ? 0 : n] = '\0';
	close(fd);
}

static void test_writer(void)
{
	char out[128];
	written(IT_FRAME_LINE, out, sizeof out);
	CHECK(strcmp(out, "ab\n\n7\tc\n\n") == 0);
	written(IT_FRAME_NETSTRING, out, sizeof out);
	CHECK(strcmp(out, "2:ab,0:,4:7\tc\n,") == 0);
	written(IT_FRAME_WHOLE, out, sizeof out);
	CHECK(strcmp(out, "ab7\tc\n") == 0);

	/* A message larger than the writer's buffer goes out intact. */
	size_t big = 200000;
	char *data = malloc(big), *back = malloc(big + 32);
	memset(data, 'y', big);
	int fd = memfd_create("unit", 0);
	struct it_writer w;
	it_writer_init(&w, fd, IT_FRAME_NETSTRING);
	CHECK(it_write_msg(&w, "x", 1) == 0 && it_write_msg(&w, data, big) == 0);
	CHECK(it_writer_flush(&w) == 0);
	ssize_t n = pread(fd, back, big + 32, 0);
	CHECK(n == (ssize_t)(4 + 7 + big + 1) && memcmp(back, "1:x,200000:", 11) == 0 &&
	      back[n - 1] == ',');
	close(fd);
	free(data);
	free(back);
}

/* Captures what the metadata printer writes on stdout. */
static void meta(bool json, char *out, size_t outlen)
{
	fflush(stdout);
	int saved = dup(1), fd = memfd_create("unit", 0);
	dup2(fd, 1);
	struct it_meta m;
	it_meta_begin(&m, json);
	it_meta_int(&m, "id", -3);
	it_meta_str(&m, "name", "/q");
	it_meta_str(&m, "owner", "it's \"x\"");
	it_meta_str(&m, "empty", "");
	it_meta_end(&m);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ssize_t n = pread(fd, out, outlen - 1, 0);
	out[n < 0 ? 0 : n] = '\0';
	close(fd);
}

static void test_meta(void)
{
	char out[256];
	meta(false, out, sizeof out);
	CHECK(strcmp(out, "id=-3\nname=/q\nowner='it'\\''s \"x\"'\nempty=''\n") == 0);
	meta(true, out, sizeof out);
	CHECK(strcmp(out, "{\"id\":-3,\"name\":\"/q\",\"owner\":\"it's \\\"x\\\"\","
			  "\"empty\":\"\"}\n") == 0);
}

static void test_time(void)
{
	CHECK(it_deadline(IT_FOREVER) == IT_FOREVER);
	CHECK(it_left_ns(IT_FOREVER) == IT_FOREVER && it_left_ms(IT_FOREVER) == -1);
	int64_t d = it_deadline(1000000000);
	CHECK(it_left_ns(d) > 0 && it_left_ns(d) <= 1000000000);
	CHECK(it_left_ms(d) > 0 && it_left_ms(d) <= 1000);
	CHECK(it_left_ns(it_deadline(0)) == 0 && it_left_ms(it_deadline(0)) == 0);
	CHECK(it_deadline(INT64_MAX) == INT64_MAX);
	struct timespec ts = it_ns_to_ts(1500000000);
	CHECK(ts.tv_sec == 1 && ts.tv_nsec == 500000000);
	struct timespec now, abs = it_realtime_abs(it_deadline(2000000000));
	clock_gettime(CLOCK_REALTIME, &now);
	CHECK(abs.tv_sec >= now.tv_sec + 1 && abs.tv_sec <= now.tv_sec + 2 &&
	      abs.tv_nsec >= 0 && abs.tv_nsec < 1000000000);
}

static void test_exit_codes(void)
{
	CHECK(it_exit_for(ENOENT) == 66 && it_exit_for(EIDRM) == 66);
	CHECK(it_exit_for(EEXIST) == 73);
	CHECK(it_exit_for(EACCES) == 77 && it_exit_for(EPERM) == 77);
	CHECK(it_exit_for(ECONNREFUSED) == 69);
	CHECK(it_exit_for(EMSGSIZE) == 65 && it_exit_for(EBADMSG) == 65);
	CHECK(it_exit_for(EPIPE) == 74 && it_exit_for(EIO) == 74);
	CHECK(it_exit_for(EAGAIN) == 1 && it_exit_for(ETIMEDOUT) == 1);
	CHECK(it_exit_for(ENOMEM) == 71 && it_exit_for(EINVAL) == 71);
}

/* lib/pack.c: sizes, offsets, byte order, both directions. */
static void test_pack(void)
{
	struct it_pack p;
	char why[128], line[256];
	unsigned char rec[64];
	size_t field;
	CHECK(it_pack_parse(&p, "30s c i i i", why, sizeof why) == 0 &&
	      p.size == 44 && p.n == 5 && p.f[2].offset == 32);
	it_pack_free(&p);
	CHECK(it_pack_parse(&p, "c d", why, sizeof why) == 0 && p.size == 16);
	it_pack_free(&p);
	CHECK(it_pack_parse(&p, "<c d", why, sizeof why) == 0 && p.size == 9);
	it_pack_free(&p);
	CHECK(it_pack_parse(&p, "i c 0i", why, sizeof why) == 0 && p.size == 8 &&
	      p.n == 2);
	it_pack_free(&p);
	CHECK(it_pack_parse(&p, "3x 2h", why, sizeof why) == 0 && p.size == 8 &&
	      p.n == 2 && p.f[0].offset == 4);
	it_pack_free(&p);
	REJECTS(it_pack_parse(&p, "i j", why, sizeof why), EINVAL);
	REJECTS(it_pack_parse(&p, "=N", why, sizeof why), EINVAL);
	REJECTS(it_pack_parse(&p, "4", why, sizeof why), EINVAL);
	REJECTS(it_pack_parse(&p, "x", why, sizeof why), EINVAL);
	REJECTS(it_pack_parse(&p, "16777217s", why, sizeof why), EINVAL);
	CHECK(it_pack_parse(&p, ">H i", why, sizeof why) == 0);
	CHECK(it_pack(&p, "258	-2", 6, rec, &field, why, sizeof why) == 0 &&
	      rec[0] == 1 && rec[1] == 2 && rec[2] == 0xff && rec[5] == 0xfe);
	CHECK(it_unpack(&p, rec, line) == 6 && memcmp(line, "258	-2", 6) == 0);
	REJECTS(it_pack(&p, "65536	1", 7, rec, &field, why, sizeof why), EINVAL);
	CHECK(field == 1);
	REJECTS(it_pack(&p, "1	2147483648", 12, rec, &field, why, sizeof why),
		EINVAL);
	CHECK(field == 2);
	CHECK(it_pack(&p, "1	-2147483648", 13, rec, &field, why, sizeof why) == 0);
	it_pack_free(&p);
	CHECK(it_pack_parse(&p, "4s", why, sizeof why) == 0);
	CHECK(it_pack(&p, "a\\\\\\t", 5, rec, &field, why, sizeof why) == 0 &&
	      memcmp(rec, "a\\\t\0", 4) == 0);
	CHECK(it_unpack(&p, rec, line) == 5 && memcmp(line, "a\\\\\\t", 5) == 0);
	it_pack_free(&p);
	/* Python's whitespace between items; \r \v \f too */
	CHECK(it_pack_parse(&p, "i\r\v\fh", why, sizeof why) == 0 && p.n == 2);
	/* an extra field is named as the one past the format's */
	REJECTS(it_pack(&p, "1\t2\t3", 5, rec, &field, why, sizeof why), EINVAL);
	CHECK(field == 3);
	/* a NUL in a field shows in the message, the field not cut at it */
	REJECTS(it_pack(&p, "1\0002\t3", 5, rec, &field, why, sizeof why),
		EINVAL);
	CHECK(field == 1 && strstr(why, "'1\\x002'") != NULL);
	it_pack_free(&p);
	/* floats: overflow and total underflow do not fit; subnormals round */
	CHECK(it_pack_parse(&p, "<d", why, sizeof why) == 0);
	REJECTS(it_pack(&p, "1e400", 5, rec, &field, why, sizeof why), EINVAL);
	REJECTS(it_pack(&p, "-1e400", 6, rec, &field, why, sizeof why), EINVAL);
	REJECTS(it_pack(&p, "1e-400", 6, rec, &field, why, sizeof why), EINVAL);
	REJECTS(it_pack(&p, "+1", 2, rec, &field, why, sizeof why), EINVAL);
	REJECTS(it_pack(&p, "-", 1, rec, &field, why, sizeof why), EINVAL);
	CHECK(it_pack(&p, "-Infinity", 9, rec, &field, why, sizeof why) == 0);
	CHECK(it_pack(&p, "NaN", 3, rec, &field, why, sizeof why) == 0);
	memset(rec, 0, 8);
	rec[0] = 1;     /* the least subnormal double: 5e-324, fewest digits */
	CHECK(it_unpack(&p, rec, line) == 6 && memcmp(line, "5e-324", 6) == 0);
	it_pack_free(&p);
	CHECK(it_pack_parse(&p, "<f", why, sizeof why) == 0);
	REJECTS(it_pack(&p, "1e39", 4, rec, &field, why, sizeof why), EINVAL);
	REJECTS(it_pack(&p, "1e-46", 5, rec, &field, why, sizeof why), EINVAL);
	CHECK(it_pack(&p, "1e-40", 5, rec, &field, why, sizeof why) == 0);
	CHECK(it_unpack(&p, rec, line) == 5 && memcmp(line, "1e-40", 5) == 0);
	it_pack_free(&p);
}

static int stop_now(void)
{
	return 1;
}

/* it_write_some: whole writes, and a stop that ends one at once. */
static void test_write_some(void)
{
	int p[2];
	char buf[100] = "x";
	CHECK(pipe(p) == 0);
	CHECK(it_write_some(p[1], buf, sizeof buf, NULL) == sizeof buf);
	errno = 0;
	CHECK(it_write_some(p[1], buf, sizeof buf, stop_now) == 0 && errno == EINTR);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK(it_write_some(p[1], buf, sizeof buf, NULL) == 0 && errno == EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
}

int main(void)
{
	memset(huge, '9', sizeof huge - 1);
	test_long();
	test_key();
	test_size();
	test_duration();
	test_mode();
	test_fd();
	test_signals();
	test_names();
	test_framing();
	test_writer();
	test_write_some();
	test_pack();
	test_meta();
	test_time();
	test_exit_codes();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
