# shellcheck shell=bash
# bench/cases/fifo.sh: 4 GiB through a FIFO, fifotool write into fifotool
# read, against cat > F into cat F. Both sides take the same input, head -c
# from /dev/zero through a pipe, and give the output to wc -c through a pipe,
# which reads every byte (a sink of /dev/null would take splice(2)'s pages
# without touching them) and whose count is checked; so they differ only in
# how the bytes cross the FIFO: splice(2) against read and write.

FIFO_BENCH=$BENCH_TMP/fifo
FIFO_BYTES=$((4 << 30))

fifo_setup() {
	mkfifo -m 600 "$FIFO_BENCH"
}

fifo_cleanup() {
	rm -f "$FIFO_BENCH"
}

# Runs the reader "$@" into wc -c in the background, the writer in front,
# and checks that every byte arrived.
fifo_run() {
	local count=$BENCH_TMP/fifo-count writer=$1
	shift
	"$@" | wc -c >"$count" &
	head -c "$FIFO_BYTES" /dev/zero | "$writer" || return 1
	wait "$!" && [ "$(cat "$count")" = "$FIFO_BYTES" ]
}

fifo_write_ours() {
	fifotool write "$FIFO_BENCH"
}

fifo_write_peer() {
	cat >"$FIFO_BENCH"
}

fifo_ours() {
	fifo_run fifo_write_ours fifotool read "$FIFO_BENCH"
}

fifo_peer() {
	fifo_run fifo_write_peer cat "$FIFO_BENCH"
}

bench_case "fifo: 4 GiB write | read vs cat > F | cat F" 1.0 coreutils cat \
	fifo_ours fifo_peer fifo_setup fifo_cleanup
