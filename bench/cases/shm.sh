# shellcheck shell=bash
# bench/cases/shm.sh: the Speed rows of issues 9 and 17. Every sink reads
# the data: a file on tmpfs (/dev/shm), or a pipe into cat writing one,
# never /dev/null, where no page is touched.
#
# - SHM_STREAM (default 1 GiB) from a file in the page cache through
#   shmcat write | shmcat read into tmpfs, against cat F | cat into tmpfs
#   (four copies against our two) and against bench/peers/shmring, a bare
#   two-process ring with the same read-into/write-from-ring design and no
#   locks or crash safety, into the same sink.
# - SHM_TEXT (default 256 MiB of seq lines) written with --lines and read
#   into a pipe (shmcat read | cat > tmpfs), against cat t | cat > tmpfs.
# - SHM_TEXT written with --lines --full=overwrite into a 16 MiB ring
#   nobody reads (a flight recorder: every chunk past the first 16 MiB
#   takes the oldest off), against the same bytes with --full=wait read
#   by a reader into a pipe: what dropping costs against delivering.
# - shmcat load and dump of SHM_RAW (default 512 MiB), POSIX and System V,
#   against cat into and out of /dev/shm.

SHM_STREAM=${SHM_STREAM:-1G}
SHM_TEXT=${SHM_TEXT:-256M}
SHM_RAW=${SHM_RAW:-512M}
SHM_RING=/ipctools-bench-ring.$$
SHM_OBJ=/ipctools-bench-raw.$$
SHM_SINK=/dev/shm/ipctools-bench-sink.$$
SHM_KEY=$((0x1b000000 + $$ % 65536))

shm_cleanup() {
	rm -f "/dev/shm$SHM_RING" "/dev/shm$SHM_OBJ" "/dev/shm$SHM_OBJ.cat" "$SHM_SINK"
	ipcrm -M "$SHM_KEY" 2>/dev/null || :
}

shm_stream_setup() {
	SHM_INPUT=$BENCH_TMP/shm-stream
	[ -f "$SHM_INPUT" ] || head -c "$SHM_STREAM" /dev/zero >"$SHM_INPUT"
	cat "$SHM_INPUT" >/dev/null    # into the page cache
	shm_cleanup
}

shm_text_setup() {
	SHM_TEXTIN=$BENCH_TMP/shm-text
	[ -f "$SHM_TEXTIN" ] || seq 1 100000000 | head -c "$SHM_TEXT" >"$SHM_TEXTIN"
	cat "$SHM_TEXTIN" >/dev/null
	shm_cleanup
}

shm_raw_setup() {
	SHM_RAWIN=$BENCH_TMP/shm-raw
	[ -f "$SHM_RAWIN" ] || head -c "$SHM_RAW" /dev/urandom >"$SHM_RAWIN"
	cat "$SHM_RAWIN" >/dev/null
	shm_cleanup
	shmcat load -N "$SHM_OBJ" -c <"$SHM_RAWIN"
	cat "$SHM_RAWIN" >"/dev/shm$SHM_OBJ.cat"
	shmcat load -k "$SHM_KEY" -c <"$SHM_RAWIN"
}

# The reader makes the ring and removes it at the end; the writer
# attaches to it, or makes it first: either way the reader reads to the
# end of this writer's stream.
shm_stream_ours() {
	shmcat read -N "$SHM_RING" -c --size 16M --rm >"$SHM_SINK" &
	shmcat write -N "$SHM_RING" -c --size 16M <"$SHM_INPUT" || return 1
	wait "$!" && rm -f "$SHM_SINK"
}

shm_stream_cat() {
	cat "$SHM_INPUT" | cat >"$SHM_SINK" && rm -f "$SHM_SINK"
}

shm_stream_ring() {
	"$BENCH_PEERS/shmring" $((16 << 20)) <"$SHM_INPUT" >"$SHM_SINK" &&
		rm -f "$SHM_SINK"
}

shm_text_ours() {
	shmcat read -N "$SHM_RING" -c --size 16M --rm | cat >"$SHM_SINK" &
	shmcat write -N "$SHM_RING" -c --size 16M --lines <"$SHM_TEXTIN" || return 1
	wait "$!" && rm -f "$SHM_SINK"
}

shm_overwrite_ours() {
	shmcat write -N "$SHM_RING" -c --size 16M --lines --full=overwrite \
		<"$SHM_TEXTIN" 2>/dev/null || return 1
	shmcat rm -N "$SHM_RING"
}

shm_text_cat() {
	cat "$SHM_TEXTIN" | cat >"$SHM_SINK" && rm -f "$SHM_SINK"
}

shm_load_ours() {
	shmcat load -N "$SHM_OBJ" <"$SHM_RAWIN"
}

shm_load_sysv() {
	shmcat load -k "$SHM_KEY" <"$SHM_RAWIN"
}

shm_load_cat() {
	cat "$SHM_RAWIN" >"/dev/shm$SHM_OBJ.cat"
}

shm_dump_ours() {
	shmcat dump -N "$SHM_OBJ" >"$SHM_SINK" && rm -f "$SHM_SINK"
}

shm_dump_sysv() {
	shmcat dump -k "$SHM_KEY" >"$SHM_SINK" && rm -f "$SHM_SINK"
}

shm_dump_cat() {
	cat "/dev/shm$SHM_OBJ.cat" >"$SHM_SINK" && rm -f "$SHM_SINK"
}

bench_case "shm: $SHM_STREAM write | read >tmpfs vs cat F | cat >tmpfs" 0.55 coreutils cat \
	shm_stream_ours shm_stream_cat shm_stream_setup shm_cleanup
bench_case "shm: $SHM_STREAM write | read >tmpfs vs C ring peer >tmpfs" 1.1 coreutils cat \
	shm_stream_ours shm_stream_ring shm_stream_setup shm_cleanup
bench_case "shm: $SHM_TEXT --lines, read | cat >tmpfs vs cat t | cat" 1.5 coreutils cat \
	shm_text_ours shm_text_cat shm_text_setup shm_cleanup
bench_case "shm: $SHM_TEXT --full=overwrite, no reader vs --full=wait | read" 1.0 ipctools shmcat \
	shm_overwrite_ours shm_text_ours shm_text_setup shm_cleanup
bench_case "shm: load -N $SHM_RAW vs cat F >/dev/shm/x" 1.0 coreutils cat \
	shm_load_ours shm_load_cat shm_raw_setup shm_cleanup
bench_case "shm: dump -N $SHM_RAW >tmpfs vs cat /dev/shm/x >tmpfs" 1.0 coreutils cat \
	shm_dump_ours shm_dump_cat shm_raw_setup shm_cleanup
bench_case "shm: load -k $SHM_RAW vs cat F >/dev/shm/x" 1.1 coreutils cat \
	shm_load_sysv shm_load_cat shm_raw_setup shm_cleanup
bench_case "shm: dump -k $SHM_RAW >tmpfs vs cat /dev/shm/x >tmpfs" 1.1 coreutils cat \
	shm_dump_sysv shm_dump_cat shm_raw_setup shm_cleanup
