#!/usr/bin/env bash
# Installs the Debian packages the lab needs, only those missing, so a second run is instant.
#   scripts/system-deps.sh run    what `make run` needs
#   scripts/system-deps.sh test   that plus what the tests need (a browser)
set -euo pipefail

want=(redis-server bubblewrap socat iproute2 procps ca-certificates)
if [[ "${1:-run}" == "test" ]]; then
  want+=(chromium fonts-dejavu-core)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "[setup] installing Debian packages: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "[setup] need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a system redis-server on install where systemd runs; the lab uses its own.
echo "[setup] Debian packages installed"
