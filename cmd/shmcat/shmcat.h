/* shmcat.h: what the files of shmcat share, its types and the functions
 * one file calls in another. shmcat(1) is the tool's description; each
 * file says what it holds. */
#ifndef SHMCAT_H
#define SHMCAT_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipctools.h"
#include "ring.h"

/* The largest record a writer publishes, or a reader writes out before
 * it marks it delivered, unless one --atomic unit is larger: what a
 * reader killed by SIGKILL can deliver again (shmcat(1), Crash safety).
 * A record is cut only between whole units or lines. */
#define CHUNK (64u << 10)

#define DEFAULT_RING (1u << 20)

/* --nowait: how long standard output may take a batch (ring.c's lock
 * slice, shmcat(1)). */
#define NOWAIT_OUTPUT_NS 100000000LL

enum cmd { LOAD, DUMP, STAT, RM, SET, WRITE, READ, NCMD };

enum {
	O_CREATE = 1 << 0, O_MODE = 1 << 1, O_RM = 1 << 2, O_SIZE = 1 << 3,
	O_OFFSET = 1 << 4, O_LENGTH = 1 << 5, O_JSON = 1 << 6, O_OWNER = 1 << 7,
	O_ATOMIC = 1 << 8, O_LINES = 1 << 9, O_FOLLOW = 1 << 10,
	O_TIMEOUT = 1 << 11, O_NOWAIT = 1 << 12, O_READY = 1 << 13,
	O_PACK = 1 << 14, O_UNPACK = 1 << 15, O_FULL = 1 << 16,
};

/* write --full: what a full ring does to the next chunk; fail is
 * --nowait. */
enum full { FULL_WAIT, FULL_OVERWRITE, FULL_DISCARD, FULL_FAIL };

struct args {
	struct it_obj obj;
	struct it_create create;
	enum cmd cmd;
	unsigned used;
	uint64_t size, offset, length, atomic;
	enum full full;
	struct it_owner owner;    /* set --owner */
	int64_t timeout;
	int ready_fd;
	struct it_wait wait;      /* -w, --nowait and --ready-fd as given */
	struct it_pack pack;    /* --pack or --unpack FORMAT */
};

struct seg {
	const struct it_obj *obj;
	const char *label;
	bool posix, created;
	bool can_create;        /* the command takes --create, for messages */
	int id, fd;
	unsigned char *base;    /* System V: attached; POSIX: see map_all */
	size_t size;
	struct shmid_ds ds;     /* System V: as found when opened */
};

/* main.c */
extern const struct it_cmd cmds[NCMD];

/* seg.c */
_Noreturn void missing(const struct seg *s);
void open_seg_at(struct seg *s, const struct args *a, bool rw,
		 size_t create_size, bool attach);
void open_seg(struct seg *s, const struct args *a, bool rw,
	      size_t create_size);
void map_all(struct seg *s, bool rw);
void remove_seg(const struct seg *s);
_Noreturn void corrupt(const struct seg *s, const char *why);

/* raw.c */
_Noreturn void read_failed(int err);
extern const struct seg *made;
void unmake(void);
int load(struct args *a);
int dump(struct args *a);
void catch_bus(const struct seg *s);
int stat_seg(struct args *a);
int set_seg(struct args *a);
int rm_seg(struct args *a);

/* records.c */
int load_records(struct args *a);
int dump_records(struct args *a);

/* stream.c */
extern volatile sig_atomic_t stop;
void catch_stops(void);
_Noreturn void exit_signal(int sig);
bool seg_gone(void *arg);
extern size_t held;
extern uint64_t published;
void give_back(char *note, size_t size);
size_t default_atomic(uint64_t capacity);
_Noreturn void ring_removed(const struct seg *s, const char *note);
_Noreturn void ring_fail(struct seg *s, struct ring_handle *h, int err,
			 bool writer);
void open_ring(struct seg *s, struct args *a, struct ring_handle *h,
	       bool writer);

/* write.c */
int write_ring(struct args *a);

/* read.c */
int read_ring(struct args *a);

#endif
