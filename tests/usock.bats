#!/usr/bin/env bats
# usock: every command, option and exit status; sockets made safely at
# paths others may plant things in; peers of another uid refused; serve
# under 200 concurrent clients; interop with socat, nc -U, python and
# bash's /dev/tcp; TCP across two network namespaces; the completion.

load helper

# Network namespaces this test made, removed in teardown.
teardown() {
	local ns
	if [ -f "$BATS_TEST_TMPDIR/.netns" ]; then
		while read -r ns; do
			ip netns del "$ns" 2>/dev/null
		done <"$BATS_TEST_TMPDIR/.netns"
	fi
	it_teardown
}

# A socket path for this test, removed in teardown whatever happens.
sock() {
	local p
	p=$(it_path "${1:-s}")
	it_track path "$p"
	echo "$p"
}

# An abstract name unique to this run.
abstract() {
	echo "@ipct.$$.$BATS_TEST_NUMBER.$SRANDOM"
}

# A loopback TCP or UDP port nobody uses now.
free_port() {
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "${1:-tcp}"
}

# The one line a failed run printed, exactly.
output_is() {
	if [ "$output" != "$1" ]; then
		printf 'expected: %s\nactual:   %s\n' "$1" "$output" >&2
		return 1
	fi
}

# True once pid has a child process: serve has started a command.
has_child() {
	pgrep -P "$1" >/dev/null
}

nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

@test "listen takes one connection: stdin to the peer, the peer to stdout, both ends half-closed" {
	local s=$BATS_TEST_TMPDIR/s out=$BATS_TEST_TMPDIR/out
	it_track path "$s"
	it_bg_ready usock listen --ready-fd 9 "$s" <<<"from listener" >"$out"
	run -0 usock connect "$s" <<<"from client"
	[ "$output" = "from listener" ]
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "from client" ]
	[ ! -e "$s" ]
}

@test "request/response: the client's end of data reaches the server, which then answers" {
	local s
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'wc -c'
	run -0 usock connect "$s" <<<"twelve bytes"
	[ "$output" = 13 ]
}

@test "listen waits for standard input when the peer ends its side first, as nc does" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock listen --ready-fd 9 "$s" >"$out" </dev/null
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run -0 usock connect "$s" <"$BATS_TEST_TMPDIR/in"
	it_wait "$IT_PID"
	cmp "$BATS_TEST_TMPDIR/in" "$out"
}

@test "1 GiB through connect -> listen arrives byte for byte" {
	local s sums=$BATS_TEST_TMPDIR/sum
	s=$(sock)
	it_bg_ready usock listen --ready-fd 9 "$s" > >(md5sum >"$sums.out") </dev/null
	head -c 1G /dev/urandom | tee >(md5sum >"$sums.in") | usock connect "$s"
	it_wait "$IT_PID"
	wait_for test -s "$sums.out"
	wait_for test -s "$sums.in"
	[ "$(cat "$sums.in")" = "$(cat "$sums.out")" ]
}

@test "the socket is 0600 whatever the umask, --mode exactly, --owner set; no private directory left" {
	local s t u
	s=$(sock)
	t=$(sock)
	u=$(sock)
	local old
	old=$(umask)
	umask 000
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	umask 077
	it_bg_ready usock listen -k -m 0666 --ready-fd 9 "$t"
	umask "$old"
	[ "$(stat -c %a "$s")" = 600 ]
	[ "$(stat -c %a "$t")" = 666 ]
	it_bg_ready usock listen -k --owner nobody:nogroup -m 0660 --ready-fd 9 "$u"
	[ "$(stat -c '%a %U %G' "$u")" = "660 nobody nogroup" ]
	# Nothing is left of the private directories the sockets were made in.
	run -0 find "$BATS_TEST_TMPDIR" -name '.usock.*'
	[ -z "$output" ]
}

@test "--owner as chown(1) takes it: USER: gives the login group, :GROUP the group alone; unknown names are 64" {
	local s t
	s=$(sock)
	t=$(sock)
	it_bg_ready usock listen -k --owner nobody: --ready-fd 9 "$s"
	[ "$(stat -c '%U %G' "$s")" = "nobody $(id -gn nobody)" ]
	it_bg_ready usock listen -k --owner :nogroup --ready-fd 9 "$t"
	[ "$(stat -c '%U %G' "$t")" = "$(id -un) nogroup" ]
	run -64 usock listen --owner no-such-user-here: "$(sock)"
	[ "${lines[0]}" = "usock: invalid owner 'no-such-user-here': no such user" ]
	run -64 usock listen --owner :no-such-group-here "$(sock)"
	[ "${lines[0]}" = "usock: invalid group 'no-such-group-here': no such group" ]
	run -64 usock listen --owner 4294967295 "$(sock)"
	[ "${lines[0]}" = "usock: invalid owner '4294967295': at most 4294967294" ]
	run -64 usock listen --allow-gid no-such-group-here "$(sock)"
	[ "${lines[0]}" = "usock: invalid gid 'no-such-group-here': no such group" ]
}

@test "abstract names are exactly the bytes given, as ss -xl shows them" {
	local a
	a=$(abstract)
	it_bg_ready usock listen -k --ready-fd 9 "$a"
	run -0 ss -xlH
	[[ $output == *" $a "* ]]
	# Padding with NULs would show as trailing @ characters.
	[[ $output != *" $a@"* ]]
	run -0 usock test "$a"
	run -0 usock connect "$a" </dev/null
	# The name with one more byte is another name.
	run -69 usock test "${a}x"
}

@test "unix:PATH is PATH; a path too long for sun_path is a usage error" {
	local s long
	s=$(sock)
	it_bg_ready usock listen -k --ready-fd 9 "unix:$s"
	[ -S "$s" ]
	run -0 usock test "$s"
	long=$(printf '/tmp/%0200d' 0)
	run -64 usock connect "$long"
	[ "${lines[0]}" = "usock: invalid address '${long:0:40}...': a UNIX socket name holds at most 107 bytes" ]
}

@test "a planted symlink and a regular file are refused (65) and left untouched" {
	local s t target
	s=$(sock)
	t=$(sock)
	target=$(sock target)
	echo keep >"$target"
	ln -s "$target" "$s"
	run -65 usock listen "$s"
	output_is "usock: unable to bind $s: not a socket"
	[ -L "$s" ] && [ "$(cat "$target")" = keep ]
	echo data >"$t"
	run -65 usock listen "$t"
	output_is "usock: unable to bind $t: not a socket"
	[ "$(cat "$t")" = data ]
	run -65 usock recv "$t"
	run -65 usock connect "$t"
	output_is "usock: unable to connect $t: not a socket"
	run -65 usock test "$t"
	output_is "usock: unable to test $t: not a socket"
}

@test "a live listener at the path is exit 73 and keeps its socket" {
	local s
	s=$(sock)
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	local ino
	ino=$(stat -c %i "$s")
	run -73 usock listen "$s"
	output_is "usock: unable to bind $s: a listener is already there"
	run -73 usock serve "$s" -- true
	[ "$(stat -c %i "$s")" = "$ino" ]
	kill -0 "$IT_PID"
	local a
	a=$(abstract)
	it_bg_ready usock listen -k --ready-fd 9 "$a"
	run -73 usock listen "$a"
	output_is "usock: unable to bind $a: a listener is already there"
}

@test "a stale socket of ours is reclaimed; one of another user is 77" {
	local s t
	s=$(sock)
	t=$(sock)
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$s"
	run -69 usock test "$s"
	it_bg_ready usock listen --ready-fd 9 "$s"
	run -0 usock test "$s"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$t"
	chown nobody "$t"
	run -77 usock listen "$t"
	output_is "usock: unable to bind $t: a socket of uid $(id -u nobody), not ours"
	[ -S "$t" ]
}

@test "at exit the path is removed only if it is still our socket" {
	local s
	s=$(sock)
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	mv "$s" "$s.ours"
	it_track path "$s.ours"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$s"
	local ino
	ino=$(stat -c %i "$s")
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 143 ]
	[ "$(stat -c %i "$s")" = "$ino" ]
	it_bg_ready usock listen -k --ready-fd 9 "$s.2"
	it_track path "$s.2"
	kill -INT "$IT_PID"
	it_wait "$IT_PID"
	[ ! -e "$s.2" ]
}

@test "a peer of another uid is refused before a byte is read; --allow-uid and --allow-gid take it" {
	need_other_user
	local a out=$BATS_TEST_TMPDIR/out
	a=$(abstract)
	it_bg_ready usock listen -k --ready-fd 9 "$a" 2>"$out.err" >"$out"
	nobody usock connect "$a" <<<"secret" || :
	echo mine | usock connect "$a"
	wait_for grep -q mine "$out"
	[ "$(cat "$out")" = mine ]
	[ "$(cat "$out.err")" = "usock: refused a peer of uid $(id -u nobody) gid $(id -g nobody) on $a (use --allow-uid)" ]
	local b c
	b=$(abstract)
	it_bg_ready usock listen --allow-uid nobody --ready-fd 9 "$b" >"$out.b"
	nobody usock connect "$b" <<<"by uid"
	it_wait "$IT_PID"
	[ "$(cat "$out.b")" = "by uid" ]
	c=$(abstract)
	it_bg_ready usock listen --allow-gid nogroup --ready-fd 9 "$c" >"$out.c"
	nobody usock connect "$c" <<<"by gid"
	it_wait "$IT_PID"
	[ "$(cat "$out.c")" = "by gid" ]
}

@test "serve refuses another uid before CMD runs; --allow-uid any takes everyone" {
	need_other_user
	local a ran=$BATS_TEST_TMPDIR/ran
	a=$(abstract)
	it_bg_ready usock serve --ready-fd 9 "$a" -- touch "$ran" 2>"$ran.err"
	nobody usock connect "$a" </dev/null || :
	wait_for grep -q refused "$ran.err"
	[ ! -e "$ran" ]
	local b
	b=$(abstract)
	it_bg_ready usock serve --allow-uid any --ready-fd 9 "$b" -- sh -c 'echo "$UNIXREMOTEEUID"'
	run -0 nobody usock connect "$b" </dev/null
	[ "$output" = "$(id -u nobody)" ]
}

@test "seqpacket: a refused client is 69 with an empty standard input, 74 with data; a server that sends nothing is no refusal" {
	need_other_user
	local a out=$BATS_TEST_TMPDIR/out
	a=$(abstract)
	it_bg_ready usock listen -k --seqpacket --ready-fd 9 "$a" 2>"$out.err" >"$out"
	run -69 nobody usock connect --seqpacket "$a" </dev/null
	output_is "usock: unable to connect $a: the server refused the connection (its standard error says why)"
	run -74 nobody usock connect --seqpacket "$a" <<<"secret"
	[ ! -s "$out" ]
	local b
	b=$(abstract)
	it_bg_ready usock serve --seqpacket --allow-uid any --ready-fd 9 "$b" -- printf ''
	run -0 nobody usock connect --seqpacket "$b" </dev/null
	[ -z "$output" ]
}

@test "a 0600 socket is permission denied to another user (77)" {
	need_other_user
	local d s
	d=$(mktemp -d "${TMPDIR:-/tmp}/usock.XXXXXX")
	it_track path "$d"
	chmod 755 "$d"
	s=$d/s
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	run -77 nobody usock connect "$s"
	output_is "usock: unable to connect $s: Permission denied"
}

@test "--peer prints the peer's pid, uid and gid; --stat as key=value" {
	local s
	s=$(sock)
	it_bg_ready usock listen --peer --stat --ready-fd 9 "$s" 2>"$BATS_TEST_TMPDIR/err" >/dev/null </dev/null
	run -0 usock connect --peer "$s" </dev/null
	[[ $output == "usock: peer pid $IT_PID uid $(id -u) gid $(id -g)" ]]
	it_wait "$IT_PID"
	eval "$(cat "$BATS_TEST_TMPDIR/err")"
	[ "$peer_uid" = "$(id -u)" ] && [ "$peer_gid" = "$(id -g)" ]
	[[ $peer_pid =~ ^[0-9]+$ ]]
}

@test "tcp: on 127.0.0.1 and [::1]; --peer names the address" {
	local p q
	p=$(free_port)
	it_bg_ready usock listen --ready-fd 9 "tcp:127.0.0.1:$p" <<<"v4 answer"
	run -0 usock connect --peer --stat "tcp:localhost:$p" <<<"hi"
	[ "${lines[0]}" = "peer_ip=127.0.0.1" ] || [ "${lines[0]}" = "peer_ip=::1" ]
	[[ $output == *"v4 answer"* ]]
	q=$(free_port)
	if ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
		skip "no IPv6 loopback here"
	fi
	it_bg_ready usock listen --ready-fd 9 "tcp:[::1]:$q" <<<"v6 answer"
	run -0 usock connect "tcp:[::1]:$q" </dev/null
	[ "$output" = "v6 answer" ]
}

@test "TCP across two network namespaces joined by a veth pair" {
	[ "$(id -u)" = 0 ] || skip "needs root to make network namespaces"
	command -v ip >/dev/null || skip "needs ip (iproute2)"
	local a=ita$$ b=itb$$ va=iva$$ vb=ivb$$
	ip netns add "$a" 2>/dev/null || skip "cannot make network namespaces here"
	echo "$a" >>"$BATS_TEST_TMPDIR/.netns"
	ip netns add "$b"
	echo "$b" >>"$BATS_TEST_TMPDIR/.netns"
	ip link add "$va" type veth peer name "$vb" || skip "cannot make a veth pair here"
	ip link set "$va" netns "$a"
	ip link set "$vb" netns "$b"
	ip -n "$a" addr add 10.231.7.1/24 dev "$va"
	ip -n "$b" addr add 10.231.7.2/24 dev "$vb"
	ip -n "$a" link set "$va" up
	ip -n "$b" link set "$vb" up
	ip -n "$a" link set lo up
	it_bg_ready ip netns exec "$b" usock serve --ready-fd 9 tcp:10.231.7.2:7000 -- \
		sh -c 'echo "from $TCPREMOTEIP to $TCPLOCALIP:$TCPLOCALPORT"; cat'
	run -0 ip netns exec "$a" usock connect -w 5s tcp:10.231.7.2:7000 <<<"across"
	[ "${lines[0]}" = "from 10.231.7.1 to 10.231.7.2:7000" ]
	[ "${lines[1]}" = across ]
	# From namespace a, nothing listens on its own side.
	run -69 ip netns exec "$a" usock connect tcp:10.231.7.1:7000 </dev/null
	# Nobody has 10.231.7.3 on the link: the connect times out.
	run -1 ip netns exec "$a" usock connect -w 300ms tcp:10.231.7.3:7000 </dev/null
	output_is "usock: unable to connect tcp:10.231.7.3:7000: no answer in time"
}

@test "connect: nobody there 69, refused 69, timed out 1, output error 74" {
	local s t
	s=$(sock)
	run -69 usock connect "$s"
	output_is "usock: unable to connect $s: No such file or directory"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$s"
	run -69 usock connect "$s"
	output_is "usock: unable to connect $s: Connection refused"
	local p
	p=$(free_port)
	run -69 usock connect "tcp:127.0.0.1:$p"
	output_is "usock: unable to connect tcp:127.0.0.1:$p: Connection refused"
	run -69 usock connect "tcp:no-such-host.invalid:$p"
	[[ $output == "usock: unable to resolve tcp:no-such-host.invalid:$p: "* ]]
	t=$(sock)
	it_bg_ready usock serve --kill-children --ready-fd 9 "$t" -- sleep 5
	run -1 usock connect -w 200ms "$t" < <(sleep 5)
	output_is "usock: unable to read $t: no data in time"
	it_bg_ready usock serve --ready-fd 9 "$t.2" -- echo data
	it_track path "$t.2"
	run -74 bash -c 'usock connect "$1" </dev/null >/dev/full' _ "$t.2"
	output_is "usock: unable to write standard output: No space left on device"
}

@test "a read error on standard input is exit 74" {
	local s
	s=$(sock)
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	run -74 usock connect "$s" <"$BATS_TEST_TMPDIR"
	output_is "usock: unable to read standard input: Is a directory"
}

@test "a reader of stdout that goes away ends us as SIGPIPE would, and the socket goes" {
	local s
	s=$(sock)
	mkfifo "$BATS_TEST_TMPDIR/r"
	bash -c 'usock listen -k --ready-fd 9 "$1" 9>"$2" | head -c 5 >/dev/null
		echo "${PIPESTATUS[0]}" >"$3"' _ "$s" "$BATS_TEST_TMPDIR/r" "$BATS_TEST_TMPDIR/st" 3>&- &
	it_track pid $!
	read -r -t "$IT_DEADLINE" _ <"$BATS_TEST_TMPDIR/r"
	# The client may see the reset of the data it sent that was never read.
	head -c 1M /dev/zero | usock connect "$s" || :
	wait_for test -s "$BATS_TEST_TMPDIR/st"
	[ "$(cat "$BATS_TEST_TMPDIR/st")" = 141 ]
	[ ! -e "$s" ]
}

@test "send -w: a receiver that takes nothing is exit 1 once its queue is full" {
	local s
	s=$(sock)
	python3 -c 'import socket,sys,os,time
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r.bind(sys.argv[1])
os.write(3, b"\n"); os.close(3); time.sleep(30)' "$s" 3>"$BATS_TEST_TMPDIR/r" &
	it_track pid $!
	wait_for test -s "$BATS_TEST_TMPDIR/r"
	run -1 usock send --dgram -w 200ms "$s" < <(seq 5000)
	[[ $output =~ ^usock:\ unable\ to\ send\ $s:\ no\ room\ in\ time\ for\ message\ ([0-9]+),\ which\ was\ not\ sent\ \(([0-9]+)\ bytes\ of\ standard\ input\ read\ from\ its\ first\ on\ were\ not\ sent\)$ ]]
	# What was read from the pipe from that message on is told, at least
	# the message itself.
	((BASH_REMATCH[2] >= ${#BASH_REMATCH[1]} + 1))
}

@test "listen --timeout: nobody came in time is exit 1, and the socket goes" {
	local s
	s=$(sock)
	run -1 usock listen -w 100ms "$s"
	output_is "usock: unable to accept on $s: nobody came in time"
	[ ! -e "$s" ]
}

@test "listen -k takes one connection after another, each to stdout" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock listen -k --ready-fd 9 "$s" >"$out"
	for i in 1 2 3; do
		echo "client $i" | usock connect "$s"
	done
	wait_for grep -q 'client 3' "$out"
	[ "$(cat "$out")" = "$(printf 'client 1\nclient 2\nclient 3')" ]
}

@test "test: 0 listening, 69 nobody, 65 not a socket; datagram sockets count" {
	local s d
	s=$(sock)
	d=$(sock)
	run -69 usock test "$s"
	[ -z "$output" ]
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	run -0 usock test "$s"
	it_bg_ready usock recv --follow --ready-fd 9 "$d"
	run -0 usock test "$d"
	run -65 usock test --stream "$d"
	output_is "usock: unable to test $d: a socket of another type"
	local p
	p=$(free_port)
	run -69 usock test "tcp:127.0.0.1:$p"
}

@test "serve: UCSPI environment for UNIX and TCP peers" {
	local s p
	s=$(sock)
	it_bg_ready usock serve --peer --ready-fd 9 "$s" -- sh -c \
		'echo "$PROTO $UNIXREMOTEEUID $UNIXREMOTEEGID $UNIXREMOTEPID"' 2>"$s.err"
	it_track path "$s.err"
	run -0 usock connect "$s" </dev/null
	[[ $output =~ ^UNIX\ $(id -u)\ $(id -g)\ ([0-9]+)$ ]]
	[ "$(cat "$s.err")" = "usock: peer pid ${BASH_REMATCH[1]} uid $(id -u) gid $(id -g)" ]
	p=$(free_port)
	it_bg_ready usock serve --ready-fd 9 "tcp:127.0.0.1:$p" -- sh -c \
		'echo "$PROTO $TCPREMOTEIP $TCPLOCALIP $TCPLOCALPORT $TCPREMOTEPORT"'
	run -0 usock connect "tcp:127.0.0.1:$p" </dev/null
	[[ $output =~ ^TCP\ 127.0.0.1\ 127.0.0.1\ $p\ [0-9]+$ ]]
}

@test "serve: 200 concurrent clients each get their own bytes back" {
	local s d=$BATS_TEST_TMPDIR/c i pids=()
	s=$(sock)
	mkdir "$d"
	it_bg_ready usock serve --max 200 --ready-fd 9 "$s" -- cat
	for i in $(seq 200); do
		head -c $((1000 + i * 97)) /dev/urandom >"$d/in.$i"
	done
	for i in $(seq 200); do
		usock connect "$s" <"$d/in.$i" >"$d/out.$i" 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		it_wait "$i"
		[ "$IT_STATUS" = 0 ]
	done
	for i in $(seq 200); do
		cmp "$d/in.$i" "$d/out.$i"
	done
}

@test "serve --max 1 runs one command at a time; --max-per-uid refuses the extra" {
	local s t hold=$BATS_TEST_TMPDIR/hold out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	mkfifo "$hold"
	it_bg_ready usock serve --max 1 --ready-fd 9 "$s" -- sh -c 'cat >/dev/null; echo done'
	usock connect "$s" <"$hold" >"$out.1" 3>&- &
	local c1=$!
	exec 7>"$hold"
	wait_for has_child "$IT_PID"
	# While the first runs, the second waits in the backlog: no answer.
	run -1 usock connect -w 300ms "$s" </dev/null
	exec 7>&-
	it_wait "$c1"
	[ "$(cat "$out.1")" = "done" ]
	run -0 usock connect "$s" </dev/null
	[ "$output" = "done" ]
	t=$(sock)
	it_bg_ready usock serve --max-per-uid 1 --ready-fd 9 "$t" -- sh -c 'cat >/dev/null; echo done' 2>"$out.err"
	usock connect "$t" <"$hold" >/dev/null 3>&- &
	c1=$!
	exec 7>"$hold"
	wait_for has_child "$IT_PID"
	run -69 --separate-stderr usock connect "$t" </dev/null
	[ -z "$output" ]
	[ "$stderr" = "usock: unable to connect $t: the server refused the connection (its standard error says why)" ]
	[ "$(cat "$out.err")" = "usock: refused a peer of uid $(id -u) on $t: --max-per-uid 1 reached" ]
	exec 7>&-
	it_wait "$c1"
}

@test "serve: SIGTERM stops accepting at once, then waits for the commands; --kill-children ends them" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'sleep 0.5; echo finished'
	local srv=$IT_PID
	usock connect "$s" </dev/null >"$out" 3>&- &
	local c=$!
	wait_for has_child "$srv"
	kill -TERM "$srv"
	wait_for test ! -e "$s"
	run -69 usock test "$s"
	it_wait "$c"
	[ "$(cat "$out")" = finished ]
	it_wait "$srv"
	[ "$IT_STATUS" = 0 ]
	it_bg_ready usock serve --kill-children --ready-fd 9 "$s" -- sleep 30
	srv=$IT_PID
	usock connect "$s" </dev/null 3>&- &
	c=$!
	wait_for has_child "$srv"
	kill -TERM "$srv"
	it_wait "$srv" 3
	[ "$IT_STATUS" = 0 ]
	it_wait "$c"
}

@test "serve: a command that cannot run is one line on stderr, the client not served is 69, and serving goes on" {
	local s
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- /no/such/cmd 2>"$BATS_TEST_TMPDIR/err"
	run -69 usock connect "$s" </dev/null
	output_is "usock: unable to connect $s: the server refused the connection (its standard error says why)"
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "usock: unable to run /no/such/cmd: No such file or directory" ]
	kill -0 "$IT_PID"
}

@test "send/recv: one datagram per line, operands, -0, --netstring, --whole" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock recv -n 4 --ready-fd 9 "$s" >"$out"
	usock send "$s" one "two words"
	printf 'three\nfour\n' | usock send "$s"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "$(printf 'one\ntwo words\nthree\nfour')" ]
	it_bg_ready usock recv -n 2 --netstring --ready-fd 9 "$s" >"$out"
	printf 'a\0b\nc\0' | usock send -0 "$s"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "$(printf '1:a,3:b\nc,')" ]
	it_bg_ready usock recv -0 --ready-fd 9 "$s" >"$out"
	printf '5:hello,' | usock send --netstring "$s"
	it_wait "$IT_PID"
	cmp "$out" <(printf 'hello\0')
	it_bg_ready usock recv --whole --ready-fd 9 "$s" >"$out"
	printf 'all\nof it\n' | usock send --whole "$s"
	it_wait "$IT_PID"
	cmp "$out" <(printf 'all\nof it\n')
}

@test "recv takes datagrams from unnamed senders: python and logger" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock recv -n 2 --ready-fd 9 "$s" >"$out"
	python3 -c 'import socket,sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"from python", sys.argv[1])' "$s"
	logger -u "$s" "from logger"
	it_wait "$IT_PID"
	[ "$(sed -n 1p "$out")" = "from python" ]
	[[ $(sed -n 2p "$out") == "<"*"from logger" ]]
}

@test "recv --follow until SIGTERM; -w idle is exit 1; datagrams of another uid dropped" {
	local a out=$BATS_TEST_TMPDIR/out
	a=$(abstract)
	it_bg_ready usock recv --follow --ready-fd 9 "$a" >"$out" 2>"$out.err"
	usock send "$a" first
	if [ "$(id -u)" = 0 ] && nobody true 2>/dev/null; then
		nobody usock send "$a" intruder
	fi
	usock send "$a" second
	wait_for grep -q second "$out"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "$(printf 'first\nsecond')" ]
	if [ -s "$out.err" ]; then
		[ "$(cat "$out.err")" = "usock: refused a peer of uid $(id -u nobody) gid $(id -g nobody) on $a (use --allow-uid)" ]
	fi
	local s
	s=$(sock)
	run -1 usock recv -w 100ms "$s"
	output_is "usock: unable to receive from $s: nothing in time"
	[ ! -e "$s" ]
}

@test "recv -n N stopped by SIGTERM with fewer than N: what came is written out, one line says how many, then 143" {
	local a out=$BATS_TEST_TMPDIR/out
	a=$(abstract)
	it_bg_ready usock recv -n 3 --ready-fd 9 "$a" >"$out" 2>"$out.err"
	usock send "$a" first
	usock send "$a" second
	wait_for grep -q second "$out"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 143 ]
	[ "$(cat "$out")" = "$(printf 'first\nsecond')" ]
	[ "$(cat "$out.err")" = "usock: unable to receive from $a: SIGTERM after 2 of 3 messages, which were written out" ]
	it_bg_ready usock recv --ready-fd 9 "$a" >"$out" 2>"$out.err"
	kill -INT "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 130 ]
	[ ! -s "$out" ]
	[ "$(cat "$out.err")" = "usock: unable to receive from $a: SIGINT after 0 of 1 message" ]
}

@test "send: nobody there 69, not a socket 65, a message over the buffer 65" {
	local s
	s=$(sock)
	run -69 usock send "$s" x
	output_is "usock: unable to connect $s: No such file or directory"
	echo >"$s"
	run -65 usock send "$s" x
	output_is "usock: unable to connect $s: not a socket"
	rm "$s"
	it_bg_ready usock recv --follow --ready-fd 9 "$s"
	run -65 usock send --whole "$s" < <(head -c 4M /dev/zero)
	[[ $output == "usock: unable to send $s: message 1 of 4194304 bytes is longer than the socket send buffer ("*" bytes; raise net.core.wmem_default)" ]]
}

@test "udp: send and recv on loopback" {
	local p out=$BATS_TEST_TMPDIR/out
	p=$(free_port udp)
	it_bg_ready usock recv -n 2 --ready-fd 9 "udp:127.0.0.1:$p" >"$out"
	printf 'u1\nu2\n' | usock send "udp:127.0.0.1:$p"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "$(printf 'u1\nu2')" ]
	run -65 usock send --whole "udp:127.0.0.1:$p" < <(head -c 70000 /dev/zero)
	output_is "usock: unable to send udp:127.0.0.1:$p: message 1 of 70000 bytes is longer than a UDP datagram (65507 bytes)"
}

@test "--seqpacket: records through send/recv, and a stream of records through connect/listen" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock recv --seqpacket -n 3 --ready-fd 9 "$s" >"$out"
	usock send --seqpacket "$s" r1 r2
	usock send --seqpacket "$s" r3
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "$(printf 'r1\nr2\nr3')" ]
	it_bg_ready usock listen --seqpacket --ready-fd 9 "$s" >"$out" </dev/null
	echo record | usock connect --seqpacket "$s"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = record ]
}

@test "interop: socat and nc -U, both ways" {
	command -v socat >/dev/null || skip "needs socat"
	command -v nc >/dev/null || skip "needs nc (netcat-openbsd)"
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock listen --ready-fd 9 "$s" <<<"to socat" >"$out"
	run -0 socat - "UNIX-CONNECT:$s" <<<"from socat"
	[ "$output" = "to socat" ]
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "from socat" ]
	it_bg socat "UNIX-LISTEN:$s" SYSTEM:'cat; echo socat answers'
	wait_for test -S "$s"
	run -0 usock connect "$s" <<<"to socat"
	[ "$output" = "$(printf 'to socat\nsocat answers')" ]
	it_wait "$IT_PID"
	rm -f "$s"
	it_bg_ready usock listen --ready-fd 9 "$s" <<<"to nc" >"$out"
	run -0 nc -NU "$s" <<<"from nc"
	[ "$output" = "to nc" ]
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "from nc" ]
	it_bg nc -lU "$s" <<<"nc speaks" >"$out"
	wait_for test -S "$s"
	run -0 usock connect "$s" <<<"to nc"
	[ "$output" = "nc speaks" ]
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "to nc" ]
}

@test "interop: ucspi-unix's unixclient talks to serve; connect talks to s6-ipcserver" {
	local s
	s=$(sock)
	if command -v unixclient >/dev/null; then
		it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'echo "$PROTO $UNIXREMOTEEUID"'
		run -0 unixclient "$s" sh -c 'cat <&6'
		[ "$output" = "UNIX $(id -u)" ]
		kill -TERM "$IT_PID"
		it_wait "$IT_PID"
	fi
	command -v s6-ipcserver >/dev/null || skip "needs s6-ipcserver (s6)"
	mkfifo "$BATS_TEST_TMPDIR/r"
	s6-ipcserver -1 "$s" sh -c 'echo "$PROTO"; cat' >"$BATS_TEST_TMPDIR/r" 3>&- &
	it_track pid $!
	read -r -t "$IT_DEADLINE" _ <"$BATS_TEST_TMPDIR/r"
	run -0 usock connect "$s" <<<"half-closed"
	[ "$output" = "$(printf 'IPC\nhalf-closed')" ]
}

@test "interop: python's socket module and bash's /dev/tcp, both ways" {
	local s p out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'read -r l; echo "got $l"'
	run -0 python3 -c 'import socket,sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(b"py\n")
c.shutdown(socket.SHUT_WR); print(c.makefile().read(), end="")' "$s"
	[ "$output" = "got py" ]
	local t
	t=$(sock)
	python3 -c 'import socket,sys,os
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[1]); l.listen()
os.write(3, b"\n"); os.close(3)
c, _ = l.accept(); d = c.makefile("rb").read(); c.sendall(b"python heard " + d); c.close()' "$t" 3>"$out.r" &
	it_track pid $!
	wait_for test -s "$out.r"
	run -0 usock connect "$t" <<<"usock"
	[ "$output" = "python heard usock" ]
	p=$(free_port)
	it_bg_ready usock listen --ready-fd 9 "tcp:127.0.0.1:$p" <<<"to bash" >"$out"
	exec 5<>"/dev/tcp/127.0.0.1/$p"
	echo "from bash" >&5
	run -0 head -n 1 <&5
	exec 5>&-
	[ "$output" = "to bash" ]
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "from bash" ]
}

@test "usage errors: 64 with one line" {
	run -64 usock
	[ "${lines[0]}" = "usock: missing command: connect, listen, serve, send, recv or test" ]
	run -64 usock frob x
	[ "${lines[0]}" = "usock: unknown command 'frob'" ]
	run -64 usock connect
	[ "${lines[0]}" = "usock: connect needs an ADDR" ]
	run -64 usock serve /tmp/x
	[ "${lines[0]}" = "usock: serve needs a command: serve ADDR -- CMD [ARG...]" ]
	run -64 usock connect --dgram /tmp/x
	[ "${lines[0]}" = "usock: connect needs a connection: use send and recv for datagrams" ]
	run -64 usock send tcp:127.0.0.1:1 x
	[ "${lines[0]}" = "usock: tcp: is a stream: use udp: for datagrams, or --seqpacket" ]
	run -64 usock connect --stream --dgram /tmp/x
	[ "${lines[0]}" = "usock: --stream, --dgram and --seqpacket: choose one" ]
	run -64 usock connect -k /tmp/x
	[ "${lines[0]}" = "usock: cannot use --keep-open with connect" ]
	run -64 usock listen --allow-uid 0 tcp:127.0.0.1:1
	[ "${lines[0]}" = "usock: --allow-uid and --allow-gid need a UNIX socket" ]
	run -64 usock listen -m 0600 @abstract
	[ "${lines[0]}" = "usock: --mode and --owner need a socket path" ]
	run -64 usock listen --allow-uid no-such-user /tmp/x
	[ "${lines[0]}" = "usock: invalid uid 'no-such-user': no such user" ]
	run -64 usock recv -n 2 --follow /tmp/x
	[ "${lines[0]}" = "usock: --count and --follow: choose one" ]
	run -64 usock connect --stat /tmp/x
	[ "${lines[0]}" = "usock: --stat goes with --peer" ]
	run -64 usock connect tcp:127.0.0.1
	[ "${lines[0]}" = "usock: invalid address 'tcp:127.0.0.1'" ]
	run -64 usock connect -0 /tmp/x
	[ "${lines[0]}" = "usock: framing options are for send and recv" ]
	run -64 usock test udp:127.0.0.1:1
	[ "${lines[0]}" = "usock: test cannot tell whether a UDP port listens" ]
	run -64 usock listen --ready-fd 99 /tmp/x
	[ "${lines[0]}" = "usock: invalid file descriptor '99': not an open file descriptor" ]
}

complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_usock usock
}

@test "completion: commands, each command's options from --help, addresses" {
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/usock"
	complete_words usock ""
	[ "${COMPREPLY[*]}" = "connect listen serve send recv test" ]
	complete_words usock se
	[ "${COMPREPLY[*]}" = "serve send" ]
	complete_words usock serve --max-
	[ "${COMPREPLY[*]}" = "--max-per-uid=" ]
	complete_words usock connect --
	[[ " ${COMPREPLY[*]} " == *" --peer "* && " ${COMPREPLY[*]} " != *" --keep-open "* ]]
	complete_words usock recv --fo
	[ "${COMPREPLY[*]}" = --follow ]
	complete_words usock recv --net
	[ "${COMPREPLY[*]}" = --netstring ]
	complete_words usock connect tc
	[ "${COMPREPLY[*]}" = "tcp:" ]
	local s
	s=$(sock named)
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	complete_words usock connect "${s%.*}"
	[ "${COMPREPLY[*]}" = "$s" ]
	complete_words usock listen --allow-uid = nob
	[ "${COMPREPLY[*]}" = nobody ]
}

# Checks the one line of a transfer cut short (the caller saw exit 74): it
# names ADDR and counts what was sent and what was not, together the $3
# bytes of the file on stdin, at least $4 of them sent. A peer's reset can
# come once everything was sent: then the line says so.
cut_short() {
	local re="^usock: unable to write $1: (Broken pipe|Connection reset by peer) \(([0-9]+) bytes of standard input sent, ([0-9]+) not\)$"
	if [[ $2 == "usock: unable to write $1: Connection reset by peer ($3 bytes of standard input sent, not all of them read)" ]]; then
		return 0
	fi
	if ! [[ $2 =~ $re ]]; then
		printf 'not a cut-short line: %s\n' "$2" >&2
		return 1
	fi
	local sent=${BASH_REMATCH[2]} unsent=${BASH_REMATCH[3]}
	((sent + unsent == $3 && unsent > 0 && sent >= $4))
}

@test "a peer that takes part of stdin and closes: exit 74 saying how much was not sent, 20 runs, UNIX and TCP" {
	local s p log=$BATS_TEST_TMPDIR/log in=$BATS_TEST_TMPDIR/in i addr
	s=$(sock)
	p=$(free_port)
	head -c 1M /dev/zero >"$in"
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'head -c 1000 | wc -c >>"$1"; echo ok' _ "$log"
	it_bg_ready usock serve --ready-fd 9 "tcp:127.0.0.1:$p" -- sh -c 'head -c 1000 | wc -c >>"$1"; echo ok' _ "$log"
	for addr in "$s" "tcp:127.0.0.1:$p"; do
		for i in $(seq 20); do
			run -74 --separate-stderr usock connect "$addr" <"$in"
			[ "$output" = ok ]
			cut_short "$addr" "$stderr" 1048576 1000
		done
	done
	# Each command read its 1000 bytes, no more.
	[ "$(sort -u "$log")" = 1000 ] && [ "$(wc -l <"$log")" = 40 ]
}

@test "listen: a peer that dies having read part of stdin is exit 74 with the count, 20 runs; all taken is 0" {
	local s in=$BATS_TEST_TMPDIR/in got=$BATS_TEST_TMPDIR/got i
	s=$(sock)
	head -c 1M /dev/urandom >"$in"
	for i in $(seq 20); do
		it_bg_ready usock listen --ready-fd 9 "$s" <"$in" 2>"$got.err"
		# head takes 1000 bytes and exits: connect dies of SIGPIPE
		# with the rest unread in its socket.
		usock connect "$s" </dev/null | head -c 1000 >"$got"
		it_wait "$IT_PID"
		[ "$IT_STATUS" = 74 ]
		[ "$(wc -c <"$got")" = 1000 ]
		cut_short "$s" "$(cat "$got.err")" 1048576 1000
	done
	it_bg_ready usock listen --ready-fd 9 "$s" <"$in"
	usock connect "$s" </dev/null >"$got"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	cmp "$in" "$got"
}

@test "connect: a listener killed mid-stream is exit 74, stdin from a pipe, 20 runs" {
	local s got=$BATS_TEST_TMPDIR/got i
	s=$(sock)
	for i in $(seq 20); do
		it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'head -c 100000 | wc -c >"$1"; kill -KILL "$PPID"' _ "$got"
		run -74 --separate-stderr bash -c 'head -c 4M /dev/zero | usock connect "$1"' _ "$s"
		[[ $stderr =~ ^usock:\ unable\ to\ (write|read)\ $s: ]]
		[ "$(cat "$got")" = 100000 ]
		it_wait "$IT_PID"
	done
}

@test "a second listen at the path is 73 and its probe is never taken for the connection" {
	local s
	s=$(sock)
	it_bg_ready usock listen --ready-fd 9 "$s" <<<"for the real client"
	run -73 timeout 5 usock listen "$s" </dev/null
	run -73 timeout 5 usock serve "$s" -- true
	run -0 usock test "$s"
	run -0 usock connect "$s" </dev/null
	[ "$output" = "for the real client" ]
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "a listener with a full backlog: listen and serve are 73 at once, test is 0, connect -w times out" {
	local s
	s=$(sock)
	python3 -c 'import socket,sys,os
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[1]); l.listen(0)
held = []
while True:
    c = socket.socket(socket.AF_UNIX); c.setblocking(False)
    try:
        c.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(c)
os.write(3, b"\n"); os.close(3); os.read(0, 1)' "$s" 3>"$BATS_TEST_TMPDIR/r" < <(sleep 60) &
	it_track pid $!
	wait_for test -s "$BATS_TEST_TMPDIR/r"
	run -73 timeout 5 usock listen -w 1 "$s"
	output_is "usock: unable to bind $s: a listener is already there"
	run -73 timeout 5 usock serve "$s" -- true
	run -0 timeout 5 usock test "$s"
	run -1 timeout 5 usock connect -w 200ms "$s" </dev/null
}

@test "UDP and TCP binds are exclusive: a second binder, of any user, is refused" {
	local p q
	p=$(free_port udp)
	it_bg_ready usock recv --follow --ready-fd 9 "udp:127.0.0.1:$p"
	run -73 timeout 5 usock recv "udp:127.0.0.1:$p"
	output_is "usock: unable to bind udp:127.0.0.1:$p: a listener is already there"
	local steal='import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[2]))); s.listen() if sys.argv[1] == "tcp" else None
except OSError as e:
    sys.exit(e.errno)'
	run -98 python3 -c "$steal" udp "$p"
	if [ "$(id -u)" = 0 ] && nobody true 2>/dev/null; then
		run -73 nobody timeout 5 usock recv "udp:127.0.0.1:$p"
	fi
	q=$(free_port)
	it_bg_ready usock listen -k --ready-fd 9 "tcp:127.0.0.1:$q"
	run -73 timeout 5 usock listen "tcp:127.0.0.1:$q"
	run -98 python3 -c "$steal" tcp "$q"
}

@test "--allow-gid takes a peer that has the group as a supplementary one" {
	need_other_user
	local a out=$BATS_TEST_TMPDIR/out gid
	gid=$(getent group users | cut -d: -f3)
	[ -n "$gid" ] || skip "needs a group 'users'"
	a=$(abstract)
	it_bg_ready usock listen --allow-gid users --ready-fd 9 "$a" >"$out"
	setpriv --reuid=nobody --regid=nogroup --groups="$gid" -- usock connect "$a" <<<"as a member"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "as a member" ]
}

@test "ports: 1 to 65535 in decimal only; port 0 only with --ready-fd, whose line gives the port" {
	local bad
	for bad in 112667 65536 +47133 " 47133" 4713x http -1 ""; do
		run -64 usock connect "tcp:127.0.0.1:$bad"
		[ "${lines[0]}" = "usock: invalid address 'tcp:127.0.0.1:$bad'" ]
	done
	run -64 usock listen tcp:127.0.0.1:0
	[ "${lines[0]}" = "usock: port 0 is for listen, serve and recv with --ready-fd, whose line then says the port chosen" ]
	run -64 usock connect tcp:127.0.0.1:0
	local r=$BATS_TEST_TMPDIR/r port
	mkfifo "$r"
	usock listen --ready-fd 9 tcp:127.0.0.1:0 9>"$r" <<<"on the chosen port" 3>&- &
	it_track pid $!
	read -r -t "$IT_DEADLINE" port <"$r"
	[[ $port =~ ^[1-9][0-9]*$ ]]
	run -0 usock connect "tcp:127.0.0.1:$port" </dev/null
	[ "$output" = "on the chosen port" ]
	usock recv --ready-fd 9 udp:127.0.0.1:0 9>"$r" >"$r.out" 3>&- &
	it_track pid $!
	read -r -t "$IT_DEADLINE" port <"$r"
	usock send "udp:127.0.0.1:$port" by-udp
	wait_for test -s "$r.out"
	[ "$(cat "$r.out")" = by-udp ]
}

@test "messages name the port chosen for port 0, and a write stalled past -w names the write" {
	local r=$BATS_TEST_TMPDIR/r port pid
	mkfifo "$r"
	usock listen -w 300ms --ready-fd 9 tcp:127.0.0.1:0 9>"$r" 2>"$r.err" 3>&- &
	pid=$!
	it_track pid "$pid"
	read -r -t "$IT_DEADLINE" port <"$r"
	it_wait "$pid"
	[ "$IT_STATUS" = 1 ]
	[ "$(cat "$r.err")" = "usock: unable to accept on tcp:127.0.0.1:$port: nobody came in time" ]
	local s
	s=$(sock)
	it_bg_ready usock serve --kill-children --ready-fd 9 "$s" -- sleep 5
	run -1 bash -c 'head -c 64M /dev/zero | usock connect -w 300ms "$1"' _ "$s"
	output_is "usock: unable to write $s: no room in time"
}

@test "tcp connect to a peer here that half-closes: 74 if it never reads our bytes, 0 once it has, IPv4 and IPv6" {
	local peer=$BATS_TEST_TMPDIR/peer.py h port pid
	cat >"$peer" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1], 0)); s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.shutdown(socket.SHUT_WR)
if sys.argv[2] == "read":
    while c.recv(65536):
        pass
time.sleep(0.5)
PY
	mkfifo "$peer.port"
	for h in 127.0.0.1 ::1 127.0.0.1/read ::1/read; do
		local mode=none host=$h
		[[ $h == */read ]] && mode=read host=${h%/read}
		python3 "$peer" "$host" "$mode" >"$peer.port" &
		pid=$!
		it_track pid "$pid"
		read -r -t "$IT_DEADLINE" port <"$peer.port"
		[[ $host == *:* ]] && host="[$host]"
		if [ "$mode" = read ]; then
			run -0 usock connect "tcp:$host:$port" <<<hello
		else
			run -74 usock connect "tcp:$host:$port" <<<hello
			[[ $output == "usock: unable to write tcp:$host:$port: "*"(6 bytes of standard input sent, not all of them read)" ]]
		fi
		it_wait "$pid"
	done
}

@test "socket paths up to 107 bytes work; the bound name is the path itself, as ss and getpeername show" {
	local d s
	d=$(mktemp -d /tmp/usock.XXXXXX)
	it_track path "$d"
	s=$d/$(printf 'n%.0s' $(seq $((107 - ${#d} - 1))))
	[ "${#s}" = 107 ]
	it_bg_ready usock listen -k --ready-fd 9 "$s"
	[ -S "$s" ]
	run -0 usock test "$s"
	run -0 ss -xlH
	[[ $output == *" $s "* ]]
	grep -qF " $s" /proc/net/unix
	run -0 python3 -c 'import socket,sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); print(c.getpeername())' "$s"
	[ "$output" = "$s" ]
	run -64 usock listen "${s}x"
}

@test "a stale socket of the --owner user is reclaimed, as a service that crashed restarts" {
	local d s
	d=$(mktemp -d "${TMPDIR:-/tmp}/usock.XXXXXX")
	it_track path "$d"
	s=$d/s
	it_bg_ready usock listen -k --owner nobody --ready-fd 9 "$s"
	[ "$(stat -c %U "$s")" = nobody ]
	kill -KILL "$IT_PID"
	it_wait "$IT_PID"
	[ -S "$s" ]
	run -77 usock listen -w 1ms "$s"
	it_bg_ready usock listen -k --owner nobody --ready-fd 9 "$s"
	run -0 usock test "$s"
}

@test "test on a TCP listener whose backlog is full is exit 1 within -w, or within its 3 s default, not the SYN retries" {
	local p
	python3 -c 'import socket,sys,os,signal
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
p = l.getsockname()[1]; held = []
for i in range(8):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", p))
    except BlockingIOError:
        pass
    held.append(c)
os.write(3, b"%d\n" % p); os.close(3); signal.pause()' 3>"$BATS_TEST_TMPDIR/r" &
	it_track pid $!
	wait_for test -s "$BATS_TEST_TMPDIR/r"
	p=$(cat "$BATS_TEST_TMPDIR/r")
	run -1 timeout 10 usock test -w 300ms "tcp:127.0.0.1:$p"
	output_is "usock: unable to test tcp:127.0.0.1:$p: no answer in time"
	run -1 timeout 10 usock test "tcp:127.0.0.1:$p"
	output_is "usock: unable to test tcp:127.0.0.1:$p: no answer in time"
}

@test "usage: --max-per-uid and --seqpacket on TCP say what is wrong" {
	run -64 timeout 5 usock serve --max-per-uid 2 tcp:127.0.0.1:1 -- true
	[ "${lines[0]}" = "usock: --max-per-uid needs a UNIX socket" ]
	run -64 usock connect --seqpacket tcp:127.0.0.1:1
	[ "${lines[0]}" = "usock: --seqpacket is for UNIX sockets" ]
	run -64 usock send --seqpacket udp:127.0.0.1:1 x
	[ "${lines[0]}" = "usock: --seqpacket is for UNIX sockets" ]
}

@test "--ready-fd 0, 1 and 2 are refused: the readiness line would land in the data" {
	local fd
	for fd in 0 1 2; do
		run -64 usock listen --ready-fd "$fd" "$BATS_TEST_TMPDIR/s"
		[[ ${lines[0]} == "usock: invalid file descriptor '$fd': "* ]]
	done
	[ ! -e "$BATS_TEST_TMPDIR/s" ]
}

# A record peer in python: "serve PATH SIZE N" listens, takes one
# connection and sends N records of SIZE bytes (record i all of byte
# 'a'+i%26); "client PATH SIZE N" connects and does the same.
records_peer() {
	python3 -c 'import socket,sys,os
mode, path, size, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
if mode == "serve":
    s.bind(path); s.listen(); os.write(3, b"\n"); os.close(3); s, _ = s.accept()
else:
    s.connect(path)
for i in range(n):
    s.send(bytes([97 + i % 26]) * size)
s.shutdown(socket.SHUT_WR); s.recv(1)' "$@"
}

# What records_peer sends, as one stream.
records_bytes() {
	python3 -c 'import sys
size, n = int(sys.argv[1]), int(sys.argv[2])
sys.stdout.buffer.write(b"".join(bytes([97 + i % 26]) * size for i in range(n)))' "$@"
}

@test "--seqpacket: records of 200000 bytes arrive whole through listen and connect, 20 of each" {
	local s t out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	t=$(sock)
	records_bytes 200000 20 >"$out.want"
	it_bg_ready usock listen --seqpacket --ready-fd 9 "$s" </dev/null >"$out.1"
	records_peer client "$s" 200000 20
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	cmp "$out.want" "$out.1"
	records_peer serve "$t" 200000 20 3>"$out.r" &
	it_track pid $!
	wait_for test -s "$out.r"
	usock connect --seqpacket "$t" </dev/null >"$out.2"
	cmp "$out.want" "$out.2"
}

@test "--seqpacket: an empty record is a record, not the end, in recv and in listen; 20 runs" {
	local s out=$BATS_TEST_TMPDIR/out i
	s=$(sock)
	for i in $(seq 20); do
		it_bg_ready usock recv --seqpacket -n 4 -w 5s --ready-fd 9 "$s" >"$out"
		usock send --seqpacket "$s" a "" b
		usock send --seqpacket "$s" c
		it_wait "$IT_PID"
		[ "$IT_STATUS" = 0 ]
		[ "$(cat "$out")" = "$(printf 'a\n\nb\nc')" ]
	done
	it_bg_ready usock listen --seqpacket --ready-fd 9 "$s" </dev/null >"$out"
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1])
for r in (b"one", b"", b"two"):
    s.send(r)
s.shutdown(socket.SHUT_WR); s.recv(1)' "$s"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = onetwo ]
}

@test "recv: records taken are written out before the next wait, 20 runs; and under --follow" {
	local s out=$BATS_TEST_TMPDIR/out i
	s=$(sock)
	for i in $(seq 20); do
		it_bg_ready usock recv --seqpacket -n 5 -w 400ms --ready-fd 9 "$s" >"$out"
		usock send --seqpacket "$s" r1 r2
		it_wait "$IT_PID"
		[ "$IT_STATUS" = 1 ]
		[ "$(cat "$out")" = "$(printf 'r1\nr2')" ]
	done
	it_bg_ready usock recv --seqpacket --follow --ready-fd 9 "$s" >"$out"
	usock send --seqpacket "$s" f1 f2
	wait_for grep -q f2 "$out"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "$(printf 'f1\nf2')" ]
}

@test "recv --follow: a datagram over 1 MiB is told and skipped, the others all written, exit 65" {
	[ "$(id -u)" = 0 ] || skip "needs root for a send buffer over 1 MiB"
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock recv --follow --ready-fd 9 "$s" >"$out" 2>"$out.err"
	python3 -c 'import socket,sys
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.setsockopt(socket.SOL_SOCKET, 32, 4 << 20)  # SO_SNDBUFFORCE
for i in range(20):
    d.sendto(b"before %d" % i, sys.argv[1])
d.sendto(b"x" * (3 << 19), sys.argv[1])
d.sendto(b"after", sys.argv[1])' "$s"
	wait_for grep -q after "$out"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 65 ]
	[ "$(cat "$out")" = "$(printf 'before %d\n' $(seq 0 19); echo after)" ]
	[ "$(cat "$out.err")" = "usock: skipped a message of 1572864 bytes from $s: longer than 1048576 bytes" ]
}

@test "listen -k on TCP: a client that resets its connection is a warning, and listening goes on" {
	local p out=$BATS_TEST_TMPDIR/out
	p=$(free_port)
	it_bg_ready usock listen -k --ready-fd 9 "tcp:127.0.0.1:$p" >"$out" 2>"$out.err"
	python3 -c 'import socket,sys,struct,time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"first\n"); time.sleep(0.2)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()' "$p"
	wait_for grep -q reset "$out.err"
	echo second | usock connect "tcp:127.0.0.1:$p"
	wait_for grep -q second "$out"
	kill -0 "$IT_PID"
	[ "$(cat "$out")" = "$(printf 'first\nsecond')" ]
	[ "$(cat "$out.err")" = "usock: unable to read tcp:127.0.0.1:$p: Connection reset by peer" ]
}

@test "connect ends at once, 74, once a UNIX server has closed before the end of stdin; to a TCP one that half-closed, later stdin is still sent" {
	local p s out=$BATS_TEST_TMPDIR/out hold=$BATS_TEST_TMPDIR/hold
	s=$(sock)
	mkfifo "$hold"
	it_bg_ready usock serve --ready-fd 9 "$s" -- echo bye
	exec 7<>"$hold"
	run -74 --separate-stderr timeout 5 usock connect "$s" <"$hold"
	exec 7>&-
	[ "$output" = bye ]
	[ "$stderr" = "usock: unable to write $s: the peer has gone before the end of standard input (0 bytes of standard input sent, 0 and more not)" ]
	# A TCP close looks like a half-close: listen sends its stdin, shuts
	# down its side and reads on. What connect sends later must arrive.
	p=$(free_port)
	it_bg_ready usock listen --ready-fd 9 "tcp:127.0.0.1:$p" <<<"greeting" >"$out"
	# A slow producer: its line comes after the listener's end.
	run -0 bash -c '{ sleep 0.3; echo late; } | usock connect "$1"' _ "tcp:127.0.0.1:$p"
	[ "$output" = greeting ]
	it_wait "$IT_PID"
	[ "$(cat "$out")" = late ]
}

@test "connect to a TCP server on this host that has closed, stdin idle: 74 at once, 20 runs" {
	local p hold=$BATS_TEST_TMPDIR/hold i
	mkfifo "$hold"
	exec 7<>"$hold"
	p=$(free_port)
	it_bg_ready usock serve --ready-fd 9 "tcp:127.0.0.1:$p" -- echo bye
	for i in $(seq 20); do
		run -74 --separate-stderr timeout 5 usock connect "tcp:127.0.0.1:$p" <"$hold"
		[ "$output" = bye ]
		[ "$stderr" = "usock: unable to write tcp:127.0.0.1:$p: the peer has gone before the end of standard input (0 bytes of standard input sent, 0 and more not)" ]
	done
	exec 7>&-
	# One that half-closed and reads on: the test of connect ending once
	# a UNIX server has closed shows that later stdin still reaches it.
}

@test "connect: a UNIX peer that goes while stdin is still open is exit 74 with the bytes sent, not 0, 20 runs" {
	local s out=$BATS_TEST_TMPDIR/out hold=$BATS_TEST_TMPDIR/hold i c
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'head -c 2 >/dev/null; echo bye'
	for i in $(seq 20); do
		rm -f "$hold"
		mkfifo "$hold"
		usock connect "$s" <"$hold" >"$out" 2>"$out.err" 3>&- &
		c=$!
		it_track pid "$c"
		exec 7>"$hold"
		echo a >&7
		it_wait "$c"
		exec 7>&-
		[ "$IT_STATUS" = 74 ]
		[ "$(cat "$out")" = bye ]
		[ "$(cat "$out.err")" = "usock: unable to write $s: the peer has gone before the end of standard input (2 bytes of standard input sent, 0 and more not)" ]
	done
}

@test "connect -w is idle time both ways: an upload that flows longer than -w goes through" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'cat >"$1"; echo got' _ "$out"
	# A producer that writes a line every 100 ms for a second.
	run -0 bash -c 'for i in $(seq 10); do echo "$i"; sleep 0.1; done | usock connect -w 400ms "$1"' _ "$s"
	[ "$output" = got ]
	[ "$(cat "$out")" = "$(seq 10)" ]
	# Nothing moving either way is still exit 1.
	run -1 usock connect -w 200ms "$s" < <(sleep 5)
	output_is "usock: unable to read $s: no data in time"
}

@test "send: a message that cannot be sent is named, and the rest of a seekable stdin is left unread" {
	local s in=$BATS_TEST_TMPDIR/in
	s=$(sock)
	it_bg_ready usock recv --follow --ready-fd 9 "$s" >/dev/null
	{ echo small; head -c 300000 /dev/zero | tr '\0' x; echo; echo after; } >"$in"
	run -65 bash -c 'usock send "$1"; st=$?; echo "left: $(cat)"; exit "$st"' _ "$s" <"$in"
	[[ ${lines[0]} == "usock: unable to send $s: message 2 of 300000 bytes is longer than the socket send buffer ("*" bytes; raise net.core.wmem_default)" ]]
	[ "${lines[1]}" = "left: after" ]
	printf '3:abc,2:x' >"$in"
	run -65 bash -c 'usock send --netstring "$1"' _ "$s" <"$in"
	output_is "usock: unable to read standard input: message 2 is not a complete netstring"
	# Over the 64 MiB that send reads: that limit is named, not the buffer.
	run -65 usock send --whole "$s" < <(head -c 65M /dev/zero)
	output_is "usock: unable to send $s: message 1 is longer than 67108864 bytes, the most send reads"
}

@test "send -w: a message with no room in time is given back, stdin left at its first byte; from a pipe, the bytes dropped are told" {
	local s in=$BATS_TEST_TMPDIR/in k
	s=$(sock)
	# A receiver that never reads: its queue fills, then send waits.
	python3 -c 'import socket,sys,os,signal
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind(sys.argv[1])
os.write(3, b"\n"); os.close(3); signal.pause()' "$s" 3>"$BATS_TEST_TMPDIR/r" &
	it_track pid $!
	wait_for test -s "$BATS_TEST_TMPDIR/r"
	seq 100 >"$in"
	run -1 --separate-stderr bash -c 'usock send -w 200ms "$1"; st=$?; cat; exit "$st"' _ "$s" <"$in"
	[[ $stderr =~ ^"usock: unable to send $s: no room in time for message "([0-9]+)", which was not sent: standard input is left at its first byte"$ ]]
	k=${BASH_REMATCH[1]}
	[ "$output" = "$(seq "$k" 100)" ]
	# The queue is still full: message 1 waits, and all read is dropped.
	run -1 --separate-stderr bash -c 'cat "$2" | usock send -w 200ms "$1"' _ "$s" "$in"
	[ "$stderr" = "usock: unable to send $s: no room in time for message 1, which was not sent ($(wc -c <"$in") bytes of standard input read from its first on were not sent)" ]
}

@test "completion: test --dgram, no --stream for send and recv, serve's CMD arguments, --owner groups" {
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/usock"
	complete_words usock test --dg
	[ "${COMPREPLY[*]}" = --dgram ]
	complete_words usock send --str
	[ -z "${COMPREPLY[*]}" ]
	complete_words usock recv --st
	[ -z "${COMPREPLY[*]}" ]
	complete_words usock connect --str
	[ "${COMPREPLY[*]}" = --stream ]
	local f=$BATS_TEST_TMPDIR/argfile
	: >"$f"
	complete_words usock serve /x -- cat "${f%file}"
	[ "${COMPREPLY[*]}" = "$f" ]
	complete_words usock serve /x -- ech
	[[ " ${COMPREPLY[*]} " == *" echo "* ]]
	complete_words usock listen --owner :roo
	[ "${COMPREPLY[*]}" = :root ]
	complete_words usock listen --owner nobody:roo
	[ "${COMPREPLY[*]}" = nobody:root ]
	complete_words usock connect --peer --stat --js
	[ "${COMPREPLY[*]}" = --json ]
}

@test "--peer --stat --json: one JSON object, for UNIX and TCP peers" {
	local s p err=$BATS_TEST_TMPDIR/err
	s=$(sock)
	it_bg_ready usock listen --peer --stat --json --ready-fd 9 "$s" 2>"$err" >/dev/null </dev/null
	usock connect "$s" </dev/null
	it_wait "$IT_PID"
	run -0 python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(sorted(d), d["peer_uid"])' "$err"
	[ "$output" = "['peer_gid', 'peer_pid', 'peer_uid'] $(id -u)" ]
	p=$(free_port)
	it_bg_ready usock listen --ready-fd 9 "tcp:127.0.0.1:$p" </dev/null
	usock connect --peer --stat --json "tcp:127.0.0.1:$p" </dev/null 2>"$err"
	run -0 python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["peer_ip"], d["peer_port"])' "$err"
	[ "$output" = "127.0.0.1 $p" ]
	run -64 usock connect --peer --json "$s"
	[ "${lines[0]}" = "usock: --json goes with --peer --stat" ]
}

@test "a client refused by --max-per-uid or --allow-uid with data to send is exit 74, 20 runs" {
	local t hold=$BATS_TEST_TMPDIR/hold i c1
	t=$(sock)
	mkfifo "$hold"
	it_bg_ready usock serve --max-per-uid 1 --ready-fd 9 "$t" -- sh -c 'cat >/dev/null; echo done' 2>/dev/null
	usock connect "$t" <"$hold" >/dev/null 3>&- &
	c1=$!
	exec 7>"$hold"
	wait_for has_child "$IT_PID"
	for i in $(seq 20); do
		run -74 --separate-stderr usock connect "$t" <<<"refused data"
		[ -z "$output" ]
		[[ $stderr == "usock: unable to "*" $t: "* ]]
	done
	exec 7>&-
	it_wait "$c1"
	if [ "$(id -u)" = 0 ] && nobody true 2>/dev/null; then
		local a
		a=$(abstract)
		it_bg_ready usock listen -k --ready-fd 9 "$a" >/dev/null 2>&1
		for i in $(seq 20); do
			run -74 nobody usock connect "$a" <<<"secret"
		done
	fi
}

@test "a client refused by --max-per-uid or --allow-uid with nothing to send is exit 69, not 0, 20 runs; a served one is 0" {
	local t hold=$BATS_TEST_TMPDIR/hold i c1
	t=$(sock)
	mkfifo "$hold"
	it_bg_ready usock serve --max-per-uid 1 --ready-fd 9 "$t" -- sh -c 'cat >/dev/null' 2>/dev/null
	usock connect "$t" <"$hold" >/dev/null 3>&- &
	c1=$!
	it_track pid "$c1"
	exec 7>"$hold"
	wait_for has_child "$IT_PID"
	for i in $(seq 20); do
		run -69 --separate-stderr usock connect "$t" </dev/null
		[ -z "$output" ]
		[ "$stderr" = "usock: unable to connect $t: the server refused the connection (its standard error says why)" ]
	done
	# Refused while stdin is open and idle: what it may still bring is
	# lost, 74, and the line says the refusal.
	rm -f "$hold.idle"
	mkfifo "$hold.idle"
	exec 8<>"$hold.idle"
	run -74 --separate-stderr timeout 5 usock connect "$t" <"$hold.idle"
	exec 8>&-
	[ "$stderr" = "usock: unable to write $t: the server refused the connection before the end of standard input (0 bytes of standard input sent, 0 and more not)" ]
	exec 7>&-
	it_wait "$c1"
	[ "$IT_STATUS" = 0 ]
	# Served by a command that reads and says nothing: still 0.
	run -0 usock connect "$t" </dev/null
	[ -z "$output" ]
	if [ "$(id -u)" = 0 ] && nobody true 2>/dev/null; then
		local a
		a=$(abstract)
		it_bg_ready usock listen -k --ready-fd 9 "$a" >/dev/null 2>&1
		for i in $(seq 20); do
			run -69 nobody usock connect "$a" </dev/null
		done
	fi
}

@test "connect: a peer that ends its side first, then leaves part of our data unread, is exit 74, 20 runs" {
	local s in=$BATS_TEST_TMPDIR/in log=$BATS_TEST_TMPDIR/log i
	s=$(sock)
	# 100 kB: all of it fits in the socket, so the writer ends before
	# the peer has read it.
	head -c 100000 /dev/zero >"$in"
	python3 -c 'import socket,sys,os,time
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[1]); l.listen()
os.write(3, b"\n"); os.close(3)
for i in range(20):
    c, _ = l.accept(); c.shutdown(socket.SHUT_WR)
    time.sleep(0.05)  # a slow reader, on purpose
    n = len(c.recv(1000)); open(sys.argv[2], "a").write("%d\n" % n); c.close()' "$s" "$log" 3>"$BATS_TEST_TMPDIR/r" &
	it_track pid $!
	wait_for test -s "$BATS_TEST_TMPDIR/r"
	for i in $(seq 20); do
		run -74 usock connect "$s" <"$in"
		cut_short "$s" "$output" 100000 100000
	done
	[ "$(sort -u "$log")" = 1000 ]
}

@test "TCP: a peer that closes without reading is exit 74 for listen and for connect, 20 runs each" {
	local p q in=$BATS_TEST_TMPDIR/in i
	head -c 1000 /dev/urandom >"$in"
	p=$(free_port)
	for i in $(seq 20); do
		it_bg_ready usock listen --ready-fd 9 "tcp:127.0.0.1:$p" <"$in" >/dev/null 2>"$in.err"
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$p" 2>/dev/null ||
			usock test "tcp:127.0.0.1:$p"
		it_wait "$IT_PID"
		[ "$IT_STATUS" = 74 ]
	done
	q=$(free_port)
	it_bg_ready usock serve --ready-fd 9 "tcp:127.0.0.1:$q" -- true
	for i in $(seq 20); do
		run -74 usock connect "tcp:127.0.0.1:$q" <"$in"
		[[ $output == "usock: unable to write tcp:127.0.0.1:$q: "* ]]
	done
}

@test "send --seqpacket: a receiver that leaves records unread is exit 74, 20 runs; all read is 0" {
	local s out=$BATS_TEST_TMPDIR/out i
	s=$(sock)
	for i in $(seq 20); do
		it_bg_ready usock recv --seqpacket -n 1 --ready-fd 9 "$s" >"$out"
		# Refused at once (EPIPE) or found unread after (a reset).
		run -74 usock send --seqpacket "$s" a b c
		[[ $output == "usock: unable to send $s: Broken pipe" ||
			$output == "usock: unable to send $s: Connection reset by peer (the receiver did not read every record)" ]]
		it_wait "$IT_PID"
		[ "$(cat "$out")" = a ]
	done
	it_bg_ready usock recv --seqpacket -n 3 --ready-fd 9 "$s" >"$out"
	run -0 usock send --seqpacket "$s" a b c
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "$(printf 'a\nb\nc')" ]
}

@test "recv: once the reader of stdout has gone, the next message is not taken" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock recv --seqpacket --follow --ready-fd 9 "$s" > >(head -n 1 >"$out"; echo gone >"$out.gone")
	usock send --seqpacket "$s" a
	wait_for test -s "$out.gone"
	[ "$(cat "$out")" = a ]
	# recv ends once it sees the reader gone (before b or when b comes):
	# either way b is not taken, and its sender learns so (69 or 74).
	run usock send --seqpacket "$s" b
	[[ $status == 69 || $status == 74 ]]
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 141 ]
}

@test "recv into head -n 1: a burst's messages taken and not read are counted on stderr, 141; the sender's count agrees, 10 runs" {
	local s out=$BATS_TEST_TMPDIR/out i n
	for i in $(seq 10); do
		s=$(sock)
		rm -f "$out" "$out.end" "$out.n"
		it_bg_ready usock recv --follow --ready-fd 9 "$s" > >(head -n 1 >"$out"; : >"$out.end") 2>"$out.err"
		local recv=$IT_PID
		# Sends until refused, counting what the kernel accepted.
		python3 -c 'import socket,sys
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); n = 0
try:
    while n < 200:
        d.sendto(b"m%03d" % n, sys.argv[1]); n += 1
except OSError:
    pass
open(sys.argv[2], "w").write("%d\n" % n)' "$s" "$out.n" 3>&-
		it_wait "$recv"
		[ "$IT_STATUS" = 141 ]
		wait_for test -e "$out.end"
		[ "$(cat "$out")" = m000 ]
		n=$(cat "$out.n")
		if ((n > 1)); then
			[ "$(cat "$out.err")" = "usock: standard output has gone: $((n - 1)) message$( ((n == 2)) || echo s) received $( ((n == 2)) && echo was || echo were) not written out" ]
		else
			[ ! -s "$out.err" ]
		fi
	done
}

@test "recv: a message holding its own terminator is skipped with a line and exit 65, not written as two" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	it_bg_ready usock recv -n 2 --ready-fd 9 "$s" >"$out" 2>"$out.err"
	usock send --whole "$s" < <(printf 'a\nb')
	usock send "$s" one two
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 65 ]
	[ "$(cat "$out")" = "$(printf 'one\ntwo')" ]
	[ "$(cat "$out.err")" = "usock: skipped a message of 3 bytes from $s: it holds a newline (use --netstring)" ]
	it_bg_ready usock recv -n 1 --netstring --ready-fd 9 "$s" >"$out"
	usock send --whole "$s" < <(printf 'a\nb')
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "$(printf '3:a\nb,')" ]
}

@test "serve: forged UCSPI names do not reach CMD; a third stop signal ends a command that ignores SIGTERM" {
	local s out=$BATS_TEST_TMPDIR/out
	s=$(sock)
	TCPREMOTEHOST=evil UNIXREMOTEUSER=root UNIXLOCALPATH=zz IPCREMOTEEUID=0 \
		it_bg_ready usock serve --ready-fd 9 "$s" -- env
	run -0 usock connect "$s" </dev/null
	[[ $output != *evil* && $output != *UNIXREMOTEUSER* && $output != *UNIXLOCALPATH* && $output != *IPCREMOTE* ]]
	[[ $output == *"UNIXREMOTEEUID=$(id -u)"* ]]
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'trap "" TERM; echo started; exec sleep 30'
	local srv=$IT_PID i
	usock connect "$s" </dev/null >"$out" 3>&- &
	local c=$!
	it_track pid "$c"
	wait_for grep -q started "$out"
	# Signals sent at once merge into one: send them apart, until it ends.
	for i in $(seq 40); do
		kill -TERM "$srv" 2>/dev/null || break
		sleep 0.05
	done
	it_wait "$srv" 2
	[ "$IT_STATUS" = 0 ]
	it_wait "$c"
}

@test "serve: the third stop signal kills the command's whole process group, what it left in the background too" {
	local s out=$BATS_TEST_TMPDIR/out pidf=$BATS_TEST_TMPDIR/bgpid
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'trap "" TERM; sleep 100 & echo $! >"$1"; echo started' sh "$pidf"
	local srv=$IT_PID i
	usock connect "$s" </dev/null >"$out" 3>&- &
	local c=$!
	it_track pid "$c"
	wait_for grep -q started "$out"
	it_track pid "$(cat "$pidf")"
	[ "$(ps -o pgid= -p "$(cat "$pidf")" | tr -d ' ')" != "$(ps -o pgid= -p "$srv" | tr -d ' ')" ]
	# Signals sent at once merge into one: send them apart, until it ends.
	for i in $(seq 40); do
		kill -TERM "$srv" 2>/dev/null || break
		sleep 0.05
	done
	it_wait "$srv" 2
	[ "$IT_STATUS" = 0 ]
	if kill -0 "$(cat "$pidf")" 2>/dev/null; then
		echo "the background process of the command is still there" >&2
		return 1
	fi
	it_wait "$c" 5
	[ "$IT_STATUS" = 0 ]
}

@test "recv --follow stopped while its stdout is slow: every datagram a sender had accepted is written out, 5 runs" {
	local s out=$BATS_TEST_TMPDIR/out go=$BATS_TEST_TMPDIR/go i
	for i in $(seq 5); do
		s=$(sock)
		rm -f "$go" "$out" "$out.n" "$out.n.done" "$out.end"
		mkfifo "$go"
		# The reader of recv's stdout reads nothing until told.
		it_bg_ready usock recv --follow --ready-fd 9 "$s" > >(read -r _ <"$go"; cat >"$out"; : >"$out.end")
		local recv=$IT_PID
		# Sends until refused, counting what the kernel accepted.
		python3 -c 'import socket,sys
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); n = 0
try:
    while n < 100000:
        d.sendto(b"%06d" % n + b"x" * 9994, sys.argv[1]); n += 1
        open(sys.argv[2], "w").write("%d\n" % n)
except OSError:
    pass
open(sys.argv[2] + ".done", "w").write("%d\n" % n)' "$s" "$out.n" 3>&- &
		it_track pid $!
		# recv is blocked writing, the sender blocked on a full queue.
		wait_for test -s "$out.n"
		kill -TERM "$recv"
		echo go >"$go"
		it_wait "$recv"
		[ "$IT_STATUS" = 0 ]
		wait_for test -s "$out.n.done"
		wait_for test -e "$out.end"
		[ "$(wc -l <"$out")" = "$(cat "$out.n.done")" ]
	done
}

@test "echo x | connect to a server that answers and leaves before echo's end of the pipe closed: 0, nothing was lost (20 times)" {
	local s i
	s=$(sock)
	it_bg_ready usock serve --ready-fd 9 "$s" -- sh -c 'read -r q; echo "got $q"'
	for i in $(seq 20); do
		run -0 bash -c 'echo hello | usock connect "$1"' _ "$s"
		[ "$output" = "got hello" ]
	done
	# The same with a writer that closes its end 0.1 s after its last
	# byte (the scenario itself, not a wait): the peer is gone by then.
	run -0 bash -c '{ echo hello; sleep 0.1; } | usock connect "$1"' _ "$s"
	[ "$output" = "got hello" ]
	# What stdin still holds when the peer has gone is lost, and said.
	run -74 bash -c '{ echo hello; sleep 1; echo more; } | usock connect "$1"' _ "$s"
	[[ "$output" == *"the peer has gone before the end of standard input"* ]]
}
