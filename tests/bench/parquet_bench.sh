#!/usr/bin/env bash
# check-dataset on Parquet vs the same rows as CSV, end to end.
#
#   tests/bench/parquet_bench.sh [BUILD_DIR] [ROWS] [RUNS] [BASELINE_DIR]
#   (defaults: build 1000000 2, no baseline)
#
# Writes a ROWS-row LAION-like snappy Parquet file with hyparquet-writer
# (tests/interop/write_laion.mjs, row groups of 100,000) and the same
# columns as CSV, starts optoutd on a free loopback port, registers 100 of
# the URLs, and runs `optout check-dataset` on each file RUNS times,
# printing rows/s and client / server CPU seconds (from /proc/<pid>/stat)
# and the CPU per row (client + server; a full check: 8 lookup expressions
# per URL plus the md5).
#
# OPTOUT_BENCH_REMOVAL=1pct (default: the 100 rows) sets how many rows
# go: by default 100 URLs are registered, 0.01 % of the rows, every
# 10,000th row (every data page of every row group still loses one);
# `1pct` also registers the URLs of every 97th row (r % 97 = 5, in opt-outs
# of 1,000 URLs): 1.04 % in all, about the share of LAION-5B reported
# opted out (README, LAION projection). The inputs are the same either way.
#
# BASELINE_DIR: another build (or a folder holding client/optout and
# service/optoutd, e.g. copies from before a change). Its own optoutd is
# started beside this build's, with the same registrations, and every run
# checks the Parquet file with both, alternately, so that both see the same
# machine load; the last line is the ratio of their CPU per row.
set -euo pipefail
BUILD=${1:-build}
ROWS=${2:-1000000}
RUNS=${3:-2}
BASELINE=${4:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/optout-parquet-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
# The inputs take a minute to write at 1M rows: kept in OPTOUT_BENCH_CACHE
# (default /tmp/optout-parquet-bench-cache), keyed by the row count and the
# generator scripts, so repeated runs reuse them.
CACHE=${OPTOUT_BENCH_CACHE:-/tmp/optout-parquet-bench-cache}
KEY=$ROWS-$(cat "$ROOT/tests/interop/write_laion.mjs" "$0" | sha256sum | cut -c1-16)
if [[ -s $CACHE/$KEY.parquet && -s $CACHE/$KEY.csv ]]; then
  ln -s "$CACHE/$KEY.parquet" "$W/laion.parquet"
  ln -s "$CACHE/$KEY.csv" "$W/laion.csv"
else
node "$ROOT/tests/interop/write_laion.mjs" "$W/laion.parquet" "$ROWS" SNAPPY 100000
node --input-type=module -e '
import { createWriteStream } from "node:fs"
import { createHash } from "node:crypto"
const [out, rows] = process.argv.slice(1)
const s = createWriteStream(out)
s.write("SAMPLE_ID,URL,TEXT,WIDTH,HEIGHT,LICENSE,NSFW,similarity,md5\n")
let buf = ""
for (let r = 1; r <= Number(rows); r++) {
  const md5 = createHash("md5").update(`image bytes of row ${r}`).digest("hex")
  buf += `${r * 1000 + 7},https://img${r % 97}.example.com/laion/${r % 1000}/${r}.jpg,"a photo of thing ${r % 5000}, ""quoted"", ünïcode",${256 + r % 1024},${256 + r % 777},cc-by,UNLIKELY,${0.25 + (r % 1000) / 10000},${md5}\n`
  if (buf.length > 1 << 20) { s.write(buf); buf = "" }
}
s.write(buf); s.end()' "$W/laion.csv" "$ROWS"
mkdir -p "$CACHE"
cp "$W/laion.parquet" "$CACHE/$KEY.parquet.tmp$$" && mv "$CACHE/$KEY.parquet.tmp$$" "$CACHE/$KEY.parquet"
cp "$W/laion.csv" "$CACHE/$KEY.csv.tmp$$" && mv "$CACHE/$KEY.csv.tmp$$" "$CACHE/$KEY.csv"
fi

# start NAME BUILD: optoutd of BUILD with the 100 registrations; sets
# PID_NAME and SERVER_NAME.
start() {
  local name=$1 build=$2 dir=$W/$1
  mkdir -p "$dir"
  "$build/service/optoutd" --listen=127.0.0.1:0 --data_dir="$dir/data" --secret_file="$dir/secret" \
    --port_file="$dir/port" --register_rate_per_peer=0 --anonymous_items_per_minute=1000000000 \
    2>"$dir/log" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 600); do [[ -s $dir/port ]] && break; sleep 0.1; done
  local server=127.0.0.1:$(cat "$dir/port")
  for r in $(seq 17 $((ROWS / 100)) "$ROWS"); do
    "$build/client/optout" --server "$server" register --no-receipt \
      --url "https://img$((r % 97)).example.com/laion/$((r % 1000))/$r.jpg" >/dev/null
  done
  if [[ ${OPTOUT_BENCH_REMOVAL:-} == 1pct ]]; then
    local args=()
    for r in $(seq 5 97 "$ROWS"); do
      args+=(--url "https://img$((r % 97)).example.com/laion/$((r % 1000))/$r.jpg")
      if ((${#args[@]} == 2000)); then
        "$build/client/optout" --server "$server" register --no-receipt "${args[@]}" >/dev/null
        args=()
      fi
    done
    ((${#args[@]} == 0)) || "$build/client/optout" --server "$server" register --no-receipt "${args[@]}" >/dev/null
  fi
  printf -v "PID_$name" '%s' "$pid"
  printf -v "SERVER_$name" '%s' "$server"
}

TCK=$(getconf CLK_TCK)
declare -A CPU_SUM
# check NAME BUILD FILE RUN: one check-dataset run, its line, and its CPU
# seconds added to CPU_SUM[NAME].
check() {
  local name=$1 build=$2 f=$3 run=$4
  local pid_var=PID_$name server_var=SERVER_$name
  local pid=${!pid_var} server=${!server_var}
  rm -rf "$W/out"
  local s0 s1 wall cu cs client server_cpu
  s0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  /usr/bin/time -f "%e %U %S" -o "$W/time" "$build/client/optout" --server "$server" --json \
    check-dataset "$f" --out "$W/out" --quiet >"$W/sum.json"
  s1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  read -r wall cu cs <"$W/time"
  client=$(echo "$cu + $cs" | bc)
  server_cpu=$(echo "scale=2; ($s1 - $s0) / $TCK" | bc)
  echo "run $run $name $(basename "$f"): $ROWS rows in $wall s = $(echo "$ROWS / $wall" | bc) rows/s;" \
    "removed $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["removed"])' "$W/sum.json");" \
    "CPU client $client s, server $server_cpu s," \
    "per row $(echo "scale=2; ($client + $server_cpu) * 1000000 / $ROWS" | bc) us;" \
    "load $(cut -d' ' -f1 /proc/loadavg)"
  if [[ $f == *.parquet ]]; then
    CPU_SUM[$name]=$(echo "${CPU_SUM[$name]:-0} + $client + $server_cpu" | bc)
  fi
}

start this "$BUILD"
[[ -n $BASELINE ]] && start baseline "$BASELINE"
for run in $(seq "$RUNS"); do
  [[ -n $BASELINE ]] && check baseline "$BASELINE" "$W/laion.parquet" "$run"
  check this "$BUILD" "$W/laion.parquet" "$run"
  [[ -z $BASELINE ]] && check this "$BUILD" "$W/laion.csv" "$run"
done
if [[ -n $BASELINE ]]; then
  echo "Parquet CPU per row over $RUNS run(s): baseline" \
    "$(echo "scale=2; ${CPU_SUM[baseline]} * 1000000 / ($ROWS * $RUNS)" | bc) us, this build" \
    "$(echo "scale=2; ${CPU_SUM[this]} * 1000000 / ($ROWS * $RUNS)" | bc) us; ratio this/baseline" \
    "$(echo "scale=3; ${CPU_SUM[this]} / ${CPU_SUM[baseline]}" | bc)"
fi
