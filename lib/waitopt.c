/* waitopt.c: the options of waiting, one argp child for every tool that
 * blocks (CONTRACT sections 3 and 4): -w/--timeout, --nowait and
 * --ready-fd, parsed, checked against each other and refused with one
 * wording everywhere. A tool whose help says what it waits for gives its
 * own option table (its words, these keys) to the same parser. */
#include <errno.h>

#include "ipctools.h"

error_t it_wait_parse(int key, char *arg, struct argp_state *state)
{
	struct it_wait *w = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		w->timeout = IT_FOREVER;
		w->timeout_arg = NULL;
		w->ready_fd = -1;
		w->timed = w->nowait = false;
		break;
	case 'w':
		it_argp_duration(state, arg, &w->timeout);
		w->timeout_arg = arg;
		w->timed = true;
		break;
	case IT_KEY_NOWAIT:
		w->nowait = true;
		break;
	case IT_KEY_READY:
		it_argp_fd(state, arg, &w->ready_fd);
		break;
	case ARGP_KEY_END:
		if (w->timed && w->nowait)
			argp_error(state, "--nowait and --timeout: choose one");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The generic words, for a tool that has nothing to add: all three, or
 * from the second on (--nowait and -w), or the last (-w). */
static const struct argp_option wait_options[] = {
	{"ready-fd", IT_KEY_READY, "FD", 0, "once ready, write a newline to FD "
	 "(3 or more) and close it", 0},
	{"nowait", IT_KEY_NOWAIT, NULL, 0, "never wait: exit 1 at once", 0},
	{"timeout", 'w', "DURATION", 0, "wait at most DURATION (250ms, 1.5s, "
	 "2m; a bare number is seconds), then exit 1", 0},
	{0}
};

const struct argp it_wait_argp = {wait_options, it_wait_parse, NULL, NULL,
				  NULL, NULL, NULL};

unsigned it_wait_used(const struct it_wait *w, unsigned timeout,
		      unsigned nowait, unsigned ready)
{
	return (w->timed ? timeout : 0) | (w->nowait ? nowait : 0) |
	       (w->ready_fd >= 0 ? ready : 0);
}
