/* The raw commands: load and dump bytes, stat, set and rm a segment.
 * A load that fails leaves nothing it made; a segment cut short under us
 * is exit 65, not SIGBUS. */
#include "shmcat.h"

static _Noreturn void too_long(const struct seg *s)
{
	it_die(IT_DATAERR, "unable to load %s: the input is longer than the "
	       "segment (%zu bytes)", s->label, s->size);
}

_Noreturn void read_failed(int err)
{
	it_xfail_status(IT_IOERR, err, "read", "standard input", NULL);
}

/* read(2) into dst until it is full or the input ends: the bytes read. */
static size_t fill(unsigned char *dst, size_t len)
{
	size_t got = 0;
	while (got < len) {
		size_t ask = len - got > (1u << 30) ? 1u << 30 : len - got;
		ssize_t n = read(STDIN_FILENO, dst + got, ask);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			read_failed(errno);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* Faults in the pages of a System V segment in one call rather than one
 * by one as they are touched (kernels before 5.14 just touch them). */
static void populate(void *base, size_t len, bool write)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)base & ~(uintptr_t)(page - 1);
	madvise((void *)start, len + ((uintptr_t)base - start),
		write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

/* One step of copying standard input into the object at *pos, by the
 * cheapest call the two descriptors allow: bytes copied, 0 at the end of
 * the input, -1 with errno (EINVAL and the like: try the next way). */
static ssize_t copy_in(int way, int fd, off_t *pos, unsigned char *buf)
{
	if (way == 0)
		return copy_file_range(STDIN_FILENO, NULL, fd, pos, 1u << 30, 0);
	if (way == 1)
		return splice(STDIN_FILENO, NULL, fd, pos, 1u << 20, SPLICE_F_MOVE);
	ssize_t n = read(STDIN_FILENO, buf, 1u << 20);
	if (n <= 0)
		return n < 0 && errno != EINTR ? (read_failed(errno), -1) : n;
	for (ssize_t done = 0; done < n;) {
		ssize_t m = pwrite(fd, buf + done, (size_t)(n - done), *pos);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			/* Bytes read and not written go back to a seekable input. */
			lseek(STDIN_FILENO, done - n, SEEK_CUR);
			return done ? done : -1;
		}
		done += m;
		*pos += m;
	}
	return n;
}

/* A POSIX object is a tmpfs file: its descriptor takes the data as any
 * file would, growing only as far as the data reach, never through a
 * window mapped ahead. */
static void load_posix(struct seg *s, uint64_t off)
{
	struct stat st;
	bool regular = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	int way = regular ? 0 : S_ISFIFO(st.st_mode) ? 1 : 2;
	off_t pos = (off_t)off;
	/* Static: the error exits below leave it reachable, not leaked. */
	static unsigned char *buf;
	for (;;) {
		if (way == 2 && !buf && !(buf = malloc(1u << 20)))
			it_xfail(errno, "allocate", "a buffer", NULL);
		ssize_t n = copy_in(way, s->fd, &pos, buf);
		if (n == 0)
			break;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		/* Offsets past what a file can hold write nothing. */
		if ((errno == EFBIG || errno == EINVAL) && pos >= INT64_MAX - (1 << 30))
			it_die(IT_DATAERR, "unable to load %s: offset %llu is past "
			       "the largest object", s->label, (unsigned long long)off);
		if (way < 2 && (errno == EINVAL || errno == EXDEV ||
				errno == ENOSYS || errno == EOPNOTSUPP)) {
			way = way == 0 ? 1 + !S_ISFIFO(st.st_mode) : 2;
			continue;
		}
		if (way == 1 && errno != EFBIG && errno != ENOSPC)
			read_failed(errno);
		it_xfail_status(IT_IOERR, errno, "write", s->label, NULL);
	}
	free(buf);
	buf = NULL;
}

/* A segment load created, removed if load fails before it wrote a byte:
 * a failed load -c leaves nothing behind (a half-made object would also
 * make a later write -c take it for a foreign one). A POSIX object that
 * got some of the data stays, ending at the last byte written, as
 * shmcat(1) says. */
const struct seg *made;

void unmake(void)
{
	struct stat st;
	if (!made)
		return;
	if (!made->posix)
		shmctl(made->id, IPC_RMID, NULL);
	else if (fstat(made->fd, &st) == 0 && st.st_size == 0)
		shm_unlink(made->label);
}

int load(struct args *a)
{
	struct stat st;
	struct seg s;
	uint64_t insize = 0;
	bool regular = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	if (a->used & O_PACK)
		return load_records(a);
	if (regular) {
		off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
		insize = (uint64_t)st.st_size - (at > 0 && at <= st.st_size
						 ? (uint64_t)at : 0);
	}
	if (it_obj_is_posix(&a->obj) && a->offset > (uint64_t)INT64_MAX - insize)
		it_die(IT_DATAERR, "unable to load %s: offset %llu is past the "
		       "largest object", it_obj_label(&a->obj),
		       (unsigned long long)a->offset);
	/* A new POSIX object is not sized ahead of the data: it ends where
	 * the data written end, even when the file system fills up. */
	uint64_t create = a->size ? a->size : regular && !it_obj_is_posix(&a->obj)
			  ? a->offset + insize : 0;
	open_seg(&s, a, true, (size_t)create);
	if (s.created) {
		made = &s;
		atexit(unmake);
	}
	/* The object as its own input would chase itself: at an offset, it
	 * grows for as long as the file system lets it. */
	struct stat so;
	if (s.posix && fstat(STDIN_FILENO, &st) == 0 && fstat(s.fd, &so) == 0 &&
	    st.st_dev == so.st_dev && st.st_ino == so.st_ino)
		it_die(IT_DATAERR, "unable to load %s: standard input is the object "
		       "itself", s.label);
	if (s.posix) {
		load_posix(&s, a->offset);
		made = NULL;
		return IT_OK;
	}
	if (a->offset > s.size)
		it_die(IT_DATAERR, "unable to load %s: offset %llu is past the end "
		       "of the segment (%zu bytes)", s.label,
		       (unsigned long long)a->offset, s.size);
	/* A file known to be too long is refused before a byte is written. */
	if (regular && insize > s.size - a->offset)
		too_long(&s);
	size_t room = s.size - (size_t)a->offset;
	if (room)
		populate(s.base + a->offset, regular && insize < room ?
			 (size_t)insize : room, true);
	size_t got = room ? fill(s.base + a->offset, room) : 0;
	unsigned char extra;
	if (got == room && fill(&extra, 1) > 0)
		too_long(&s);
	made = NULL;
	return IT_OK;
}

/* A POSIX object is dumped through its descriptor: copy_file_range or
 * sendfile into a file, read and write into anything else (a pipe must
 * get copies, not references to pages the next writer changes). */
static int dump_posix(const struct seg *s, off_t off, uint64_t len)
{
	struct stat st;
	/* copy_file_range and sendfile refuse an O_APPEND output (>>). */
	bool file = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
		    !(fcntl(STDOUT_FILENO, F_GETFL) & O_APPEND);
	static unsigned char buf[1u << 17];
	while (len > 0) {
		size_t ask = len > (1u << 30) ? 1u << 30 : (size_t)len;
		ssize_t n;
		if (file) {
			n = copy_file_range(s->fd, &off, STDOUT_FILENO, NULL, ask, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP))
				n = sendfile(STDOUT_FILENO, s->fd, &off, ask);
			if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
				file = false;
				continue;
			}
		} else {
			n = pread(s->fd, buf, ask < sizeof buf ? ask : sizeof buf, off);
			if (n > 0 && it_write_full(STDOUT_FILENO, buf, (size_t)n) < 0)
				return -1;
			off += n > 0 ? n : 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			it_die(IT_DATAERR, "unable to dump %s: the segment was cut "
			       "short while in use", s->label);
		len -= (uint64_t)n;
	}
	return 0;
}

int dump(struct args *a)
{
	struct seg s;
	if (a->used & O_UNPACK)
		return dump_records(a);
	open_seg(&s, a, false, 0);
	uint64_t len = a->used & O_LENGTH ? a->length
		       : a->offset <= s.size ? s.size - a->offset : 0;
	if (a->offset > s.size)
		it_die(IT_DATAERR, "unable to dump %s: offset %llu is past the end "
		       "of the segment (%zu bytes)", s.label,
		       (unsigned long long)a->offset, s.size);
	if (len > s.size - a->offset)
		it_die(IT_DATAERR, "unable to dump %s: offset %llu and length %llu "
		       "go past the end of the segment (%zu bytes)", s.label,
		       (unsigned long long)a->offset, (unsigned long long)len,
		       s.size);
	int rc = 0;
	if (s.posix) {
		rc = dump_posix(&s, (off_t)a->offset, len);
	} else if (len) {
		populate(s.base + a->offset, len, false);
		rc = it_write_full(STDOUT_FILENO, s.base + a->offset, len);
	}
	if (rc < 0)
		it_xfail_status(IT_IOERR, errno, "write", "standard output", NULL);
	if (a->create.rm)
		remove_seg(&s);
	return IT_OK;
}

/* A mapped POSIX object cut short under us (ftruncate by anyone with
 * write access) faults on the next access: that is exit 65, not SIGBUS. */
static char bus_msg[600];

static size_t bus_len;

static void on_bus(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, bus_msg, bus_len);
	_exit(IT_DATAERR);
}

void catch_bus(const struct seg *s)
{
	struct sigaction sa = {.sa_handler = on_bus};
	char label[400];
	int n = snprintf(bus_msg, sizeof bus_msg, "%s: unable to use %s: the "
			 "segment was cut short while in use\n",
			 program_invocation_short_name,
			 it_quote(s->label, label, sizeof label));
	bus_len = n > 0 && (size_t)n < sizeof bus_msg ? (size_t)n : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

static void meta_mode(struct it_meta *m, mode_t mode)
{
	char buf[8];
	snprintf(buf, sizeof buf, "%04o", (unsigned)mode & 0777);
	it_meta_str(m, "mode", buf);
}

/* The ring's fields; a ring whose header is corrupt gets ring=corrupt
 * instead, and false. */
static bool meta_ring(struct it_meta *m, const struct seg *s)
{
	struct ring_info ri;
	if (!s->base)
		return true;
	if (ring_info(s->base, s->size, &ri) < 0) {
		if (errno != EBADMSG)
			return true;
		it_meta_str(m, "ring", "corrupt");
		return false;
	}
	it_meta_int(m, "capacity", (long long)ri.capacity);
	it_meta_int(m, "used", (long long)ri.used);
	it_meta_int(m, "writers", ri.writers);
	it_meta_int(m, "readers", ri.readers);
	it_meta_int(m, "bytes_written", (long long)ri.bytes_in);
	it_meta_int(m, "bytes_read", (long long)ri.bytes_out);
	it_meta_int(m, "chunks_dropped", (long long)ri.dropped);
	it_meta_int(m, "bytes_dropped", (long long)ri.bytes_dropped);
	return true;
}

int stat_seg(struct args *a)
{
	struct seg s;
	struct it_meta m;
	bool json = a->used & O_JSON;
	open_seg_at(&s, a, false, 0, false);
	it_meta_begin(&m, json);
	if (s.posix) {
		struct stat st;
		if (fstat(s.fd, &st) < 0)
			it_xfail(errno, "query", s.label, NULL);
		it_meta_str(&m, "name", s.label);
		it_meta_int(&m, "size", (long long)st.st_size);
		meta_mode(&m, st.st_mode);
		it_meta_int(&m, "owner", st.st_uid);
		it_meta_int(&m, "group", st.st_gid);
		it_meta_int(&m, "modified", (long long)st.st_mtime);
		it_meta_int(&m, "changed", (long long)st.st_ctime);
	} else {
		const struct shmid_ds ds = s.ds;
		char key[16];
		snprintf(key, sizeof key, "0x%08x", (unsigned)ds.shm_perm.__key);
		it_meta_str(&m, "key", key);
		it_meta_int(&m, "id", s.id);
		it_meta_int(&m, "size", (long long)ds.shm_segsz);
		meta_mode(&m, ds.shm_perm.mode);
		it_meta_int(&m, "owner", ds.shm_perm.uid);
		it_meta_int(&m, "group", ds.shm_perm.gid);
		it_meta_int(&m, "creator", ds.shm_perm.cuid);
		it_meta_int(&m, "creator_group", ds.shm_perm.cgid);
		it_meta_int(&m, "creator_pid", ds.shm_cpid);
		it_meta_int(&m, "last_pid", ds.shm_lpid);
		it_meta_int(&m, "attached", (long long)ds.shm_nattch);
		it_meta_int(&m, "attach_time", (long long)ds.shm_atime);
		it_meta_int(&m, "detach_time", (long long)ds.shm_dtime);
		it_meta_int(&m, "changed", (long long)ds.shm_ctime);
		it_meta_int(&m, "removed", !!(ds.shm_perm.mode & SHM_DEST));
	}
	/* Only now is the segment attached, to see if it holds a ring, so
	 * that the times and pids above are as they were; one too small for
	 * a ring is not attached at all, and keeps them. A segment we may
	 * not attach is no ring to us. */
	if (s.posix) {
		catch_bus(&s);
		map_all(&s, false);
	} else if (s.size < ring_size(4096) ||
		   (s.base = shmat(s.id, NULL, SHM_RDONLY)) == (void *)-1)
		s.base = NULL;
	bool sound = meta_ring(&m, &s);
	it_meta_end(&m);
	if (!sound)
		corrupt(&s, "corrupt ring");
	return IT_OK;
}

int set_seg(struct args *a)
{
	const struct it_obj *obj = &a->obj;
	const char *label = it_obj_label(obj);
	if (it_obj_is_posix(obj)) {
		struct seg s;
		open_seg(&s, a, false, 0);
		if (a->used & O_MODE && fchmod(s.fd, a->create.mode) < 0)
			it_xfail(errno, "change the mode of", label, NULL);
		const struct it_owner *o = &a->owner;
		if (a->used & O_OWNER &&
		    fchown(s.fd, o->uid_given ? o->uid : (uid_t)-1,
			   o->gid_given ? o->gid : (gid_t)-1) < 0)
			it_xfail(errno, "change the owner of", label, NULL);
		return IT_OK;
	}
	struct seg s = {.obj = obj, .label = label};
	struct shmid_ds ds;
	s.id = obj->kind == IT_OBJ_ID ? obj->id : shmget(obj->key, 0, 0);
	if (s.id < 0 && errno == ENOENT)
		missing(&s);
	if (s.id < 0 || shmctl(s.id, IPC_STAT, &ds) < 0) {
		if (errno == EINVAL || errno == EIDRM)
			missing(&s);
		it_xfail(errno, "open the segment for", label, NULL);
	}
	if (a->used & O_MODE)
		ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) | (a->create.mode & 0777);
	if (a->used & O_OWNER) {
		if (a->owner.uid_given)
			ds.shm_perm.uid = a->owner.uid;
		if (a->owner.gid_given)
			ds.shm_perm.gid = a->owner.gid;
	}
	if (shmctl(s.id, IPC_SET, &ds) < 0)
		it_xfail(errno, "change the segment for", label, NULL);
	return IT_OK;
}

int rm_seg(struct args *a)
{
	struct seg s = {.obj = &a->obj, .label = it_obj_label(&a->obj),
			.posix = it_obj_is_posix(&a->obj)};
	if (!s.posix) {
		s.id = a->obj.kind == IT_OBJ_ID ? a->obj.id : shmget(a->obj.key, 0, 0);
		if (s.id < 0 && errno == ENOENT)
			missing(&s);
		if (s.id < 0)
			it_xfail(errno, "open the segment for", s.label, NULL);
	}
	remove_seg(&s);
	return IT_OK;
}
