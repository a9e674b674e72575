/* path.c: files at paths in directories that other users can write to
 * (CONTRACT.md section 9). The check is lstat, then open with O_NOFOLLOW,
 * then fstat compared with the lstat, so a symlink is never followed and a
 * file swapped in between the two is noticed. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

/* Exits 65 "not a FIFO" unless st is of type (S_IFIFO or S_IFSOCK), and
 * 77 if another user owns it and !any_owner. */
static void xcheck_file(const char *verb, const char *path,
			const struct stat *st, mode_t type, bool any_owner)
{
	if ((st->st_mode & S_IFMT) != type)
		it_die(IT_DATAERR, "unable to %s %s: not a %s", verb, path,
		       type == S_IFSOCK ? "socket" : "FIFO");
	if (!any_owner && st->st_uid != geteuid())
		it_die(IT_NOPERM, "unable to %s %s: owned by uid %ld, not by us "
		       "(use --any-owner)", verb, path, (long)st->st_uid);
}

void it_xlstat_file(const char *verb, const char *path, struct stat *st,
		    mode_t type, bool any_owner)
{
	if (lstat(path, st) < 0)
		it_xfail(errno, verb, path, NULL);
	xcheck_file(verb, path, st, type, any_owner);
}

void it_xsame_file(const char *verb, const char *path, int fd,
		   const struct stat *st)
{
	struct stat now;
	if (fstat(fd, &now) < 0)
		it_xfail(errno, verb, path, NULL);
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		it_die(IT_DATAERR, "unable to %s %s: replaced while being opened",
		       verb, path);
}
