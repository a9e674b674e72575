# shellcheck shell=bash
# IT_PID and IT_STATUS are results for the bats files that load this.
# shellcheck disable=SC2034
# tests/helper.bash: loaded by every bats file (load helper).
#
# - puts the tools under test ($IT_BIN, default bin/) first on PATH;
# - hands out object names and keys unique to this run, and records every
#   object a test makes so that teardown removes it even when the test fails;
# - starts background jobs with fd 3 closed (bats waits on fd 3) and waits on
#   their --ready-fd, or on a condition, always with a deadline.
#
# A bats file that needs its own setup or teardown calls it_setup or
# it_teardown from it.

bats_require_minimum_version 1.5.0

IT_BIN=${IT_BIN:-$BATS_TEST_DIRNAME/../bin}
PATH="$IT_BIN:$PATH"
export PATH

# Deadline, in seconds, for anything a test waits on.
IT_DEADLINE=${IT_DEADLINE:-10}

it_setup() {
	IT_REG=$BATS_TEST_TMPDIR/.objects
	: >"$IT_REG"
}

setup() {
	it_setup
}

teardown() {
	it_teardown
}

# Records an object for removal: it_track KIND VALUE, KIND one of
# msgkey shmkey msgid shmid posix pid path.
it_track() {
	printf '%s %s\n' "$1" "$2" >>"$IT_REG"
}

# Removes everything recorded, last first; never fails.
it_teardown() {
	local kind value
	[ -f "${IT_REG:-}" ] || return 0
	while read -r kind value; do
		case $kind in
		pid) it_stop "$value" ;;
		msgkey) ipcrm -Q "$value" 2>/dev/null ;;
		shmkey) ipcrm -M "$value" 2>/dev/null ;;
		msgid) ipcrm -q "$value" 2>/dev/null ;;
		shmid) ipcrm -m "$value" 2>/dev/null ;;
		posix) rm -f "/dev/mqueue$value" "/dev/shm$value" ;;
		path) rm -rf "$value" ;;
		esac
	done < <(tac "$IT_REG")
	return 0
}

# A System V key no object uses yet, recorded for removal (queue and segment).
it_key() {
	local k
	while :; do
		k=$(printf '0x%08x' $(((SRANDOM & 0xffffff) | 0x1c000000)))
		ipcs -q -m 2>/dev/null | grep -qi "^$k " || break
	done
	it_track msgkey "$k"
	it_track shmkey "$k"
	echo "$k"
}

# A POSIX object name unique to this run and test, recorded for removal.
it_name() {
	local n="/ipct.$$.$BATS_TEST_NUMBER.$SRANDOM"
	it_track posix "$n"
	echo "$n"
}

# A fresh path in the test's private directory (bats removes the directory).
it_path() {
	mktemp -u "$BATS_TEST_TMPDIR/${1:-obj}.XXXXXX"
}

# Runs "$@" in the background with fd 3 closed; its pid lands in IT_PID
# and is stopped in teardown if still running. Standard input is passed on
# explicitly: without a redirection, bash gives a background job /dev/null,
# and `it_bg tool <file` would read nothing.
it_bg() {
	"$@" <&0 3>&- &
	IT_PID=$!
	it_track pid "$IT_PID"
}

# Like it_bg, for a tool given --ready-fd 9: returns once the tool says it
# is ready, or fails if it exits first or the deadline passes.
it_bg_ready() {
	local fifo
	fifo=$(it_path ready)
	mkfifo "$fifo"
	"$@" <&0 3>&- 9>"$fifo" &
	IT_PID=$!
	it_track pid "$IT_PID"
	if ! read -r -t "$IT_DEADLINE" _ <"$fifo"; then
		echo "it_bg_ready: '$*' did not become ready" >&2
		return 1
	fi
}

# Waits for pid to end, with the deadline; its status lands in IT_STATUS.
it_wait() {
	local pid=$1 deadline=$((SECONDS + ${2:-$IT_DEADLINE}))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(ps -o stat= -p "$pid" 2>/dev/null)" = Z ]; then
			break
		fi
		if ((SECONDS >= deadline)); then
			echo "it_wait: pid $pid still running after the deadline" >&2
			return 1
		fi
		sleep 0.02
	done
	IT_STATUS=0
	wait "$pid" || IT_STATUS=$?
}

# Retries a command until it succeeds or the deadline passes.
wait_for() {
	wait_for_within "$IT_DEADLINE" "$@"
}

# The same with a deadline of its own, in seconds, for the long waits of a
# test that moves much data (tests/bridge.bats).
wait_for_within() {
	local within=$1 deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		if ((SECONDS >= deadline)); then
			echo "wait_for: '$*' still false after ${within}s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# Ends a background job we started: TERM, then KILL after the deadline.
it_stop() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Runs a command as an unprivileged user, for permission tests; skips the
# test with the reason where that cannot be done here.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

need_other_user() {
	[ "$(id -u)" = 0 ] || skip "needs root to run a command as another user"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	as_nobody true 2>/dev/null || skip "setpriv cannot switch to nobody here"
}
