#!/usr/bin/env bats
# shmcat: raw System V and POSIX segments (load, dump, stat, rm, set) with
# python, perl and util-linux on the other side; the ring stream (write,
# read) with many writers and readers, SIGKILL at random points, corrupted
# headers; the bash completion.

load helper

# The one line a failed run printed, exactly.
output_is() {
	if [ "$output" != "$1" ]; then
		printf 'expected: %s\nactual:   %s\n' "$1" "$output" >&2
		return 1
	fi
}

# The id of the segment for a key.
shmid_of() {
	ipcs -m | awk -v k="$1" 'tolower($1) == tolower(k) { print $2 }'
}

# One field of `shmcat stat`, by eval, as a user would read it.
stat_field() {
	local field=$1
	shift
	(eval "$(shmcat stat "$@")" && eval "echo \"\$$field\"")
}

# Whether a field of `shmcat stat` has a value: field_is FIELD VALUE OBJECT...
field_is() {
	[ "$(stat_field "$1" "${@:3}")" = "$2" ]
}

@test "load and dump a System V segment by key; mode 0600 as ipcs shows" {
	local k
	k=$(it_key)
	run -0 shmcat load -k "$k" -c --size 4k <<<"hello"
	output_is ""
	[ "$(shmcat dump -k "$k" -l 6)" = hello ]
	[ "$(shmcat dump -k "$k" | wc -c)" = 4096 ]
	ipcs -m | grep -i "^$k " | awk '{ exit !($4 == 600 && $5 == 4096) }'
	run -0 shmcat stat -k "$k"
	[[ $output == *$'\nmode=0600\n'* ]]
}

@test "load takes the size of a regular file; a pipe needs --size (exit 64)" {
	local k f
	k=$(it_key)
	f=$(it_path in)
	head -c 10000 /dev/urandom >"$f"
	run -0 shmcat load -k "$k" -c <"$f"
	[ "$(stat_field size -k "$k")" = 10000 ]
	shmcat dump -k "$k" | cmp - "$f"
	k=$(it_key)
	run -64 shmcat load -k "$k" -c < <(echo data)
	output_is "shmcat: unable to create a segment for key $k: give --size (standard input is not a regular file)"
}

@test "input longer than the segment is exit 65 naming the size; nothing past the end" {
	local k f
	k=$(it_key)
	f=$(it_path in)
	shmcat load -k "$k" -c --size 8 </dev/null
	printf 'abcdefghij' >"$f"
	run -65 shmcat load -k "$k" <"$f"
	output_is "shmcat: unable to load key $k: the input is longer than the segment (8 bytes)"
	# A file known too long is refused before a byte is written.
	[ "$(shmcat dump -k "$k" | tr -d '\0')" = "" ]
	run -65 shmcat load -k "$k" < <(printf 'abcdefghij')
	output_is "shmcat: unable to load key $k: the input is longer than the segment (8 bytes)"
	[ "$(shmcat dump -k "$k")" = abcdefgh ]
	[ "$(stat_field size -k "$k")" = 8 ]
}

@test "load and dump at an offset, with a length; past the end is exit 65" {
	local k
	k=$(it_key)
	shmcat load -k "$k" -c --size 16 < <(printf '0123456789abcdef')
	shmcat load -k "$k" -o 4 < <(printf 'XY')
	[ "$(shmcat dump -k "$k")" = 0123XY6789abcdef ]
	[ "$(shmcat dump -k "$k" -o 10 -l 3)" = abc ]
	[ "$(shmcat dump -k "$k" -o 16)" = "" ]
	run -65 shmcat dump -k "$k" -o 10 -l 7
	output_is "shmcat: unable to dump key $k: offset 10 and length 7 go past the end of the segment (16 bytes)"
	run -65 shmcat dump -k "$k" -o 17
	output_is "shmcat: unable to dump key $k: offset 17 is past the end of the segment (16 bytes)"
	run -65 shmcat load -k "$k" -o 17 </dev/null
	output_is "shmcat: unable to load key $k: offset 17 is past the end of the segment (16 bytes)"
	run -65 shmcat load -k "$k" -o 14 < <(printf 'xyz')
	[ "$(shmcat dump -k "$k")" = 0123XY6789abcdxy ]
}

@test "a missing segment is exit 66 naming it; --excl on one that exists is 73" {
	local k n
	k=$(it_key)
	n=$(it_name)
	for c in dump stat rm; do
		run -66 shmcat "$c" -k "$k"
		output_is "shmcat: no shared memory segment for key $k"
		run -66 shmcat "$c" -N "$n"
		output_is "shmcat: no shared memory object $n"
	done
	run -66 shmcat set -k "$k" --mode 0640
	output_is "shmcat: no shared memory segment for key $k"
	run -66 shmcat load -k "$k" </dev/null
	output_is "shmcat: no shared memory segment for key $k (use --create)"
	run -66 shmcat dump -i 2147483646
	output_is "shmcat: no shared memory segment for id 2147483646"
	shmcat load -k "$k" -x --size 1 </dev/null
	run -73 shmcat load -k "$k" -x --size 1 </dev/null
	output_is "shmcat: unable to create a segment for key $k: File exists"
	shmcat load -N "$n" -x </dev/null
	run -73 shmcat load -N "$n" -x </dev/null
	output_is "shmcat: unable to create $n: File exists"
}

@test "ftok keys by --file and --proj; a missing file is exit 66" {
	local f
	f=$(it_path keyfile)
	touch "$f"
	it_track shmkey "$(printf '0x%08x' "$(python3 -c 'import os,sys; st=os.stat(sys.argv[1]); print(((7 & 0xff) << 24) | ((st.st_dev & 0xff) << 16) | (st.st_ino & 0xffff))' "$f")")"
	shmcat load -f "$f" -j 7 -c --size 3 < <(printf abc)
	[ "$(shmcat dump -f "$f" -j 7)" = abc ]
	run -66 shmcat dump -f "$f" -j 8
	[[ $output == "shmcat: no shared memory segment for key 0x08"*" (ftok $f 8)" ]]
	shmcat rm -f "$f" -j 7
	run -66 shmcat dump -f "$f.none"
	output_is "shmcat: unable to derive a key from $f.none: No such file or directory (ftok needs an existing file)"
}

@test "--key private makes a new segment and prints its id" {
	local id
	id=$(shmcat load -k private --size 5 < <(printf hello))
	it_track shmid "$id"
	[[ $id =~ ^[0-9]+$ ]]
	[ "$(shmcat dump -i "$id")" = hello ]
	run -64 shmcat dump -k private
	[ "${lines[0]}" = "shmcat: --key private makes a new segment: only load and write take it" ]
}

@test "POSIX: load grows the object to fit, from a file or a stream; mode 0600, or --mode exactly" {
	local n m f
	n=$(it_name)
	m=$(it_name)
	f=$(it_path in)
	head -c 300000 /dev/urandom >"$f"
	shmcat load -N "$n" -c <"$f"
	cmp "/dev/shm$n" "$f"
	[ "$(stat -c %a "/dev/shm$n")" = 600 ]
	shmcat load -N "$n" -o 300000 < <(cat "$f")
	[ "$(stat -c %s "/dev/shm$n")" = 600000 ]
	shmcat dump -N "$n" -o 300000 | cmp - "$f"
	(umask 077 && shmcat load -N "$m" -c -m 0644 </dev/null)
	[ "$(stat -c %a "/dev/shm$m")" = 644 ]
}

@test "stat prints eval-safe key=value lines, and one JSON object with --json" {
	local k n
	k=$(it_key)
	n=$(it_name)
	shmcat load -k "$k" -c --size 100 </dev/null
	run -0 shmcat stat -k "$k"
	(
		eval "$output"
		[ "$key" = "$k" ] && [ "$size" = 100 ] && [ "$mode" = 0600 ] &&
			[ "$owner" = "$(id -u)" ] && [ "$creator_pid" -gt 0 ] &&
			[ "$attached" = 0 ] && [ "$removed" = 0 ]
	)
	shmcat stat -k "$k" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["size"] == 100 and d["mode"] == "0600" and d["key"] == sys.argv[1], d
assert set(d) >= {"id", "owner", "group", "creator", "creator_group", "creator_pid",
    "last_pid", "attached", "attach_time", "detach_time", "changed", "removed"}' "$k"
	shmcat load -N "$n" -c < <(printf abc)
	shmcat stat -N "$n" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["name"] == sys.argv[1] and d["size"] == 3 and d["mode"] == "0600", d' "$n"
	run -64 shmcat dump -k "$k" --json
	[ "${lines[0]}" = "shmcat: cannot use --json with dump" ]
}

@test "rm removes; dump --rm removes after the dump" {
	local k n
	k=$(it_key)
	n=$(it_name)
	shmcat load -k "$k" -c --size 2 < <(printf hi)
	[ "$(shmcat dump --rm -k "$k")" = hi ]
	run -66 shmcat dump -k "$k"
	shmcat load -N "$n" -c < <(printf hi)
	run -0 shmcat rm -N "$n"
	[ ! -e "/dev/shm$n" ]
	shmcat load -k "$k" -c --size 2 </dev/null
	run -0 shmcat rm -k "$k"
	[ -z "$(shmid_of "$k")" ]
}

@test "set changes the mode and owner (IPC_SET, fchmod and fchown)" {
	local k n
	k=$(it_key)
	n=$(it_name)
	shmcat load -k "$k" -c --size 2 </dev/null
	shmcat set -k "$k" --mode 0640 --owner nobody:nogroup
	[ "$(stat_field mode -k "$k")" = 0640 ]
	[ "$(stat_field owner -k "$k")" = "$(id -u nobody)" ]
	[ "$(stat_field group -k "$k")" = "$(getent group nogroup | cut -d: -f3)" ]
	shmcat load -N "$n" -c </dev/null
	shmcat set -N "$n" -m 0604 --owner 1234
	[ "$(stat -c '%a %u' "/dev/shm$n")" = "604 1234" ]
	run -64 shmcat set -N "$n"
	[ "${lines[0]}" = "shmcat: set needs --mode or --owner" ]
	run -64 shmcat set -N "$n" --owner no-such-user-here
	[ "${lines[0]}" = "shmcat: invalid owner 'no-such-user-here': no such user" ]
}

@test "permission denied is exit 77" {
	local k n
	need_other_user
	k=$(it_key)
	n=$(it_name)
	shmcat load -k "$k" -c --size 2 </dev/null
	shmcat load -N "$n" -c </dev/null
	run -77 as_nobody shmcat dump -k "$k"
	output_is "shmcat: unable to open the segment for key $k: Permission denied"
	run -77 as_nobody shmcat dump -N "$n"
	output_is "shmcat: unable to open $n: Permission denied"
	run -77 as_nobody shmcat rm -k "$k"
	output_is "shmcat: unable to remove key $k: Operation not permitted"
}

@test "interop: python multiprocessing.shared_memory reads what load -N wrote, and the reverse" {
	local n
	n=$(it_name)
	shmcat load -N "$n" -c < <(printf 'from shmcat')
	run -0 python3 -c '
import sys
from multiprocessing import shared_memory, resource_tracker
m = shared_memory.SharedMemory(sys.argv[1][1:])
resource_tracker.unregister(m._name, "shared_memory")
sys.stdout.write(bytes(m.buf[:11]).decode())
m.close()' "$n"
	output_is "from shmcat"
	shmcat rm -N "$n"
	python3 -c '
import sys
from multiprocessing import shared_memory, resource_tracker
m = shared_memory.SharedMemory(sys.argv[1][1:], create=True, size=11)
resource_tracker.unregister(m._name, "shared_memory")
m.buf[:11] = b"from python"
m.close()' "$n"
	[ "$(shmcat dump -N "$n" -l 11)" = "from python" ]
}

@test "interop: perl IPC::SysV shmread reads what load wrote, and shmwrite the reverse" {
	local k id
	k=$(it_key)
	shmcat load -k "$k" -c --size 64 < <(printf 'from shmcat')
	id=$(shmid_of "$k")
	run -0 perl -e 'shmread($ARGV[0], my $v, 0, 11) or die "$!"; print $v' "$id"
	output_is "from shmcat"
	perl -e 'shmwrite($ARGV[0], "from perl", 20, 9) or die "$!"' "$id"
	[ "$(shmcat dump -k "$k" -o 20 -l 9)" = "from perl" ]
}

@test "interop: a segment made by ipcmk -M loads and dumps by --id" {
	local id
	id=$(ipcmk -M 100 -p 0600 | grep -o '[0-9]*$')
	it_track shmid "$id"
	shmcat load -i "$id" < <(printf 'via ipcmk')
	[ "$(shmcat dump -i "$id" -l 9)" = "via ipcmk" ]
	[ "$(stat_field size -i "$id")" = 100 ]
	run -64 shmcat load -i "$id" -c </dev/null
	[ "${lines[0]}" = "shmcat: --id names an existing segment: --create does not apply" ]
}

@test "read and write errors on standard input and output are exit 74; the ring keeps the chunk" {
	local k
	k=$(it_key)
	shmcat load -k "$k" -c --size 10 < <(printf 0123456789)
	run -74 bash -c 'exec shmcat dump -k "$1" >/dev/full' _ "$k"
	output_is "shmcat: unable to write standard output: No space left on device"
	run -74 shmcat load -k "$k" <"$BATS_TEST_TMPDIR"
	output_is "shmcat: unable to read standard input: Is a directory"
	shmcat rm -k "$k"
	shmcat write -k "$k" -c <<<"kept"
	run -74 bash -c 'exec shmcat read -k "$1" >/dev/full' _ "$k"
	output_is "shmcat: unable to write standard output: No space left on device"
	[ "$(shmcat read -k "$k")" = kept ]
}

@test "usage errors are exit 64 with one line" {
	run -64 shmcat
	[ "${lines[0]}" = "shmcat: missing command: load, dump, stat, rm, set, write or read" ]
	run -64 shmcat frob -k 1
	[ "${lines[0]}" = "shmcat: unknown command 'frob'" ]
	run -64 shmcat dump
	[ "${lines[0]}" = "shmcat: name the object with --key, --file, --id or --name" ]
	run -64 shmcat dump -k 1 extra
	[ "${lines[0]}" = "shmcat: unexpected operand 'extra'" ]
	run -64 shmcat load -k 1 --follow
	[ "${lines[0]}" = "shmcat: cannot use --follow with load" ]
	run -64 shmcat read -k 1 --nowait -w 1s
	[ "${lines[0]}" = "shmcat: --nowait and --timeout: choose one" ]
	run -64 shmcat load -k 1 --size 12q
	[[ ${lines[0]} == "shmcat: invalid size '12q'"* ]]
	run -64 shmcat write -k 1 --atomic 0
	[ "${lines[0]}" = "shmcat: invalid atomic size '0': at least 1" ]
	run -64 shmcat write -k 1 --size 0
	[ "${lines[0]}" = "shmcat: invalid size '0': a segment holds at least a byte" ]
}

# ---- the ring ----

@test "ring: data waits in the ring with no reader, and a later reader gets it all" {
	local k f
	k=$(it_key)
	f=$(it_path in)
	head -c 200000 /dev/urandom >"$f"
	run -0 shmcat write -k "$k" -c --size 1M <"$f"
	run -0 shmcat stat -k "$k"
	(
		eval "$output"
		[ "$capacity" = 1048576 ] && [ "$used" -ge 200000 ] &&
			[ "$writers" = 0 ] && [ "$readers" = 0 ] &&
			[ "$bytes_written" = 200000 ] && [ "$bytes_read" = 0 ]
	)
	shmcat read -k "$k" | cmp - "$f"
	[ "$(stat_field bytes_read -k "$k")" = 200000 ]
	[ "$(stat_field used -k "$k")" = 0 ]
	# Drained, and no writer: the end of the stream at once.
	run -0 shmcat read -k "$k"
	output_is ""
}

@test "ring: a stream larger than the ring flows from writer to reader" {
	local n f
	n=$(it_name)
	f=$(it_path in)
	head -c 3000000 /dev/urandom >"$f"
	it_bg_ready shmcat read -N "$n" -c --size 64k --ready-fd 9 >"$f.out"
	cat "$f" | shmcat write -N "$n"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	cmp "$f" "$f.out"
	[ "$(stat -c %a "/dev/shm$n")" = 600 ]
}

@test "ring: a reader of a new ring waits for the first writer; --timeout is exit 1" {
	local k
	k=$(it_key)
	run -1 shmcat read -k "$k" -c -w 300ms
	output_is "shmcat: unable to read key $k: no data in time"
	it_bg_ready shmcat read -k "$k" --ready-fd 9
	kill -0 "$IT_PID"
	shmcat write -k "$k" <<<"first"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	run -0 shmcat stat -k "$k"
	[[ $output == *$'\nbytes_read=6\n'* ]]
}

@test "ring: --nowait and --timeout on a full ring are exit 1; --nowait read takes what is there" {
	local k
	k=$(it_key)
	head -c 12288 /dev/zero | shmcat write -k "$k" -c --size 16k
	run -1 shmcat write -k "$k" --nowait < <(head -c 5000 /dev/zero)
	output_is "shmcat: unable to write key $k: the ring is full"
	run -1 shmcat write -k "$k" -w 200ms < <(head -c 5000 /dev/zero)
	output_is "shmcat: unable to write key $k: no room in time"
	[ "$(shmcat read -k "$k" --nowait | wc -c)" = 12288 ]
	k=$(it_key)
	shmcat write -k "$k" -c </dev/null
	it_bg_ready shmcat write -k "$k" --ready-fd 9 < <(exec sleep 20)
	run -1 shmcat read -k "$k" --nowait
	output_is "shmcat: unable to read key $k: the ring is empty"
}

@test "ring: --follow goes on from writer to writer; SIGTERM ends it with exit 0 and nothing lost" {
	local k out
	k=$(it_key)
	out=$(it_path out)
	shmcat write -k "$k" -c </dev/null
	it_bg_ready shmcat read -k "$k" -F --ready-fd 9 >"$out"
	shmcat write -k "$k" <<<"one"
	shmcat write -k "$k" <<<"two"
	wait_for grep -qx two "$out"
	kill -0 "$IT_PID"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$out")" = $'one\ntwo' ]
	run -1 shmcat read -k "$k" -F -w 100ms
	output_is "shmcat: unable to read key $k: no data in time"
}

@test "ring: SIGTERM to a writer keeps every byte it read; it ends as by the signal" {
	local k src w
	k=$(it_key)
	src=$(it_path src)
	mkfifo "$src"
	exec {w}<>"$src"
	shmcat write -k "$k" -c </dev/null
	it_bg_ready bash -c 'exec shmcat write -k "$1" -a 1 --ready-fd 9 <"$2" '"$w>&-" _ "$k" "$src"
	printf 'abc' >&"$w"
	wait_for field_is bytes_written 3 -k "$k"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	exec {w}>&-
	[ "$IT_STATUS" = 143 ]
	[ "$(shmcat read -k "$k")" = abc ]
}

@test "ring: a reader whose pipe reader leaves (SIGPIPE) loses nothing it did not deliver" {
	local k d
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq 1 100000 >"$d/in"
	shmcat write -k "$k" -c --size 2M <"$d/in"
	# dd reads exactly what it keeps; the reader then dies of SIGPIPE.
	run -141 bash -c 'shmcat read -k "$1" | dd bs=1000 count=5 iflag=fullblock status=none >"$2"; exit "${PIPESTATUS[0]}"' _ "$k" "$d/a"
	shmcat read -k "$k" | dd bs=7777 count=1 iflag=fullblock status=none >"$d/b" || :
	shmcat read -k "$k" >"$d/c"
	[ "$(stat -c %s "$d/a")" = 5000 ]
	cat "$d/a" "$d/b" "$d/c" | cmp - "$d/in"
}

@test "ring: attaching never re-initialises a live ring" {
	local k
	k=$(it_key)
	shmcat write -k "$k" -c --size 64k <<<"kept"
	shmcat write -k "$k" -c --size 1M </dev/null
	[ "$(stat_field capacity -k "$k")" = 65536 ]
	[ "$(shmcat read -k "$k")" = kept ]
	run -73 shmcat write -k "$k" -x </dev/null
	output_is "shmcat: unable to create a segment for key $k: File exists"
	run -66 shmcat read -k "$(it_key)"
	[[ $output == "shmcat: no shared memory segment for key 0x"*" (use --create)" ]]
}

@test "ring: --lines keeps lines whole; a line longer than --atomic is exit 65" {
	local k
	k=$(it_key)
	run -65 shmcat write -k "$k" -c --lines --atomic 8 < <(printf 'short\nmuch too long\n')
	output_is "shmcat: unable to write key $k: a line is longer than --atomic (8 bytes) (14 bytes read from standard input were not written)"
	[ "$(shmcat read -k "$k")" = short ]
	shmcat write -k "$k" --lines --atomic 8 < <(printf 'a\nb\nno-nl')
	[ "$(shmcat read -k "$k")" = $'a\nb\nno-nl' ]
	run -65 shmcat write -k "$k" --atomic 600k </dev/null
	output_is "shmcat: unable to write key $k: --atomic is more than 524272 bytes, the most a ring of 1048576 bytes takes"
}

@test "ring: 4 writers x 4 readers, --lines: every line exactly once, never mixed" {
	local k d i total readers=() writers=()
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	for i in 1 2 3 4; do
		seq -f "writer $i line %g" 1 20000 >"$d/in$i"
	done
	shmcat write -k "$k" -c --size 64k </dev/null
	for i in 1 2 3 4; do
		it_bg_ready shmcat read -k "$k" -F --ready-fd 9 >"$d/out$i"
		readers+=("$IT_PID")
	done
	for i in 1 2 3 4; do
		it_bg_ready bash -c 'cat "$2" | exec shmcat write -k "$1" --lines --ready-fd 9' _ "$k" "$d/in$i"
		writers+=("$IT_PID")
	done
	for i in "${writers[@]}"; do
		it_wait "$i" 60
		[ "$IT_STATUS" = 0 ]
	done
	total=$(cat "$d"/in? | wc -c)
	wait_for field_is bytes_read "$total" -k "$k"
	for i in "${readers[@]}"; do
		kill -TERM "$i"
		it_wait "$i"
		[ "$IT_STATUS" = 0 ]
	done
	cat "$d"/in? | sort >"$d/want"
	cat "$d"/out? | sort >"$d/got"
	cmp "$d/want" "$d/got"
	# Each reader took a share: the chunks went to more than one.
	[ "$(for i in 1 2 3 4; do [ -s "$d/out$i" ] && echo; done | wc -l)" -gt 1 ]
}

@test "ring: chunks of --atomic bytes from several writers are never mixed" {
	local k d c pids=()
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	shmcat write -k "$k" -c --size 32k </dev/null
	for c in a b c; do
		head -c 300000 /dev/zero | tr '\0' "$c" >"$d/in$c"
		it_bg_ready bash -c 'cat "$2" | exec shmcat write -k "$1" --atomic 1000 --ready-fd 9' _ "$k" "$d/in$c"
		pids+=("$IT_PID")
	done
	shmcat read -k "$k" >"$d/out"
	for c in "${pids[@]}"; do
		it_wait "$c"
		[ "$IT_STATUS" = 0 ]
	done
	# Every run of one letter is whole units of 1000 bytes.
	python3 -c '
import itertools, sys
d = open(sys.argv[1], "rb").read()
assert len(d) == 900000, len(d)
runs = [len(list(g)) for _, g in itertools.groupby(d)]
assert all(r % 1000 == 0 for r in runs), [r for r in runs if r % 1000][:5]
print(len(runs))' "$d/out"
}

@test "ring: a writer killed at random points leaves no torn chunk, and the others go on" {
	local k d i pid size steady
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -w 1 300000 >"$d/nums"
	shmcat write -k "$k" -c --size 64k </dev/null
	it_bg_ready shmcat read -k "$k" -F --ready-fd 9 >"$d/out"
	# A writer that is not killed goes on beside the others.
	it_bg_ready bash -c 'seq -f "steady %g" 1 20000 | exec shmcat write -k "$1" --lines --ready-fd 9' _ "$k"
	steady=$IT_PID
	for i in $(seq 1 25); do
		shmcat write -k "$k" --lines --atomic 700 < <(cat "$d/nums") 3>&- &
		pid=$!
		it_track pid "$pid"
		# Not a wait for anything: a random point to kill it at.
		sleep "0.0$((RANDOM % 40))"
		kill -KILL "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	done
	it_wait "$steady"
	[ "$IT_STATUS" = 0 ]
	shmcat write -k "$k" <<<"last line"
	wait_for grep -qx "last line" "$d/out"
	size=$(stat -c %s "$d/out")
	wait_for field_is bytes_read "$size" -k "$k"
	[ "$(stat_field bytes_written -k "$k")" = "$size" ]
	[ "$(stat_field writers -k "$k")" = 0 ]
	# Whole lines only, and each killed writer's lines are a prefix of
	# its input: the lines go up one by one from 000001.
	python3 -c '
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"" and lines[-2] == b"last line", lines[-3:]
steady = [l for l in lines if l.startswith(b"steady ")]
assert steady == [b"steady %d" % i for i in range(1, 20001)], len(steady)
prev = 0
for l in lines[:-2]:
    if l.startswith(b"steady "):
        continue
    assert len(l) == 6 and l.isdigit(), l
    n = int(l)
    assert n == prev + 1 or n == 1, (prev, n)
    prev = n' "$d/out"
}

@test "ring: a reader killed at random points loses nothing; only a chunk in hand comes again" {
	local k d i pid kills=0
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -w 1 100000 >"$d/nums"
	shmcat write -k "$k" -c --size 1M --lines --atomic 1000 <"$d/nums"
	for i in $(seq 1 15); do
		shmcat read -k "$k" -F >"$d/out.$i" 3>&- &
		pid=$!
		it_track pid "$pid"
		sleep "0.0$((RANDOM % 20))"
		kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
		wait "$pid" 2>/dev/null || :
	done
	shmcat read -k "$k" >"$d/out.last"
	[ "$(stat_field used -k "$k")" = 0 ]
	python3 -c '
import glob, sys
want = set(range(1, 100001))
got, dup = [], 0
for f in glob.glob(sys.argv[1] + "/out.*"):
    data = open(f, "rb").read()
    # A reader killed inside write(2) may leave a part of a line.
    whole = data[:data.rfind(b"\n") + 1]
    got += [int(l) for l in whole.split(b"\n")[:-1]]
seen = set(got)
assert seen == want, sorted(want - seen)[:5]
dup_bytes = 7 * (len(got) - len(seen))
# shmcat(1): what a killed reader gives again is at most 64 KiB.
assert dup_bytes <= 65536 * int(sys.argv[2]), dup_bytes' "$d" "$kills"
}

@test "ring: a reader killed after it wrote a chunk, before it marked it delivered, gives at most 64 KiB again, into a file or a pipe" {
	local k d how st
	hooked_shmcat
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -w 1 100000 >"$d/nums"
	for how in file pipe; do
		# 700000 bytes ready at once, from a regular file: before, one
		# record of all of it, and a reader killed here gave it all again.
		shmcat write -k "$k" -c --size 1M --lines <"$d/nums"
		if [ "$how" = file ]; then
			st=0
			env IT_RING_HOOK=finish-locked "$HOOKED" read -k "$k" >"$d/a" || st=$?
			[ "$st" = 137 ]
		else
			env IT_RING_HOOK=finish-locked "$HOOKED" read -k "$k" | cat >"$d/a" || :
			[ "${PIPESTATUS[0]}" = 137 ]
		fi
		shmcat read -k "$k" >"$d/b"
		cmp "$d/b" "$d/nums"
		python3 -c '
import sys
a, nums = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert 0 < len(a) <= 65536 and nums.startswith(a), len(a)' "$d/a" "$d/nums"
		shmcat rm -k "$k"
	done
}

@test "ring: a segment removed under a waiting reader or writer is exit 66" {
	local k n id
	k=$(it_key)
	n=$(it_name)
	shmcat write -k "$k" -c </dev/null
	id=$(shmid_of "$k")
	it_track shmid "$id"
	it_bg_ready shmcat read -k "$k" -F --ready-fd 9 2>"$BATS_TEST_TMPDIR/err"
	shmcat rm -k "$k"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 66 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "shmcat: unable to read key $k: the segment was removed" ]
	head -c 12288 /dev/zero | shmcat write -N "$n" -c --size 16k
	it_bg_ready shmcat write -N "$n" --ready-fd 9 < <(head -c 8192 /dev/zero) 2>"$BATS_TEST_TMPDIR/err"
	shmcat rm -N "$n"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 66 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "shmcat: unable to write $n: the segment was removed" ]
}

@test "ring: a dead writer never keeps readers waiting" {
	local k src w writer
	k=$(it_key)
	src=$(it_path src)
	mkfifo "$src"
	exec {w}<>"$src"
	shmcat write -k "$k" -c </dev/null
	it_bg_ready bash -c 'exec shmcat write -k "$1" --lines --ready-fd 9 <"$2" '"$w>&-" _ "$k" "$src"
	writer=$IT_PID
	printf 'whole\n' >&"$w"
	wait_for field_is bytes_written 6 -k "$k"
	# The writer now holds a reservation for the rest of a line.
	printf 'part' >&"$w"
	it_bg_ready shmcat read -k "$k" --ready-fd 9 >"$src.out"
	kill -KILL "$writer"
	it_wait "$IT_PID" 5
	exec {w}>&-
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$src.out")" = whole ]
}

@test "ring: a corrupt or foreign header is exit 65, never a crash" {
	local n k id i
	n=$(it_name)
	printf 'x%.0s' {1..100} | shmcat write -N "$n" -c --size 64k
	printf 'JUNK' | dd of="/dev/shm$n" conv=notrunc status=none
	run -65 shmcat read -N "$n"
	output_is "shmcat: unable to use $n: not an ipctools ring"
	run -65 shmcat write -N "$n" </dev/null
	output_is "shmcat: unable to use $n: not an ipctools ring"
	shmcat rm -N "$n"
	for field in head tail record; do
		printf 'x%.0s' {1..100} | shmcat write -N "$n" -c --size 64k
		case $field in
		head) python3 -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(24); f.write(struct.pack("<Q", 1 << 62))' "/dev/shm$n" ;;
		tail) python3 -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(32); f.write(struct.pack("<Q", 8))' "/dev/shm$n" ;;
		record) python3 -c 'import struct,sys; f=open(sys.argv[1],"r+b"); f.seek(4096 + 8); f.write(struct.pack("<I", 0xfffffff0))' "/dev/shm$n" ;;
		esac
		run -65 shmcat read -N "$n"
		output_is "shmcat: unable to use $n: corrupt ring"
		shmcat rm -N "$n"
	done
	# Random damage anywhere in the counters or the first records: an
	# answer of the contract, never a crash (the sanitizer build would say).
	for i in $(seq 1 40); do
		seq 1 2000 | shmcat write -N "$n" -c --size 64k --lines --atomic 100
		python3 -c '
import random, sys
f = open(sys.argv[1], "r+b")
for _ in range(3):
    off = random.choice([random.randrange(0, 88), random.randrange(4096, 4096 + 256)])
    f.seek(off)
    f.write(bytes([random.randrange(256)]))' "/dev/shm$n"
		run shmcat read -N "$n" -w 300ms
		[[ $status == @(0|1|65) ]] || { echo "status $status: $output" >&2; false; }
		shmcat rm -N "$n"
	done
	# A segment that is all zeros is not a ring either.
	id=$(ipcmk -M 65536 | grep -o '[0-9]*$')
	it_track shmid "$id"
	run -65 shmcat read -i "$id"
	output_is "shmcat: unable to use id $id: not an ipctools ring"
	# stat still describes it, without ring fields.
	run -0 shmcat stat -i "$id"
	[[ $output != *capacity=* ]]
	k=$(it_key)
	shmcat load -k "$k" -c --size 2 </dev/null
	run -65 shmcat write -k "$k" </dev/null
	output_is "shmcat: unable to use key $k: not an ipctools ring"
}

@test "ring: write --key private prints the new ring's id; read --rm removes it at the end" {
	local id
	id=$(printf "private ring" | shmcat write -k private --size 16k)
	it_track shmid "$id"
	[[ $id =~ ^[0-9]+$ ]]
	[ "$(stat_field capacity -i "$id")" = 16384 ]
	[ "$(stat_field size -i "$id")" = $((16384 + 4096)) ]
	run -0 shmcat read -i "$id" --rm
	output_is "private ring"
	run -66 shmcat stat -i "$id"
	output_is "shmcat: no shared memory segment for id $id"
}

@test "ring: SIGINT to a reader ends it as by the signal, with nothing lost" {
	local k d w src
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	src=$(it_path src)
	mkfifo "$src"
	exec {w}<>"$src"
	shmcat write -k "$k" -c </dev/null
	it_bg_ready bash -c 'exec shmcat write -k "$1" --lines --ready-fd 9 <"$2" '"$w>&-" _ "$k" "$src"
	# bash starts background jobs with SIGINT ignored: undo that.
	it_bg_ready bash -c 'trap - INT; exec shmcat read -k "$1" --ready-fd 9' _ "$k" >"$d/out"
	printf 'one\n' >&"$w"
	wait_for grep -qx one "$d/out"
	kill -INT "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 130 ]
	printf 'two\n' >&"$w"
	exec {w}>&-
	[ "$(shmcat read -k "$k")" = two ]
}

@test "ring: 32 readers at most; the 33rd is exit 69" {
	local k i
	k=$(it_key)
	shmcat write -k "$k" -c --size 16k </dev/null
	for i in $(seq 1 32); do
		it_bg_ready shmcat read -k "$k" -F --ready-fd 9
	done
	[ "$(stat_field readers -k "$k")" = 32 ]
	run -69 shmcat read -k "$k" -F
	output_is "shmcat: unable to attach to key $k: all reader slots are taken"
	kill -KILL "$IT_PID"
	it_wait "$IT_PID"
	# The slot of a reader killed is free again at once.
	run -1 shmcat read -k "$k" -F -w 100ms
	output_is "shmcat: unable to read key $k: no data in time"
}

@test "completion: commands, each command's options from --help, POSIX names" {
	local n
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/shmcat"
	complete_words() {
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_shmcat shmcat
		printf '%s\n' "${COMPREPLY[@]}"
	}
	[ "$(complete_words shmcat d)" = dump ]
	[ "$(complete_words shmcat read --fo)" = --follow ]
	run complete_words shmcat write --
	[[ $output == *--atomic=* && $output == *--lines* && $output == *--key=* ]]
	[[ $output != *--follow* && $output != *--json* ]]
	[ "$(complete_words shmcat stat --j)" = --json ]
	n=$(it_name)
	shmcat load -N "$n" -c </dev/null
	run complete_words shmcat dump -N "${n%.*}"
	[[ $output == *"$n"* ]]
	run complete_words shmcat dump "--name=${n%.*}"
	[[ $output == *"$n"* ]]
	run complete_words shmcat dump --name = "${n%.*}"
	[[ $output == *"$n"* ]]
	[ "$(complete_words shmcat set --mode 064)" = $'0640\n0644' ]
}

@test "read --follow | head -n 3 with exactly three lines ends as head does, and the pipe keeps its own size" {
	local k
	k=$(it_key)
	seq 3 | shmcat write -k "$k" -c --lines
	run -0 timeout 10 bash -c 'shmcat read -k "$1" --follow | head -n 3; echo "${PIPESTATUS[0]}"' _ "$k"
	[ "$output" = "$(printf '1\n2\n3\n141')" ]
	# A read into a pipe leaves the pipe as it found it, for whoever
	# writes to it next.
	seq 2 | shmcat write -k "$k" --lines
	run -0 bash -c '{ shmcat read -k "$1"; python3 -c "import fcntl; print(fcntl.fcntl(1, 1032))"; } | cat' _ "$k"
	[ "$output" = "$(printf '1\n2\n65536')" ]
}

# ---- the ring under stopped, stalled, killed and hostile peers ----

# A build of shmcat that stops or kills itself at a named step of the ring
# code (the HOOK points of cmd/shmcat/ring.c, compiled only here), so that each
# state a Ctrl-Z or a crash can leave is reached every time.
hooked_shmcat() {
	local src=$BATS_TEST_DIRNAME/..
	HOOKED=$BATS_TEST_TMPDIR/shmcat-hooked
	command -v cc >/dev/null || skip "needs a C compiler for the hooked build"
	cc -std=c11 -D_GNU_SOURCE -DIT_RING_HOOKS -I"$src/lib" -O1 -o "$HOOKED" \
		"$src"/cmd/shmcat/*.c "$src"/lib/*.c -lrt -lpthread
}

# Stops a process we started, recorded so that teardown continues it. The
# process runs in a session of its own (setsid), or the kernel would end
# the stop with SIGHUP when the test's process group is orphaned.
stop_pid() {
	echo "$1" >>"$BATS_TEST_TMPDIR/stopped"
	kill -STOP "$1"
}

is_stopped() {
	[[ $(ps -o stat= -p "$1" 2>/dev/null) == T* ]]
}

# Whether the background job $1 is shmcat itself, asleep (waiting), not
# the shell that forks it: a signal sent sooner meets the shell's traps.
is_waiting_shmcat() {
	[[ $(readlink "/proc/$1/exe" 2>/dev/null) == */shmcat ]] &&
		[[ $(ps -o stat= -p "$1" 2>/dev/null) == S* ]]
}

teardown() {
	local pid
	if [ -f "$BATS_TEST_TMPDIR/stopped" ]; then
		while read -r pid; do
			kill -CONT "$pid" 2>/dev/null || :
		done <"$BATS_TEST_TMPDIR/stopped"
	fi
	it_teardown
}

@test "ring: a writer or reader stopped holding the lock freezes nobody: -w, --nowait, SIGTERM and a 2 s bound end the others, naming it" {
	local k pid
	hooked_shmcat
	k=$(it_key)
	shmcat write -k "$k" -c </dev/null
	IT_RING_HOOK=commit-locked IT_RING_HOOK_SIG=STOP it_bg setsid "$HOOKED" write -k "$k" <<<"held"
	pid=$IT_PID
	echo "$pid" >>"$BATS_TEST_TMPDIR/stopped"
	wait_for is_stopped "$pid"
	run -1 timeout 10 shmcat read -k "$k" -F -w 1s
	output_is "shmcat: unable to read key $k: not in time (its lock is held by pid $pid, stopped)"
	run -1 timeout 10 shmcat write -k "$k" --nowait <<<"x"
	output_is "shmcat: unable to write key $k: not in time (its lock is held by pid $pid, stopped)"
	run -69 timeout 10 shmcat read -k "$k" -F
	output_is "shmcat: unable to read key $k: its lock has been held for over 2 s by pid $pid (stopped)"
	it_bg shmcat read -k "$k" -F
	wait_for is_waiting_shmcat "$IT_PID"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 143 ]
	kill -CONT "$pid" 2>/dev/null || :
	it_wait "$pid"
	[ "$IT_STATUS" = 0 ]
	# A reader stopped while it holds the lock to finish a chunk.
	printf 'one\ntwo\n' | shmcat write -k "$k" --lines --atomic 4
	IT_RING_HOOK=finish-locked IT_RING_HOOK_SIG=STOP it_bg setsid "$HOOKED" read -k "$k" >"$BATS_TEST_TMPDIR/out"
	pid=$IT_PID
	echo "$pid" >>"$BATS_TEST_TMPDIR/stopped"
	wait_for is_stopped "$pid"
	run -1 timeout 10 shmcat write -k "$k" -w 500ms <<<"x"
	output_is "shmcat: unable to write key $k: not in time (its lock is held by pid $pid, stopped)"
	kill -CONT "$pid" 2>/dev/null || :
	it_wait "$pid"
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = $'held\none\ntwo' ]
}

@test "ring: a holder of the lock stopped for longer than the 2 s bound is never taken for dead: the waiter ends naming it, and after SIGCONT nothing is lost, duplicated or torn" {
	local k d pid t0 el
	hooked_shmcat
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -f "line %g of the stopped writer" 1 50000 >"$d/in"
	shmcat write -k "$k" -c --size 64k </dev/null
	# Stopped at its first commit, the lock in hand.
	IT_RING_HOOK=commit-locked IT_RING_HOOK_SIG=STOP it_bg setsid "$HOOKED" write -k "$k" --lines <"$d/in"
	pid=$IT_PID
	echo "$pid" >>"$d/stopped"
	wait_for is_stopped "$pid"
	# A stopped holder stays a live one past the bound: exit 69 (the
	# bound comes before -w 3s), naming it, never 65 "corrupt ring".
	t0=$EPOCHREALTIME
	run -69 timeout 10 shmcat read -k "$k" -F -w 3s
	el=$(echo "$EPOCHREALTIME - $t0" | bc)
	output_is "shmcat: unable to read key $k: its lock has been held for over 2 s by pid $pid (stopped)"
	(($(echo "$el >= 1.9 && $el < 3.5" | bc)))
	run -1 timeout 10 shmcat write -k "$k" -w 1s <<<"x"
	output_is "shmcat: unable to write key $k: not in time (its lock is held by pid $pid, stopped)"
	is_stopped "$pid"
	# Every line once, in order, none torn, read as the writer goes on.
	it_bg shmcat read -k "$k" -F >"$d/out"
	local reader=$IT_PID
	kill -CONT "$pid"
	it_wait "$pid"
	[ "$IT_STATUS" = 0 ]
	wait_for test "$(wc -c <"$d/out")" -ge "$(wc -c <"$d/in")"
	kill -TERM "$reader"
	it_wait "$reader"
	[ "$IT_STATUS" = 0 ]
	cmp "$d/out" "$d/in"
	run -0 shmcat stat -k "$k"
	echo ok | shmcat write -k "$k"
	[ "$(shmcat read -k "$k" --nowait)" = ok ]
}

@test "ring: 4 writers x 4 readers with writers and readers SIGSTOPped in the middle: a probe always ends, every line exactly once" {
	local k d i pid rc victims readers=() writers=()
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	for i in 1 2 3 4; do
		seq -f "writer $i line %g" 1 30000 >"$d/in$i"
	done
	shmcat write -k "$k" -c --size 64k </dev/null
	for i in 1 2 3 4; do
		it_bg_ready setsid shmcat read -k "$k" -F --ready-fd 9 >"$d/out$i"
		readers+=("$IT_PID")
	done
	for i in 1 2 3 4; do
		it_bg_ready setsid shmcat write -k "$k" --lines --ready-fd 9 < <(cat "$d/in$i")
		writers+=("$IT_PID")
	done
	victims=("${readers[@]}" "${writers[@]}")
	for i in $(seq 1 12); do
		pid=${victims[RANDOM % 8]}
		stop_pid "$pid" 2>/dev/null || continue
		# Whatever the stopped one holds, a newcomer that must take the
		# lock ends within its -w (0 or 1), never hangs (124).
		rc=0
		timeout 8 shmcat write -k "$k" -w 1s </dev/null 2>/dev/null || rc=$?
		[[ $rc == @(0|1) ]] || { echo "probe $i: status $rc" >&2; false; }
		kill -CONT "$pid" 2>/dev/null || :
	done
	for i in "${writers[@]}"; do
		it_wait "$i" 60
		[ "$IT_STATUS" = 0 ]
	done
	wait_for field_is bytes_read "$(cat "$d"/in? | wc -c)" -k "$k"
	for i in "${readers[@]}"; do
		kill -TERM "$i"
		it_wait "$i"
		[ "$IT_STATUS" = 0 ]
	done
	cat "$d"/in? | sort >"$d/want"
	cat "$d"/out? | sort >"$d/got"
	cmp "$d/want" "$d/got"
}

@test "ring: garbage over every 8-byte word of the header, or a phantom writer: read -w 1s ends within 3 s, never by a signal" {
	local n
	n=$(it_name)
	printf 'x%.0s' {1..100} | shmcat write -N "$n" -c --size 16k
	cp "/dev/shm$n" "$BATS_TEST_TMPDIR/ring"
	python3 - "$n" "$BATS_TEST_TMPDIR/ring" <<'PY'
import os, struct, subprocess, sys
name, image = sys.argv[1], open(sys.argv[2], "rb").read()
path = "/dev/shm" + name
# The header: counters, the lock at 88, 2 x 32 slots of 48 bytes, the
# writers' turns (32 x 16 bytes) and the ticket counter.
words = range(0, 128 + 64 * 48 + 32 * 16 + 8, 8)
cases = [(off, val) for off in words for val in (0xa5a5a5a5a5a5a5a5, 1)]
# A phantom writer: slot 0 held by a tid no process has, in use by it.
cases.append((128, 0x7ffffff0, 128 + 40, struct.unpack("<Q", struct.pack("<iI", 0x7ffffff0, 1))[0]))
bad = []
for case in cases:
    with open(path, "r+b") as f:
        f.write(image)
        for off, val in zip(case[::2], case[1::2]):
            f.seek(off)
            f.write(struct.pack("<Q", val))
    try:
        p = subprocess.run(["shmcat", "read", "-N", name, "-w", "1s"], capture_output=True, timeout=3)
        if p.returncode not in (0, 1, 65, 66):
            bad.append((case, p.returncode, p.stderr))
    except subprocess.TimeoutExpired:
        bad.append((case, "hung"))
assert not bad, bad[:5]
PY
}

# Whether nothing is left unread in the FIFO open read-write on fd $1.
fifo_empty() {
	python3 -c 'import array, fcntl, sys, termios
a = array.array("i", [0])
fcntl.ioctl(int(sys.argv[1]), termios.FIONREAD, a)
sys.exit(a[0] != 0)' "$1"
}

fifo_has_data() {
	! fifo_empty "$1"
}

@test "ring: a writer whose input stalls mid-unit or mid-line holds no room, and the other writers go on" {
	local k d src w a r opt
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -f "writer B line %g" 1 10000 >"$d/inB"
	for opt in --lines -a4096; do
		shmcat write -k "$k" -c --size 16k </dev/null
		it_bg_ready shmcat read -k "$k" -F --ready-fd 9 >"$d/out"
		r=$IT_PID
		src=$(it_path src)
		mkfifo "$src"
		exec {w}<>"$src"
		it_bg_ready bash -c 'exec shmcat write -k "$1" "$3" --ready-fd 9 <"$2" '"$w>&-" _ "$k" "$src" "$opt"
		a=$IT_PID
		printf 'abc' >&"$w"
		wait_for fifo_empty "$w"
		[ "$(stat_field used -k "$k")" = 0 ]
		# B writes ten times the ring through the reader while A waits.
		run -0 timeout 20 shmcat write -k "$k" --lines <"$d/inB"
		wait_for field_is bytes_read "$(stat -c %s "$d/inB")" -k "$k"
		printf 'def\n' >&"$w"
		exec {w}>&-
		it_wait "$a"
		[ "$IT_STATUS" = 0 ]
		wait_for grep -qx abcdef "$d/out"
		kill -TERM "$r"
		it_wait "$r"
		grep -v '^abcdef$' "$d/out" | cmp - "$d/inB"
		shmcat rm -k "$k"
	done
}

@test "ring: SIGTERM, SIGINT or SIGHUP to a --lines or --atomic writer never publishes a partial unit; a pipe says how much was dropped" {
	local k d src w sig opt data
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	for sig in TERM INT HUP; do
		for opt in --lines -a8; do
			shmcat rm -k "$k" 2>/dev/null || :
			shmcat write -k "$k" -c </dev/null
			src=$(it_path src)
			mkfifo "$src"
			exec {w}<>"$src"
			it_bg_ready bash -c 'trap - INT; exec shmcat write -k "$1" "$3" --ready-fd 9 <"$2" 2>"$2.err" '"$w>&-" _ "$k" "$src" "$opt"
			if [ "$opt" = --lines ]; then data=$'whole\n'; else data=12345678; fi
			printf '%spart' "$data" >&"$w"
			wait_for fifo_empty "$w"
			wait_for field_is bytes_written "${#data}" -k "$k"
			kill -"$sig" "$IT_PID"
			it_wait "$IT_PID"
			exec {w}>&-
			[ "$IT_STATUS" = $((128 + $(kill -l "$sig"))) ]
			[ "$(cat "$src.err")" = "shmcat: stopped writing key $k: (4 bytes read from standard input were not written)" ]
			printf 'B-line\n' | shmcat write -k "$k" --lines
			run -0 shmcat read -k "$k"
			[ "$output" = "${data%$'\n'}"$'\nB-line' ] || [ "$output" = "${data}B-line" ]
		done
	done
}

@test "ring: a --lines writer that gives up leaves a seekable input at the first byte not published, and says what a pipe lost" {
	local k d i status
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -f "line %06g" 1 3000 >"$d/in"
	for i in $(seq 1 20); do
		shmcat rm -k "$k" 2>/dev/null || :
		head -c $((8192 + i * 97)) /dev/zero | shmcat write -k "$k" -c --size 16k
		status=0
		{ shmcat write -k "$k" --lines --nowait 2>/dev/null || status=$?; cat >"$d/rest"; } <"$d/in"
		[ "$status" = 1 ]
		shmcat read -k "$k" | tr -d '\0' | cat - "$d/rest" | cmp - "$d/in"
	done
	shmcat read -k "$k" >/dev/null
	head -c 16352 /dev/zero | shmcat write -k "$k" -a 16
	run -1 shmcat write -k "$k" --lines -w 100ms < <(printf 'one\ntwo\nthr')
	output_is "shmcat: unable to write key $k: no room in time (11 bytes read from standard input were not written)"
}

@test "ring: SIGTERM to a reader writing into a pipe nobody reads ends it at once; what is still in the pipe goes back into the ring" {
	local k d src r
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	head -c 300000 /dev/urandom >"$d/in"
	shmcat write -k "$k" -c --size 1M <"$d/in"
	src=$(it_path pipe)
	mkfifo "$src"
	exec {r}<>"$src"
	it_bg_ready bash -c 'exec shmcat read -k "$1" --ready-fd 9 >"$2" '"$r>&-" _ "$k" "$src"
	# The pipe is full, the reader blocked in write(2) with most of a
	# 300000-byte chunk in hand.
	wait_for fifo_has_data "$r"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID" 5
	[ "$IT_STATUS" = 143 ]
	exec {r}>&-
	shmcat read -k "$k" | cmp - "$d/in"
}

@test "ring: shmcat read | cat of a large stream is exit 0 with every byte, run after run" {
	local k d i
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	head -c 32M /dev/urandom >"$d/in"
	for i in 1 2 3; do
		shmcat rm -k "$k" 2>/dev/null || :
		shmcat write -k "$k" -c --size 256k </dev/null
		it_bg_ready shmcat write -k "$k" --ready-fd 9 <"$d/in"
		run -0 bash -c 'shmcat read -k "$1" | cat >"$2"; exit "${PIPESTATUS[0]}"' _ "$k" "$d/out"
		cmp "$d/in" "$d/out"
		it_wait "$IT_PID"
		[ "$IT_STATUS" = 0 ]
	done
}

@test "ring: a POSIX ring cut short under a waiting reader or writer is exit 65, never SIGBUS" {
	local n
	n=$(it_name)
	shmcat write -N "$n" -c --size 16k </dev/null
	it_bg_ready shmcat read -N "$n" -F --ready-fd 9 2>"$BATS_TEST_TMPDIR/err"
	truncate -s 0 "/dev/shm$n"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 65 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "shmcat: unable to use $n: the segment was cut short while in use" ]
	shmcat rm -N "$n"
	head -c 12288 /dev/zero | shmcat write -N "$n" -c --size 16k
	it_bg_ready shmcat write -N "$n" --ready-fd 9 < <(head -c 8192 /dev/zero)
	truncate -s 100 "/dev/shm$n"
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 65 ]
}

@test "ring: a writer killed at each step of commit leaves a ring every later reader and writer can use" {
	local n d step out wfd rfd
	hooked_shmcat
	n=$(it_name)
	d=$BATS_TEST_TMPDIR
	seq -f "line %g" 1 50 >"$d/lines"
	# A partial last line: the record is reserved for all that is in
	# the pipe, and shrinks over it as it is published.
	{ cat "$d/lines"; printf "partial tail"; } >"$d/in"
	mkfifo "$d/fifo"
	for step in commit-locked commit-pad commit-shrunk commit-head commit-state; do
		for size in 16k 64k; do
			shmcat rm -N "$n" 2>/dev/null || :
			head -c 5000 /dev/zero | shmcat write -N "$n" -c --size "$size" -a 1000
			shmcat read -N "$n" | wc -c | grep -qx 5000
			# A pipe that holds all of the input before the writer
			# starts, and ends there.
			exec {wfd}<>"$d/fifo" {rfd}<"$d/fifo"
			cat "$d/in" >&"$wfd"
			exec {wfd}>&-
			run -137 env IT_RING_HOOK=$step "$HOOKED" write -N "$n" --lines -a 16 <&"$rfd"
			exec {rfd}<&-
			run -0 shmcat write -N "$n" --lines <<<"after"
			run -0 shmcat read -N "$n"
			out=$output
			# The killed writer's chunk is there whole, or not at all.
			[ "$out" = after ] || [ "$out" = "$(cat "$d/lines")"$'\nafter' ]
			[ "$step" != commit-state ] || [ "$out" != after ]
			run -0 shmcat stat -N "$n"
			[[ $output == *$'\nused=0\n'* && $output == *$'\nwriters=0\n'* ]]
		done
	done
}

# ---- raw segments: what a new user tried ----

@test "stat, dump and load of a FIFO, a directory or a symlink planted in /dev/shm are exit 65 at once, with nothing on stdout" {
	local n m
	n=$(it_name)
	m=$(it_name)
	mkfifo "/dev/shm$n"
	mkdir "/dev/shm$m"
	it_track path "/dev/shm$m"
	run -65 timeout 5 shmcat stat -N "$n"
	output_is "shmcat: unable to use $n: not a shared memory object (a FIFO)"
	run -65 timeout 5 shmcat dump -N "$n"
	output_is "shmcat: unable to use $n: not a shared memory object (a FIFO)"
	run -65 timeout 5 shmcat stat -N "$m"
	output_is "shmcat: unable to use $m: not a shared memory object (a directory)"
	# load opens for writing, where shm_open says EINVAL for a directory
	run -65 shmcat load -N "$m" <<<x
	output_is "shmcat: unable to use $m: not a shared memory object (a directory)"
	run -65 shmcat load -N "$m" -c <<<x
	output_is "shmcat: unable to use $m: not a shared memory object (a directory)"
	# a symlink is refused (O_NOFOLLOW) as what it is, not as ELOOP's 71
	local l
	l=$(it_name)
	ln -s /etc/passwd "/dev/shm$l"
	it_track path "/dev/shm$l"
	run -65 shmcat dump -N "$l"
	output_is "shmcat: unable to use $l: not a shared memory object (a symbolic link)"
	run -65 shmcat load -N "$l" <<<x
	output_is "shmcat: unable to use $l: not a shared memory object (a symbolic link)"
}

@test "load -N from a stream that fails or is cut grows the object only as far as the data, or not at all" {
	local n
	n=$(it_name)
	printf abc | shmcat load -N "$n" -c
	run -74 shmcat load -N "$n" -o 3 <"$BATS_TEST_TMPDIR"
	output_is "shmcat: unable to read standard input: Is a directory"
	[ "$(stat -c %s "/dev/shm$n")" = 3 ]
	head -c 5000 /dev/zero | shmcat load -N "$n" -o 3
	[ "$(stat -c %s "/dev/shm$n")" = 5003 ]
	[ "$(shmcat dump -N "$n" -l 3)" = abc ]
	printf xy | shmcat load -N "$n"
	[ "$(stat -c %s "/dev/shm$n")" = 5003 ]
	[ "$(shmcat dump -N "$n" -l 3)" = xyc ]
}

@test "under ulimit -f, load -N and read are exit 74, the object grown only by what was written, no chunk delivered twice" {
	local n k d
	n=$(it_name)
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	run -0 bash -c 'ulimit -f 1000; printf abc | shmcat load -N "$1" -c' _ "$n"
	[ "$(stat -c %s "/dev/shm$n")" = 3 ]
	head -c 600000 /dev/urandom >"$d/in"
	run -74 bash -c 'ulimit -f 100; shmcat load -N "$1" < <(cat "$2")' _ "$n" "$d/in"
	[[ $output == "shmcat: unable to write $n: File too large" ]]
	[ "$(stat -c %s "/dev/shm$n")" = 102400 ]
	cmp -n 102400 "/dev/shm$n" "$d/in"
	shmcat write -k "$k" -c <"$d/in"
	run -74 bash -c 'ulimit -f 100; exec shmcat read -k "$1" >"$2"' _ "$k" "$d/out"
	[ "$output" = "shmcat: unable to write standard output: File too large" ]
	shmcat read -k "$k" >>"$d/out"
	cmp "$d/in" "$d/out"
}

@test "-k private: an id that cannot be printed removes the new segment (74); no --size is 64 even without -c" {
	local before
	before=$(ipcs -m | grep -c '^0x00000000' || :)
	run -74 bash -c 'printf abc | shmcat load -k private --size 3 >/dev/full'
	output_is "shmcat: unable to write standard output: No space left on device (the new segment was removed)"
	run -74 bash -c 'printf abc | shmcat write -k private --size 16k >&-'
	[ "$(ipcs -m | grep -c '^0x00000000' || :)" = "$before" ]
	run -64 bash -c 'echo hi | shmcat load -k private'
	output_is "shmcat: unable to create a segment for private key: give --size (standard input is not a regular file)"
	: >"$BATS_TEST_TMPDIR/empty"
	run -64 shmcat load -k private <"$BATS_TEST_TMPDIR/empty"
	output_is "shmcat: unable to create a segment for private key: give --size (standard input is empty)"
}

@test "POSIX offsets past the largest object are exit 65, the object untouched; names of 255 bytes after the slash work" {
	local n long
	n=$(it_name)
	printf abc | shmcat load -N "$n" -c
	run -65 shmcat load -N "$n" -o 9223372036854775000 < <(printf xyz)
	output_is "shmcat: unable to load $n: offset 9223372036854775000 is past the largest object"
	run -65 shmcat load -N "$n" -o 9223372036854775807 < <(printf xyz)
	[ "$(stat -c %s "/dev/shm$n")" = 3 ]
	long=/$(printf 'n%.0s' {1..255})
	it_track posix "$long"
	printf abc | shmcat load -N "$long" -c
	[ "$(shmcat dump -N "$long")" = abc ]
	run -64 shmcat dump -N "/$(printf 'n%.0s' {1..256})"
}

@test "ring: a small ring takes the default --atomic that fits it; a refused --atomic creates nothing; --nowait on an ended empty ring is 1" {
	local k n
	k=$(it_key)
	n=$(it_name)
	run -0 shmcat write -k "$k" -c --size 4096 <<<"small"
	[ "$(shmcat read -k "$k")" = small ]
	run -65 shmcat write -N "$n" -c --size 4096 -a 2033 <<<"x"
	output_is "shmcat: unable to write $n: --atomic is more than 2032 bytes, the most a ring of 4096 bytes takes"
	[ ! -e "/dev/shm$n" ]
	run -0 shmcat write -N "$n" -c --size 4096 -a 2032 <<<"x"
	shmcat read -N "$n" >/dev/null
	run -1 shmcat read -N "$n" --nowait
	output_is "shmcat: unable to read $n: the ring is empty"
}

@test "help and completion: every option of write and read in the usage, 69 in the exit list; creation options only where they apply; names with spaces quoted" {
	local n
	run -0 shmcat --help
	[[ $output == *"write [-cx] [-m MODE]"*"--nowait]"*"[--ready-fd FD]"* ]]
	[[ $output == *"read [-cxF] [-m MODE]"*"--nowait]"*"[--ready-fd FD]"* ]]
	[[ $output == *" 69 all slots taken"* && $output == *"k, M, G or T"* ]]
	# shellcheck source=/dev/null
	. "$BATS_TEST_DIRNAME/../completions/shmcat"
	complete_words() {
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_shmcat shmcat
		printf '%s\n' "${COMPREPLY[@]}"
	}
	for c in dump stat rm set; do
		run complete_words shmcat "$c" --
		[[ $output != *--create* && $output != *--excl* ]]
	done
	[[ $(complete_words shmcat stat --) != *--mode=* ]]
	[[ $(complete_words shmcat load --) != *--rm* ]]
	[[ $(complete_words shmcat write --) != *--rm* ]]
	[[ $(complete_words shmcat dump --) == *--rm* ]]
	[ "$(complete_words shmcat write --full=o)" = overwrite ]
	[ "$(complete_words shmcat write --full=)" = "$(printf '%s\n' wait overwrite discard fail)" ]
	[[ $(complete_words shmcat read --) != *--full* ]]
	[[ $(complete_words shmcat write --) == *--full=* ]]
	n="$(it_name) with space"
	it_track posix "$n"
	shmcat load -N "$n" -c </dev/null
	[ "$(complete_words shmcat dump -N "${n% *}")" = "$(printf '%q' "$n")" ]
}

@test "messages: --excl named as given, an owner of 4294967295 out of range, :GID as chown takes it" {
	local n
	n=$(it_name)
	run -64 shmcat dump -x -k 1
	[ "${lines[0]}" = "shmcat: cannot use --excl with dump" ]
	run -64 shmcat set -k 1 --owner 4294967295
	[ "${lines[0]}" = "shmcat: invalid owner '4294967295': at most 4294967294" ]
	shmcat load -N "$n" -c </dev/null
	shmcat set -N "$n" --owner :nogroup
	[ "$(stat -c '%u %g' "/dev/shm$n")" = "$(id -u) $(getent group nogroup | cut -d: -f3)" ]
	# UID: is the user's login group too, so a uid with no user is
	# refused, as chown refuses it.
	run -64 shmcat set -N "$n" --owner 1234:
	[ "${lines[0]}" = "shmcat: invalid owner '1234:': no such user, so no login group" ]
	[ "$(stat -c '%u %g' "/dev/shm$n")" = "$(id -u) $(getent group nogroup | cut -d: -f3)" ]
}

@test "stat of a System V segment too small for a ring leaves its last_pid and attach times as they were" {
	local k before
	k=$(it_key)
	shmcat load -k "$k" -c --size 100 </dev/null
	before=$(shmcat stat -k "$k" | grep -E '^(last_pid|attach_time|detach_time)=')
	run -0 shmcat stat -k "$k"
	[ "$(grep -E '^(last_pid|attach_time|detach_time)=' <<<"$output")" = "$before" ]
}

# The literal block number $1 of shmcat(1)'s EXAMPLES.
man_example() {
	awk -v want="$1" '
		/^\.Sh / { ex = ($0 == ".Sh EXAMPLES") }
		ex && /^\.Bd -literal/ { n++; on = (n == want); next }
		ex && /^\.Ed/ { on = 0; next }
		on { print }
	' "$BATS_TEST_DIRNAME/../man/shmcat.1"
}

@test "shmcat(1) EXAMPLES: python reads the object and leaves it for shmcat rm; the log collector's writer never races its reader" {
	local i
	[ ! -e /dev/shm/today ] && [ ! -e /dev/shm/log ] || skip "/dev/shm/today or /dev/shm/log exists here"
	it_track posix /today
	it_track posix /log
	run -0 bash -e -c "$(man_example 2)"
	[[ $output == *20* ]]
	[ ! -e /dev/shm/today ]
	cd "$BATS_TEST_TMPDIR"
	for i in $(seq 1 10); do
		run -0 bash -e -c "$(man_example 4)"
		[ ! -e /dev/shm/log ]
	done
}

@test "a full tmpfs: load -c of a file ends the object at the last byte written; a POSIX ring that does not fit is refused at the start" {
	local d=$BATS_TEST_TMPDIR
	unshare -m --propagation private true 2>/dev/null || skip "needs unshare -m (root) for a small tmpfs"
	head -c 3M /dev/urandom >"$d/r3m"
	run -0 unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=1m tmpfs /dev/shm || exit 99
		shmcat load -N /full -c <"$1"; echo "load=$?"
		size=$(stat -c %s /dev/shm/full)
		[ "$size" -gt 0 ] && [ "$size" -le 1048576 ] && cmp -n "$size" /dev/shm/full "$1" && echo "size ok"
		rm /dev/shm/full
		shmcat write -N /ring -c -s 4M </dev/null; echo "ring=$?"
		ls /dev/shm | wc -l' _ "$d/r3m"
	[ "${lines[0]}" = "shmcat: unable to write /full: No space left on device" ]
	[ "${lines[1]}" = "load=74" ]
	[ "${lines[2]}" = "size ok" ]
	[ "${lines[3]}" = "shmcat: unable to make room for the ring in /ring: No space left on device" ]
	[ "${lines[4]}" = "ring=71" ]
	[ "${lines[5]}" = 0 ]
}

@test "dump -N appends to a file opened with >>" {
	local n f
	n=$(it_name)
	f=$(it_path out)
	head -c 300000 /dev/urandom >"$f.in"
	shmcat load -N "$n" -c <"$f.in"
	echo hi >"$f"
	shmcat dump -N "$n" >>"$f"
	{ echo hi; cat "$f.in"; } | cmp - "$f"
}

@test "ring: writers waiting for room take turns: none starves behind busy ones, each within its -w" {
	local k d w pids=()
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	shmcat write -k "$k" -c --size 64k </dev/null
	for w in 1 2 3 4; do
		seq -f "w$w %g" 1 100000 >"$d/in$w"
		it_bg_ready shmcat write -k "$k" --lines -w 1s --ready-fd 9 <"$d/in$w"
		pids+=("$IT_PID")
	done
	# A reader slower than the writers: the ring is full all along.
	shmcat read -k "$k" -w 5s | python3 -c 'import os, time
while (d := os.read(0, 4096)):
    os.write(1, d)
    time.sleep(0.005)' >"$d/out"
	for w in "${pids[@]}"; do
		it_wait "$w" 30
		[ "$IT_STATUS" = 0 ]
	done
	cat "$d"/in? | sort | cmp - <(sort "$d/out")
}

@test "a failed load -c leaves nothing it created; a last line of exactly --atomic bytes is taken; a phantom reservation in a record is cleared" {
	local n k f
	n=$(it_name)
	k=$(it_key)
	f=$(it_path in)
	run -74 bash -c 'exec shmcat load -N "$1" -c <&-' _ "$n"
	[ ! -e "/dev/shm$n" ]
	head -c 300000 /dev/zero >"$f"
	run -65 shmcat load -k "$k" -c -s 4 <"$f"
	[ -z "$(shmid_of "$k")" ]
	shmcat write -N "$n" -c </dev/null
	head -c 4096 /dev/zero | tr '\0' x | shmcat write -N "$n" --lines
	run -65 shmcat write -N "$n" --lines -a 4 < <(printf 'abcd\n')
	printf abcd | shmcat write -N "$n" --lines -a 4
	[ "$(shmcat read -N "$n" | wc -c)" = 4100 ]
	shmcat rm -N "$n"
	# A record's state word set to "reserved" by someone with write
	# access: no writer holds that slot, so the next look clears it.
	seq 1 1000 | shmcat write -N "$n" -c -s 8k --lines -a 4000
	python3 -c 'import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(4096); f.write(struct.pack("<I", 1))' "/dev/shm$n"
	run -0 shmcat write -N "$n" --lines -w 2s <<<"new"
	[ "$(shmcat read -N "$n" | tail -n 1)" = new ]
}

@test "ring: a --lines writer holding a partial line of exactly --atomic bytes never takes the next read for the end: a longer line is 65, nothing published, from a file or a pipe, at -a 64k and its neighbours" {
	local n d a len status
	n=$(it_name)
	d=$BATS_TEST_TMPDIR
	shmcat write -N "$n" -c </dev/null
	for a in 65535 65536 65537; do
		for len in $((a - 1)) "$a" $((a + 1)); do
			{ head -c "$len" /dev/zero | tr '\0' x; printf '\ntail\n'; } >"$d/in"
			for from in file pipe; do
				status=0
				if [ "$from" = file ]; then
					shmcat write -N "$n" --lines -a "$a" <"$d/in" 2>"$d/err" || status=$?
				else
					cat "$d/in" | shmcat write -N "$n" --lines -a "$a" 2>"$d/err" || status=$?
				fi
				shmcat read -N "$n" --nowait >"$d/out" 2>/dev/null || :
				if [ $((len + 1)) -le "$a" ]; then
					[ "$status" = 0 ]
					cmp "$d/out" "$d/in"
				else
					[ "$status" = 65 ]
					grep -q "a line is longer than --atomic ($a bytes)" "$d/err"
					[ ! -s "$d/out" ]
				fi
			done
		done
		# A partial line of exactly --atomic bytes that ends the input
		# is whole.
		head -c "$a" /dev/zero | tr '\0' x | shmcat write -N "$n" --lines -a "$a"
		[ "$(shmcat read -N "$n" --nowait | wc -c)" = "$a" ]
	done
}

@test "ring: a writer whose ring is removed while it never waits is exit 66 saying how many bytes no reader took" {
	local k n src w obj label
	k=$(it_key)
	n=$(it_name)
	src=$(it_path src)
	mkfifo "$src"
	for obj in "-k $k" "-N $n"; do
		label=${obj/#-k /key }
		label=${label#-N }
		# shellcheck disable=SC2086
		shmcat write $obj -c </dev/null
		exec {w}<>"$src"
		# Removed after the last write, before the end of the input.
		it_bg_ready bash -c 'exec shmcat write $1 -a 1 --ready-fd 9 <"$2" 2>"$3" '"$w>&-" _ "$obj" "$src" "$BATS_TEST_TMPDIR/err"
		printf 'abc' >&"$w"
		# shellcheck disable=SC2086
		wait_for field_is bytes_written 3 $obj
		# shellcheck disable=SC2086
		shmcat rm $obj
		exec {w}>&-
		it_wait "$IT_PID"
		[ "$IT_STATUS" = 66 ]
		[ "$(cat "$BATS_TEST_TMPDIR/err")" = "shmcat: unable to write $label: the segment was removed (3 bytes written into it were not read)" ]
		# Removed between two writes: the next one stops, saying what
		# it read and did not write.
		# shellcheck disable=SC2086
		shmcat write $obj -c </dev/null
		exec {w}<>"$src"
		it_bg_ready bash -c 'exec shmcat write $1 --lines --ready-fd 9 <"$2" 2>"$3" '"$w>&-" _ "$obj" "$src" "$BATS_TEST_TMPDIR/err"
		printf 'abc\n' >&"$w"
		# shellcheck disable=SC2086
		wait_for field_is bytes_written 4 $obj
		# shellcheck disable=SC2086
		shmcat rm $obj
		printf 'defg\n' >&"$w"
		it_wait "$IT_PID"
		exec {w}>&-
		[ "$IT_STATUS" = 66 ]
		[ "$(cat "$BATS_TEST_TMPDIR/err")" = "shmcat: unable to write $label: the segment was removed (4 bytes written into it were not read) (5 bytes read from standard input were not written)" ]
	done
	# Every byte taken before the removal: exit 0.
	shmcat write -N "$n" -c </dev/null
	exec {w}<>"$src"
	it_bg_ready bash -c 'exec shmcat write -N "$1" -a 1 --ready-fd 9 <"$2" '"$w>&-" _ "$n" "$src"
	printf 'abc' >&"$w"
	wait_for field_is bytes_written 3 -N "$n"
	[ "$(shmcat read -N "$n" --nowait)" = abc ]
	shmcat rm -N "$n"
	exec {w}>&-
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
}

@test "ring: read -F --rm stopped by SIGTERM keeps a ring that holds unread data or has a writer attached, and says so" {
	local k d src r w
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	head -c 300000 /dev/urandom >"$d/in"
	shmcat write -k "$k" -c <"$d/in"
	src=$(it_path pipe)
	mkfifo "$src"
	# What the pipe did not take goes back into the ring, which stays.
	exec {r}<>"$src"
	it_bg_ready bash -c 'exec shmcat read -k "$1" -F --rm --ready-fd 9 >"$2" 2>"$3" '"$r>&-" _ "$k" "$src" "$d/err"
	wait_for fifo_has_data "$r"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID" 5
	exec {r}>&-
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$d/err")" = "shmcat: key $k stays despite --rm: 300000 bytes in it were not read" ]
	shmcat read -k "$k" | cmp - "$d/in"
	# A writer still attached: its data to come would go with the ring.
	exec {w}<>"$src"
	it_bg_ready bash -c 'exec shmcat write -k "$1" -a 1 --ready-fd 9 <"$2" '"$w>&-" _ "$k" "$src"
	local wpid=$IT_PID
	it_bg_ready bash -c 'exec shmcat read -k "$1" -F --rm --ready-fd 9 >"$2" 2>"$3"' _ "$k" "$d/out" "$d/err"
	kill -TERM "$IT_PID"
	it_wait "$IT_PID" 5
	[ "$IT_STATUS" = 0 ]
	[ "$(cat "$d/err")" = "shmcat: key $k stays despite --rm: 1 writer is still attached" ]
	exec {w}>&-
	it_wait "$wpid"
	[ "$IT_STATUS" = 0 ]
	# Empty, nobody attached: removed.
	it_bg_ready shmcat read -k "$k" -F --rm --ready-fd 9
	kill -TERM "$IT_PID"
	it_wait "$IT_PID" 5
	[ "$IT_STATUS" = 0 ]
	[ -z "$(shmid_of "$k")" ]
}

@test "ring: read --rm without -F stopped by SIGTERM, SIGINT or SIGHUP says whether the ring stays (and why) or went, and dies of the signal" {
	local k d src r w sig st
	d=$BATS_TEST_TMPDIR
	for sig in TERM INT HUP; do
		k=$(it_key)
		head -c 300000 /dev/urandom >"$d/in"
		shmcat write -k "$k" -c <"$d/in"
		src=$(it_path "pipe$sig")
		mkfifo "$src"
		# Blocked writing into a pipe nobody reads: what it holds goes
		# back, and the ring stays for it.
		exec {r}<>"$src"
		it_bg_ready bash -c 'exec shmcat read -k "$1" --rm --ready-fd 9 >"$2" 2>"$3" '"$r>&-" _ "$k" "$src" "$d/err"
		wait_for fifo_has_data "$r"
		kill -"$sig" "$IT_PID"
		it_wait "$IT_PID" 5
		exec {r}>&-
		st=$((128 + $(kill -l "$sig")))
		[ "$IT_STATUS" = "$st" ]
		[ "$(cat "$d/err")" = "shmcat: stopped by SIG$sig: key $k stays despite --rm: 300000 bytes in it were not read" ]
		shmcat read -k "$k" | cmp - "$d/in"
		# Waiting for data from a writer still attached.
		exec {w}<>"$src"
		it_bg_ready bash -c 'exec shmcat write -k "$1" -a 1 --ready-fd 9 <"$2" '"$w>&-" _ "$k" "$src"
		local wpid=$IT_PID
		it_bg_ready bash -c 'exec shmcat read -k "$1" --rm --ready-fd 9 >"$2" 2>"$3"' _ "$k" "$d/out" "$d/err"
		kill -"$sig" "$IT_PID"
		it_wait "$IT_PID" 5
		[ "$IT_STATUS" = "$st" ]
		[ "$(cat "$d/err")" = "shmcat: stopped by SIG$sig: key $k stays despite --rm: 1 writer is still attached" ]
		exec {w}>&-
		it_wait "$wpid"
		[ "$IT_STATUS" = 0 ]
		[ -n "$(shmid_of "$k")" ]
		shmcat rm -k "$k"
		rm -f "$src"
		# Waiting on a new ring no writer has used: it goes, and says so.
		k=$(it_key)
		it_bg_ready bash -c 'exec shmcat read -k "$1" -c --rm --ready-fd 9 2>"$2"' _ "$k" "$d/err"
		kill -"$sig" "$IT_PID"
		it_wait "$IT_PID" 5
		[ "$IT_STATUS" = "$st" ]
		[ "$(cat "$d/err")" = "shmcat: stopped by SIG$sig: key $k removed (--rm): everything in it was read and no writer is attached" ]
		[ -z "$(shmid_of "$k")" ]
	done
}

# Everything the pipe behind fd $1 holds now, on stdout, without waiting.
fifo_slurp() {
	python3 -c 'import os, sys
fd = int(sys.argv[1]); os.set_blocking(fd, False)
while True:
    try:
        d = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not d:
        break
    sys.stdout.buffer.write(d)' "$1"
}

@test "ring: SIGTERM to a reader into a pipe: each byte is either read from the pipe or back in the ring, never both" {
	local k d src r i
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	src=$(it_path pipe)
	mkfifo "$src"
	for i in 1 2 3; do
		head -c $((100000 * i + 7)) /dev/urandom >"$d/in"
		shmcat write -k "$k" -c --size 1M <"$d/in"
		exec {r}<>"$src"
		it_bg_ready bash -c 'exec shmcat read -k "$1" --ready-fd 9 >"$2" '"$r>&-" _ "$k" "$src"
		wait_for fifo_has_data "$r"
		kill -TERM "$IT_PID"
		it_wait "$IT_PID" 5
		[ "$IT_STATUS" = 143 ]
		# The pipe's reader goes on reading after the signal.
		fifo_slurp "$r" >"$d/a"
		exec {r}>&-
		shmcat read -k "$k" >"$d/b"
		cat "$d/a" "$d/b" | cmp - "$d/in"
	done
}

@test "ring: -w and --nowait bound a reader's wait on a pipe whose reader does not read: exit 1, every byte not taken back in the ring" {
	local k d src r opt
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	src=$(it_path pipe)
	mkfifo "$src"
	head -c 300000 /dev/urandom >"$d/in"
	for opt in "-w 300ms" --nowait; do
		shmcat write -k "$k" -c <"$d/in"
		exec {r}<>"$src"
		it_bg_ready bash -c 'exec shmcat read -k "$1" $2 --ready-fd 9 >"$3" 2>"$4" '"$r>&-" _ "$k" "$opt" "$src" "$d/err"
		it_wait "$IT_PID" 5
		[ "$IT_STATUS" = 1 ]
		[[ $(cat "$d/err") == "shmcat: unable to read key $k: standard output did not take the data in time ("*" bytes went back into the ring)" ]]
		fifo_slurp "$r" >"$d/a"
		exec {r}>&-
		shmcat read -k "$k" >"$d/b"
		cat "$d/a" "$d/b" | cmp - "$d/in"
	done
	# A reader that reads is waited for as long as it reads.
	shmcat write -k "$k" <"$d/in"
	shmcat read -k "$k" -w 2s | cmp - "$d/in"
}

@test "--create on a segment that exists and belongs to another user is exit 77; without --create it is used" {
	local k n obj label
	need_other_user
	k=$(it_key)
	n=$(it_name)
	for obj in "-k $k" "-N $n"; do
		label=${obj/#-k /key }
		label=${label#-N }
		# shellcheck disable=SC2086
		as_nobody shmcat write $obj -c -m 0666 </dev/null
		for c in "write" "read" "load"; do
			# shellcheck disable=SC2086
			run -77 shmcat "$c" $obj -c </dev/null
			output_is "shmcat: unable to use $label: it exists and belongs to uid $(id -u nobody); name it without --create to use it"
		done
		# shellcheck disable=SC2086
		run -0 shmcat write $obj <<<"shared"
		# shellcheck disable=SC2086
		[ "$(shmcat read $obj)" = shared ]
		# Our own, or one we made and gave away by set --owner, is ours.
		# shellcheck disable=SC2086
		shmcat rm $obj
	done
	shmcat write -k "$k" -c </dev/null
	shmcat set -k "$k" --owner nobody
	run -0 shmcat write -k "$k" -c <<<"mine"
}

@test "load -N with the object itself as standard input is exit 65, the object untouched" {
	local n
	n=$(it_name)
	shmcat load -N "$n" -c <<<"0123456789"
	run -65 timeout 10 shmcat load -N "$n" -o 5 <"/dev/shm$n"
	output_is "shmcat: unable to load $n: standard input is the object itself"
	run -65 timeout 10 shmcat load -N "$n" <"/dev/shm$n"
	[ "$(shmcat dump -N "$n")" = 0123456789 ]
}

@test "set --owner USER: gives the user's login group too, as chown does; a uid with no user is 64" {
	local k n u g
	k=$(it_key)
	n=$(it_name)
	u=$(getent passwd daemon | cut -d: -f3)
	g=$(getent passwd daemon | cut -d: -f4)
	[ -n "$u" ] || skip "no user daemon here"
	shmcat load -k "$k" -c --size 2 </dev/null
	shmcat set -k "$k" --owner daemon:
	[ "$(stat_field owner -k "$k")" = "$u" ]
	[ "$(stat_field group -k "$k")" = "$g" ]
	shmcat load -N "$n" -c </dev/null
	shmcat set -N "$n" --owner "$u:"
	[ "$(stat -c '%u %g' "/dev/shm$n")" = "$u $g" ]
	run -64 shmcat set -N "$n" --owner 4000000000:
	[ "${lines[0]}" = "shmcat: invalid owner '4000000000:': no such user, so no login group" ]
}

# Writes "$2" into the ring "$1" with -c; for wait_for.
write_c() {
	echo "$2" | shmcat write -N "$1" -c 2>/dev/null
}

@test "ring: a segment whose creator died before it set up the ring is set up again by -c once it is 2 s old or its creator is gone; without -c it stays 65" {
	local n k
	n=$(it_name)
	k=$(it_key)
	# POSIX: all zero, or never sized: refused while young, then taken.
	truncate -s $((4096 + 65536)) "/dev/shm$n"
	run -65 shmcat write -N "$n" -c <<<"x"
	output_is "shmcat: unable to use $n: not an ipctools ring"
	wait_for write_c "$n" again
	[ "$(shmcat read -N "$n")" = again ]
	[ "$(stat_field capacity -N "$n")" = 65536 ]
	rm -f "/dev/shm$n"
	: >"/dev/shm$n"
	chmod 600 "/dev/shm$n"
	run -65 shmcat write -N "$n" <<<"x"
	wait_for write_c "$n" sized
	[ "$(shmcat read -N "$n")" = sized ]
	# System V: made by a process that has gone (perl).
	perl -e 'use IPC::SysV qw(IPC_CREAT); defined shmget(hex($ARGV[0]), 4096 + 65536, IPC_CREAT | 0600) or die "$!"' "$k"
	run -65 shmcat read -k "$k" --nowait
	run -0 shmcat write -k "$k" -c <<<"sysv"
	[ "$(shmcat read -k "$k")" = sysv ]
}

# ---- write --full: what a full ring does to the next chunk ----

# Checks a drained ring's output file against the numbered lines given:
# whole lines, in order, each chunk whole (a run of lines with no gap
# inside a chunk is all a test can see: lines go up by one, or jump
# forward by whole chunks); and the ring's counters add up, with the
# dropped ones as the writers' stderr said. check_full OUT ERR ACTION OBJECT...
check_full() {
	local out=$1 err=$2 action=$3
	shift 3
	eval "$(shmcat stat "$@")"
	# shellcheck disable=SC2154 # set by the eval
	[ "$used" = 0 ] && field_is readers 0 "$@" && field_is writers 0 "$@"
	# shellcheck disable=SC2154
	[ "$bytes_written" = $((bytes_read + bytes_dropped)) ]
	[ "$bytes_read" = "$(stat -c %s "$out")" ]
	python3 -c '
import re, sys
out, err, mode, dropped, dbytes = sys.argv[1:6]
lines = open(out, "rb").read().split(b"\n")
assert lines[-1] == b"", lines[-1:]
nums = [int(l) for l in lines[:-1]]
assert all(len(l) == 5 for l in lines[:-1])
assert all(b > a for a, b in zip(nums, nums[1:])), "out of order"
said = [0, 0]
for l in open(err).read().splitlines():
    m = re.fullmatch(r"shmcat: (dropped the oldest|discarded) (\d+) chunks? "
                     r"\((\d+) bytes\) on \S+ \S+: the ring was full"
                     r"( and its oldest chunk was being read or written)? "
                     r"\(--full=(\w+)\)", l)
    assert m and m.group(5) == mode, l
    said[0] += int(m.group(2))
    said[1] += int(m.group(3))
assert said == [int(dropped), int(dbytes)], (said, dropped, dbytes)' \
		"$out" "$err" "$action" "$chunks_dropped" "$bytes_dropped"
}

@test "ring: write --full=overwrite keeps the newest chunks, --full=discard the oldest, each whole; exit 0, stderr and stat say how many" {
	local k d action how
	d=$BATS_TEST_TMPDIR
	seq -w 1 20000 >"$d/nums"
	for action in overwrite discard; do
		for how in file pipe; do
			k=$(it_key)
			if [ "$how" = file ]; then
				run -0 --separate-stderr shmcat write -k "$k" -c --size 16k \
					--lines --atomic 1000 --full=$action <"$d/nums"
			else
				run -0 --separate-stderr shmcat write -k "$k" -c --size 16k \
					--lines --atomic 1000 --full=$action < <(cat "$d/nums")
			fi
			[ -z "$output" ]
			printf '%s\n' "$stderr" >"$d/err"
			[ "$(stat_field chunks_dropped -k "$k")" -gt 0 ]
			shmcat read -k "$k" >"$d/out"
			check_full "$d/out" "$d/err" "$action" -k "$k"
			# overwrite ends with the last line, discard starts with
			# the first: a flight recorder, or the first that fit.
			if [ $action = overwrite ]; then
				[ "$(tail -n 1 "$d/out")" = 20000 ]
			else
				[ "$(head -n 1 "$d/out")" = 00001 ]
			fi
			[ "$(wc -c <"$d/out")" -gt 8000 ]
		done
	done
	# A ring with room drops nothing and says nothing.
	k=$(it_key)
	run -0 --separate-stderr shmcat write -k "$k" -c --full=overwrite <"$d/nums"
	[ -z "$stderr" ]
	run -0 shmcat stat -k "$k" --json
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["chunks_dropped"] == 0 and d["bytes_dropped"] == 0, d
assert d["bytes_written"] == 120000, d' "$output"
}

@test "ring: write --full=fail is exit 1 at once as --nowait; --full=wait waits; read takes no --full; the option checks of mqsend" {
	local k
	k=$(it_key)
	head -c 12288 /dev/zero | shmcat write -k "$k" -c --size 16k
	run -1 shmcat write -k "$k" --full=fail < <(head -c 5000 /dev/zero)
	output_is "shmcat: unable to write key $k: the ring is full"
	run -1 shmcat write -k "$k" --full=wait -w 200ms < <(head -c 5000 /dev/zero)
	output_is "shmcat: unable to write key $k: no room in time"
	run -64 shmcat read -k "$k" --full=wait
	[ "${lines[0]}" = "shmcat: cannot use --full with read" ]
	run -64 shmcat write -k "$k" --full=overwrite -w 1s
	[ "${lines[0]}" = "shmcat: --full=overwrite never waits: drop --timeout" ]
	run -64 shmcat write -k "$k" --full=discard --nowait
	[ "${lines[0]}" = "shmcat: --full=discard never waits: drop --nowait" ]
	run -64 shmcat write -k "$k" --full=fail -w 1s
	[ "${lines[0]}" = "shmcat: --full=fail and --timeout: choose one" ]
	run -64 shmcat write -k "$k" --full=drop
	[ "${lines[0]}" = "shmcat: invalid --full action 'drop': wait, overwrite, discard or fail" ]
	[ "$(shmcat read -k "$k" --nowait | wc -c)" = 12288 ]
	# fail is --nowait: both together are no contradiction.
	run -0 shmcat write -k "$k" --full=fail --nowait <<<"room"
	run -0 shmcat read -k "$k"
	output_is "room"
}

@test "ring: 3 overwriting writers and 2 readers: every chunk read is whole and in each writer's order, and bytes written = read + dropped" {
	local k d i pids=() wpids=()
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	shmcat write -k "$k" -c --size 16k </dev/null
	for i in 1 2; do
		it_bg_ready shmcat read -k "$k" -F --ready-fd 9 >"$d/out.$i"
		pids+=("$IT_PID")
	done
	for i in 1 2 3; do
		seq -f "$i%05g" 1 30000 | shmcat write -k "$k" --lines --atomic 700 \
			--full=overwrite 2>"$d/err.$i" &
		it_track pid $!
		wpids+=($!)
	done
	for i in "${wpids[@]}"; do
		wait "$i"
	done
	wait_for field_is used 0 -k "$k"
	for i in "${pids[@]}"; do
		kill -TERM "$i"
		it_wait "$i"
		[ "$IT_STATUS" = 0 ]
	done
	cat "$d"/err.* >"$d/err"
	eval "$(shmcat stat -k "$k")"
	# shellcheck disable=SC2154
	[ "$bytes_written" = 540000 ] && [ "$bytes_written" = $((bytes_read + bytes_dropped)) ]
	python3 -c '
import glob, re, sys
d, dropped, dbytes = sys.argv[1:4]
total = 0
for f in glob.glob(d + "/out.*"):
    data = open(f, "rb").read()
    total += len(data)
    last = {}
    for l in data.split(b"\n")[:-1]:
        assert len(l) == 6 and l.isdigit(), l
        w, n = l[0], int(l[1:])
        assert n > last.get(w, 0), (l, last.get(w))
        last[w] = n
said = [0, 0]
for l in open(d + "/err").read().splitlines():
    m = re.fullmatch(r"shmcat: (?:dropped the oldest|discarded) (\d+) chunks? \((\d+) bytes\).*\(--full=overwrite\)", l)
    assert m, l
    said[0] += int(m.group(1)); said[1] += int(m.group(2))
assert said == [int(dropped), int(dbytes)], (said, dropped, dbytes)
' "$d" "$chunks_dropped" "$bytes_dropped"
	[ "$bytes_read" = "$(cat "$d"/out.* | wc -c)" ]
}

# Numbered lines, whole and going up, and a drained ring whose counters
# add up: bytes written = bytes read + bytes dropped. whole_and_counted OUT OBJECT...
whole_and_counted() {
	local out=$1
	shift
	eval "$(shmcat stat "$@")"
	# shellcheck disable=SC2154 # set by the eval
	[ "$used" = 0 ] && field_is readers 0 "$@" && field_is writers 0 "$@"
	# shellcheck disable=SC2154
	[ "$bytes_written" = $((bytes_read + bytes_dropped)) ]
	[ "$bytes_read" = "$(stat -c %s "$out")" ]
	python3 -c '
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", lines[-1:]
assert all(len(l) == 5 and l.isdigit() for l in lines[:-1]), "torn"
nums = [int(l) for l in lines[:-1]]
assert all(b > a for a, b in zip(nums, nums[1:])), "out of order"' "$out"
}

@test "ring: a writer killed at each step of --full=overwrite or discard leaves whole chunks in order, and the counters add up" {
	local k d step action
	hooked_shmcat
	d=$BATS_TEST_TMPDIR
	seq -w 10001 14000 >"$d/first"
	seq -w 20001 24000 >"$d/second"
	seq -w 30001 30300 >"$d/third"
	for step in overwrite:drop-journal overwrite:drop-on overwrite:drop-taken \
		overwrite:drop-counted overwrite:overwrite-advanced \
		discard:discard-locked discard:drop-journal discard:drop-on \
		discard:drop-counted; do
		action=${step%%:*}
		step=${step#*:}
		k=$(it_key)
		# Full, with chunks dropped already.
		run -0 shmcat write -k "$k" -c --size 16k --lines -a 1000 \
			--full=discard <"$d/first"
		run -137 env IT_RING_HOOK="$step" "$HOOKED" write -k "$k" --lines \
			-a 1000 --full="$action" <"$d/second"
		run -0 shmcat write -k "$k" --lines -a 1000 --full=overwrite <"$d/third"
		shmcat read -k "$k" >"$d/out"
		whole_and_counted "$d/out" -k "$k"
		# The newest chunk is there, whole.
		[ "$(tail -n 1 "$d/out")" = 30300 ]
		shmcat rm -k "$k"
	done
}

@test "ring: --full=overwrite never takes a chunk a stopped reader holds: it discards its own and says so; after SIGCONT the reader has it whole" {
	local k d rd
	hooked_shmcat
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -w 10001 12000 >"$d/first"
	shmcat write -k "$k" -c --size 16k --lines -a 1000 <"$d/first"
	IT_RING_HOOK=claim-taken IT_RING_HOOK_SIG=STOP it_bg setsid "$HOOKED" read -k "$k" >"$d/out"
	rd=$IT_PID
	echo "$rd" >>"$d/stopped"
	wait_for is_stopped "$rd"
	run -0 --separate-stderr shmcat write -k "$k" --lines -a 1000 --full=overwrite < <(seq -w 20001 21000)
	[[ $stderr == *"discarded "*" chunk"*" bytes) on key $k: the ring was full and its oldest chunk was being read or written (--full=overwrite)" ]]
	kill -CONT "$rd"
	it_wait "$rd"
	[ "$IT_STATUS" = 0 ]
	# The ring was full before the reader took its chunk: the chunks
	# behind the one it held went only if the overwriter took them
	# after it was done; what the reader has is whole and in order.
	whole_and_counted "$d/out" -k "$k"
	head -n 2000 "$d/out" | cmp - "$d/first"
}

@test "ring: a reader SIGKILLed holding a claim while a writer overwrites: its chunk goes back, may be taken, is never torn; the counters add up" {
	local k d
	hooked_shmcat
	k=$(it_key)
	d=$BATS_TEST_TMPDIR
	seq -w 10001 12000 >"$d/first"
	shmcat write -k "$k" -c --size 16k --lines -a 1000 <"$d/first"
	# An overwriter attached before the reader dies, fed through a FIFO
	# only after: it finds the dead reader's claim by itself.
	mkfifo "$d/fifo"
	exec 7<>"$d/fifo"
	it_bg_ready shmcat write -k "$k" --lines -a 1000 --full=overwrite \
		--ready-fd 9 <"$d/fifo" 2>"$d/err" 7>&-
	seq -w 20001 20100 >&7
	run -137 env IT_RING_HOOK=claim-taken "$HOOKED" read -k "$k" 7>&-
	seq -w 20101 24000 >&7
	exec 7>&-
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 0 ]
	grep -q "dropped the oldest" "$d/err"
	shmcat read -k "$k" >"$d/out"
	whole_and_counted "$d/out" -k "$k"
	[ "$(tail -n 1 "$d/out")" = 24000 ]
}

@test "ring: from a regular file a writer reserves room only for bytes read: a small last piece or the end needs no --atomic unit of room, overwrite and discard drop nothing that fits; as from a pipe" {
	local d=$BATS_TEST_TMPDIR k how n
	seq 1 300 | awk '{ printf "%043d\n", $1 }' >"$d/a300"
	seq 1 769 | awk '{ printf "%015d\n", $1 }' >"$d/num"
	head -c 12288 /dev/urandom >"$d/z12288"
	head -c 12289 /dev/urandom >"$d/z12289"
	for how in file pipe; do
		# Every byte delivered is exit 0, never "no room" or "full".
		for f in a300 z12288 z12289; do
			k=$(it_key)
			shmcat write -k "$k" -c -s 16384 --nowait </dev/null
			if [ $how = file ]; then
				run -0 shmcat write -k "$k" --lines --nowait <"$d/$f"
			else
				run -0 shmcat write -k "$k" --lines --nowait < <(cat "$d/$f")
			fi
			shmcat read -k "$k" --nowait | cmp - "$d/$f"
		done
		# A ring with room for all of it drops nothing, in any mode.
		for n in overwrite discard fail; do
			for k in "$(it_key)" "$(it_name)"; do
				local obj=(-k "$k")
				[[ $k == /* ]] && obj=(-N "$k")
				if [ $how = file ]; then
					run -0 --separate-stderr shmcat write "${obj[@]}" -c -s 16384 --full=$n <"$d/num"
				else
					run -0 --separate-stderr shmcat write "${obj[@]}" -c -s 16384 --full=$n < <(cat "$d/num")
				fi
				[ -z "$stderr" ]
				field_is chunks_dropped 0 "${obj[@]}"
				shmcat read "${obj[@]}" --nowait | cmp - "$d/num"
			done
		done
	done
}

@test "ring: a flight recorder fed from a regular file keeps the last chunks, as from a pipe (loop)" {
	local d=$BATS_TEST_TMPDIR k i
	seq 1 50 | awk '{ printf "%02d%02000d\n", $1, 0 }' >"$d/ll"
	seq 1 100000 >"$d/seq"
	for i in 1 2 3; do
		k=$(it_key)
		run -0 --separate-stderr shmcat write -k "$k" -c -s 4096 --lines --full=overwrite <"$d/ll"
		shmcat read -k "$k" --nowait >"$d/out"
		tail -n 2 "$d/ll" | cmp - "$d/out"
		k=$(it_key)
		run -0 --separate-stderr shmcat write -k "$k" -c -s 8192 --lines --full=overwrite <"$d/seq"
		shmcat read -k "$k" --nowait >"$d/out"
		[ "$(tail -n 1 "$d/out")" = 100000 ]
		[ "$(wc -c <"$d/out")" -ge 6000 ]
		tail -c "$(wc -c <"$d/out")" "$d/seq" | cmp - "$d/out"
		k=$(it_key)
		run -0 --separate-stderr shmcat write -k "$k" -c -s 8192 -a 1000 --full=overwrite <"$d/seq"
		shmcat read -k "$k" --nowait >"$d/out"
		[ "$(wc -c <"$d/out")" -ge 7000 ]
		tail -c "$(wc -c <"$d/out")" "$d/seq" | cmp - "$d/out"
	done
}

# The chunks dropped are records the ring would have held: each of at
# most a quarter of the ring or one --atomic unit (2032 in a 4096 ring),
# stderr and stat agreeing.
# check_chunks LIMIT ERRFILE OBJECT...
check_chunks() {
	local limit=$1 err=$2 chunks bytes said
	shift 2
	chunks=$(stat_field chunks_dropped "$@")
	bytes=$(stat_field bytes_dropped "$@")
	[ "$chunks" -gt 0 ]
	[ "$bytes" -le $((chunks * limit)) ]
	said=$(grep -Eo '[0-9]+ chunks? \([0-9]+ bytes\)' "$err" |
		awk '{ c += $1; sub(/\(/, "", $3); b += $3 } END { print c, b }')
	[ "$said" = "$chunks $bytes" ]
}

@test "ring: a chunk dropped is the record it would have been, a quarter of the ring or one unit at most, counted once in stat and on stderr" {
	local d=$BATS_TEST_TMPDIR k how action
	seq 1 200000 >"$d/seq"
	seq 1 2000 | awk '{ printf "%042d\n", $1 }' >"$d/a2000"
	for how in file pipe; do
		for action in overwrite discard; do
			k=$(it_key)
			if [ $how = file ]; then
				shmcat write -k "$k" -c -s 16k --full=$action <"$d/seq" 2>"$d/err"
			else
				shmcat write -k "$k" -c -s 16k --full=$action < <(cat "$d/seq") 2>"$d/err"
			fi
			check_chunks 4096 "$d/err" -k "$k"
			k=$(it_key)
			if [ $how = file ]; then
				shmcat write -k "$k" -c -s 8192 -a 3000 --full=$action <"$d/seq" 2>"$d/err"
			else
				shmcat write -k "$k" -c -s 8192 -a 3000 --full=$action < <(cat "$d/seq") 2>"$d/err"
			fi
			check_chunks 3000 "$d/err" -k "$k"
			k=$(it_key)
			if [ $how = file ]; then
				shmcat write -k "$k" -c -s 4096 --lines --full=$action <"$d/a2000" 2>"$d/err"
			else
				shmcat write -k "$k" -c -s 4096 --lines --full=$action < <(cat "$d/a2000") 2>"$d/err"
			fi
			check_chunks 2032 "$d/err" -k "$k"
		done
	done
}

@test "ring: dropped counters out of bounds (negative as signed, more chunks than bytes, more read and dropped than written) are exit 65 corrupt ring for read and write, on attach and on lock" {
	local k spec off bytes d=$BATS_TEST_TMPDIR
	for spec in 3720:ffffffffffffffff 3728:ffffff7fffffffff \
		3720:0100000000000000 3728:0000000000010000; do
		off=${spec%%:*}
		bytes=$(printf '%s' "${spec#*:}" | sed 's/../\\x&/g')
		k=$(it_key)
		printf 'hello\n' | shmcat write -k "$k" -c -s 16k
		# shellcheck disable=SC2059
		printf "$bytes" | shmcat load -k "$k" -o "$off"
		run -65 shmcat read -k "$k" --nowait
		output_is "shmcat: unable to use key $k: corrupt ring"
		run -65 shmcat write -k "$k" --nowait <<<x
		output_is "shmcat: unable to use key $k: corrupt ring"
	done
	# A reader attached before the garbage finds it at its next lock.
	k=$(it_key)
	printf 'hello\n' | shmcat write -k "$k" -c -s 16k
	shmcat read -k "$k" >/dev/null
	it_bg_ready shmcat read -k "$k" -F -w 20 --ready-fd 9 >/dev/null 2>"$d/err"
	printf '\xff\xff\xff\xff\xff\xff\xff\xff' | shmcat load -k "$k" -o 3720
	it_wait "$IT_PID"
	[ "$IT_STATUS" = 65 ]
	grep -qx "shmcat: unable to use key $k: corrupt ring" "$d/err"
}

@test "stat of a ring whose header is corrupt prints ring=corrupt and exits 65, as read and write; a segment that is no ring is 0" {
	local k n off
	for off in 16 24 32 3720; do
		for k in "$(it_key)" "$(it_name)"; do
			local obj=(-k "$k")
			[[ $k == /* ]] && obj=(-N "$k")
			printf 'hello\n' | shmcat write "${obj[@]}" -c -s 16k
			printf '\xff\xff\xff\xff\xff\xff\xff\xff' | shmcat load "${obj[@]}" -o "$off"
			run -65 shmcat read "${obj[@]}" --nowait
			run -65 --separate-stderr shmcat stat "${obj[@]}"
			[ "$stderr" = "shmcat: unable to use ${k/#0x/key 0x}: corrupt ring" ]
			[[ $output == *$'\nring=corrupt' ]]
			[[ $output != *capacity=* ]]
			run -65 --separate-stderr shmcat stat "${obj[@]}" --json
			python3 -c 'import json, sys; assert json.loads(sys.argv[1])["ring"] == "corrupt"' "$output"
		done
	done
	n=$(it_key)
	shmcat load -k "$n" -c -s 16k </dev/null
	run -0 shmcat stat -k "$n"
	[[ $output != *ring=* && $output != *capacity=* ]]
}
