# shellcheck shell=bash
# bench/cases/fifo.sh: 4 GiB through a FIFO, fifotool write into fifotool
# read, against cat > F into cat F. Both sides take the same input, head -c
# from /dev/zero through a pipe, and write to /dev/null, so they differ
# only in how the bytes cross the FIFO: splice(2) against read and write.

FIFO_BENCH=$BENCH_TMP/fifo

fifo_setup() {
	mkfifo -m 600 "$FIFO_BENCH"
}

fifo_cleanup() {
	rm -f "$FIFO_BENCH"
}

fifo_ours() {
	fifotool read "$FIFO_BENCH" >/dev/null &
	head -c 4G /dev/zero | fifotool write "$FIFO_BENCH" || return 1
	wait "$!"
}

fifo_peer() {
	cat "$FIFO_BENCH" >/dev/null &
	head -c 4G /dev/zero | cat >"$FIFO_BENCH" || return 1
	wait "$!"
}

bench_case "fifo: 4 GiB write | read vs cat > F | cat F" 1.0 coreutils cat \
	fifo_ours fifo_peer fifo_setup fifo_cleanup
