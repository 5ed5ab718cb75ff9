#!/usr/bin/env bash
# The pinned Docker Compose CLI (v2, COMPOSE_VERSION in toolchain/versions.env), built from the Go
# module proxy into ${K8S_LAB_CACHE:-~/.cache/k8s-lab}/toolchain/bin/docker-compose and, as root,
# linked as Docker's CLI plugin (/usr/local/lib/docker/cli-plugins), so `docker compose` is it.
#
# Compose v2 because the web container needs `security_opt: systempaths=unconfined` (Debian's
# docker-compose 1.29 cannot express it: docs/deploy-compose.md).
#
# usage: toolchain/images/compose-cli.sh                  build (instant when current)
#        toolchain/images/compose-cli.sh --update-module  regenerate toolchain/images/compose/go.mod
#                                                        and go.sum after bumping COMPOSE_VERSION
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../versions.env
source "$IMAGES_DIR/../versions.env"
MOD_DIR=$IMAGES_DIR/compose
BIN_DIR=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}/toolchain/bin
STAMP=$BIN_DIR/.docker-compose.inputs
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
PACKAGE=github.com/docker/compose/v2/cmd

log() { printf '[compose] %s\n' "$*"; }
die() { printf '[compose] ERROR: %s\n' "$*" >&2; exit 1; }
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false
command -v go >/dev/null || die "go is not installed (need Go >= $GO_MIN_VERSION)"

if [[ ${1:-} == --update-module ]]; then
	# Keep the header and the excludes (compose's own), then let go get write the rest.
	sed -i '/^require/,$d' "$MOD_DIR/go.mod"
	rm -f "$MOD_DIR/go.sum"
	(cd "$MOD_DIR" && go get "$PACKAGE@$COMPOSE_VERSION")
	log "regenerated $MOD_DIR/go.mod and go.sum for compose $COMPOSE_VERSION; commit them with versions.env"
	exit 0
fi
grep -q "github.com/docker/compose/v2 $COMPOSE_VERSION " "$MOD_DIR/go.mod" ||
	die "$MOD_DIR/go.mod does not pin compose $COMPOSE_VERSION; run $0 --update-module"

hash=$(cat "$MOD_DIR/go.mod" "$MOD_DIR/go.sum" "$0" | sha256sum | cut -d' ' -f1)-$(go env GOVERSION)
if [[ -x $BIN_DIR/docker-compose && $(cat "$STAMP" 2>/dev/null) == "$hash" ]]; then
	log "docker-compose $COMPOSE_VERSION is current"
else
	mkdir -p "$BIN_DIR"
	t0=$SECONDS
	log "building docker-compose $COMPOSE_VERSION from the Go module proxy (a few minutes the first time) ..."
	(cd "$MOD_DIR" && go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
		-o "$BIN_DIR/docker-compose.new" "$PACKAGE")
	mv -f "$BIN_DIR/docker-compose.new" "$BIN_DIR/docker-compose"
	echo "$hash" >"$STAMP"
	log "  built in $((SECONDS - t0))s: $("$BIN_DIR/docker-compose" version)"
fi

if [[ $(id -u) -eq 0 ]]; then
	mkdir -p "$PLUGIN_DIR"
	ln -sf "$BIN_DIR/docker-compose" "$PLUGIN_DIR/docker-compose"
fi
