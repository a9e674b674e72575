/* libprobe.c: a test driver for the parts of lib/ that only show end to
 * end: the argp children (naming, creation, framing) with their usage
 * errors and exit status, and the framing reader and writer on real
 * descriptors. Not installed; tests/lib.bats runs it.
 *
 *   libprobe [naming] [creation] [framing] [--max N] [--out FRAMING] [--copy]
 *
 * prints what it parsed as key=value lines, or with --copy re-frames stdin
 * to stdout (messages of at most --max bytes), as a tool would. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipctools.h"

enum { OPT_MAX = 0x2000, OPT_COPY, OPT_TIMEOUT, OPT_READY, OPT_OUT };

struct args {
	struct it_obj obj;
	struct it_create create;
	enum it_framing framing, out;
	uint64_t max;
	int64_t timeout;
	int ready;
	bool copy;
};

static const struct argp_option options[] = {
	{"max", OPT_MAX, "SIZE", 0, "largest message (default 8k)", 0},
	{"copy", OPT_COPY, NULL, 0, "re-frame stdin to stdout", 0},
	{"out", OPT_OUT, "FRAMING", 0, "output framing: lines null whole netstring", 0},
	{"timeout", OPT_TIMEOUT, "DURATION", 0, "a duration to parse", 0},
	{"ready-fd", OPT_READY, "FD", 0, "say ready on FD", 0},
	{0}
};

static const struct argp_child children[] = {
	{&it_obj_argp, 0, "Naming:", 1},
	{&it_create_argp, 0, "Creation:", 2},
	{&it_frame_argp, 0, "Framing:", 3},
	{0}
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	static const char *const framings[] = { "lines", "null", "whole",
						"netstring" };
	switch (key) {
	case ARGP_KEY_INIT:
		IT_ARGP_INPUTS(state, &a->obj, &a->create, &a->framing);
		break;
	case OPT_MAX:
		if (it_parse_size(arg, 1u << 30, &a->max))
			it_argp_bad(state, "size", arg);
		break;
	case OPT_COPY:
		a->copy = true;
		break;
	case OPT_OUT:
		for (size_t i = 0; i < 4; i++)
			if (strcmp(arg, framings[i]) == 0)
				a->out = (enum it_framing)i;
		break;
	case OPT_TIMEOUT:
		it_argp_duration(state, arg, &a->timeout);
		break;
	case OPT_READY:
		it_argp_fd(state, arg, &a->ready);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected operand '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int copy(struct args *a)
{
	struct it_reader r;
	struct it_writer w;
	const char *msg;
	size_t len;
	int rc;
	it_reader_init(&r, STDIN_FILENO, a->framing);
	it_writer_init(&w, STDOUT_FILENO, a->out);
	while ((rc = it_read_msg(&r, a->max, &msg, &len)) == 1)
		if (it_write_msg(&w, msg, len) < 0)
			it_xfail(errno, "write", "standard output", NULL);
	int err = errno;
	if (it_writer_flush(&w) < 0)
		it_xfail(errno, "write", "standard output", NULL);
	it_reader_giveback(&r);
	it_reader_free(&r);
	if (rc < 0)
		it_xfail(err, "read", "standard input", NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .max = 8192, .timeout = IT_FOREVER, .ready = -1,
			  .out = IT_FRAME_LINE };
	struct argp argp = { options, parse, NULL, "Test driver for lib/.",
			     children, NULL, NULL };
	atexit(it_close_stdout);
	/* --copy needs no object; the naming child insists on one otherwise. */
	bool copying = false;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--copy") == 0)
			copying = true;
	if (copying)
		a.obj.kind = IT_OBJ_KEY;
	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (a.copy)
		return copy(&a);
	it_xready(&a.ready);
	it_xobj_resolve(&a.obj);
	struct it_meta m;
	it_meta_begin(&m, false);
	it_meta_str(&m, "object", it_obj_label(&a.obj));
	it_meta_int(&m, "key", (uint32_t)a.obj.key);
	it_meta_int(&m, "posix", it_obj_is_posix(&a.obj));
	it_meta_int(&m, "sysv_flags", it_sysv_flags(&a.create));
	it_meta_int(&m, "posix_oflags", it_posix_oflags(&a.create));
	it_meta_int(&m, "rm", a.create.rm);
	it_meta_int(&m, "framing", a.framing);
	it_meta_int(&m, "timeout_ns", a.timeout);
	it_meta_end(&m);
	return 0;
}
