#!/usr/bin/env bash
# Server CPU per checked PDQ item with the probing guard on (the default)
# against the same checks with it off (--pdq_probe_limit=0), in one command
# (issue 10: the guard must cost little next to the check itself).
#
#   tests/load/pdq_probe_overhead.sh [BUILD_DIR] [STORED] [ITEMS] [ROUNDS] [BATCH] [-- BENCH FLAGS]
#
# Registers STORED opt-outs with a PDQ hash each (default 100000) once, then
# runs ROUNDS (default 3) pairs of identical PDQ checks of ITEMS items
# (default 200000) in batches of BATCH (default 1000), each against a fresh
# optoutd on the same data: guard off, then on. Extra flags after -- go to
# optout-bench (e.g. --dihedral, --rpc unary). Server CPU per item comes
# from /proc/PID/stat (utime + stime) around each run. Prints each pair and
# the median ratio.
set -euo pipefail
build=${1:-build}
stored=${2:-100000}
items=${3:-200000}
rounds=${4:-3}
batch=${5:-1000}
shift $(( $# < 5 ? $# : 5 ))
[[ ${1:-} == -- ]] && shift
extra=("$@")
optoutd=$build/service/optoutd
bench=$build/tests/load/optout-bench
for tool in "$optoutd" "$bench"; do
  [[ -x $tool ]] || { echo "missing $tool: build optoutd and optout-bench" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/optout-probe-overhead-XXXXXX)
pid=
stop() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap 'stop; rm -rf "$dir"' EXIT
start() {
  rm -f "$dir/port"
  "$optoutd" --listen=127.0.0.1:0 --port_file="$dir/port" --data_dir="$dir/data" \
    --secret_file="$dir/secret" --register_rate_per_peer=0 \
    --anonymous_items_per_minute=1000000000 "$@" 2>>"$dir/optoutd.log" &
  pid=$!
  for _ in $(seq 300); do [[ -s $dir/port ]] && break; sleep 0.1; done
  [[ -s $dir/port ]] || { echo "optoutd did not start; see its log:" >&2; cat "$dir/optoutd.log" >&2; exit 1; }
  server=127.0.0.1:$(cat "$dir/port")
}

echo "registering $stored opt-outs ..." >&2
start --pdq_probe_limit=0
"$bench" --server "$server" --populate "$stored" --concurrency 64 >/dev/null 2>&1
stop

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# Server CPU in nanoseconds per item for one run of the checks, against an
# optoutd started with the given flags.
cpu_per_item() {
  start "$@"
  local before after
  before=$(cpu_ticks)
  "$bench" --server "$server" --stored "$stored" --mode pdq --items "$items" \
    --batch "$batch" --inflight 4 "${extra[@]}" >/dev/null
  after=$(cpu_ticks)
  stop
  echo $(( (after - before) * 1000000000 / $(getconf CLK_TCK) / items ))
}

ratios=()
for round in $(seq "$rounds"); do
  off=$(cpu_per_item --pdq_probe_limit=0)
  on=$(cpu_per_item)
  ratio=$(awk -v n="$on" -v f="$off" 'BEGIN { printf "%.3f", n / f }')
  ratios+=("$ratio")
  echo "round $round: guard off ${off} ns/item, on ${on} ns/item, ratio $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END { print "median ratio " r[int((NR + 1) / 2)] }'
