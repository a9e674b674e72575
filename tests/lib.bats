#!/usr/bin/env bats
# The shared argp children and framing of lib/, end to end through the
# libprobe test driver: what every tool's naming, creation and framing
# options accept, and the usage error (exit 64) for what they refuse.

load helper

PROBE=${IT_PROBE:-$BATS_TEST_DIRNAME/../build/libprobe}

probe() {
	"$PROBE" "$@"
}

# The first line of a usage error, and argp's hint on the second.
usage_error() {
	run -64 probe "$@"
	[ "${lines[0]}" = "libprobe: $EXPECT" ]
	[[ ${lines[1]} == "Try \`libprobe --help'"* ]]
}

@test "naming: key in decimal, hex and octal; private; id; POSIX name" {
	run -0 probe -k 42
	[ "${lines[0]}" = "object='key 0x0000002a'" ]
	run -0 probe --key=0x2A
	[ "${lines[0]}" = "object='key 0x0000002a'" ]
	run -0 probe -k 052
	[ "${lines[0]}" = "object='key 0x0000002a'" ]
	run -0 probe -k 0xffffffff
	[ "${lines[0]}" = "object='key 0xffffffff'" ]
	run -0 probe -k private
	[ "${lines[0]}" = "object='private key'" ]
	run -0 probe -i 7
	[ "${lines[0]}" = "object='id 7'" ]
	run -0 probe -N /queue
	[ "${lines[0]}" = "object=/queue" ]
	[ "${lines[2]}" = "posix=1" ]
}

@test "naming: ftok file and project give the key perl's IPC::SysV gives" {
	local f want
	f=$(it_path key)
	: >"$f"
	want=$(perl -MIPC::SysV=ftok -e 'printf "0x%08x", ftok($ARGV[0], 0 + $ARGV[1])' "$f" 97)
	run -0 probe -f "$f" -j a
	[ "${lines[0]}" = "object='key $want (ftok $f 97)'" ]
	run -0 probe -f "$f" --proj=97
	[ "${lines[0]}" = "object='key $want (ftok $f 97)'" ]
	want=$(perl -MIPC::SysV=ftok -e 'printf "0x%08x", ftok($ARGV[0], 1)' "$f")
	run -0 probe -f "$f"
	[ "${lines[0]}" = "object='key $want (ftok $f 1)'" ]
}

@test "naming: a missing ftok file is exit 66 naming the path" {
	run -66 probe -f /nonexistent/ipctools
	[ "$output" = "libprobe: unable to derive a key from /nonexistent/ipctools: No such file or directory (ftok needs an existing file)" ]
}

@test "naming: exactly one of key, file, id, name" {
	EXPECT="name the object with --key, --file, --id or --name" usage_error
	EXPECT="--key and --id name two objects: give only one" usage_error -k 1 -i 2
	EXPECT="--name and --file name two objects: give only one" usage_error -N /a -f /etc/passwd
	EXPECT="--proj goes with --file" usage_error -k 1 -j 2
}

@test "naming: bad keys, ids, projects and names are usage errors" {
	EXPECT="key 0 is IPC_PRIVATE: say --key private" usage_error -k 0
	EXPECT="invalid key '0x100000000': out of range" usage_error -k 0x100000000
	EXPECT="invalid key '-1'" usage_error -k -1
	EXPECT="invalid key ''" usage_error -k ''
	EXPECT="invalid key '42x'" usage_error -k 42x
	EXPECT="invalid key '09'" usage_error -k 09
	EXPECT="invalid id '-3': out of range" usage_error -i -3
	EXPECT="invalid id '2147483648': out of range" usage_error -i 2147483648
	EXPECT="invalid project id '0': out of range" usage_error -f /etc/passwd -j 0
	EXPECT="invalid project id '256': out of range" usage_error -f /etc/passwd -j 256
	EXPECT="invalid project id 'ab'" usage_error -f /etc/passwd -j ab
	EXPECT="invalid file '': empty" usage_error -f ''
	local bad
	for bad in q / //q /a/b ''; do
		EXPECT="invalid name '$bad': a POSIX name is /NAME, one leading slash and no other, at most 255 bytes" \
			usage_error -N "$bad"
	done
}

@test "naming: a 64 KiB argument is refused in one short line" {
	local big
	big=$(head -c 65536 /dev/zero | tr '\0' 9)
	EXPECT="invalid key '9999999999999999999999...9999999999999999999999': out of range" usage_error -k "$big"
	EXPECT="invalid name '/999999999999999999999...9999999999999999999999': a POSIX name is /NAME, one leading slash and no other, at most 255 bytes" \
		usage_error -N "/$big"
	EXPECT="invalid mode '9999999999999999999999...9999999999999999999999'" usage_error -k 1 -m "$big"
}

@test "creation: --create, --excl implies create, --mode, --rm" {
	run -0 probe -k 1
	[ "${lines[3]}" = "sysv_flags=$((0600))" ]
	[ "${lines[4]}" = "posix_oflags=0" ]
	run -0 probe -k 1 -c
	[ "${lines[3]}" = "sysv_flags=$((0600 | 01000))" ]
	[ "${lines[4]}" = "posix_oflags=$((0100))" ]
	run -0 probe -k 1 -x -m 640 --rm
	[ "${lines[3]}" = "sysv_flags=$((0640 | 01000 | 02000))" ]
	[ "${lines[4]}" = "posix_oflags=$((0100 | 0200))" ]
	[ "${lines[5]}" = "rm=1" ]
	run -0 probe -k 1 --mode=0
	[ "${lines[3]}" = "sysv_flags=0" ]
	EXPECT="invalid mode '1000': out of range" usage_error -k 1 -m 1000
	EXPECT="invalid mode 'u+rw'" usage_error -k 1 -m u+rw
	EXPECT="invalid mode ''" usage_error -k 1 -m ''
}

@test "framing: options, and two framings are a usage error" {
	run -0 probe -k 1 -0
	[ "${lines[6]}" = "framing=1" ]
	run -0 probe -k 1 --whole --whole
	[ "${lines[6]}" = "framing=2" ]
	run -0 probe -k 1 --netstring
	[ "${lines[6]}" = "framing=3" ]
	EXPECT="--null and --netstring are two framings: choose one" usage_error -k 1 -0 --netstring
	EXPECT="--lines and --whole are two framings: choose one" usage_error -k 1 --lines --whole
}

@test "durations and descriptors: valid forms and usage errors" {
	run -0 probe -k 1 --timeout 250ms
	[ "${lines[7]}" = "timeout_ns=250000000" ]
	run -0 probe -k 1 --timeout 1.5
	[ "${lines[7]}" = "timeout_ns=1500000000" ]
	EXPECT="invalid duration '-1'" usage_error -k 1 --timeout -1
	EXPECT="invalid duration '1sec'" usage_error -k 1 --timeout 1sec
	EXPECT="invalid duration '99999999999d': out of range" usage_error -k 1 --timeout 99999999999d
	EXPECT="invalid file descriptor '77': not an open file descriptor" usage_error -k 1 --ready-fd 77
	for fd in 0 1 2; do
		EXPECT="invalid file descriptor '$fd': 0, 1 and 2 are the standard streams" \
			usage_error -k 1 --ready-fd "$fd"
	done
}

@test "readiness: one newline on the descriptor, which is then closed" {
	run -0 probe -k 1 --ready-fd 5 5>"$BATS_TEST_TMPDIR/ready"
	[ "$(od -An -c "$BATS_TEST_TMPDIR/ready" | tr -d ' ')" = '\n' ]
}

@test "framing: lines, NUL, whole and netstrings convert into each other" {
	run -0 probe --copy --out netstring < <(printf 'a\n\nbc')
	[ "$output" = "1:a,0:,2:bc," ]
	run -0 probe --copy -0 --out lines < <(printf 'x y\0z\0')
	[ "$output" = $'x y\nz' ]
	run -0 probe --copy --netstring --out null < <(printf '3:a\nb,0:,')
	[ "$output" = $'a\nb' ]
	[ "$(probe --copy --whole --out netstring < <(printf 'a\nb\n'))" = $'4:a\nb\n,' ]
}

@test "framing: a message over the limit is exit 65, after the ones before it" {
	run -65 probe --copy --max 3 < <(printf 'abc\nabcd\nz\n')
	[ "${lines[0]}" = "abc" ]
	[ "${lines[1]}" = "libprobe: unable to read standard input: Message too long" ]
	run -65 probe --copy --netstring < <(printf '3:abc,3:ab')
	[ "${lines[0]}" = "abc" ]
	[ "${lines[1]}" = "libprobe: unable to read standard input: Bad message" ]
}

@test "framing: nothing after an oversized message is consumed from a seekable input" {
	local f
	f=$(it_path in)
	printf 'one\ntwo\nthree-is-long\nfour\n' >"$f"
	run -65 bash -c '"$0" --copy --max 5 && exit 0; rc=$?; cat; exit $rc' "$PROBE" <"$f"
	[ "${lines[0]}" = one ]
	[ "${lines[1]}" = two ]
	[ "${lines[3]}" = three-is-long ]
	[ "${lines[4]}" = four ]
}

@test "framing: a large input streams through in bounded memory" {
	[ "${IT_SANITIZE:-}" = 1 ] && skip "the sanitizers reserve terabytes of address space"
	# 256 MiB of lines through a process limited to 64 MiB of address
	# space: only holding one message at a time can pass.
	run -0 bash -c 'ulimit -v 65536; head -c 268435456 /dev/zero | tr "\0" "\n" | "$0" --copy --out netstring | wc -c' "$PROBE"
	[ "$output" = $((268435456 * 3)) ]
}
