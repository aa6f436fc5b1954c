#!/usr/bin/env bash
# One command to run the registry locally: installs what is missing, builds
# (Release) and starts optoutd on 127.0.0.1:50051 (gRPC) and
# http://127.0.0.1:8080/ (web page and JSON API) with its data in ./data
# (registry secret in ~/.config/optoutd/registry.secret). Stop it with Ctrl-C.
# Extra arguments go to optoutd, e.g. deploy/run-local.sh --pdq_threshold=24
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
  -DOPTOUT_BUILD_TESTS=OFF -DOPTOUT_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target optoutd optout

echo "run-local: the CLI is build-release/client/optout (try: build-release/client/optout --help)"
echo "run-local: web page and JSON API at http://127.0.0.1:8080/"
exec build-release/service/optoutd --listen=127.0.0.1:50051 --http_listen=127.0.0.1:8080 \
  --data_dir=./data "$@"
