/* ringio.c: the stream through the ring: a writer reserves room and
 * commits a record, a reader claims records and settles them once
 * delivered. Apart from ring.c, which attaches and keeps the ring sound,
 * because this is the path every byte takes. */
#include "ringfmt.h"

/* --nowait waits for the lock no longer than one slice. */
static int64_t lock_deadline(int64_t deadline, bool nowait)
{
	return nowait ? it_now_ns() + LOCK_SLICE_NS : deadline;
}

/* One slice of waiting on seq, called locked and returning locked; 0, or
 * -1 with errno ETIMEDOUT (deadline), EINTR (*stop set) or EBADMSG. */
static int wait_on(struct ring_handle *h, _Atomic uint32_t *seq,
		   uint32_t *waiters, int64_t deadline,
		   volatile sig_atomic_t *stop)
{
	int64_t left = it_left_ns(deadline);
	if (stop && *stop) {
		ring_unlock(h);
		return fail(EINTR);
	}
	if (left == 0) {
		ring_unlock(h);
		return fail(ETIMEDOUT);
	}
	uint32_t v = atomic_load(seq);
	(*waiters)++;
	ring_unlock(h);
	futex_wait(seq, v, left == IT_FOREVER || left > SLICE_NS ? SLICE_NS : left);
	if (ring_lock_by(h, deadline) < 0)
		return -1;
	if (*waiters)
		(*waiters)--;
	if (h->gone && h->gone(h->gone_arg)) {
		ring_unlock(h);
		return fail(EIDRM);
	}
	/* Cheap enough to do after every wake: a dead peer is found within
	 * one slice, even when nobody wakes us. */
	h->reap = true;
	return 0;
}

/* Whether a live writer that has waited for room longer than us (mine:
 * our ticket, 0 if we have not waited) is to go first. */
static bool must_yield(const struct ring_handle *h, uint64_t mine)
{
	const struct ring *r = h->shared;
	int64_t now = it_now_ns();
	for (int i = 0; i < NSLOT; i++) {
		const struct turn *t = &r->turn[i];
		if (i == h->slot || !r->w[i].used || !t->ticket ||
		    (mine && t->ticket >= mine) || t->seen > now ||
		    now - t->seen > TURN_STALE_NS)
			continue;
		return true;
	}
	return false;
}

/* Counts a chunk of bytes dropped (in of them never in the ring: they
 * count as written too) and takes the record at pos - 1 off (pos 0:
 * none), in one step that survives our death: the journal is written
 * whole, then marked on, then done (ring_redo), then marked off; killed
 * after the mark, the next locker does it. Called locked; -1 on a bad
 * record. */
static int drop(struct ring_handle *h, uint64_t pos, uint64_t bytes,
		uint64_t in)
{
	struct ring *r = h->shared;
	r->j_dropped = r->dropped + 1;
	r->j_bytes = r->bytes_dropped + bytes;
	r->j_in = r->bytes_in + in;
	r->j_pos = pos;
	atomic_thread_fence(memory_order_seq_cst);
	HOOK("drop-journal");
	atomic_store(&r->j_on, 1);
	HOOK("drop-on");
	return ring_redo(h);
}

/* RING_OVERWRITE, the ring full: takes the oldest record off if it is a
 * whole chunk nobody holds (committed, none of it delivered). 1 taken, 0
 * not (claimed by a reader, partly delivered, or being written: it is
 * never torn, the caller drops its own chunk instead), -1 a bad record.
 * Called locked. */
static int take_oldest(struct ring_handle *h)
{
	struct ring *r = h->shared;
	if (ring_advance(h) < 0)
		return -1;
	if (r->tail == r->head)
		return 0;
	struct rec *c = rec_at(h, r->tail, r->head);
	if (!c)
		return -1;
	if (atomic_load(&c->state) != R_COMMITTED || DELIVERED(c))
		return 0;
	uint32_t len = c->len;
	if (drop(h, r->tail + 1, len, 0) < 0)
		return -1;
	h->took++;
	h->took_bytes += len;
	if (ring_advance(h) < 0)
		return -1;
	HOOK("overwrite-advanced");
	return 1;
}

int ring_discard(struct ring_handle *h, size_t len)
{
	if (ring_lock(h) < 0)
		return -1;
	HOOK("discard-locked");
	if (drop(h, 0, len, len) < 0)
		return ring_bad(h);
	ring_unlock(h);
	return 0;
}

/* What a full ring does under --full: overwrite takes the oldest chunk
 * off (1: try again); discard, or an oldest chunk held, gives up (0:
 * ENOSPC); -1 on a bad record. Who never waits never learns of the dead
 * from a wait: an oldest chunk held by a dead reader or writer would
 * make us drop every chunk of ours, so the slots are looked at then, at
 * most once a slice. */
static int make_room(struct ring_handle *h)
{
	if (h->full != RING_OVERWRITE)
		return 0;
	int rc = take_oldest(h);
	int64_t now = it_now_ns();
	if (rc != 0 || now - h->reaped < SLICE_NS)
		return rc;
	h->reaped = now;
	if (ring_reap(h) < 0)
		return -1;
	return take_oldest(h);
}

/* A flight recorder keeps many chunks, not one as big as the ring: what
 * overwrites or discards is at most a quarter of it (or one unit), and a
 * chunk dropped is counted as the one record it would have been. */
size_t ring_most(const struct ring_handle *h, size_t min, size_t max)
{
	uint64_t need = align16(16 + min), want = align16(16 + max);
	uint64_t quarter = (h->cap / 4) & ~(uint64_t)15;
	if (h->full != RING_WAIT && want > quarter)
		want = need > quarter ? need : quarter;
	return want - 16 < max ? (size_t)(want - 16) : max;
}

int ring_reserve(struct ring_handle *h, size_t min, size_t max,
		 int64_t deadline, bool nowait, volatile sig_atomic_t *stop,
		 void **buf, size_t *len)
{
	struct ring *r = h->shared;
	uint64_t need = align16(16 + min), want = align16(16 + ring_most(h, min, max));
	if (need > h->cap / 2)
		return fail(EMSGSIZE);
	/* A writer that never has to wait must still learn that its ring
	 * was removed: what it writes there reaches nobody. */
	if (h->gone && h->gone(h->gone_arg))
		return fail(EIDRM);
	h->stop = stop;
	if (ring_lock_by(h, lock_deadline(deadline, nowait)) < 0)
		return -1;
	struct turn *turn = &r->turn[h->slot];
	turn->ticket = 0;
	for (;;) {
		if (h->reap && ring_reap(h) < 0)
			return ring_bad(h);
		uint64_t head = r->head, off = head % h->cap;
		uint64_t free = h->cap - (head - r->tail), contig = h->cap - off;
		struct rec *c = (struct rec *)(h->data + off);
		if (contig < need && free >= contig + need) {
			c->who = (uint32_t)h->slot;
			c->size = (uint32_t)contig;
			c->len = 0;
			atomic_store(&c->state, R_PAD);
			r->head = head + contig;
			continue;
		}
		/* Who never waits takes no turn. */
		if (contig >= need && free >= need &&
		    (h->full != RING_WAIT || !must_yield(h, turn->ticket))) {
			uint64_t size = want < contig ? want : contig;
			if (size > free)
				size = free;
			c->who = (uint32_t)h->slot;
			c->size = (uint32_t)size;
			c->len = 0;
			atomic_store(&c->state, R_RESERVED);
			r->head = head + size;
			h->cur = head;
			/* Our turn is over: the next in line may go. */
			if (turn->ticket) {
				turn->ticket = 0;
				wake(&r->space_seq, r->space_waiters);
			}
			ring_unlock(h);
			*buf = c + 1;
			*len = size - 16;
			return 0;
		}
		if (h->full != RING_WAIT) {
			int rc = make_room(h);
			if (rc < 0)
				return ring_bad(h);
			if (rc > 0)
				continue;
			ring_unlock(h);
			return fail(ENOSPC);
		}
		if (nowait) {
			ring_unlock(h);
			return fail(EAGAIN);
		}
		if (!turn->ticket)
			turn->ticket = ++r->tickets;
		turn->seen = it_now_ns();
		if (wait_on(h, &r->space_seq, &r->space_waiters, deadline, stop) < 0)
			return -1;
	}
}

/* Every store below leaves a ring that the next locker can use if this
 * process dies right after it (the HOOK points; tests/shmcat.bats kills a
 * writer at each): the room given back first becomes a padding record
 * inside ours, then ours shrinks over it, then the head moves back. */
int ring_commit(struct ring_handle *h, size_t len)
{
	struct ring *r = h->shared;
	if (ring_lock(h) < 0)
		return -1;
	HOOK("commit-locked");
	struct rec *c = rec_at(h, h->cur, r->head);
	if (!c || atomic_load(&c->state) != R_RESERVED || len > c->size - 16)
		return ring_bad(h);
	c->len = (uint32_t)len;
	uint32_t size = (uint32_t)align16(16 + len);
	if (size < c->size) {
		struct rec *pad = (struct rec *)((unsigned char *)c + size);
		pad->who = OWNER(c);
		pad->size = c->size - size;
		pad->len = 0;
		atomic_store(&pad->state, R_PAD);
		HOOK("commit-pad");
		atomic_thread_fence(memory_order_seq_cst);
		c->size = size;
		atomic_thread_fence(memory_order_seq_cst);
		HOOK("commit-shrunk");
		/* The last reservation gives the room back at once. */
		if (r->head == h->cur + size + pad->size) {
			r->head = h->cur + size;
			atomic_thread_fence(memory_order_seq_cst);
			HOOK("commit-head");
			wake(&r->space_seq, r->space_waiters);
		}
	}
	/* Counted before it is published: killed in between, the ring
	 * has counted a chunk that never came, never read one it had not
	 * counted (counters_sane). */
	if (len == 0) {
		atomic_store(&c->state, R_PAD);
	} else {
		r->bytes_in += len;
		atomic_thread_fence(memory_order_seq_cst);
		atomic_store(&c->state, R_COMMITTED);
		HOOK("commit-state");
		wake(&r->data_seq, r->data_waiters);
	}
	if (ring_advance(h) < 0)
		return ring_bad(h);
	ring_unlock(h);
	return 0;
}

int ring_claim(struct ring_handle *h, bool follow, int64_t deadline,
	       bool nowait, size_t most, volatile sig_atomic_t *stop,
	       const void **buf, size_t *len)
{
	struct ring *r = h->shared;
	h->stop = stop;
	if (h->nclaim == RING_NCLAIM)
		return fail(ENOBUFS);
	if (ring_lock_by(h, lock_deadline(deadline, nowait)) < 0)
		return -1;
	for (;;) {
		if (h->reap && ring_reap(h) < 0)
			return ring_bad(h);
		if (ring_advance(h) < 0)
			return ring_bad(h);
		for (uint64_t pos = r->tail; pos < r->head;) {
			struct rec *c = rec_at(h, pos, r->head);
			if (!c)
				return ring_bad(h);
			if (atomic_load(&c->state) == R_COMMITTED) {
				uint32_t done = DELIVERED(c);
				/* The next record in order is too big for
				 * what the caller has room for: none is
				 * taken, or the order would change. */
				if (c->len - done > most) {
					ring_unlock(h);
					return fail(EAGAIN);
				}
				c->who = done << 8 | (uint32_t)h->slot;
				atomic_store(&c->state, R_CLAIMED);
				h->claim[h->nclaim] = pos;
				h->claim_len[h->nclaim++] = c->len - done;
				*buf = (unsigned char *)(c + 1) + done;
				*len = c->len - done;
				ring_unlock(h);
				HOOK("claim-taken");
				return 1;
			}
			pos += c->size;
		}
		/* Nothing to take. The end of the stream is a ring that some
		 * writer has used and that none is attached to now. */
		if (!follow && r->sessions > 0 && r->writers == 0) {
			ring_unlock(h);
			return 0;
		}
		if (nowait) {
			ring_unlock(h);
			return fail(EAGAIN);
		}
		if (wait_on(h, &r->data_seq, &r->data_waiters, deadline, stop) < 0)
			return -1;
	}
}

/* One claimed record, called locked: delivered wholly (done), or its
 * first part bytes (of what was claimed) delivered and the rest back for
 * another reader. -1 on a record that is not ours. */
static int finish(struct ring_handle *h, uint64_t pos, bool done, size_t part)
{
	struct ring *r = h->shared;
	struct rec *c = rec_at(h, pos, r->head);
	if (!c || atomic_load(&c->state) != R_CLAIMED ||
	    OWNER(c) != (uint32_t)h->slot || part > c->len - DELIVERED(c))
		return -1;
	uint32_t delivered = DELIVERED(c) + (uint32_t)part;
	if (done || delivered == c->len) {
		atomic_store(&c->state, R_DONE);
		r->bytes_out += c->len - DELIVERED(c);
	} else {
		/* Marked delivered before it is counted: killed in between,
		 * the bytes are counted short, never twice. */
		c->who = delivered << 8 | OWNER(c);
		atomic_store(&c->state, R_COMMITTED);
		atomic_thread_fence(memory_order_seq_cst);
		r->bytes_out += part;
		wake(&r->data_seq, r->data_waiters);
	}
	return 0;
}

/* Settles every record claimed, in the order claimed: the first
 * delivered bytes went out (all of them if all), the rest go back. */
static int settle(struct ring_handle *h, bool all, size_t delivered)
{
	/* What went out must be marked so, or it would be delivered again:
	 * a stop signal does not cut this wait short, the bound does. */
	volatile sig_atomic_t *stop = h->stop;
	h->stop = NULL;
	int rc = ring_lock(h);
	h->stop = stop;
	if (rc < 0)
		return -1;
	HOOK("finish-locked");
	for (int i = 0; i < h->nclaim; i++) {
		size_t len = h->claim_len[i];
		size_t part = all || delivered >= len ? len : delivered;
		if (finish(h, h->claim[i], part == len, part) < 0)
			return ring_bad(h);
		delivered -= all ? 0 : part;
	}
	h->nclaim = 0;
	if (ring_advance(h) < 0)
		return ring_bad(h);
	ring_unlock(h);
	return 0;
}

int ring_done(struct ring_handle *h)
{
	return settle(h, true, 0);
}

int ring_unclaim(struct ring_handle *h, size_t delivered)
{
	return settle(h, false, delivered);
}
