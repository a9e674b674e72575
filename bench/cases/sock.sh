# shellcheck shell=bash
# bench/cases/sock.sh: the Speed rows of issue 10.
# - SOCK_SIZE (4 GiB) from a file through usock connect -> usock listen into
#   a pipe that wc -c reads (/dev/null would let splice move nothing), the
#   count checked, against socat -u (one direction only, its fastest mode)
#   and nc -NU -> nc -lU into the same sink. The file is sparse: reading it
#   costs no disk.
# - SOCK_CONNS (2000) connections, one after another from one C client
#   loop (bench/peers/sockclient.c), each served by `true`: usock serve
#   against s6-ipcserver and socat UNIX-LISTEN,fork EXEC:true.
# - SOCK_DGRAMS (a million) 64-byte datagrams, usock send's stdin to usock
#   recv -n into a file on $BENCH_TMP, its lines then counted, against a C
#   send/recv pair (bench/peers/sockdgram.c). Not into a pipe: there recv
#   writes one message at a time and waits until the reader has read it
#   (so that a reader that leaves, such as head, loses nothing uncounted),
#   as mqrecv does, whose row writes a file for the same reason.

SOCK_SIZE=${SOCK_SIZE:-4G}
SOCK_CONNS=${SOCK_CONNS:-2000}
SOCK_DGRAMS=${SOCK_DGRAMS:-1000000}
SOCK_PATH=$BENCH_TMP/sock
SOCK_READY=$BENCH_TMP/sock-ready
SOCK_GOT=$BENCH_TMP/sock-got

sock_setup() {
	sock_cleanup
	[ -f "$BENCH_TMP/sock-input" ] || truncate -s "$SOCK_SIZE" "$BENCH_TMP/sock-input"
	[ -f "$BENCH_TMP/sock-dgrams" ] ||
		awk -v n="$SOCK_DGRAMS" 'BEGIN { for (i = 0; i < n; i++) printf "%064d\n", i }' \
			>"$BENCH_TMP/sock-dgrams"
	[ -p "$SOCK_READY" ] || mkfifo "$SOCK_READY"
}

sock_cleanup() {
	rm -f "$SOCK_PATH" "$SOCK_GOT"
}

# The sink of a row counted what the receiver wrote out: all of it.
sock_all_arrived() {
	[ "$(cat "$SOCK_GOT")" = "$(stat -c %s "$BENCH_TMP/sock-input")" ]
}

# Waits until a listener is at SOCK_PATH, without connecting to it (which
# nc -l would take for its one connection).
sock_listening() {
	local i
	for ((i = 0; i < 500; i++)); do
		ss -xlH 2>/dev/null | grep -qF " $SOCK_PATH " && return 0
		sleep 0.01
	done
	return 1
}

# Ends a server started in the background, and waits for it.
sock_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rm -f "$SOCK_PATH"
}

sock_stream_ours() {
	usock listen --ready-fd 9 "$SOCK_PATH" 9>"$SOCK_READY" </dev/null | wc -c >"$SOCK_GOT" &
	read -r _ <"$SOCK_READY"
	usock connect "$SOCK_PATH" <"$BENCH_TMP/sock-input" >/dev/null || return 1
	wait "$!"
	sock_all_arrived
}

sock_stream_socat() {
	socat -u "UNIX-LISTEN:$SOCK_PATH" - | wc -c >"$SOCK_GOT" &
	sock_listening || return 1
	socat -u - "UNIX-CONNECT:$SOCK_PATH" <"$BENCH_TMP/sock-input" || return 1
	wait "$!"
	sock_all_arrived
}

sock_stream_nc() {
	nc -lU "$SOCK_PATH" </dev/null | wc -c >"$SOCK_GOT" &
	sock_listening || return 1
	nc -NU "$SOCK_PATH" <"$BENCH_TMP/sock-input" >/dev/null || return 1
	wait "$!"
	rm -f "$SOCK_PATH"
	sock_all_arrived
}

sock_serve_ours() {
	usock serve --ready-fd 9 "$SOCK_PATH" -- true 9>"$SOCK_READY" &
	local pid=$!
	read -r _ <"$SOCK_READY"
	"$BENCH_PEERS/sockclient" "$SOCK_PATH" "$SOCK_CONNS" || return 1
	sock_stop "$pid"
}

sock_serve_s6() {
	s6-ipcserver -1 "$SOCK_PATH" true >"$SOCK_READY" &
	local pid=$!
	read -r _ <"$SOCK_READY"
	"$BENCH_PEERS/sockclient" "$SOCK_PATH" "$SOCK_CONNS" || return 1
	sock_stop "$pid"
}

sock_serve_socat() {
	socat "UNIX-LISTEN:$SOCK_PATH,fork" EXEC:true &
	local pid=$!
	sock_listening || return 1
	"$BENCH_PEERS/sockclient" "$SOCK_PATH" "$SOCK_CONNS" || return 1
	sock_stop "$pid"
}

sock_dgram_ours() {
	usock recv -n "$SOCK_DGRAMS" --ready-fd 9 "$SOCK_PATH" 9>"$SOCK_READY" >"$SOCK_GOT" &
	read -r _ <"$SOCK_READY"
	usock send "$SOCK_PATH" <"$BENCH_TMP/sock-dgrams" || return 1
	wait "$!" || return 1
	[ "$(wc -l <"$SOCK_GOT")" = "$SOCK_DGRAMS" ]
}

sock_dgram_peer() {
	"$BENCH_PEERS/sockdgram" "$SOCK_PATH" "$SOCK_DGRAMS" 64
}

bench_case "sock: $SOCK_SIZE connect -> listen vs socat -u" 0.77 socat socat \
	sock_stream_ours sock_stream_socat sock_setup sock_cleanup
bench_case "sock: $SOCK_SIZE connect -> listen vs nc -U" 1.0 netcat-openbsd nc \
	sock_stream_ours sock_stream_nc sock_setup sock_cleanup
bench_case "sock: $SOCK_CONNS x serve -- true vs s6-ipcserver" 1.0 s6 s6-ipcserver \
	sock_serve_ours sock_serve_s6 sock_setup sock_cleanup
bench_case "sock: $SOCK_CONNS x serve -- true vs socat fork" 0.67 socat socat \
	sock_serve_ours sock_serve_socat sock_setup sock_cleanup
bench_case "sock: $SOCK_DGRAMS 64 B datagrams vs C send/recv" 1.5 gcc cc \
	sock_dgram_ours sock_dgram_peer sock_setup sock_cleanup
