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
	[ "$n" -eq "$(find "$BATS_TEST_DIRNAME/../cmd" -name '*.c' | wc -l)" ]
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
