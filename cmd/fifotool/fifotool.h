/* fifotool.h: what the files of fifotool share, its types and the
 * functions one file calls in another. fifotool(1) is the tool's
 * description; each file says what it holds. */
#ifndef FIFOTOOL_H
#define FIFOTOOL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipctools.h"

/* Bytes asked of one splice(2): more than a pipe holds, so a call moves
 * all that is there. */
#define CHUNK (1 << 20)

enum cmd { MK, RM, WRITE, READ, TEST, NCMD };

/* One bit per option, to check in one place which command takes which. */
enum {
	O_MODE = 1 << 0, O_EXIST_OK = 1 << 1, O_TMP = 1 << 2,
	O_NONBLOCK_ = 1 << 3, O_TIMEOUT = 1 << 4, O_LINES = 1 << 5,
	O_KEEP = 1 << 6, O_READY = 1 << 7, O_ANY = 1 << 8,
};

struct args {
	enum cmd cmd;
	char **paths;
	int npaths;
	unsigned used;
	mode_t mode;
	int64_t timeout;
	int ready_fd;
	struct it_wait wait;        /* -w and --ready-fd as given */
};

/* fifo.c */
void mk_one(const struct args *a, const char *path);
void mk_tmp(const struct args *a);
void rm_one(const struct args *a, const char *path);
int test_fifo(const struct args *a, const char *path);
int open_fifo(const struct args *a, int flags, int64_t deadline);
void set_blocking(int fd);

/* move.c */
extern int64_t stall_ns;
void progress(void);
int stalled(void);
_Noreturn void stall_failed(int fd, const char *path, size_t lost);
_Noreturn void unread_died(const char *path, int unread);
ssize_t move(int in, int out, bool fifo_in, bool *bad_out, size_t *lost);
_Noreturn void move_failed(int out, bool bad_out, size_t lost,
			   const char *inname, const char *outname);
void copy(int in, const char *inname, int out, const char *outname,
	  bool fifo_in);

/* write.c */
int write_fifo(struct args *a);

/* read.c */
int read_fifo(struct args *a);

#endif
