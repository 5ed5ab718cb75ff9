#!/usr/bin/env bash
# Make a Docker Engine available for the full sandbox tier where none runs (no systemd here).
#
# usage: toolchain/docker/ensure-docker.sh
#
# 1. installs Debian's docker.io if dockerd is missing;
# 2. raises the inotify limits several kind clusters need (each node runs systemd, kubelet and
#    containerd, which each take inotify instances; the kernel default of 128 runs out at 2-3);
# 3. starts dockerd in the background (unless one already answers), its data under
#    ${LAB_DATA_DIR:-<repo>/var}/docker/data and its log in ${LAB_DATA_DIR:-<repo>/var}/docker;
# 4. checks that a --privileged container starts (kind's node containers are privileged). Where
#    it fails with "unable to apply caps" (the host's capability bounding set lacks
#    CAP_SYS_RESOURCE), it builds runc-capfilter (./runc-capfilter), registers it as Docker's
#    default runtime in /etc/docker/daemon.json, restarts dockerd and checks again.
#
# Idempotent: with Docker already running and working it only checks, in about a second.
# Environment: LAB_DATA_DIR (as the lab's settings), DOCKER_WAIT (seconds to wait for dockerd,
# default 60), K8S_LAB_CACHE (where the probe image's stamp lives).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA_DIR=${LAB_DATA_DIR:-$REPO/var}
DOCKER_DIR=$DATA_DIR/docker
DOCKER_WAIT=${DOCKER_WAIT:-60}
DAEMON_JSON=/etc/docker/daemon.json
WRAPPER=/usr/local/sbin/k8s-lab-runc
PROBE_IMAGE=k8s-lab/probe:busybox

log() { printf '[docker] %s\n' "$*"; }
die() { printf '[docker] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root: dockerd, sysctl and /etc/docker need it"

# The Docker CLI on PATH may be newer than Debian's daemon; that is fine (it negotiates the API
# version down), but when no CLI is on PATH use the one docker.io installs.
docker_cli() { command -v docker || echo /usr/bin/docker; }

# ---------------------------------------------------------------- 1. packages
install_packages() {
	local missing=() pkg
	# docker.io brings dockerd, containerd and runc; busybox-static is the probe image's content.
	for pkg in docker.io busybox-static; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
	done
	[[ ${#missing[@]} -eq 0 ]] && return
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------- 2. kernel limits
raise_sysctl() {
	local key=$1 want=$2 have
	have=$(sysctl -n "$key" 2>/dev/null || echo 0)
	if ((have < want)); then
		if sysctl -q -w "$key=$want" >/dev/null 2>&1; then
			log "raised $key from $have to $want"
		else
			log "WARNING: could not raise $key from $have to $want (several clusters may fail with 'too many open files')"
		fi
	fi
}

# ---------------------------------------------------------------- 3. dockerd
docker_answers() { timeout 10 "$(docker_cli)" info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

dockerd_pid() {
	local pid
	pid=$(cat /var/run/docker.pid 2>/dev/null || true)
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
	return 0
}

start_dockerd() {
	mkdir -p "$DOCKER_DIR/data"
	log "starting dockerd (data-root $DOCKER_DIR/data, log $DOCKER_DIR/dockerd.log)"
	# setsid + nohup: dockerd must outlive this script and the shell that ran it; it starts its
	# own containerd. data-root is a flag, not in daemon.json, so each LAB_DATA_DIR keeps its own.
	setsid nohup /usr/sbin/dockerd --data-root "$DOCKER_DIR/data" \
		>>"$DOCKER_DIR/dockerd.log" 2>&1 </dev/null &
	local t0=$SECONDS
	until docker_answers; do
		if ((SECONDS - t0 > DOCKER_WAIT)); then
			tail -n 20 "$DOCKER_DIR/dockerd.log" >&2 || true
			die "dockerd did not answer within ${DOCKER_WAIT}s (log above: $DOCKER_DIR/dockerd.log)"
		fi
		sleep 0.5
	done
	log "dockerd $("$(docker_cli)" info --format '{{.ServerVersion}}') answers after $((SECONDS - t0))s"
}

stop_dockerd() {
	local pid t0=$SECONDS
	pid=$(dockerd_pid)
	[[ -n $pid ]] || die "Docker answers but /var/run/docker.pid names no live dockerd: restart it yourself so it reads $DAEMON_JSON"
	log "restarting dockerd (pid $pid) so it reads $DAEMON_JSON"
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS - t0 < 60)) || die "dockerd (pid $pid) did not stop within 60s"
		sleep 0.5
	done
}

# ---------------------------------------------------------------- 4. privileged containers
# A one-file image holding Debian's static busybox: no registry is reachable, so even the probe
# is built locally.
ensure_probe_image() {
	"$(docker_cli)" image inspect "$PROBE_IMAGE" >/dev/null 2>&1 && return
	local tmp
	tmp=$(mktemp -d)
	mkdir -p "$tmp/bin"
	cp /bin/busybox "$tmp/bin/busybox"
	ln -s busybox "$tmp/bin/sh"
	ln -s busybox "$tmp/bin/true"
	tar -C "$tmp" -c . | "$(docker_cli)" import - "$PROBE_IMAGE" >/dev/null
	rm -rf "$tmp"
}

# Prints runc's complaint (empty when the privileged container ran).
privileged_probe() {
	"$(docker_cli)" run --rm --privileged --network none "$PROBE_IMAGE" /bin/true 2>&1 >/dev/null || true
}

install_wrapper() {
	command -v go >/dev/null || die "privileged containers need the runc wrapper, and building it needs Go"
	local runc_path tmp
	runc_path=$(command -v runc) || die "runc is not installed (it comes with docker.io)"
	[[ $runc_path != "$WRAPPER" ]] || die "$WRAPPER is on PATH as runc; cannot find the real runc"
	tmp=$(mktemp)
	log "building runc-capfilter (drops capabilities outside the host's bounding set) -> $WRAPPER"
	(cd "$HERE/runc-capfilter" && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
		go build -trimpath -ldflags "-s -w -X main.realRunc=$runc_path" -o "$tmp" .)
	install -m 0755 "$tmp" "$WRAPPER"
	rm -f "$tmp"
	# Merge, do not overwrite: an operator's other daemon.json settings stay.
	mkdir -p /etc/docker
	python3 - "$DAEMON_JSON" "$WRAPPER" <<'PY'
import json, os, sys
path, wrapper = sys.argv[1], sys.argv[2]
config = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as fh:
        config = json.load(fh)
config.setdefault("runtimes", {})["k8s-lab-runc"] = {"path": wrapper}
config["default-runtime"] = "k8s-lab-runc"
with open(path + ".tmp", "w") as fh:
    json.dump(config, fh, indent=2)
    fh.write("\n")
os.replace(path + ".tmp", path)
PY
	log "registered $WRAPPER as Docker's default runtime in $DAEMON_JSON"
}

# ---------------------------------------------------------------- main
t0=$SECONDS
install_packages
raise_sysctl fs.inotify.max_user_instances 512
raise_sysctl fs.inotify.max_user_watches 524288

if docker_answers; then
	log "Docker already answers ($("$(docker_cli)" info --format '{{.ServerVersion}}'), root $("$(docker_cli)" info --format '{{.DockerRootDir}}'))"
else
	start_dockerd
fi

ensure_probe_image
said=$(privileged_probe)
if [[ -n $said ]]; then
	if [[ $said != *"apply caps"* ]]; then
		die "a --privileged container does not start, and not for the known reason: $said"
	fi
	log "privileged containers fail here ($(grep -o 'unable to apply caps[^"]*' <<<"$said" | head -n1)); installing the runc wrapper"
	install_wrapper
	stop_dockerd
	start_dockerd
	said=$(privileged_probe)
	[[ -z $said ]] || die "a --privileged container still does not start with the wrapper: $said"
	log "privileged containers start with the wrapper"
else
	log "privileged containers start"
fi
log "ready in $((SECONDS - t0))s"
