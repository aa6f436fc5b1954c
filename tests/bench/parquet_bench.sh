#!/usr/bin/env bash
# check-dataset on Parquet vs the same rows as CSV, end to end.
#
#   tests/bench/parquet_bench.sh [BUILD_DIR] [ROWS] [RUNS]   (defaults: build 1000000 2)
#
# Writes a ROWS-row LAION-like snappy Parquet file with hyparquet-writer
# (tests/interop/write_laion.mjs, row groups of 100,000) and the same
# columns as CSV, starts optoutd on a free loopback port, registers 100 of
# the URLs, and runs `optout check-dataset` on each file RUNS times,
# printing rows/s and client / server CPU seconds (from /proc/<pid>/stat).
set -euo pipefail
BUILD=${1:-build}
ROWS=${2:-1000000}
RUNS=${3:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/optout-parquet-bench-XXXXXX)
PID=
cleanup() {
  if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
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
"$BUILD/service/optoutd" --listen=127.0.0.1:0 --data_dir="$W/data" --secret_file="$W/secret" \
  --port_file="$W/port" --register_rate_per_peer=0 --anonymous_items_per_minute=1000000000 2>"$W/log" &
PID=$!
for _ in $(seq 600); do [[ -s $W/port ]] && break; sleep 0.1; done
S=127.0.0.1:$(cat "$W/port")
for r in $(seq 17 $((ROWS / 100)) "$ROWS"); do
  "$BUILD/client/optout" --server "$S" register --no-receipt \
    --url "https://img$((r % 97)).example.com/laion/$((r % 1000))/$r.jpg" >/dev/null
done
TCK=$(getconf CLK_TCK)
for run in $(seq "$RUNS"); do
  for f in "$W/laion.parquet" "$W/laion.csv"; do
    rm -rf "$W/out"
    s0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    /usr/bin/time -f "%e %U %S" -o "$W/time" "$BUILD/client/optout" --server "$S" --json \
      check-dataset "$f" --out "$W/out" --quiet >"$W/sum.json"
    s1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    read -r WALL CU CS <"$W/time"
    echo "run $run $(basename "$f"): $ROWS rows in $WALL s = $(echo "$ROWS / $WALL" | bc) rows/s;" \
      "removed $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["removed"])' "$W/sum.json");" \
      "CPU client $(echo "$CU + $CS" | bc) s, server $(echo "scale=2; ($s1 - $s0) / $TCK" | bc) s;" \
      "load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
