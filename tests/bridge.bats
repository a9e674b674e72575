#!/usr/bin/env bats
# Beyond one machine (issue 15 §4): messages forwarded through a real MQTT
# broker, Mosquitto, with no code of ours in the broker path. Two network
# namespaces stand for two machines joined by a veth link; the broker runs
# in the first, on its own config, listening on its 127.0.0.1 and on the
# link, and writes nothing outside the test's directory. Out of a spool in
# the first, `spool take --follow --exec mosquitto_pub -q 1 -s` publishes
# each message and removes it only once the broker acknowledged it; in the
# second, `mosquitto_sub -q 1 -c -i NAME` (a persistent session) feeds
# `spool put`. The forwarder is SIGKILLed twice mid-stream: every message
# arrives, at most one duplicate per kill. Skipped, with the reason, where
# Mosquitto or network namespaces are missing; .ci/run installs the packages.

load helper

BRIDGE_N=10000
# Anything here waits on 10,000 broker round trips of a process each
# (about 100 s on 2 cores): bounds of its own, over the suite's 120 s.
BRIDGE_DEADLINE=300
BATS_TEST_TIMEOUT=480

setup() {
	it_setup
	command -v mosquitto >/dev/null || skip "needs mosquitto (Debian package mosquitto)"
	command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null ||
		skip "needs mosquitto_pub and mosquitto_sub (Debian package mosquitto-clients)"
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	# 10,000 broker round trips of a process each take a minute and more;
	# the sanitizer pass has spool take --exec under test elsewhere.
	[ "${IT_SANITIZE:-}" != 1 ] || skip "the plain pass runs the bridge"
	NS_A=it-a-$$-$BATS_TEST_NUMBER
	NS_B=it-b-$$-$BATS_TEST_NUMBER
	ip netns add "$NS_A" 2>/dev/null || skip "network namespaces are not available here"
	if ! ip netns add "$NS_B"; then
		ip netns del "$NS_A"
		skip "network namespaces are not available here"
	fi
	VETH=itv$$
	ip link add "${VETH}a" type veth peer name "${VETH}b"
	ip link set "${VETH}a" netns "$NS_A"
	ip link set "${VETH}b" netns "$NS_B"
	ip -n "$NS_A" addr add 10.199.0.1/24 dev "${VETH}a"
	ip -n "$NS_B" addr add 10.199.0.2/24 dev "${VETH}b"
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link set "${VETH}a" up
	ip -n "$NS_B" link set "${VETH}b" up
}

teardown() {
	it_teardown
	[ -n "${NS_A:-}" ] && ip netns del "$NS_A" 2>/dev/null
	[ -n "${NS_B:-}" ] && ip netns del "$NS_B" 2>/dev/null
	return 0
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# A port no process of the namespace listens on: the namespace is new, so
# the first one tried is free, but it is checked all the same.
free_port() {
	local p
	for p in 1883 $(seq 20000 20100); do
		if ! in_a ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
	return 1
}

# Mosquitto in namespace A, on its own config; ready once a QoS 1 publish
# to it is acknowledged.
start_broker() {
	BROKER_PORT=$(free_port)
	local d=$BATS_TEST_TMPDIR/broker
	mkdir "$d"
	cat >"$d/mosquitto.conf" <<-EOF
		listener $BROKER_PORT 127.0.0.1
		listener $BROKER_PORT 10.199.0.1
		allow_anonymous true
		persistence false
		log_dest stderr
	EOF
	# (The broker runs as user mosquitto, who may not write here: its log
	# is its stderr, in a file this shell opens.)
	it_bg ip netns exec "$NS_A" mosquitto -c "$d/mosquitto.conf" 2>"$d/log"
	BROKER_PID=$IT_PID
	wait_for in_a mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t it/probe -m up
}

# The spool's messages, by content, one a line (spool stores a line
# without its newline: awk gives it back).
contents() {
	find "$1/new" -type f -exec awk 1 {} + | sort
}

arrived_at_least() {
	[ "$(find "$DIR_B/new" -type f | wc -l)" -ge "$1" ]
}

start_forwarder() {
	it_bg ip netns exec "$NS_A" spool take --follow --no-sync "$DIR_A" --exec \
		mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t it/jobs -s
	FORWARDER=$IT_PID
}

@test "spool to spool through Mosquitto across two namespaces: $BRIDGE_N messages, the forwarder SIGKILLed twice, every one arrives, at most one duplicate a kill" {
	start_broker
	DIR_A=$(it_path a)
	DIR_B=$(it_path b)
	it_track path "$DIR_A"
	it_track path "$DIR_B"
	seq -w "$BRIDGE_N" | spool put -c --no-sync "$DIR_A"
	spool put -c "$DIR_B" </dev/null
	# The persistent session and its subscription, made before anything is
	# published: from then on the broker keeps what comes for it (-E ends
	# the client once the broker acknowledged the subscription).
	in_b mosquitto_sub -h 10.199.0.1 -p "$BROKER_PORT" -q 1 -c -i it-bridge-b \
		-t it/jobs -E
	# The subscriber and its spool put, joined by a FIFO so that each has
	# a pid of its own to stop.
	local pipe sub put
	pipe=$(it_path pipe)
	mkfifo "$pipe"
	# (Each opens the FIFO itself: a redirection of it_bg would block this
	# shell on the open.)
	it_bg bash -c 'exec spool put --no-sync "$1" <"$2"' _ "$DIR_B" "$pipe"
	put=$IT_PID
	it_bg bash -c 'exec ip netns exec "$1" mosquitto_sub -h 10.199.0.1 -p "$2" \
		-q 1 -c -i it-bridge-b -t it/jobs >"$3"' _ "$NS_B" "$BROKER_PORT" "$pipe"
	sub=$IT_PID
	start_forwarder
	wait_for_within "$BRIDGE_DEADLINE" arrived_at_least $((BRIDGE_N * 3 / 10))
	kill -KILL "$FORWARDER"
	start_forwarder
	wait_for_within "$BRIDGE_DEADLINE" arrived_at_least $((BRIDGE_N * 6 / 10))
	kill -KILL "$FORWARDER"
	start_forwarder
	wait_for_within "$BRIDGE_DEADLINE" arrived_at_least "$BRIDGE_N"
	# Every message once at least, and no more than two extra.
	local got dups
	wait_for test -z "$(find "$DIR_A/new" "$DIR_A/claim" -type f)"
	got=$(contents "$DIR_B")
	[ "$(uniq <<<"$got" | wc -l)" = "$BRIDGE_N" ]
	diff <(uniq <<<"$got") <(seq -w "$BRIDGE_N")
	dups=$(($(wc -l <<<"$got") - BRIDGE_N))
	echo "duplicates: $dups" >&3
	[ "$dups" -le 2 ]
	kill -TERM "$FORWARDER" "$sub"
	it_wait "$put"
	[ "$IT_STATUS" = 0 ]
}
