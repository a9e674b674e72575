# shellcheck shell=bash
# bench/cases/sig.sh: the Speed rows of issue 5.
# - `sigsend -0 $$` against `/usr/bin/kill -0 $$`, SIG_CALLS invocations each:
#   the cost of one invocation.
# - A round trip of SIG_TRIPS real-time signals carrying 1..N between two
#   processes, with the tools in streaming mode: on each side one
#   `sigwait --forever` prints the values it takes, and a shell loop answers
#   each with one `sigsend -q`; against a C ping-pong with sigqueue and
#   sigwaitinfo (bench/peers/sigpingpong.c), the limit.
# - SIG_N values sent by one `sigsend -q 1 -q 2 ...` to one `sigwait -n N`,
#   against the same C program sending them one way.

SIG_CALLS=${SIG_CALLS:-500}
SIG_TRIPS=${SIG_TRIPS:-200}
SIG_N=${SIG_N:-10000}

sig_check_ours() {
	local i
	for ((i = 0; i < SIG_CALLS; i++)); do
		sigsend -0 $$ || return 1
	done
}

sig_check_peer() {
	local i
	for ((i = 0; i < SIG_CALLS; i++)); do
		/usr/bin/kill -0 $$ || return 1
	done
}

# Starts `sigwait -s SIG --forever --format %v` with its stdout on a FIFO
# read through fd SIG_FD and its pid in the pidfile $2; returns once it has
# blocked its signals.
sig_stream() {
	local sig=$1 pidfile=$2 out=$BENCH_TMP/sig-out.$1 ready=$BENCH_TMP/sig-ready.$1
	rm -f "$out" "$ready"
	mkfifo "$out" "$ready"
	sigwait -s "$sig" --forever --format %v --pidfile "$pidfile" \
		--ready-fd 8 >"$out" 8>"$ready" &
	exec {SIG_FD}<"$out"
	read -r _ <"$ready"
}

sig_roundtrip_ours() {
	local a=$BENCH_TMP/sig-a.pid b=$BENCH_TMP/sig-b.pid fda fdb i v ok=0
	sig_stream RTMIN+1 "$a"
	fda=$SIG_FD
	sig_stream RTMIN "$b"
	fdb=$SIG_FD
	# The far side: every value B takes goes back to A.
	while read -r v <&"$fdb"; do
		sigsend -s RTMIN+1 -q "$v" -p "$a" || break
	done &
	local echo=$!
	for ((i = 1; i <= SIG_TRIPS; i++)); do
		if ! sigsend -s RTMIN -q "$i" -p "$b" || ! read -r v <&"$fda" ||
			[ "$v" != "$i" ]; then
			ok=1
			break
		fi
	done
	sigsend -p "$a" -p "$b" --wait
	exec {fda}<&- {fdb}<&-
	wait "$echo"
	return "$ok"
}

sig_roundtrip_peer() {
	"$BENCH_PEERS/sigpingpong" "$SIG_TRIPS"
}

sig_stream_setup() {
	SIG_ARGS=()
	local i
	for ((i = 1; i <= SIG_N; i++)); do
		SIG_ARGS+=(-q "$i")
	done
}

sig_stream_ours() {
	local pf=$BENCH_TMP/sig-s.pid fd
	sig_stream RTMIN "$pf"
	fd=$SIG_FD
	sigsend -s RTMIN "${SIG_ARGS[@]}" -p "$pf" || return 1
	[ "$(head -n "$SIG_N" <&"$fd" | tail -n 1)" = "$SIG_N" ] || return 1
	sigsend -p "$pf" --wait
	exec {fd}<&-
}

sig_stream_peer() {
	"$BENCH_PEERS/sigpingpong" "$SIG_N" oneway
}

bench_case "sig: sigsend -0 \$\$ ($SIG_CALLS runs)" 1.00 procps /usr/bin/kill \
	sig_check_ours sig_check_peer
bench_case "sig: round trip x$SIG_TRIPS (tools, streaming)" - gcc \
	"$BENCH_PEERS/sigpingpong" sig_roundtrip_ours sig_roundtrip_peer
bench_case "sig: $SIG_N values, one sigsend -> sigwait" - gcc \
	"$BENCH_PEERS/sigpingpong" sig_stream_ours sig_stream_peer sig_stream_setup
