#!/usr/bin/env bats
# lib/pack.c, the record format of --pack and --unpack, against the peers
# whose notation it takes: Python's struct module, perl's pack, and C
# structs compiled here. Driven through tests/packprobe.c.

load helper

PACKPROBE=${IT_PACKPROBE:-$BATS_TEST_DIRNAME/../build/packprobe}

pp() {
	"$PACKPROBE" "$@"
}

@test "pack: record sizes agree with Python's struct.calcsize for 200 random formats" {
	local fmt want got n=0
	while IFS=$'\t' read -r fmt want; do
		got=$(pp size "$fmt")
		[ "$got" = "$want" ] || { echo "'$fmt': ours $got, python $want"; return 1; }
		n=$((n + 1))
	done < <(python3 - <<'PY'
import random, struct
random.seed(19)
letters = "xcbB?hHiIlLqQnNfds"
for _ in range(200):
    pre = random.choice(["", "@", "=", "<", ">", "!"])
    items = []
    for _ in range(random.randint(1, 8)):
        c = random.choice(letters if pre in ("", "@") else letters.replace("n", "").replace("N", ""))
        cnt = random.choice(["", "", "0", "1", "2", "3", "17"])
        items.append(cnt + c)
    if all(i[-1] == "x" or i[:-1] == "0" and i[-1] != "s" for i in items):
        items.append("i")  # a format needs one field at least
    fmt = pre + " ".join(items)
    print(f"{fmt}\t{struct.calcsize(fmt)}")
PY
)
	[ "$n" -eq 200 ]
}

@test "pack: values Python packs unpack to the text Python prints, and back to the same bytes" {
	local d=$BATS_TEST_TMPDIR fmt
	python3 - "$d" <<'PY'
import random, struct, sys
random.seed(7)
d = sys.argv[1]
rows = []
for i in range(50):
    pre = random.choice(["", "<", ">", "="])
    fields, vals, text = [], [], []
    for _ in range(random.randint(1, 6)):
        c = random.choice("bBhHiIqQ?sfd")
        if c == "s":
            n = random.randint(1, 12)
            s = bytes(random.choice(b"abc\t\\\n\x01 ") for _ in range(random.randint(0, n)))
            fields.append(f"{n}s"); vals.append(s)
            t = s.rstrip(b"\0")
            t = t.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\x01", b"\\x01")
            text.append(t.decode())
        elif c in "fd":
            v = random.choice([0.5, -1.25, 3.0, 1e10, -2.5e-3])
            fields.append(c); vals.append(v)
            text.append(repr(v) if c == "d" else repr(struct.unpack("f", struct.pack("f", v))[0]))
        elif c == "?":
            v = random.choice([True, False]); fields.append(c); vals.append(v); text.append(str(int(v)))
        else:
            size = struct.calcsize("=" + c) * 8
            lo, hi = (-(1 << (size - 1)), (1 << (size - 1)) - 1) if c.islower() else (0, (1 << size) - 1)
            v = random.choice([lo, hi, 0, random.randint(lo, hi)])
            fields.append(c); vals.append(v); text.append(str(v))
    fmt = pre + " ".join(fields)
    open(f"{d}/rec{i}", "wb").write(struct.pack(fmt, *vals))
    rows.append((fmt, "\t".join(text)))
with open(f"{d}/rows", "w") as f:
    for fmt, t in rows:
        f.write(fmt + "\n" + t + "\n")
PY
	local i=0 want got
	while IFS= read -r fmt && IFS= read -r want; do
		got=$(pp unpack "$fmt" <"$d/rec$i")
		# Python widens a float to a double before it prints it: compare
		# numbers as numbers, and each of ours must read back exactly.
		python3 -c 'import struct, sys
a, b = sys.argv[1].split("\t"), sys.argv[2].split("\t")
assert len(a) == len(b), (a, b)
for x, y in zip(a, b):
    try:
        assert struct.unpack("f", struct.pack("f", float(x))) == struct.unpack("f", struct.pack("f", float(y))), (x, y)
    except ValueError:
        assert x == y, (x, y)' "$got" "$want" || { echo "$fmt: ours '$got', python '$want'"; return 1; }
		printf '%s\n' "$got" | pp pack "$fmt" | cmp - "$d/rec$i"
		i=$((i + 1))
	done <"$d/rows"
	[ "$i" -eq 50 ]
}

@test "pack: the notes' pirate struct both ways against perl's pack and unpack" {
	local fmt='30s c i i i' d=$BATS_TEST_TMPDIR
	printf 'Blackbeard\tS\t10\t-20\t30000\nAnne Bonny\tb\t1\t2\t3\n' | pp pack "$fmt" >"$d/ours"
	[ "$(stat -c %s "$d/ours")" -eq 88 ]
	perl -e 'print pack("Z30 a1 x1 i i i", "Blackbeard", "S", 10, -20, 30000),
		pack("Z30 a1 x1 i i i", "Anne Bonny", "b", 1, 2, 3)' | cmp - "$d/ours"
	run -0 perl -e 'local $/ = \44; while (<STDIN>) { print join("\t", unpack("Z30 a1 x1 i i i", $_)), "\n" }' <"$d/ours"
	[ "${lines[0]}" = $'Blackbeard\tS\t10\t-20\t30000' ]
	perl -e 'print pack("Z30 a1 x1 i i i", "Calico Jack", "c", 7, 8, 9)' >"$d/perl"
	run -0 pp unpack "$fmt" <"$d/perl"
	[ "$output" = $'Calico Jack\tc\t7\t8\t9' ]
}

@test "pack: an array of C structs reads as one line each, C reads what we pack" {
	command -v cc >/dev/null || skip "needs a C compiler"
	local d=$BATS_TEST_TMPDIR
	cat >"$d/p.c" <<'C'
#include <stdio.h>
#include <string.h>
struct pirate { char name[30]; char ship_type; int notoriety; int cruelty; int booty_value; };
struct mixed { char c; double d; short h; long l; unsigned char b; };
int main(int argc, char **argv)
{
	struct pirate p[3];
	struct mixed m = { 'z', -0.75, -2, 1234567890123L, 200 };
	if (argc > 1) {
		while (fread(&p[0], sizeof p[0], 1, stdin) == 1)
			printf("%s|%c|%d|%d|%d\n", p[0].name, p[0].ship_type,
			       p[0].notoriety, p[0].cruelty, p[0].booty_value);
		return 0;
	}
	memset(p, 0, sizeof p);
	for (int i = 0; i < 3; i++) {
		snprintf(p[i].name, sizeof p[i].name, "pirate %d", i);
		p[i].ship_type = (char)('a' + i);
		p[i].notoriety = i;
		p[i].cruelty = -i;
		p[i].booty_value = 1000 * i;
	}
	fwrite(p, sizeof p, 1, stdout);
	fwrite(&m, sizeof m, 1, stderr);
	return 0;
}
C
	cc -o "$d/p" "$d/p.c"
	"$d/p" >"$d/recs" 2>"$d/mixed"
	run -0 pp unpack '30s c i i i' <"$d/recs"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[2]}" = $'pirate 2\tc\t2\t-2\t2000' ]
	# C pads the end of a struct; the format says so with a zero count.
	run -0 pp unpack 'c d h l B 0l' <"$d/mixed"
	[ "$output" = $'z\t-0.75\t-2\t1234567890123\t200' ]
	printf 'Mary Read\tq\t5\t6\t7\n' | pp pack '30s c i i i' | "$d/p" read >"$d/out"
	[ "$(cat "$d/out")" = "Mary Read|q|5|6|7" ]
}

@test "pack: a field that does not fit is 65, naming the line and the field" {
	run -65 pp pack 'B' <<<300
	[ "$output" = "packprobe: line 1, field 1: 300 does not fit 'B' (0..255)" ]
	run -65 pp pack 'b' <<<-129
	[ "$output" = "packprobe: line 1, field 1: -129 does not fit 'b' (-128..127)" ]
	run -65 pp pack 'i' <<<abc
	[ "$output" = "packprobe: line 1, field 1: 'abc' is not an integer for 'i'" ]
	run -65 pp pack 'I' <<<-1
	[ "$output" = "packprobe: line 1, field 1: '-1' is not an integer for 'I'" ]
	run -65 bash -c '"$1" pack "i 3s" >"$2"' _ "$PACKPROBE" "$BATS_TEST_TMPDIR/out" < <(printf '1\tab\n2\tabcd\n')
	[ "$output" = "packprobe: line 2, field 2: 4 bytes do not fit '3s'" ]
	# The record before it was written, and nothing after.
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/out")" -eq 7 ]
	run -65 pp pack 'i i' <<<1
	[ "$output" = "packprobe: line 1, field 2: 1 fields where the format has 2" ]
	run -65 pp pack 'i' < <(printf '1\t2\n')
	[ "$output" = "packprobe: line 1, field 2: more fields than the format's 1" ]
	run -65 pp pack 'c' <<<ab
	[ "$output" = "packprobe: line 1, field 1: 'c' takes one byte, not 2" ]
	run -65 pp pack 'f' <<<1e39
	[ "$output" = "packprobe: line 1, field 1: 1e39 does not fit 'f'" ]
	# FLT_MAX as printed reads back a hair over it, and still fits (the
	# fuzzer found this one).
	run -0 pp pack 'f' <<<-3.4028235e+38
	run -65 pp pack '?' <<<2
	[ "$output" = "packprobe: line 1, field 1: '2' is not 0 or 1 for '?'" ]
	run -65 pp pack '4s' <<<'a\q'
	[ "$output" = "packprobe: line 1, field 1: a bad escape in 'a\\\\q'" ]
	run -65 pp pack 'd' <<<' 1'
	run -65 pp pack 'q' <<<9223372036854775808
	run -0 pp pack 'q' <<<-9223372036854775808
	run -0 pp pack 'Q' <<<18446744073709551615
	run -65 pp pack 'Q' <<<18446744073709551616
}

@test "pack: bad formats are refused with the reason" {
	run -64 pp size 'i z'
	[ "$output" = "packprobe: invalid format 'i z': unknown letter 'z'" ]
	run -64 pp size '3'
	[ "$output" = "packprobe: invalid format '3': a count with no letter after it" ]
	run -64 pp size '<n'
	[ "$output" = "packprobe: invalid format '<n': 'n' has no standard size: use it only in native mode (@)" ]
	run -64 pp size ''
	[ "$output" = "packprobe: invalid format '': no field" ]
	run -64 pp size '99999999999s'
	run -64 pp size '20000000i'
	run -0 pp size '0s'
	[ "$output" = 0 ]
}

@test "pack: a record whose size is not the format's is refused" {
	run -65 pp unpack 'i' < <(printf 'abcde')
	[ "${lines[0]}" = 1684234849 ]
	[ "${lines[1]}" = "packprobe: a last record of 1 bytes, not 4" ]
}

# ---- the tools: mqsend --pack, mqrecv --unpack, shmcat load --pack and
# dump --unpack ----

PIRATE='30s c i i i'

# The notes' message-passing example, cut in two: a parent that sends type
# 42 carrying 252, and a child that receives it; each a C program of its
# own, on the queue of key $1.
notes_programs() {
	local d=$BATS_TEST_TMPDIR
	cat >"$d/notes.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
struct msg { long mtype; int data; };
struct pirate_msgbuf {
	long mtype;
	struct pirate_info {
		char name[30];
		char ship_type;
		int notoriety;
		int cruelty;
		int booty_value;
	} info;
};
int main(int argc, char **argv)
{
	int q = msgget((key_t)strtol(argv[2], NULL, 0), 0600 | IPC_CREAT);
	if (q < 0)
		return 2;
	if (strcmp(argv[1], "parent") == 0) {
		struct msg m = { 42, 252 };
		return msgsnd(q, &m, sizeof(int), 0) < 0;
	}
	if (strcmp(argv[1], "child") == 0) {
		struct msg m2;
		if (msgrcv(q, &m2, sizeof(int), 42, 0) != sizeof(int))
			return 3;
		printf("Received %d!\n", m2.data);
		return 0;
	}
	struct pirate_msgbuf p;
	if (strcmp(argv[1], "pirate-send") == 0) {
		memset(&p, 0, sizeof p);
		p.mtype = 1;
		strcpy(p.info.name, "Blackbeard");
		p.info.ship_type = 'S';
		p.info.notoriety = 10;
		p.info.cruelty = -20;
		p.info.booty_value = 300000;
		return msgsnd(q, &p, sizeof p.info, 0) < 0;
	}
	if (msgrcv(q, &p, sizeof p.info, 0, 0) != sizeof p.info)
		return 3;
	printf("%s|%c|%d|%d|%d\n", p.info.name, p.info.ship_type,
	       p.info.notoriety, p.info.cruelty, p.info.booty_value);
	return 0;
}
C
	cc -o "$d/notes" "$d/notes.c"
}

@test "mqsend --pack: the notes' C child receives 252 from mqsend -t 42; mqrecv -t 42 --unpack prints the C parent's 252" {
	command -v cc >/dev/null || skip "needs a C compiler"
	local k
	k=$(it_key)
	notes_programs
	mqsend -k "$k" -c -t 42 --pack i 252
	run "$BATS_TEST_TMPDIR/notes" child "$k"
	[ "$status" = 0 ]
	[ "$output" = "Received 252!" ]
	"$BATS_TEST_TMPDIR/notes" parent "$k"
	run mqrecv -k "$k" -t 42 --unpack i --rm
	[ "$status" = 0 ]
	[ "$output" = 252 ]
}

@test "mqsend --pack and mqrecv --unpack: the pirate struct both ways against C and against perl" {
	command -v cc >/dev/null || skip "needs a C compiler"
	local k n
	k=$(it_key)
	notes_programs
	printf 'Jack\\tSparrow\tP\t-1\t2\t2147483647\n' |
		mqsend -k "$k" -c --pack "$PIRATE"
	run "$BATS_TEST_TMPDIR/notes" pirate-recv "$k"
	[ "$output" = $'Jack\tSparrow|P|-1|2|2147483647' ]
	"$BATS_TEST_TMPDIR/notes" pirate-send "$k"
	run mqrecv -k "$k" --unpack "$PIRATE" --print-type
	[ "$status" = 0 ]
	[ "$output" = $'1\tBlackbeard\tS\t10\t-20\t300000' ]
	# perl: the same 44 bytes with "Z30 a x3 l l l" (x3: the C padding).
	printf 'Kidd\tG\t5\t6\t7\n' | mqsend -k "$k" --pack "$PIRATE"
	run perl -MIPC::SysV=IPC_CREAT -e '
		my $q = msgget(hex($ARGV[0]), 0600) // die "msgget: $!";
		msgrcv($q, my $buf, 44, 0, 0) // die "msgrcv: $!";
		my ($t, $rec) = unpack("l! a*", $buf);
		print join("|", length($rec), unpack("Z30 a x l l l", $rec)), "\n";
		msgsnd($q, pack("l! Z30 a x l l l", 1, "Morgan", "B", 1, 2, 3), 0) or die;
	' "$k"
	[ "$output" = "44|Kidd|G|5|6|7" ]
	run mqrecv -k "$k" --unpack "$PIRATE" --rm
	[ "$output" = $'Morgan\tB\t1\t2\t3' ]
	n=$(ipcs -q | grep -ci "^$k " || :)
	[ "$n" = 0 ]
}

@test "mqsend --pack: a field that does not fit is 65 naming line and field, and nothing after it is sent" {
	local k in
	k=$(it_key)
	in=$BATS_TEST_TMPDIR/in
	printf '1\t2\n300\t2\n3\t4\n' >"$in"
	run mqsend -k "$k" -c --pack 'B B' <"$in"
	[ "$status" = 65 ]
	[[ $output == *"line 2, field 1: 300 does not fit 'B' (0..255)"* ]]
	run mqrecv -k "$k" --follow --nowait --unpack 'B B'
	[ "$output" = $'1\t2' ]
	run mqsend -k "$k" --pack 'i' abc
	[ "$status" = 65 ]
	[[ $output == *"message 1, field 1: 'abc' is not an integer for 'i'"* ]]
	printf 'a much too long name\n' >"$in"
	run mqsend -k "$k" --pack '4s' <"$in"
	[ "$status" = 65 ]
	[[ $output == *"line 1, field 1: 20 bytes do not fit '4s'"* ]]
	run mqsend -k "$k" --pack 'i i' 1
	[ "$status" = 65 ]
	run mqsend -k "$k" --pack 'i' $'1\t2'
	[ "$status" = 65 ]
	[[ $output == *"more fields"* ]]
	run mqsend -k "$k" --stat --rm
	[[ $output == *"messages=0"* ]]
}

@test "mqrecv --unpack: a message of another size is 65 and stays on the queue, and so does the queue under --rm" {
	local k
	k=$(it_key)
	mqsend -k "$k" -c abc
	run mqrecv -k "$k" --unpack i --rm
	[ "$status" = 65 ]
	[[ $output == *"a message of 3 bytes is not a record of the format's 4 (--unpack); it went back on the queue, which stays despite --rm"* ]]
	run mqrecv -k "$k" --rm
	[ "$status" = 0 ]
	[ "$output" = abc ]
}

@test "mqrecv --unpack: a message of another size that cannot go back is still 65, says why, and is saved" {
	need_other_user
	local k d rescue
	k=$(it_key)
	mqsend -k "$k" -c -m 0644 abc
	# a directory nobody can write in, for the rescue file
	d=$(mktemp -d /tmp/ipct-rescue.XXXXXX)
	it_track path "$d"
	chmod 0777 "$d"
	# nobody may take (read) but not put back (write)
	TMPDIR=$d run as_nobody mqrecv -k "$k" --unpack i
	[ "$status" = 65 ]
	[[ $output == *"a message of 3 bytes is not a record of the format's 4 (--unpack), and putting it back failed: Permission denied (1 message saved in $d/mqrecv-rescue."* ]]
	rescue=$(echo "$d"/mqrecv-rescue.*)
	[ "$(cat "$rescue")" = $'5:1\tabc,' ]
}

@test "mqrecv: --truncate and --unpack together are a usage error (a cut message is never a record)" {
	run mqrecv -k 0x2a --truncate --unpack q
	[ "$status" = 64 ]
	[[ ${lines[0]} == *"--truncate and --unpack"* ]]
}

@test "mqsend --key private --pack: a first line refused leaves no queue behind; one refused later keeps the sent ones" {
	local id
	run mqsend -k private --pack i x
	[ "$status" = 65 ]
	id=${lines[0]}
	[[ $output == *"'x' is not an integer for 'i' (--pack); the new queue was removed"* ]]
	run mqsend --id "$id" --stat
	[ "$status" = 66 ]
	id=$(printf '1\nx\n' | mqsend -k private --pack i) && return 1
	run mqrecv --id "$id" --unpack i --rm
	[ "$status" = 0 ]
	[ "$output" = 1 ]
}

@test "--pack and --unpack: bad formats and framings that do not go with them are usage errors" {
	local k
	k=$(it_key)
	run mqsend -k "$k" -c --pack 'i z' 1
	[ "$status" = 64 ]
	[[ ${lines[0]} == "mqsend: invalid format 'i z': "* ]]
	run mqsend -k "$k" -c --pack i --whole
	[ "$status" = 64 ]
	[[ ${lines[0]} == *"--pack takes one line of fields per message: drop --whole" ]]
	run mqrecv -k "$k" --unpack i --netstring
	[ "$status" = 64 ]
	run mqrecv -k "$k" --unpack i --stat
	[ "$status" = 64 ]
	run shmcat dump -k "$k" --unpack x
	[ "$status" = 64 ]
	run shmcat load -k "$k" --unpack i
	[ "$status" = 64 ]
	run shmcat dump -k "$k" --pack i
	[ "$status" = 64 ]
	[ -z "$(ipcs -q -m | grep -i "^$k " || :)" ]
}

@test "shmcat dump --unpack reads an array of structs a C program filled, -o and -l in records; load --pack fills one for C" {
	command -v cc >/dev/null || skip "needs a C compiler"
	local k d=$BATS_TEST_TMPDIR
	k=$(it_key)
	cat >"$d/arr.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
struct rec { short id; double x; char tag[5]; };
int main(int argc, char **argv)
{
	int id = shmget((key_t)strtol(argv[2], NULL, 0), 10 * sizeof(struct rec),
			0600 | IPC_CREAT);
	struct rec *r = id < 0 ? NULL : shmat(id, NULL, 0);
	if (!r || r == (void *)-1)
		return 2;
	if (strcmp(argv[1], "fill") == 0) {
		for (int i = 0; i < 10; i++) {
			r[i].id = (short)(i - 3);
			r[i].x = i / 4.0;
			snprintf(r[i].tag, sizeof r[i].tag, "t%d", i);
		}
		return 0;
	}
	for (int i = 0; i < 3; i++)
		printf("%d %g %s\n", r[i].id, r[i].x, r[i].tag);
	return 0;
}
C
	cc -o "$d/arr" "$d/arr.c"
	"$d/arr" fill "$k"
	# struct rec is 24 bytes: h, 6 pad, d, 5s, 3 pad: the last 0d pads.
	run shmcat dump -k "$k" --unpack 'h d 5s 0d' -o 2 -l 3
	[ "$status" = 0 ]
	[ "$output" = $'-1\t0.5\tt2\n0\t0.75\tt3\n1\t1\tt4' ]
	run shmcat dump -k "$k" --unpack 'h d 5s 0d'
	[ "${#lines[@]}" = 10 ]
	[ "${lines[9]}" = $'6\t2.25\tt9' ]
	run shmcat dump -k "$k" --unpack 'h d 5s 0d' -o 8 -l 3
	[ "$status" = 65 ]
	run shmcat dump -k "$k" --unpack 'h d 5s 0d' -o 11
	[ "$status" = 65 ]
	printf '7\t-1.5\tabc\n8\t1e300\tabcde\n' |
		shmcat load -k "$k" --pack 'h d 5s 0d' -o 1
	run "$d/arr" show "$k"
	[ "$output" = $'-3 0 t0\n7 -1.5 abc\n8 1e+300 abcde' ]
	# A bad line loads nothing at all.
	printf '9\t1\tx\n9\tnope\tx\n' | {
		run shmcat load -k "$k" --pack 'h d 5s 0d'
		[ "$status" = 65 ]
		[[ $output == *"line 2, field 2: "* ]]
	}
	run shmcat dump -k "$k" --unpack 'h d 5s 0d' -l 1 --rm
	[ "$output" = $'-3\t0\tt0' ]
}

@test "shmcat load --pack: a new System V segment is as large as the records; a POSIX one too; 11 records do not fit 10" {
	local k n
	k=$(it_key)
	n=$(it_name)
	seq 5 | shmcat load -k "$k" -c --pack 'i'
	run shmcat stat -k "$k"
	[[ $output == *"size=20"* ]]
	seq 11 | {
		run shmcat load -k "$k" --pack 'i i' -o 0
		[ "$status" = 65 ]
	}
	seq 3 | shmcat load -N "$n" -c --pack 'q'
	run shmcat dump -N "$n" --unpack 'q' --rm
	[ "$output" = $'1\n2\n3' ]
	run shmcat dump -k "$k" --unpack 'i' -o 3 --rm
	[ "$output" = $'4\n5' ]
}

@test "completion: --pack and --unpack are offered where they apply, and their FORMAT completes to nothing (no file names)" {
	local t
	for t in mqsend mqrecv shmcat; do
		# shellcheck source=/dev/null
		. "$BATS_TEST_DIRNAME/../completions/$t"
	done
	comp() {
		local f=$1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		"$f" "${COMP_WORDS[0]}"
		printf '%s\n' "${COMPREPLY[@]}"
	}
	cd "$BATS_TEST_TMPDIR"
	: >some-file
	[ "$(comp _mqsend mqsend --pa)" = --pack ]
	[ -z "$(comp _mqsend mqsend --pack '')" ]
	[ "$(comp _mqrecv mqrecv --unp)" = --unpack ]
	[ -z "$(comp _mqrecv mqrecv --unpack '')" ]
	[ "$(comp _shmcat shmcat load --pa)" = --pack= ]
	[ "$(comp _shmcat shmcat dump --unp)" = --unpack= ]
	[ -z "$(comp _shmcat shmcat dump --unpack '')" ]
	[ -z "$(comp _shmcat shmcat load --unp)" ]
}
