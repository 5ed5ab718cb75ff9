#!/usr/bin/env bash
# Everything the full sandbox tier (kind clusters with real pods) needs on this machine, offline:
#
#   1. Docker Engine running, with privileged containers working  (toolchain/docker/ensure-docker.sh)
#   2. the Kubernetes binaries, kind, kube-proxy and CoreDNS        (toolchain/build.sh full)
#   3. every image, built locally, the kind node image last         (toolchain/node-image/build.sh)
#
# usage: sudo toolchain/full-tier.sh        (root: dockerd, sysctl, debootstrap)
#
# Idempotent: each step keeps its own cache and skips what is current, so a second run takes
# seconds. Environment: LAB_DATA_DIR (Docker's data goes under it, as the lab's), K8S_LAB_CACHE,
# K8S_LAB_OFFLINE=1 (build binaries from the Go module cache only), NODE_PRELOAD_COURSE_IMAGES.
set -euo pipefail

TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START_SECONDS=$SECONDS
step() { printf '\n[full-tier] ==== %s\n' "$*"; }

[[ $(id -u) -eq 0 ]] || { echo "[full-tier] ERROR: run as root (dockerd, sysctl and debootstrap need it)" >&2; exit 1; }

step "1/3 Docker Engine"
t0=$SECONDS
"$TOOLCHAIN_DIR/docker/ensure-docker.sh"
t_docker=$((SECONDS - t0))

step "2/3 Kubernetes binaries (toolchain/build.sh full)"
t0=$SECONDS
bash "$TOOLCHAIN_DIR/build.sh" full
t_bins=$((SECONDS - t0))

step "3/3 images (toolchain/node-image/build.sh)"
t0=$SECONDS
"$TOOLCHAIN_DIR/node-image/build.sh"
t_images=$((SECONDS - t0))

step "done: docker ${t_docker}s, binaries ${t_bins}s, images ${t_images}s; total $((SECONDS - START_SECONDS))s"
