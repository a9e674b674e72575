/* mqsend.h: what the files of mqsend share: its options as parsed, and
 * --call (call.c) for main.c. mqsend(1) is the tool's description. */
#ifndef MQSEND_H
#define MQSEND_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/msg.h>

#include "ipctools.h"

/* What a full queue does to the next message (--full): the notes' three
 * choices, and --nowait's. */
enum full { FULL_WAIT, FULL_OVERWRITE, FULL_DISCARD, FULL_FAIL };

struct args {
	struct it_obj obj;
	struct it_create create;
	enum it_framing framing;
	struct it_mq_attr attr;
	long type;            /* System V type, or POSIX priority */
	bool type_given, prio_given;
	bool typed, nowait, stat, json, packed;
	enum full full;       /* --full; --nowait is FULL_FAIL */
	struct it_pack pack;  /* --pack FORMAT */
	unsigned char *rec;   /* one record of it */
	int64_t timeout;
	struct it_wait wait;  /* --nowait and -w as given */
	bool call;            /* --call: one request, then its reply */
	char **msgs;          /* the operands, if any */
	int nmsgs;
};

/* call.c: --call, from opening the queue to the exit status. */
_Noreturn void call(const struct args *a);

#endif
