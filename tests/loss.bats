#!/usr/bin/env bats
# Never lose a message (CONTRACT.md section 8, issue 8): whatever mqrecv
# takes off a queue ends either on its standard output or back on the
# queue, never both and never neither: when the output file fills, when
# the queue is full at put-back time, when a stop signal comes while a slow
# reader has not read yet, and under many senders and readers at once.
# Scripts in single quotes get their values as arguments, on purpose.
# Loops count with 'round': bats' run sets a global i.
# shellcheck disable=SC2016

load helper

teardown() {
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null
	fi
	it_teardown
}

qcount() {
	local messages
	eval "$(mqrecv --stat "$@" | grep '^messages=')"
	echo "$messages"
}

# Succeeds if the queue holds N messages: qis N -k KEY.
qis() {
	[ "$(qcount "${@:2}")" = "$1" ]
}

# Takes everything left on the queue, in order, into the file named first.
drain() {
	local f=$1
	shift
	mqrecv "$@" --follow --nowait >>"$f" 2>/dev/null || true
}

# Checks that the lines of the files are exactly 1..n, each once.
exactly() {
	local n=$1
	shift
	cat "$@" | sort -n | cmp - <(seq "$n")
}

@test "a file size limit: every message is in the file or back on the queue, in order, System V and POSIX" {
	local k n out rest round lim
	k=$(it_key)
	n=$(it_name)
	out=$(it_path out)
	rest=$(it_path rest)
	mqsend -N "$n" -c --stat >/dev/null
	for ((round = 0; round < 100; round++)); do
		lim=$((SRANDOM % 12 + 1))
		: >"$out"
		: >"$rest"
		seq 3000 | mqsend -k "$k" -c
		run -74 bash -c 'ulimit -f "$1"; exec mqrecv -k "$2" --follow --nowait >"$3"' _ "$lim" "$k" "$out"
		[[ $output == "mqrecv: unable to write standard output: File too large ("*" put back)" ]]
		# No partial line is left in the file.
		[ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" = '\n' ]
		drain "$rest" -k "$k"
		exactly 3000 "$out" "$rest"
		# The queue's own order, then what went back, in order: at
		# most one step down.
		awk 'NR > 1 && $1 < p { d++ } { p = $1 } END { exit d > 1 }' "$rest"
	done
	for ((round = 0; round < 20; round++)); do
		: >"$out"
		: >"$rest"
		seq 8 | mqsend -N "$n"
		run -74 bash -c 'ulimit -f 0; exec mqrecv -N "$1" --follow --nowait >"$2"' _ "$n" "$out"
		drain "$rest" -N "$n"
		exactly 8 "$out" "$rest"
	done
}

@test "a full file system: nothing lost, nothing partial (tmpfs)" {
	local k out rest
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	MNT=$BATS_TEST_TMPDIR/small
	mkdir "$MNT"
	mount -t tmpfs -o size=8k tmpfs "$MNT" 2>/dev/null || skip "cannot mount tmpfs here"
	k=$(it_key)
	rest=$(it_path rest)
	out=$MNT/out
	seq 3000 | mqsend -k "$k" -c
	run -74 bash -c 'exec mqrecv -k "$1" --follow --nowait >"$2"' _ "$k" "$out"
	[[ $output == "mqrecv: unable to write standard output: No space left on device ("*" put back)" ]]
	[ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" = '\n' ]
	drain "$rest" -k "$k"
	exactly 3000 "$out" "$rest"
}

# Readers that hold the FIFO open without reading until a line comes on
# the GATE FIFO; then the idle one goes away without reading, and the slow
# one copies everything into OUT.
idle_reader() {
	it_bg bash -c 'exec 4<"$1"; read -r _ <"$2"' _ "$1" "$2"
}

slow_reader() {
	it_bg bash -c 'exec 4<"$1"; read -r _ <"$2"; cat <&4 >"$3"' _ "$1" "$2" "$3"
}

@test "the put-back waits for room on a full queue; past --putback-timeout the message is saved in a file" {
	local n fifo gate pid rescue round
	n=$(it_name)
	fifo=$(it_path fifo)
	gate=$(it_path gate)
	mkfifo "$fifo" "$gate"
	mqsend -N "$n" -c --maxmsg 1 --msgsize 64 first

	# 1. Put back waits: the queue is full when the reader goes away,
	# and has room again once someone receives (100 times).
	for ((round = 0; round < 100; round++)); do
		idle_reader "$fifo" "$gate"
		it_bg mqrecv -N "$n" --follow >"$fifo"
		pid=$IT_PID
		wait_for qis 0 -N "$n"
		mqsend -N "$n" second
		echo go >"$gate"
		wait_for grep -qx wq_sleep "/proc/$pid/wchan"
		run -0 mqrecv -N "$n"
		[ "$output" = second ]
		it_wait "$pid"
		[ "$IT_STATUS" -eq 141 ]
		run -0 mqrecv -N "$n" --nowait
		[ "$output" = first ]
		mqsend -N "$n" first
	done

	# 2. The queue stays full: the message is saved, and can be sent again.
	idle_reader "$fifo" "$gate"
	TMPDIR=$BATS_TEST_TMPDIR it_bg mqrecv -N "$n" --follow --putback-timeout 200ms \
		>"$fifo" 2>"$BATS_TEST_TMPDIR/err"
	pid=$IT_PID
	wait_for qis 0 -N "$n"
	mqsend -N "$n" second
	echo go >"$gate"
	it_wait "$pid"
	[ "$IT_STATUS" -eq 74 ]
	rescue=$(echo "$BATS_TEST_TMPDIR"/mqrecv-rescue.*)
	[ -f "$rescue" ]
	[ "$(stat -c %a "$rescue")" = 600 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "mqrecv: unable to put messages back on $n: the queue stayed full (1 message saved in $rescue: send it again with mqsend --typed --netstring)" ]
	[ "$(cat "$rescue")" = $'7:0\tfirst,' ]
	run -0 mqrecv -N "$n"
	[ "$output" = second ]
	mqsend -N "$n" --typed --netstring <"$rescue"
	run -0 mqrecv -N "$n" --nowait
	[ "$output" = first ]
}

@test "a queue removed under a pending put-back: the message is saved, exit 74" {
	local k fifo gate pid rescue
	k=$(it_key)
	fifo=$(it_path fifo)
	gate=$(it_path gate)
	mkfifo "$fifo" "$gate"
	mqsend -k "$k" -c -t 4 precious
	idle_reader "$fifo" "$gate"
	TMPDIR=$BATS_TEST_TMPDIR it_bg mqrecv -k "$k" --follow >"$fifo" 2>"$BATS_TEST_TMPDIR/err"
	pid=$IT_PID
	wait_for qis 0 -k "$k"
	ipcrm -Q "$k"
	echo go >"$gate"
	it_wait "$pid"
	[ "$IT_STATUS" -eq 74 ]
	rescue=$(echo "$BATS_TEST_TMPDIR"/mqrecv-rescue.*)
	[[ $(cat "$BATS_TEST_TMPDIR/err") == "mqrecv: unable to put messages back on key $k: Identifier removed (1 message saved in $rescue: "* ]]
	[ "$(cat "$rescue")" = $'10:4\tprecious,' ]
}

@test "SIGTERM while a slow reader has not read yet: exit 143, the message read later, nothing duplicated (100 times)" {
	local k fifo gate out pid round
	k=$(it_key)
	fifo=$(it_path fifo)
	gate=$(it_path gate)
	out=$(it_path out)
	mkfifo "$fifo" "$gate"
	mqsend -k "$k" -c --stat >/dev/null
	for ((round = 0; round < 100; round++)); do
		seq 5 | mqsend -k "$k"
		slow_reader "$fifo" "$gate" "$out"
		local reader=$IT_PID
		it_bg mqrecv -k "$k" --follow >"$fifo"
		pid=$IT_PID
		wait_for qis 4 -k "$k"
		kill -TERM "$pid"
		it_wait "$pid"
		[ "$IT_STATUS" -eq 143 ]
		echo go >"$gate"
		it_wait "$reader"
		[ "$(cat "$out")" = 1 ]
		run -0 mqrecv -k "$k" --follow --nowait
		[ "$output" = "$(seq 2 5)" ]
	done
}

@test "8 senders x 20000 and 4 readers piped into head: every message once, on a reader's output or back on the queue" {
	local k i pids=() readers=() rest
	k=$(it_key)
	rest=$(it_path rest)
	mqsend -k "$k" -c --stat >/dev/null
	for ((i = 0; i < 8; i++)); do
		it_bg bash -c 'seq -f "$1%.0f" 20000 | mqsend -k "$2"' _ "$((i + 1))00000" "$k"
		pids+=("$IT_PID")
	done
	for ((i = 0; i < 4; i++)); do
		it_bg bash -c 'mqrecv -k "$1" --follow | head -n "$2" >"$3"' _ "$k" $((3000 + i * 1000)) "$BATS_TEST_TMPDIR/r$i"
		readers+=("$IT_PID")
	done
	# A drainer takes exactly what the readers leave, concurrently, so
	# that the senders and the readers' put-backs always find room; it
	# ends only if nothing was lost.
	it_bg mqrecv -k "$k" -n $((160000 - 18000)) >"$rest"
	local drainer=$IT_PID
	for i in "${readers[@]}" "${pids[@]}" "$drainer"; do
		it_wait "$i" 60
		[ "$IT_STATUS" -eq 0 ]
	done
	run -1 mqrecv -k "$k" --nowait
	for ((i = 0; i < 4; i++)); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/r$i")" -eq $((3000 + i * 1000)) ]
	done
	[ "$(cat "$BATS_TEST_TMPDIR"/r? "$rest" | wc -l)" -eq 160000 ]
	[ "$(cat "$BATS_TEST_TMPDIR"/r? "$rest" | sort -u | wc -l)" -eq 160000 ]
	cmp <(cat "$BATS_TEST_TMPDIR"/r? "$rest" | sort) <(for ((i = 1; i <= 8; i++)); do seq -f "${i}00000%.0f" 20000; done | sort)
}

# One round of kill_receiver: a sender of N messages and a receiver into a
# file, killed by SIGKILL once it has written something; then a drainer
# takes the rest. At most the one message the receiver had in hand is
# lost, nothing is duplicated, and the order is the queue's.
kill_round() {
	local n=$1 out=$2 rest=$3 sender pid drainer total
	shift 3
	: >"$out"
	: >"$rest"
	it_bg bash -c 'n=$1; shift; seq "$n" | mqsend "$@"' _ "$n" "$@"
	sender=$IT_PID
	it_bg mqrecv "$@" --follow >"$out"
	pid=$IT_PID
	wait_for test -s "$out"
	kill -KILL "$pid"
	it_wait "$pid"
	[ "$IT_STATUS" -eq 137 ]
	# Ready first: a SIGTERM before exec could be lost in bats' traps.
	it_bg_ready mqrecv "$@" --follow --ready-fd 9 >"$rest"
	drainer=$IT_PID
	it_wait "$sender"
	[ "$IT_STATUS" -eq 0 ]
	kill -TERM "$drainer"
	it_wait "$drainer"
	[ "$IT_STATUS" -eq 143 ]
	mqrecv "$@" --follow --nowait >>"$rest" 2>/dev/null || true
	# No partial line, no duplicate, the queue's order, one lost at most.
	[ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" = '\n' ]
	cat "$out" "$rest" | sort -n -c -u
	total=$(cat "$out" "$rest" | wc -l)
	echo "round: $(wc -l <"$out") written, $((n - total)) lost" >&2
	[ "$total" -ge $((n - 1)) ]
	[ "$total" -le "$n" ]
}

@test "SIGKILL of mqrecv writing a file costs at most the message in hand, System V and POSIX (30 kills each)" {
	local k q out rest round
	k=$(it_key)
	q=$(it_name)
	out=$(it_path out)
	rest=$(it_path rest)
	mqsend -k "$k" -c --stat >/dev/null
	mqsend -N "$q" -c --maxmsg 10 --msgsize 16 --stat >/dev/null
	for ((round = 0; round < 30; round++)); do
		kill_round 5000 "$out" "$rest" -k "$k"
		kill_round 2000 "$out" "$rest" -N "$q"
	done
}

@test "--rm leaves a queue a message went back on, or whose reader went away, and says so; a clean run removes it (30 times)" {
	local k q out err round
	k=$(it_key)
	q=$(it_name)
	out=$(it_path out)
	err=$(it_path err)
	for ((round = 0; round < 30; round++)); do
		# A file size limit, System V.
		seq 300 | mqsend -k "$k" -c
		run -74 bash -c 'ulimit -f 1; exec mqrecv -k "$1" --follow --nowait --rm >"$2"' _ "$k" "$out"
		[ "$output" = "mqrecv: unable to write standard output: File too large (1 message put back, so the queue stays despite --rm)" ]
		run -0 mqrecv -k "$k" --follow --nowait --rm
		printf '%s\n' "$output" | cat "$out" - | sort -n | cmp - <(seq 300)
		run -66 mqrecv -k "$k" --stat
		# /dev/full, POSIX: the message goes back behind the others.
		seq 5 | mqsend -N "$q" -c
		run -74 bash -c 'exec mqrecv -N "$1" --follow --nowait --rm >/dev/full' _ "$q"
		[ "$output" = "mqrecv: unable to write standard output: No space left on device (1 message put back, so the queue stays despite --rm)" ]
		run -0 mqrecv -N "$q" --follow --nowait --rm
		[ "$output" = "$(printf '%s\n' 2 3 4 5 1)" ]
		[ ! -e "/dev/mqueue$q" ]
		# head -n 3: the seven left stay, whether or not the fourth
		# was in the pipe when head left.
		seq 10 | mqsend -k "$k" -c
		run -141 bash -c 'mqrecv -k "$1" --follow --rm 2>"$2" | head -n 3; exit "${PIPESTATUS[0]}"' _ "$k" "$err"
		[ "$output" = "$(seq 3)" ]
		[[ $(cat "$err") == "mqrecv: key $k stays despite --rm: "@("standard output went away"|"1 message went back on it") ]]
		run -0 mqrecv -k "$k" --follow --nowait --rm
		[[ $output == "$(seq 4 10)" || $output == "$(seq 5 10; echo 4)" ]]
		run -66 mqrecv -k "$k" --stat
	done
}

@test "a stop signal cuts the put-back wait: the message is saved at once, the file named, the tool ends by the signal (30 times)" {
	local n k qbytes fifo gate pid rescue round sig sigs=(TERM INT HUP)
	n=$(it_name)
	fifo=$(it_path fifo)
	gate=$(it_path gate)
	mkfifo "$fifo" "$gate"
	mqsend -N "$n" -c --maxmsg 1 --msgsize 64 --stat >/dev/null
	for ((round = 0; round < 30; round++)); do
		sig=${sigs[round % 3]}
		mqsend -N "$n" "first$round"
		idle_reader "$fifo" "$gate"
		TMPDIR=$BATS_TEST_TMPDIR it_bg mqrecv -N "$n" --follow >"$fifo" 2>"$BATS_TEST_TMPDIR/err"
		pid=$IT_PID
		wait_for qis 0 -N "$n"
		mqsend -N "$n" "second$round"
		echo go >"$gate"
		# Waiting for room, with the default --putback-timeout of 1m.
		wait_for grep -qx wq_sleep "/proc/$pid/wchan"
		kill -"$sig" "$pid"
		it_wait "$pid"
		[ "$IT_STATUS" -eq $((128 + $(kill -l "$sig"))) ] || { echo "status $IT_STATUS"; cat "$BATS_TEST_TMPDIR/err"; false; }
		rescue=$(echo "$BATS_TEST_TMPDIR"/mqrecv-rescue.*)
		[ "$(cat "$BATS_TEST_TMPDIR/err")" = "mqrecv: unable to put a message back on $n: stopped by SIG$sig (1 message saved in $rescue: send it again with mqsend --typed --netstring)" ]
		[ "$(cat "$rescue")" = "$((${#round} + 7)):0"$'\t'"first$round," ]
		run -0 mqrecv -N "$n" --nowait
		[ "$output" = "second$round" ]
		rm "$rescue"
	done
	# System V, where the wait is a msgsnd that the stop signal's
	# alarm interrupts: the queue is full with msg_qbytes of bytes.
	k=$(it_key)
	mqsend -k "$k" -c --stat >/dev/null
	# Two messages of half of msg_qbytes each fill it.
	qbytes=$(($(mqrecv -k "$k" --stat | sed -n 's/^qbytes=//p') / 2))
	[ "$qbytes" -le "$(cat /proc/sys/kernel/msgmax)" ] || skip "msg_qbytes is over twice msgmax here"
	for ((round = 0; round < 5; round++)); do
		mqsend -k "$k" -t 7 precious
		idle_reader "$fifo" "$gate"
		TMPDIR=$BATS_TEST_TMPDIR it_bg mqrecv -k "$k" --follow >"$fifo" 2>"$BATS_TEST_TMPDIR/err"
		pid=$IT_PID
		wait_for qis 0 -k "$k"
		head -c "$qbytes" /dev/zero | mqsend -k "$k" --whole
		head -c "$qbytes" /dev/zero | mqsend -k "$k" --whole
		echo go >"$gate"
		wait_for grep -qx do_msgsnd "/proc/$pid/wchan"
		kill -TERM "$pid"
		it_wait "$pid"
		[ "$IT_STATUS" -eq 143 ]
		rescue=$(echo "$BATS_TEST_TMPDIR"/mqrecv-rescue.*)
		[ "$(cat "$rescue")" = $'10:7\tprecious,' ]
		[ "$(mqrecv -k "$k" -n 2 --whole | wc -c)" -eq $((2 * qbytes)) ]
		run -1 mqrecv -k "$k" --nowait
		rm "$rescue"
	done
}
