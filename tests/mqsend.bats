#!/usr/bin/env bats
# mqsend: sending to System V and POSIX message queues (issue 3).
# Scripts in single quotes get their values as arguments, on purpose; the
# completion file is sourced from the tree.
# shellcheck disable=SC2016,SC1091

load helper

# The queue's metadata as shell variables (messages, bytes, last_sender...).
qstat() {
	eval "$(mqrecv --stat "$@")"
}

# Waits until pid sleeps in the kernel function named (do_msgsnd...).
blocked_in() {
	grep -qx "$2" "/proc/$1/wchan" 2>/dev/null
}

# A file of N bytes of 'a'.
bytes() {
	local f
	f=$(it_path bytes)
	head -c "$1" /dev/zero | tr '\0' a >"$f"
	echo "$f"
}

@test "the notes' example with IPC_PRIVATE: type 42 carrying 252, then the queue is removed" {
	local id
	id=$(mqsend -k private -t 42 252)
	it_track msgid "$id"
	[[ $id =~ ^[0-9]+$ ]]
	run -0 mqrecv -i "$id" -t 42 --rm
	[ "$output" = 252 ]
	run ! grep -Eq "^0x0+ +$id " <(ipcs -q)
}

@test "operands are messages, one each, of type 1 by default" {
	local k
	k=$(it_key)
	run -0 mqsend -k "$k" -c one "two words" ""
	[ -z "$output" ]
	run -0 mqrecv -k "$k" -n 3 --print-type
	[ "$output" = $'1\tone\n1\ttwo words\n1\t' ]
}

@test "seq 1000 | mqsend is one process sending every line" {
	local k pid
	k=$(it_key)
	pid=$(seq 1000 | bash -c 'echo $$; exec mqsend -k "$1" -c -t 3' _ "$k")
	qstat -k "$k"
	[ "$messages" -eq 1000 ]
	[ "$last_sender" -eq "$pid" ]
	run -0 mqrecv -k "$k" -n 1000 -t 3
	[ "$output" = "$(seq 1000)" ]
}

@test "--type takes a positive long; 0, negatives, junk, empty and overflow are usage errors" {
	local k t
	k=$(it_key)
	run -0 mqsend -k "$k" -c -t 9223372036854775807 max
	run -0 mqrecv -k "$k" --print-type
	[ "$output" = $'9223372036854775807\tmax' ]
	for t in 0 -1 -9223372036854775808 9223372036854775808; do
		run -64 mqsend -k "$k" -t "$t" x
		[ "${lines[0]}" = "mqsend: invalid type '$t': out of range" ]
	done
	for t in x 1x " 1" "" 0x10; do
		run -64 mqsend -k "$k" -t "$t" x
		[ "${lines[0]}" = "mqsend: invalid type '$t'" ]
	done
}

@test "framings: NUL-terminated, whole input and netstrings carry any bytes" {
	local k
	k=$(it_key)
	printf 'a b\0c\nd\0' | mqsend -k "$k" -c -0
	run -0 mqrecv -k "$k" -n 2 --netstring
	[ "$output" = $'3:a b,3:c\nd,' ]
	printf 'x\ny\n' | mqsend -k "$k" --whole
	run -0 mqrecv -k "$k" --whole
	[ "$output" = $'x\ny' ]
	printf '2:\n\n,0:,' | mqsend -k "$k" --netstring
	run -0 mqrecv -k "$k" -n 2 --netstring
	[ "$output" = $'2:\n\n,0:,' ]
}

@test "a malformed netstring is exit 65; the messages before it were sent" {
	local k
	k=$(it_key)
	run -65 mqsend -k "$k" -c --netstring < <(printf '1:a,2:bcd,')
	[ "$output" = "mqsend: unable to read standard input: message 2 is not a complete netstring" ]
	run -0 mqrecv -k "$k" --follow --nowait
	[ "$output" = a ]
}

@test "a message over msgmax is exit 65 naming the limit; stdin is left right after the last message sent" {
	local k f big msgmax
	k=$(it_key)
	msgmax=$(cat /proc/sys/kernel/msgmax)
	big=$(bytes $((msgmax + 1)))
	f=$(it_path input)
	{ echo first; cat "$big"; echo; echo after; } >"$f"
	run -0 bash -c 'mqsend -k "$1" -c; echo "status $?"; cat | wc -c' _ "$k" <"$f"
	[ "${lines[0]}" = "mqsend: unable to send to key $k: message 2 is longer than $msgmax bytes (msgmax is $msgmax, msg_qbytes $(cat /proc/sys/kernel/msgmnb): raise sysctl kernel.msgmax)" ]
	[ "${lines[1]}" = "status 65" ]
	[ "${lines[2]}" -eq $((msgmax + 1 + 1 + 6)) ]
	run -0 mqrecv -k "$k" --follow --nowait
	[ "$output" = first ]
	# An operand over the limit: nothing after it is sent either.
	run -65 mqsend -k "$k" ok "$(cat "$big")" never
	[[ $output == "mqsend: unable to send to key $k: message 2 is longer than $msgmax bytes"* ]]
	run -0 mqrecv -k "$k" --follow --nowait
	[ "$output" = ok ]
}

@test "POSIX: a message over the queue's msgsize is exit 65 naming msgsize_max" {
	local n
	n=$(it_name)
	run -65 mqsend -N "$n" -c --msgsize 4 abcd abcde
	[ "$output" = "mqsend: unable to send to $n: message 2 is longer than 4 bytes (the msgsize of $n is 4: set it with --msgsize at creation, up to /proc/sys/fs/mqueue/msgsize_max ($(cat /proc/sys/fs/mqueue/msgsize_max)))" ]
	run -0 mqrecv -N "$n" --follow --nowait
	[ "$output" = abcd ]
}

@test "POSIX: -p sets the priority; --maxmsg and --msgsize shape a new queue" {
	local n
	n=$(it_name)
	run -0 mqsend -N "$n" -c --maxmsg 3 --msgsize 100 -p 7 seven
	qstat -N "$n"
	[ "$maxmsg" -eq 3 ] && [ "$msgsize" -eq 100 ] && [ "$messages" -eq 1 ]
	[ "$mode" = 0600 ]
	mqsend -N "$n" -p 0 zero
	mqsend -N "$n" -p 32767 top
	run -0 mqrecv -N "$n" -n 3 --print-priority
	[ "$output" = $'32767\ttop\n7\tseven\n0\tzero' ]
	run -64 mqsend -N "$n" -p 32768 x
	[ "${lines[0]}" = "mqsend: invalid priority '32768': out of range" ]
	run -64 mqsend -N "$n" -p -1 x
	[ "${lines[0]}" = "mqsend: invalid priority '-1': out of range" ]
	run -64 mqsend -N "$n" --maxmsg 0 x
	[ "${lines[0]}" = "mqsend: invalid maxmsg '0': out of range" ]
	run -64 mqsend -N "$n" --msgsize 1k x
	[ "${lines[0]}" = "mqsend: invalid msgsize '1k'" ]
}

@test "POSIX limits: maxmsg beyond msg_max and RLIMIT_MSGQUEUE are named" {
	local n
	n=$(it_name)
	run -71 mqsend -N "$n" -c --maxmsg 1000000 x
	[ "$output" = "mqsend: unable to create message queue $n: Invalid argument (maxmsg 1000000, msgsize $(cat /proc/sys/fs/mqueue/msgsize_default): the limits are /proc/sys/fs/mqueue/msg_max ($(cat /proc/sys/fs/mqueue/msg_max)) and msgsize_max ($(cat /proc/sys/fs/mqueue/msgsize_max)))" ]
	run -71 prlimit --msgqueue=1000 mqsend -N "$n" -c --maxmsg 10 --msgsize 1000 x
	[ "$output" = "mqsend: unable to create message queue $n: Too many open files (RLIMIT_MSGQUEUE (ulimit -q) or the open file limit)" ]
	[ ! -e "/dev/mqueue$n" ]
}

@test "--typed reads what mqrecv --print-type writes; a bad prefix is exit 65" {
	local k n
	k=$(it_key)
	printf '5\tfive\n2\ttwo\ttabs\n' | mqsend -k "$k" -c --typed
	run -0 mqrecv -k "$k" -n 2 --print-type
	[ "$output" = $'5\tfive\n2\ttwo\ttabs' ]
	run -65 mqsend -k "$k" --typed $'3\tok' $'0\tzero' $'4\tnever'
	[ "$output" = "mqsend: unable to send to key $k: message 2 does not start with a type and a tab (--typed)" ]
	run -65 mqsend -k "$k" --typed notype
	run -0 mqrecv -k "$k" --follow --nowait --print-type
	[ "$output" = $'3\tok' ]
	n=$(it_name)
	run -0 mqsend -N "$n" -c --typed $'9\tnine'
	run -0 mqrecv -N "$n" --print-priority
	[ "$output" = $'9\tnine' ]
	run -64 mqsend -k "$k" --typed -t 3 x
	[ "${lines[0]}" = "mqsend: --typed takes the type from each message" ]
}

@test "--nowait on a full queue is exit 1; --timeout is exit 1 after waiting" {
	local k big
	k=$(it_key)
	big=$(bytes 8000)
	mqsend -k "$k" -c --whole <"$big"
	mqsend -k "$k" --whole <"$big"
	run -1 mqsend -k "$k" --nowait --whole <"$big"
	[ "$output" = "mqsend: unable to send to key $k: the queue is full (--nowait)" ]
	run -1 mqsend -k "$k" --timeout 100ms --whole <"$big"
	[ "$output" = "mqsend: unable to send to key $k: timed out" ]
	qstat -k "$k"
	[ "$messages" -eq 2 ]
	run -64 mqsend -k "$k" --timeout 1x y
	[ "${lines[0]}" = "mqsend: invalid duration '1x'" ]
	run -64 mqsend -k "$k" --timeout 1s --nowait y
	[ "${lines[0]}" = "mqsend: --nowait and --timeout: choose one" ]
}

# Seven messages of 4000 bytes: "0001xxx...", ..., "0007xxx...": a new System
# V queue (16384 bytes) holds four.
seven() {
	local i pad
	pad=$(head -c 3996 /dev/zero | tr '\0' x)
	for i in 1 2 3 4 5 6 7; do printf '%04d%s\n' "$i" "$pad"; done
}

@test "--full=overwrite keeps the newest, --full=discard the oldest; both exit 0 and count what went (System V)" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c </dev/null
	run --separate-stderr mqsend -k "$k" --full=overwrite < <(seven)
	[ "$status" = 0 ]
	[ "$stderr" = "mqsend: dropped the oldest 3 messages on key $k: the queue was full (--full=overwrite)" ]
	[ "$(mqrecv -k "$k" --follow --nowait | cut -c1-4 | paste -sd ' ')" = "0004 0005 0006 0007" ]
	run --separate-stderr mqsend -k "$k" --full=discard < <(seven)
	[ "$status" = 0 ]
	[ "$stderr" = "mqsend: discarded 3 messages on key $k: the queue was full (--full=discard)" ]
	[ "$(mqrecv -k "$k" --follow --nowait | cut -c1-4 | paste -sd ' ')" = "0001 0002 0003 0004" ]
	# Room for all: nothing dropped, nothing said.
	run --separate-stderr mqsend -k "$k" --full=overwrite a b
	[ "$status" = 0 ] && [ -z "$stderr" ]
	run -1 mqsend -k "$k" --full=fail < <(seven)
	[[ $output == *"the queue is full (--nowait)"* ]]
}

@test "--full on a POSIX queue: overwrite drops the next to be received (highest priority first), discard the new" {
	local n
	n=$(it_name)
	mqsend -N "$n" -c --maxmsg 10 -p 5 urgent
	run --separate-stderr mqsend -N "$n" --full=overwrite < <(seq 1 12)
	[ "$status" = 0 ]
	[ "$stderr" = "mqsend: dropped the oldest 3 messages on $n: the queue was full (--full=overwrite)" ]
	[ "$(mqrecv -N "$n" --follow --nowait | paste -sd ' ')" = "3 4 5 6 7 8 9 10 11 12" ]
	seq 1 30 | mqsend -N "$n" --full=discard 2>/dev/null
	[ "$(mqrecv -N "$n" --follow --nowait | paste -sd ' ')" = "1 2 3 4 5 6 7 8 9 10" ]
}

@test "--full: usage errors, and overwrite without read permission is 77" {
	local k
	run -64 mqsend -k 0x2a --full=sometimes x
	[ "${lines[0]}" = "mqsend: invalid --full action 'sometimes': wait, overwrite, discard or fail" ]
	run -64 mqsend -k 0x2a --full=discard -w 1s x
	[ "${lines[0]}" = "mqsend: --full=discard never waits: drop --timeout" ]
	run -64 mqsend -k 0x2a --full=overwrite --nowait x
	[ "${lines[0]}" = "mqsend: --full=overwrite never waits: drop --nowait" ]
	run -64 mqsend -k 0x2a --full=fail -w 1s x
	[ "${lines[0]}" = "mqsend: --full=fail and --timeout: choose one" ]
	run -64 mqsend -k 0x2a --stat --full=discard
	[[ ${lines[0]} == *"--full has no effect"* ]]
	need_other_user
	k=$(it_key)
	# full to the last byte
	mqsend -k "$k" -c -m 0622 --full=discard < <(seven; seq 1000) 2>/dev/null
	qstat -k "$k"
	local before=$messages
	run -77 as_nobody mqsend -k "$k" --full=overwrite last
	[[ $output == *"Permission denied"* ]]
	qstat -k "$k"
	[ "$messages" -eq "$before" ]
	# discard needs only write permission
	run -0 as_nobody mqsend -k "$k" --full=discard last
}

@test "a queue removed while mqsend waits for room is exit 66" {
	local k big
	k=$(it_key)
	big=$(bytes 8000)
	mqsend -k "$k" -c --whole <"$big"
	mqsend -k "$k" --whole <"$big"
	# (A background job's stdin is /dev/null: the message is an operand.)
	it_bg mqsend -k "$k" "$(cat "$big")" 2>"$BATS_TEST_TMPDIR/err"
	wait_for blocked_in "$IT_PID" do_msgsnd
	ipcrm -Q "$k"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 66 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "mqsend: unable to send to key $k: the queue was removed" ]
}

@test "SIGINT or SIGTERM while waiting for room ends mqsend at once, the message unsent" {
	local k big sig
	k=$(it_key)
	big=$(bytes 8000)
	mqsend -k "$k" -c --whole <"$big"
	mqsend -k "$k" --whole <"$big"
	for sig in INT TERM; do
		it_bg mqsend -k "$k" "$(cat "$big")"
		wait_for blocked_in "$IT_PID" do_msgsnd
		kill -"$sig" "$IT_PID"
		it_wait "$IT_PID"
		[ "$IT_STATUS" -eq $((128 + $(kill -l "$sig"))) ]
	done
	qstat -k "$k"
	[ "$messages" -eq 2 ]
}

@test "missing queue without --create is exit 66 naming it; --create is suggested only where it applies (not to --id)" {
	local k n
	k=$(it_key)
	n=$(it_name)
	run -66 mqsend -k "$k" x
	[ "$output" = "mqsend: no message queue for key $k (use --create)" ]
	run -66 mqsend -N "$n" x
	[ "$output" = "mqsend: no message queue for $n (use --create)" ]
	run -66 mqsend -i 2147483647 x
	[ "$output" = "mqsend: no message queue for id 2147483647" ]
	run -66 mqrecv -i 2147483647 --stat
	[ "$output" = "mqrecv: no message queue for id 2147483647" ]
	run -66 mqsend -f "$BATS_TEST_TMPDIR/none" -c x
	[ "$output" = "mqsend: unable to derive a key from $BATS_TEST_TMPDIR/none: No such file or directory (ftok needs an existing file)" ]
}

@test "--file and --proj derive the key with ftok" {
	local f k
	f=$(it_path keyfile)
	touch "$f"
	run -0 mqsend -f "$f" -j 7 -c hello
	k=$(mqrecv -f "$f" -j 7 --stat | sed -n 's/^key=//p')
	it_track msgkey "$k"
	run -0 mqrecv -k "$k"
	[ "$output" = hello ]
}

@test "--excl on an existing queue is exit 73; --mode sets the mode, 0600 by default, as ipcs -q shows" {
	local k k2
	k=$(it_key)
	k2=$(it_key)
	run -0 mqsend -k "$k" -x first
	run -73 mqsend -k "$k" -x second
	[ "$output" = "mqsend: unable to create message queue for key $k: File exists" ]
	ipcs -q | grep -Eqi "^$k +[0-9]+ +root +600 "
	run -0 mqsend -k "$k2" -c -m 0640 x
	ipcs -q | grep -Eqi "^$k2 +[0-9]+ +root +640 "
	run -64 mqsend -k "$k2" -m 0999 x
	[ "${lines[0]}" = "mqsend: invalid mode '0999'" ]
}

@test "--rm removes the queue once the messages are sent" {
	local k
	k=$(it_key)
	run -0 mqsend -k "$k" -c --rm x
	run -66 mqrecv -k "$k" --nowait
}

@test "--stat prints the queue as key=value or JSON, and sends nothing" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c hello
	run -0 mqsend -k "$k" --stat
	[[ $output == *"key=$k"* && $output == *"messages=1"* && $output == *"bytes=5"* ]]
	qstat -k "$k"
	[ "$qbytes" -eq "$(cat /proc/sys/kernel/msgmnb)" ] && [ "$owner" -eq 0 ]
	run -0 mqsend -k "$k" --stat --json
	[[ $output == "{\"key\":\"$k\",\"id\":"*"\"mode\":\"0600\""*"\"messages\":1,"* ]]
	run -64 mqsend -k "$k" --stat x
	[ "${lines[0]}" = "mqsend: --stat sends nothing: drop the messages" ]
	run -64 mqsend -k "$k" --json x
	[ "${lines[0]}" = "mqsend: --json goes with --stat" ]
}

@test "usage errors: the object, and options of the other kind of queue" {
	local k n
	k=$(it_key)
	n=$(it_name)
	run -64 mqsend x
	[ "${lines[0]}" = "mqsend: name the object with --key, --file, --id or --name" ]
	run -64 mqsend -k "$k" -N "$n" x
	[ "${lines[0]}" = "mqsend: --key and --name name two objects: give only one" ]
	run -64 mqsend -N "$n" -t 2 x
	[ "${lines[0]}" = "mqsend: --type is for System V queues: use --priority" ]
	run -64 mqsend -k "$k" -p 2 x
	[ "${lines[0]}" = "mqsend: --priority is for POSIX queues: use --type" ]
	run -64 mqsend -k "$k" --maxmsg 2 x
	[ "${lines[0]}" = "mqsend: --maxmsg and --msgsize are for POSIX queues" ]
	run -64 mqsend -i 1 -c x
	[ "${lines[0]}" = "mqsend: --id names an existing queue: --create does not apply" ]
	run -64 mqsend -N bad x
	[[ ${lines[0]} == "mqsend: invalid name 'bad': a POSIX name is /NAME"* ]]
	run -64 mqsend -k "$k" -0 --netstring x
	[ "${lines[0]}" = "mqsend: --null and --netstring are two framings: choose one" ]
}

@test "a read error on standard input is exit 74" {
	local k
	k=$(it_key)
	run -74 mqsend -k "$k" -c </
	[ "$output" = "mqsend: unable to read standard input: Is a directory" ]
}

@test "permission denied as another user is exit 77" {
	local k n
	need_other_user
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c --stat >/dev/null
	run -77 as_nobody mqsend -k "$k" x
	[ "$output" = "mqsend: unable to send to key $k: Permission denied" ]
	mqsend -N "$n" -c --stat >/dev/null
	run -77 as_nobody mqsend -N "$n" x
	[ "$output" = "mqsend: unable to open message queue $n: Permission denied" ]
}

@test "perl's IPC::SysV receives what mqsend sent, types intact" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c -t 42 252
	mqsend -k "$k" -t 7 seven
	run -0 perl -MIPC::SysV=IPC_NOWAIT -e '
		my $id = msgget(hex $ARGV[0], 0) // die "msgget: $!";
		while (msgrcv($id, my $buf, 8192, 0, IPC_NOWAIT)) {
			my ($type, $text) = unpack "l! a*", $buf;
			print "$type:$text\n";
		}' "$k"
	[ "$output" = $'42:252\n7:seven' ]
}

@test "completion: options from --help, keys, and POSIX names from /dev/mqueue" {
	local n
	mountpoint -q /dev/mqueue || skip "/dev/mqueue is not mounted"
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	source "$BATS_TEST_DIRNAME/../completions/mqsend"
	COMP_WORDS=(mqsend --ty)
	COMP_CWORD=1
	_mqsend
	[ "$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd ' ')" = "--type --typed" ]
	COMP_WORDS=(mqsend -N "$n")
	COMP_CWORD=2
	_mqsend
	[ "${COMPREPLY[*]}" = "$n" ]
	COMP_WORDS=(mqsend "--name=${n:0:5}")
	COMP_CWORD=1
	_mqsend
	[[ " ${COMPREPLY[*]} " == *" --name=$n "* ]]
	COMP_WORDS=(mqsend -k pri)
	COMP_CWORD=2
	_mqsend
	[ "${COMPREPLY[*]}" = private ]
	complete -p mqsend | grep -q -- '-F _mqsend'
}

# The words readline gives a completion function for "mqsend --key=0x1c":
# "--key" "=" "0x1c" where '=' is in COMP_WORDBREAKS (bash's default), and
# one word "--key=0x1c", replaced whole by the reply, where it is not.
mqsend_complete() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_mqsend
}

@test "completion: --key= and --mode= values, split at '=' or not" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c x
	source "$BATS_TEST_DIRNAME/../completions/mqsend"
	mqsend_complete mqsend --key = "${k:0:7}"
	[ "${COMPREPLY[*]}" = "$k" ]
	mqsend_complete mqsend --key =
	[[ " ${COMPREPLY[*]} " == *" $k "* ]]
	[[ " ${COMPREPLY[*]} " != *" 0x00000000 "* ]]
	mqsend_complete mqsend -k ""
	[[ " ${COMPREPLY[*]} " == *" $k "* ]]
	mqsend_complete mqsend "--key=${k:0:7}"
	[ "${COMPREPLY[*]}" = "--key=$k" ]
	mqsend_complete mqsend --mode = 06
	[ "${COMPREPLY[*]}" = "0600 0640 0660 0644 0666" ]
	mqsend_complete mqsend --mode =
	[[ " ${COMPREPLY[*]} " == *" 0600 "* ]]
	mqsend_complete mqsend --mode=064
	[ "${COMPREPLY[*]}" = "--mode=0640 --mode=0644" ]
	mqsend_complete mqsend -m 066
	[ "${COMPREPLY[*]}" = "0660 0666" ]
	mqsend_complete mqsend --full = o
	[ "${COMPREPLY[*]}" = "overwrite" ]
	mqsend_complete mqsend --full=
	[ "${COMPREPLY[*]}" = "--full=wait --full=overwrite --full=discard --full=fail" ]
	mqsend_complete mqsend -k "$k" --ty
	[ "$(printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd " ")" = "--type --typed" ]
}

@test "completion: --name= values from /dev/mqueue, split at '=' or not" {
	local n
	mountpoint -q /dev/mqueue || skip "/dev/mqueue is not mounted"
	n=$(it_name)
	mqsend -N "$n" -c --stat >/dev/null
	source "$BATS_TEST_DIRNAME/../completions/mqsend"
	mqsend_complete mqsend --name = "${n%.*}"
	[ "${COMPREPLY[*]}" = "$n" ]
	mqsend_complete mqsend --name =
	[[ " ${COMPREPLY[*]} " == *" $n "* ]]
	mqsend_complete mqsend "--name=${n%.*}"
	[ "${COMPREPLY[*]}" = "--name=$n" ]
	mqsend_complete mqsend -N "${n%.*}"
	[ "${COMPREPLY[*]}" = "$n" ]
}

@test "--key private: a new queue whose id cannot be printed is removed, exit 74" {
	local before
	before=$(ipcs -q | grep -c '^0x00000000 ' || true)
	run -74 bash -c 'mqsend -k private x >&-'
	[ "$output" = "mqsend: unable to write standard output: Bad file descriptor (the new queue was removed)" ]
	run -74 bash -c 'mqsend -k private x >/dev/full'
	[ "$output" = "mqsend: unable to write standard output: No space left on device (the new queue was removed)" ]
	[ "$(ipcs -q | grep -c '^0x00000000 ' || true)" = "$before" ]
}

@test "--stat into a closed or full stdout is exit 74" {
	local k
	k=$(it_key)
	run -74 bash -c 'mqsend -k "$1" -c --stat >&-' _ "$k"
	[ "$output" = "mqsend: unable to write standard output: Bad file descriptor" ]
	run -74 bash -c 'mqrecv -k "$1" --stat >/dev/full' _ "$k"
	[ "$output" = "mqrecv: unable to write standard output: No space left on device" ]
}

@test "--stat with --key private is a usage error: it would make a new queue on every call" {
	run -64 mqsend -k private --stat
	[ "${lines[0]}" = "mqsend: --stat describes an existing queue: --key private would make a new one; name it by --id" ]
	run -64 mqsend -k private --stat --json
}

@test "--json is valid JSON for a name that is not UTF-8; key=value stays eval-safe" {
	local n name
	n=$(it_name)$'\xff\xc3\xa9'
	it_track posix "$n"
	mqsend -N "$n" -c "x"
	run -0 python3 -c 'import json, sys, os
d = json.loads(sys.stdin.read())
assert d["name"].encode("utf-8", "surrogateescape") == os.fsencode(sys.argv[1]), d' "$n" < <(mqsend -N "$n" --stat --json)
	eval "$(mqsend -N "$n" --stat)"
	[ "$name" = "$n" ]
}

@test "stderr is one line: a newline in a name is escaped, a 64 KiB path keeps its reason" {
	local big
	run -66 mqrecv -N $'/no\nsuch' --nowait
	[ "$output" = 'mqrecv: no message queue for /no\nsuch (use --create)' ]
	run -64 mqrecv -k 1 $'op\nerand'
	[ "${lines[0]}" = "mqrecv: unexpected operand 'op\\nerand'" ]
	big=$(head -c 65536 /dev/zero | tr '\0' x)
	run -71 mqsend -f "/$big" x
	[ "${#lines[@]}" -eq 1 ]
	[ "${#output}" -le 1024 ]
	[[ $output == "mqsend: unable to derive a key from /xxx"*"...xxx"*": File name too long" ]]
}

@test "POSIX: a new queue gets exactly --mode whatever the umask, as a System V one does" {
	local n m k
	n=$(it_name)
	m=$(it_name)
	k=$(it_key)
	run -0 bash -c 'umask 077; mqsend -N "$1" -c -m 0666 --stat' _ "$n"
	[[ $output == *$'\nmode=0666\n'* ]]
	[ "$(stat -c %a "/dev/mqueue$n")" = 666 ]
	run -0 bash -c 'umask 027; mqrecv -N "$1" -x -m 0646 --stat' _ "$m"
	[[ $output == *$'\nmode=0646\n'* ]]
	run -0 bash -c 'umask 077; mqsend -k "$1" -c -m 0666 --stat' _ "$k"
	[[ $output == *$'\nmode=0666\n'* ]]
	# An existing queue keeps its mode.
	run -0 bash -c 'umask 000; mqsend -N "$1" -c -m 0600 --stat' _ "$n"
	[[ $output == *$'\nmode=0666\n'* ]]
}

@test "after any refused message, a seekable stdin is left at that message's first byte" {
	local k n f
	k=$(it_key)
	n=$(it_name)
	f=$(it_path input)
	# A bad --typed prefix.
	printf '1\tone\n0\tzero\n4\tfour\n' >"$f"
	run -0 bash -c 'mqsend -k "$1" -c --typed; echo "status $?"; cat' _ "$k" <"$f"
	[ "$output" = "mqsend: unable to send to key $k: message 2 does not start with a type and a tab (--typed)"$'\nstatus 65\n0\tzero\n4\tfour' ]
	# A full queue under --nowait, lines and netstrings.
	mqsend -N "$n" -c --maxmsg 1 --msgsize 8 --stat >/dev/null
	printf 'a\nb\nc\n' >"$f"
	run -0 bash -c 'mqsend -N "$1" --nowait; echo "status $?"; cat' _ "$n" <"$f"
	[ "$output" = "mqsend: unable to send to $n: the queue is full (--nowait)"$'\nstatus 1\nb\nc' ]
	mqrecv -N "$n" >/dev/null
	printf '1:a,1:b,1:c,' >"$f"
	run -0 bash -c 'mqsend -N "$1" --netstring --nowait; echo "status $?"; cat' _ "$n" <"$f"
	[ "${lines[1]}" = "status 1" ]
	[ "${lines[2]}" = "1:b,1:c," ]
	# A --typed message whose text is over the queue's msgsize.
	mqrecv -N "$n" >/dev/null
	printf '1\tok\n2\t123456789\n3\tnext\n' >"$f"
	run -0 bash -c 'mqsend -N "$1" --typed; echo "status $?"; cat' _ "$n" <"$f"
	[ "${lines[1]}" = "status 65" ]
	[ "${lines[2]}" = $'2\t123456789' ]
	[ "${lines[3]}" = $'3\tnext' ]
}

@test "a stop signal while waiting for room leaves a seekable stdin at the unsent message's first byte" {
	local n f sig
	n=$(it_name)
	f=$(it_path input)
	seq 1000 >"$f"
	mqsend -N "$n" -c --maxmsg 3 --msgsize 8 --stat >/dev/null
	for sig in TERM INT HUP; do
		exec 5<"$f"
		it_bg mqsend -N "$n" <&5
		wait_for blocked_in "$IT_PID" wq_sleep
		kill -"$sig" "$IT_PID"
		it_wait "$IT_PID"
		[ "$IT_STATUS" -eq $((128 + $(kill -l "$sig"))) ]
		[ "$(cat <&5)" = "$(seq 4 1000)" ]
		exec 5<&-
		run -0 mqrecv -N "$n" -n 3
		[ "$output" = "$(seq 3)" ]
	done
}

@test "--rm that cannot remove the queue is an error, not exit 0 (another user)" {
	local k n
	need_other_user
	k=$(it_key)
	n=$(it_name)
	mqsend -k "$k" -c -m 0666 one two
	mqsend -N "$n" -c -m 0666 one
	run -77 as_nobody mqrecv -k "$k" --rm
	[ "${lines[0]}" = one ]
	[ "${lines[1]}" = "mqrecv: unable to remove message queue key $k: Operation not permitted" ]
	run -77 as_nobody mqsend -k "$k" --rm three
	[ "$output" = "mqsend: unable to remove message queue key $k: Operation not permitted" ]
	run -77 as_nobody mqrecv -N "$n" --rm
	[ "${lines[1]}" = "mqrecv: unable to remove message queue $n: Permission denied" ]
	run -0 mqrecv -k "$k" --follow --nowait --rm
	[ "$output" = $'two\nthree' ]
	run -66 mqrecv -k "$k" --stat
}
