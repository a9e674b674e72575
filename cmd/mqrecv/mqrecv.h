/* mqrecv.h: what the files of mqrecv share, its types and the functions
 * one file calls in another. mqrecv(1) is the tool's description; each
 * file says what it holds. */
#ifndef MQRECV_H
#define MQRECV_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

struct args {
	struct it_obj obj;
	struct it_create create;
	enum it_framing framing;
	struct it_mq_attr attr;
	long type;
	bool type_given;
	long count;
	bool follow, except, print_type, print_prio, nowait, truncate, stat, json;
	int64_t timeout, putback_timeout;
	bool putback_given;
	int ready_fd;
	struct it_wait wait;    /* --nowait, -w and --ready-fd as given */
	bool unpacked;
	struct it_pack pack;    /* --unpack FORMAT */
	bool reply;             /* --reply: answer requests by running cmd */
	char **cmd;             /* CMD [ARG...] */
};

/* The message in hand and how standard output takes it (out.c): one for
 * the whole run, since one message at a time is ever in hand. */
struct out {
	bool pipe;
	enum it_framing framing;
	bool prefix;            /* --print-type or --print-priority */
	char *buf;              /* the message in hand, framed */
	size_t len;
	long type;              /* its type or priority */
	size_t text, msglen;    /* where its own bytes start in buf, how many */
	const char *raw;        /* the message as taken: what goes back */
	size_t rawlen;
	const struct it_pack *unpack;   /* --unpack: records become lines */
	char *line;             /* the record in hand as a line */
	bool in_pipe;           /* written into the pipe, maybe not read yet */
	bool rm_kept;           /* a put-back made --rm leave the queue */
	const char *refused;    /* why the message in hand goes back, if not
				   for the output's sake (--unpack) */
	int64_t putback_ns;     /* how long a put-back may wait for room */
	int64_t write_ns;       /* -w: how long a write may block */
	int64_t deadline;       /* -w: when the message in hand must be read */
};

/* out.c */
extern struct out out;
void out_init(const struct args *a, const struct it_mq *q);
_Noreturn void end_by(const struct it_mq *q, int sig);
void put_back(struct it_mq *q);
void deliver(struct it_mq *q, long type, size_t len);

/* reader.c */
void before_take(struct it_mq *q);
int finish(struct it_mq *q, int sig);

/* reply.c */
int serve(const struct args *a, struct it_mq *q);

/* take.c */
int receive(const struct args *a, struct it_mq *q);

#endif
