#!/usr/bin/env bash
# Development secrets for `make run`, one file per setting (read with the key-per-file provider),
# generated once. They start with "dev-": start-up refuses them outside Development.
set -euo pipefail
dir=${1:?usage: dev-secrets.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
for key in Secrets__JwtSigningKey Secrets__EncryptionKey; do
  [ -s "$dir/$key" ] && continue
  printf 'dev-%s' "$(head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_')" > "$dir/$key"
  chmod 600 "$dir/$key"
  echo "created development secret $dir/$key" >&2
done
