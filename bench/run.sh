#!/usr/bin/env bash
# bench/run.sh: `make bench`. Times each case's command of ours against a
# peer doing the same work, in the same run: the two alternate for ROUNDS
# rounds and each side's median is kept. Prints one table; asserts nothing.
#
# A case file bench/cases/TOOL.sh declares its rows with
#   bench_case NAME AIM PEER-PACKAGE PEER-COMMAND OURS-FN PEER-FN [SETUP-FN [CLEANUP-FN]]
# AIM is the ratio we aim for (ours/peer time, lower is better), PEER-COMMAND
# a program that must exist for the peer to run (else the row says which
# package provides it), and the functions do one round's work each.
# C peers live in bench/peers/NAME.c and are built into $BENCH_PEERS.
# Usage: bench/run.sh [PATTERN]  (only the cases whose name matches)
set -u
cd "$(dirname "$0")/.." || exit 1
BENCH_TOP=$PWD
BENCH_BIN=${IT_BIN:-$BENCH_TOP/bin}
BENCH_PEERS=$BENCH_TOP/build/bench
ROUNDS=${ROUNDS:-5}
PATTERN=${1:-}
PATH="$BENCH_BIN:$PATH"
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ipctools-bench.XXXXXX") || exit 1
# A run stopped midway still removes what the case in hand made: its
# cleanup function, then the temporary directory.
CLEANUP_NOW=
trap '[ -n "$CLEANUP_NOW" ] && "$CLEANUP_NOW"; rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
export BENCH_BIN BENCH_PEERS BENCH_TMP

mkdir -p "$BENCH_PEERS"
for src in bench/peers/*.c; do
	[ -f "$src" ] || continue
	out=$BENCH_PEERS/$(basename "$src" .c)
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$out" "$src" -lrt || exit 1
	fi
done

CASES=()
bench_case() {
	CASES+=("$(printf '%s\x1f' "$@")")
}

# Seconds taken by one call of a function, with microsecond resolution.
elapsed() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; return 1; }
	local t1=$EPOCHREALTIME
	local us=$((10#${t1/./} - 10#${t0/./}))
	printf '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for f in bench/cases/*.sh; do
	[ -f "$f" ] || continue
	# shellcheck source=/dev/null
	. "$f"
done

printf '%-44s %10s %10s %7s  %s\n' case "ours (s)" "peer (s)" ratio aim
for c in "${CASES[@]}"; do
	IFS=$'\x1f' read -r -a a <<<"$c"
	name=${a[0]} aim=${a[1]} pkg=${a[2]} peercmd=${a[3]}
	ours=${a[4]} peer=${a[5]} setup=${a[6]:-} cleanup=${a[7]:-}
	[ -n "$PATTERN" ] && [[ $name != *$PATTERN* ]] && continue
	if ! command -v "$peercmd" >/dev/null; then
		printf '%-44s %s\n' "$name" "skipped: no $peercmd (install $pkg)"
		continue
	fi
	CLEANUP_NOW=$cleanup
	[ -n "$setup" ] && { "$setup" || { printf '%-44s %s\n' "$name" "skipped: setup failed"; continue; }; }
	o=() p=() ok=1
	for ((r = 0; r < ROUNDS; r++)); do
		# Alternate which side goes first, so neither always runs warm.
		if ((r % 2)); then
			p+=("$(elapsed "$peer")") && o+=("$(elapsed "$ours")") || ok=0
		else
			o+=("$(elapsed "$ours")") && p+=("$(elapsed "$peer")") || ok=0
		fi
	done
	[ -n "$cleanup" ] && "$cleanup"
	CLEANUP_NOW=
	if [ "$ok" != 1 ]; then
		printf '%-44s %s\n' "$name" "failed (see above)"
		continue
	fi
	mo=$(printf '%s\n' "${o[@]}" | median)
	mp=$(printf '%s\n' "${p[@]}" | median)
	ratio=$(awk -v o="$mo" -v p="$mp" 'BEGIN { printf "%.2f", (p > 0 ? o / p : 0) }')
	printf '%-44s %10.4f %10.4f %7s  %s\n' "$name" "$mo" "$mp" "$ratio" "$aim"
done
