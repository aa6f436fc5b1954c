#!/usr/bin/env bash
# Installs the Debian 12 packages optout-registry needs to build, test and run.
# Idempotent: runs apt-get only when something is missing, and npm (for the
# Parquet interoperability tests' packages in tests/interop) only when its
# lockfile changed.
#   deploy/install-deps.sh          build + test + run dependencies
#   deploy/install-deps.sh --bench  also FAISS (peer in the Hamming benchmark) and
#                                   OpenCV's ORB and RANSAC (tests/bench/match_orb)
set -euo pipefail

packages=(
  cmake g++ make pkg-config ca-certificates openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev libtiff-dev libheif-dev
  libpsl-dev publicsuffix libicu-dev
  libarchive-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libcurl4-openssl-dev
  libsnappy-dev zlib1g-dev libzstd-dev
  # Cluster mode (--cluster_nats): the NATS C client and, for the tests, the server.
  libnats-dev nats-server
  # tests/deploy/check_cluster_manifests.py reads the compose file and manifests.
  python3-yaml
  emscripten nodejs chromium chromium-driver python3-selenium
  systemd
)
# nodejs from NodeSource bundles npm; Debian's nodejs needs the npm package.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libfaiss-dev libopencv-features2d-dev libopencv-calib3d-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Independent Parquet implementations (hyparquet, hyparquet-writer) for the
# interoperability tests, exactly as tests/interop/package-lock.json pins
# them; reinstalled only when the lockfile changes.
interop="$(cd "$(dirname "$0")/.." && pwd)/tests/interop"
stamp="$interop/node_modules/.optout-lock.sha256"
want=$(sha256sum "$interop/package-lock.json" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "install-deps: tests/interop npm packages present"
else
  echo "install-deps: installing tests/interop npm packages (npm ci)"
  (cd "$interop" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
