#!/usr/bin/env bash
# Build the images docker-compose.yml runs, locally, with no container registry:
#
#   k8s-lab/debian:bookworm     the Debian root file system (debootstrap), shared with the full
#                               tier's images (toolchain/images/lib.sh)
#   k8s-lab/lab:latest          the lab: Python and its virtual environment, the pinned toolchain,
#                               bubblewrap (the repository's Dockerfile)
#   k8s-lab/redis:7             Debian's redis-server (toolchain/images/redis)
#   k8s-lab/postgres:15         Debian's PostgreSQL (toolchain/images/postgres)
# and var/images/seccomp-jail.json, the web container's seccomp profile (toolchain/images/seccomp).
#
# usage: toolchain/images/build.sh     (root: debootstrap. Docker must answer:
#                                       toolchain/docker/ensure-docker.sh; the toolchain must be
#                                       built: toolchain/build.sh api, and node_modules: make npm)
#
# Cached like every image of the lab (the k8s-lab.inputs label, toolchain/images/lib.sh): a
# second run only stages and hashes the inputs, in seconds; a change to the code rebuilds only
# the lab image's last layers. Environment: K8S_LAB_CACHE (default ~/.cache/k8s-lab: binaries in
# toolchain/bin, wheels and build contexts in images/), DOCKER (the docker CLI to use).
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN_DIR=$(cd "$IMAGES_DIR/.." && pwd)
REPO=$(cd "$TOOLCHAIN_DIR/.." && pwd)
# shellcheck source=../versions.env
source "$TOOLCHAIN_DIR/versions.env"

CACHE_ROOT=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
BIN_DIR=$CACHE_ROOT/toolchain/bin
WORK=$CACHE_ROOT/images
LOG_DIR=$WORK/logs
DOCKER=${DOCKER:-$(command -v docker || echo /usr/bin/docker)}
# Debian's own Python fetches the wheels: pip evaluates a requirement's markers (e.g. redis's
# `python_full_version < "3.11.3"`) for the Python that runs it, and the image's is this one.
PYTHON=/usr/bin/python3
PROFILE=$REPO/var/images/seccomp-jail.json

IMG_LAB=k8s-lab/lab:latest
IMG_REDIS=k8s-lab/redis:7
IMG_POSTGRES=k8s-lab/postgres:15
# The api tier's programs (sandboxes/backends/kwok.py REQUIRED_BINARIES); kind joins them when
# the full tier's toolchain is built, so the same image serves both tiers.
API_BINARIES=(kwokctl kwok kube-apiserver kube-controller-manager kube-scheduler etcd etcdctl etcdutl kubectl)
OPTIONAL_BINARIES=(kind)

START_SECONDS=$SECONDS
log() { printf '[images] %s\n' "$*"; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=lib.sh
source "$IMAGES_DIR/lib.sh"
trap remove_rootfs_tmp EXIT

# ---------------------------------------------------------------- preconditions
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap needs it)"
"$DOCKER" info >/dev/null 2>&1 || die "Docker does not answer; run toolchain/docker/ensure-docker.sh"
for b in "${API_BINARIES[@]}"; do
	[[ -x $BIN_DIR/$b ]] || die "$BIN_DIR/$b is missing; run toolchain/build.sh api (make toolchain)"
done
ensure_debs python3-pip git
[[ $(grep -o '^VERSION_CODENAME=.*' /etc/os-release) == "VERSION_CODENAME=$DEBIAN_SUITE" ]] ||
	die "the wheels are fetched by this machine's Debian Python, which must be the image's: run on Debian $DEBIAN_SUITE"
[[ -d $REPO/node_modules/@xterm ]] || die "node_modules/@xterm is missing; run make npm"
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$WORK" "$LOG_DIR"

# ---------------------------------------------------------------- the web's seccomp profile
build_seccomp_profile() {
	local hash stamp=$WORK/seccomp-jail.inputs
	hash=$(cat "$IMAGES_DIR"/seccomp/{go.mod,go.sum,main.go} | sha256sum | cut -d' ' -f1)
	if [[ -f $PROFILE && $(cat "$stamp" 2>/dev/null) == "$hash" ]]; then
		SKIPPED+=("$PROFILE")
		return
	fi
	mkdir -p "$(dirname "$PROFILE")"
	timed "$PROFILE" "$LOG_DIR/seccomp-jail.log" \
		env -C "$IMAGES_DIR/seccomp" go run -tags seccomp . -o "$PROFILE"
	echo "$hash" >"$stamp"
}

# ---------------------------------------------------------------- the lab image's inputs
# Wheels for requirements.txt, fetched once per version of the file by this machine's pip (which
# knows its index, proxy and certificates; the build container knows none of them).
# Sets WHEELS to their directory.
fetch_wheels() {
	WHEELS=$WORK/wheels/$( (cat "$REPO/requirements.txt" && "$PYTHON" --version) | sha256sum | cut -c1-16)
	if [[ -f $WHEELS/.complete ]]; then
		SKIPPED+=("wheels for requirements.txt")
		return
	fi
	rm -rf "$WHEELS"
	mkdir -p "$WHEELS"
	timed "wheels for requirements.txt" "$LOG_DIR/wheels.log" \
		"$PYTHON" -m pip wheel --disable-pip-version-check --no-cache-dir -q -r "$REPO/requirements.txt" -w "$WHEELS"
	touch "$WHEELS/.complete"
}

# The repository's files as git knows them (tracked, and new files not ignored), or the whole
# tree where this is no git checkout; either way without what .dockerignore names.
app_files() {
	local skip
	skip=$(grep -v -e '^#' -e '^[[:space:]]*$' "$REPO/.dockerignore" | sed 's|/*$||' | paste -sd'|')
	if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$REPO" ls-files -z --cached --others --exclude-standard
	else
		(cd "$REPO" && find . -type f -printf '%P\0')
	fi | grep -zvE "^($skip)(/|\$)"
}

stage_lab_context() {
	local ctx=$1 wheels=$2 b
	mkdir -p "$ctx/app" "$ctx/bin" "$ctx/wheels"
	# Files git lists but that are deleted in the work tree are skipped (tar would fail on them).
	(cd "$REPO" && app_files | while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
		tar --null -T - -c) | tar -x -C "$ctx/app"
	cp -a "$REPO/node_modules/@xterm" "$ctx/xterm"
	for b in "$wheels"/*.whl; do link_file "$b" "$ctx/wheels/$(basename "$b")"; done
	for b in "${API_BINARIES[@]}"; do place "$BIN_DIR/$b" "$ctx/bin/$b"; done
	for b in "${OPTIONAL_BINARIES[@]}"; do
		if [[ -x $BIN_DIR/$b ]]; then place "$BIN_DIR/$b" "$ctx/bin/$b"; fi
	done
	cp "$REPO/Dockerfile" "$ctx/Dockerfile"
}

build_lab() {
	local ctx
	fetch_wheels
	ctx=$(fresh_context lab)
	stage_lab_context "$ctx" "$WHEELS"
	docker_build "$IMG_LAB" "$ctx"
}

# ---------------------------------------------------------------- Redis and PostgreSQL
build_service_image() {
	local tag=$1 name=$2 ctx
	ctx=$(fresh_context "$name")
	cp -a "$IMAGES_DIR/$name/." "$ctx/"
	from_debian "$IMAGES_DIR/$name/Dockerfile" "$ctx/Dockerfile"
	docker_build "$tag" "$ctx"
}

# ---------------------------------------------------------------- main
images_lock
build_debian
build_seccomp_profile
build_service_image "$IMG_REDIS" redis
build_service_image "$IMG_POSTGRES" postgres
build_lab

# Earlier builds of our images, now untagged, only take disk space.
"$DOCKER" image prune -f --filter label=k8s-lab.inputs >/dev/null || true

log "summary:"
for b in "${BUILT[@]}"; do printf '  built    %s\n' "$b"; done
for s in "${SKIPPED[@]}"; do printf '  current  %s\n' "$s"; done
for i in "$IMG_LAB" "$IMG_REDIS" "$IMG_POSTGRES"; do
	printf '  %-24s %s\n' "$i" "$("$DOCKER" image inspect -f '{{.Size}}' "$i" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
done
log "total time $((SECONDS - START_SECONDS))s"
