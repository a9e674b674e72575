#!/usr/bin/env bats
# mqrecv: receiving from System V and POSIX message queues (issue 3).
# Scripts in single quotes get their values as arguments, on purpose; the
# completion file is sourced from the tree.
# shellcheck disable=SC2016,SC1091

load helper

# The queue's metadata as shell variables (messages, last_receiver...).
qstat() {
	eval "$(mqrecv --stat "$@")"
}

# Waits until pid sleeps in the kernel function named (do_msgrcv...).
blocked_in() {
	grep -qx "$2" "/proc/$1/wchan" 2>/dev/null
}

received_by() {
	qstat -k "$1"
	[ "$last_receiver" -eq "$2" ]
}

@test "the notes' example: a child waiting for type 42 receives 252, then the queue is removed" {
	local k out
	k=$(it_key)
	out=$(it_path out)
	it_bg_ready mqrecv -k "$k" -c -t 42 --rm --ready-fd 9 >"$out"
	mqsend -k "$k" -t 7 "not for the child"
	mqsend -k "$k" -t 42 252
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$out")" = 252 ]
	run ! grep -qi "^$k " <(ipcs -q)
}

@test "type selection: 0 the first, >0 the first of that type, <0 the lowest type up to |TYPE|, --except" {
	local k
	k=$(it_key)
	printf '9\tz\n3\tc\n1\ta1\n2\tb\n5\te\n1\ta2\n' | mqsend -k "$k" -c --typed
	run -0 mqrecv -k "$k" --print-type
	[ "$output" = $'9\tz' ]
	run -0 mqrecv -k "$k" -t -3 --print-type
	[ "$output" = $'1\ta1' ]
	run -0 mqrecv -k "$k" -t -3 --print-type
	[ "$output" = $'1\ta2' ]
	run -0 mqrecv -k "$k" -t 5
	[ "$output" = e ]
	run -0 mqrecv -k "$k" -t 3 --except --print-type
	[ "$output" = $'2\tb' ]
	run -1 mqrecv -k "$k" -t 3 --except --nowait
	run -1 mqrecv -k "$k" -t -2 --nowait
	run -0 mqrecv -k "$k" -t 0
	[ "$output" = c ]
	run -64 mqrecv -k "$k" --except
	[ "${lines[0]}" = "mqrecv: --except needs --type above 0" ]
	run -64 mqrecv -k "$k" -t -9223372036854775808
	[ "${lines[0]}" = "mqrecv: invalid type '-9223372036854775808': out of range" ]
	run -64 mqrecv -k "$k" -t 1.5
	[ "${lines[0]}" = "mqrecv: invalid type '1.5'" ]
}

@test "POSIX: the highest priority first, in order within a priority" {
	local n
	n=$(it_name)
	mqsend -N "$n" -c -p 1 one
	mqsend -N "$n" -p 5 five-a
	mqsend -N "$n" zero
	mqsend -N "$n" -p 5 five-b
	run -0 mqrecv -N "$n" -n 4 --print-priority
	[ "$output" = $'5\tfive-a\n5\tfive-b\n1\tone\n0\tzero' ]
}

@test "-n COUNT, and --follow --nowait to drain; running short is exit 1" {
	local k
	k=$(it_key)
	seq 5 | mqsend -k "$k" -c
	run -0 mqrecv -k "$k" -n 2
	[ "$output" = $'1\n2' ]
	run -1 mqrecv -k "$k" -n 4 --nowait
	[ "$output" = $'3\n4\n5\nmqrecv: unable to receive from key '"$k"': no message (--nowait)' ]
	seq 3 | mqsend -k "$k"
	run -0 mqrecv -k "$k" --follow --nowait
	[ "$output" = $'1\n2\n3' ]
	run -1 mqrecv -k "$k" --follow --nowait
	[ "$output" = "mqrecv: unable to receive from key $k: no message (--nowait)" ]
	run -64 mqrecv -k "$k" -n 0
	[ "${lines[0]}" = "mqrecv: invalid count '0': out of range" ]
	run -64 mqrecv -k "$k" -n 2 --follow
	[ "${lines[0]}" = "mqrecv: --count and --follow: choose one" ]
}

@test "--timeout is exit 1 when no message comes, System V and POSIX" {
	local k n
	k=$(it_key)
	n=$(it_name)
	run -1 mqrecv -k "$k" -c --timeout 100ms
	[ "$output" = "mqrecv: unable to receive from key $k: timed out" ]
	run -1 mqrecv -N "$n" -c -w 0.1
	[ "$output" = "mqrecv: unable to receive from $n: timed out" ]
	mqsend -N "$n" here
	run -0 mqrecv -N "$n" -w 1m
	[ "$output" = here ]
	run -64 mqrecv -k "$k" -w -1s
	[ "${lines[0]}" = "mqrecv: invalid duration '-1s'" ]
}

@test "mqrecv --follow --print-type | mqsend --typed forwards a queue keeping types" {
	local a b
	a=$(it_key)
	b=$(it_key)
	printf '4\tfour\n1\tone\n4\tfour again\n' | mqsend -k "$a" -c --typed
	mqsend -k "$b" -c --stat >/dev/null
	mqrecv -k "$a" --follow --nowait --print-type | mqsend -k "$b" --typed
	run -0 mqrecv -k "$b" -n 3 --print-type
	[ "$output" = $'4\tfour\n1\tone\n4\tfour again' ]
}

@test "mqrecv --follow | head -n 3 takes exactly three messages; the rest stay queued" {
	local k n i
	k=$(it_key)
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	for i in 1 2 3; do
		seq 10 | mqsend -k "$k" -c
		run -0 bash -c 'mqrecv -k "$1" --follow | head -n 3' _ "$k"
		[ "$output" = $'1\n2\n3' ]
		run -0 mqrecv -k "$k" --follow --nowait
		[ "${#lines[@]}" -eq 7 ]
		[ "$(sort -n <<<"$output")" = "$(seq 4 10)" ]
		seq 8 | mqsend -N "$n"
		run -0 bash -c 'mqrecv -N "$1" --follow | head -n 3' _ "$n"
		[ "$output" = $'1\n2\n3' ]
		run -0 mqrecv -N "$n" --follow --nowait
		[ "$(sort -n <<<"$output")" = "$(seq 4 8)" ]
	done
}

@test "SIGINT or SIGTERM while blocked ends mqrecv at once and takes nothing" {
	local k sig
	k=$(it_key)
	for sig in INT TERM; do
		it_bg_ready mqrecv -k "$k" -c --ready-fd 9
		wait_for blocked_in "$IT_PID" do_msgrcv
		kill -"$sig" "$IT_PID"
		it_wait "$IT_PID"
		[ "$IT_STATUS" -eq $((128 + $(kill -l "$sig"))) ]
	done
	mqsend -k "$k" kept
	run -0 mqrecv -k "$k" --nowait
	[ "$output" = kept ]
}

@test "a stop signal still removes a --rm queue, for mqrecv and mqsend" {
	local k k2 big
	k=$(it_key)
	it_bg_ready mqrecv -k "$k" -c --rm --ready-fd 9
	wait_for blocked_in "$IT_PID" do_msgrcv
	kill -HUP "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 129 ]
	run -66 mqrecv -k "$k" --stat
	k2=$(it_key)
	big=$(head -c 8000 /dev/zero | tr '\0' a)
	mqsend -k "$k2" -c "$big" "$big"
	it_bg mqsend -k "$k2" --rm "$big"
	wait_for blocked_in "$IT_PID" do_msgsnd
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 143 ]
	run -66 mqsend -k "$k2" --stat
}

@test "SIGTERM in the middle of a stream loses no message" {
	local k out
	k=$(it_key)
	out=$(it_path out)
	mqsend -k "$k" -c --stat >/dev/null
	it_bg_ready mqrecv -k "$k" --follow --ready-fd 9 >"$out"
	local recv=$IT_PID
	it_bg bash -c 'seq 3000 | mqsend -k "$1"' _ "$k"
	local send=$IT_PID
	wait_for received_by "$k" "$recv"
	kill -TERM "$recv"
	it_wait "$recv"
	[ "$IT_STATUS" -eq 143 ]
	it_wait "$send"
	[ "$IT_STATUS" -eq 0 ]
	mqrecv -k "$k" --follow --nowait >>"$out" || true
	[ "$(sort -n "$out")" = "$(seq 3000)" ]
}

@test "ipcrm under a blocked mqrecv is exit 66" {
	local k err
	k=$(it_key)
	err=$(it_path err)
	it_bg_ready mqrecv -k "$k" -c --ready-fd 9 2>"$err"
	wait_for blocked_in "$IT_PID" do_msgrcv
	ipcrm -Q "$k"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 66 ]
	[ "$(cat "$err")" = "mqrecv: unable to receive from key $k: the queue was removed" ]
}

@test "four senders of 10,000 and two receivers: every message exactly once, unaltered" {
	local k i out pids=()
	k=$(it_key)
	out=$(it_path out)
	mqsend -k "$k" -c --stat >/dev/null
	it_bg_ready mqrecv -k "$k" -n 20000 --ready-fd 9 >"$out.1"
	pids+=("$IT_PID")
	it_bg_ready mqrecv -k "$k" -n 20000 --ready-fd 9 >"$out.2"
	pids+=("$IT_PID")
	for i in 1 2 3 4; do
		it_bg bash -c 'seq -f "sender $1 message %05g of 10000" 10000 | mqsend -k "$2"' _ "$i" "$k"
		pids+=("$IT_PID")
	done
	for i in "${pids[@]}"; do
		it_wait "$i" 60
		[ "$IT_STATUS" -eq 0 ]
	done
	for i in 1 2 3 4; do
		seq -f "sender $i message %05g of 10000" 10000
	done | sort >"$out.want"
	sort "$out.1" "$out.2" | cmp - "$out.want"
	[ "$(wc -l <"$out.1")" -eq 20000 ]
	qstat -k "$k"
	[ "$messages" -eq 0 ]
}

@test "perl's IPC::SysV sends to mqrecv, types intact" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c --stat >/dev/null
	perl -MIPC::SysV=IPC_NOWAIT -e '
		my $id = msgget(hex $ARGV[0], 0) // die "msgget: $!";
		msgsnd($id, pack("l! a*", 42, "252"), IPC_NOWAIT) or die "msgsnd: $!";
		msgsnd($id, pack("l! a*", 3, "three\0bytes"), IPC_NOWAIT) or die;
	' "$k"
	run -0 mqrecv -k "$k" -t 42 --print-type
	[ "$output" = $'42\t252' ]
	run -0 bash -c 'mqrecv -k "$1" --print-type --netstring | tr "\0" @' _ "$k"
	[ "$output" = $'13:3\tthree@bytes,' ]
}

@test "a message longer than the receiver takes is exit 65 and stays queued; --truncate cuts it and says so" {
	local k n
	k=$(it_key)
	mqsend -k "$k" -c -t 3 0123456789
	run -65 mqrecv -k "$k" --msgsize 4
	[ "$output" = "mqrecv: unable to receive from key $k: the next message is longer than 4 bytes and stays queued (this receiver takes 4 bytes: use --msgsize or --truncate)" ]
	# --rm would destroy it: the queue stays, and the line says so.
	run -65 mqrecv -k "$k" --msgsize 4 --rm
	[ "$output" = "mqrecv: unable to receive from key $k: the next message is longer than 4 bytes and stays queued, and the queue despite --rm (this receiver takes 4 bytes: use --msgsize or --truncate)" ]
	run -0 mqrecv -k "$k" --msgsize 4 --truncate
	[ "$output" = $'mqrecv: message 1 of this run (type 3) cut to 4 bytes: 6 of its 10 bytes lost (--truncate)\n0123' ]
	qstat -k "$k"
	[ "$messages" -eq 0 ]
	n=$(it_name)
	run -64 mqrecv -N "$n" --truncate
	[ "${lines[0]}" = "mqrecv: --truncate is for System V queues: a POSIX queue never holds a message over its msgsize" ]
}

@test "--key private is a usage error: nobody could send to a new private queue" {
	local before
	before=$(ipcs -q | grep -c '^0x00000000 ' || true)
	run -64 mqrecv -k private --nowait
	[ "${lines[0]}" = "mqrecv: --key private would make a new queue that no sender knows: name it by --key, --file, --id or --name" ]
	[ "$(ipcs -q | grep -c '^0x00000000 ' || true)" = "$before" ]
}

@test "output framings: lines, NUL, netstrings, whole" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c a "b c"
	run -0 mqrecv -k "$k" -n 2 -0
	[ "$output" = "$(printf 'a\0b c\0')" ]
	mqsend -k "$k" a "b c"
	run -0 mqrecv -k "$k" -n 2 --netstring
	[ "$output" = "1:a,3:b c," ]
	printf 'x\ny\n' | mqsend -k "$k" --whole
	[ "$(mqrecv -k "$k" --whole | od -An -c | tr -d ' ')" = 'x\ny\n' ]
}

@test "--stat and --json describe System V and POSIX queues; --maxmsg and --msgsize shape a new one" {
	local k n
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c abc
	qstat -k "$k"
	[ "$key" = "$k" ] && [ "$messages" -eq 1 ] && [ "$bytes" -eq 3 ] && [ "$mode" = 0600 ]
	[ "$last_sender" -gt 0 ] && [ "$last_receiver" -eq 0 ] && [ "$received" -eq 0 ]
	run -0 mqrecv -N "$n" -c --maxmsg 4 --msgsize 32 --stat --json
	[ "$output" = "{\"name\":\"$n\",\"mode\":\"0600\",\"owner\":0,\"group\":0,\"messages\":0,\"maxmsg\":4,\"msgsize\":32}" ]
	run -64 mqrecv -k "$k" --maxmsg 4
	[ "${lines[0]}" = "mqrecv: --maxmsg is for POSIX queues" ]
	run -71 mqrecv -N "$(it_name)" -c --msgsize 2147483647
	[[ $output == "mqrecv: unable to create message queue /ipct."*": Invalid argument (maxmsg $(cat /proc/sys/fs/mqueue/msg_default), msgsize 2147483647: the limits are /proc/sys/fs/mqueue/msg_max"* ]]
}

@test "--ready-fd must be an open descriptor; usage errors name the option" {
	local k n
	k=$(it_key)
	n=$(it_name)
	run -64 mqrecv -k "$k" --ready-fd 99
	[ "${lines[0]}" = "mqrecv: invalid file descriptor '99': not an open file descriptor" ]
	run -64 mqrecv -N "$n" -t 1
	[ "${lines[0]}" = "mqrecv: --type, --except and --print-type are for System V queues" ]
	run -64 mqrecv -k "$k" --print-priority
	[ "${lines[0]}" = "mqrecv: --print-priority is for POSIX queues: use --print-type" ]
	run -64 mqrecv -k "$k" extra
	[ "${lines[0]}" = "mqrecv: unexpected operand 'extra'" ]
	run -64 mqrecv -k "$k" --json
	[ "${lines[0]}" = "mqrecv: --json goes with --stat" ]
	run -64 mqrecv -k "$k" --nowait -w 1s
	[ "${lines[0]}" = "mqrecv: --nowait and --timeout: choose one" ]
}

@test "missing queue is exit 66; --excl on an existing one is 73; a new one is mode 600 in ipcs -q" {
	local k n
	k=$(it_key)
	n=$(it_name)
	run -66 mqrecv -k "$k"
	[ "$output" = "mqrecv: no message queue for key $k (use --create)" ]
	run -66 mqrecv -N "$n"
	[ "$output" = "mqrecv: no message queue for $n (use --create)" ]
	run -1 mqrecv -k "$k" -x --nowait
	ipcs -q | grep -Eqi "^$k +[0-9]+ +root +600 +0 +0 *$"
	run -73 mqrecv -k "$k" -x --nowait
	[ "$output" = "mqrecv: unable to create message queue for key $k: File exists" ]
	run -1 mqrecv -N "$n" -x --nowait
	[ "$(stat -c %a "/dev/mqueue$n")" = 600 ]
	run -73 mqrecv -N "$n" -x --nowait
	[ "$output" = "mqrecv: unable to create message queue $n: File exists" ]
}

@test "a write error on standard output is exit 74, and the message goes back" {
	local k n
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c -t 5 kept
	mqsend -N "$n" -c -p 3 kept
	run -74 bash -c 'mqrecv -k "$1" >/dev/full' _ "$k"
	[ "$output" = "mqrecv: unable to write standard output: No space left on device (1 message put back)" ]
	run -74 bash -c 'mqrecv -N "$1" >/dev/full' _ "$n"
	run -74 bash -c 'mqrecv -N "$1" >&-' _ "$n"
	[ "$output" = "mqrecv: unable to write standard output: Bad file descriptor" ]
	run -0 mqrecv -k "$k" --nowait --print-type
	[ "$output" = $'5\tkept' ]
	run -0 mqrecv -N "$n" --nowait --print-priority
	[ "$output" = $'3\tkept' ]
}

@test "permission denied as another user is exit 77" {
	local k n
	need_other_user
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c secret
	run -77 as_nobody mqrecv -k "$k"
	[ "$output" = "mqrecv: unable to receive from key $k: Permission denied" ]
	mqsend -N "$n" -c secret
	run -77 as_nobody mqrecv -N "$n"
	[ "$output" = "mqrecv: unable to open message queue $n: Permission denied" ]
	run -0 mqrecv -k "$k"
	[ "$output" = secret ]
}

@test "completion: options from --help, ids from ipcs" {
	local id
	source "$BATS_TEST_DIRNAME/../completions/mqrecv"
	COMP_WORDS=(mqrecv --fol)
	COMP_CWORD=1
	_mqrecv
	[ "${COMPREPLY[*]}" = --follow ]
	COMP_WORDS=(mqrecv --print-)
	_mqrecv
	[ "$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' ')" = "--print-priority --print-type" ]
	id=$(mqsend -k private x)
	it_track msgid "$id"
	COMP_WORDS=(mqrecv -i "")
	COMP_CWORD=2
	_mqrecv
	[[ " ${COMPREPLY[*]} " == *" $id "* ]]
	COMP_WORDS=(mqrecv -n "")
	_mqrecv
	[ "${#COMPREPLY[@]}" -eq 0 ]
	complete -p mqrecv | grep -q -- '-F _mqrecv'
}

# The words readline gives a completion function for "mqrecv --key=0x1c":
# "--key" "=" "0x1c" where '=' is in COMP_WORDBREAKS (bash's default), and
# one word "--key=0x1c", replaced whole by the reply, where it is not.
mqrecv_complete() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_mqrecv
}

@test "completion: --key= and --mode= values, split at '=' or not" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c x
	source "$BATS_TEST_DIRNAME/../completions/mqrecv"
	mqrecv_complete mqrecv --key = "${k:0:7}"
	[ "${COMPREPLY[*]}" = "$k" ]
	mqrecv_complete mqrecv --key =
	[[ " ${COMPREPLY[*]} " == *" $k "* ]]
	[[ " ${COMPREPLY[*]} " != *" 0x00000000 "* ]]
	mqrecv_complete mqrecv -k ""
	[[ " ${COMPREPLY[*]} " == *" $k "* ]]
	mqrecv_complete mqrecv "--key=${k:0:7}"
	[ "${COMPREPLY[*]}" = "--key=$k" ]
	mqrecv_complete mqrecv --mode = 06
	[ "${COMPREPLY[*]}" = "0600 0640 0660 0644 0666" ]
	mqrecv_complete mqrecv --mode =
	[[ " ${COMPREPLY[*]} " == *" 0600 "* ]]
	mqrecv_complete mqrecv --mode=064
	[ "${COMPREPLY[*]}" = "--mode=0640 --mode=0644" ]
	mqrecv_complete mqrecv -m 066
	[ "${COMPREPLY[*]}" = "0660 0666" ]
	mqrecv_complete mqrecv -k "$k" --ty
	[ "${COMPREPLY[*]}" = --type ]
}

@test "completion: --name= values from /dev/mqueue, split at '=' or not" {
	local n
	mountpoint -q /dev/mqueue || skip "/dev/mqueue is not mounted"
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	source "$BATS_TEST_DIRNAME/../completions/mqrecv"
	mqrecv_complete mqrecv --name = "${n%.*}"
	[ "${COMPREPLY[*]}" = "$n" ]
	mqrecv_complete mqrecv --name =
	[[ " ${COMPREPLY[*]} " == *" $n "* ]]
	mqrecv_complete mqrecv "--name=${n%.*}"
	[ "${COMPREPLY[*]}" = "--name=$n" ]
	mqrecv_complete mqrecv -N "${n%.*}"
	[ "${COMPREPLY[*]}" = "$n" ]
}

@test "into a slow pipe, mqrecv waits for each message to be read, and gives the pipe its size back" {
	local k gate pidf out
	k=$(it_key)
	gate=$(it_path gate)
	pidf=$(it_path pid)
	out=$(it_path out)
	mkfifo "$gate"
	seq 3 | mqsend -k "$k" -c
	it_bg bash -c '{ mqrecv -k "$1" -n 3 & echo $! >"$2"; wait $!
		python3 -c "import fcntl; print(fcntl.fcntl(1, 1032))"; } |
		{ read -r _ <"$3"; cat >"$4"; }' _ "$k" "$pidf" "$gate" "$out"
	wait_for test -s "$pidf"
	wait_for grep -q poll "/proc/$(cat "$pidf")/wchan"
	# One message is in the pipe, the other two still queued.
	run -0 mqrecv -k "$k" --stat
	[[ $output == *$'\nmessages=2\n'* ]]
	echo go >"$gate"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	# A new pipe's size, as pipe(7) says.
	[ "$(cat "$out")" = "$(printf '1\n2\n3\n65536')" ]
}

@test "with fds 0 and 2 closed, the queue's descriptor does not land on them" {
	local n
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	it_bg_ready bash -c 'exec mqrecv -N "$1" --ready-fd 9 <&- 2>&-' _ "$n"
	[ "$(readlink "/proc/$IT_PID/fd/0")" = /dev/null ]
	[ "$(readlink "/proc/$IT_PID/fd/2")" = /dev/null ]
	[ "$(readlink "/proc/$IT_PID/fd/3")" = "$n" ]
	mqsend -N "$n" hello
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
}

@test "--follow | head -n 3 with exactly three messages ends as head does, instead of waiting for a fourth" {
	local k
	k=$(it_key)
	seq 3 | mqsend -k "$k" -c
	run -0 timeout 10 bash -c 'mqrecv -k "$1" --follow | head -n 3; echo "${PIPESTATUS[0]}"' _ "$k"
	[ "$output" = "$(printf '1\n2\n3\n141')" ]
	run -0 mqrecv -k "$k" --stat
	[[ $output == *$'\nmessages=0\n'* ]]
}

@test "a message the reader read only in part goes back whole: it counts as not delivered (30 times)" {
	local q round
	q=$(it_name)
	mqsend -N "$q" -c --stat >/dev/null
	for ((round = 0; round < 30; round++)); do
		mqsend -N "$q" alpha bravo charlie
		run -141 bash -c 'mqrecv -N "$1" --follow | { head -n 1; dd bs=1 count=3 status=none; }; exit "${PIPESTATUS[0]}"' _ "$q"
		[ "$output" = $'alpha\nbra' ]
		# Documented order: what went back comes after what stayed.
		run -0 mqrecv -N "$q" --follow --nowait
		[ "$output" = $'charlie\nbravo' ]
	done
}

@test "the README's examples print what they show: head -n 3 leaves 4..10 or 5..10 then 4; forwarding keeps types and order (30 times)" {
	local a b round
	a=$(it_key)
	b=$(it_key)
	for ((round = 0; round < 30; round++)); do
		seq 10 | mqsend -k "$a" -c
		run -0 bash -c 'mqrecv -k "$1" --follow | head -n 3' _ "$a"
		[ "$output" = "$(seq 3)" ]
		run -0 mqrecv -k "$a" --follow --nowait --rm
		[[ $output == "$(seq 4 10)" || $output == "$(seq 5 10; echo 4)" ]]
		printf '2\ttwo\n5\tfive\n' | mqsend -k "$a" -c --typed
		mqrecv -k "$a" --follow --nowait --print-type --rm | mqsend -k "$b" -c --typed
		run -0 mqrecv -k "$b" --follow --nowait --print-type --rm
		[ "$output" = $'2\ttwo\n5\tfive' ]
	done
}

@test "an option that has no effect with --stat is a usage error, naming it; so are --maxmsg, --msgsize and --mode without --create" {
	local k n o
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c --stat >/dev/null
	mqsend -N "$n" -c --stat >/dev/null
	for o in "--count=3" --follow "--type=2" --nowait "--timeout=1" --truncate "--putback-timeout=1" "--msgsize=10" --null --netstring --whole --print-type; do
		run -64 mqrecv -k "$k" --stat "$o"
		[ "${lines[0]}" = "mqrecv: --stat receives nothing: ${o%%=*} has no effect with it" ]
	done
	run -64 mqrecv -N "$n" --stat --print-priority
	[ "${lines[0]}" = "mqrecv: --stat receives nothing: --print-priority has no effect with it" ]
	run -64 mqrecv -N "$n" --maxmsg 3
	[ "${lines[0]}" = "mqrecv: --maxmsg and --msgsize shape a new POSIX queue: they need --create or --excl" ]
	run -64 mqsend -N "$n" --msgsize 3 hello
	[ "${lines[0]}" = "mqsend: --maxmsg and --msgsize shape a new POSIX queue: they need --create or --excl" ]
	for o in "--type=2" --typed --nowait "--timeout=1" --null --whole --netstring; do
		run -64 mqsend -k "$k" --stat "$o"
		[ "${lines[0]}" = "mqsend: --stat sends nothing: ${o%%=*} has no effect with it" ]
	done
	run -64 mqsend -N "$n" --stat -p 3
	[ "${lines[0]}" = "mqsend: --stat sends nothing: --priority has no effect with it" ]
	run -64 mqsend -k "$k" -m 0644 hello
	[ "${lines[0]}" = "mqsend: --mode sets the mode of a new queue: it needs --create or --excl" ]
	run -64 mqrecv -N "$n" -m 0644 --stat
	[ "${lines[0]}" = "mqrecv: --mode sets the mode of a new queue: it needs --create or --excl" ]
	# What does apply still works.
	run -0 mqsend -k private -m 0640 --typed $'3\tx'
	it_track msgid "$output"
	run -0 mqrecv -i "$output" -t 3 --rm
	[ "$output" = x ]
	run -0 mqrecv -N "$n" --stat --json
	run -0 mqrecv -k "$k" --stat --rm
}

@test "--help: an Exit status paragraph; mqrecv offers no --key private and words framing as output; mqsend's -p states its limit" {
	run -0 mqrecv --help
	[[ $output == *$'\nEach message is written before the next is taken'*"Exit status: 0 success, 1 timed out"*"77 permission denied."$'\n\nReport bugs'* ]]
	[[ $output != *"'private'"* && $output != *"for a new object"* ]]
	[[ $output != *"all of the input"* && $output != *"messages end with"* ]]
	[[ $output == *"--whole                each message as is, nothing after it"* ]]
	run -0 mqsend --help
	[[ $output == *"Exit status: 0 success (also when --full=overwrite or discard"$'\n'"dropped messages: stderr says how many), 1 queue full (--nowait, --full=fail)"$'\n'"or timed out (--call: no reply in time),"*"77"?"permission denied."$'\n\nReport bugs'* ]]
	[[ $output == *"-p, --priority=PRIO        POSIX message priority, 0 to 32767 (default 0)"* ]]
	[[ $output == *"--whole                all of the input is one message"* ]]
	run -64 mqsend -N /x -p 32768 hello
	[ "${lines[0]}" = "mqsend: invalid priority '32768': out of range" ]
}

@test "--stat --rm whose metadata cannot be written leaves the queue and says so (System V and POSIX, mqrecv and mqsend)" {
	local k n
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c hello
	mqsend -N "$n" -c hello
	run -74 bash -c 'exec mqrecv -k "$1" --stat --rm >/dev/full' _ "$k"
	[ "$output" = "mqrecv: unable to write standard output: No space left on device (key $k stays despite --rm)" ]
	run -74 bash -c 'exec mqrecv -N "$1" --stat --json --rm >/dev/full' _ "$n"
	[ "$output" = "mqrecv: unable to write standard output: No space left on device ($n stays despite --rm)" ]
	run -74 bash -c 'exec mqsend -k "$1" --stat --rm >/dev/full' _ "$k"
	[ "$output" = "mqsend: unable to write standard output: No space left on device (key $k stays despite --rm)" ]
	# Still there, with the message; a --stat that is written removes it.
	run -0 mqrecv -k "$k" --stat --rm
	[[ $output == *$'\nmessages=1\n'* ]]
	run -66 mqrecv -k "$k" --stat
	run -0 mqrecv -N "$n" --stat --rm
	[[ $output == *$'\nmessages=1\n'* ]]
	[ ! -e "/dev/mqueue$n" ]
}

@test "a refused --rm (another user's queue) is an error with a line: after the last message, a timeout, --stat, and a stop signal" {
	local k n err
	need_other_user
	k=$(it_key)
	n=$(it_name)
	err=$(it_path err)
	seq 3 | mqsend -k "$k" -c -m 0666
	mqsend -N "$n" -c -m 0666 one
	run -77 as_nobody mqrecv -k "$k" --rm --follow -w 0.1
	[ "$output" = "$(printf '1\n2\n3\nmqrecv: unable to remove message queue key %s: Operation not permitted' "$k")" ]
	run -77 as_nobody mqrecv -k "$k" --rm --stat
	[ "${lines[-1]}" = "mqrecv: unable to remove message queue key $k: Operation not permitted" ]
	run -77 as_nobody mqrecv -N "$n" --rm --json --stat
	[ "${lines[-1]}" = "mqrecv: unable to remove message queue $n: Permission denied" ]
	# A stop signal: the status is the signal's, and the line comes too
	# (setpriv execs: its pid is mqrecv's).
	it_bg_ready setpriv --reuid=nobody --regid=nogroup --clear-groups -- mqrecv -k "$k" --rm --follow --ready-fd 9 2>"$err" >/dev/null
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 143 ]
	[ "$(cat "$err")" = "mqrecv: unable to remove message queue key $k: Operation not permitted" ]
	it_bg_ready setpriv --reuid=nobody --regid=nogroup --clear-groups -- mqrecv -N "$n" --rm --follow --ready-fd 9 2>"$err" >/dev/null
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 143 ]
	[ "$(cat "$err")" = "mqrecv: unable to remove message queue $n: Permission denied" ]
	run -0 mqrecv -k "$k" --stat --rm
	run -0 mqrecv -N "$n" --stat --rm
}

@test "a file size limit on standard error too: the failure still has its line, saying what went back (ulimit -S -f 0)" {
	local k n out err
	k=$(it_key)
	n=$(it_name)
	out=$(it_path out)
	err=$(it_path err)
	seq 5 | mqsend -k "$k" -c
	seq 5 | mqsend -N "$n" -c
	run -74 bash -c 'ulimit -S -f 0; exec mqrecv -k "$1" -n 3 >"$2" 2>"$3"' _ "$k" "$out" "$err"
	[ "$(cat "$err")" = "mqrecv: unable to write standard output: File too large (1 message put back)" ]
	run -74 bash -c 'ulimit -S -f 0; exec mqrecv -N "$1" --follow --nowait --rm >"$2" 2>>"$3"' _ "$n" "$out" "$err"
	[ "$(sed -n 2p "$err")" = "mqrecv: unable to write standard output: File too large (1 message put back, so the queue stays despite --rm)" ]
	# The limit is back in force after the line: the file stays empty.
	[ ! -s "$out" ]
	run -0 mqrecv -k "$k" --follow --nowait
	[ "$output" = "$(seq 2 5; echo 1)" ]
	run -0 mqrecv -N "$n" --follow --nowait --rm
	[ "$output" = "$(seq 2 5; echo 1)" ]
}

in_pipe_write() {
	blocked_in "$1" anon_pipe_write || blocked_in "$1" pipe_write
}

# Runs mqrecv "$@" with its stdout a pipe shrunk to one page that nobody
# reads; prints its status (or "hung" after the deadline, when it is
# killed) on the first line, then its stderr.
unread_pipe() {
	python3 -c '
import fcntl, os, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
p = subprocess.Popen(sys.argv[2:], stdout=w, stderr=subprocess.PIPE)
os.close(w)
open(os.environ["PIDFILE"], "w").write("%d\n" % p.pid)
try:
    err = p.communicate(timeout=float(sys.argv[1]))[1]
    print(p.returncode if p.returncode >= 0 else 128 - p.returncode)
except subprocess.TimeoutExpired:
    p.kill()
    err = p.communicate()[1]
    print("hung")
sys.stdout.write(err.decode())
' "$IT_DEADLINE" mqrecv "$@"
}

@test "a message larger than the pipe, whose reader stops reading: -w bounds the write and SIGTERM ends it, the message put back whole" {
	local n pidfile
	n=$(it_name)
	pidfile=$(it_path pid)
	mqsend -N "$n" -c --msgsize 8192 --stat >/dev/null
	head -c 8000 /dev/zero | tr '\0' a | mqsend -N "$n" --whole
	PIDFILE=$pidfile run -0 unread_pipe -N "$n" --whole -w 0.5
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "mqrecv: unable to write standard output: timed out with 4096 of a message's 8000 bytes written (1 message put back whole)" ]
	run -0 mqrecv -N "$n" --whole --nowait
	[ "$output" = "$(head -c 8000 /dev/zero | tr '\0' a)" ]
	# --follow and --rm: the queue stays with the message.
	head -c 8000 /dev/zero | tr '\0' b | mqsend -N "$n" --whole
	PIDFILE=$pidfile run -0 unread_pipe -N "$n" --whole --follow -w 0.5 --rm
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "mqrecv: unable to write standard output: timed out with 4096 of a message's 8000 bytes written (1 message put back whole, so the queue stays despite --rm)" ]
	# No -w: SIGTERM ends the write at once.
	rm "$pidfile"
	PIDFILE=$pidfile it_bg unread_pipe -N "$n" --whole
	local py=$IT_PID
	wait_for test -s "$pidfile"
	wait_for in_pipe_write "$(cat "$pidfile")"
	kill -TERM "$(cat "$pidfile")"
	it_wait "$py"
	run -0 mqrecv -N "$n" --whole --nowait --rm
	[ "$output" = "$(head -c 8000 /dev/zero | tr '\0' b)" ]
}

@test "order changes only by a put-back, and as mqrecv(1) says: a write out of -w time sends its message behind the queue" {
	local n pidfile big
	n=$(it_name)
	pidfile=$(it_path pid)
	big=$(head -c 8000 /dev/zero | tr '\0' a)
	mqsend -N "$n" -c --msgsize 8192 --stat >/dev/null
	mqsend -N "$n" "$big" x y
	PIDFILE=$pidfile run -0 unread_pipe -N "$n" --follow -w 0.5
	[ "${lines[0]}" = 1 ]
	run -0 mqrecv -N "$n" --follow --nowait --rm
	[ "$output" = "$(printf 'x\ny\n%s' "$big")" ]
}

# Runs mqrecv "$@" into a pipe read by cat, and SIGSTOPs cat once it has
# passed on 5 lines; SIGCONTs it once mqrecv has ended (or after the
# deadline, when mqrecv is killed). Prints mqrecv's status ("hung" if
# killed), its stderr, then "--" and every line cat passed on.
stopped_reader() {
	python3 -c '
import os, signal, subprocess, sys
r, w = os.pipe()
cat = subprocess.Popen(["cat"], stdin=r, stdout=subprocess.PIPE)
p = subprocess.Popen(sys.argv[2:], stdout=w, stderr=subprocess.PIPE)
os.close(r)
os.close(w)
got = [cat.stdout.readline() for _ in range(5)]
cat.send_signal(signal.SIGSTOP)
try:
    err = p.communicate(timeout=float(sys.argv[1]))[1]
    status = str(p.returncode if p.returncode >= 0 else 128 - p.returncode)
except subprocess.TimeoutExpired:
    p.kill()
    err = p.communicate()[1]
    status = "hung"
cat.send_signal(signal.SIGCONT)
got += cat.stdout.readlines()
cat.wait()
sys.stdout.write(status + "\n" + err.decode() + "--\n" + b"".join(got).decode())
' "$IT_DEADLINE" mqrecv "$@"
}

@test "a reader SIGSTOPped with a small message in the pipe: -w bounds the wait, the message goes back, each exactly once (10 times)" {
	local k round queued
	k=$(it_key)
	for ((round = 0; round < 10; round++)); do
		seq 1000 | mqsend -k "$k" -c
		run -0 stopped_reader -k "$k" --follow -w 1s
		[ "${lines[0]}" = 1 ]
		[[ ${lines[1]} =~ ^"mqrecv: unable to write standard output: timed out with a message of "[0-9]+" bytes unread by the reader (1 message put back whole)"$ ]]
		[ "${lines[2]}" = -- ]
		queued=$(mqrecv -k "$k" --follow --nowait)
		# Everything once: read by cat, or back on the queue.
		[ "$(printf '%s\n%s\n' "$output" "$queued" | sed 1,3d | sort -n)" = "$(seq 1000)" ]
	done
}

@test "--truncate names on stderr which message of the run lost how many bytes, as mqrecv(1) says" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c -t 3 0123456789
	mqsend -k "$k" ab
	mqsend -k "$k" -t 5 abcdefgh
	run --separate-stderr -0 mqrecv -k "$k" --msgsize 4 --truncate --follow --nowait
	[ "$output" = $'0123\nab\nabcd' ]
	[ "$stderr" = "mqrecv: message 1 of this run (type 3) cut to 4 bytes: 6 of its 10 bytes lost (--truncate)
mqrecv: message 3 of this run (type 5) cut to 4 bytes: 4 of its 8 bytes lost (--truncate)" ]
	qstat -k "$k"
	[ "$messages" -eq 0 ]
	# The man page says what the line holds.
	grep -qF "names the message by its number in the run and how many of its" "$BATS_TEST_DIRNAME/../man/mqrecv.1"
	grep -qF "bytes were lost, as in" "$BATS_TEST_DIRNAME/../man/mqrecv.1"
}
