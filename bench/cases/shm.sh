# shellcheck shell=bash
# bench/cases/shm.sh: the Speed rows of issue 9. SHM_STREAM (default 4 GiB)
# from a file in the page cache to /dev/null through shmcat write | shmcat
# read, against cat F | cat (two pipe copies) and against bench/peers/
# shmring, a bare two-process ring with the same read-into/write-from-ring
# design and no locks or crash safety. Then shmcat load and dump of
# SHM_RAW (default 1 GiB) against dd to and from /dev/shm.

SHM_STREAM=${SHM_STREAM:-4G}
SHM_RAW=${SHM_RAW:-1G}
SHM_RING=/ipctools-bench-ring.$$
SHM_OBJ=/ipctools-bench-raw.$$

shm_stream_setup() {
	SHM_INPUT=$BENCH_TMP/shm-stream
	[ -f "$SHM_INPUT" ] || head -c "$SHM_STREAM" /dev/zero >"$SHM_INPUT"
	cat "$SHM_INPUT" >/dev/null    # into the page cache
	shm_cleanup
}

shm_raw_setup() {
	SHM_RAWIN=$BENCH_TMP/shm-raw
	[ -f "$SHM_RAWIN" ] || head -c "$SHM_RAW" /dev/urandom >"$SHM_RAWIN"
	cat "$SHM_RAWIN" >/dev/null
	shm_cleanup
	shmcat load -N "$SHM_OBJ" -c <"$SHM_RAWIN"
}

shm_cleanup() {
	rm -f "/dev/shm$SHM_RING" "/dev/shm$SHM_OBJ" "/dev/shm$SHM_OBJ.dd"
}

# The reader makes the ring and removes it at the end; the writer
# attaches to it, or makes it first: either way the reader reads to the
# end of this writer's stream.
shm_stream_ours() {
	shmcat read -N "$SHM_RING" -c --size 16M --rm >/dev/null &
	shmcat write -N "$SHM_RING" -c --size 16M <"$SHM_INPUT" || return 1
	wait "$!"
}

shm_stream_cat() {
	cat "$SHM_INPUT" | cat >/dev/null
}

shm_stream_ring() {
	"$BENCH_PEERS/shmring" $((16 << 20)) <"$SHM_INPUT" >/dev/null
}

shm_load_ours() {
	shmcat load -N "$SHM_OBJ" <"$SHM_RAWIN"
}

shm_load_dd() {
	dd if="$SHM_RAWIN" of="/dev/shm$SHM_OBJ.dd" bs=1M status=none
}

shm_dump_ours() {
	shmcat dump -N "$SHM_OBJ" >/dev/null
}

shm_dump_dd() {
	dd if="/dev/shm$SHM_OBJ" of=/dev/null bs=1M status=none
}

bench_case "shm: $SHM_STREAM write | read vs cat F | cat" 0.67 coreutils cat \
	shm_stream_ours shm_stream_cat shm_stream_setup shm_cleanup
bench_case "shm: $SHM_STREAM write | read vs C ring peer" 1.25 coreutils cat \
	shm_stream_ours shm_stream_ring shm_stream_setup shm_cleanup
bench_case "shm: load $SHM_RAW vs dd of=/dev/shm/F" 1.0 coreutils dd \
	shm_load_ours shm_load_dd shm_raw_setup shm_cleanup
bench_case "shm: dump $SHM_RAW vs dd if=/dev/shm/F" 1.0 coreutils dd \
	shm_dump_ours shm_dump_dd shm_raw_setup shm_cleanup
