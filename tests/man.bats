#!/usr/bin/env bats
# tests/man.bats: every man page renders right under both formatters a user
# may have behind man(1): mandoc, and groff with its mdoc package.

load helper

# Checks rendered text on stdin for quotes that open inside an open quote
# of the same kind (an enclosure macro swallowing the next one, as groff's
# .Pq Ql 250ms , Ql 1.5s did: "(‘250ms, ‘1.5s, ‘2m’’’)") and quotes left
# open at the end. A lone closing ’ is an apostrophe, and allowed.
quotes_ok() {
	perl -CSD -0777 -ne '
		my $bad = 0;
		for my $pair (["\x{2018}", "\x{2019}"], ["\x{201c}", "\x{201d}"]) {
			my ($open, $close) = @$pair;
			my $depth = 0;
			while (/(\Q$open\E|\Q$close\E)/g) {
				if ($1 eq $open) {
					if ($depth++) {
						my $at = pos() - 1;
						my $s = substr($_, $at - 40 < 0 ? 0 : $at - 40, 80);
						$s =~ s/\s+/ /g;
						print "$ARGV: nested $open: ...$s...\n";
						$bad = 1;
					}
				} elsif ($depth) {
					$depth--;
				}
			}
			if ($depth) {
				print "$ARGV: $open left open\n";
				$bad = 1;
			}
		}
		exit $bad;
	' "$@"
}

pages() {
	ls "$BATS_TEST_DIRNAME"/../man/*.[0-9]
}

@test "the quote check itself sees groff's nested-quote artefacts" {
	run -1 quotes_ok <<<$'(\u2018250ms, \u20181.5s, \u20182m\u2019\u2019\u2019)'
	run -1 quotes_ok <<<$'a \u2018b'
	run -0 quotes_ok <<<$'(\u2018250ms\u2019, \u20181.5s\u2019) don\u2019t \u201ca \u2018b\u2019\u201d'
}

@test "every man page renders under groff -mdoc without nested or unbalanced quotes" {
	command -v groff >/dev/null || skip "needs groff (groff-base)"
	local page out=$BATS_TEST_TMPDIR/page fail=0
	for page in $(pages); do
		LC_ALL=C.UTF-8 groff -mdoc -Tutf8 "$page" 2>/dev/null | col -bx >"$out"
		[ -s "$out" ]
		quotes_ok "$out" | sed "s|^$out|${page##*/} (groff)|" >&2 || fail=1
		[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
	done
	[ "$fail" -eq 0 ]
}

@test "every man page renders under mandoc without nested or unbalanced quotes" {
	command -v mandoc >/dev/null || skip "needs mandoc"
	local page out=$BATS_TEST_TMPDIR/page fail=0
	for page in $(pages); do
		mandoc -Tutf8 "$page" | col -bx >"$out"
		[ -s "$out" ]
		quotes_ok "$out" | sed "s|^$out|${page##*/} (mandoc)|" >&2 || fail=1
		[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
	done
	[ "$fail" -eq 0 ]
}

# ---- the examples run as shown ----------------------------------------

# The objects with fixed names the examples use: the test skips where one
# is in use already, and removes them all when done.
EXAMPLE_KEYS="7 8 9 12 0x2a 0x2b 0x2c 0xa 0xb"
EXAMPLE_POSIX="/jobs /last10 /log /combo"
EXAMPLE_PATHS="/tmp/jobs"

# Process groups of the example blocks, ended in teardown whatever happens.
teardown() {
	local g
	if [ -f "$BATS_TEST_TMPDIR/groups" ]; then
		while read -r g; do
			kill -KILL -- "-$g" 2>/dev/null
		done <"$BATS_TEST_TMPDIR/groups"
	fi
	it_teardown
}

examples_free() {
	local k n p
	for k in $EXAMPLE_KEYS; do
		if ipcs -q | awk -v k="$(printf '0x%08x' "$k")" '$1 == k { f = 1 } END { exit !f }'; then
			skip "the examples' key $k is in use here"
		fi
		it_track msgkey "$k"
	done
	for n in $EXAMPLE_POSIX; do
		[ ! -e "/dev/mqueue$n" ] || skip "the examples' queue $n exists here"
		it_track posix "$n"
	done
	for p in $EXAMPLE_PATHS; do
		[ ! -e "$p" ] || skip "the examples' path $p exists here"
		it_track path "$p"
	done
}

# Writes the literal blocks of a man page's EXAMPLES, one file each, into
# directory $2 (1, 2, ...), as a reader would type them.
man_examples() {
	awk -v dir="$2" '
		/^\.Sh / { ex = ($0 == ".Sh EXAMPLES") }
		ex && /^\.Bd -literal/ { n++; f = dir "/" n; printf "" >f; next }
		ex && /^\.Ed/ { close(f); f = ""; next }
		f != "" { gsub(/\\e/, "\\"); print >>f }
	' "$1"
}

# The same for the ```sh blocks of README.md's section "## $2".
readme_examples() {
	awk -v sec="## $2" -v dir="$3" '
		/^## / { in_sec = ($0 == sec) }
		in_sec && /^```sh$/ { n++; f = dir "/" n; printf "" >f; next }
		in_sec && /^```$/ && f != "" { close(f); f = ""; next }
		f != "" { print >>f }
	' "$1"
}

# Runs each block in $1, in order, in one working directory, each in a
# process group of its own with a deadline. A block passes when it ends in
# time and every command that fails says so in its comment ("# 1: ..." or
# "# exit 1 ..."); a pipeline into head may end by SIGPIPE (141). A loop
# that polls with sleep fails it unrun: examples wait on --ready-fd.
run_examples() {
	local dir=$1 work=$BATS_TEST_TMPDIR/work b pid st line want fail=0
	# mk --tmp's directories land in the test's own TMPDIR, removed
	# with it even when an example fails half-way.
	mkdir -p "$work" "$work.tmp"
	for b in $(find "$dir" -maxdepth 1 -type f -name '[0-9]*' -printf '%f\n' | sort -n); do
		if grep -Eq '(until|while)[[:space:]].*do[[:space:]]+sleep' "$dir/$b"; then
			echo "example $b of $dir polls with sleep:" >&2
			cat "$dir/$b" >&2
			fail=1
			continue
		fi
		{
			# shellcheck disable=SC2016
			echo 'set -o pipefail; trap '\''echo "ERR $? $((LINENO - 1))" >&2'\'' ERR'
			cat "$dir/$b"
		} >"$dir/$b.sh"
		(cd "$work" && TMPDIR=$work.tmp exec setsid bash "$dir/$b.sh" >"$dir/$b.out" 2>"$dir/$b.err" </dev/null 3>&-) &
		pid=$!
		echo "$pid" >>"$BATS_TEST_TMPDIR/groups"
		if ! it_wait "$pid" $((IT_DEADLINE * 3)); then
			kill -KILL -- "-$pid" 2>/dev/null || :
			echo "example $b of $dir did not end in time:" >&2
			cat "$dir/$b" >&2
			fail=1
			continue
		fi
		kill -KILL -- "-$pid" 2>/dev/null || :
		while read -r _ st line; do
			line=$(sed -n "${line}p" "$dir/$b")
			want=
			if [[ $line =~ \#[[:space:]]*(exit[[:space:]]+)?([0-9]+)([^0-9]|$) ]]; then
				want=${BASH_REMATCH[2]}
			fi
			[[ $st == "$want" || ($st == 141 && $line == *"| head"*) ]] && continue
			echo "example $b of $dir: exit $st from: $line" >&2
			cat "$dir/$b.err" >&2
			fail=1
		done < <(grep '^ERR ' "$dir/$b.err")
	done
	return "$fail"
}

@test "the EXAMPLES of mqsend(1) and mqrecv(1) run as shown" {
	local t
	examples_free
	for t in mqsend mqrecv; do
		mkdir "$BATS_TEST_TMPDIR/$t"
		man_examples "$BATS_TEST_DIRNAME/../man/$t.1" "$BATS_TEST_TMPDIR/$t"
		[ -s "$BATS_TEST_TMPDIR/$t/1" ]
		run_examples "$BATS_TEST_TMPDIR/$t"
	done
}

@test "the EXAMPLES of fifotool(1) and ipctools(7) run as shown" {
	local p
	examples_free
	for p in fifotool.1 ipctools.7; do
		mkdir "$BATS_TEST_TMPDIR/$p"
		man_examples "$BATS_TEST_DIRNAME/../man/$p" "$BATS_TEST_TMPDIR/$p"
		[ -s "$BATS_TEST_TMPDIR/$p/1" ]
		run_examples "$BATS_TEST_TMPDIR/$p"
	done
}

@test "the README's mqsend / mqrecv, fifotool, spool, shmcat and sigsend / sigwait examples run as shown" {
	local s d
	examples_free
	for s in "mqsend / mqrecv" fifotool spool shmcat "sigsend / sigwait"; do
		d=$BATS_TEST_TMPDIR/readme-${s%% *}
		mkdir "$d"
		readme_examples "$BATS_TEST_DIRNAME/../README.md" "$s" "$d"
		[ -s "$d/1" ]
		run_examples "$d"
	done
}

@test "the EXAMPLES of usock(1) run as shown, 10 times over: each waits on --ready-fd" {
	local i d
	for i in $(seq 10); do
		d=$BATS_TEST_TMPDIR/usock.$i
		mkdir "$d"
		man_examples "$BATS_TEST_DIRNAME/../man/usock.1" "$d"
		[ -s "$d/6" ]
		run_examples "$d"
	done
}

@test "the README's forwarding of one queue to another prints what it shows, in order, 30 times over (issue 16 item 3)" {
	local i a b
	for i in $(seq 30); do
		a=$(it_key)
		b=$(it_key)
		printf '2\ttwo\n5\tfive\n' | mqsend -k "$a" -c --typed
		mqrecv -k "$a" --follow --nowait --print-type --rm | mqsend -k "$b" -c --typed
		run -0 mqrecv -k "$b" --follow --nowait --print-type --rm
		[ "$output" = "$(printf '2\ttwo\n5\tfive')" ]
	done
	# The README holds these very lines.
	grep -qxF "mqrecv -k 0xA --follow --nowait --print-type --rm | mqsend -k 0xB -c --typed" "$BATS_TEST_DIRNAME/../README.md"
}
