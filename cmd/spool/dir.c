/* The spool directory: DIR and its tmp/, new/ and cur/ (and spool's own
 * claim/ and failed/) opened safely once, by descriptor, and the moves
 * between them that never replace a file; and the names in a directory
 * in the order take takes them. Every command needs them. */
#include "spool.h"

static const char *const subdirs[] = {"tmp", "new", "cur"};

/* Opens name under at (AT_FDCWD for DIR itself) as a directory that is no
 * symlink and, without --any-owner, is ours and not open to anyone's
 * renames; label names it in messages. */
static int open_dir(const struct spool *s, int at, const char *name,
		    const char *label, bool create)
{
	struct stat st, fst;
	/* A full disk is the contract's I/O error, as for put. */
	if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		it_xfail_status(errno == ENOSPC || errno == EDQUOT ? IT_IOERR :
				it_exit_for(errno), errno, "create", label, NULL);
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		it_xfail(errno, "open", label,
			 errno == ENOENT && !create ? "use --create" : NULL);
	if (S_ISLNK(st.st_mode))
		it_die(IT_NOPERM, "unable to open %s: a symlink, refused", label);
	if (!S_ISDIR(st.st_mode))
		it_die(IT_DATAERR, "unable to open %s: not a directory", label);
	if (!s->any_owner && st.st_uid != geteuid())
		it_die(IT_NOPERM, "unable to open %s: owned by uid %ld, not by us "
		       "(use --any-owner)", label, (long)st.st_uid);
	/* Without the sticky bit, anyone may rename or replace what is in
	 * it: new/ moved away and another made, messages swapped. */
	if (!s->any_owner && st.st_mode & S_IWOTH && !(st.st_mode & S_ISVTX))
		it_die(IT_NOPERM, "unable to open %s: anyone may write to it and "
		       "it is not sticky (chmod o-w or +t, or use --any-owner)",
		       label);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	if (fd < 0)
		it_xfail(errno, "open", label, NULL);
	if (fstat(fd, &fst) < 0)
		it_xfail(errno, "open", label, NULL);
	if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
		it_die(IT_DATAERR, "unable to open %s: replaced while being "
		       "opened", label);
	return fd;
}

void open_spool(struct spool *s, const char *path, bool create,
		bool any_owner)
{
	char label[PATH_MAX + 16];
	int *fds[] = {&s->tmp, &s->new, &s->cur};
	s->path = path;
	s->any_owner = any_owner;
	s->claim = s->failed = -1;
	/* "link/" names the directory a symlink points to, whatever
	 * AT_SYMLINK_NOFOLLOW says: the slashes at the end go, so that the
	 * last component itself is looked at. */
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= sizeof s->base)
		it_xfail(ENAMETOOLONG, "open", path, NULL);
	memcpy(s->base, path, n);
	s->base[n] = '\0';
	s->dfd = open_dir(s, AT_FDCWD, s->base, path, create);
	for (int i = 0; i < 3; i++) {
		snprintf(label, sizeof label, "%s/%s", s->base, subdirs[i]);
		*fds[i] = open_dir(s, s->dfd, subdirs[i], label, create);
	}
	/* take's claim/ too, so that a spool that fills its disk can still
	 * be drained. */
	if (create)
		claim_dir(s, true);
}

/* DIR/NAME (claim or failed), spool's own: made on first use without
 * --create, as mail tools that made the maildir know nothing of them; -1
 * if it is not there and !create. */
static int own_dir(struct spool *s, int *fd, const char *name, bool create)
{
	char label[PATH_MAX + 16];
	struct stat st;
	if (*fd >= 0)
		return *fd;
	if (!create && fstatat(s->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT)
		return -1;
	snprintf(label, sizeof label, "%s/%s", s->base, name);
	bool made = create && mkdirat(s->dfd, name, 0700) == 0;
	/* Made by root helping out (--any-owner), it is DIR's owner's, who
	 * would be locked out of his own spool otherwise. */
	struct stat dir;
	if (made && geteuid() == 0 && fstat(s->dfd, &dir) == 0 &&
	    dir.st_uid != 0 && fchownat(s->dfd, name, dir.st_uid, dir.st_gid,
					AT_SYMLINK_NOFOLLOW) < 0)
		it_warn("unable to give %s to uid %ld: %s", label,
			(long)dir.st_uid, strerror(errno));
	*fd = open_dir(s, s->dfd, name, label, create);
	return *fd;
}

int failed_dir(struct spool *s, bool create)
{
	return own_dir(s, &s->failed, "failed", create);
}

int claim_dir(struct spool *s, bool create)
{
	return own_dir(s, &s->claim, "claim", create);
}

/* A name read from the directory is used only as one path component
 * relative to a directory descriptor, and only if it is a plain name. */
bool name_ok(const char *n)
{
	return n[0] != '.' && n[0] && !strchr(n, '/') && strlen(n) <= NAME_MAX;
}

/* Renames without ever replacing a file already there. */
int move(int from, const char *name, int to, const char *newname)
{
	if (renameat2(from, name, to, newname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: link(2) never replaces. */
	if (linkat(from, name, to, newname, 0) < 0)
		return -1;
	return unlinkat(from, name, 0);
}

/* Moves name to want in the directory to, or, if a file of that name is
 * there (a message of the same name dropped in meanwhile, one that failed
 * before), to a variant of it, "BASE~N" before its info part: a name
 * taken never blocks a message. */
int move_unique(int from, const char *name, int to, const char *want)
{
	char alt[NAME_MAX + 32];
	if (move(from, name, to, want) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	const char *info = strchr(want, ':');
	int n = (int)(info ? (size_t)(info - want) : strlen(want));
	if (n > NAME_MAX - 24)
		n = NAME_MAX - 24;
	for (int i = 1; i < 10000; i++) {
		snprintf(alt, sizeof alt, "%.*s~%d%.16s", n, want, i,
			 info ? info : "");
		if (move(from, name, to, alt) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

static long field(const char *s, char tag)
{
	const char *p = strchr(s, tag);
	return p && p[1] >= '0' && p[1] <= '9' ? strtol(p + 1, NULL, 10) : 0;
}

static void entry_init(struct entry *e, char *name, int at)
{
	char *end;
	struct stat st;
	e->name = name;
	e->sec = strtoll(name, &end, 10);
	if (name[0] < '0' || name[0] > '9' || (*end && *end != '.')) {
		bool known = at >= 0 && fstatat(at, name, &st,
						AT_SYMLINK_NOFOLLOW) == 0;
		e->sec = known ? (long long)st.st_mtim.tv_sec : 0;
		e->usec = known ? st.st_mtim.tv_nsec / 1000 : 0;
		e->pid = 0;
		e->q = 0;
		return;
	}
	const char *unique = *end == '.' ? end + 1 : end;
	const char *dot = strchr(unique, '.');
	char part[64] = "";
	size_t n = dot ? (size_t)(dot - unique) : 0;
	if (n < sizeof part)
		memcpy(part, unique, n), part[n] = '\0';
	e->usec = part[0] == 'M' ? field(part, 'M') : 0;
	e->pid = field(part, 'P');
	e->q = (unsigned long)field(part, 'Q');
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->usec != b->usec)
		return a->usec < b->usec ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->q != b->q)
		return a->q < b->q ? -1 : 1;
	return strcmp(a->name, b->name);
}

void list_add(struct list *l, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			it_xfail(errno, "list", "messages", NULL);
	}
	char *copy = strdup(name);
	if (copy)
		entry_init(&l->v[l->n++], copy, l->at - 1);
	else
		it_xfail(errno, "list", "messages", NULL);
}

void list_clear(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	l->n = l->pos = 0;
}

/* Sorts oldest first and drops names seen twice (a scan and an event). */
void list_sort(struct list *l)
{
	size_t k = 0;
	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof *l->v, entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1].name, l->v[i].name) == 0)
			free(l->v[i].name);
		else
			l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* Calls fn for each plain name in the directory fd. */
void each_name(const struct spool *s, int fd, const char *sub,
	       void (*fn)(struct spool *, const char *, void *), void *arg)
{
	char label[PATH_MAX + 16];
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup < 0 ? NULL : fdopendir(dup);
	struct dirent *de;
	snprintf(label, sizeof label, "%s/%s", s->path, sub);
	if (!d)
		it_xfail(errno, "read", label, NULL);
	rewinddir(d);
	for (;;) {
		errno = 0;
		if (!(de = readdir(d)))
			break;
		if (name_ok(de->d_name))
			fn((struct spool *)s, de->d_name, arg);
	}
	if (errno)
		it_xfail(errno, "read", label, NULL);
	closedir(d);
}

void add_name(struct spool *s, const char *name, void *l)
{
	(void)s;
	list_add(l, name);
}
