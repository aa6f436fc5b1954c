#!/usr/bin/env bash
# Issue 16: deploy/optoutd.service passes `systemd-analyze verify`, with the
# optoutd just built standing in for /usr/local/bin/optoutd (verify insists
# that ExecStart exists), and every flag of its ExecStart is one optoutd
# knows (optoutd --helpfull lists them).
#   verify_systemd_unit.sh SOURCE_DIR OPTOUTD
set -euo pipefail
source_dir=$1
optoutd=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/optoutd|$optoutd|" "$source_dir/deploy/optoutd.service" > "$tmp/optoutd.service"
systemd-analyze verify "$tmp/optoutd.service"
known=$({ "$optoutd" --helpfull 2>&1 || true; } | sed -n 's/^ *--\([a-z_]*\).*/\1/p')
for flag in $(sed -n 's/^ *--\([a-z_]*\)=.*/\1/p' "$source_dir/deploy/optoutd.service"); do
  grep -qx "$flag" <<<"$known" || { echo "unknown optoutd flag in the unit: --$flag"; exit 1; }
done
echo "deploy/optoutd.service: verified"
