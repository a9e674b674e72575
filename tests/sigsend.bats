#!/usr/bin/env bats
# sigsend: every pid form and signal spelling, the null signal, strict
# pidfiles, queued values, --wait and --escalate, interoperation with other
# senders and receivers, every exit status. Only processes these tests
# started are ever signalled.

load helper

# Starts sigwait in the background with its output in $OUT, once it is ready.
bg_sigwait() {
	OUT=$(it_path out)
	it_bg_ready sigwait --ready-fd 9 "$@" >"$OUT"
}

# A pidfile holding $1, private to the test, mode 0644.
pidfile() {
	PF=$(it_path pid)
	printf '%s' "$1" >"$PF"
	chmod 644 "$PF"
}

# True once setpriv has switched the process to another user.
not_root() {
	[ "$(awk '/^Uid:/ { print $2 }' "/proc/$1/status")" != 0 ]
}

@test "every spelling of a signal reaches sigwait" {
	local spec
	for spec in TERM SIGTERM term sigterm 15; do
		bg_sigwait -s TERM --format %S
		run -0 sigsend -s "$spec" "$IT_PID"
		it_wait "$IT_PID"
		[ "$(cat "$OUT")" = SIGTERM ]
	done
	for spec in RTMIN+2 SIGRTMIN+2 rtmin+2 36 RTMAX-28; do
		bg_sigwait -s RTMIN+2 --format %S
		run -0 sigsend --signal="$spec" "$IT_PID"
		it_wait "$IT_PID"
		[ "$(cat "$OUT")" = SIGRTMIN+2 ]
	done
}

@test "the default signal is TERM" {
	bg_sigwait -s TERM --format %S
	run -0 sigsend "$IT_PID"
	it_wait "$IT_PID"
	[ "$(cat "$OUT")" = SIGTERM ]
}

@test "pid 0 signals our own process group, and sigsend lives to say so" {
	local fifo out
	fifo=$(it_path fifo) out=$(it_path out)
	mkfifo "$fifo"
	# A new session, so that the group is only the processes below.
	run -0 setsid bash -c '
		trap : USR1
		sigwait -s USR1 --format %S --ready-fd 8 8>"$1" >"$2" &
		read -r -t 10 _ <"$1" || exit 90
		sigsend -s USR1 0 || exit 91
		wait $!' _ "$fifo" "$out"
	[ "$(cat "$out")" = SIGUSR1 ]
}

@test "-PGID after -- and --group PGID signal a process group" {
	local form
	for form in "-- -PG" "--group PG"; do
		OUT=$(it_path out)
		# setsid runs sigwait as the leader of a new group.
		it_bg_ready setsid sigwait --ready-fd 9 -s USR2 --format %S >"$OUT"
		[ "$(ps -o pgid= -p "$IT_PID" | tr -d ' ')" = "$IT_PID" ]
		# shellcheck disable=SC2086
		run -0 sigsend -s USR2 ${form/PG/$IT_PID}
		it_wait "$IT_PID"
		[ "$(cat "$OUT")" = SIGUSR2 ]
	done
}

@test "-1 needs --all, and a bare -N is refused as ambiguous" {
	run -64 sigsend -- -1
	[ "${lines[0]}" = "sigsend: pid -1 means every process: use --all" ]
	run -64 sigsend -9 12345
	[ "${lines[0]}" = "sigsend: '-9' is ambiguous: use -s 9 for a signal, or --group or -- -PGID for a process group" ]
	run -64 sigsend -1234
	[ "${lines[0]}" = "sigsend: '-1234' is ambiguous: use -s 1234 for a signal, or --group or -- -PGID for a process group" ]
	# The hint names the whole number typed, not its first digit.
	run -64 sigsend -15
	[ "${lines[0]}" = "sigsend: '-15' is ambiguous: use -s 15 for a signal, or --group or -- -PGID for a process group" ]
}

@test "--all signals every process, inside a fresh pid namespace only" {
	[ "$(id -u)" = 0 ] || skip "needs root for a pid namespace"
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "no pid namespaces here"
	local fifo out
	fifo=$(it_path fifo) out=$(it_path out)
	mkfifo "$fifo"
	# kill(-1) from inside a namespace reaches only that namespace; the
	# guard makes sure we are its init before sending.
	run -0 unshare --pid --fork --mount-proc bash -c '
		[ $$ -eq 1 ] || exit 99
		sigwait -s USR1 --format %S --ready-fd 8 8>"$1" >"$2" &
		read -r -t 10 _ <"$1" || exit 90
		sigsend -s USR1 --all || exit 91
		wait $!' _ "$fifo" "$out"
	[ "$(cat "$out")" = SIGUSR1 ]
}

@test "the null signal: live 0, dead 1, both silent" {
	it_bg sleep 1000
	run -0 sigsend -0 "$IT_PID"
	[ -z "$output" ]
	run -0 sigsend --check "$IT_PID" $$
	it_bg true
	it_wait "$IT_PID"
	run -1 sigsend -0 "$IT_PID"
	[ -z "$output" ]
	run -1 sigsend -0 $$ "$IT_PID"
}

@test "the null signal on another user's process: 77 for them, 0 for root" {
	need_other_user
	it_bg sleep 1000
	run -77 as_nobody sigsend -0 "$IT_PID"
	[ -z "$output" ]
	# setpriv itself, not the as_nobody function, so that IT_PID is sleep.
	it_bg setpriv --reuid=nobody --regid=nogroup --clear-groups -- sleep 1000
	wait_for not_root "$IT_PID"
	run -0 sigsend -0 "$IT_PID"
}

@test "signalling another user's process is exit 77" {
	need_other_user
	it_bg sleep 1000
	run -77 as_nobody sigsend -s USR1 "$IT_PID"
	[ "$output" = "sigsend: unable to send USR1 to pid $IT_PID: Operation not permitted" ]
	kill -0 "$IT_PID"
}

@test "a dead pid is exit 1 with a message" {
	it_bg true
	it_wait "$IT_PID"
	run -1 sigsend -s USR1 "$IT_PID"
	[ "$output" = "sigsend: unable to send USR1 to pid $IT_PID: No such process" ]
}

@test "pidfile: a valid one, with or without its newline, is signalled" {
	bg_sigwait -s USR1 -n 2 --format %S
	pidfile "$IT_PID"
	run -0 sigsend -s USR1 -p "$PF"
	printf '%s\n' "$IT_PID" >"$PF"
	run -0 sigsend -s USR1 --pidfile "$PF"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$OUT")" = $'SIGUSR1\nSIGUSR1' ]
}

@test "pidfile: missing is 66, naming the file" {
	local pf
	pf=$(it_path pid)
	run -66 sigsend -p "$pf"
	[ "$output" = "sigsend: unable to read pidfile $pf: No such file or directory" ]
}

@test "pidfile: empty, junk, 0, 1 and negative are 65, naming the file" {
	local content why
	while IFS=: read -r content why; do
		pidfile "$content"
		run -65 sigsend -s USR1 -p "$PF"
		[ "$output" = "sigsend: unable to read pidfile $PF: $why" ]
	done <<'EOF'
:it is empty
12ab:not a process id
 123:not a process id
123 :not a process id
-5:not a process id
0:it names pid 0, refusing it
1:it names pid 1 (init), refusing it
99999999999999999999:not a process id
EOF
	printf '123\n\n' >"$PF"
	run -65 sigsend -p "$PF"
	[ "$output" = "sigsend: unable to read pidfile $PF: not a process id" ]
	# A NUL ends no pid: "PID\0junk" is junk, not PID (the pid is ours,
	# so a wrong 0 would signal this very test).
	local f
	for f in '%s\0' '%s\0junk\n' '%s\n\0'; do
		# shellcheck disable=SC2059
		printf "$f" "$$" >"$PF"
		run -65 sigsend -s USR1 -p "$PF"
		[ "$output" = "sigsend: unable to read pidfile $PF: not a process id" ]
	done
}

@test "pidfile: a symlink is refused (77), even to a valid pidfile" {
	it_bg sleep 1000
	pidfile "$IT_PID"
	local link
	link=$(it_path link)
	ln -s "$PF" "$link"
	run -77 sigsend -0 -p "$link"
	[ "$output" = "sigsend: unable to read pidfile $link: it is a symbolic link, refusing it" ]
}

@test "pidfile: writable by group or other users is refused (77)" {
	it_bg sleep 1000
	pidfile "$IT_PID"
	chmod 666 "$PF"
	run -77 sigsend -p "$PF"
	[ "$output" = "sigsend: unable to read pidfile $PF: writable by other users, refusing it" ]
	chmod 620 "$PF"
	run -77 sigsend -p "$PF"
	kill -0 "$IT_PID"
}

@test "pidfile: a dead pid is exit 1, naming pid and file" {
	it_bg true
	it_wait "$IT_PID"
	pidfile "$IT_PID"
	run -1 sigsend -p "$PF"
	[ "$output" = "sigsend: unable to send TERM to pid $IT_PID (from $PF): No such process" ]
	run -1 sigsend -0 -p "$PF"
}

@test "pidfile: owned by another user than us and root is refused (77), its process untouched" {
	[ "$(id -u)" = 0 ] || skip "needs root to give a file away"
	it_bg sleep 1000
	pidfile "$IT_PID"
	chown 65534 "$PF"
	run -77 sigsend -s KILL -p "$PF"
	[ "$output" = "sigsend: unable to read pidfile $PF: owned by uid 65534, neither us nor root, refusing it" ]
	run -77 sigsend -0 -p "$PF"
	kill -0 "$IT_PID"
	# Root's pidfile is trusted by everyone: a daemon's in /run, say.
	need_other_user
	it_bg setpriv --reuid=nobody --regid=nogroup --clear-groups -- sleep 1000
	wait_for not_root "$IT_PID"
	# In a directory nobody can reach (the test's own is root's alone).
	local dir
	dir=$(mktemp -d /tmp/sigsend.XXXXXX)
	it_track path "$dir"
	chmod 755 "$dir"
	printf '%s\n' "$IT_PID" >"$dir/root.pid"
	run -0 as_nobody sigsend -0 -p "$dir/root.pid"
}

@test "pidfile: a process that started after the pidfile was written is not signalled" {
	it_bg sleep 1000
	pidfile "$IT_PID"
	run -0 sigsend -0 -p "$PF"
	# As if the file had been written a minute ago, by a process that
	# has exited since: this one, started now, cannot have written it.
	touch -d "@$(($(date +%s) - 60))" "$PF"
	run -1 sigsend -s KILL -p "$PF"
	[ "$output" = "sigsend: unable to send KILL to pid $IT_PID (from $PF): it started after the pidfile was written, so it is not the process that wrote it (a recycled pid)" ]
	run -1 sigsend -0 -p "$PF"
	[ "$output" = "" ]
	run -1 sigsend --wait -p "$PF"
	kill -0 "$IT_PID"
}

@test "pidfile: a pid recycled in a pid namespace is not hit" {
	unshare -pf --mount-proc true 2>/dev/null || skip "needs unshare of a pid namespace"
	local out
	out=$(it_path out)
	pidfile ""
	# The daemon (pid 2 in the namespace) writes its pidfile and dies;
	# its pid is given to the next process through ns_last_pid.
	run -1 unshare -pf --mount-proc bash -c '
		sleep 1000 & pid=$!
		echo $pid >"$1"
		sigsend -0 -p "$1" || exit 90
		kill $pid; wait $pid
		touch -d "@$(($(date +%s) - 60))" "$1"
		echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid
		sleep 1000 & new=$!
		[ $new = $pid ] || exit 91
		sigsend -s KILL -p "$1" 2>"$2"; st=$?
		kill -0 $new || exit 92
		kill $new
		exit $st' _ "$PF" "$out"
	[ "$(cat "$out")" = "sigsend: unable to send KILL to pid 2 (from $PF): it started after the pidfile was written, so it is not the process that wrote it (a recycled pid)" ]
}

@test "pidfile: every pidfile is tried, whatever failed before it" {
	bg_sigwait -s USR1 --format %S
	local bad
	bad=$(it_path pid)
	pidfile "$IT_PID"
	run -66 sigsend -s USR1 -p "$bad" -p "$PF"
	[ "$output" = "sigsend: unable to read pidfile $bad: No such file or directory" ]
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$OUT")" = SIGUSR1 ]
	# The first failure gives the status; each is reported.
	bg_sigwait -s USR1 --format %S
	pidfile "$IT_PID"
	printf junk >"$bad"
	run -65 sigsend -s USR1 -p "$bad" 999999999 -p "$PF"
	[ "${lines[0]}" = "sigsend: unable to read pidfile $bad: not a process id" ]
	[ "${lines[1]}" = "sigsend: unable to send USR1 to pid 999999999: No such process" ]
	[ "${#lines[@]}" -eq 2 ]
	it_wait "$IT_PID"
	[ "$(cat "$OUT")" = SIGUSR1 ]
}

@test "-q: a full real-time queue is exit 71, naming RLIMIT_SIGPENDING" {
	it_bg_ready bash -c 'ulimit -i 0 && exec sigwait --ready-fd 9 -s RTMIN'
	run -71 sigsend -s RTMIN -q 5 "$IT_PID"
	[ "$output" = "sigsend: unable to send RTMIN to pid $IT_PID: Resource temporarily unavailable (its queue of pending signals is full: RLIMIT_SIGPENDING, ulimit -i)" ]
}

@test "--wait: 0 once the process exits, 1 if it ignores the signal past -w" {
	it_bg_ready bash -c 'echo >&9; exec 9>&- sleep 1000'
	run -0 sigsend --wait "$IT_PID"
	it_bg_ready bash -c 'trap "" TERM; echo >&9; exec 9>&- sleep 1000'
	run -1 sigsend --wait -w 200ms "$IT_PID"
	[ "$output" = "sigsend: unable to wait for pid $IT_PID: still running after 200ms" ]
	run -1 sigsend --timeout=0.2 --wait "$IT_PID"
	[ "$output" = "sigsend: unable to wait for pid $IT_PID: still running after 0.2" ]
	kill -0 "$IT_PID"
}

@test "--wait takes no argument: a duration after it is refused, never read as a pid" {
	run -64 sigsend --wait 1s 123
	[ "${lines[0]}" = "sigsend: invalid pid '1s': a duration? --wait takes none: -w DURATION bounds it" ]
	run -64 sigsend --wait=1s 123
	[ "${lines[0]}" = "sigsend: option '--wait' doesn't allow an argument" ]
	run -64 sigsend -w 1s 123
	[ "${lines[0]}" = "sigsend: -w bounds --wait and --escalate: no -w without one of them" ]
	run -64 sigsend -0 -w 1s 123
	[ "${lines[0]}" = "sigsend: -w bounds --wait and --escalate: no -w without one of them" ]
	run -64 sigsend --wait -w 1x 123
	[ "${lines[0]}" = "sigsend: invalid duration '1x'" ]
}

@test "-w bounds --escalate as a whole: no signal is sent after it" {
	it_bg_ready bash -c 'trap "" TERM; echo >&9; exec 9>&- sleep 1000'
	run -1 sigsend -w 200ms --escalate TERM,30s,KILL "$IT_PID"
	[ "$output" = "sigsend: unable to wait for pid $IT_PID: still running after 200ms" ]
	# Not KILLed: the bound came first.
	kill -0 "$IT_PID"
	run -0 sigsend -w 10s --escalate TERM,100ms,KILL "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 137 ]
}

@test "--wait works for a process that is not our child" {
	local pf
	pf=$(it_path pid)
	it_bg bash -c 'sleep 1000 & echo $! >"$1"; wait' _ "$pf"
	wait_for test -s "$pf"
	it_track pid "$(cat "$pf")"
	run -0 sigsend -s KILL --wait -w 10s "$(cat "$pf")"
}

@test "--escalate: TERM ignored, KILL after the pause" {
	it_bg_ready bash -c 'trap "" TERM; echo >&9; exec 9>&- sleep 1000'
	run -0 sigsend --escalate TERM,100ms,KILL "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 137 ]
	it_bg_ready bash -c 'trap "" TERM; echo >&9; exec 9>&- sleep 1000'
	run -1 sigsend --escalate TERM,100ms "$IT_PID"
	[ "$output" = "sigsend: unable to wait for pid $IT_PID: still running after 100ms" ]
	it_bg_ready bash -c 'echo >&9; exec 9>&- sleep 1000'
	run -0 sigsend --escalate INT,1,TERM,2s,KILL "$IT_PID"
}

@test "sigsend wakes a bash trap" {
	OUT=$(it_path out)
	it_bg_ready bash -c 'trap "echo got USR1; kill \$!; exit 0" USR1
		echo >&9; exec 9>&-; sleep 1000 & wait' >"$OUT"
	run -0 sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$OUT")" = "got USR1" ]
}

@test "sigsend wakes a python sigwaitinfo receiver, queued with -q" {
	command -v python3 >/dev/null || skip "needs python3"
	OUT=$(it_path out)
	it_bg_ready python3 -c '
import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGUSR2])
os.write(9, b"\n")
os.close(9)
for _ in range(2):
    i = signal.sigwaitinfo([signal.SIGUSR1, signal.SIGUSR2])
    print(i.si_signo, i.si_code, i.si_uid, flush=True)' >"$OUT"
	run -0 sigsend -s USR1 "$IT_PID"
	wait_for grep -q . "$OUT"
	run -0 sigsend -s USR2 -q 9 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	# si_code 0 is SI_USER (kill), -1 SI_QUEUE (sigqueue).
	[ "$(cat "$OUT")" = "10 0 $(id -u)"$'\n'"12 -1 $(id -u)" ]
}

@test "-l lists the table and converts names and numbers" {
	run -0 sigsend -l
	[ "${lines[0]}" = " 1 HUP       Term Hangup" ]
	[[ $output == *$'\n 9 KILL      Term Killed\n'* ]]
	[[ $output == *$'\n34 RTMIN     Term Real-time signal 0\n'* ]]
	run -0 sigsend -l TERM sigusr1 15 137 RTMIN+2 36
	[ "$output" = $'15\n10\nTERM\nKILL\n36\nRTMIN+2' ]
	# The other names bash and signal(7) use.
	run -0 sigsend -l IO SIGIO POLL CLD IOT
	[ "$output" = $'29\n29\n29\n17\n6' ]
	run -64 sigsend -l BOGUS
	[ "${lines[0]}" = "sigsend: invalid signal 'BOGUS'" ]
}

@test "usage errors are exit 64 with one line" {
	run -64 sigsend
	[ "${lines[0]}" = "sigsend: no process given" ]
	run -64 sigsend -s NOPE 123
	[ "${lines[0]}" = "sigsend: invalid signal 'NOPE'" ]
	run -64 sigsend 12x
	[ "${lines[0]}" = "sigsend: invalid pid '12x'" ]
	run -64 sigsend -q 1 0
	[ "${lines[0]}" = "sigsend: -q, --wait and --escalate need processes, not process groups" ]
	run -64 sigsend -s KILL --escalate TERM,1s,KILL 123
	[ "${lines[0]}" = "sigsend: --escalate sends its own signals: no -s, -0 or -q with it" ]
	# A schedule of one signal conflicts as much as a longer one, in
	# either order: -s must not silently replace its signal.
	run -64 sigsend --escalate USR2 -s USR1 123
	[ "${lines[0]}" = "sigsend: --escalate sends its own signals: no -s, -0 or -q with it" ]
	[ "${#lines[@]}" -eq 2 ]
	run -64 sigsend -s USR1 --escalate USR2 123
	[ "${lines[0]}" = "sigsend: --escalate sends its own signals: no -s, -0 or -q with it" ]
	run -64 sigsend --escalate USR2 -q 1 123
	[ "${lines[0]}" = "sigsend: --escalate sends its own signals: no -s, -0 or -q with it" ]
	run -64 sigsend --escalate TERM,1s,2s 123
	[ "${lines[0]}" = "sigsend: invalid schedule 'TERM,1s,2s': two pauses in a row" ]
	run -64 sigsend -0 --wait 123
	[ "${lines[0]}" = "sigsend: --check sends the null signal: no -s, -q or --wait with it" ]
	run -64 sigsend -q 99999999999 123
	[ "${lines[0]}" = "sigsend: invalid value '99999999999': out of range" ]
}

@test "strict: empty schedule steps, the null signal as -s, options -l ignores, empty pidfiles" {
	local sched
	for sched in 'TERM,' ',TERM' 'TERM,,KILL' ','; do
		run -64 sigsend --escalate="$sched" 123
		[ "${lines[0]}" = "sigsend: invalid schedule '$sched': an empty step" ]
	done
	run -64 sigsend --escalate= 123
	[ "${lines[0]}" = "sigsend: invalid schedule '': an empty step" ]
	run -64 sigsend --escalate 2s,TERM 123
	[ "${lines[0]}" = "sigsend: invalid schedule '2s,TERM': it starts with a pause, not a signal" ]
	run -64 sigsend --escalate TERM,2x 123
	[ "${lines[0]}" = "sigsend: invalid schedule 'TERM,2x': a pause is not a duration" ]
	# 0 is no signal anywhere: -l 0 and sigwait -s 0 refuse it too.
	run -64 sigsend -s 0 123
	[ "${lines[0]}" = "sigsend: invalid signal '0': the null signal is -0 (--check)" ]
	run -64 sigsend -l 0
	[ "${lines[0]}" = "sigsend: invalid signal '0': out of range" ]
	local opts
	for opts in "-p x" "-s TERM" "-q 3" "-0" "--wait" "-w 1s" "--all" "--group 5" "--escalate TERM"; do
		# shellcheck disable=SC2086
		run -64 sigsend -l 9 $opts
		[ "${lines[0]}" = "sigsend: -l lists and converts signals, and sends none: no other option with it" ]
	done
	run -64 sigsend -l -p x
	[ "${lines[0]}" = "sigsend: -l lists and converts signals, and sends none: no other option with it" ]
	run -64 sigsend --escalate TERM --wait 123
	[ "${lines[0]}" = "sigsend: --escalate waits already: no --wait with it" ]
	run -64 sigsend -p ''
	[ "${lines[0]}" = "sigsend: invalid pidfile '': empty" ]
	run -64 sigsend --pidfile=
	[ "${lines[0]}" = "sigsend: invalid pidfile '': empty" ]
}

@test "--help: option texts in lower case, no line of blanks, every exit status listed" {
	run -0 sigsend --help
	# argp's own --help, --usage and --version keep argp's wording.
	[ -z "$(grep -E '^  (-., )?--[a-z-]+(=[A-Z]+)? +[A-Z]' <<<"$output" |
		grep -Ev -- '--(help|usage|version) ')" ]
	[ -z "$(grep -x ' \+' <<<"$output")" ]
	[[ $output == *"66 no pidfile"* ]]
	[[ $output == *"74 output error (-l)"* ]]
}

@test "sigsend.1 and sigwait.1 end with the same bare .Os as every page" {
	[ "$(grep '^\.Os' "$BATS_TEST_DIRNAME/../man/sigsend.1")" = .Os ]
	[ "$(grep '^\.Os' "$BATS_TEST_DIRNAME/../man/sigwait.1")" = .Os ]
}

@test "-l into a file over RLIMIT_FSIZE is exit 74 with a message" {
	run -74 bash -c 'ulimit -f 0; sigsend -l >"$1"' _ "$(it_path out)"
	[ "$output" = "sigsend: unable to write standard output: File too large" ]
}

@test "a full stdout is exit 74" {
	run -74 bash -c 'sigsend -l >/dev/full'
	[ "$output" = "sigsend: unable to write standard output: No space left on device" ]
	run -74 bash -c 'sigsend -l 15 >/dev/full'
	[ "$output" = "sigsend: unable to write standard output: No space left on device" ]
	run -74 bash -c 'sigsend --help >/dev/full'
	[ "$output" = "sigsend: unable to write standard output: No space left on device" ]
}

@test "a closed stdout is exit 74 when there is something to write, never success" {
	run -74 bash -c 'sigsend -l >&-'
	[ "$output" = "sigsend: unable to write standard output: Bad file descriptor" ]
	run -74 bash -c 'sigsend -l USR1 >&-'
	[ "$output" = "sigsend: unable to write standard output: Bad file descriptor" ]
	run -74 bash -c 'sigsend --version >&-'
	[ "$output" = "sigsend: unable to write standard output: Bad file descriptor" ]
	# Sending writes nothing, so nothing is lost.
	run -0 bash -c 'sigsend -0 $$ >&-'
	[ -z "$output" ]
}

@test "completion: options from --help, signal names, schedules, pids" {
	source "$BATS_TEST_DIRNAME/../completions/sigsend"
	COMP_WORDS=(sigsend --esc) COMP_CWORD=1
	_sigsend
	[ "${COMPREPLY[*]}" = --escalate ]
	COMP_WORDS=(sigsend -s USR) COMP_CWORD=2
	_sigsend
	[ "${COMPREPLY[*]}" = "USR1 USR2" ]
	COMP_WORDS=(sigsend --escalate 'TERM,2s,KI') COMP_CWORD=2
	_sigsend
	[ "${COMPREPLY[*]}" = TERM,2s,KILL ]
	COMP_WORDS=(sigsend -l SIGHU) COMP_CWORD=2
	_sigsend
	[ "${COMPREPLY[*]}" = SIGHUP ]
	COMP_WORDS=(sigsend "$$") COMP_CWORD=1
	_sigsend
	[[ " ${COMPREPLY[*]} " == *" $$ "* ]]
	# --wait takes no value: a pid follows it; -w takes a duration.
	COMP_WORDS=(sigsend --wait "$$") COMP_CWORD=2
	_sigsend
	[[ " ${COMPREPLY[*]} " == *" $$ "* ]]
	COMP_WORDS=(sigsend --wait -w "") COMP_CWORD=3
	_sigsend
	[ "${#COMPREPLY[@]}" -eq 0 ]
	COMP_WORDS=(sigsend --time) COMP_CWORD=1
	_sigsend
	[ "${COMPREPLY[*]}" = --timeout ]
}

@test "completion: --opt=VALUE split at '=', whether or not '=' breaks words" {
	source "$BATS_TEST_DIRNAME/../completions/sigsend"
	# '=' in COMP_WORDBREAKS (bash's default): three words.
	COMP_WORDS=(sigsend --signal '=' USR) COMP_CWORD=3
	_sigsend
	[ "${COMPREPLY[*]}" = "USR1 USR2" ]
	COMP_WORDS=(sigsend --escalate '=' 'TERM,2s,KI') COMP_CWORD=3
	_sigsend
	[ "${COMPREPLY[*]}" = TERM,2s,KILL ]
	COMP_WORDS=(sigsend --signal '=') COMP_CWORD=2
	_sigsend
	[[ " ${COMPREPLY[*]} " == *" USR1 "* ]]
	# Not in it: one word, and each reply replaces it whole.
	COMP_WORDS=(sigsend --signal=USR) COMP_CWORD=1
	_sigsend
	[ "${COMPREPLY[*]}" = "--signal=USR1 --signal=USR2" ]
	COMP_WORDS=(sigsend '--escalate=TERM,2s,KI') COMP_CWORD=1
	_sigsend
	[ "${COMPREPLY[*]}" = --escalate=TERM,2s,KILL ]
	local f
	f=$(it_path pidf)
	: >"$f"
	COMP_WORDS=(sigsend "--pidfile=${f%?????}") COMP_CWORD=1
	_sigsend
	[ "${COMPREPLY[*]}" = "--pidfile=$f" ]
}

@test "completion: signal lists offer no shell trap names (EXIT, DEBUG, ERR, RETURN)" {
	source "$BATS_TEST_DIRNAME/../completions/sigsend"
	local w
	for w in "-s" "--escalate" "-l"; do
		COMP_WORDS=(sigsend "$w" '') COMP_CWORD=2
		_sigsend
		[[ " ${COMPREPLY[*]} " == *" SIGTERM TERM "* ]]
		[[ " ${COMPREPLY[*]} " == *" RTMIN+2 "* ]]
		[[ " ${COMPREPLY[*]} " != *" EXIT "* ]]
		[[ " ${COMPREPLY[*]} " != *" DEBUG "* ]]
		[[ " ${COMPREPLY[*]} " != *" ERR "* ]]
		[[ " ${COMPREPLY[*]} " != *" RETURN "* ]]
		[[ " ${COMPREPLY[*]} " != *JUNK* ]]
	done
	COMP_WORDS=(sigsend -s E) COMP_CWORD=2
	_sigsend
	[ "${#COMPREPLY[@]}" -eq 0 ]
	# Every name offered is one sigsend takes.
	COMP_WORDS=(sigsend -l '') COMP_CWORD=2
	_sigsend
	run -0 sigsend -l "${COMPREPLY[@]}"
}
