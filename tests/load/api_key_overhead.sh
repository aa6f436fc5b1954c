#!/usr/bin/env bash
# Server CPU per checked item with an API key against the same checks made
# anonymously, in one command (issue 10: a key may cost at most 10 % more).
#
#   tests/load/api_key_overhead.sh [BUILD_DIR] [STORED] [ITEMS] [ROUNDS] [BATCH]
#
# Starts its own optoutd on loopback (data in a temp folder), registers
# STORED opt-outs (default 100000), creates an API key, then runs ROUNDS
# (default 3) pairs of identical digest checks of ITEMS items (default
# 2000000) in batches of BATCH (default 10000; small batches show the
# per-call cost of the key): anonymous, then with the key. Server CPU per item comes from
# /proc/PID/stat (utime + stime) around each run, which is steadier than
# items/s on a shared machine. Prints each pair and the median ratio.
set -euo pipefail
build=${1:-build}
stored=${2:-100000}
items=${3:-2000000}
rounds=${4:-3}
batch=${5:-10000}
optoutd=$build/service/optoutd
bench=$build/tests/load/optout-bench
admin=$build/client/optout-admin
for tool in "$optoutd" "$bench" "$admin"; do
  [[ -x $tool ]] || { echo "missing $tool: build optoutd, optout-bench and optout-admin" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/optout-key-overhead-XXXXXX)
"$optoutd" --listen=127.0.0.1:0 --port_file="$dir/port" --data_dir="$dir/data" \
  --secret_file="$dir/secret" --register_rate_per_peer=0 \
  --anonymous_items_per_minute=1000000000 2>"$dir/optoutd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [[ -s $dir/port ]] && break; sleep 0.1; done
server=127.0.0.1:$(cat "$dir/port")

echo "registering $stored opt-outs ..." >&2
"$bench" --server "$server" --populate "$stored" --concurrency 64 >/dev/null 2>&1
key=$("$admin" --data-dir "$dir/data" keys create --name bench --items-per-minute 0 \
        --items-per-day 0 --pdq-per-day 0 2>&1 | grep -Eo '[A-Za-z0-9_-]{32,}' | head -1)
[[ -n $key ]] || { echo "could not create an API key" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# Server CPU in nanoseconds per item for one run of the checks.
cpu_per_item() {
  local before after
  before=$(cpu_ticks)
  "$bench" --server "$server" --stored "$stored" --mode digests --items "$items" \
    --batch "$batch" --inflight 4 "$@" >/dev/null
  after=$(cpu_ticks)
  echo $(( (after - before) * 1000000000 / $(getconf CLK_TCK) / items ))
}

ratios=()
for round in $(seq "$rounds"); do
  anonymous=$(cpu_per_item)
  keyed=$(cpu_per_item --api-key "$key")
  ratio=$(awk -v k="$keyed" -v a="$anonymous" 'BEGIN { printf "%.3f", k / a }')
  ratios+=("$ratio")
  echo "round $round: anonymous ${anonymous} ns/item, with key ${keyed} ns/item, ratio $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "server CPU per item with a key / anonymous: median ratio $median over $rounds rounds"
