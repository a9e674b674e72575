/* name.c: how every tool names an IPC object (CONTRACT.md section 1), as
 * two argp children shared by all the tools: naming and creation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipctools.h"

enum { OPT_RM = 0x1000 };

static const struct argp_option obj_options[] = {
	{"key", 'k', "KEY", 0,
	 "System V key: decimal, 0x hex, 0 octal (32-bit), or 'private' for a new "
	 "object whose id is printed", 0},
	{"file", 'f', "PATH", 0, "System V key made by ftok(PATH, PROJ)", 0},
	{"proj", 'j', "PROJ", 0, "ftok project id, 1..255 or one character "
	 "(default 1)", 0},
	{"id", 'i', "ID", 0, "an existing System V object by the id ipcs shows", 0},
	{"name", 'N', "/NAME", 0, "a POSIX object: one leading slash, no other", 0},
	{0}
};

static const char *const kind_opt[] = {
	[IT_OBJ_KEY] = "--key", [IT_OBJ_FILE] = "--file",
	[IT_OBJ_ID] = "--id", [IT_OBJ_NAME] = "--name",
};

int it_posix_name_ok(const char *s)
{
	size_t len = strlen(s);
	/* "/." and "/.." would name /dev/shm or /dev/mqueue themselves, or
	 * their parent, to the library calls that prefix the mount point. */
	if (s[0] != '/' || len < 2 || strchr(s + 1, '/') ||
	    strcmp(s, "/.") == 0 || strcmp(s, "/..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (len - 1 > NAME_MAX) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

static void set_kind(struct argp_state *state, struct it_obj *obj,
		     enum it_objkind kind)
{
	if (obj->kind != IT_OBJ_NONE)
		argp_error(state, "%s and %s name two objects: give only one",
			   kind_opt[obj->kind], kind_opt[kind]);
	unsigned accept = obj->accept ? obj->accept : IT_ACCEPT_ALL;
	if (!(accept & (1u << kind)))
		argp_error(state, "%s does not apply to this tool", kind_opt[kind]);
	obj->kind = kind;
}

static error_t obj_parse(int key, char *arg, struct argp_state *state)
{
	struct it_obj *obj = state->input;
	long v;
	switch (key) {
	case ARGP_KEY_INIT:
		if (obj->proj == 0)
			obj->proj = 1;
		break;
	case 'k':
		set_kind(state, obj, IT_OBJ_KEY);
		if (strcmp(arg, "private") == 0) {
			obj->private = true;
			obj->key = IPC_PRIVATE;
		} else if (it_parse_key(arg, &obj->key)) {
			it_argp_bad(state, "key", arg);
		} else if (obj->key == IPC_PRIVATE) {
			argp_error(state, "key 0 is IPC_PRIVATE: say --key private");
		}
		break;
	case 'f':
		set_kind(state, obj, IT_OBJ_FILE);
		it_argp_nonempty(state, "file", arg);
		obj->path = arg;
		break;
	case 'j':
		obj->proj_given = true;
		if (arg[0] && !arg[1] && (arg[0] < '0' || arg[0] > '9'))
			obj->proj = (unsigned char)arg[0];
		else if (it_parse_long(arg, 1, 255, &v))
			it_argp_bad(state, "project id", arg);
		else
			obj->proj = (int)v;
		break;
	case 'i':
		set_kind(state, obj, IT_OBJ_ID);
		if (it_parse_long(arg, 0, INT_MAX, &v))
			it_argp_bad(state, "id", arg);
		obj->id = (int)v;
		break;
	case 'N':
		set_kind(state, obj, IT_OBJ_NAME);
		if (it_posix_name_ok(arg))
			argp_error(state, "invalid name '%s': a POSIX name is "
				   "/NAME, one leading slash and no other, at most "
				   "%d bytes", it_quote(arg, (char[48]){0}, 48),
				   NAME_MAX);
		obj->name = arg;
		break;
	case ARGP_KEY_END:
		if (obj->proj_given && obj->kind != IT_OBJ_FILE)
			argp_error(state, "--proj goes with --file");
		if (obj->kind == IT_OBJ_NONE)
			argp_error(state, "name the object with %s",
				   (obj->accept ? obj->accept : IT_ACCEPT_ALL) &
				   (1u << IT_OBJ_NAME)
				   ? "--key, --file, --id or --name"
				   : "--key, --file or --id");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp it_obj_argp = { obj_options, obj_parse, NULL, NULL,
				  NULL, NULL, NULL };

static const struct argp_option create_options[] = {
	{"create", 'c', NULL, 0, "create the object if it does not exist", 0},
	{"excl", 'x', NULL, 0, "create it, and fail (exit 73) if it exists", 0},
	{"mode", 'm', "MODE", 0, "octal permissions of a new object (default 0600)",
	 0},
	{"rm", OPT_RM, NULL, 0, "remove the object when done with it", 0},
	{0}
};

static error_t create_parse(int key, char *arg, struct argp_state *state)
{
	struct it_create *c = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		if (!c->mode_given)
			c->mode = 0600;
		break;
	case 'x':
		c->excl = true;  /* and --excl implies --create */
		c->create = true;
		break;
	case 'c':
		c->create = true;
		break;
	case 'm':
		if (it_parse_mode(arg, &c->mode))
			it_argp_bad(state, "mode", arg);
		c->mode_given = true;
		break;
	case OPT_RM:
		c->rm = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp it_create_argp = { create_options, create_parse, NULL,
				     NULL, NULL, NULL, NULL };

void it_xobj_resolve(struct it_obj *obj)
{
	if (obj->kind != IT_OBJ_FILE)
		return;
	struct stat st;
	if (stat(obj->path, &st) < 0)
		it_xfail(errno, "derive a key from", obj->path,
			 errno == ENOENT ? "ftok needs an existing file" : NULL);
	key_t k = ftok(obj->path, obj->proj);
	if (k == -1)
		it_xfail(errno, "derive a key from", obj->path, NULL);
	obj->key = k;
}

const char *it_obj_label(const struct it_obj *obj)
{
	static char buf[PATH_MAX + 64];
	switch (obj->kind) {
	case IT_OBJ_KEY:
		if (obj->private)
			return "private key";
		snprintf(buf, sizeof buf, "key 0x%08x", (uint32_t)obj->key);
		break;
	case IT_OBJ_FILE:
		snprintf(buf, sizeof buf, "key 0x%08x (ftok %s %d)",
			 (uint32_t)obj->key, obj->path, obj->proj);
		break;
	case IT_OBJ_ID:
		snprintf(buf, sizeof buf, "id %d", obj->id);
		break;
	case IT_OBJ_NAME:
		return obj->name;
	default:
		return "no object";
	}
	return buf;
}

bool it_obj_is_posix(const struct it_obj *obj)
{
	return obj->kind == IT_OBJ_NAME;
}

int it_sysv_flags(const struct it_create *c)
{
	return (int)c->mode | (c->create ? IPC_CREAT : 0) | (c->excl ? IPC_EXCL : 0);
}

int it_posix_oflags(const struct it_create *c)
{
	return (c->create ? O_CREAT : 0) | (c->excl ? O_EXCL : 0);
}

void it_xprint_private(int id, int (*rm)(int id), const char *what)
{
	char line[32], note[64];
	int n = snprintf(line, sizeof line, "%d\n", id);
	/* An object nobody can name would stay for ever: remove it. */
	if (it_write_full(STDOUT_FILENO, line, (size_t)n) < 0) {
		int err = errno;
		rm(id);
		snprintf(note, sizeof note, "the new %s was removed", what);
		it_xfail_status(IT_IOERR, err, "write", "standard output", note);
	}
}
