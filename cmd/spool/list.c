/* ls and stat: what is in each state of the spool, for people (tab
 * separated, names escaped) and for scripts (key=value, JSON). */
#include "spool.h"

/* A message's age: from the time in its name, else from its mtime. */
static long long age(const struct entry *e, const struct stat *st, time_t now)
{
	long long t = e->sec > 0 && e->sec <= now ? e->sec : st->st_mtime;
	return now > t ? now - t : 0;
}

enum { S_NEW, S_CLAIM, S_CUR, S_FAILED, S_TMP, NSTATE };

struct tally {
	long long count[NSTATE], orphaned, skipped, oldest;
};

/* A name as ls prints it: a backslash as \\, a tab, newline or carriage
 * return as \t, \n, \r, any other control byte as \xNN, so that no name
 * forges a line or a field, and each reads back to one name only (a
 * backslash as it is would make "a\nb" two names' line). buf holds
 * NAME_MAX * 4 + 1 bytes. */
static const char *ls_quote(const char *name, char *buf)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name;
	     *p && o <= NAME_MAX * 4 - 4; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\t' ? "\\t" :
				  *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : NULL;
		if (esc)
			o += (size_t)sprintf(buf + o, "%s", esc);
		else if (*p < 0x20 || *p == 0x7f)
			o += (size_t)sprintf(buf + o, "\\x%02x", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
	return buf;
}

/* One line (or JSON object) of ls, the name escaped by ls_quote; JSON
 * keeps its bytes. */
static void ls_line(bool json, const char *state, const char *name,
		    const struct stat *st, long long old)
{
	struct it_meta m;
	if (!json) {
		char q[NAME_MAX * 4 + 1];
		printf("%s\t%lld\t%lld\t%s\n", state, (long long)st->st_size, old,
		       ls_quote(name, q));
		return;
	}
	it_meta_begin(&m, true);
	it_meta_str(&m, "state", state);
	it_meta_str(&m, "name", name);
	it_meta_int(&m, "size", st->st_size);
	it_meta_int(&m, "age", old);
	it_meta_end(&m);
}

/* Lists or counts the regular files of one state; anything else there
 * (a symlink, a directory, a FIFO) take never takes: it is only counted,
 * as skipped. */
static void ls_state(const struct args *a, struct spool *s, int i, int fd,
		     struct tally *n)
{
	static const char *const states[] = {"new", "claim", "cur", "failed",
					     "tmp"};
	struct list l = {.at = fd + 1};
	time_t now = time(NULL);
	each_name(s, fd, states[i], add_name, &l);
	list_sort(&l);
	for (size_t j = 0; j < l.n; j++) {
		struct stat st;
		if (fstatat(fd, l.v[j].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode)) {
			n->skipped++;
			continue;
		}
		n->count[i]++;
		long long old = age(&l.v[j], &st, now);
		if (i == S_NEW && old > n->oldest)
			n->oldest = old;
		if (i == S_CLAIM && !lock_held(&st))
			n->orphaned++;
		if (a->cmd == LS && i != S_TMP)
			ls_line(a->used & O_JSON, states[i], l.v[j].name, &st, old);
	}
	list_clear(&l);
	free(l.v);
}

int ls_stat(const struct args *a, struct spool *s)
{
	int fds[NSTATE] = {s->new, claim_dir(s, false), s->cur,
			   failed_dir(s, false), s->tmp};
	struct tally n = {.oldest = 0};
	for (int i = 0; i < NSTATE; i++)
		if (fds[i] >= 0)
			ls_state(a, s, i, fds[i], &n);
	if (a->cmd == LS)
		return IT_OK;
	struct it_meta m;
	it_meta_begin(&m, a->used & O_JSON);
	it_meta_str(&m, "dir", s->path);
	it_meta_int(&m, "new", n.count[S_NEW]);
	it_meta_int(&m, "in_progress", n.count[S_CLAIM] - n.orphaned);
	it_meta_int(&m, "orphaned", n.orphaned);
	it_meta_int(&m, "failed", n.count[S_FAILED]);
	it_meta_int(&m, "tmp", n.count[S_TMP]);
	it_meta_int(&m, "cur", n.count[S_CUR]);
	it_meta_int(&m, "skipped", n.skipped);
	it_meta_int(&m, "oldest_age", n.oldest);
	it_meta_end(&m);
	return IT_OK;
}
