/* ring.h: the ring of write and read, a crash-safe byte stream in a
 * shared memory segment (ring.c). A header of its own, apart from
 * shmcat.h, because the fuzzer of the ring's header (tests/fuzz) uses it
 * too. */
#ifndef RING_H
#define RING_H

#include "ipctools.h"

#define RING_HDR 4096   /* bytes of header before the records */
#define RING_NCLAIM 16  /* records a reader may hold at once */

struct ring;
/* What ring_reserve does when the ring is full (write --full): wait for
 * room, take the oldest chunks off (overwrite), or refuse (discard). */
enum ring_full { RING_WAIT, RING_OVERWRITE, RING_DISCARD };

/* One process's handle on a ring; the ring itself is in the segment. */
struct ring_handle {
	struct ring *shared;
	unsigned char *data;
	uint64_t cap;       /* checked on attach, never read again */
	uint64_t cur;       /* the record reserved */
	/* The records claimed and not yet settled, in order, and the bytes
	 * of each that were claimed. */
	uint64_t claim[RING_NCLAIM];
	uint32_t claim_len[RING_NCLAIM];
	int nclaim;
	int slot;           /* our writer or reader slot, -1 if none */
	enum ring_full full;    /* set by the caller, RING_WAIT if not */
	uint64_t took, took_bytes;  /* chunks (bytes) we took off (overwrite) */
	int64_t reaped;     /* when overwrite last looked for the dead */
	bool writer;
	bool reap;          /* look for dead peers at the next chance */
	/* Set by the caller after ring_attach: asked after every wait
	 * whether the segment was removed (then EIDRM). */
	bool (*gone)(void *arg);
	void *gone_arg;
	/* Looked at whenever the lock is slow to come: set means EINTR. */
	volatile sig_atomic_t *stop;
	/* After a lock not had in time (ETIMEDOUT, EINTR, EDEADLK): who
	 * holds it, and its state letter from /proc/PID/stat. */
	pid_t holder;
	char holder_state;
};

struct ring_info {
	uint64_t capacity, used, bytes_in, bytes_out, dropped, bytes_dropped;
	unsigned writers, readers;
};

/* Segment bytes for a ring of capacity bytes. */
size_t ring_size(uint64_t capacity);
/* Makes a new ring in a segment that this process just created. */
int ring_init(void *base, size_t segsize);
/* Checks the header of a segment (untrusted): 0, or -1 with EBADMSG and
 * *why "not an ipctools ring" or "corrupt ring". With wait, gives a
 * segment being created a moment to be initialised. */
int ring_attach(struct ring_handle *h, void *base, size_t segsize, bool wait,
		const char **why);
/* Takes a writer or reader slot (-1 with EUSERS when all are taken).
 * Every call that locks fails when the lock is not had by the deadline
 * (ETIMEDOUT) or within 2 s (EDEADLK), or when *h->stop is set while
 * waiting for it (EINTR); h->holder then names the holder. */
int ring_join(struct ring_handle *h, bool writer, int64_t deadline);
void ring_leave(struct ring_handle *h);
/* Reserves room for a record of min to max bytes; *buf and *len are where
 * to put the payload. A full ring under RING_OVERWRITE has its oldest
 * chunks taken off (never one a reader holds, nor one being written).
 * -1 with errno ENOSPC (full, and RING_DISCARD, or RING_OVERWRITE with
 * the oldest chunk held: the caller drops its chunk and says so with
 * ring_discard), EAGAIN (full, nowait), ETIMEDOUT,
 * EINTR (*stop was set), EIDRM (h->gone said so), EMSGSIZE (min over half
 * the capacity), EBADMSG. */
int ring_reserve(struct ring_handle *h, size_t min, size_t max,
		 int64_t deadline, bool nowait, volatile sig_atomic_t *stop,
		 void **buf, size_t *len);
/* The most payload ring_reserve gives for min to max bytes, however
 * much room there is: max, or less under RING_OVERWRITE and RING_DISCARD
 * (a quarter of the ring, or min): the most a dropped chunk holds. */
size_t ring_most(const struct ring_handle *h, size_t min, size_t max);
/* Publishes len bytes of the reservation (0 drops it). */
int ring_commit(struct ring_handle *h, size_t len);
/* Counts a chunk of len bytes dropped because the ring was full (after
 * ENOSPC): in the ring's bytes written and its dropped counters. */
int ring_discard(struct ring_handle *h, size_t len);
/* Claims the next record: 1 with *buf and *len, 0 at the end of the stream
 * (never with follow), -1 with errno as ring_reserve, EAGAIN at once
 * when the next record holds more than most bytes, or ENOBUFS with
 * RING_NCLAIM records claimed already. Claims add up until settled:
 * what a reader killed before ring_done may deliver twice. */
int ring_claim(struct ring_handle *h, bool follow, int64_t deadline,
	       bool nowait, size_t most, volatile sig_atomic_t *stop,
	       const void **buf, size_t *len);
/* The records claimed were delivered; or only their first delivered
 * bytes (in the order claimed) were, and the rest goes back for other
 * readers. */
int ring_done(struct ring_handle *h);
int ring_unclaim(struct ring_handle *h, size_t delivered);
/* Counters for stat; -1 with ENOMSG if base is no ring, EBADMSG if it is
 * a corrupt one. */
int ring_info(const void *base, size_t segsize, struct ring_info *info);

#endif
