#!/usr/bin/env bash
# A registry cluster on this machine, for trying cluster mode: three
# nats-server processes as one JetStream cluster (client ports 4222-4224)
# and three optoutd nodes a, b, c on 127.0.0.1:50061-50063, all sharing one
# registry secret, with their data under ./cluster (kept between runs).
# Prints a short guide, then runs until Ctrl-C, which stops everything.
# Extra arguments go to every optoutd, e.g. deploy/run-cluster.sh --pdq_threshold=24
# With OPTOUT_BUILD_DIR=DIR it uses the binaries already built there.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${OPTOUT_BUILD_DIR:-}
if [[ -z "$build" ]]; then
  build=build-release
  bash deploy/install-deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DOPTOUT_BUILD_TESTS=OFF -DOPTOUT_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target optoutd optout
fi

root=./cluster
mkdir -p "$root" && chmod 700 "$root"
secret="$root/registry.secret"
if [[ ! -f "$secret" ]]; then
  (umask 077 && head -c 32 /dev/urandom >"$secret")
fi
nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
urls="nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

for i in 0 1 2; do
  routes=()
  for j in 0 1 2; do
    if [[ $j != "$i" ]]; then routes+=("nats://127.0.0.1:$((6222 + j))"); fi
  done
  "$nats_server" -a 127.0.0.1 -p $((4222 + i)) -js -sd "$root/nats$i" --server_name "n$i" \
    --cluster_name optout --cluster "nats://127.0.0.1:$((6222 + i))" \
    --routes "$(IFS=,; echo "${routes[*]}")" >"$root/nats$i.log" 2>&1 &
  pids+=($!)
done

names=(a b c)
for i in 0 1 2; do
  name=${names[$i]}
  "$build/service/optoutd" --listen=127.0.0.1:$((50061 + i)) --data_dir="$root/node-$name" \
    --secret_file="$secret" --cluster_nats="$urls" --node_name="$name" "$@" \
    2>"$root/node-$name.log" &
  pids+=($!)
done

for i in 0 1 2; do
  for _ in $(seq 1 600); do
    (exec 3<>/dev/tcp/127.0.0.1/$((50061 + i))) 2>/dev/null && break
    sleep 0.1
  done
done

cli=$build/client/optout
cat <<GUIDE
run-cluster: 3 NATS servers (4222-4224) and 3 optoutd nodes:
  a 127.0.0.1:50061   b 127.0.0.1:50062   c 127.0.0.1:50063   (logs and data in $root/)

  # register on a; note the "version" it prints
  $cli --server 127.0.0.1:50061 --json register --url https://example.com/me.jpg --no-receipt
  # check on c, reading your write: waits until c has applied that version
  $cli --server 127.0.0.1:50063 check --url https://example.com/me.jpg --min-version VERSION
  # each node's applied version, lag and running digest (equal digests: same registry)
  $cli --server 127.0.0.1:50062 info

Stop a node or a NATS server (kill its pid) and start it again: it catches up.
Ctrl-C stops everything.
GUIDE
wait
