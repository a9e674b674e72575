/* Records: load --pack and dump --unpack. The segment holds an array of
 * records of the format, as C programs share an array of structs; -o and
 * -l count records. */
#include "shmcat.h"

/* recs made room for cap records of size bytes, or the end. */
static unsigned char *grow(unsigned char *recs, size_t cap, size_t size)
{
	unsigned char *more = cap > SIZE_MAX / size ? NULL
			      : realloc(recs, cap * size);
	if (!more)
		it_xfail(ENOMEM, "allocate", "the records", NULL);
	return more;
}

/* Every line of standard input packed, before the segment is touched: a
 * line that does not fit loads nothing. Returns the records, *n of them. */
static unsigned char *pack_input(const struct args *a, const char *label,
				 size_t *n)
{
	struct it_reader r;
	const char *line;
	size_t len, field, size = a->pack.size, cap = 0;
	unsigned char *recs = NULL;
	char why[256];
	int got;
	*n = 0;
	it_reader_init(&r, STDIN_FILENO, IT_FRAME_LINE);
	while ((got = it_read_msg(&r, it_pack_maxline(&a->pack), &line,
				  &len)) > 0) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			recs = grow(recs, cap, size);
		}
		if (it_pack(&a->pack, line, len, recs + *n * size, &field, why,
			    sizeof why) < 0) {
			/* Freed before the exit: what the sanitizers' leak
			 * check sees must not depend on a register. */
			free(recs);
			it_die(IT_DATAERR, "unable to load %s: line %zu, field %zu: "
			       "%s (--pack); nothing loaded", label, *n + 1, field,
			       why);
		}
		++*n;
	}
	int err = errno;
	if (got < 0)
		free(recs);
	if (got < 0 && err == EMSGSIZE)
		it_die(IT_DATAERR, "unable to load %s: line %zu is longer than any "
		       "record of the format takes (--pack); nothing loaded", label,
		       *n + 1);
	if (got < 0)
		read_failed(err);
	it_reader_free(&r);
	return recs;
}

/* The byte offset of record a->offset, or exit 65. */
static uint64_t record_offset(const struct args *a, const char *label)
{
	if (a->offset > (uint64_t)INT64_MAX / a->pack.size)
		it_die(IT_DATAERR, "unable to use %s: record %llu is past the "
		       "largest object", label, (unsigned long long)a->offset);
	return a->offset * a->pack.size;
}

int load_records(struct args *a)
{
	struct seg s;
	size_t n, size = a->pack.size;
	const char *label = it_obj_label(&a->obj);
	unsigned char *recs = pack_input(a, label, &n);
	uint64_t off = record_offset(a, label), total = (uint64_t)n * size;
	if (off > (uint64_t)INT64_MAX - total)
		it_die(IT_DATAERR, "unable to load %s: record %llu is past the "
		       "largest object", label, (unsigned long long)a->offset);
	uint64_t create = a->size ? a->size : it_obj_is_posix(&a->obj) ? 0
			  : off + total;
	open_seg(&s, a, true, (size_t)create);
	if (s.created) {
		made = &s;
		atexit(unmake);
	}
	if (!s.posix && off > s.size)
		it_die(IT_DATAERR, "unable to load %s: record %llu is past the end "
		       "of the segment (%zu bytes, %zu records)", s.label,
		       (unsigned long long)a->offset, s.size, s.size / size);
	if (!s.posix && total > s.size - off)
		it_die(IT_DATAERR, "unable to load %s: %zu records of %zu bytes "
		       "from record %llu do not fit in the segment (%zu bytes); "
		       "nothing loaded", s.label, n, size,
		       (unsigned long long)a->offset, s.size);
	if (!s.posix && total)
		memcpy(s.base + off, recs, total);
	for (size_t done = 0; s.posix && done < total;) {
		ssize_t w = pwrite(s.fd, recs + done, total - done,
				   (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			it_xfail_status(IT_IOERR, errno, "write", s.label, NULL);
		done += (size_t)w;
	}
	made = NULL;
	free(recs);
	return IT_OK;
}

int dump_records(struct args *a)
{
	struct seg s;
	struct it_writer *w = malloc(sizeof *w);
	size_t size = a->pack.size;
	char *line = malloc(it_unpack_maxline(&a->pack));
	if (!w || !line)
		it_xfail(errno, "allocate", "a buffer", NULL);
	open_seg(&s, a, false, 0);
	uint64_t off = record_offset(a, s.label), have = s.size / size;
	if (a->offset > have)
		it_die(IT_DATAERR, "unable to dump %s: record %llu is past the end "
		       "of the segment (%zu bytes, %llu records)", s.label,
		       (unsigned long long)a->offset, s.size,
		       (unsigned long long)have);
	uint64_t count = a->used & O_LENGTH ? a->length : have - a->offset;
	if (count > have - a->offset)
		it_die(IT_DATAERR, "unable to dump %s: %llu records from record %llu "
		       "go past the end of the segment (%zu bytes, %llu records)",
		       s.label, (unsigned long long)count,
		       (unsigned long long)a->offset, s.size,
		       (unsigned long long)have);
	catch_bus(&s);
	map_all(&s, false);
	it_writer_init(w, STDOUT_FILENO, IT_FRAME_LINE);
	for (uint64_t i = 0; i < count; i++) {
		size_t len = it_unpack(&a->pack, s.base + off + i * size, line);
		if (it_write_msg(w, line, len) < 0)
			it_xfail_status(IT_IOERR, errno, "write", "standard output",
					NULL);
	}
	if (it_writer_flush(w) < 0)
		it_xfail_status(IT_IOERR, errno, "write", "standard output", NULL);
	free(w);
	free(line);
	if (a->create.rm)
		remove_seg(&s);
	return IT_OK;
}
