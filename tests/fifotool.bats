#!/usr/bin/env bats
# fifotool: every command, option and exit status; the lecture notes'
# examples in shell; planted files and foreign FIFOs; killed peers; 1 GiB
# under a signal storm; coreutils interoperation; the bash completion.

load helper

# A FIFO path for this test, removed in teardown whatever happens.
fifo() {
	local p
	p=$(it_path "${1:-fifo}")
	it_track path "$p"
	echo "$p"
}

# The one line a failed run printed, exactly.
output_is() {
	if [ "$output" != "$1" ]; then
		printf 'expected: %s\nactual:   %s\n' "$1" "$output" >&2
		return 1
	fi
}

# How many bytes FIFO $1 holds that nobody has read (FIONREAD, asked
# through a writer end of our own, which neither reads nor writes).
fifo_unread() {
	python3 -c '
import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
print(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])' "$1"
}

unread_is() {
	[ "$(fifo_unread "$1")" = "$2" ]
}

unread_some() {
	(($(fifo_unread "$1") > 0))
}

# A world-writable sticky directory like /tmp that nobody can reach (the
# test's own directory may not be), removed in teardown.
sticky_dir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/fifotool-sticky.XXXXXX")
	chmod 1777 "$d"
	it_track path "$d"
	echo "$d"
}

@test "mk makes a FIFO with mode 0600, and --mode exactly whatever the umask" {
	local f g
	f=$(fifo)
	g=$(fifo)
	run -0 fifotool mk "$f"
	[ -p "$f" ]
	[ "$(stat -c %a "$f")" = 600 ]
	(umask 077 && fifotool mk --mode 0666 "$g")
	[ "$(stat -c %a "$g")" = 666 ]
}

@test "mk of an existing path is exit 73; --exist-ok accepts a FIFO only" {
	local f r
	f=$(fifo)
	r=$(fifo)
	fifotool mk "$f"
	run -73 fifotool mk "$f"
	output_is "fifotool: unable to create $f: File exists (use --exist-ok)"
	run -0 fifotool mk --exist-ok "$f"
	echo data >"$r"
	run -65 fifotool mk --exist-ok "$r"
	output_is "fifotool: unable to create $r: not a FIFO"
	[ "$(cat "$r")" = data ]
	# No advice that would only lead to the refusal above.
	run -73 fifotool mk "$r"
	output_is "fifotool: unable to create $r: File exists (not a FIFO)"
	[ "$(cat "$r")" = data ]
}

@test "mk makes several FIFOs; a missing directory is exit 66" {
	local f g
	f=$(fifo)
	g=$(fifo)
	run -0 fifotool mk "$f" "$g"
	[ -p "$f" ] && [ -p "$g" ]
	run -66 fifotool mk "$f.d/x"
	output_is "fifotool: unable to create $f.d/x: No such file or directory"
}

@test "mk --tmp makes a FIFO in a private directory; rm removes both" {
	local p d
	p=$(fifotool mk --tmp)
	d=${p%/fifo}
	it_track path "$d"
	[[ $d == "${TMPDIR:-/tmp}"/fifotool.?????? ]]
	[ -p "$p" ]
	[ "$(stat -c %a "$d")" = 700 ]
	[ "$(stat -c %a "$p")" = 600 ]
	run -0 fifotool rm "$p"
	[ ! -e "$d" ]
}

@test "rm leaves a directory that is not the empty private one of mk --tmp" {
	local d=$BATS_TEST_TMPDIR/fifotool.abcdef e=$BATS_TEST_TMPDIR/fifotool.ghijkl
	it_track path "$d"
	it_track path "$e"
	mkdir -m 755 "$d"
	mkdir -m 700 "$e"
	fifotool mk "$d/fifo" "$e/fifo"
	touch "$e/other"
	run -0 fifotool rm "$d/fifo" "$e/fifo"
	[ -d "$d" ] && [ -d "$e" ] && [ ! -e "$d/fifo" ] && [ ! -e "$e/fifo" ]
	rm "$e/other"
	fifotool mk "$e/fifo"
	run -0 fifotool rm "$e/fifo"
	[ ! -e "$e" ]
}

@test "rm removes FIFOs and refuses anything else, leaving it untouched" {
	local f g r d l
	f=$(fifo)
	g=$(fifo)
	r=$(fifo)
	d=$(fifo)
	l=$(fifo)
	fifotool mk "$f" "$g"
	run -0 fifotool rm "$f"
	[ ! -e "$f" ]
	echo data >"$r"
	mkdir "$d"
	ln -s "$g" "$l"
	for p in "$r" "$d" "$l"; do
		run -65 fifotool rm "$p"
		output_is "fifotool: unable to remove $p: not a FIFO"
	done
	[ -f "$r" ] && [ -d "$d" ] && [ -L "$l" ] && [ -p "$g" ]
	run -66 fifotool rm "$f"
	output_is "fifotool: unable to remove $f: No such file or directory"
}

@test "the notes: parent writes, the child blocks on read and gets the bytes as they stream" {
	local f src out w reader writer
	f=$(fifo)
	src=$(fifo src)
	out=$(it_path out)
	fifotool mk "$f"
	mkfifo "$src"
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	reader=$IT_PID
	exec {w}<>"$src"
	# The writer must not inherit our end of src, or its input never ends.
	it_bg_ready bash -c 'exec fifotool write --ready-fd 9 "$1" <"$2" '"$w>&-" _ "$f" "$src"
	writer=$IT_PID
	echo first >&"$w"
	wait_for grep -qx first "$out"
	kill -0 "$writer" && kill -0 "$reader"
	echo second >&"$w"
	wait_for grep -qx second "$out"
	exec {w}>&-
	it_wait "$writer"
	[ "$IT_STATUS" = 0 ]
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = $'first\nsecond' ]
}

@test "the notes: a named pipe outlives its creator, joins two unrelated processes, then goes" {
	local f out
	f=$(fifo)
	out=$(it_path out)
	bash -c 'fifotool mk "$1"' _ "$f"
	[ -p "$f" ]
	it_bg_ready bash -c 'exec fifotool read --ready-fd 9 "$1" >"$2"' _ "$f" "$out"
	bash -c 'echo "from another process" | fifotool write "$1"' _ "$f"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "from another process" ]
	run -0 fifotool rm "$f"
	[ ! -e "$f" ]
}

@test "write --nonblock without a reader is exit 1 at once" {
	local f
	f=$(fifo)
	fifotool mk "$f"
	run -1 fifotool write --nonblock "$f" </dev/null
	output_is "fifotool: unable to open $f: no reader"
}

@test "write --timeout without a reader is exit 1; with one it writes" {
	local f out
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	run -1 fifotool write --timeout 100ms "$f" </dev/null
	output_is "fifotool: unable to open $f: no reader in time"
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	run -0 fifotool write --timeout 10s "$f" <<<x
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = x ]
}

@test "read --timeout without a writer is exit 1" {
	local f
	f=$(fifo)
	fifotool mk "$f"
	run -1 fifotool read --timeout 100ms "$f"
	output_is "fifotool: unable to read $f: no writer in time"
}

@test "write --lines writes whole lines: concurrent writers never split one" {
	local f out i
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	it_bg_ready fifotool read --keep-open --ready-fd 9 "$f" >"$out"
	local reader=$IT_PID writers=()
	for i in 1 2 3; do
		it_bg_ready bash -c 'exec fifotool write --lines --ready-fd 9 "$2" < <(
			line=$(printf "w$1:%03000d" 0)
			for ((n = 0; n < 2000; n++)); do echo "$line"; done)' _ "$i" "$f"
		writers+=("$IT_PID")
	done
	for i in "${writers[@]}"; do
		it_wait "$i"
		[ "$IT_STATUS" = 0 ]
	done
	# What the writers wrote is in the FIFO now, and SIGTERM drains it.
	kill -TERM "$reader"
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	sort "$out" | uniq -c | awk '{ print $1, substr($2, 1, 6), length($2) }' >"$out.count"
	[ "$(cat "$out.count")" = $'2000 w1:000 3003\n2000 w2:000 3003\n2000 w3:000 3003' ]
}

@test "write --lines: a last line of exactly PIPE_BUF bytes without its newline goes" {
	local f out long
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	long=$(printf '%04096d' 0)
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	run -0 fifotool write --lines "$f" < <(printf 'ok\n%s' "$long")
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "ok"$'\n'"$long" ]
	# One byte more is a line too long, newline or not.
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	run -65 fifotool write --lines "$f" < <(printf 'ok\n%s0' "$long")
	output_is "fifotool: unable to write $f: a line is longer than PIPE_BUF (4096 bytes)"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = ok ]
}

@test "write --lines: a line of PIPE_BUF bytes goes, a longer one is exit 65" {
	local f out long
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	long=$(printf '%04095d' 0)
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	run -65 fifotool write --lines "$f" < <(printf 'ok\n%s\n%s0\nnever\n' "$long" "$long")
	output_is "fifotool: unable to write $f: a line is longer than PIPE_BUF (4096 bytes)"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "ok"$'\n'"$long" ]
}

@test "read --keep-open: three writers one after another, the reader stays for all" {
	local f out nth reader
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	it_bg_ready fifotool read --keep-open --ready-fd 9 "$f" >"$out"
	reader=$IT_PID
	# Not i: bats' run sets a global of that name.
	for nth in 1 2 3; do
		run -0 fifotool write "$f" <<<"writer $nth"
		wait_for grep -qx "writer $nth" "$out"
		kill -0 "$reader"
	done
	kill -TERM "$reader"
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = $'writer 1\nwriter 2\nwriter 3' ]
}

@test "read --keep-open ends on SIGINT, and on --timeout of idleness with exit 1" {
	local f
	f=$(fifo)
	fifotool mk "$f"
	it_bg_ready fifotool read --keep-open --ready-fd 9 "$f"
	kill -INT "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	run -1 fifotool read --keep-open --timeout 100ms "$f"
	output_is "fifotool: unable to read $f: no data in time"
}

@test "test: 0 with a reader, 1 without, 66 missing, 65 not a FIFO" {
	local f r out
	f=$(fifo)
	r=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	run -1 fifotool test "$f"
	[ -z "$output" ]
	it_bg_ready fifotool read --keep-open --ready-fd 9 "$f" >"$out"
	run -0 fifotool test "$f"
	# The probe is a writer that came and went: a --keep-open reader,
	# which holds a writer end of its own, reads on.
	run -0 fifotool test "$f"
	echo after | fifotool write "$f"
	wait_for test -s "$out"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = after ]
	# A plain reader still waiting for its first writer takes the probe
	# for a writer that wrote nothing: the end, as cat(1) would.
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	run -0 fifotool test "$f"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ ! -s "$out" ]
	run -66 fifotool test "$f.none"
	output_is "fifotool: unable to test $f.none: No such file or directory"
	touch "$r"
	run -65 fifotool test "$r"
	output_is "fifotool: unable to test $r: not a FIFO"
}

@test "read and write refuse a regular file, directory, socket and symlink" {
	local r d s l g
	r=$(fifo)
	d=$(fifo)
	s=$(fifo)
	l=$(fifo)
	g=$(fifo)
	echo data >"$r"
	mkdir "$d"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$s"
	fifotool mk "$g"
	ln -s "$g" "$l"
	for p in "$r" "$d" "$s" "$l"; do
		run -65 fifotool read "$p"
		output_is "fifotool: unable to open $p: not a FIFO"
		run -65 fifotool write --nonblock "$p" </dev/null
		output_is "fifotool: unable to open $p: not a FIFO"
	done
	[ "$(cat "$r")" = data ]
}

@test "a symlink planted in a sticky directory is never followed by mk, read or write" {
	need_other_user
	local d target
	d=$(sticky_dir)
	target=$d/target
	as_nobody ln -s "$target" "$d/f"
	run -73 fifotool mk "$d/f"
	run -65 fifotool mk --exist-ok "$d/f"
	output_is "fifotool: unable to create $d/f: not a FIFO"
	run -65 fifotool write --nonblock "$d/f" <<<x
	run -65 fifotool read --timeout 1s "$d/f"
	[ ! -e "$target" ]
}

@test "a FIFO another user owns is refused without --any-owner" {
	need_other_user
	local d out
	d=$(sticky_dir)
	out=$(it_path out)
	as_nobody fifotool mk --mode 0666 "$d/f"
	[ "$(stat -c %U "$d/f")" = nobody ]
	local uid
	uid=$(id -u nobody)
	run -77 fifotool read "$d/f"
	output_is "fifotool: unable to open $d/f: owned by uid $uid, not by us (use --any-owner)"
	run -77 fifotool write --nonblock "$d/f" <<<x
	run -77 fifotool test "$d/f"
	run -77 fifotool mk --exist-ok "$d/f"
	run -77 fifotool rm "$d/f"
	run -1 fifotool test --any-owner "$d/f"
	it_bg_ready fifotool read --any-owner --ready-fd 9 "$d/f" >"$out"
	as_nobody fifotool write --timeout 5s "$d/f" <<<"from nobody"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "from nobody" ]
	run -0 fifotool rm --any-owner "$d/f"
}

@test "write exits 0 only once a reader took every byte: one that left without reading is 74" {
	command -v python3 >/dev/null || skip "needs python3 for FIONREAD"
	local f gate r
	f=$(fifo)
	gate=$(fifo gate)
	fifotool mk "$f" "$gate"
	# A reader that opens the FIFO (read-write, so that the open does not
	# wait for a writer), says so, and leaves at the gate without reading
	# a byte.
	it_bg_ready bash -c 'exec 4<>"$1"; echo >&9; exec 9>&-; read -r _ <"$2"' _ "$f" "$gate"
	r=$IT_PID
	it_bg bash -c 'printf hello | fifotool write "$1" 2>"$1.err"' _ "$f"
	# The 5 bytes are in the FIFO, the writer waits for them to be read.
	wait_for unread_is "$f" 5
	kill -0 "$IT_PID"
	echo >"$gate"
	it_wait "$r"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 74 ]
	[ "$(cat "$f.err")" = "fifotool: unable to write $f: its reader went away with 5 bytes unread" ]
	rm -f "$f.err"
}

@test "a reader gone mid-stream with bytes unread: write says how many, --lines too" {
	command -v python3 >/dev/null || skip "needs python3 for FIONREAD"
	local f gate r opt
	f=$(fifo)
	gate=$(fifo gate)
	fifotool mk "$f" "$gate"
	for opt in "" --lines; do
		# A reader that never reads: the writer fills the FIFO and waits.
		it_bg_ready bash -c 'exec 4<>"$1"; echo >&9; exec 9>&-; read -r _ <"$2"' _ "$f" "$gate"
		r=$IT_PID
		it_bg bash -c 'yes | head -c 200000 | fifotool write $2 "$1" 2>"$1.err"' _ "$f" "$opt"
		wait_for unread_some "$f"
		echo >"$gate"
		it_wait "$r"
		it_wait "$IT_PID"
		[ "$IT_STATUS" -eq 74 ]
		[[ $(cat "$f.err") =~ ^fifotool:\ unable\ to\ write\ $f:\ its\ reader\ went\ away\ with\ [1-9][0-9]*\ bytes\ unread$ ]]
		rm -f "$f.err"
	done
}

@test "writer killed mid-stream: the reader ends normally with what it got" {
	local f src out w
	f=$(fifo)
	src=$(fifo src)
	out=$(it_path out)
	fifotool mk "$f"
	mkfifo "$src"
	exec {w}<>"$src"
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	local reader=$IT_PID
	it_bg_ready bash -c 'exec fifotool write --ready-fd 9 "$1" <"$2"' _ "$f" "$src"
	echo part >&"$w"
	wait_for grep -qx part "$out"
	kill -KILL "$IT_PID"
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = part ]
	exec {w}>&-
}

@test "reader killed: the writer exits 74 with one message, not SIGPIPE" {
	local f src out err w
	f=$(fifo)
	src=$(fifo src)
	out=$(it_path out)
	err=$(it_path err)
	fifotool mk "$f"
	mkfifo "$src"
	exec {w}<>"$src"
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	local reader=$IT_PID
	it_bg_ready bash -c 'exec fifotool write --ready-fd 9 "$1" <"$2" 2>"$3"' _ "$f" "$src" "$err"
	local writer=$IT_PID
	echo part >&"$w"
	wait_for grep -qx part "$out"
	kill -KILL "$reader"
	it_wait "$reader"
	echo more >&"$w"
	it_wait "$writer"
	[ "$IT_STATUS" = 74 ]
	[ "$(cat "$err")" = "fifotool: unable to write $f: Broken pipe" ]
	exec {w}>&-
}

# 64 MiB of random bytes sixteen times over, each copy after its number,
# so that a lost, doubled or reordered block changes the checksum.
gib() {
	local i
	for ((i = 0; i < 16; i++)); do
		printf '%016d' "$i"
		cat "$1"
	done
}

@test "1 GiB through write and read arrives byte-identical" {
	local f rnd sum
	f=$(fifo)
	rnd=$(it_path rnd)
	sum=$(it_path sum)
	fifotool mk "$f"
	head -c 64M /dev/urandom >"$rnd"
	it_bg_ready fifotool read --ready-fd 9 "$f" > >(md5sum >"$sum")
	local reader=$IT_PID
	gib "$rnd" | fifotool write "$f"
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	wait_for test -s "$sum"
	[ "$(cat "$sum")" = "$(gib "$rnd" | md5sum)" ]
	rm -f "$rnd"
}

@test "1 GiB arrives byte-identical under a SIGALRM storm against both ends" {
	local f rnd sum n=0
	f=$(fifo)
	rnd=$(it_path rnd)
	sum=$(it_path sum)
	fifotool mk "$f"
	head -c 64M /dev/urandom >"$rnd"
	# SIGALRM has a handler without SA_RESTART in both tools, so every one
	# breaks the blocking call in progress with EINTR.
	it_bg_ready fifotool read --ready-fd 9 "$f" > >(md5sum >"$sum")
	local reader=$IT_PID
	export -f gib
	it_bg_ready bash -c 'exec fifotool write --ready-fd 9 "$1" < <(gib "$2")' _ "$f" "$rnd"
	local writer=$IT_PID
	local st=R
	while [ "$st" != Z ] && kill -ALRM "$writer" "$reader" 2>/dev/null; do
		n=$((n + 1))
		read -r _ _ st _ <"/proc/$writer/stat" || break
	done
	it_wait "$writer"
	[ "$IT_STATUS" = 0 ]
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	wait_for test -s "$sum"
	[ "$(cat "$sum")" = "$(gib "$rnd" | md5sum)" ]
	echo "signals sent: $n" >&3
	[ "$n" -gt 100 ]
	rm -f "$rnd"
}

@test "coreutils: mkfifo and fifotool read; fifotool mk and cat" {
	local f g out
	f=$(fifo)
	g=$(fifo)
	out=$(it_path out)
	mkfifo -m 600 "$f"
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	echo "to fifotool" >"$f"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "to fifotool" ]
	fifotool mk "$g"
	it_bg bash -c 'exec cat "$1" >"$2"' _ "$g" "$out"
	echo "to cat" | fifotool write "$g"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = "to cat" ]
}

@test "an empty PATH is a usage error for every command" {
	local c
	for c in mk rm write read test; do
		run -64 fifotool "$c" ''
		[ "${lines[0]}" = "fifotool: invalid path '': empty" ]
	done
	run -64 fifotool mk "$(it_path x)" ''
	[ "${lines[0]}" = "fifotool: invalid path '': empty" ]
}

@test "read into a file over RLIMIT_FSIZE is exit 74, saying what was lost" {
	local f out w
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	# splice(2) takes from the FIFO only what the file took: nothing lost.
	it_bg bash -c 'head -c 10000 /dev/zero | fifotool write "$1" 2>/dev/null' _ "$f"
	w=$IT_PID
	run -74 bash -c 'ulimit -f 1; fifotool read "$1" >"$2"' _ "$f" "$out"
	output_is "fifotool: unable to write standard output: File too large"
	[ "$(stat -c %s "$out")" = 1024 ]
	it_wait "$w"
	# An O_APPEND file cannot be spliced into: what was read and not
	# written is counted.
	rm "$out"
	it_bg bash -c 'head -c 10000 /dev/zero | fifotool write "$1" 2>/dev/null' _ "$f"
	w=$IT_PID
	run -74 bash -c 'ulimit -f 1; fifotool read "$1" >>"$2"' _ "$f" "$out"
	[[ $output =~ ^fifotool:\ unable\ to\ write\ standard\ output:\ File\ too\ large\ \(([0-9]+)\ bytes\ read\ from\ $f\ were\ lost\)$ ]]
	local lost=${BASH_REMATCH[1]}
	[ "$(stat -c %s "$out")" = 1024 ]
	((lost > 0 && lost <= 10000 - 1024))
	it_wait "$w"
}

@test "usage errors are exit 64 with one line" {
	run -64 fifotool
	[ "${lines[0]}" = "fifotool: missing command: mk, rm, write, read or test" ]
	run -64 fifotool frob x
	[ "${lines[0]}" = "fifotool: unknown command 'frob'" ]
	run -64 fifotool write --keep-open x
	[ "${lines[0]}" = "fifotool: cannot use --keep-open with write" ]
	run -64 fifotool read --lines x
	[ "${lines[0]}" = "fifotool: cannot use --lines with read" ]
	run -64 fifotool rm --mode 0600 x
	[ "${lines[0]}" = "fifotool: cannot use --mode with rm" ]
	run -64 fifotool mk --tmp --exist-ok
	[ "${lines[0]}" = "fifotool: cannot use --exist-ok with --tmp" ]
	run -64 fifotool mk --tmp x
	[ "${lines[0]}" = "fifotool: mk --tmp takes no PATH" ]
	run -64 fifotool write --nonblock --timeout 1s x
	[ "${lines[0]}" = "fifotool: cannot use --timeout with --nonblock" ]
	run -64 fifotool read x y
	[ "${lines[0]}" = "fifotool: read takes one PATH" ]
	run -64 fifotool test
	[ "${lines[0]}" = "fifotool: test needs a PATH" ]
	run -64 fifotool mk --mode 0999 x
	[ "${lines[0]}" = "fifotool: invalid mode '0999'" ]
	run -64 fifotool read --timeout 1x x
	[ "${lines[0]}" = "fifotool: invalid duration '1x'" ]
	run -64 fifotool read --ready-fd 99 x
	[ "${lines[0]}" = "fifotool: invalid file descriptor '99': not an open file descriptor" ]
}

@test "the man page's SYNOPSIS names the same commands as --usage" {
	local man=$BATS_TEST_DIRNAME/../man/fifotool.1 c
	for c in mk rm write read test; do
		fifotool --usage | grep -q " $c "
		grep -q "^\.Cm $c" "$man"
	done
}

complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_fifotool fifotool
}

@test "completion: commands, each command's options from --help, and paths" {
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/fifotool"
	complete_words fifotool ""
	[ "${COMPREPLY[*]}" = "mk rm write read test" ]
	complete_words fifotool w
	[ "${COMPREPLY[*]}" = write ]
	complete_words fifotool read --k
	[ "${COMPREPLY[*]}" = --keep-open ]
	complete_words fifotool write --
	[[ " ${COMPREPLY[*]} " == *" --lines "* && " ${COMPREPLY[*]} " != *" --keep-open "* ]]
	complete_words fifotool mk --t
	[ "${COMPREPLY[*]}" = --tmp ]
	local f
	f=$(fifo named)
	fifotool mk "$f"
	complete_words fifotool read "${f%.*}"
	[ "${COMPREPLY[*]}" = "$f" ]
}

# Every command's options, as the completion offers them after "CMD --".
@test "completion: each command is offered exactly the options it takes" {
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/fifotool"
	local common="--any-owner --help --usage --version"
	complete_words fifotool mk --
	[ "${COMPREPLY[*]}" = "--any-owner --exist-ok --mode= --tmp --help --usage --version" ]
	complete_words fifotool rm --
	[ "${COMPREPLY[*]}" = "$common" ]
	complete_words fifotool write --
	[ "${COMPREPLY[*]}" = "--any-owner --lines --nonblock --ready-fd= --timeout= --help --usage --version" ]
	complete_words fifotool read --
	[ "${COMPREPLY[*]}" = "--any-owner --keep-open --ready-fd= --timeout= --help --usage --version" ]
	complete_words fifotool test --
	[ "${COMPREPLY[*]}" = "$common" ]
	complete_words fifotool read --ti
	[ "${COMPREPLY[*]}" = --timeout= ]
	complete_words fifotool -w 1s read --ti
	[ "${COMPREPLY[*]}" = --timeout= ]
	# And fifotool itself refuses every option not offered.
	local c o all
	complete_words fifotool --
	all=("${COMPREPLY[@]}")
	for c in mk rm write read test; do
		complete_words fifotool "$c" --
		for o in "${all[@]}"; do
			[[ " ${COMPREPLY[*]} " == *" $o "* ]] && continue
			# A value each option takes: fd 9 is open, and --ready-fd
			# refuses 0, 1 and 2.
			case $o in
			--mode=) o=--mode=0600 ;;
			--ready-fd=) o=--ready-fd=9 ;;
			*=) o=${o}1 ;;
			esac
			run -64 fifotool "$c" "$o" "$BATS_TEST_TMPDIR/x" 9>&2
			o=${o%%=*}
			[ "${lines[0]}" = "fifotool: cannot use $o with $c" ]
		done
	done
}

# "--mode=06": three words "--mode" "=" "06" where '=' is in
# COMP_WORDBREAKS (bash's default); one word, replaced whole, where not.
@test "completion: --mode= values, split at '=' or not; no values for --timeout=" {
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/fifotool"
	complete_words fifotool mk --mode = 064
	[ "${COMPREPLY[*]}" = "0640 0644" ]
	complete_words fifotool mk --mode =
	[[ " ${COMPREPLY[*]} " == *" 0600 "* ]]
	complete_words fifotool mk --mode=064
	[ "${COMPREPLY[*]}" = "--mode=0640 --mode=0644" ]
	complete_words fifotool mk -m 066
	[ "${COMPREPLY[*]}" = "0660 0666" ]
	complete_words fifotool read --timeout =
	[ "${#COMPREPLY[@]}" -eq 0 ]
	complete_words fifotool read --timeout = 1
	[ "${#COMPREPLY[@]}" -eq 0 ]
	complete_words fifotool write --ready-fd=
	[ "${#COMPREPLY[@]}" -eq 0 ]
}

# A TMPDIR of this test's own for mk --tmp, so that what it leaves is seen.
own_tmpdir() {
	TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir "$TMPDIR"
	export TMPDIR
}

@test "mk --tmp that cannot print the path exits 74 and leaves no FIFO or directory" {
	own_tmpdir
	run -74 bash -c 'fifotool mk --tmp >&-'
	output_is "fifotool: unable to write standard output: Bad file descriptor"
	[ -z "$(ls -A "$TMPDIR")" ]
	run -74 bash -c 'fifotool mk --tmp >/dev/full'
	output_is "fifotool: unable to write standard output: No space left on device"
	[ -z "$(ls -A "$TMPDIR")" ]
	# A pipe whose reader is gone: EPIPE, not death by SIGPIPE mid-way.
	run -74 python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w))' fifotool mk --tmp
	output_is "fifotool: unable to write standard output: Broken pipe"
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "--help, --usage, --version into a full or closed stdout are exit 74" {
	local opt
	for opt in --help --usage --version; do
		run -74 bash -c 'fifotool "$1" >/dev/full' _ "$opt"
		output_is "fifotool: unable to write standard output: No space left on device"
		run -74 bash -c 'fifotool "$1" >&-' _ "$opt"
		output_is "fifotool: unable to write standard output: Bad file descriptor"
	done
}

@test "read into a closed stdout is exit 74 before it takes a byte from the FIFO" {
	local f fd data
	f=$(fifo)
	fifotool mk "$f"
	exec {fd}<>"$f"
	printf 'kept\n' >&"$fd"
	run -74 bash -c 'fifotool read "$1" >&-' _ "$f"
	output_is "fifotool: unable to write standard output: Bad file descriptor"
	run -74 bash -c 'fifotool read --keep-open -w 2s "$1" >&-' _ "$f"
	output_is "fifotool: unable to write standard output: Bad file descriptor"
	read -r -t 1 data <&"$fd"
	exec {fd}>&-
	[ "$data" = kept ]
}

@test "rm, test and mk PATH write nothing to stdout: a closed one changes nothing" {
	local f
	f=$(fifo)
	run -0 bash -c 'fifotool mk "$1" >&-' _ "$f"
	[ -p "$f" ]
	run -1 bash -c 'fifotool test "$1" >&-' _ "$f"
	[ -z "$output" ]
	run -0 bash -c 'fifotool rm "$1" >&-' _ "$f"
	[ ! -e "$f" ]
}

# Needs lib/err.c to escape the OBJECT of a message (issue 8, the lead's).
@test "a newline in a PATH is shown escaped: every message stays one line" {
	cd "$BATS_TEST_TMPDIR"
	run -66 fifotool rm $'a\nb'
	output_is 'fifotool: unable to remove a\nb: No such file or directory'
	run -66 fifotool read $'a\nb'
	output_is 'fifotool: unable to open a\nb: No such file or directory'
	touch $'c\nd'
	run -65 fifotool test $'c\nd'
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == 'fifotool: unable to test c\nd: '* ]]
}

@test "write with a closed stdin is exit 74 before it opens the FIFO: the reader goes on waiting" {
	local f out
	f=$(fifo)
	out=$(it_path out)
	fifotool mk "$f"
	it_bg_ready fifotool read --ready-fd 9 "$f" >"$out"
	run -74 bash -c 'fifotool write "$1" <&-' _ "$f"
	output_is "fifotool: unable to read standard input: Bad file descriptor"
	run -0 fifotool write --nonblock "$f" <<<data
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$out")" = data ]
}

is_stopped() {
	[[ $(ps -o stat= -p "$1") == T* ]]
}

@test "write -w bounds a reader that stops reading: exit 1 saying how much is unread, also --lines and the final wait; a slow reader is no stall" {
	local f py out
	f=$(it_path f)
	out=$(it_path out)
	fifotool mk "$f"
	# A reader that opens the FIFO and stops, never reading.
	it_bg python3 -c '
import os, signal, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
os.kill(os.getpid(), signal.SIGSTOP)' "$f"
	py=$IT_PID
	wait_for is_stopped "$py"
	run -1 bash -c 'head -c 200000 /dev/zero | timeout "$2" fifotool write -w 0.3 "$1"' _ "$f" "$IT_DEADLINE"
	[ "$output" = "fifotool: unable to write $f: timed out: its reader took nothing within the --timeout, 65536 bytes unread" ]
	# The FIFO is full now: a --lines write cannot even begin.
	run -1 bash -c 'echo hello | timeout "$2" fifotool write --lines -w 0.3 "$1"' _ "$f" "$IT_DEADLINE"
	[[ $output == "fifotool: unable to write $f: timed out: its reader took nothing within the --timeout, 65536 bytes unread; 6 bytes read from standard input were not written" ]]
	kill -KILL "$py"
	it_wait "$py" || true
	# The final wait for the FIFO to empty is bounded too.
	it_bg python3 -c '
import os, signal, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
os.kill(os.getpid(), signal.SIGSTOP)' "$f"
	py=$IT_PID
	wait_for is_stopped "$py"
	run -1 bash -c 'echo hello | timeout "$2" fifotool write -w 0.3 "$1"' _ "$f" "$IT_DEADLINE"
	[ "$output" = "fifotool: unable to write $f: timed out: its reader took nothing within the --timeout, 6 bytes unread" ]
	kill -KILL "$py"
	it_wait "$py" || true
	# A reader that takes a little at a time never lets -w pass.
	it_bg bash -c 'fifotool read "$1" | while read -r -n 4096 _; do :; done; echo done >"$2"' _ "$f" "$out"
	run -0 bash -c 'head -c 300000 /dev/zero | tr "\0" x | fifotool write -w 5 "$1"' _ "$f"
	it_wait "$IT_PID"
	[ "$(cat "$out")" = "done" ]
}
