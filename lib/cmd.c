/* cmd.c: tools that take a command word first (fifotool mk, shmcat load,
 * spool put, usock connect) or a mode (mqsend --stat): finding the
 * command, and refusing the options it does not take, with the same
 * messages in every tool. */
#include <stdio.h>
#include <string.h>

#include "ipctools.h"

int it_cmd_find(const struct argp_state *state, const struct it_cmd *cmds,
		int n, const char *word)
{
	for (int i = 0; i < n; i++)
		if (strcmp(word, cmds[i].name) == 0)
			return i;
	char q[48];
	argp_error(state, "unknown command '%s'", it_quote(word, q, sizeof q));
	return -1;
}

void it_cmd_missing(const struct argp_state *state, const struct it_cmd *cmds,
		    int n)
{
	char list[256] = "";
	size_t len = 0;
	for (int i = 0; i < n && len < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
					i == 0 ? "" : i == n - 1 ? " or " : ", ",
					cmds[i].name);
	argp_error(state, "missing command: %s", list);
}

void it_cmd_check(const struct argp_state *state, const struct it_cmd *cmd,
		  unsigned used, const char *const *names, size_t nnames)
{
	for (size_t i = 0; i < nnames; i++)
		if (used & ~cmd->opts & 1u << i)
			argp_error(state, "cannot use --%s with %s", names[i],
				   cmd->name);
}

const char *it_first_given(const struct it_given *opts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].given)
			return opts[i].name;
	return NULL;
}
