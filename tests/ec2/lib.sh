# tests/ec2/lib.sh - shared by run.sh and bench.sh: a moto server and the
# fault proxy on loopback, an isolated environment, cleanup on any exit.
# Sourced; expects $CG (the cassandgo binary) to be set.

EC2_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/cg-ec2-XXXXXX)
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

need() {
	python3 -c 'import moto, boto3, flask' 2>/dev/null ||
		die "moto[server] and boto3 are needed (make deps installs them)"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {	# URL: wait until something answers
	local i
	for i in $(seq 1 100); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	die "nothing answers at $1"
}

start_moto() {
	MOTO_PORT=$(free_port)
	python3 "$EC2_DIR/moto_launch.py" "$MOTO_PORT" "$EC2_DIR/amis.json" >"$WORK/moto.log" 2>&1 &
	PIDS+=($!)
	MOTO_URL="http://127.0.0.1:$MOTO_PORT"
	wait_http "$MOTO_URL/moto-api/"
}

reset_moto() {
	curl -s -X POST "$MOTO_URL/moto-api/reset" >/dev/null || die "moto reset failed"
}

# start_proxy ARGS...: the fault proxy in front of moto; sets PROXY_URL
start_proxy() {
	PROXY_PORT=$(free_port)
	rm -f "$WORK/proxy.ready"
	python3 "$EC2_DIR/fault_proxy.py" --port "$PROXY_PORT" --upstream "$MOTO_URL" \
		--ready "$WORK/proxy.ready" "$@" >"$WORK/proxy.log" 2>&1 &
	PROXY_PID=$!
	PIDS+=($PROXY_PID)
	PROXY_URL="http://127.0.0.1:$PROXY_PORT"
	local i
	for i in $(seq 1 100); do [ -e "$WORK/proxy.ready" ] && return 0; sleep 0.1; done
	die "fault proxy did not start"
}

stop_proxy() {
	kill "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

proxy_counts() { curl -s "$PROXY_URL/__counts"; }
proxy_reset() { curl -s -X POST "$PROXY_URL/__counts" >/dev/null; }

# use_endpoint URL: every AWS knob points at loopback, nothing else is read
use_endpoint() {
	case "$1" in
	http://127.*) ;;
	*) die "refusing to run against non-loopback endpoint $1" ;;
	esac
	export AWS_ENDPOINT_URL_EC2="$1" AWS_ENDPOINT_URL="$1"
}

isolate_env() {
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_REGION
	export HOME="$WORK/home"
	mkdir -p "$HOME"
	export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
	export AWS_EC2_METADATA_DISABLED=true
	export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9
	export CASSANDGO_IP_ECHO_URL=http://127.0.0.1:9/
	export CASSANDGO_ALLOWED_CIDRS=203.0.113.7/32
	export CASSANDGO_EC2_POLL_MS=100
	export CASSANDGO_EC2_RETRY_BASE_MS=50
	export CASSANDGO_EC2_WAIT_S=120
	unset CASSANDGO_CONFIG CASSANDGO_STATE
}

# cg ARGS...: the tool on the test's config and state
cg() { "$CG" -c "$WORK/cassandgo.yaml" --state "$WORK/state/state.db" "$@"; }
