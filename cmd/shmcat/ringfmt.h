/* ringfmt.h: the ring's format in the segment (the header, the records,
 * the slots) and the small helpers that ring.c (attaching, the lock, the
 * recovery of dead peers) and ringio.c (reserving, committing, claiming)
 * share. Nothing else includes it: shmcat and the fuzzer use ring.h. */
#ifndef RINGFMT_H
#define RINGFMT_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ring.h"

#define MAGIC 0x47525449u      /* "ITRG" in memory order, little-endian */
#define VERSION 1u
#define NSLOT 32
#define SLICE_NS 200000000LL   /* how soon a dead peer is noticed */
#define LOCK_SLICE_NS 100000000LL
#define LOCK_BOUND_NS 2000000000LL  /* shmcat(1) documents the 2 s */
#define TURN_STALE_NS (SLICE_NS * 5 / 2)

/* Test builds (tests/shmcat.bats compiles one with -DIT_RING_HOOKS) stop
 * or kill themselves at a named step, so that every intermediate state a
 * crash or a Ctrl-Z can leave is tried; other builds have no hook. */
#ifdef IT_RING_HOOKS
#include <stdlib.h>
static inline void hook(const char *step)
{
	const char *want = getenv("IT_RING_HOOK");
	const char *sig = getenv("IT_RING_HOOK_SIG");
	static bool fired;
	if (!fired && want && strcmp(want, step) == 0 && (fired = true))
		raise(sig && strcmp(sig, "STOP") == 0 ? SIGSTOP : SIGKILL);
}
#define HOOK(step) hook(step)
#else
#define HOOK(step) ((void)0)
#endif

enum { R_RESERVED = 1, R_COMMITTED, R_CLAIMED, R_DONE, R_PAD };

struct slot {
	pthread_mutex_t m;      /* held by the attached process */
	int32_t pid;
	uint32_t used;
};

/* The layout is part of the format: shmcat(1) documents the offsets of
 * magic, version, capacity, head and tail (0, 4, 16, 24, 32), and of
 * the dropped counters (3720, 3728). */
struct ring {
	_Atomic uint32_t magic;
	uint32_t version;
	uint32_t hdr;           /* RING_HDR: where the records start */
	uint32_t nslot;
	uint64_t capacity;
	uint64_t head, tail;
	uint64_t bytes_in, bytes_out;
	_Atomic uint32_t data_seq, space_seq;   /* futex words */
	uint32_t data_waiters, space_waiters;
	uint32_t sessions;      /* writers ever attached */
	uint32_t writers, readers;
	uint32_t pad0;
	pthread_mutex_t lock;
	struct slot w[NSLOT], r[NSLOT];
	/* Writers waiting for room take turns, oldest ticket first, so that
	 * one that keeps its input busy never starves one that waits. A turn
	 * not refreshed within TURN_STALE_NS (a stopped or dead waiter)
	 * holds nobody back. Zero in a ring made before: no turns. */
	struct turn {
		uint64_t ticket;
		int64_t seen;   /* CLOCK_MONOTONIC ns */
	} turn[NSLOT];
	uint64_t tickets;
	/* Chunks that write --full dropped (overwrite, discard) and their
	 * bytes; shmcat(1) documents the offsets. Zero in a ring made before. */
	uint64_t dropped, bytes_dropped;
	/* A drop in progress (ring_redo): what dropped, bytes_dropped and
	 * bytes_in are once it is done, and the record taken off, + 1 (0:
	 * none). Written whole before j_on is set, so that the next locker
	 * redoes the drop of a process killed in the middle of it. */
	uint64_t j_dropped, j_bytes, j_in, j_pos;
	_Atomic uint32_t j_on;
	uint32_t pad1;
};

struct rec {
	_Atomic uint32_t state;
	uint32_t who;           /* low 8 bits: the slot of the writer or reader
				 * that holds it; above: bytes of the payload
				 * already delivered (a reader cut short) */
	uint32_t size;          /* whole record, a multiple of 16 */
	uint32_t len;           /* payload bytes */
};

#define OWNER(c) ((c)->who & 0xffu)
#define DELIVERED(c) ((c)->who >> 8)

_Static_assert(sizeof(struct ring) <= RING_HDR, "ring header too big");
_Static_assert(offsetof(struct ring, head) == 24, "format offsets");
_Static_assert(offsetof(struct ring, tail) == 32, "format offsets");
_Static_assert(offsetof(struct ring, dropped) == 3720, "format offsets");
_Static_assert(offsetof(struct ring, bytes_dropped) == 3728, "format offsets");

static inline uint64_t align16(uint64_t n)
{
	return (n + 15) & ~(uint64_t)15;
}

static inline int fail(int err)
{
	errno = err;
	return -1;
}

static inline void futex_wait(_Atomic uint32_t *word, uint32_t val, int64_t ns)
{
	struct timespec ts = it_ns_to_ts(ns);
	syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static inline void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static inline void wake(_Atomic uint32_t *seq, uint32_t waiters)
{
	atomic_fetch_add(seq, 1);
	if (waiters)
		futex_wake(seq);
}

/* The record at counter pos, checked against the ring's bounds. */
static inline struct rec *rec_at(const struct ring_handle *h, uint64_t pos,
				      uint64_t head)
{
	uint64_t off = pos % h->cap;
	if (pos % 16 || pos >= head)
		return NULL;
	struct rec *c = (struct rec *)(h->data + off);
	uint32_t st = atomic_load(&c->state), size = c->size, len = c->len;
	if (st < R_RESERVED || st > R_PAD || size < 16 || size % 16 ||
	    off + size > h->cap || pos + size > head || len > size - 16 ||
	    OWNER(c) >= NSLOT || DELIVERED(c) > len)
		return NULL;
	return c;
}

/* ring.c */
int ring_lock_by(struct ring_handle *h, int64_t deadline);
int ring_lock(struct ring_handle *h);
void ring_unlock(struct ring_handle *h);
int ring_bad(struct ring_handle *h);
int ring_advance(struct ring_handle *h);
int ring_reap(struct ring_handle *h);
int ring_redo(struct ring_handle *h);

#endif
