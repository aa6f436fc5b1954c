#!/usr/bin/env bash
# Builds the optoutd container image from deploy/Dockerfile and proves that it
# runs, on a Debian 12 machine with no image registry and no container
# runtime that can start containers (run as root):
#   1. a Debian 12 base image from debootstrap, imported with podman (once);
#   2. `buildah bud --isolation chroot` of deploy/Dockerfile on that base;
#   3. the image's root mounted with `buildah mount`; checked: no compiler,
#      every library of optoutd resolves, the entry point runs as non-root
#      and carries TLS flags;
#   4. its entry point started in a chroot as the image's user, with
#      throwaway TLS certificates: gRPC health check over TLS, a
#      registration and a check with the image's own `optout`, a metrics
#      scrape over HTTPS, then SIGTERM and a clean exit.
# Needs network for Debian packages only. Takes 20-40 min the first time on
# 2 cores (the image compiles optoutd); later builds reuse a ccache in
# $WORK/ccache. Not part of tests/run-tests.sh.
#   bash deploy/container/build-and-test.sh [--skip-build]
# Environment: WORK (default /var/tmp/optout-container), DEBIAN_MIRROR,
# IMAGE (default localhost/optout-registry:dev).
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=${WORK:-/var/tmp/optout-container}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=localhost/optout-base:bookworm
IMAGE=${IMAGE:-localhost/optout-registry:dev}
# Debian's python3 (it has python3-grpcio), whatever python3 is first on PATH.
PY=/usr/bin/python3
log() { echo "build-and-test: $*"; }
fail() { echo "build-and-test: FAILED: $*" >&2; exit 1; }

missing=()
for p in buildah podman debootstrap openssl curl python3-grpcio; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
mkdir -p "$WORK/ccache"

if ! podman image exists "$BASE"; then
  if [[ ! -x "$WORK/rootfs/bin/bash" ]]; then
    log "debootstrap bookworm into $WORK/rootfs"
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR"
  fi
  log "importing the base image $BASE"
  tar -C "$WORK/rootfs" -c . | podman import - "$BASE"
fi

if [[ "${1:-}" != "--skip-build" ]]; then
  log "building $IMAGE (buildah bud --isolation chroot)"
  buildah bud --isolation chroot --build-arg BASE_IMAGE="$BASE" \
    --volume "$WORK/ccache:/ccache" -f deploy/Dockerfile -t "$IMAGE" .
fi

ctr=$(buildah from "$IMAGE")
root=$(buildah mount "$ctr")
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
  umount "$root/dev" 2>/dev/null || true
  buildah umount "$ctr" >/dev/null 2>&1 || true
  buildah rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "checking the image"
for compiler in cc gcc g++ c++ clang; do
  [[ -e "$root/usr/bin/$compiler" ]] && fail "the run image holds a compiler: /usr/bin/$compiler"
done
buildah inspect "$IMAGE" > "$WORK/inspect.json"
user=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["OCIv1"]["config"].get("User", ""))' "$WORK/inspect.json")
[[ -n "$user" && "$user" != root && "$user" != 0 ]] || fail "the image runs as root"
mapfile -t entrypoint < <($PY -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["OCIv1"]["config"]["Entrypoint"]))' "$WORK/inspect.json")
printf '%s\n' "${entrypoint[@]}" | grep -q -- '--tls_cert_file=' || fail "the entry point has no TLS flags"
if chroot "$root" ldd /usr/local/bin/optoutd /usr/local/bin/optout | grep -q "not found"; then
  chroot "$root" ldd /usr/local/bin/optoutd /usr/local/bin/optout | grep "not found"
  fail "libraries missing from the run image"
fi

log "throwaway TLS certificates"
tls="$root/run/secrets/optout-tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
  -keyout "$WORK/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$tls/server.key" \
  -out "$WORK/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$WORK/san.cnf"
openssl x509 -req -in "$WORK/server.csr" -CA "$tls/ca.crt" -CAkey "$WORK/ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/san.cnf" -out "$tls/server.crt" 2>/dev/null
chroot "$root" chown "$user" /run/secrets/optout-tls/server.key /run/secrets/optout-tls/server.crt
chmod 0600 "$tls/server.key"

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
metrics_port=$(free_port)
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
log "starting the entry point as $user: ${entrypoint[*]}"
chroot --userspec="$user:$user" "$root" "${entrypoint[@]}" \
  --listen=127.0.0.1:"$port" --metrics_listen=127.0.0.1:"$metrics_port" \
  --min_free_disk_mb=1 > "$WORK/optoutd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on port" "$WORK/optoutd.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/optoutd.log"; fail "optoutd exited"; }
  sleep 0.2
done
grep -q "listening on port" "$WORK/optoutd.log" || fail "optoutd did not start"

log "gRPC health check over TLS"
$PY - "$port" "$tls/ca.crt" <<'PY'
import sys, grpc
port, ca = sys.argv[1], open(sys.argv[2], "rb").read()
channel = grpc.secure_channel(f"localhost:{port}", grpc.ssl_channel_credentials(ca))
# grpc.health.v1.Health/Check with an empty HealthCheckRequest; SERVING is
# HealthCheckResponse{status: 1}, encoded 08 01.
check = channel.unary_unary("/grpc.health.v1.Health/Check")
answer = check(b"", timeout=10)
if answer != b"\x08\x01":
    sys.exit(f"health: not SERVING: {answer!r}")
print("health: SERVING")
PY

log "register and check with the image's optout"
cli=(chroot "$root" /usr/local/bin/optout --server "localhost:$port"
     --tls-ca /run/secrets/optout-tls/ca.crt)
"${cli[@]}" register --url https://img.example.com/container-test.jpg \
  --receipt /tmp/receipt.json > "$WORK/register.out"
"${cli[@]}" --json check --url https://img.example.com/container-test.jpg \
  --url https://img.example.com/other.jpg > "$WORK/check.out"
$PY - "$WORK/check.out" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
assert [r["matched"] for r in results] == [True, False], results
print("check: registered URL matched, the other did not")
PY

log "metrics over HTTPS"
curl -sf --cacert "$tls/ca.crt" "https://localhost:$metrics_port/metrics" > "$WORK/metrics.txt"
grep -q '^optout_opt_outs 1$' "$WORK/metrics.txt" || fail "metrics: optout_opt_outs is not 1"
grep -q '^optout_matches_total{kind="url"} 1$' "$WORK/metrics.txt" || fail "metrics: no url match"

log "SIGTERM"
kill -TERM "$pid"
wait "$pid" || fail "optoutd exited with status $?"
pid=""
grep -q "database closed" "$WORK/optoutd.log" || fail "no clean shutdown in the log"
log "OK: $IMAGE builds and runs (log: $WORK/optoutd.log)"
