/* owner.c: users and groups on the command line, as chown(1) takes them
 * (shmcat set --owner; usock --owner, --allow-uid, --allow-gid): a name
 * or a number, and USER[:GROUP]. One parser, so that the same value means
 * the same owner, and is refused in the same words, in every tool. */
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>

#include "ipctools.h"

unsigned it_argp_id(const struct argp_state *state, const char *what,
		    const char *arg, bool group)
{
	struct passwd *pw = group ? NULL : getpwnam(arg);
	struct group *gr = group ? getgrnam(arg) : NULL;
	unsigned long v;
	char q[48];
	if (pw)
		return pw->pw_uid;
	if (gr)
		return gr->gr_gid;
	/* The number (uid_t)-1 means "unchanged" to the kernel. */
	if (!it_parse_ulong(arg, UINT_MAX - 1, &v))
		return (unsigned)v;
	if (*arg && arg[strspn(arg, "0123456789")] == '\0')
		argp_error(state, "invalid %s '%s': at most %u", what,
			   it_quote(arg, q, sizeof q), UINT_MAX - 1);
	argp_error(state, "invalid %s '%s': no such %s", what,
		   it_quote(arg, q, sizeof q), group ? "group" : "user");
	return 0;
}

void it_argp_owner(const struct argp_state *state, char *arg,
		   struct it_owner *o)
{
	char *colon = strchr(arg, ':');
	if (colon)
		*colon = '\0';
	o->uid_given = *arg != '\0';
	if (o->uid_given)
		o->uid = it_argp_id(state, "owner", arg, false);
	o->gid_given = colon && (colon[1] || o->uid_given);
	if (colon && colon[1]) {
		o->gid = it_argp_id(state, "group", colon + 1, true);
	} else if (o->gid_given) {
		/* USER: with nothing after the colon: the user's login
		 * group. */
		struct passwd *pw = getpwuid(o->uid);
		if (pw)
			o->gid = pw->pw_gid;
		else
			argp_error(state, "invalid owner '%s:': no such user, so no "
				   "login group", it_quote(arg, (char[48]){0}, 48));
	}
	if (colon)
		*colon = ':';
	if (!o->uid_given && !o->gid_given)
		argp_error(state, "invalid owner '': give a user, a group or both");
}
