#!/usr/bin/env bats
# mqsend --call and mqrecv --reply: request and reply on one System V
# queue or a POSIX queue and a private reply queue (issue 15, item 2),
# spoken also by a C client (tests/callclient.c) and by perl's IPC::SysV.
# Scripts in single quotes get their values as arguments, on purpose.
# shellcheck disable=SC2016

load helper

# The queue's metadata as shell variables (messages, bytes...).
qstat() {
	eval "$(mqrecv --stat "$@")"
}

# Starts a server that answers requests on queue key $1 with the rest of
# the line as CMD, until stopped; its stderr goes to $BATS_TEST_TMPDIR/srv.
serve() {
	local k=$1
	shift
	it_bg_ready mqrecv -k "$k" -c --follow --reply --ready-fd 9 -- "$@" \
		2>>"$BATS_TEST_TMPDIR/srv"
}

# Stops a process, recorded so that teardown continues it.
stop_pid() {
	echo "$1" >>"$BATS_TEST_TMPDIR/stopped"
	kill -STOP "$1"
}

is_stopped() {
	[[ $(ps -o stat= -p "$1" 2>/dev/null) == T* ]]
}

# No reply queue of a caller of ours is left in /dev/mqueue.
no_reply_queue() {
	! compgen -G "/dev/mqueue/mqsend.reply.$1.*" >/dev/null
}

teardown() {
	local pid
	if [ -f "$BATS_TEST_TMPDIR/stopped" ]; then
		while read -r pid; do
			kill -CONT "$pid" 2>/dev/null || :
		done <"$BATS_TEST_TMPDIR/stopped"
	fi
	it_teardown
}

@test "System V: a round trip, binary safe; the reply is the command's output, the exit 0" {
	local k d=$BATS_TEST_TMPDIR
	k=$(it_key)
	serve "$k" tr a-z A-Z
	printf 'ab\0cd\nef' >"$d/req"
	mqsend --call -k "$k" --whole <"$d/req" >"$d/out"
	printf 'AB\0CD\nEF' | cmp - "$d/out"
	run -0 mqsend --call -k "$k" hello
	[ "$output" = HELLO ]
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "POSIX: a round trip through the caller's own reply queue, removed after" {
	local n
	n=$(it_name)
	it_bg_ready mqrecv -N "$n" -c --follow --reply --ready-fd 9 -- \
		sh -c 'cat; printf " prio=%s" "$MQRECV_PRIORITY"'
	run -0 mqsend --call -N "$n" -p 5 hello
	[ "$output" = "hello prio=5" ]
	run -0 bash -c 'mqsend --call -N "$1" again; echo " $$"' _ "$n"
	[ "${output% *}" = "again prio=0" ]
	no_reply_queue "${output##* }"
}

@test "the command gets the request type and the reply's address in its environment" {
	local k
	k=$(it_key)
	serve "$k" sh -c 'printf "%s %s" "$MQRECV_TYPE" "$MQRECV_REPLY_TO"'
	run -0 bash -c 'exec mqsend --call -k "$1" x; ' _ "$k"
	[[ $output =~ ^1\ [0-9]+$ ]]
}

@test "8 callers at once, 2 servers: each gets the answer to its own request (20 rounds)" {
	local k n d=$BATS_TEST_TMPDIR round i pids
	k=$(it_key)
	n=$(it_name)
	serve "$k" sed 's/^/re:/'
	serve "$k" sed 's/^/re:/'
	it_bg_ready mqrecv -N "$n" -c --follow --reply --ready-fd 9 -- sed 's/^/re:/'
	for round in $(seq 20); do
		pids=()
		for i in $(seq 8); do
			if ((i % 2)); then
				mqsend --call -k "$k" -w 20s "r$round.$i" >"$d/o$i" 3>&- &
			else
				mqsend --call -N "$n" -w 20s "r$round.$i" >"$d/o$i" 3>&- &
			fi
			pids+=($!)
		done
		for i in $(seq 8); do
			wait "${pids[i - 1]}"
			[ "$(cat "$d/o$i")" = "re:r$round.$i" ]
		done
	done
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "a command that fails: its output still comes back, and mqsend exits 69 naming its status; the server goes on" {
	local k
	k=$(it_key)
	serve "$k" sh -c 'cat; exit 3'
	run -69 --separate-stderr mqsend --call -k "$k" oops
	[ "$output" = oops ]
	[[ $stderr == *"failed: exit 3"* ]]
	run -69 mqsend --call -k "$k" again
	[[ $output == again* ]]
}

@test "a command killed by a signal is exit 69 too, naming the signal; a command that cannot run is 127" {
	local k k2
	k=$(it_key)
	k2=$(it_key)
	serve "$k" sh -c 'kill -TERM $$'
	run -69 --separate-stderr mqsend --call -k "$k" x
	[[ $stderr == *"failed: signal TERM"* ]]
	serve "$k2" /nonexistent/cmd
	run -69 --separate-stderr mqsend --call -k "$k2" x
	[[ $stderr == *"failed: exit 127"* ]]
	grep -q "unable to run /nonexistent/cmd" "$BATS_TEST_TMPDIR/srv"
}

@test "-w with the server stopped: exit 1 at the deadline; the late request is neither run nor answered, and nothing stays queued" {
	local k d=$BATS_TEST_TMPDIR
	k=$(it_key)
	serve "$k" sh -c 'touch "$1"; cat' _ "$d/ran"
	stop_pid "$IT_PID"
	wait_for is_stopped "$IT_PID"
	run -1 --separate-stderr mqsend --call -k "$k" -w 300ms late
	[[ $stderr == *"no reply in time (-w)"* ]]
	[ -z "$output" ]
	kill -CONT "$IT_PID"
	wait_for grep -q "came after its deadline: not run, not answered" "$d/srv"
	[ ! -e "$d/ran" ]
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "-w with the server stopped while its command runs: not answered after the deadline; nothing stays queued" {
	local k d=$BATS_TEST_TMPDIR
	k=$(it_key)
	# The command stops its server, which then reads its output late.
	serve "$k" sh -c 'echo "$PPID" >>"$1"; kill -STOP "$PPID"; cat' _ "$d/stopped"
	run -1 mqsend --call -k "$k" -w 300ms late
	wait_for is_stopped "$IT_PID"
	kill -CONT "$IT_PID"
	wait_for grep -q "outlived the deadline of request 1" "$d/srv"
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "-w: a reply that came while the caller was stopped past its deadline is removed by it, not left behind" {
	local k d=$BATS_TEST_TMPDIR start
	k=$(it_key)
	# The command stops its caller (the reply type is its pid).
	serve "$k" sh -c 'echo "$MQRECV_REPLY_TO" >>"$1"; kill -STOP "$MQRECV_REPLY_TO"; cat' \
		_ "$d/stopped"
	start=$(date +%s%N)
	it_bg mqsend --call -k "$k" -w 300ms late
	wait_for is_stopped "$IT_PID"
	wait_for eval 'qstat -k "$k"; [ "$messages" = 1 ]'
	# Past the caller's deadline before it goes on.
	wait_for eval '(( $(date +%s%N) - start > 400000000 ))'
	kill -CONT "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 1 ]
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "POSIX -w: the reply queue goes at the deadline, and with SIGTERM, SIGINT and SIGHUP" {
	local n sig pid
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	run -1 bash -c 'mqsend --call -N "$1" -w 200ms x; st=$?; echo $$; exit $st' _ "$n"
	no_reply_queue "$output"
	mqrecv -N "$n" -w 1s >/dev/null
	for sig in TERM INT HUP; do
		it_bg mqsend --call -N "$n" x
		pid=$IT_PID
		wait_for compgen -G "/dev/mqueue/mqsend.reply.$pid.*"
		kill -"$sig" "$pid"
		it_wait "$pid"
		[ "$IT_STATUS" = $((128 + $(kill -l "$sig"))) ]
		no_reply_queue "$pid"
		mqrecv -N "$n" -w 1s >/dev/null
	done
}

@test "a server SIGKILLed mid-request: the caller exits 1 at its -w, nothing stays queued" {
	local k
	k=$(it_key)
	serve "$k" sh -c 'kill -KILL "$PPID"; cat'
	run -1 mqsend --call -k "$k" -w 500ms doomed
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "garbage on the request queue is refused with a line and dropped; the next request is answered" {
	local k d=$BATS_TEST_TMPDIR
	k=$(it_key)
	serve "$k" cat
	mqsend -k "$k" "not a request"
	mqsend -k "$k" $'ipcrpc/1 call 0 0123456789abcdef 0\nbad reply type'
	mqsend -k "$k" $'ipcrpc/1 reply 0123456789abcdef 0\na reply as a request'
	mqsend -k "$k" 'ipcrpc/1 call 5 0123456789abcdef'
	mqsend -k "$k" "" "ipcrpc/1 " "ipcrpc/1 call" \
		$'ipcrpc/1 call 5 0123456789ABCDEF 0\nupper-case nonce' \
		$'ipcrpc/1 call 5 0123456789abcdef0 0\nlong nonce' \
		$'ipcrpc/1 call 5 0123456789abcdef 9999999999999999999\noverflow' \
		$'ipcrpc/1 call 5 0123456789abcdef -1\nnegative' \
		$'ipcrpc/1 call  5 0123456789abcdef 0\ntwo spaces'
	head -c 3000 /dev/urandom | mqsend -k "$k" --whole
	mqsend -k "$k" $'ipcrpc/1 call 1 0123456789abcdef 0\nreply as a request'
	printf 'ipcrpc/1 call 1\0002 0123456789abcdef 0\nNUL in TO' | mqsend -k "$k" --whole
	run -0 mqsend --call -k "$k" -w 5s fine
	[ "$output" = fine ]
	[ "$(grep -c "is not a request of mqsend --call" "$d/srv")" = 15 ]
	# None was answered: a reply would come back to the server as one more.
	run ! grep -q "message 16 on" "$d/srv"
	kill -0 "$IT_PID"
}

@test "a reply with a nonce not its own (pid reuse) is dropped by the caller, which waits for its own" {
	local k
	k=$(it_key)
	# A perl server answering each request twice: first with a wrong nonce.
	it_bg_ready perl -MIPC::SysV=IPC_CREAT -e '
		my $id = msgget(hex($ARGV[0]), IPC_CREAT | 0600) // die;
		open(my $r, ">&=9"); print $r "\n"; close $r;
		msgrcv($id, my $m, 8192, 1, 0) // die;
		my ($to, $nonce, $p) = substr($m, 8) =~ /^ipcrpc\/1 call (\d+) (\S+) \d+\n(.*)/s or die;
		msgsnd($id, pack("l! a*", $to, "ipcrpc/1 reply 0000000000000000 0\nstale"), 0);
		msgsnd($id, pack("l! a*", $to, "ipcrpc/1 reply $nonce 0\nmine:$p"), 0);
	' "${k#0x}"
	run -0 mqsend --call -k "$k" -w 5s q
	[ "$output" = mine:q ]
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "a C client with plain msgsnd and msgrcv calls mqrecv --reply (tests/callclient.c)" {
	local k cc=$BATS_TEST_TMPDIR/callclient
	command -v cc >/dev/null || skip "needs a C compiler for the client"
	cc -std=c11 -Wall -Wextra -Werror -o "$cc" "$BATS_TEST_DIRNAME/callclient.c"
	k=$(it_key)
	serve "$k" sh -c 'cat; exit 7'
	run -7 "$cc" "$k" 1 "from C"
	[ "$output" = "from C" ]
}

@test "perl IPC::SysV as a caller: the envelope is the whole protocol" {
	local k
	k=$(it_key)
	serve "$k" tr a-z A-Z
	run -0 perl -MIPC::SysV=IPC_CREAT -e '
		my $id = msgget(hex($ARGV[0]), 0) // die;
		msgsnd($id, pack("l! a*", 1, "ipcrpc/1 call $$ 00000000deadbeef 0\nperl"), 0) or die;
		msgrcv($id, my $m, 8192, $$, 0) // die;
		print substr($m, 8);
	' "${k#0x}"
	[ "$output" = $'ipcrpc/1 reply 00000000deadbeef 0\nPERL' ]
}

@test "requests of another type are left alone; -t chooses the request type on both sides" {
	local k
	k=$(it_key)
	it_bg_ready mqrecv -k "$k" -c --follow --reply -t 7 --ready-fd 9 -- tr a-z A-Z
	run -0 mqsend --call -k "$k" -t 7 -w 5s seven
	[ "$output" = SEVEN ]
	run -1 mqsend --call -k "$k" -w 200ms one
	qstat -k "$k"
	[ "$messages" = 1 ]
}

@test "a request too long for the queue with its envelope is exit 65; standard input with no request too" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c --stat >/dev/null
	run -65 --separate-stderr mqsend --call -k "$k" --whole < <(head -c 8192 /dev/zero)
	[[ $stderr == *"longer than"* ]]
	run -65 --separate-stderr mqsend --call -k "$k" </dev/null
	[[ $stderr == *"holds no request"* ]]
}

@test "output too long for a reply: answered without it, exit 65 naming why" {
	local k
	k=$(it_key)
	serve "$k" head -c 9000 /dev/zero
	run -65 --separate-stderr mqsend --call -k "$k" -w 5s x
	[ -z "$output" ]
	[[ $stderr == *"too long for a reply"* ]]
}

@test "usage errors: --call with --stat, --nowait or two messages; --reply without CMD or with --print-type; CMD without --reply" {
	local k
	k=$(it_key)
	run -64 --separate-stderr mqsend --call --stat -k "$k"
	[[ $stderr == *"--stat does not go with it"* ]]
	run -64 mqsend --call --nowait -k "$k" x
	run -64 mqsend --call -k "$k" x y
	run -64 mqsend --call -k private x
	run -64 --separate-stderr mqrecv --reply -k "$k"
	[[ $stderr == *"--reply needs a CMD"* ]]
	run -64 mqrecv --reply --print-type -k "$k" -- cat
	run -64 mqrecv --reply -t -3 -k "$k" -- cat
	run -64 mqrecv --reply --whole -k "$k" -- cat
	run -64 --separate-stderr mqrecv -k "$k" cat
	[[ $stderr == *"unexpected operand 'cat'"* ]]
	run -64 mqrecv --reply -k "$k" -- ""
}

@test "completion: --call and --reply come from --help; after --reply's -- a command, then files" {
	# shellcheck disable=SC1091
	source "$BATS_TEST_DIRNAME/../completions/mqsend"
	COMP_WORDS=(mqsend --cal)
	COMP_CWORD=1
	_mqsend
	[ "${COMPREPLY[*]}" = --call ]
	# shellcheck disable=SC1091
	source "$BATS_TEST_DIRNAME/../completions/mqrecv"
	COMP_WORDS=(mqrecv --rep)
	_mqrecv
	[ "${COMPREPLY[*]}" = --reply ]
	COMP_WORDS=(mqrecv --reply -k 7 -- tr)
	COMP_CWORD=5
	_mqrecv
	[[ " ${COMPREPLY[*]} " == *" tr "* ]]
	touch "$BATS_TEST_TMPDIR/afile"
	COMP_WORDS=(mqrecv --reply -k 7 -- cat "$BATS_TEST_TMPDIR/afi")
	COMP_CWORD=6
	_mqrecv
	[ "${COMPREPLY[*]}" = "$BATS_TEST_TMPDIR/afile" ]
}

@test "SIGTERM to a server while its command runs: sent to the command's group, whose end is still answered (69, signal TERM); the server then ends by it" {
	local k d=$BATS_TEST_TMPDIR srv caller
	k=$(it_key)
	serve "$k" sh -c 'echo "$$" >"$1.tmp"; mv "$1.tmp" "$1"; exec sleep 60' _ "$d/cmd"
	srv=$IT_PID
	it_bg mqsend --call -k "$k" -w 20s x
	caller=$IT_PID
	wait_for test -s "$d/cmd"
	kill -TERM "$srv"
	it_wait "$caller"
	[ "$IT_STATUS" = 69 ]
	it_wait "$srv"
	[ "$IT_STATUS" = 143 ]
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "a server with standard output closed answers all the same: it writes nothing there" {
	local k
	k=$(it_key)
	it_bg_ready mqrecv -k "$k" -c -n 1 --reply --ready-fd 9 -- tr a-z A-Z >&-
	run -0 mqsend --call -k "$k" -w 5s shut
	[ "$output" = SHUT ]
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "POSIX: a server answers only into a reply queue of mqsend --call's: another queue named as TO is refused with a line, not run, not written" {
	local n v d=$BATS_TEST_TMPDIR
	n=$(it_name)
	v=$(it_name)
	mqsend -N "$v" -c -m 0600 --stat >/dev/null
	it_bg_ready mqrecv -N "$n" -c -m 0666 --follow --reply --ready-fd 9 -- \
		sh -c 'touch "$1"; cat' _ "$d/ran" 2>>"$d/srv"
	mqsend -N "$n" $'ipcrpc/1 call '"$v"$' 0123456789abcdef 0\nforged'
	mqsend -N "$n" $'ipcrpc/1 call /mqsend.reply.1.0123456789abcdeg 0123456789abcdef 0\nforged'
	wait_for eval '[ "$(grep -c "not one of mqsend --call.s" "$d/srv")" = 2 ]'
	[ ! -e "$d/ran" ]
	run -0 mqsend --call -N "$n" -w 5s fine
	[ "$output" = fine ]
	qstat -N "$v"
	[ "$messages" = 0 ]
}

@test "POSIX: the reply queue's name does not reveal the request's nonce" {
	local n req to nonce
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	it_bg mqsend --call -N "$n" -w 5s x
	req=$(mqrecv -N "$n" -w 5s)
	read -r _ _ to nonce _ <<<"$req"
	[[ $to =~ ^/mqsend\.reply\.[0-9]+\.[0-9a-f]{16}$ ]]
	[[ $nonce =~ ^[0-9a-f]{16}$ ]]
	[ "${to##*.}" != "$nonce" ]
}

@test "System V: a caller ended by SIGTERM or SIGINT while the command runs is not answered (a line says so); nothing stays queued" {
	local k d=$BATS_TEST_TMPDIR sig caller i=0
	k=$(it_key)
	mkfifo "$d/go"
	serve "$k" sh -c 'echo "$MQRECV_REPLY_TO" >"$1.tmp"; mv "$1.tmp" "$1"; read -r x <"$2"; cat' \
		_ "$d/to" "$d/go"
	for sig in TERM INT; do
		i=$((i + 1))
		rm -f "$d/to"
		# -w with time left, then none at all.
		if [ "$sig" = TERM ]; then
			it_bg mqsend --call -k "$k" -w 30s x
		else
			it_bg mqsend --call -k "$k" x
		fi
		caller=$IT_PID
		wait_for test -s "$d/to"
		kill -"$sig" "$caller"
		it_wait "$caller"
		echo >"$d/go"
		wait_for eval '[ "$(grep -c "(pid $caller) is gone: not answered" "$d/srv")" = 1 ]'
		qstat -k "$k"
		[ "$messages" = 0 ]
	done
}

@test "System V: a caller with no -w killed while the server waits for room to answer: the wait ends, the reply is not sent" {
	local k d=$BATS_TEST_TMPDIR caller srv
	k=$(it_key)
	# The command fills the queue with type 9, so that its reply finds no room.
	serve "$k" sh -c 'yes x | mqsend -k "$1" -t 9 --nowait 2>/dev/null; touch "$2"; cat' \
		_ "$k" "$d/full"
	srv=$IT_PID
	it_bg mqsend --call -k "$k" x
	caller=$IT_PID
	wait_for test -e "$d/full"
	kill -KILL "$caller"
	it_wait "$caller"
	wait_for grep -q "(pid $caller) is gone: not answered" "$d/srv"
	mqrecv -k "$k" -t 9 --nowait --follow >/dev/null || :
	qstat -k "$k"
	[ "$messages" = 0 ]
	kill -0 "$srv"
}

@test "SIGTERM ends a server at once whatever its command: one that ignores TERM, a stopped one, one whose child holds its output (KILL after 2s)" {
	local k d=$BATS_TEST_TMPDIR srv caller cmd nth=0
	for cmd in 'trap "" TERM; echo "$$" >"$1.tmp"; mv "$1.tmp" "$1"; sleep 60' \
		'echo "$$" >"$1.tmp"; mv "$1.tmp" "$1"; exec sleep 60' \
		'sleep 60 & echo "$$" >"$1.tmp"; mv "$1.tmp" "$1"; wait'; do
		nth=$((nth + 1))
		k=$(it_key)
		rm -f "$d/cmd"
		serve "$k" sh -c "$cmd" _ "$d/cmd"
		srv=$IT_PID
		it_bg mqsend --call -k "$k" -w 20s x
		caller=$IT_PID
		wait_for test -s "$d/cmd"
		if [ "$nth" = 2 ]; then
			stop_pid "$(cat "$d/cmd")"
			wait_for is_stopped "$(cat "$d/cmd")"
		fi
		kill -TERM "$srv"
		it_wait "$srv"
		[ "$IT_STATUS" = 143 ]
		it_wait "$caller"
		[ "$IT_STATUS" = 69 ]
		run ! kill -0 "$(cat "$d/cmd")"
	done
}

@test "a command that outlives the request's deadline is ended, not answered, said; the next request is answered" {
	local k d=$BATS_TEST_TMPDIR cmd nth=0
	k=$(it_key)
	serve "$k" sh -c 'case $(cat) in
		yes) exec yes ;;
		bg) (sleep 30; echo late) & echo quick ;;
		stop) kill -STOP "$$" ;;
		*) echo fine ;;
		esac'
	for cmd in yes bg stop; do
		nth=$((nth + 1))
		run -1 mqsend --call -k "$k" -w 500ms "$cmd"
		wait_for grep -q "outlived the deadline of request $nth on" "$d/srv"
		run -0 mqsend --call -k "$k" -w 5s next
		[ "$output" = fine ]
		nth=$((nth + 1))
	done
	qstat -k "$k"
	[ "$messages" = 0 ]
}

@test "TO, DEADLINE and STATUS are plain decimal: a sign or a leading zero is refused (request) or dropped (reply)" {
	local k d=$BATS_TEST_TMPDIR pid
	k=$(it_key)
	serve "$k" cat
	pid=$$
	mqsend -k "$k" $'ipcrpc/1 call +'"$pid"$' 0123456789abcdef 0\nsign' \
		$'ipcrpc/1 call 0'"$pid"$' 0123456789abcdef 0\nzero' \
		$'ipcrpc/1 call '"$pid"$' 0123456789abcdef 00\nzeros' \
		$'ipcrpc/1 call '"$pid"$' 0123456789abcdef 0'"$(($(date +%s) + 60))000"$'\nzero'
	wait_for eval '[ "$(grep -c "is not a request of mqsend --call" "$d/srv")" = 4 ]'
	qstat -k "$k"
	[ "$messages" = 0 ]
	# A reply with STATUS 00 is not one: the caller waits on, to its -w.
	it_bg_ready perl -MIPC::SysV=IPC_CREAT -e '
		my $id = msgget(hex($ARGV[0]), IPC_CREAT | 0600) // die;
		open(my $r, ">&=9"); print $r "\n"; close $r;
		msgrcv($id, my $m, 8192, 2, 0) // die;
		my ($to, $nonce) = substr($m, 8) =~ /^ipcrpc\/1 call (\d+) (\S+) / or die;
		msgsnd($id, pack("l! a*", $to, "ipcrpc/1 reply $nonce 00\nzeros"), 0);
	' "${k#0x}"
	run -1 --separate-stderr mqsend --call -k "$k" -t 2 -w 1s q
	[ -z "$output" ]
}
