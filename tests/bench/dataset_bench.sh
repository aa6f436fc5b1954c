#!/usr/bin/env bash
# check-dataset end to end: a generated URL manifest checked against a
# registry of many opt-outs, client and server on this machine.
#
#   tests/bench/dataset_bench.sh [BUILD_DIR] [ROWS] [OPTOUTS] [RUNS]
#   (defaults: build 1000000 1000000 1)
#
# Starts optoutd on a free loopback port with a temp data dir, registers
# OPTOUTS opt-outs (URL only) with `optout-bench --populate` (many concurrent
# synced Register calls), writes a ROWS-row CSV manifest in which 1% of the
# rows repeat a registered URL (tests/bench/dataset_manifest_gen), runs
# `optout check-dataset` once, checks that exactly the expected rows were
# removed, and prints rows/s end to end and the CPU time of client and server
# (utime + stime from /proc/<pid>/stat around the run). RUNS > 1 repeats the
# check (each into a fresh --out) against the same registry.
set -euo pipefail

BUILD=${1:-build}
ROWS=${2:-1000000}
OPTOUTS=${3:-1000000}
RUNS=${4:-1}
OPTOUT=$BUILD/client/optout
OPTOUTD=$BUILD/service/optoutd
BENCH=$BUILD/tests/load/optout-bench
GEN=$BUILD/tests/bench/dataset_manifest_gen
for b in "$OPTOUT" "$OPTOUTD" "$BENCH" "$GEN"; do
  [[ -x $b ]] || { echo "dataset_bench: missing $b (build targets optout optoutd optout-bench dataset_manifest_gen)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/optout-dataset-bench-XXXXXX)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$OPTOUTD" --listen=127.0.0.1:0 --data_dir="$WORK/data" --secret_file="$WORK/secret" \
  --port_file="$WORK/port" --register_rate_per_peer=0 \
  --anonymous_items_per_minute=1000000000 2>"$WORK/optoutd.log" &
SERVER_PID=$!
for _ in $(seq 600); do [[ -s $WORK/port ]] && break; sleep 0.1; done
[[ -s $WORK/port ]] || { echo "dataset_bench: optoutd did not start" >&2; cat "$WORK/optoutd.log" >&2; exit 1; }
SERVER=127.0.0.1:$(cat "$WORK/port")
TCK=$(getconf CLK_TCK)
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

echo "populating $OPTOUTS opt-outs on $SERVER ..."
t0=$(date +%s.%N)
"$BENCH" --server "$SERVER" --populate "$OPTOUTS" --no-pdq --concurrency 256 >"$WORK/populate.log" 2>&1 \
  || { cat "$WORK/populate.log" >&2; exit 1; }
t1=$(date +%s.%N)
echo "populated in $(echo "$t1 - $t0" | bc) s"

EXPECTED=$("$GEN" --rows "$ROWS" --stored "$OPTOUTS" --match-fraction 0.01 --out "$WORK/manifest.csv")
echo "manifest: $ROWS rows, $(du -h "$WORK/manifest.csv" | cut -f1), $EXPECTED meant to match"

for run in $(seq "$RUNS"); do
rm -rf "$WORK/out"
s0=$(server_ticks)
/usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
  "$OPTOUT" --server "$SERVER" --json check-dataset "$WORK/manifest.csv" --out "$WORK/out" --quiet \
  >"$WORK/summary.json"
s1=$(server_ticks)
read -r WALL CUSER CSYS CRSS <"$WORK/time"
REMOVED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["removed"])' "$WORK/summary.json")
SERVER_CPU=$(echo "scale=2; ($s1 - $s0) / $TCK" | bc)
CLIENT_CPU=$(echo "scale=2; $CUSER + $CSYS" | bc)
TOTAL_CPU=$(echo "scale=2; $CLIENT_CPU + $SERVER_CPU" | bc)
echo "run $run: check-dataset: $ROWS rows in $WALL s = $(echo "$ROWS / $WALL" | bc) rows/s end to end"
echo "run $run: removed $REMOVED rows (expected $EXPECTED)"
echo "run $run: CPU: client $CLIENT_CPU s ($(echo "scale=1; 100 * $CLIENT_CPU / $TOTAL_CPU" | bc)%), server $SERVER_CPU s ($(echo "scale=1; 100 * $SERVER_CPU / $TOTAL_CPU" | bc)%), client peak RSS $((CRSS / 1024)) MiB"
echo "run $run: CPU per row: $(echo "scale=2; 1000000 * $TOTAL_CPU / $ROWS" | bc) us (client + server); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $REMOVED == "$EXPECTED" ]] || { echo "dataset_bench: removed $REMOVED rows, expected $EXPECTED" >&2; exit 3; }
done
