#!/usr/bin/env bats
# The parts of CONTRACT.md every tool shares: --help, --usage, --version,
# usage errors, and the harness this suite stands on.

load helper

tools() {
	local t
	for t in "$IT_BIN"/*; do
		[ -x "$t" ] && basename "$t"
	done
}

@test "every tool answers --help, --usage and --version the same way" {
	local t n=0
	for t in $(tools); do
		run -0 "$t" --help
		[[ ${lines[0]} == "Usage: $t "* ]]
		[[ $output == *"--help"* && $output == *"--version"* ]]
		run -0 "$t" --usage
		[[ $output == "Usage: $t "* ]]
		run -0 "$t" --version
		[ "$output" = "$t (ipctools) $(sed -n 's/^#define IT_VERSION "\(.*\)"/\1/p' "$BATS_TEST_DIRNAME/../lib/ipctools.h")" ]
		n=$((n + 1))
	done
	# A tool is cmd/TOOL.c, or a folder cmd/TOOL/ with its main.c.
	local small folders
	small=$(find "$BATS_TEST_DIRNAME/../cmd" -maxdepth 1 -name '*.c' | wc -l)
	folders=$(find "$BATS_TEST_DIRNAME/../cmd" -mindepth 2 -maxdepth 2 -name main.c | wc -l)
	[ "$n" -eq $((small + folders)) ]
}

@test "the layout is as README's Development and ipctools(7) FILES say, each file opening with what it holds" {
	local top=$BATS_TEST_DIRNAME/.. f base dir readme man
	readme=$(sed -n '/^## Development/,/^## Benchmarks\|^## [A-Z]/p' "$top/README.md")
	man=$(sed -n '/^\.Sh FILES/,/^\.Sh EXIT STATUS/p' "$top/man/ipctools.7")
	# Every small tool, folder tool and file of lib/ is named in both.
	for f in "$top"/cmd/*.c "$top"/lib/*.c; do
		base=$(basename "$f")
		[[ $readme == *"\`$base\`"* ]] || { echo "README does not name $base"; false; }
		[[ $man == *"Pa $base"* ]] || { echo "ipctools(7) does not name $base"; false; }
	done
	for f in "$top"/cmd/*/main.c; do
		dir=$(dirname "$f")
		base=$(basename "$dir")
		[[ $readme == *"\`$base/\`"* ]] || { echo "README does not name $base/"; false; }
		[[ $man == *"Pa $base/"* ]] || { echo "ipctools(7) does not name $base/"; false; }
		# A folder tool has its private header.
		[ -f "$dir/$base.h" ]
	done
	# Each source file opens with a comment, and none has grown past the
	# size at which a tool becomes a folder.
	for f in "$top"/cmd/*.c "$top"/cmd/*/*.[ch] "$top"/lib/*.c; do
		[ "$(head -c 2 "$f")" = "/*" ] || { echo "$f: no opening comment"; false; }
		[ "$(wc -l <"$f")" -le 620 ] || { echo "$f: $(wc -l <"$f") lines"; false; }
	done
}

@test "every tool exits 64 on an unknown option, with one line and a hint" {
	local t
	for t in $(tools); do
		run -64 "$t" --no-such-option
		[ "${lines[0]}" = "$t: unrecognized option '--no-such-option'" ]
		[[ ${lines[1]} == "Try \`$t --help' or \`$t --usage' for more information." ]]
	done
}

@test "every tool: --help, --usage and --version into a full or closed stdout exit 74" {
	local t o
	for t in $(tools); do
		for o in --help --usage --version; do
			run -74 bash -c '"$1" "$2" >/dev/full' _ "$t" "$o"
			[ "$output" = "$t: unable to write standard output: No space left on device" ]
			run -74 bash -c '"$1" "$2" >&-' _ "$t" "$o"
			[ "$output" = "$t: unable to write standard output: Bad file descriptor" ]
		done
	done
}

@test "every tool: a newline in a value or operand stays inside one line of stderr" {
	local t
	for t in $(tools); do
		case $t in
		sigsend) run -64 "$t" -s $'US\nR1' 1 ;;
		*) run -64 "$t" -w $'1\n2' ;;
		esac
		[ "${#lines[@]}" -eq 2 ]
		[[ ${lines[0]} == "$t: "*"'"*'\n'*"'"* ]]
	done
	run -64 fifotool $'mk\nx'
	[ "${lines[0]}" = "fifotool: unknown command 'mk\\nx'" ]
}

@test "every tool has a man page, a completion and a bats file" {
	local t top=$BATS_TEST_DIRNAME/..
	for t in $(tools); do
		[ -f "$top/man/$t.1" ]
		[ -f "$top/completions/$t" ]
		[ -f "$top/tests/$t.bats" ]
		grep -q "^\.Sh EXIT STATUS" "$top/man/$t.1"
		grep -q "^\.Sh EXAMPLES" "$top/man/$t.1"
	done
}

@test "helper: keys and names are unique and recorded for teardown" {
	local k1 k2 n1 n2
	k1=$(it_key)
	k2=$(it_key)
	[ "$k1" != "$k2" ]
	[[ $k1 =~ ^0x1c[0-9a-f]{6}$ ]]
	n1=$(it_name)
	n2=$(it_name)
	[ "$n1" != "$n2" ]
	grep -qx "msgkey $k1" "$IT_REG"
	grep -qx "shmkey $k2" "$IT_REG"
}

@test "helper: teardown removes a System V queue made by a test" {
	local id
	id=$(ipcmk -Q | grep -o '[0-9]*$')
	it_track msgid "$id"
	ipcs -q | grep -Eq "^0x[0-9a-f]+ +$id "
	it_teardown
	run ! grep -Eq "^0x[0-9a-f]+ +$id " <(ipcs -q)
}

@test "helper: it_bg_ready waits for readiness and fails when the job dies first" {
	it_bg_ready bash -c 'echo >&9; exec 9>&- tail -f /dev/null'
	kill -0 "$IT_PID"
	run ! it_bg_ready bash -c 'exit 3'
	[[ $output == *"did not become ready"* ]]
}

@test "helper: it_wait returns the status of a background job" {
	it_bg bash -c 'exit 7'
	it_wait "$IT_PID"
	[ "$IT_STATUS" -eq 7 ]
}

@test "make install lays out bin, man1, man7 and completions; uninstall removes them" {
	local top=$BATS_TEST_DIRNAME/.. root=$BATS_TEST_TMPDIR/root t
	run -0 make -s -C "$top" install DESTDIR="$root" PREFIX=/usr BASHCOMPDIR=/usr/share/bash-completion/completions
	[ -f "$root/usr/share/man/man7/ipctools.7" ]
	for t in $(tools); do
		[ -x "$root/usr/bin/$t" ]
		[ -f "$root/usr/share/man/man1/$t.1" ]
		[ -f "$root/usr/share/bash-completion/completions/$t" ]
	done
	run -0 make -s -C "$top" uninstall DESTDIR="$root" PREFIX=/usr BASHCOMPDIR=/usr/share/bash-completion/completions
	[ -z "$(find "$root" -type f)" ]
}

# One table of bad inputs through every tool that takes each option: the
# same mistake is the same exit status (64) and the same line everywhere.
# Each row: the option, its bad value and the line after "TOOL: ", split
# at "|" (a tab is blank space to read, and an empty value would vanish).
bad_values() {
	cat <<'ROWS'
-w|1x|invalid duration '1x'
-w||invalid duration ''
-w|-1|invalid duration '-1'
-w|99999999999d|invalid duration '99999999999d': out of range
--ready-fd|0|invalid file descriptor '0': 0, 1 and 2 are the standard streams
--ready-fd|1|invalid file descriptor '1': 0, 1 and 2 are the standard streams
--ready-fd|2|invalid file descriptor '2': 0, 1 and 2 are the standard streams
--ready-fd|99|invalid file descriptor '99': not an open file descriptor
--ready-fd||invalid file descriptor ''
-m|0999|invalid mode '0999'
-m||invalid mode ''
-m|1777|invalid mode '1777': out of range
-k||invalid key ''
-k|0x|invalid key '0x'
-k|4294967296|invalid key '4294967296': out of range
-N|/.|invalid name '/.': a POSIX name is /NAME, one leading slash and no other, at most 255 bytes
-N|/..|invalid name '/..': a POSIX name is /NAME, one leading slash and no other, at most 255 bytes
-N||invalid name '': a POSIX name is /NAME, one leading slash and no other, at most 255 bytes
-N|/a/b|invalid name '/a/b': a POSIX name is /NAME, one leading slash and no other, at most 255 bytes
ROWS
}

# The tools that take each option, with the words that come before it.
takers() {
	local d=$BATS_TEST_TMPDIR
	case $1 in
	-w) printf '%s\n' "fifotool read $d/f" "mqrecv -k 1" "mqsend -k 1" \
		"shmcat read -k 1" "sigwait" "spool take $d" "usock connect $d/s" \
		"sigsend --wait 1" ;;
	--ready-fd) printf '%s\n' "fifotool read $d/f" "mqrecv -k 1" \
		"shmcat read -k 1" "sigwait" "spool take $d" "usock listen $d/s" ;;
	-m) printf '%s\n' "fifotool mk $d/f" "mqrecv -c -k 1" "mqsend -c -k 1" \
		"shmcat write -c -k 1" "usock listen $d/s" ;;
	-k) printf '%s\n' "mqrecv" "mqsend" "shmcat stat" ;;
	-N) printf '%s\n' "mqrecv" "mqsend" "shmcat stat" ;;
	esac
}

@test "every tool: one exit status and one line for each bad value of a shared option" {
	local opt val want pre n=0
	while IFS='|' read -r opt val want; do
		while read -r pre; do
			# shellcheck disable=SC2086 # pre is words on purpose
			run -64 $pre "$opt" "$val"
			[ "${lines[0]}" = "${pre%% *}: $want" ] ||
				{ echo "$pre $opt '$val': ${lines[0]}"; return 1; }
			n=$((n + 1))
		done < <(takers "$opt")
	done < <(bad_values)
	[ "$n" -ge 90 ]
}

@test "every tool: an empty path, pidfile or address is a usage error at start-up" {
	local d=$BATS_TEST_TMPDIR c
	for c in "fifotool mk" "fifotool rm" "fifotool read" "fifotool write" \
		"spool take" "spool put" "spool ls" "usock connect" "usock listen" \
		"sigsend -p" "sigwait --pidfile" "mqsend -f" "shmcat stat -f"; do
		# shellcheck disable=SC2086
		run -64 $c ''
		[ "${#lines[@]}" -eq 2 ] &&
			[[ ${lines[0]} == "${c%% *}: invalid "*" ''"* ]] ||
			{ echo "$c '': ${lines[0]}"; return 1; }
	done
	run -64 sigwait --exec=''
	[[ ${lines[0]} == "sigwait: invalid "*" ''"* ]]
	[ ! -e "$d/f" ]
}

@test "every tool that writes standard output reports a full RLIMIT_FSIZE as 74, never dies of SIGXFSZ" {
	local k out=$BATS_TEST_TMPDIR/out
	k=$(it_key)
	head -c 10000 /dev/zero | tr '\0' x | shmcat load -c -k "$k" --size 10000
	it_track shmkey "$k"
	run -74 bash -c 'ulimit -f 1; exec shmcat dump -k "$1" >"$2"' _ "$k" "$out"
	[[ ${lines[0]} == "shmcat: "*"File too large"* ]]
	mkfifo "$BATS_TEST_TMPDIR/f"
	# Both ends block in open(2) until the other comes: no readiness needed.
	it_bg bash -c 'head -c 10000 /dev/zero | fifotool write "$1"' _ "$BATS_TEST_TMPDIR/f"
	run -74 bash -c 'ulimit -f 1; exec fifotool read "$1" >"$2"' _ "$BATS_TEST_TMPDIR/f" "$out"
	[[ ${lines[0]} == "fifotool: "*"File too large"* ]]
	it_wait "$IT_PID"
	head -c 5000 /dev/zero | tr '\0' x | mqsend -c -k "$k" --whole
	run -74 bash -c 'ulimit -f 1; exec mqrecv -k "$1" -n 1 --whole >"$2"' _ "$k" "$out"
	[[ ${lines[0]} == "mqrecv: "*"File too large"* ]]
	run -0 mqrecv -k "$k" -n 1 --whole --nowait
	[ "${#output}" -eq 5000 ]

}

# The exit codes a man page's EXIT STATUS lists, one a line.
man_codes() {
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh [^E]/p' "$BATS_TEST_DIRNAME/../man/$1.1" |
		sed -n 's/^\.It \([0-9][0-9]*\)$/\1/p' | sort -n
}

@test "every tool's --help has one layout, and its exit list is its man page's" {
	local t help para codes
	for t in $(tools); do
		help=$("$t" --help)
		# No line of blanks only; option texts start in lower case but
		# for names (System V), as argp's own three do not.
		! grep -qE '^ +$' <<<"$help" || { echo "$t: a line of spaces"; return 1; }
		! grep -E '^  (-., )?--[a-z-]+(=[A-Z/:]+|\[=[A-Z]+\])? +[A-Z][a-z]+ ' <<<"$help" |
			grep -vE -- '--(help|usage|version) |  System V' | grep . ||
			{ echo "$t: an option text in capitals"; return 1; }
		[ "$(tail -n 1 <<<"$help")" = "Report bugs to the ipctools issue tracker." ]
		# The last paragraph before it says the exit status.
		para=$(awk -v RS= 'NR > 1 { prev = last } { last = $0 } END { print prev }' <<<"$help" | tr '\n' ' ')
		[[ $para == *"Exit status: 0 "* ]] || { echo "$t: no exit status paragraph: $para"; return 1; }
		codes=$(grep -oE '(^|[ ,;])(0|1|6[0-9]|7[0-9])( |,|;)' <<<"${para#*Exit status: }" |
			grep -oE '[0-9]+' | sort -nu)
		[ "$codes" = "$(man_codes "$t")" ] ||
			{ echo "$t: --help says $(echo $codes), man page $(man_codes "$t" | tr '\n' ' ')"; return 1; }
	done
}
