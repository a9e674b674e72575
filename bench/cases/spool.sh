# shellcheck shell=bash
# bench/cases/spool.sh: the Speed rows of issue 11. SPOOL_N messages of 100
# bytes put by one `spool put --no-sync` and taken by one `spool take -n`,
# against python's mailbox.Maildir adding them and then reading and
# removing each, on the disk ($TMPDIR) and on tmpfs; then the cost of fsync: SPOOL_SYNC_N messages put with
# fsync (file and new/) against the same with --no-sync, on tmpfs
# (/dev/shm) and on the disk under /var/tmp. Rate = messages / seconds.
# What is taken goes to a file on tmpfs, which really takes the data.

SPOOL_N=${SPOOL_N:-100000}
SPOOL_SYNC_N=${SPOOL_SYNC_N:-2000}
SPOOL_DIR=$BENCH_TMP/spool
SPOOL_SHM=/dev/shm/ipctools-bench-spool.$$
SPOOL_VAR=/var/tmp/ipctools-bench-spool.$$
SPOOL_OUT=/dev/shm/ipctools-bench-spool-out.$$

spool_input() {
	SPOOL_INPUT=$BENCH_TMP/spool-input
	[ -f "$SPOOL_INPUT" ] ||
		awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%099d\n", i }' >"$SPOOL_INPUT"
}

spool_setup() {
	spool_input "$SPOOL_N"
}

spool_cleanup() {
	rm -rf "$SPOOL_DIR" "$SPOOL_SHM" "$SPOOL_VAR" "$SPOOL_OUT"
}

# put+take in DIR, by spool and by python.
spool_both() {
	rm -rf "$1"
	spool put -c --no-sync "$1" <"$SPOOL_INPUT" &&
		spool take -n "$SPOOL_N" "$1" >"$SPOOL_OUT"
}

spool_python() {
	rm -rf "$1"
	python3 - "$1" "$SPOOL_INPUT" <<'PY'
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=True)
with open(sys.argv[2], "rb") as f:
    for line in f:
        md.add(line.rstrip(b"\n"))
out = sys.stdout.buffer
for key in sorted(md.keys()):
    out.write(md.get_bytes(key) + b"\n")
    md.remove(key)
PY
} >"$SPOOL_OUT"

spool_ours() { spool_both "$SPOOL_DIR"; }
spool_peer() { spool_python "$SPOOL_DIR"; }
spool_ours_tmpfs() { spool_both "$SPOOL_SHM"; }
spool_peer_tmpfs() { spool_python "$SPOOL_SHM"; }

spool_sync_setup() {
	SPOOL_INPUT=$BENCH_TMP/spool-sync-input
	awk -v n="$SPOOL_SYNC_N" 'BEGIN { for (i = 0; i < n; i++) printf "%099d\n", i }' >"$SPOOL_INPUT"
}

spool_sync_tmpfs() {
	rm -rf "$SPOOL_SHM" && spool put -c "$SPOOL_SHM" <"$SPOOL_INPUT"
}

spool_nosync_tmpfs() {
	rm -rf "$SPOOL_SHM" && spool put -c --no-sync "$SPOOL_SHM" <"$SPOOL_INPUT"
}

spool_sync_disk() {
	rm -rf "$SPOOL_VAR" && spool put -c "$SPOOL_VAR" <"$SPOOL_INPUT"
}

spool_nosync_disk() {
	rm -rf "$SPOOL_VAR" && spool put -c --no-sync "$SPOOL_VAR" <"$SPOOL_INPUT"
}

bench_case "spool: ${SPOOL_N} put+take --no-sync vs mailbox" 0.2 python3 python3 \
	spool_ours spool_peer spool_setup spool_cleanup
bench_case "spool: the same on tmpfs" 0.2 python3 python3 \
	spool_ours_tmpfs spool_peer_tmpfs spool_setup spool_cleanup
bench_case "spool: ${SPOOL_SYNC_N} put fsync vs --no-sync, tmpfs" - ipctools spool \
	spool_sync_tmpfs spool_nosync_tmpfs spool_sync_setup spool_cleanup
bench_case "spool: ${SPOOL_SYNC_N} put fsync vs --no-sync, /var/tmp" - ipctools spool \
	spool_sync_disk spool_nosync_disk spool_sync_setup spool_cleanup

# put --wait's latency (issue 15): SPOOL_WAIT_N messages, one `spool put
# --wait` each, taken by a `spool take --follow` into a file on tmpfs,
# against the same puts without --wait (the taker takes those too). The
# ratio is what waiting for the taker costs a message.
SPOOL_WAIT_N=${SPOOL_WAIT_N:-200}

spool_wait_setup() {
	rm -rf "$SPOOL_SHM"
	spool put -c --no-sync "$SPOOL_SHM" </dev/null || return 1
	spool take --follow --no-sync "$SPOOL_SHM" >"$SPOOL_OUT" &
	SPOOL_TAKER=$!
}

spool_wait_cleanup() {
	kill "$SPOOL_TAKER" 2>/dev/null
	wait "$SPOOL_TAKER" 2>/dev/null
	spool_cleanup
}

spool_wait_ours() {
	local i
	for ((i = 0; i < SPOOL_WAIT_N; i++)); do
		spool put --no-sync --wait=10 "$SPOOL_SHM" "$i" || return 1
	done
}

spool_wait_peer() {
	local i
	for ((i = 0; i < SPOOL_WAIT_N; i++)); do
		spool put --no-sync "$SPOOL_SHM" "$i" || return 1
	done
}

bench_case "spool: ${SPOOL_WAIT_N} put --wait vs put, tmpfs" - ipctools spool \
	spool_wait_ours spool_wait_peer spool_wait_setup spool_wait_cleanup
