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
