# shellcheck shell=bash
# bench/cases/mq.sh: the Speed rows of issue 3. A million 64-byte messages
# from mqsend's stdin to mqrecv -n writing a file on tmpfs, against two
# processes doing nothing but msgsnd/msgrcv (mq_send/mq_receive); and the
# cost of one `mqsend hello`, timed over MQ_CALLS invocations, against as
# many of /bin/true.
#
# mqrecv writes each message before it takes the next (issue 16: a message
# leaves the queue only once it is written), so it makes two system calls
# per message where the peer's receiver makes one: the aim is half the
# peer's speed, a ratio of 2.0. Measured on the 2-core machine of issue 16,
# 200k messages to a tmpfs file, quiet: raw 0.20 s; one write(2) per
# message 0.40 s, the same with O_APPEND; the old 64 KiB batches 0.22 s,
# which lost a batch to SIGKILL. Loaded (5 other jobs): raw 1.0-1.2 s, one
# write per message 1.2-1.3 s, O_APPEND 1.2-1.8 s, and a receive thread
# handing each message to a write thread 3.3-5.5 s: the hand-over costs
# more than the write it overlaps, and holds two messages, not one.
#
# The queue must be emptied now and then: a System V queue holds all the
# calls, and one mqrecv at the end empties it; a POSIX queue holds only
# /proc/sys/fs/mqueue/msg_max messages, so both sides of that row run one
# mqrecv per msg_max calls (the peer's finds the queue empty), and the
# ratio compares mqsend with /bin/true alone.
#
# The shell's RPC (issue 15, item 2): MQ_RPC_N round trips of
# `mqsend --call` against one `mqrecv --reply -- cat`, against a C
# msgsnd/msgrcv ping-pong doing as many: the limit, which forks nothing,
# where each call here is an mqsend and a cat.

MQ_N=${MQ_N:-1000000}
MQ_CALLS=${MQ_CALLS:-1000}
MQ_RPC_N=${MQ_RPC_N:-500}
MQ_KEY=$(printf '0x1b%06x' $((SRANDOM & 0xffffff)))
MQ_NAME=/ipctools-bench.$$
MQ_MAXMSG=$(cat /proc/sys/fs/mqueue/msg_max 2>/dev/null || echo 10)
# The sink is a file that is really written, on tmpfs where there is one,
# so that the disk does not time itself into the row.
MQ_OUT_DIR=$BENCH_TMP
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ] && MQ_OUT_DIR=/dev/shm
MQ_OUT=$MQ_OUT_DIR/ipctools-bench.$$.out

# Each row gets new, empty queues; the input is made once per run.
mq_setup() {
	MQ_INPUT=$BENCH_TMP/mq-input
	[ -f "$MQ_INPUT" ] ||
		awk -v n="$MQ_N" 'BEGIN { for (i = 0; i < n; i++) printf "%064d\n", i }' >"$MQ_INPUT"
	mq_cleanup
	mqsend -k "$MQ_KEY" -x --stat >/dev/null &&
		mqsend -N "$MQ_NAME" -x --maxmsg "$MQ_MAXMSG" --msgsize 64 --stat >/dev/null
}

mq_cleanup() {
	ipcrm -Q "$MQ_KEY" 2>/dev/null
	rm -f "/dev/mqueue$MQ_NAME" "$MQ_OUT"
}

mq_pipe_sysv() {
	mqrecv -k "$MQ_KEY" -n "$MQ_N" >"$MQ_OUT" &
	mqsend -k "$MQ_KEY" <"$MQ_INPUT" && wait $!
}

mq_pipe_sysv_peer() {
	"$BENCH_PEERS/mq_sysv" "$MQ_KEY" "$MQ_N" 64
}

mq_pipe_posix() {
	mqrecv -N "$MQ_NAME" -n "$MQ_N" >"$MQ_OUT" &
	mqsend -N "$MQ_NAME" <"$MQ_INPUT" && wait $!
}

mq_pipe_posix_peer() {
	"$BENCH_PEERS/mq_posix" "$MQ_NAME" "$MQ_N" 64
}

mq_calls_sysv() {
	local i
	for ((i = 0; i < MQ_CALLS; i++)); do
		mqsend -k "$MQ_KEY" hello || return
	done
	mqrecv -k "$MQ_KEY" -n "$MQ_CALLS" >"$MQ_OUT"
}

mq_calls_posix() {
	local i
	for ((i = 1; i <= MQ_CALLS; i++)); do
		mqsend -N "$MQ_NAME" hello || return
		((i % MQ_MAXMSG)) || mqrecv -N "$MQ_NAME" -n "$MQ_MAXMSG" >"$MQ_OUT" || return
	done
	mqrecv -N "$MQ_NAME" --follow --nowait >"$MQ_OUT" || true
}

mq_calls_true() {
	local i
	for ((i = 0; i < MQ_CALLS; i++)); do
		/bin/true
	done
}

mq_calls_true_posix() {
	local i
	for ((i = 1; i <= MQ_CALLS; i++)); do
		/bin/true
		((i % MQ_MAXMSG)) || mqrecv -N "$MQ_NAME" --nowait >"$MQ_OUT" 2>/dev/null
	done
	true
}

bench_case "mq sysv: 1M x 64 B, mqsend to mqrecv > file" 2.0 gcc "$BENCH_PEERS/mq_sysv" \
	mq_pipe_sysv mq_pipe_sysv_peer mq_setup mq_cleanup
bench_case "mq sysv: one mqsend -k K hello vs /bin/true" 1.5 coreutils true \
	mq_calls_sysv mq_calls_true mq_setup mq_cleanup
bench_case "mq posix: 1M x 64 B, mqsend to mqrecv > file" 2.0 gcc "$BENCH_PEERS/mq_posix" \
	mq_pipe_posix mq_pipe_posix_peer mq_setup mq_cleanup
bench_case "mq posix: one mqsend -N /Q hello vs /bin/true" 1.5 coreutils true \
	mq_calls_posix mq_calls_true_posix mq_setup mq_cleanup

mq_rpc() {
	local i
	mqrecv -k "$MQ_KEY" -n "$MQ_RPC_N" --reply -- cat &
	for ((i = 0; i < MQ_RPC_N; i++)); do
		mqsend --call -k "$MQ_KEY" hello || return
	done
	wait $!
}

mq_rpc_peer() {
	"$BENCH_PEERS/mq_pingpong" "$MQ_KEY" "$MQ_RPC_N"
}

bench_case "mq sysv: $MQ_RPC_N x --call, --reply cat vs C" - gcc "$BENCH_PEERS/mq_pingpong" \
	mq_rpc mq_rpc_peer mq_setup mq_cleanup

# Exact delivery into a pipe (issue 8): mqrecv takes the next message only
# once the reader has read the last, so `mqrecv | head -n 3` takes three.
# The cost of that, against the same messages into a file: MQ_PIPE_N
# messages, each side with its own sender.
MQ_PIPE_N=${MQ_PIPE_N:-100000}

mq_into_pipe() {
	head -n "$MQ_PIPE_N" "$MQ_INPUT" | mqsend -k "$MQ_KEY" &
	mqrecv -k "$MQ_KEY" -n "$MQ_PIPE_N" | cat >/dev/null && wait $!
}

mq_into_file() {
	head -n "$MQ_PIPE_N" "$MQ_INPUT" | mqsend -k "$MQ_KEY" &
	mqrecv -k "$MQ_KEY" -n "$MQ_PIPE_N" >"$MQ_OUT" && wait $!
}

bench_case "mq sysv: 100k x 64 B mqrecv | cat vs > file" 4.0 coreutils cat \
	mq_into_pipe mq_into_file mq_setup mq_cleanup
