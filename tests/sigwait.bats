#!/usr/bin/env bats
# sigwait: blocking first, one line per signal, queued real-time signals and
# merged standard ones, --exec, readiness, pidfiles, every exit status.

load helper

# Starts sigwait in the background with its output in $OUT, once it is ready.
bg_sigwait() {
	OUT=$(it_path out)
	it_bg_ready sigwait --ready-fd 9 "$@" >"$OUT"
}

# True once process $1 is stopped.
stopped() {
	[[ $(ps -o stat= -p "$1") == T* ]]
}

@test "a signal from sigsend prints one line with the sender's pid and uid" {
	bg_sigwait -s USR1
	run -0 sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[[ $(cat "$OUT") =~ ^SIGUSR1\ signo=10\ pid=[0-9]+\ uid=$(id -u)$ ]]
}

@test "a queued value is shown, and only when there is one" {
	bg_sigwait -s RTMIN+2 -s USR2 -n 2
	sigsend -s RTMIN+2 -q 42 "$IT_PID"
	sigsend -s USR2 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[[ $(sed -n 1p "$OUT") =~ ^SIGUSR2\ signo=12\ pid=[0-9]+\ uid=[0-9]+$ ]] ||
		[[ $(sed -n 2p "$OUT") =~ ^SIGUSR2\ signo=12\ pid=[0-9]+\ uid=[0-9]+$ ]]
	grep -Eqx 'SIGRTMIN\+2 signo=36 pid=[0-9]+ uid=[0-9]+ value=42' "$OUT"
}

@test "--format prints the escapes, and refuses an unknown one" {
	bg_sigwait -s USR1 --format '%S|%s|%n|%u|%c|%v|%%'
	sigsend -s USR1 -q -7 "$IT_PID"
	it_wait "$IT_PID"
	[ "$(cat "$OUT")" = "SIGUSR1|USR1|10|$(id -u)|queue|-7|%" ]
	run -64 sigwait --format 'x %q'
	[ "${lines[0]}" = "sigwait: invalid format 'x %q': %q is not an escape" ]
}

@test "-n COUNT takes COUNT signals, then exits 0" {
	bg_sigwait -s HUP -n 3 --format %s
	for _ in 1 2 3; do
		sigsend -s HUP "$IT_PID"
		wait_for grep -q . "$OUT"
	done
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(wc -l <"$OUT")" -eq 3 ]
}

@test "-w: no signal in time is exit 1, with nothing printed" {
	run -1 sigwait -s USR1 -w 100ms
	[ -z "$output" ]
}

@test "--exit-status exits 128 plus the signal's number" {
	bg_sigwait -s USR2 --exit-status
	sigsend -s USR2 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 140 ]
}

@test "standard signals merge while blocked; real-time ones queue with their values, in order" {
	local log mark gate
	log=$(it_path log) mark=$(it_path mark) gate=$(it_path gate)
	mkfifo "$gate"
	# The first signal's command blocks on the gate: meanwhile sigwait
	# keeps every signal blocked and pending.
	it_bg_ready sigwait --ready-fd 9 -s USR1 -s USR2 -s RTMIN -n 103 -- bash -c '
		echo "$SIGNAL ${SIGVALUE-}" >>"$1"
		[ -e "$2" ] || { : >"$2"; read -r _ <"$3"; }' _ "$log" "$mark" "$gate"
	sigsend -s USR1 "$IT_PID"
	wait_for test -e "$mark"
	local hundred=() values=() i
	for ((i = 1; i <= 100; i++)); do
		hundred+=("$IT_PID") values+=(-q "$i")
	done
	run -0 sigsend -s USR1 "${hundred[@]}"
	run -0 sigsend -s RTMIN "${values[@]}" "$IT_PID"
	run -0 sigsend -s USR2 "$IT_PID"
	echo >"$gate"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	diff "$log" <(printf 'SIGUSR1 \nSIGUSR1 \nSIGUSR2 \n'; seq -f 'SIGRTMIN %g' 100)
}

@test "10,000 real-time signals carrying 1..10000 all arrive, in order" {
	bg_sigwait -s RTMIN+1 -n 10000 --format %v
	local args=() i
	for ((i = 1; i <= 10000; i++)); do
		args+=(-q "$i")
	done
	run -0 sigsend -s RTMIN+1 "${args[@]}" "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	cmp "$OUT" <(seq 10000)
}

@test "--forever keeps printing, a line at a time" {
	bg_sigwait -s USR1 --forever --format %v
	local i
	for i in 1 2 3; do
		sigsend -s USR1 -q "$i" "$IT_PID"
		wait_for grep -qx "$i" "$OUT"
	done
	kill -0 "$IT_PID"
}

@test "-s CHLD with a command: the command's exit, stop and continue are not signals" {
	local log pf
	log=$(it_path log) pf=$(it_path pid)
	# The command stops itself once; the test continues it. None of its
	# exit, stop or continue may come back as a SIGCHLD for sigwait.
	it_bg_ready sigwait --ready-fd 9 -s CHLD -n 2 -w 1s -- sh -c '
		echo run >>"$0"
		[ -e "$1" ] && exit 0
		echo $$ >"$1"
		kill -STOP $$' "$log" "$pf"
	sigsend -s CHLD "$IT_PID"
	wait_for test -s "$pf"
	wait_for stopped "$(cat "$pf")"
	kill -CONT "$(cat "$pf")"
	it_wait "$IT_PID" 5
	[ "$IT_STATUS" -eq 1 ]
	[ "$(cat "$log")" = run ]
}

@test "-w holds while signals stay pending" {
	local log args=() i
	log=$(it_path log)
	for ((i = 1; i <= 200; i++)); do
		args+=(-q "$i")
	done
	it_bg_ready sigwait --ready-fd 9 -s RTMIN --forever -w 300ms -- \
		sh -c 'echo "$SIGVALUE" >>"$0"; sleep 0.05' "$log"
	sigsend -s RTMIN "${args[@]}" "$IT_PID"
	# Taking all 200 would need at least 10 s.
	it_wait "$IT_PID" 5
	[ "$IT_STATUS" -eq 1 ]
	[ "$(wc -l <"$log")" -lt 50 ]
	[ "$(head -n 1 "$log")" = 1 ]
}

@test "--exec runs the command with the signal in its environment, one at a time" {
	local log
	log=$(it_path log)
	it_bg_ready sigwait --ready-fd 9 -s RTMIN -n 2 --exec sh -c \
		'echo "$SIGNAL $SIGNO $SIGPID $SIGUID ${SIGVALUE-none} $1" >>"$0"' "$log" -n
	sigsend -s RTMIN "$IT_PID"
	sigsend -s RTMIN -q 5 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(wc -l <"$log")" -eq 2 ]
	grep -Eqx "SIGRTMIN 34 [0-9]+ $(id -u) none -n" "$log"
	grep -Eqx "SIGRTMIN 34 [0-9]+ $(id -u) 5 -n" "$log"
}

@test "the command runs with the signal mask sigwait started with" {
	local log
	log=$(it_path log)
	it_bg_ready sigwait --ready-fd 9 -s USR1 -- sh -c 'grep SigBlk /proc/self/status >"$0"' "$log"
	sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$(cat "$log")" = "$(grep SigBlk /proc/self/status)" ]
}

@test "bash's builtin kill wakes sigwait" {
	bg_sigwait -s USR1
	kill -USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$(cat "$OUT")" = "SIGUSR1 signo=10 pid=$BASHPID uid=$(id -u)" ]
}

@test "kill -q VALUE from procps wakes sigwait with the value" {
	/usr/bin/kill --help 2>&1 | grep -q -- '--queue' || skip "this kill has no -q"
	bg_sigwait -s USR1
	/usr/bin/kill -s USR1 -q 42 "$IT_PID"
	it_wait "$IT_PID"
	[[ $(cat "$OUT") =~ ^SIGUSR1\ signo=10\ pid=[0-9]+\ uid=[0-9]+\ value=42$ ]]
}

@test "--pidfile is written once the mask is set, and removed on exit" {
	local pf
	pf=$(it_path pid)
	bg_sigwait -s USR1 --pidfile "$pf"
	[ "$(cat "$pf")" = "$IT_PID" ]
	[ "$(stat -c %a "$pf")" = 644 ]
	sigsend -s USR1 -p "$pf"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ ! -e "$pf" ]
	# Nor a temporary file left from the atomic write.
	! compgen -G "$pf.*"
}

@test "TERM while waiting removes the pidfile and ends sigwait by TERM" {
	local pf
	pf=$(it_path pid)
	bg_sigwait -s USR1 --pidfile "$pf"
	sigsend -s TERM -p "$pf"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 143 ]
	[ ! -e "$pf" ]
}

@test "any unwaited fatal signal removes the pidfile, then ends sigwait by it" {
	local pf sig
	# INT and QUIT are ignored in a background job of a script, and stay
	# so: the others stand for them.
	for sig in HUP USR2 ALRM PIPE TERM VTALRM RTMIN+3 RTMAX; do
		pf=$(it_path pid)
		bg_sigwait -s USR1 --pidfile "$pf"
		sigsend -s "$sig" -p "$pf"
		it_wait "$IT_PID"
		[ "$IT_STATUS" -eq $((128 + $(sigsend -l "$sig"))) ]
		[ ! -e "$pf" ]
	done
}

@test "a TERM while the last command runs is not swallowed" {
	local pf mark gate
	pf=$(it_path pid) mark=$(it_path mark) gate=$(it_path gate)
	mkfifo "$gate"
	it_bg_ready sigwait --ready-fd 9 -s USR1 -n 1 --pidfile "$pf" -- \
		sh -c ': >"$0"; read -r _ <"$1"' "$mark" "$gate"
	sigsend -s USR1 "$IT_PID"
	wait_for test -e "$mark"
	sigsend -s TERM "$IT_PID"
	echo >"$gate"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 143 ]
	[ ! -e "$pf" ]
}

@test "--pidfile refuses to replace a symlink (77)" {
	local pf target
	pf=$(it_path pid) target=$(it_path target)
	echo keep >"$target"
	ln -s "$target" "$pf"
	run -77 sigwait -s USR1 --pidfile "$pf"
	[ "$output" = "sigwait: unable to write pidfile $pf: it is a symbolic link, refusing to replace it" ]
	[ "$(cat "$target")" = keep ]
}

@test "--pidfile where we may not write is exit 77" {
	need_other_user
	local dir
	dir=$(it_path dir)
	mkdir -m 755 "$dir"
	run -77 as_nobody sigwait -s USR1 --pidfile "$dir/x.pid"
	[ "$output" = "sigwait: unable to write pidfile $dir/x.pid: Permission denied" ]
}

@test "--pidfile of another user than us and root is left alone (77)" {
	[ "$(id -u)" = 0 ] || skip "needs root to give a file away"
	local pf
	pf=$(it_path pid)
	echo 4242 >"$pf"
	chown 65534 "$pf"
	run -77 sigwait -s USR1 -w 5s --pidfile "$pf"
	[ "$output" = "sigwait: unable to write pidfile $pf: owned by uid 65534, neither us nor root, refusing it" ]
	[ "$(cat "$pf")" = 4242 ]
	[ "$(stat -c %u "$pf")" = 65534 ]
	! compgen -G "$pf.*"
}

@test "--pidfile naming a live instance is exit 73: the first keeps its pidfile" {
	local pf first
	pf=$(it_path pid)
	bg_sigwait -s USR1 --pidfile "$pf"
	first=$IT_PID
	run -73 sigwait -s USR1 -w 5s --pidfile "$pf"
	[ "$output" = "sigwait: unable to write pidfile $pf: it names pid $first, which is running" ]
	[ "$(cat "$pf")" = "$first" ]
	[ -z "$(compgen -G "$pf.*")" ]
	run -0 sigsend -s USR1 -p "$pf"
	it_wait "$first"
	[ "$IT_STATUS" -eq 0 ]
	[ ! -e "$pf" ]
}

@test "two instances started at once on one pidfile: one gets it, the other is 73" {
	local r pf a b who st other
	for ((r = 0; r < 10; r++)); do
		pf=$(it_path pid)
		sigwait -s USR1 -w 10s --pidfile "$pf" 3>&- &
		a=$!
		sigwait -s USR1 -w 10s --pidfile "$pf" 3>&- &
		b=$!
		it_track pid "$a"
		it_track pid "$b"
		st=0
		wait -n -p who "$a" "$b" || st=$?
		[ "$st" -eq 73 ]
		other=$a
		[ "$who" != "$a" ] || other=$b
		[ "$(cat "$pf")" = "$other" ]
		sigsend -s USR1 -p "$pf"
		it_wait "$other"
		[ "$IT_STATUS" -eq 0 ]
		[ ! -e "$pf" ]
	done
}

@test "--pidfile replaces a stale one: a dead pid, junk, or a process younger than the file" {
	local pf content
	pf=$(it_path pid)
	it_bg true
	it_wait "$IT_PID"
	for content in "$IT_PID" junk ""; do
		printf '%s\n' "$content" >"$pf"
		bg_sigwait -s USR1 --pidfile "$pf"
		[ "$(cat "$pf")" = "$IT_PID" ]
		sigsend -s USR1 -p "$pf"
		it_wait "$IT_PID"
		[ "$IT_STATUS" -eq 0 ]
	done
	# A live process that started after the file was last written did
	# not write it: its pid was recycled.
	it_bg sleep 1000
	echo "$IT_PID" >"$pf"
	touch -d "@$(($(date +%s) - 60))" "$pf"
	bg_sigwait -s USR1 --pidfile "$pf"
	[ "$(cat "$pf")" = "$IT_PID" ]
	sigsend -s USR1 -p "$pf"
	it_wait "$IT_PID"
}

@test "a pidfile rewritten in place for another pid is left at exit" {
	local pf sw
	pf=$(it_path pid)
	bg_sigwait -s USR1 --pidfile "$pf"
	sw=$IT_PID
	it_bg sleep 1000
	# The same inode, another content: truncated and rewritten.
	echo "$IT_PID" >"$pf"
	sigsend -s USR1 "$sw"
	it_wait "$sw"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$pf")" = "$IT_PID" ]
}

@test "strict: empty --pidfile and command, a lone % in --format, --exit-status with --forever" {
	run -64 sigwait --pidfile ''
	[ "${lines[0]}" = "sigwait: invalid pidfile '': empty" ]
	run -64 sigwait --pidfile=
	[ "${lines[0]}" = "sigwait: invalid pidfile '': empty" ]
	run -64 sigwait --exec=''
	[ "${lines[0]}" = "sigwait: invalid command '': empty" ]
	run -64 sigwait -- ''
	[ "${lines[0]}" = "sigwait: invalid command '': empty" ]
	run -64 sigwait --format '%'
	[ "${lines[0]}" = "sigwait: invalid format '%': a % at the end (%% prints a %)" ]
	run -64 sigwait --format 'x%%%'
	[ "${lines[0]}" = "sigwait: invalid format 'x%%%': a % at the end (%% prints a %)" ]
	run -64 sigwait --format $'%\n'
	[ "${lines[0]}" = "sigwait: invalid format '%\\n': %\\n is not an escape" ]
	run -64 sigwait --forever --exit-status
	[ "${lines[0]}" = "sigwait: --forever never ends by a signal it waits for: no --exit-status with it" ]
	run -64 sigwait -s 0
	[ "${lines[0]}" = "sigwait: invalid signal '0': out of range" ]
}

# How many signals process $1 has pending (ShdPnd, one bit per signal).
pending() {
	local mask n=0
	mask=$(awk '/^ShdPnd:/ { print $2 }' "/proc/$1/status")
	for ((mask = 16#$mask; mask; mask >>= 1)); do
		n=$((n + (mask & 1)))
	done
	echo "$n"
}

pending_is() {
	[ "$(pending "$1")" = "$2" ]
}

@test "into a pipe, the next signal is taken only once the line before was read" {
	local pf out gate err i sw
	pf=$(it_path pid) out=$(it_path out) gate=$(it_path gate) err=$(it_path err)
	mkfifo "$gate"
	# head takes three lines and leaves; the reader stays, reading no more.
	it_bg_ready bash -c 'sigwait --ready-fd 9 --pidfile "$1" --forever --format %s \
		-s RTMIN -s RTMIN+1 -s RTMIN+2 -s RTMIN+3 -s RTMIN+4 -s RTMIN+5 \
		-s RTMIN+6 -s RTMIN+7 -s RTMIN+8 -s RTMIN+9 2>"$4" |
		{ head -n 3 >"$2"; read -r _ <"$3"; }
		exit "${PIPESTATUS[0]}"' _ "$pf" "$out" "$gate" "$err"
	sw=$(cat "$pf")
	for ((i = 0; i < 10; i++)); do
		sigsend -s "RTMIN+$i" "$sw"
	done
	# Three lines read, the fourth in the pipe: six signals still wait,
	# untaken, rather than being taken into a pipe nobody reads.
	wait_for pending_is "$sw" 6
	[ "$(cat "$out")" = $'RTMIN\nRTMIN+1\nRTMIN+2' ]
	# The reader leaves with the fourth line unread: that signal is lost,
	# and said so.
	echo >"$gate"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 74 ]
	[[ $(cat "$err") =~ ^sigwait:\ unable\ to\ write\ standard\ output:\ its\ reader\ went\ away\ without\ the\ line\ of\ SIGRTMIN\+3\ from\ pid\ [0-9]+$ ]]
}

@test "the wait for a reader that does not read ends on TERM, and at -w" {
	local pf gate
	pf=$(it_path pid) gate=$(it_path gate)
	mkfifo "$gate"
	# The reader keeps the pipe open on fd 5 and reads nothing from it.
	it_bg_ready bash -c 'sigwait --ready-fd 9 --pidfile "$1" --forever -s USR1 |
		{ exec 5<&0; read -r _ <"$2"; }; exit "${PIPESTATUS[0]}"' _ "$pf" "$gate"
	sigsend -s USR1 -p "$pf"
	sigsend --wait -w 10s -s TERM -p "$pf"
	echo >"$gate"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 143 ]
	it_bg_ready bash -c 'sigwait --ready-fd 9 --pidfile "$1" -n 2 -w 0.3s -s USR1 |
		{ exec 5<&0; read -r _ <"$2"; }; exit "${PIPESTATUS[0]}"' _ "$pf" "$gate"
	sigsend -s USR1 -p "$pf"
	# Gone at -w, its pidfile with it.
	wait_for test ! -e "$pf"
	echo >"$gate"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 1 ]
}

@test "the reader of the output gone is 141 (SIGPIPE), as sigwait(1) says" {
	# sigwait ends alone once true has gone, without a signal to print.
	run -141 bash -c 'sigwait -s USR1 --forever | true; exit "${PIPESTATUS[0]}"'
	local page=$BATS_TEST_DIRNAME/../man/sigwait.1
	grep -A12 -x '.It 128+ Ns Ar N' "$page" | grep -q '^once the reader of standard output went away'
	! grep -A1 -x '.It 74' "$page" | grep -q 'reader went away\.$'
}

@test "--help: option texts in lower case, no line of blanks, every exit status listed" {
	run -0 sigwait --help
	# argp's own --help, --usage and --version keep argp's wording.
	[ -z "$(grep -E '^  (-., )?--[a-z-]+(=[A-Z]+)? +[A-Z]' <<<"$output" |
		grep -Ev -- '--(help|usage|version) ')" ]
	[ -z "$(grep -x ' \+' <<<"$output")" ]
	[[ $output == *"66 no directory for the pidfile"* ]]
	[[ $output == *"74 output error"* ]]
	[[ $output == *"141 (SIGPIPE)"* ]]
}

@test "output into a file over RLIMIT_FSIZE is exit 74 with a message naming the signal whose line is lost" {
	local out
	out=$(it_path out)
	# A file at the limit already: stderr's, empty, still has room.
	head -c 1024 /dev/zero >"$out"
	it_bg_ready bash -c 'ulimit -f 1; exec sigwait --ready-fd 9 -s USR1 >>"$1" 2>"$1.err"' _ "$out"
	sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 74 ]
	[[ $(cat "$out.err") =~ ^sigwait:\ unable\ to\ write\ standard\ output:\ File\ too\ large\ \(the\ line\ of\ SIGUSR1\ from\ pid\ [1-9][0-9]*\ is\ lost\)$ ]]
}

@test "usage errors are exit 64 with one line" {
	run -64 sigwait -s KILL
	[ "${lines[0]}" = "sigwait: KILL cannot be blocked, so cannot be waited for" ]
	run -64 sigwait -s NOPE
	[ "${lines[0]}" = "sigwait: invalid signal 'NOPE'" ]
	run -64 sigwait -n 0
	[ "${lines[0]}" = "sigwait: invalid count '0': out of range" ]
	run -64 sigwait -n 2 --forever
	[ "${lines[0]}" = "sigwait: -n and --forever cannot be combined" ]
	run -64 sigwait -w soon
	[ "${lines[0]}" = "sigwait: invalid duration 'soon'" ]
	run -64 sigwait --ready-fd 57
	[ "${lines[0]}" = "sigwait: invalid file descriptor '57': not an open file descriptor" ]
}

@test "a command that cannot run is exit 71" {
	bg_sigwait -s USR1 -- /nonexistent/cmd
	sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 71 ]
}

@test "a full stdout is exit 74, the line naming the signal lost" {
	it_bg_ready sigwait --ready-fd 9 -s USR1 >/dev/full 2>"$BATS_TEST_TMPDIR/err"
	sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 74 ]
	[[ $(cat "$BATS_TEST_TMPDIR/err") =~ ^sigwait:\ unable\ to\ write\ standard\ output:\ No\ space\ left\ on\ device\ \(the\ line\ of\ SIGUSR1\ from\ pid\ [1-9][0-9]*\ is\ lost\)$ ]]
}

@test "a closed stdout is exit 74 before any signal is taken" {
	run -74 bash -c 'sigwait --help >/dev/full'
	[ "$output" = "sigwait: unable to write standard output: No space left on device" ]
	run -74 bash -c 'sigwait --help >&-'
	[ "$output" = "sigwait: unable to write standard output: Bad file descriptor" ]
	# At once, not after the 5 s of -w: no signal is taken that could not
	# be reported.
	SECONDS=0
	run -74 bash -c 'sigwait -s USR1 -w 5s >&-'
	[ "$output" = "sigwait: unable to write standard output: Bad file descriptor" ]
	((SECONDS < 4))
	# A command's output is its own: sigwait itself writes nothing then.
	local log
	log=$(it_path log)
	it_bg_ready sigwait --ready-fd 9 -s USR1 -- sh -c 'echo ran >"$0"' "$log" >&-
	sigsend -s USR1 "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 0 ]
	[ "$(cat "$log")" = ran ]
}

@test "completion: options from --help, signal names, a command after --" {
	source "$BATS_TEST_DIRNAME/../completions/sigwait"
	COMP_WORDS=(sigwait --fore) COMP_CWORD=1
	_sigwait
	[ "${COMPREPLY[*]}" = --forever ]
	COMP_WORDS=(sigwait -s USR) COMP_CWORD=2
	_sigwait
	[ "${COMPREPLY[*]}" = "USR1 USR2" ]
	COMP_WORDS=(sigwait -s SIGK) COMP_CWORD=2
	_sigwait
	[ "${#COMPREPLY[@]}" -eq 0 ]
	COMP_WORDS=(sigwait -- sigwai) COMP_CWORD=2
	_sigwait
	[ "${COMPREPLY[*]}" = sigwait ]
}

@test "completion: --opt=VALUE split at '=', as sigsend's, and --exec=CMD" {
	source "$BATS_TEST_DIRNAME/../completions/sigwait"
	# '=' in COMP_WORDBREAKS (bash's default): three words.
	COMP_WORDS=(sigwait --signal '=' USR) COMP_CWORD=3
	_sigwait
	[ "${COMPREPLY[*]}" = "USR1 USR2" ]
	COMP_WORDS=(sigwait --exec '=' sigwai) COMP_CWORD=3
	_sigwait
	[ "${COMPREPLY[*]}" = sigwait ]
	local f
	f=$(it_path arg)
	: >"$f"
	COMP_WORDS=(sigwait --exec '=' sigwait "${f%?????}") COMP_CWORD=4
	_sigwait
	[ "${COMPREPLY[*]}" = "$f" ]
	# Not in it: one word, and each reply replaces it whole.
	COMP_WORDS=(sigwait --signal=USR) COMP_CWORD=1
	_sigwait
	[ "${COMPREPLY[*]}" = "--signal=USR1 --signal=USR2" ]
	COMP_WORDS=(sigwait --exec=sigwai) COMP_CWORD=1
	_sigwait
	[ "${COMPREPLY[*]}" = --exec=sigwait ]
	COMP_WORDS=(sigwait --exec=sigwait "${f%?????}") COMP_CWORD=2
	_sigwait
	[ "${COMPREPLY[*]}" = "$f" ]
	COMP_WORDS=(sigwait "--pidfile=${f%?????}") COMP_CWORD=1
	_sigwait
	[ "${COMPREPLY[*]}" = "--pidfile=$f" ]
}

@test "completion: signal lists offer no shell trap names, nor KILL and STOP" {
	source "$BATS_TEST_DIRNAME/../completions/sigwait"
	COMP_WORDS=(sigwait -s '') COMP_CWORD=2
	_sigwait
	[[ " ${COMPREPLY[*]} " == *" SIGTERM TERM "* ]]
	[[ " ${COMPREPLY[*]} " == *" RTMIN+2 "* ]]
	local bad
	for bad in EXIT DEBUG ERR RETURN KILL SIGKILL STOP SIGSTOP; do
		[[ " ${COMPREPLY[*]} " != *" $bad "* ]]
	done
	[[ " ${COMPREPLY[*]} " != *JUNK* ]]
	COMP_WORDS=(sigwait -s E) COMP_CWORD=2
	_sigwait
	[ "${#COMPREPLY[@]}" -eq 0 ]
}

# Runs the shell code on stdin as the README or a man page shows it, in a
# directory and a process group of its own (ended in teardown if it is
# still running); stdout lands in $output, the status in $status.
run_example() {
	local dir
	dir=$(it_path ex)
	mkdir "$dir"
	cat >"$dir/ex.sh"
	(cd "$dir" && exec setsid bash ex.sh) >"$dir/out" 2>"$dir/err" 3>&- &
	EXGROUP=$!
	it_wait "$EXGROUP" 20
	status=$IT_STATUS output=$(cat "$dir/out")
	mapfile -t lines <"$dir/out"
	EXGROUP=
}

teardown() {
	[ -z "${EXGROUP:-}" ] || kill -KILL -- "-$EXGROUP" 2>/dev/null
	it_teardown
}

# The sh blocks of the README's sigsend / sigwait section, NUL-separated.
readme_blocks() {
	awk '/^## sigsend \/ sigwait/ { f = 1; next } /^## / { f = 0 }
		f && /^```sh$/ { b = 1; next }
		f && b && /^```$/ { b = 0; printf "%c", 0; next }
		f && b' "$BATS_TEST_DIRNAME/../README.md"
}

# The literal blocks of a man page's EXAMPLES, as mandoc shows them.
man_blocks() {
	mandoc -Tutf8 "$BATS_TEST_DIRNAME/../man/$1.1" | col -b |
		awk '/^EXAMPLES/ { f = 1; next }
			/^[A-Z]/ { if (b) printf "%c", 0; f = b = 0 }
			f && /^\t   / { sub(/^\t   /, ""); print; b = 1; next }
			f && b && /^$/ { next }
			f && b { printf "%c", 0; b = 0 }'
}

@test "docs: the README's sigsend/sigwait examples run as shown, without polling" {
	local blocks=() b
	mapfile -d '' -t blocks < <(readme_blocks)
	[ "${#blocks[@]}" -eq 5 ]
	for b in "${blocks[@]}"; do
		[[ $b != *until* && $b != *'sleep 0'* ]]
	done
	run_example <<<"${blocks[0]}"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^SIGRTMIN\ signo=34\ pid=[0-9]+\ uid=[0-9]+$ ]]
	[[ ${lines[1]} =~ ^SIGRTMIN\ signo=34\ pid=[0-9]+\ uid=[0-9]+\ value=42$ ]]
	[ "${#lines[@]}" -eq 2 ]
	run_example <<<"${blocks[1]}"
	[ "$status" -eq 0 ]
	[ "$output" = $'running\n1' ]
	run_example <<<"${blocks[2]}"
	[ "$output" = $' 9 KILL      Term Killed\n10 USR1      Term User defined signal 1\nKILL\n10\n36' ]
	run_example <<<"${blocks[3]}"
	[ "$status" -eq 0 ]
	[ "$output" = $'RTMIN 1\nRTMIN 2\nRTMIN 3' ]
	run_example <<<"${blocks[4]}"
	[ "$status" -eq 0 ]
	[[ $output =~ ^reload\ asked\ by\ pid\ [0-9]+$ ]]
}

@test "docs: the man pages' examples run as shown, without polling" {
	command -v mandoc >/dev/null || skip "needs mandoc"
	local blocks=() b ran=0
	mapfile -d '' -t blocks < <(man_blocks sigwait; man_blocks sigsend)
	[ "${#blocks[@]}" -eq 10 ]
	for b in "${blocks[@]}"; do
		[[ $b != *until* && $b != *'sleep 0'* ]]
		# Those that end by themselves, but not the 15 s beep.
		[[ $b == *'$!'* && $b != *'sleep 3'* ]] || continue
		run_example <<<"$b"
		[ "$status" -eq 0 ]
		ran=$((ran + 1))
	done
	[ "$ran" -eq 3 ]
}
