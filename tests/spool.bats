#!/usr/bin/env bats
# spool: put and take, framing, order, waiting with inotify, orphaned
# claims, --exec, ls and stat, refused directories, a full disk; the
# lecture notes' import/ directory; 4 putters and 4 takers, exactly once;
# takers killed at random points; a burst of 10,000 files, and an inotify
# queue overflow; python's mailbox.Maildir both ways; the bash completion.

load helper

# A tmpfs this test mounted, unmounted in teardown before the paths go.
teardown() {
	if [ -n "${SPOOL_MNT:-}" ]; then
		umount "$SPOOL_MNT" 2>/dev/null || :
	fi
	it_teardown
}

# A spool path for this test (not yet made), removed in teardown.
spool_dir() {
	local p
	p=$(it_path "${1:-spool}")
	it_track path "$p"
	echo "$p"
}

# A spool on tmpfs, for the big runs: the disk here makes a file in ~0.2 ms,
# tmpfs in ~10 us. Falls back to the test's directory.
fast_dir() {
	local p
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		p=$(mktemp -u /dev/shm/spool-test.XXXXXX)
	else
		p=$(it_path fast)
	fi
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

count() {
	find "$1" -mindepth 1 -maxdepth 1 | wc -l
}

@test "put -c makes DIR, tmp, new and cur 0700, and each message one file 0600" {
	local d
	d=$(spool_dir)
	run -0 spool put -c "$d" one two
	[ -z "$output" ]
	for s in "" /tmp /new /cur; do
		[ "$(stat -c %a "$d$s")" = 700 ]
	done
	[ "$(count "$d/new")" = 2 ]
	[ "$(count "$d/tmp")" = 0 ]
	[ "$(stat -c %a "$d"/new/* | sort -u)" = 600 ]
	[ "$(cat "$d"/new/* | tr -d '\n')" = onetwo ]
}

@test "put --print-name prints each maildir-unique name, in new/" {
	local d
	d=$(spool_dir)
	run -0 spool put -c --print-name "$d" a b c
	[ "${#lines[@]}" = 3 ]
	for n in "${lines[@]}"; do
		[[ $n =~ ^[0-9]+\.M[0-9]{6}P[0-9]+Q[0-9]+\.[^/:]+$ ]]
		[ -f "$d/new/$n" ]
	done
	[ "$(cat "$d/new/${lines[1]}")" = b ]
}

@test "put syncs each file and new/ before it returns; --no-sync does not" {
	command -v strace >/dev/null || skip "needs strace"
	local d
	d=$(spool_dir)
	spool put -c "$d"
	# LeakSanitizer cannot run under ptrace: no leak check in this one.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	run -0 strace -f -e trace=fsync,fdatasync -o "$d.trace" spool put "$d" a b
	[ "$(grep -c '^[0-9]* *fsync(' "$d.trace")" = 4 ]
	run -0 strace -f -e trace=fsync,fdatasync -o "$d.trace" spool put --no-sync "$d" c
	[ "$(grep -c 'sync(' "$d.trace")" = 0 ]
	[ "$(count "$d/new")" = 3 ]
}

@test "put without --create on a missing DIR is exit 66" {
	local d
	d=$(spool_dir)
	run -66 spool put "$d" x
	output_is "spool: unable to open $d: No such file or directory (use --create)"
	run -66 spool take "$d"
	output_is "spool: unable to open $d: No such file or directory (use --create)"
	mkdir "$d"
	run -66 spool stat "$d"
	output_is "spool: unable to open $d/tmp: No such file or directory (use --create)"
}

@test "a DIR that is not a directory is exit 65; new/ removed under a waiting take, 66" {
	local d
	d=$(spool_dir)
	echo file >"$d"
	run -65 spool put "$d" x
	output_is "spool: unable to open $d: not a directory"
	rm "$d"
	spool put -c "$d"
	it_bg_ready spool take --follow --ready-fd 9 "$d" 2>"$d.err"
	mv "$d/new" "$d/new.gone"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 66 ]
	[ "$(cat "$d.err")" = "spool: unable to take from $d: new/ was removed or moved away" ]
}

@test "take -c makes the spool and waits in it" {
	local d
	d=$(spool_dir)
	run -1 spool take -c -w 100ms "$d"
	output_is "spool: unable to take from $d: timed out"
	[ -d "$d/new" ]
}

@test "lines, -0, --whole and --netstring in, the same framing out" {
	local d
	d=$(spool_dir)
	printf 'a\nb b\n' | spool put -c "$d"
	run -0 spool take -n 2 "$d"
	[ "$output" = $'a\nb b' ]
	printf 'x\ny\0z\0' | spool put -0 "$d"
	spool take -n 2 -0 "$d" | cmp - <(printf 'x\ny\0z\0')
	printf 'all\nof it\n' | spool put --whole "$d"
	spool take --whole "$d" | cmp - <(printf 'all\nof it\n')
	printf '3:a\0b,0:,' | spool put --netstring "$d"
	spool take -n 2 --netstring "$d" | cmp - <(printf '3:a\0b,0:,')
	[ "$(count "$d/new")" = 0 ]
}

@test "a badly framed netstring is exit 65; those before it are put" {
	local d
	d=$(spool_dir)
	run -65 spool put -c --netstring "$d" <<<"1:a,2:b"
	output_is "spool: unable to read standard input: a badly framed message (not a netstring)"
	run -0 spool take --netstring --follow --nowait "$d"
	output_is "1:a,"
}

@test "--max-size: an operand over it puts nothing; on stdin, nothing after it is read" {
	local d in
	d=$(spool_dir)
	run -65 spool put -c --max-size 4 "$d" ok toolong
	output_is "spool: unable to put in $d: a message is longer than --max-size (4 bytes)"
	[ "$(count "$d/new")" = 0 ]
	in=$(it_path in)
	printf 'ok\ntoolong\nafter\n' >"$in"
	run -65 spool put --max-size 4 "$d" <"$in"
	output_is "spool: unable to put in $d: a message is longer than --max-size (4 bytes)"
	[ "$(spool take "$d")" = ok ]
	{
		spool put --max-size 4 "$d" 2>/dev/null || :
		cat
	} <"$in" >"$in.rest"
	[ "$(cat "$in.rest")" = $'toolong\nafter' ]
	run -0 spool put --max-size 1k "$d" "$(head -c 1024 /dev/zero | tr '\0' x)"
}

@test "take --max-size: a larger message is skipped with a warning once, stays in new/, and blocks nobody" {
	local d big
	d=$(spool_dir)
	big=$(spool put -c --print-name "$d" 12345678)
	spool put "$d" ok
	run -0 spool take --max-size 4 --follow --nowait "$d"
	[ "${lines[0]}" = "spool: skipping $d/new/$big: 8 bytes, longer than --max-size (4 bytes)" ]
	[ "${lines[1]}" = ok ]
	[ "${#lines[@]}" = 2 ]
	[ "$(count "$d/new")" = 1 ]
	# --exec never reads the message into memory: no size applies.
	run -0 spool take "$d" --exec cat
	output_is 12345678
	run -64 spool take --max-size 4 "$d" --exec cat
	[ "${lines[0]}" = "spool: --exec never reads a message: --max-size does not apply" ]
}

@test "take takes the oldest by the time in the name, and each putter's order" {
	local d
	d=$(spool_dir)
	spool put -c "$d" second third
	# Older by its name than anything put now, as another maildir writer
	# would name it; and one of the same second, ordered by M (usec).
	printf first >"$d/tmp/x" && mv "$d/tmp/x" "$d/new/1000000000.M5P1Q1.elsewhere"
	printf zeroth >"$d/tmp/x" && mv "$d/tmp/x" "$d/new/1000000000.M4P9Q1.elsewhere"
	run -0 spool take -n 4 "$d"
	[ "$output" = $'zeroth\nfirst\nsecond\nthird' ]
	seq 1 300 | spool put "$d" --no-sync
	run -0 spool take --follow --nowait "$d"
	[ "$output" = "$(seq 1 300)" ]
}

@test "take -n N takes N; --nowait on an empty spool is exit 1; -w times out" {
	local d
	d=$(spool_dir)
	seq 1 5 | spool put -c "$d"
	run -0 spool take -n 3 "$d"
	[ "$output" = $'1\n2\n3' ]
	run -0 spool take --follow --nowait "$d"
	[ "$output" = $'4\n5' ]
	run -1 spool take --nowait "$d"
	output_is "spool: unable to take from $d: no message (--nowait)"
	run -1 spool take -w 150ms "$d"
	output_is "spool: unable to take from $d: timed out"
	spool put "$d" only
	run -1 spool take -n 2 --nowait "$d"
	[ "${lines[0]}" = only ]
	[ "${lines[1]}" = "spool: unable to take from $d: no message (--nowait) after 1 of 2 messages, which were delivered" ]
}

@test "take waits for a message put after --ready-fd; --follow -w ends 0 once idle" {
	local d out
	d=$(spool_dir)
	out=$(it_path out)
	spool put -c "$d"
	it_bg_ready spool take --ready-fd 9 "$d" >"$out"
	spool put "$d" late
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = late ]
	it_bg_ready spool take --follow -w 300ms --ready-fd 9 "$d" >"$out"
	spool put "$d" a b
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = $'a\nb' ]
}

@test "take --follow | head -n 3 takes exactly three, the rest stay" {
	local d
	d=$(spool_dir)
	seq 1 10 | spool put -c "$d"
	run -0 bash -c 'spool take --follow "$1" | head -n 3' _ "$d"
	[ "$output" = $'1\n2\n3' ]
	[ "$(count "$d/new")" = 7 ]
	[ "$(count "$d/claim")" = 0 ]
	run -0 bash -c 'spool take --follow "$1" | head -n 1' _ "$d"
	[ "$output" = 4 ]
}

@test "a follower whose reader went away ends while waiting, as by SIGPIPE" {
	local d
	d=$(spool_dir)
	spool put -c "$d" one
	run -0 bash -c 'spool take --follow "$1" | head -n 1; echo "${PIPESTATUS[0]}"' _ "$d"
	[ "$output" = $'one\n141' ]
}

@test "a message that stdout cannot take goes back to new/, exit 74" {
	local d
	d=$(spool_dir)
	spool put -c "$d" kept
	run -74 bash -c 'spool take "$1" >/dev/full' _ "$d"
	output_is "spool: unable to write standard output: No space left on device"
	[ "$(spool take "$d")" = kept ]
}

@test "SIGTERM ends a waiting take by the signal, taking nothing" {
	local d
	d=$(spool_dir)
	spool put -c "$d"
	it_bg_ready spool take --follow --ready-fd 9 "$d"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 143 ]
}

@test "an orphaned claim in claim/ goes back to new/ at once; a held one stays" {
	local d held lockpid
	d=$(spool_dir)
	spool put -c "$d" orphan held
	held=$(ls "$d/new" | sort | tail -n 1)
	for f in "$d"/new/*; do mv "$f" "$d/claim/"; done
	# A live taker's claim: the file in claim/ with a lock on it.
	(exec 8<"$d/claim/$held" && flock -x 8 && exec sleep 60) 3>&- &
	lockpid=$!
	it_track pid "$lockpid"
	wait_for bash -c '! flock -xn "$1" true' _ "$d/claim/$held"
	run -0 spool stat "$d"
	[[ $output == *$'\nin_progress=1\norphaned=1\n'* ]]
	run -0 spool take --follow --nowait "$d"
	output_is orphan
	[ -f "$d/claim/$held" ]
	kill "$lockpid"
	it_wait "$lockpid"
	run -0 spool take --nowait "$d"
	output_is held
}

@test "a follower returns a claim to new/ as soon as its dead taker lets go" {
	local d held lockpid out
	d=$(spool_dir)
	out=$(it_path out)
	spool put -c "$d" claimed
	held=$(ls "$d/new")
	mv "$d/new/$held" "$d/claim/"
	(exec 8<"$d/claim/$held" && flock -x 8 && exec sleep 60) 3>&- &
	lockpid=$!
	it_track pid "$lockpid"
	wait_for bash -c '! flock -xn "$1" true' _ "$d/claim/$held"
	it_bg_ready spool take --follow --ready-fd 9 "$d" >"$out"
	[ ! -s "$out" ]
	kill -KILL "$lockpid"
	wait_for test -s "$out"
	[ "$(cat "$out")" = claimed ]
}

@test "a follower takes a message in new/ as soon as another taker lets go of it" {
	local d name lockpid out
	d=$(spool_dir)
	out=$(it_path out)
	name=$(spool put -c --print-name "$d" putback)
	# Another taker's lock on a message in new/: one it is claiming, or
	# one it put back because its reader went away, just before it exits.
	(exec 8<"$d/new/$name" && flock -x 8 && exec sleep 60) 3>&- &
	lockpid=$!
	it_track pid "$lockpid"
	wait_for bash -c '! flock -xn "$1" true' _ "$d/new/$name"
	it_bg_ready spool take --follow --ready-fd 9 "$d" >"$out"
	[ ! -s "$out" ]
	[ -f "$d/new/$name" ]
	kill -KILL "$lockpid"
	wait_for test -s "$out"
	[ "$(cat "$out")" = putback ]
}

@test "--follow --nowait ends when what is left cannot be taken" {
	local d
	d=$(spool_dir)
	spool put -c "$d" a
	ln -s /etc/passwd "$d/new/1.M0P0Q0.link"
	run -0 timeout 10 spool take --follow --nowait "$d"
	[ "${lines[0]}" = "spool: skipping $d/new/1.M0P0Q0.link: a symlink" ]
	[ "${lines[1]}" = a ]
	[ "${#lines[@]}" = 2 ]
	[ -L "$d/new/1.M0P0Q0.link" ]
}

@test "leftovers in tmp/: a file with an old mtime but a young ctime stays (cp -p, mv), 30 rounds" {
	local d i old out
	d=$(spool_dir)
	old=$(it_path old)
	out=$(it_path out)
	spool put -c "$d"
	# A writer that keeps old mtimes, as cp -p, mv, tar x and rsync -t
	# do: each file sits in tmp/ while a take cleans it, then goes in.
	for ((i = 1; i <= 30; i++)); do
		printf 'msg %s' "$i" >"$old"
		touch -d '37 hours ago' "$old"
		cp -p "$old" "$d/tmp/$i.M0P0Q$i.h"
		spool take --follow --nowait "$d" >>"$out"
		mv "$d/tmp/$i.M0P0Q$i.h" "$d/new/"
	done
	spool take --follow --nowait "$d" >>"$out"
	[ "$(sort "$out")" = "$(seq -f 'msg %g' 1 30 | sort)" ]
	[ "$(count "$d/tmp")" = 0 ]
}

@test "leftovers in tmp/ unchanged for 36 hours by their ctime are removed, unless a process has one open" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount an overlay"
	local d low up work pid
	d=$(spool_dir)
	spool put -c "$d"
	# Files with a ctime long past, which nothing can set: an overlay's
	# lower layer keeps its own, and a removal only hides it there.
	up=$(it_path up)
	work=$(it_path work)
	mkdir "$up" "$work"
	[ -f /usr/share/zoneinfo/Etc/GMT ] && [ -f /usr/share/zoneinfo/Etc/UTC ] ||
		skip "needs /usr/share/zoneinfo/Etc"
	low=/usr/share/zoneinfo/Etc
	mount -t overlay overlay -o "lowerdir=$low,upperdir=$up,workdir=$work" "$d/tmp" 2>/dev/null ||
		skip "cannot mount an overlay here"
	SPOOL_MNT=$d/tmp
	(($(stat -c %Z "$d/tmp/GMT") < $(date +%s) - 40 * 3600)) || skip "the image's files are too young"
	echo young >"$d/tmp/young"
	touch -d '40 hours ago' "$d/tmp/young"
	(exec 8<"$d/tmp/UTC" && exec sleep 60) 3>&- &
	pid=$!
	it_track pid "$pid"
	wait_for test -e "/proc/$pid/fd/8"
	run -1 spool take --nowait "$d"
	[ ! -e "$d/tmp/GMT" ]
	[ -e "$d/tmp/UTC" ]
	[ -e "$d/tmp/young" ]
	kill "$pid"
	it_wait "$pid" || :
	run -1 spool take --nowait "$d"
	[ ! -e "$d/tmp/UTC" ]
	[ -e "$d/tmp/young" ]
}

@test "--exec runs CMD per message with SPOOL_FILE and SPOOL_NAME; 0 removes" {
	local d out
	d=$(spool_dir)
	out=$(it_path out)
	spool put -c "$d" one two
	run -0 spool take -n 2 "$d" --exec sh -c 'printf "%s %s %s\n" "$(cat)" "$SPOOL_NAME" "$(cat "$SPOOL_FILE")"'
	[[ ${lines[0]} =~ ^one\ [0-9]+\.M.*\ one$ ]]
	[[ ${lines[1]} =~ ^two\ [0-9]+\.M.*\ two$ ]]
	[ "$(count "$d/new")" = 0 ]
	[ "$(count "$d/claim")" = 0 ]
}

@test "--exec failure puts back with an attempt count; after --tries to failed/" {
	local d name
	d=$(spool_dir)
	name=$(spool put -c --print-name "$d" bad)
	run -1 spool take --tries 2 "$d" --exec sh -c 'cat >/dev/null; exit 3'
	output_is "spool: sh failed on $name (exit 3): back in new/, attempt 1 of 2"
	[ -f "$d/new/$name:1,1" ]
	run -1 spool take --tries 2 "$d" --exec sh -c 'exit 3'
	output_is "spool: sh failed on $name (exit 3): moved to $d/failed, after 2 attempts"
	[ "$(cat "$d/failed/$name:1,2")" = bad ]
	[ "$(stat -c %a "$d/failed")" = 700 ]
	run -0 spool stat "$d"
	[[ $output == *$'\nnew=0\n'*$'\nfailed=1\n'* ]]
}

@test "--exec: exit 100 fails for good at once; a CMD that cannot be run is not the message's failure" {
	local d name
	d=$(spool_dir)
	name=$(spool put -c --print-name "$d" msg)
	run -66 timeout 10 spool take --follow "$d" --exec no-such-command-here
	output_is "spool: unable to run no-such-command-here: No such file or directory"
	[ -f "$d/new/$name" ] && [ ! -e "$d/failed" ]
	run -64 spool take "$d" --exec ''
	[ "${lines[0]}" = "spool: invalid CMD '': empty" ]
	run -1 spool take "$d" --exec -- sh -c 'exit 100'
	output_is "spool: sh failed on $name (exit 100): moved to $d/failed, after 1 attempt"
	[ -f "$d/failed/$name:1,1" ]
}

@test "--exec keeps the claim locked while CMD runs, even if take is killed" {
	local d out
	d=$(spool_dir)
	out=$(it_path out)
	spool put -c "$d" slow
	mkfifo "$out.go"
	it_bg spool take "$d" --exec sh -c 'echo $$ >"$0.pid"; cat >"$0"; read -r _ <"$0.go"' "$out"
	wait_for test -s "$out"
	it_track pid "$(cat "$out.pid")"
	kill -KILL "$IT_PID"
	it_wait "$IT_PID" || :
	# CMD still runs and holds the lock: nobody else takes the message.
	run -1 spool take --nowait "$d"
	[ "$(count "$d/claim")" = 1 ]
	echo >"$out.go"
	wait_for bash -c 'flock -xn "$1"/claim/* true' _ "$d"
	run -0 spool take --nowait "$d"
	output_is slow
}

@test "ls lists new, cur and failed messages; --json one object per line" {
	local d n1 n2
	d=$(spool_dir)
	n1=$(spool put -c --print-name "$d" hello)
	n2=$(spool put --print-name "$d" hi)
	# The age is in whole seconds: a second may begin between put and ls.
	run -0 spool ls "$d"
	[[ ${lines[0]} == "$(printf 'new\t5\t')"[01]"$(printf '\t%s' "$n1")" ]]
	[[ ${lines[1]} == "$(printf 'new\t2\t')"[01]"$(printf '\t%s' "$n2")" ]]
	run -0 spool ls --json "$d"
	[[ ${lines[0]} == "{\"state\":\"new\",\"name\":\"$n1\",\"size\":5,\"age\":"[01]"}" ]]
	python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin]' <<<"$output"
}

@test "stat: eval-safe counts and the oldest age; --json" {
	local d
	d=$(spool_dir)
	spool put -c "$d" a b
	printf old >"$d/tmp/x" && mv "$d/tmp/x" "$d/new/$(($(date +%s) - 100)).M1P1Q1.h"
	run -0 spool stat "$d"
	eval "$output"
	[ "$new" = 3 ] && [ "$in_progress" = 0 ] && [ "$failed" = 0 ] && [ "$tmp" = 0 ]
	((oldest_age >= 100 && oldest_age < 110))
	[ "$dir" = "$d" ]
	run -0 spool stat --json "$d"
	python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["new"] == 3, d' <<<"$output"
}

@test "a symlink for DIR or new/ is refused with 77, even with --any-owner" {
	local d l
	d=$(spool_dir)
	l=$(spool_dir link)
	spool put -c "$d" x
	ln -s "$d" "$l"
	run -77 spool take "$l"
	output_is "spool: unable to open $l: a symlink, refused"
	run -77 spool put --any-owner "$l" y
	output_is "spool: unable to open $l: a symlink, refused"
	mv "$d/new" "$d/new.real"
	ln -s new.real "$d/new"
	run -77 spool stat "$d"
	output_is "spool: unable to open $d/new: a symlink, refused"
}

@test "a DIR or cur/ another user owns is 77 without --any-owner" {
	local d
	d=$(spool_dir)
	spool put -c "$d" x
	chown nobody "$d/cur"
	run -77 spool take "$d"
	output_is "spool: unable to open $d/cur: owned by uid $(id -u nobody), not by us (use --any-owner)"
	chown nobody "$d"
	run -77 spool put "$d" y
	output_is "spool: unable to open $d: owned by uid $(id -u nobody), not by us (use --any-owner)"
	run -0 spool take --any-owner "$d"
	output_is x
}

@test "a user who may not write DIR gets 77" {
	need_other_user
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/spool-perm.XXXXXX")
	it_track path "$d"
	chmod 755 "$d"
	spool put -c "$d/s" x
	chmod 755 "$d/s" "$d/s/tmp" "$d/s/new" "$d/s/cur"
	run -77 as_nobody "$IT_BIN/spool" put --any-owner "$d/s" y
	output_is "spool: unable to put a message in $d/s: Permission denied"
}

@test "names from the directory are not paths: symlinks and FIFOs in new/ are skipped" {
	local d secret
	d=$(spool_dir)
	secret=$(it_path secret)
	echo secret >"$secret"
	spool put -c "$d" real
	ln -s "$secret" "$d/new/1.M0P0Q0.link"
	mkfifo "$d/new/2.M0P0Q0.fifo"
	run -0 spool take "$d"
	[ "${lines[0]}" = "spool: skipping $d/new/1.M0P0Q0.link: a symlink" ]
	[ "${lines[1]}" = "spool: skipping $d/new/2.M0P0Q0.fifo: not a regular file" ]
	[ "${lines[2]}" = real ]
	[ "$(cat "$secret")" = secret ]
	[ -L "$d/new/1.M0P0Q0.link" ]
}

@test "a full disk is exit 74 with nothing half-visible" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	local m
	m=$(mktemp -d "${TMPDIR:-/tmp}/spool-full.XXXXXX")
	it_track path "$m"
	mount -t tmpfs -o size=64k tmpfs "$m" 2>/dev/null ||
		skip "cannot mount a tmpfs here"
	SPOOL_MNT=$m
	spool put -c "$m/s" small
	run -74 spool put --whole "$m/s" < <(head -c 200k /dev/zero)
	output_is "spool: unable to put a message in $m/s: No space left on device"
	[ "$(count "$m/s/new")" = 1 ]
	[ "$(count "$m/s/tmp")" = 0 ]
	[ "$(spool take "$m/s")" = small ]
	umount "$m"
}

@test "usage errors are exit 64" {
	run -64 spool
	[ "${lines[0]}" = "spool: missing command: put, take, ls or stat" ]
	run -64 spool frob d
	[ "${lines[0]}" = "spool: unknown command 'frob'" ]
	run -64 spool take
	[ "${lines[0]}" = "spool: take needs a DIR" ]
	run -64 spool take d extra
	[ "${lines[0]}" = "spool: unexpected operand 'extra'" ]
	run -64 spool take -n 2 --follow d
	[ "${lines[0]}" = "spool: cannot use --count with --follow" ]
	run -64 spool take --nowait -w 1s d
	[ "${lines[0]}" = "spool: --nowait and --timeout: choose one" ]
	run -64 spool take --tries 2 d
	[ "${lines[0]}" = "spool: --tries goes with --exec" ]
	run -64 spool take d --exec
	[ "${lines[0]}" = "spool: --exec needs a CMD" ]
	run -64 spool take --netstring d --exec cat
	[ "${lines[0]}" = "spool: --exec gives CMD the message as it is: no framing option applies" ]
	run -64 spool put --follow d
	[ "${lines[0]}" = "spool: cannot use --follow with put" ]
	run -64 spool ls --no-sync d
	[ "${lines[0]}" = "spool: cannot use --no-sync with ls" ]
	run -64 spool stat --print-name d
	[ "${lines[0]}" = "spool: cannot use --print-name with stat" ]
	run -64 spool put --max-size 0 d
	[ "${lines[0]}" = "spool: invalid size '0': out of range" ]
	run -64 spool take -n 0 d
	[ "${lines[0]}" = "spool: invalid count '0': out of range" ]
	run -64 spool take -w 1x d
	[ "${lines[0]}" = "spool: invalid duration '1x'" ]
	run -64 spool take --ready-fd 99 d
	[ "${lines[0]}" = "spool: invalid file descriptor '99': not an open file descriptor" ]
}

@test "the notes' import/ directory: a producer's files, a consumer that imports them" {
	local top
	top=$(it_path work)
	mkdir "$top"
	# The producer writes XML records with unique names into import/;
	# two arrive before the consumer looks, and neither overwrites the other.
	printf '<record id="1"/>\n' | spool put -c --whole "$top/import"
	printf '<record id="2"/>\n' | spool put --whole "$top/import"
	[ "$(count "$top/import/new")" = 2 ]
	# The consumer scans the directory and imports each file, once.
	run -0 spool take --follow --nowait "$top/import" \
		--exec sh -c 'cat >>"$0"' "$top/imported.xml"
	[ "$(cat "$top/imported.xml")" = $'<record id="1"/>\n<record id="2"/>' ]
	[ "$(count "$top/import/new")" = 0 ]
	run -1 spool take --nowait "$top/import"
}

@test "4 putters x 10,000 and 4 takers at once: every message exactly once" {
	# The outputs on tmpfs too: each message is synced there before it goes.
	local d i
	d=$(fast_dir)
	spool put -c "$d"
	local pids=() out=()
	for i in 1 2 3 4; do
		out+=("$(fast_dir)")
		spool take --follow -w 2s "$d" >"${out[-1]}" 3>&- &
		pids+=($!)
		it_track pid "$!"
	done
	for i in 1 2 3 4; do
		seq -f "p$i-%g" 1 10000 | spool put "$d" 3>&- &
		pids+=($!)
		it_track pid "$!"
	done
	for i in "${pids[@]}"; do
		it_wait "$i" 60
		[ "$IT_STATUS" = 0 ]
	done
	[ "$(cat "${out[@]}" | wc -l)" = 40000 ]
	[ "$(cat "${out[@]}" | sort -u | wc -l)" = 40000 ]
	# None partial: each is a whole line of its putter.
	[ "$(cat "${out[@]}" | grep -cE '^p[1-4]-[0-9]+$')" = 40000 ]
	# Each taker saw each putter's messages in the putter's order.
	for o in "${out[@]}"; do
		for i in 1 2 3 4; do
			grep "^p$i-" "$o" | cut -d- -f2 | sort -nc
		done
	done
	[ "$(count "$d/new")" = 0 ] && [ "$(count "$d/claim")" = 0 ]
}

@test "takers killed by SIGKILL at random points lose nothing" {
	local d all round t
	d=$(fast_dir)
	all=$(it_path all)
	seq 1 20000 | spool put -c --no-sync "$d"
	for round in 1 2 3 4 5 6; do
		local pids=()
		for t in 1 2 3; do
			spool take --follow --nowait "$d" >>"$all" 3>&- &
			pids+=($!)
		done
		sleep "0.0$((SRANDOM % 5 + 1))"
		kill -KILL "${pids[@]}" 2>/dev/null || :
		for t in "${pids[@]}"; do wait "$t" || :; done
	done
	run -0 spool take --follow --nowait "$d"
	printf '%s\n' "$output" >>"$all"
	grep -v '^$' "$all" | sort -n | uniq | cmp - <(seq 1 20000)
	[ "$(count "$d/claim")" = 0 ] && [ "$(count "$d/new")" = 0 ]
}

@test "--follow sees 10,000 files dropped in a burst, and all after an overflow" {
	local d out n
	d=$(fast_dir)
	out=$(fast_dir)
	spool put -c "$d"
	it_bg_ready spool take --follow -w 2s --ready-fd 9 "$d" >"$out"
	seq 1 10000 | spool put --no-sync "$d"
	it_wait "$IT_PID" 30
	[ "$IT_STATUS" = 0 ]
	cmp "$out" <(seq 1 10000)
	# Stopped, the follower lets more events pile up than inotify queues
	# (fs.inotify.max_queued_events): it must scan again on IN_Q_OVERFLOW.
	n=$(($(cat /proc/sys/fs/inotify/max_queued_events) + 1000))
	((n <= 100000)) || skip "max_queued_events is too large to overflow fast"
	it_bg_ready spool take --follow -w 2s --ready-fd 9 "$d" >"$out"
	kill -STOP "$IT_PID"
	seq 1 "$n" | spool put --no-sync "$d"
	kill -CONT "$IT_PID"
	it_wait "$IT_PID" 60
	[ "$IT_STATUS" = 0 ]
	cmp "$out" <(seq 1 "$n")
}

@test "python's mailbox.Maildir puts, spool takes; spool puts, python reads" {
	command -v python3 >/dev/null || skip "needs python3"
	local d
	d=$(spool_dir)
	python3 - "$d" <<'EOF'
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=True)
for i in range(3):
    md.add(b"from python %d" % i)
EOF
	run -0 spool take -n 3 -0 "$d"
	[ "$output" = "$(printf 'from python 0\0from python 1\0from python 2')" ]
	spool put "$d" "from spool 1" "from spool 2"
	run -0 python3 - "$d" <<'EOF'
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
for key in sorted(md.keys(), key=lambda k: md.get_file(k).read()):
    print(md.get_bytes(key).decode())
    md.remove(key)
EOF
	[ "$output" = $'from spool 1\nfrom spool 2' ]
	[ "$(count "$d/new")" = 0 ]
}

@test "the man page's SYNOPSIS names the same commands as --usage" {
	local man=$BATS_TEST_DIRNAME/../man/spool.1 c
	for c in put take ls stat; do
		spool --usage | grep -q " $c "
		grep -q "^\.Cm $c" "$man"
	done
}

complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_spool spool
}

@test "completion: commands, each command's options from --help, dirs, --exec CMD" {
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/spool"
	complete_words spool ""
	[ "${COMPREPLY[*]}" = "put take ls stat" ]
	complete_words spool t
	[ "${COMPREPLY[*]}" = take ]
	complete_words spool take --fo
	[ "${COMPREPLY[*]}" = --follow ]
	complete_words spool put --
	[[ " ${COMPREPLY[*]} " == *" --print-name "* && " ${COMPREPLY[*]} " != *" --follow "* ]]
	complete_words spool put --wa
	[ "${COMPREPLY[*]}" = --wait ]
	complete_words spool take --wa
	[ "${#COMPREPLY[@]}" = 0 ]
	complete_words spool put --wait=
	[ "${#COMPREPLY[@]}" = 0 ]
	complete_words spool ls --j
	[ "${COMPREPLY[*]}" = --json ]
	complete_words spool take --tri
	[ "${COMPREPLY[*]}" = --tries= ]
	complete_words spool take --tries=
	[ "${#COMPREPLY[@]}" = 0 ]
	local d
	d=$(spool_dir named)
	mkdir "$d"
	complete_words spool take "${d%.*}"
	[ "${COMPREPLY[*]}" = "$d" ]
	complete_words spool take "$d" --exec spoo
	[[ " ${COMPREPLY[*]} " == *" spool "* ]]
}

@test "take into a pipe: SIGTERM while a slow reader has not read yet is 143, the message read later and not put back; the pipe gets its size back" {
	local d fifo gate out pid
	d=$(spool_dir)
	fifo=$(it_path fifo)
	gate=$(it_path gate)
	out=$(it_path out)
	mkfifo "$fifo" "$gate"
	spool put -c "$d" one two
	it_bg bash -c 'exec 4<"$1"; read -r _ <"$2"; python3 -c "import fcntl; print(fcntl.fcntl(4, 1032))" >"$3.size"; cat <&4 >"$3"' _ "$fifo" "$gate" "$out"
	local reader=$IT_PID
	it_bg spool take --follow "$d" >"$fifo"
	pid=$IT_PID
	wait_for bash -c '[ "$(find "$1" -mindepth 1 | wc -l)" = 1 ]' _ "$d/new"
	wait_for grep -q poll "/proc/$pid/wchan"
	kill -TERM "$pid"
	it_wait "$pid"
	[ "$IT_STATUS" -eq 143 ]
	echo go >"$gate"
	it_wait "$reader"
	[ "$(cat "$out")" = one ]
	# Shrunk to a page while the reader had not read: given back even
	# though take ended by the signal.
	[ "$(cat "$out.size")" = 65536 ]
	[ "$(count "$d/new")" = 1 ]
	[ "$(count "$d/claim")" = 0 ]
	run -0 bash -c '{ spool take "$1"; python3 -c "import fcntl; print(fcntl.fcntl(1, 1032))"; } | cat' _ "$d"
	[ "$output" = "$(printf 'two\n65536')" ]
}

# ---- issue 14: whole messages, mail tools, a new user's holes ----------

@test "a message over 2 GiB is taken whole, in as many reads as it takes" {
	local d
	d=$(fast_dir)
	spool put -c "$d"
	# One read(2) returns at most 2 GiB less a page: the end is lost if
	# the message is read in one. A sparse file costs no memory on tmpfs.
	truncate -s 2200M "$d/tmp/big"
	printf end >>"$d/tmp/big"
	mv "$d/tmp/big" "$d/new/1.M0P0Q1.big"
	run -0 bash -c 'set -o pipefail; spool take --whole --max-size 3G "$1" | tail -c 3' _ "$d"
	output_is end
	[ "$(count "$d/new")" = 0 ] && [ "$(count "$d/claim")" = 0 ]
}

@test "files cp'd and mv'd into new/ from another file system while two takers follow: each taken once, whole (100 rounds)" {
	[ -d /dev/shm ] && [ -w /dev/shm ] || skip "needs /dev/shm, another file system than the test's"
	local d src out i p pids=()
	d=$(spool_dir)
	out=$(it_path out)
	mkdir "$out"
	src=$(mktemp -d /dev/shm/spool-src.XXXXXX)
	it_track path "$src"
	[ "$(stat -c %d "$src")" != "$(stat -c %d "$out")" ] || skip "/dev/shm is on the test's file system"
	spool put -c "$d"
	for i in 1 2; do
		it_bg_ready spool take --follow --ready-fd 9 "$d" --exec sh -c 'cat >"$0/$SPOOL_NAME"' "$out"
		pids+=("$IT_PID")
	done
	head -c 256k /dev/urandom >"$src/fill"
	for ((i = 1; i <= 100; i++)); do
		{ echo "message $i" && cat "$src/fill"; } >"$src/$i"
		if ((i % 2)); then
			cp "$src/$i" "$d/new/$i.M0P0Q$i.h"
		else
			cp "$src/$i" "$src/$i.mv" && mv "$src/$i.mv" "$d/new/$i.M0P0Q$i.h"
		fi
	done
	wait_for bash -c '[ -z "$(find "$1/new" "$1/claim" -mindepth 1)" ]' _ "$d"
	for p in "${pids[@]}"; do
		kill -TERM "$p"
		it_wait "$p"
		[ "$IT_STATUS" = 143 ]
	done
	[ "$(count "$out")" = 100 ]
	for ((i = 1; i <= 100; i++)); do
		cmp "$src/$i" "$out/$i.M0P0Q$i.h"
	done
}

@test "take into a full file system cuts the part written off its output and puts the message back: each once, whole (30 messages)" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	local d m all round x
	d=$(spool_dir)
	all=$(it_path all)
	m=$(mktemp -d "${TMPDIR:-/tmp}/spool-full.XXXXXX")
	it_track path "$m"
	mount -t tmpfs -o size=64k tmpfs "$m" 2>/dev/null || skip "cannot mount a tmpfs here"
	SPOOL_MNT=$m
	x=$(head -c 9000 /dev/zero | tr '\0' x)
	for ((round = 1; round <= 30; round++)); do
		printf '%05d%s\n' "$round" "$x"
	done | spool put -c --no-sync "$d"
	: >"$all"
	for ((round = 1; round <= 30; round++)); do
		run bash -c 'spool take --follow --nowait "$1" >"$2"' _ "$d" "$m/out"
		# Only whole messages in the output, however the write ended.
		[ "$(grep -cvE "^[0-9]{5}x{9000}\$" "$m/out")" = 0 ]
		cat "$m/out" >>"$all"
		rm "$m/out"
		[ "$status" = 0 ] && break
		[ "$status" = 74 ]
		output_is "spool: unable to write standard output: No space left on device"
	done
	[ "$status" = 0 ]
	[ "$(cut -c 1-5 "$all")" = "$(seq -f '%05g' 1 30)" ]
	[ "$(count "$d/new")" = 0 ] && [ "$(count "$d/claim")" = 0 ]
	umount "$m"
}

@test "take --exec CMD | head -n 1: the rest stays queued as it was, none failed, and take ends as by SIGPIPE (30 messages)" {
	local d
	d=$(spool_dir)
	seq 1 30 | spool put -c "$d"
	run -0 timeout 20 bash -c 'spool take --follow "$1" --exec sh -c "cat; echo" | head -n 1; echo "${PIPESTATUS[0]}"' _ "$d"
	[ "$output" = $'1\n141' ]
	[ "$(count "$d/new")" = 29 ]
	[ ! -e "$d/failed" ] || [ "$(count "$d/failed")" = 0 ]
	[ -z "$(find "$d/new" -name '*:*')" ]
	run -0 spool take --follow --nowait "$d"
	[ "$output" = "$(seq 2 30)" ]
}

@test "SIGTERM and SIGHUP end a take blocked writing to a reader that does not read; the message goes back whole (10 rounds)" {
	local d fifo gate big round pid reader sig
	d=$(spool_dir)
	fifo=$(it_path fifo)
	gate=$(it_path gate)
	big=$(it_path big)
	mkfifo "$fifo" "$gate"
	head -c 1M /dev/urandom >"$big"
	spool put -c --whole "$d" <"$big"
	for ((round = 1; round <= 10; round++)); do
		it_bg bash -c 'exec 4<"$1"; read -r _ <"$2"' _ "$fifo" "$gate"
		reader=$IT_PID
		it_bg spool take --whole "$d" >"$fifo"
		pid=$IT_PID
		wait_for grep -q pipe_write "/proc/$pid/wchan"
		sig=$((round % 2 ? 15 : 1))
		kill "-$sig" "$pid"
		it_wait "$pid"
		[ "$IT_STATUS" = $((128 + sig)) ]
		echo >"$gate"
		it_wait "$reader"
		[ "$(count "$d/new")" = 1 ] && [ "$(count "$d/claim")" = 0 ]
		cmp "$big" "$d"/new/*
	done
}

@test "an unreadable file in new/ (another user's, 0600) is skipped with a warning, and the rest are taken" {
	need_other_user
	local base
	base=$(mktemp -d "${TMPDIR:-/tmp}/spool-perm.XXXXXX")
	it_track path "$base"
	chown nobody "$base"
	as_nobody "$IT_BIN/spool" put -c "$base/s" ok
	printf secret >"$base/s/new/1.M0P0Q0.root"
	chmod 600 "$base/s/new/1.M0P0Q0.root"
	run -0 as_nobody "$IT_BIN/spool" take --follow --nowait "$base/s"
	[ "${lines[0]}" = "spool: skipping $base/s/new/1.M0P0Q0.root: Permission denied" ]
	[ "${lines[1]}" = ok ]
	[ "${#lines[@]}" = 2 ]
	[ -f "$base/s/new/1.M0P0Q0.root" ]
}

@test "a lock another process holds on a file in new/: take sleeps until it can change, and -w holds" {
	local d name lockpid
	d=$(spool_dir)
	name=$(spool put -c --print-name "$d" held)
	(exec 8<"$d/new/$name" && flock -x 8 && exec sleep 60) 3>&- &
	lockpid=$!
	it_track pid "$lockpid"
	wait_for bash -c '! flock -xn "$1" true' _ "$d/new/$name"
	run -1 timeout 10 spool take -w 300ms "$d"
	output_is "spool: unable to take from $d: timed out"
	run -1 timeout 10 spool take --follow -w 300ms "$d"
	output_is "spool: unable to take from $d: timed out"
	command -v strace >/dev/null || skip "needs strace to count the tries"
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	run -1 strace -f -e trace=flock -o "$d.trace" spool take --follow -w 300ms "$d"
	(($(grep -c 'flock(' "$d.trace") <= 3))
}

@test "a symlinked DIR is refused with slashes at its end too; so are tmp, new and cur through DIR/" {
	local d l p sub
	d=$(spool_dir)
	l=$(spool_dir link)
	spool put -c "$d" x
	ln -s "$d" "$l"
	for p in "$l/" "$l//"; do
		run -77 spool take "$p"
		output_is "spool: unable to open $p: a symlink, refused"
		run -77 spool put --any-owner "$p" y
		output_is "spool: unable to open $p: a symlink, refused"
	done
	for sub in tmp new cur; do
		mv "$d/$sub" "$d/$sub.real"
		ln -s "$sub.real" "$d/$sub"
		run -77 spool take "$d/"
		output_is "spool: unable to open $d/$sub: a symlink, refused"
		rm "$d/$sub"
		mv "$d/$sub.real" "$d/$sub"
	done
	run -0 spool take "$d/"
	output_is x
}

@test "a DIR or subdirectory anyone may write to without the sticky bit is 77 unless --any-owner" {
	local d
	d=$(spool_dir)
	spool put -c "$d" x
	chmod 777 "$d"
	run -77 spool take "$d"
	output_is "spool: unable to open $d: anyone may write to it and it is not sticky (chmod o-w or +t, or use --any-owner)"
	chmod 1777 "$d"
	chmod 777 "$d/new"
	run -77 spool put "$d" y
	output_is "spool: unable to open $d/new: anyone may write to it and it is not sticky (chmod o-w or +t, or use --any-owner)"
	run -0 spool put --any-owner "$d" y
	chmod 700 "$d" "$d/new"
	run -0 spool take -n 2 "$d"
	[ "$output" = $'x\ny' ]
}

@test "ls escapes a newline or a tab in a name as error lines do; --json keeps its bytes" {
	local d n
	d=$(spool_dir)
	spool put -c "$d"
	n=$'x\nnew\t9\t0\tforged'
	printf a >"$d/new/$n"
	run -0 spool ls "$d"
	[ "${#lines[@]}" = 1 ]
	[ "$output" = "$(printf 'new\t1\t0\tx\\nnew\\t9\\t0\\tforged')" ]
	run -0 spool ls --json "$d"
	python3 -c 'import json, sys; assert json.loads(sys.stdin.read())["name"] == sys.argv[1]' "$n" <<<"$output"
}

@test "a maildir shared with mail tools: mail in cur/ is theirs and left alone, and claims are out of their sight" {
	command -v python3 >/dev/null || skip "needs python3"
	local d out
	d=$(spool_dir)
	out=$(it_path out)
	spool put -c "$d" one two
	# Mail that python put in cur/ as already seen, and a reader that
	# marks "one" seen: new/NAME becomes cur/NAME:2,S.
	python3 - "$d" <<'PY'
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
m = mailbox.MaildirMessage(b"read before")
m.set_subdir("cur")
m.add_flag("S")
md.add(m)
for key in md.keys():
    msg = md.get_message(key)
    if msg.get_payload() == "one":
        msg.set_subdir("cur")
        msg.add_flag("S")
        md[key] = msg
PY
	run -0 spool take --follow --nowait "$d"
	output_is two
	[ "$(count "$d/cur")" = 2 ]
	run -0 spool stat "$d"
	[[ $output == *$'\ncur=2\n'* ]]
	# A live claim (CMD still runs) is not python's to see or take.
	spool put "$d" three
	mkfifo "$out.go"
	it_bg spool take "$d" --exec sh -c 'cat >"$0"; read -r _ <"$0.go"' "$out"
	wait_for test -s "$out"
	run -0 python3 - "$d" <<'PY'
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
print(sorted(md.get_bytes(k).decode().strip() for k in md.keys()))
PY
	output_is "['one', 'read before']"
	echo >"$out.go"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = three ]
	[ "$(count "$d/cur")" = 2 ] && [ "$(count "$d/new")" = 0 ]
}

@test "ls and stat refuse framing options; completion offers them only for put and take" {
	run -64 spool ls -0 d
	[ "${lines[0]}" = "spool: cannot use --null with ls" ]
	run -64 spool stat --whole d
	[ "${lines[0]}" = "spool: cannot use --whole with stat" ]
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/spool"
	complete_words spool ls --
	[[ " ${COMPREPLY[*]} " != *" --null "* && " ${COMPREPLY[*]} " != *" --whole "* ]]
	[[ " ${COMPREPLY[*]} " == *" --json "* && " ${COMPREPLY[*]} " == *" --help "* ]]
	complete_words spool take --n
	[[ " ${COMPREPLY[*]} " == *" --netstring "* && " ${COMPREPLY[*]} " == *" --null "* ]]
}

@test "stat counts only what take would take, and the rest as skipped=" {
	local d
	d=$(spool_dir)
	spool put -c "$d" a
	ln -s /etc/passwd "$d/new/1.M0P0Q0.link"
	mkdir "$d/new/2.M0P0Q0.dir" "$d/cur/3.M0P0Q0.dir"
	run -0 spool stat "$d"
	eval "$output"
	[ "$new" = 1 ] && [ "$cur" = 0 ] && [ "$skipped" = 3 ]
	((oldest_age < 100))
	run -0 spool ls "$d"
	[ "${#lines[@]}" = 1 ]
}

@test "two long names alike up to the cut stay two when put back with an attempt count" {
	local d long
	d=$(spool_dir)
	spool put -c "$d"
	long=$(printf 'x%.0s' {1..250})
	printf one >"$d/new/${long}A"
	printf two >"$d/new/${long}B"
	run -1 spool take -n 2 "$d" --exec sh -c 'exit 3'
	[ "$(count "$d/new")" = 2 ]
	[ "$(find "$d/new" -name '*:1,1' | wc -l)" = 2 ]
	run -1 spool take -n 2 "$d" --exec sh -c 'exit 3'
	[ "$(find "$d/new" -name '*:1,2' | wc -l)" = 2 ]
	[ "$(cat "$d"/new/* | sort | tr -d '\n')" = onetwo ]
}

@test "put --print-name prints each name once its message is in new/; a stdout that fails is 74, saying how many were put" {
	local d gate
	d=$(spool_dir)
	gate=$(it_path gate)
	mkfifo "$gate"
	spool put -c "$d"
	run -74 bash -c 'spool put --print-name "$1" a b c >/dev/full' _ "$d"
	output_is "spool: unable to write standard output: No space left on device (1 message put)"
	[ "$(count "$d/new")" = 1 ]
	# The first name comes while put still waits for its second message.
	run -0 bash -c '{ echo first; exec 5<>"$2"; read -r -t 10 _ <&5; echo second; } |
		spool put --print-name "$1" | { read -r -t 10 n && [ -f "$1/new/$n" ] && echo >"$2" && read -r -t 10 m && echo "$n $m"; }' _ "$d" "$gate"
	[[ $output =~ ^[^\ ]+\ [^\ ]+$ ]]
}

@test "an empty DIR is a usage error; --max-size takes k, M, G, T in either case and nothing after" {
	local d
	d=$(spool_dir)
	run -64 spool put ''
	[ "${lines[0]}" = "spool: invalid DIR '': empty" ]
	run -64 spool take -c ''
	[ "${lines[0]}" = "spool: invalid DIR '': empty" ]
	for bad in 1MiB 1MB 1k0; do
		run -64 spool put --max-size "$bad" "$d" x
		[[ ${lines[0]} == "spool: invalid size '$bad'"* ]]
	done
	run -0 spool put -c --max-size 1T "$d" x
	run -0 spool put --max-size 1K "$d" "$(head -c 1024 /dev/zero | tr '\0' x)"
	run -65 spool put --max-size 1K "$d" "$(head -c 1025 /dev/zero | tr '\0' x)"
	[ "$(count "$d/new")" = 2 ]
}

@test "review: a socket or another's write lease in new/ blocks nobody" {
	command -v python3 >/dev/null || skip "needs python3"
	local d lease
	d=$(spool_dir)
	spool put -c "$d" ok
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/new/0.sock"
	run -0 spool take --follow --nowait "$d"
	[ "${lines[0]}" = "spool: skipping $d/new/0.sock: not a regular file" ]
	[ "${lines[1]}" = ok ]
	rm "$d/new/0.sock"
	spool put "$d" two
	lease=$(it_path lease)
	printf held >"$d/new/1.M0P0Q0.lease"
	mkfifo "$lease"
	# A lease holder (a file server, say) is told by SIGIO that
	# someone wants the file, and lets go when it is done.
	it_bg python3 -c '
import fcntl, os, signal, sys
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, 1024, fcntl.F_WRLCK)
with open(sys.argv[2], "w") as f:
    f.write("ready\n")
os.read(os.open(sys.argv[2], os.O_RDONLY), 1)' "$d/new/1.M0P0Q0.lease" "$lease"
	read -r -t 10 _ <"$lease"
	run -0 spool take --follow --nowait "$d"
	output_is two
	echo >"$lease"
	it_wait "$IT_PID"
	run -0 spool take --follow --nowait "$d"
	output_is held
}

@test "review: a message with a newline is not cut into lines (nor one with a NUL by -0): skipped with a warning, left whole" {
	local d name
	d=$(spool_dir)
	spool put -c "$d"
	name=$(printf 'line1\nline2\n' | spool put --whole --print-name "$d")
	printf 'line3' | spool put --whole "$d"
	run -0 bash -c 'spool take --follow "$1" 2>"$1.err" | head -n 1' _ "$d"
	output_is line3
	[ "$(cat "$d.err")" = "spool: skipping $d/new/$name: holds a newline, which lines cannot frame (take it with --whole, --netstring or --exec)" ]
	run -0 spool take --follow --nowait -0 "$d"
	[ "$output" = "$(printf 'line1\nline2\n')" ]
	printf 'a\0b' | spool put --whole "$d"
	run -0 spool take --follow --nowait -0 "$d"
	[[ $output == *"holds a NUL byte, which -0 cannot frame"* ]]
	[ "$(count "$d/new")" = 1 ]
	spool take --netstring "$d" | cmp - <(printf '3:a\0b,')
}

@test "review: take --exec into a full or closed stdout puts the message back, exit 74, nothing failed" {
	local d name
	d=$(spool_dir)
	name=$(spool put -c --print-name "$d" a)
	spool put "$d" b
	run -74 bash -c 'spool take --follow --nowait "$1" --exec cat >/dev/full' _ "$d"
	[ "${lines[-1]}" = "spool: unable to write standard output: No space left on device (cat failed on $name, which went back to new/)" ]
	run -74 bash -c 'spool take "$1" --exec cat >&-' _ "$d"
	[ "${lines[-1]}" = "spool: unable to write standard output: Bad file descriptor (cat failed on $name, which went back to new/)" ]
	[ "$(count "$d/new")" = 2 ] && [ ! -e "$d/failed" ]
	[ -z "$(find "$d/new" -name '*:*')" ]
}

@test "review: names already taken in claim/, new/ or failed/ block nobody; a count that overflows counts as none" {
	local d
	d=$(spool_dir)
	spool put -c "$d"
	[ -d "$d/claim" ]
	# An orphaned claim whose name was dropped into new/ again.
	echo orphan >"$d/claim/X"
	echo fresh >"$d/new/X"
	echo other >"$d/new/zz"
	run -0 spool take --follow --nowait "$d"
	[ "$(sort <<<"$output")" = "$(printf 'fresh\norphan\nother\n' | sort)" ]
	# A put-back whose name with its count is in new/ already.
	echo first >"$d/new/A"
	echo second >"$d/new/A:1,1"
	run -1 spool take "$d" --exec sh -c 'exit 1'
	[ "$(cat "$d/new/A:1,1")" = second ] && [ "$(cat "$d/new/A~1:1,1")" = first ]
	# A move to failed/ whose name is there from an earlier failure.
	rm "$d"/new/*
	mkdir "$d/failed"
	echo day1 >"$d/failed/B:1,1"
	echo day2 >"$d/new/B"
	run -1 spool take --tries 1 "$d" --exec false
	[ "$(cat "$d/failed/B~1:1,1")" = day2 ] && [ "$(cat "$d/failed/B:1,1")" = day1 ]
	# Anyone may name a file: a count past INT_MAX is no count.
	echo x >"$d/new/c:1,99999999999999999999"
	run -1 timeout 10 spool take --follow --nowait --tries 2 "$d" --exec false
	[ -f "$d/failed/c:1,2" ] && [ "$(count "$d/new")" = 0 ]
}

@test "review: a stop signal while CMD runs is passed on to it and ends take; the message goes back unharmed" {
	local d pidf name
	d=$(spool_dir)
	pidf=$(it_path pid)
	name=$(spool put -c --print-name "$d" m1)
	it_bg spool take --follow "$d" --exec sh -c 'echo $$ >"$0"; exec sleep 30' "$pidf"
	wait_for test -s "$pidf"
	it_track pid "$(cat "$pidf")"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 143 ]
	wait_for bash -c '! kill -0 "$1" 2>/dev/null' _ "$(cat "$pidf")"
	[ -f "$d/new/$name" ] && [ "$(count "$d/claim")" = 0 ]
}

@test "review: new/ removed while take waits is 66 at once" {
	local d
	d=$(spool_dir)
	spool put -c "$d"
	it_bg_ready spool take --follow --ready-fd 9 "$d" 2>"$d.err"
	rmdir "$d/new"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 66 ]
	[ "$(cat "$d.err")" = "spool: unable to take from $d: new/ was removed or moved away" ]
}

@test "review: claim/ that root makes with --any-owner is DIR's owner's" {
	need_other_user
	local base
	base=$(mktemp -d "${TMPDIR:-/tmp}/spool-own.XXXXXX")
	it_track path "$base"
	chown nobody "$base"
	as_nobody "$IT_BIN/spool" put -c "$base/s" a b
	rmdir "$base/s/claim"
	run -0 spool take --any-owner "$base/s"
	output_is a
	[ "$(stat -c %U "$base/s/claim")" = nobody ]
	run -0 as_nobody "$IT_BIN/spool" take "$base/s"
	output_is b
}

@test "review: a one-line file is one line; put --print-name into a reader that goes says how many were put; DIR/. is refused" {
	local d l
	d=$(spool_dir)
	l=$(spool_dir link)
	spool put -c "$d"
	echo x >"$d/new/f"
	run -0 spool take "$d"
	output_is x
	run -0 bash -c 'seq 1 2000 | spool put --no-sync --print-name "$1" 2>"$1.err" | head -n 1 >/dev/null; echo "${PIPESTATUS[1]}"' _ "$d"
	output_is 141
	[[ $(cat "$d.err") =~ ^spool:\ unable\ to\ write\ standard\ output:\ Broken\ pipe\ \(([0-9]+)\ messages?\ put\)$ ]]
	[ "$(count "$d/new")" = "${BASH_REMATCH[1]}" ]
	ln -s "$d" "$l"
	run -64 spool take "$l/."
	[ "${lines[0]}" = "spool: invalid DIR '$l/.': name the directory, not . or .. in it" ]
	run -64 spool put "$l/.." x
	[[ ${lines[0]} == "spool: invalid DIR '$l/..': "* ]]
}

# The literal blocks of spool(1)'s EXAMPLES, one file each (1, 2, ...) in $1.
spool_examples() {
	awk -v dir="$1" '
		/^\.Sh / { ex = ($0 == ".Sh EXAMPLES") }
		ex && /^\.Bd -literal/ { n++; f = dir "/" n; printf "" >f; next }
		ex && /^\.Ed/ { close(f); f = ""; next }
		f != "" { gsub(/\\e/, "\\"); print >>f }
	' "$BATS_TEST_DIRNAME/../man/spool.1"
}

# Runs the blocks in $1 in order, in one fresh working directory $2, each
# in a process group of its own with a deadline: every command must
# succeed (one into head may end by SIGPIPE). With $3 set, a spool on
# PATH makes every background take (stdin /dev/null) start late, only
# after the next put has ended: a block that needs its worker to have
# started, or to have made the spool, before it puts fails then.
run_spool_examples() {
	local dir=$1 work=$2 late=${3:-} b pid st line fail=0
	mkdir -p "$work" "$work/.bin"
	: >"$work/.empty"
	cat >"$work/.bin/spool" <<-WRAP
		#!/usr/bin/env bash
		marks=$work/.puts
		if [ "\$1" = take ] && [ -n "$late" ] && [ /proc/self/fd/0 -ef /dev/null ]; then
			n=\$(cat "\$marks" 2>/dev/null | wc -l)
			end=\$((SECONDS + $IT_DEADLINE))
			while [ "\$(cat "\$marks" 2>/dev/null | wc -l)" -le "\$n" ] && ((SECONDS < end)); do
				sleep 0.02
			done
		fi
		st=0
		"$IT_BIN/spool" "\$@" || st=\$?
		[ "\$1" != put ] || echo >>"\$marks"
		exit "\$st"
	WRAP
	chmod +x "$work/.bin/spool"
	for b in $(find "$dir" -maxdepth 1 -type f -regex '.*/[0-9]+' -printf '%f\n' | sort -n); do
		{
			# shellcheck disable=SC2016
			echo 'set -o pipefail; trap '\''echo "ERR $? $((LINENO - 1))" >&2'\'' ERR'
			cat "$dir/$b"
		} >"$dir/$b.sh"
		(cd "$work" && PATH=$work/.bin:$PATH exec setsid bash "$dir/$b.sh" >"$dir/$b.out" 2>"$dir/$b.err" <"$work/.empty" 3>&-) &
		pid=$!
		it_track pid "$pid"
		if ! it_wait "$pid" $((IT_DEADLINE * 2)); then
			echo "example $b did not end in time:" >&2
			cat "$dir/$b" >&2
			fail=1
		fi
		kill -KILL -- "-$pid" 2>/dev/null || :
		while read -r _ st line; do
			line=$(sed -n "${line}p" "$dir/$b")
			[[ $st == 141 && $line == *"| head"* ]] && continue
			echo "example $b: exit $st from: $line" >&2
			cat "$dir/$b.err" >&2
			fail=1
		done < <(grep '^ERR ' "$dir/$b.err")
	done
	return "$fail"
}

@test "spool(1)'s EXAMPLES run as shown, also when a background worker starts late (issue 14 item 14)" {
	command -v python3 >/dev/null || skip "an example needs python3"
	local ex=$BATS_TEST_TMPDIR/examples w
	mkdir "$ex"
	spool_examples "$ex"
	[ -s "$ex/5" ]
	for w in now late; do
		run_spool_examples "$ex" "$BATS_TEST_TMPDIR/work-$w" "${w#now}"
		# The worker ran its jobs, and the import its records.
		[ "$(wc -l <"$BATS_TEST_TMPDIR/work-$w/done.txt")" = 2 ]
		[ "$(grep -c '<record' "$BATS_TEST_TMPDIR/work-$w/imported.xml")" = 2 ]
	done
}

@test "take into a regular file syncs it before it removes each message (--exec too); --no-sync does not" {
	command -v strace >/dev/null || skip "needs strace"
	local d out
	d=$(spool_dir)
	out=$(it_path out)
	it_track path "$out"
	it_track path "$d.trace"
	spool put -c "$d" a b c d
	# LeakSanitizer cannot run under ptrace: no leak check in this one.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	# Each message's removal from claim/ comes after a sync of fd 1.
	synced_first() {
		grep -E '^(fsync|fdatasync)\(1\)|^unlinkat\(' "$1" |
			awk '/^f/ { s = 1; next } /^unlinkat/ { if (!s) bad = 1; s = 0; n++ }
			     END { exit bad || n != '"$2"' }'
	}
	strace -e trace=fsync,fdatasync,unlinkat -o "$d.trace" spool take -n 2 "$d" >"$out"
	synced_first "$d.trace" 2
	strace -f -e trace=fsync,fdatasync,unlinkat -o "$d.trace" spool take "$d" --exec cat >>"$out"
	sed -i 's/^[0-9]* *//' "$d.trace"
	synced_first "$d.trace" 1
	[ "$(cat "$out")" = $'a\nb\nc' ]
	strace -e trace=fsync,fdatasync,unlinkat -o "$d.trace" spool take --no-sync "$d" >>"$out"
	[ "$(grep -c 'sync(' "$d.trace")" = 0 ]
	[ "$(count "$d/new")" = 0 ] && [ "$(count "$d/claim")" = 0 ]
	[ "$(cat "$out")" = $'a\nb\ncd' ]
}

@test "--exec: a process CMD leaves behind with its stdin open does not keep the claim once CMD exits" {
	local d pidf gate out b
	d=$(spool_dir)
	pidf=$(it_path pid)
	gate=$(it_path gate)
	out=$(it_path out)
	mkfifo "$gate"
	spool put -c "$d" job
	# CMD fails and leaves a process holding the message's descriptor.
	# shellcheck disable=SC2016
	run -1 spool take "$d" --exec sh -c 'exec 3<&0; sleep 60 <&3 3<&- >/dev/null 2>&1 & echo $! >"$0"; exit 3' "$pidf"
	it_track pid "$(cat "$pidf")"
	[ "$(count "$d/new")" = 1 ]
	# A take that comes later takes it; then one that was already waiting.
	run -0 spool take --nowait "$d"
	[ "$output" = job ]
	spool put "$d" job2
	rm "$pidf"
	# shellcheck disable=SC2016
	it_bg spool take "$d" --exec sh -c 'exec 3<&0; sleep 60 <&3 3<&- >/dev/null 2>&1 & echo $! >"$0.tmp"; mv "$0.tmp" "$0"; read -r _ <"$1"; exit 3' "$pidf" "$gate"
	b=$IT_PID
	wait_for test -s "$pidf"
	it_track pid "$(cat "$pidf")"
	it_bg_ready spool take --ready-fd 9 "$d" >"$out"
	echo go >"$gate"
	it_wait "$b"
	[ "$IT_STATUS" = 1 ]
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = job2 ]
	[ "$(count "$d/new")" = 0 ] && [ "$(count "$d/claim")" = 0 ]
}

@test "-w: a take stopped (SIGSTOP) past its deadline ends when continued; one stopped holding a claim leaves others' -w bounded" {
	command -v strace >/dev/null || skip "needs strace"
	local d gate pid b
	d=$(spool_dir)
	gate=$(it_path gate)
	mkfifo "$gate"
	spool put -c "$d"
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	it_track path "$d.trace"
	it_bg_ready strace -f -e trace=ppoll,restart_syscall -o "$d.trace" spool take -w 300ms --ready-fd 9 "$d"
	wait_for pgrep -P "$IT_PID" spool
	pid=$(pgrep -P "$IT_PID" spool)
	kill -STOP "$pid"
	# Not a wait for a process: the deadline passes while it is stopped.
	sleep 0.5
	kill -CONT "$pid"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 1 ]
	# Continued, its wait is counted again from the deadline: none left,
	# where the wait the kernel restarts would have had all it had left.
	sed -n '/SIGCONT/,$p' "$d.trace" | grep -E 'ppoll|restart_syscall' | head -n 1 |
		grep -q 'tv_sec=0, tv_nsec=0}'
	# A taker stopped with a message claimed: another's -w still holds.
	spool put "$d" held
	it_bg spool take "$d" --exec sh -c 'read -r _ <"$0"' "$gate"
	b=$IT_PID
	claimed() { [ "$(count "$d/claim")" = 1 ]; }
	wait_for claimed
	kill -STOP "$b"
	run -1 spool take -w 200ms "$d"
	output_is "spool: unable to take from $d: timed out"
	kill -CONT "$b"
	echo go >"$gate"
	it_wait "$b"
	[ "$IT_STATUS" = 0 ]
	[ "$(count "$d/claim")" = 0 ]
}

@test "ls escapes a backslash in a name as \\\\: a name read back is one name only" {
	local d n
	d=$(spool_dir)
	spool put -c "$d"
	# Printed raw, the backslash would make this name's line the same as
	# that of x<newline>y.
	printf a >"$d/new/x\\ny"
	printf b >"$d/new/"$'x\ny'
	printf c >"$d/new/"$'t\\\x01\x7f'
	run -0 spool ls "$d"
	[ "${#lines[@]}" = 3 ]
	# Each line reads back (printf %b undoes the escapes) to a name there.
	local l name seen=()
	for l in "${lines[@]}"; do
		name=$(printf '%bEND' "${l##*$'\t'}")
		name=${name%END}
		[ -f "$d/new/$name" ]
		seen+=("$name")
	done
	[ "$(printf '%s\0' "${seen[@]}" | sort -zu | tr -cd '\0' | wc -c)" = 3 ]
	printf '%s\n' "${lines[@]}" | grep -qF 'x\\ny'
	printf '%s\n' "${lines[@]}" | grep -qF 't\\\x01\x7f'
}

@test "a hand-made name: a count of attempts at or over --tries is none; a name with no time in it orders by its mtime" {
	local d
	d=$(spool_dir)
	spool put -c "$d"
	echo job >"$d/new/x:1,999"
	run -1 spool take --tries 3 "$d" --exec false
	[[ $output == *"back in new/, attempt 1 of 3" ]]
	[ -f "$d/new/x:1,1" ] && [ ! -e "$d/failed" ]
	run -0 spool take "$d"
	# Not before every message put by spool: by the time it was written
	# (set here: a file system's clock may lag the one put reads).
	local name
	name=$(spool put --print-name "$d" put)
	echo old >"$d/new/zz-old"
	touch -d "@$((${name%%.*} - 3600))" "$d/new/zz-old"
	echo late >"$d/new/aaa-late"
	touch -d "@$((${name%%.*} + 1))" "$d/new/aaa-late"
	run -0 spool ls "$d"
	[ "$(cut -f4 <<<"$output" | tr '\n' ' ')" = "zz-old $name aaa-late " ]
	run -0 spool take --follow --nowait "$d"
	[ "$output" = $'old\nput\nlate' ]
}

@test "review 2: a name of 255 bytes (NAME_MAX) is a message like any other: listed, taken, put back with its count" {
	local d long
	d=$(spool_dir)
	spool put -c "$d" </dev/null
	long=$(head -c 255 /dev/zero | tr '\0' L)
	echo x >"$d/new/$long"
	run -0 spool stat "$d"
	[[ $output == *$'\nnew=1\n'* ]]
	run -0 spool ls "$d"
	[[ $output == *"$long"* ]]
	run -1 spool take "$d" --exec false
	[[ $output == *"back in new/, attempt 1 of 3"* ]]
	run -0 spool take "$d"
	[ "$output" = x ]
	[ "$(count "$d/new")" = 0 ]
}

@test "review 2: put of an operand holding a newline under --lines is 65, nothing put; --whole puts it" {
	local d
	d=$(spool_dir)
	spool put -c "$d" </dev/null
	run -65 spool put "$d" a $'b\nc'
	[ "$output" = "spool: unable to put in $d: message 2 holds a newline, which lines cannot frame: nothing put (use --whole or --netstring)" ]
	[ "$(count "$d/new")" = 0 ]
	run -0 spool put --whole "$d" $'b\nc'
	spool take --whole "$d" | cmp - <(printf 'b\nc')
}

@test "review 2: take -n N that ends short is exit 1 saying how many it took and delivered" {
	local d
	d=$(spool_dir)
	printf 'a\nb\n' | spool put -c "$d"
	run -1 --separate-stderr spool take -n 3 -w 200ms "$d"
	[ "$output" = $'a\nb' ]
	[ "$stderr" = "spool: unable to take from $d: timed out after 2 of 3 messages, which were delivered" ]
	echo c | spool put "$d"
	run -1 --separate-stderr spool take -n 2 --nowait "$d"
	[ "$output" = c ]
	[ "$stderr" = "spool: unable to take from $d: no message (--nowait) after 1 of 2 messages, which were delivered" ]
	run -1 --separate-stderr spool take -n 2 --nowait "$d"
	[ "$stderr" = "spool: unable to take from $d: no message (--nowait)" ]
}

@test "review 2: the man page's 'take --follow q --exec awk 1 | head -n 1' takes one message and leaves the rest" {
	local d
	d=$(spool_dir)
	seq 1 5 | spool put -c "$d"
	run -0 timeout 20 bash -c 'spool take --follow "$1" --exec awk 1 | head -n 1' _ "$d"
	[ "$output" = 1 ]
	[ "$(count "$d/new")" = 4 ]
	grep -q 'spool take --follow q --exec awk 1 | head -n 1' "$BATS_TEST_DIRNAME/../man/spool.1"
}

# ---- put --wait: a synchronous send ----

# Starts `spool put --wait ...` in the background with stderr in a file;
# returns once n messages (default 1) are in DIR/new.
put_waiting() {
	local n=$1
	shift
	PUT_ERR=$(it_path err)
	it_bg spool put --wait "$@" 2>"$PUT_ERR"
	PUT_PID=$IT_PID
	wait_for new_at_least "$n"
}

new_at_least() {
	[ "$(count "$PUT_DIR/new")" -ge "$1" ]
}

@test "put --wait returns 0 once every message it put was taken and removed, not before" {
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 2 "$PUT_DIR" one two
	run -0 spool take "$PUT_DIR"
	[ "$output" = one ]
	# One of two taken: put is still waiting.
	kill -0 "$PUT_PID"
	run -0 spool take "$PUT_DIR"
	[ "$output" = two ]
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 0 ]
	[ ! -s "$PUT_ERR" ]
}

@test "put --wait into a pipe: done only once the reader read it" {
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 3 "$PUT_DIR" a b c
	run -0 bash -c 'spool take --follow "$1" | head -n 3' _ "$PUT_DIR"
	[ "$output" = "$(printf 'a\nb\nc')" ]
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "put --wait=DURATION with nobody taking: exit 1, the message stays, and a line says how many" {
	local d
	d=$(spool_dir)
	run -1 spool put -c --wait=0.2 "$d" lonely
	output_is "spool: unable to wait on $d: timed out with 1 of 1 message put not taken yet; they stay in the spool"
	run -0 spool take --nowait "$d"
	[ "$output" = lonely ]
	# -w says the same as --wait=DURATION.
	run -1 spool put --wait -w 0.1 "$d" again
	[[ "$output" == *"timed out with 1 of 1 message"* ]]
}

@test "put --wait: a message that went to DIR/failed is 65, naming it, once all are done" {
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 2 "$PUT_DIR" good bad
	run -0 spool take "$PUT_DIR" --exec cat
	run -1 spool take "$PUT_DIR" --tries 1 --exec false
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 65 ]
	grep -q "^spool: message 2 went to $PUT_DIR/failed as .*:1,1: its taker failed on it$" "$PUT_ERR"
	grep -q "^spool: unable to deliver to $PUT_DIR: 1 of 2 messages went to $PUT_DIR/failed$" "$PUT_ERR"
	[ "$(count "$PUT_DIR/failed")" = 1 ]
}

@test "put --wait follows a message put back for another try, and ends 0 when the retry takes it" {
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 1 "$PUT_DIR" job
	run -1 spool take "$PUT_DIR" --tries 2 --exec false
	# Back in new/ as NAME:1,1: put still waits.
	local back=("$PUT_DIR"/new/*":1,1")
	[ -f "${back[0]}" ]
	kill -0 "$PUT_PID"
	run -0 spool take "$PUT_DIR" --tries 2 --exec cat
	[ "$output" = job ]
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "put --wait ends on SIGTERM by the signal, saying what was not taken; the message stays" {
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 1 "$PUT_DIR" stays
	kill -TERM "$PUT_PID"
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 143 ]
	grep -q "stopped by SIGTERM with 1 of 1 message put not taken yet" "$PUT_ERR"
	run -0 spool take --nowait "$PUT_DIR"
	[ "$output" = stays ]
}

@test "put --wait of more messages than it holds at once (256): waits for the oldest, and gives a seekable stdin back at a time-out" {
	local d f
	d=$(fast_dir)
	f=$(it_path in)
	seq 300 >"$f"
	run -0 bash -c '{ spool put -c --wait=0.3 "$1"; echo "put=$?"; cat; } <"$2"' _ "$d" "$f"
	[[ "$output" == *"timed out with 256 of 256 messages put not taken yet"* ]]
	[[ "$output" == *$'\nput=1\n'* ]]
	# Stdin was left at message 257, the first not put.
	[ "$(grep -cx '[0-9]*' <<<"$output")" = 44 ]
	[[ "$output" == *$'\n257\n'* ]]
	[ "$(count "$d/new")" = 256 ]
	# With a taker, all 300 go through.
	rm -f "$d"/new/*
	PUT_DIR=$d
	it_bg spool take -n 300 "$d" >/dev/null
	local taker=$IT_PID
	run -0 spool put --wait=20 "$d" <"$f"
	[ "$(count "$d/new")" = 0 ]
	it_wait "$taker"
	[ "$IT_STATUS" = 0 ]
}

@test "put --wait: python's mailbox removing the message counts as taken" {
	command -v python3 >/dev/null || skip "needs python3"
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 1 "$PUT_DIR" mail
	python3 -c 'import mailbox, sys; md = mailbox.Maildir(sys.argv[1], None, False)
for k in md.keys(): md.remove(k)' "$PUT_DIR"
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "put --wait: an rm -r of the whole spool counts as taken, as spool(1) says" {
	PUT_DIR=$(spool_dir)
	spool put -c "$PUT_DIR" </dev/null
	put_waiting 2 "$PUT_DIR" one two
	rm -r "$PUT_DIR"
	it_wait "$PUT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "put --wait: usage errors" {
	local d
	d=$(spool_dir)
	run -64 spool put -c -w 1 "$d" x
	[[ "$output" == *"--timeout goes with --wait"* ]]
	run -64 spool put -c --wait=1 -w 1 "$d" x
	[[ "$output" == *"cannot use --timeout with --wait=DURATION"* ]]
	run -64 spool put -c -w 1 --wait=1 "$d" x
	[[ "$output" == *"cannot use --timeout with --wait=DURATION"* ]]
	run -64 spool put -c --wait=soon "$d" x
	run -64 spool take -c --wait "$d"
	[ ! -e "$d/new" ] || [ "$(count "$d/new")" = 0 ]
}
