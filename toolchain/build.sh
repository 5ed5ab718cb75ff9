#!/usr/bin/env bash
# Build the offline Kubernetes toolchain from the Go module proxy (no release downloads, no
# container registry) into a cache outside the clone:
#   ${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}/toolchain/bin
#
# usage: toolchain/build.sh [api|full]...        build a group (default: full = everything)
#        toolchain/build.sh --update-modules     regenerate toolchain/kube/*/go.mod + go.sum
#                                                from versions.env (after bumping a pin)
#   api  = kube-apiserver kube-controller-manager kube-scheduler kubectl
#          etcd etcdctl etcdutl kwok kwokctl
#   full = api + kubelet kubeadm kube-proxy kind coredns
#          (kube-proxy and coredns go into the kind node image's control-plane images)
#
# Idempotent: every unit (a few binaries built together) keeps a stamp holding the hash of its
# inputs (the pins it uses from versions.env, this script, its wrapper module, the Go version).
# An unchanged pin is an instant no-op; a changed pin rebuilds only the units it feeds.
# Environment: K8S_LAB_CACHE (cache root), K8S_LAB_OFFLINE=1 (skip the proxy probe and build
# from the module cache only), plus Go's own GOPROXY / GOMODCACHE / GOCACHE.
set -euo pipefail

TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$TOOLCHAIN_DIR/versions.env"

CACHE_ROOT=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}/toolchain
BIN_DIR=$CACHE_ROOT/bin
STAMP_DIR=$CACHE_ROOT/stamps
KUBE_MOD_DIR=$TOOLCHAIN_DIR/kube/kubernetes
ETCD_MOD_DIR=$TOOLCHAIN_DIR/kube/etcd

START_SECONDS=$SECONDS
log() { printf '[toolchain] %s\n' "$*"; }
die() { printf '[toolchain] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- arguments
UPDATE_MODULES=0
GROUPS_WANTED=()
for arg in "$@"; do
	case $arg in
		api | full) GROUPS_WANTED+=("$arg") ;;
		--update-modules) UPDATE_MODULES=1 ;;
		-h | --help) sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
		*) die "unknown argument '$arg' (expected: api, full, --update-modules)" ;;
	esac
done
[[ ${#GROUPS_WANTED[@]} -gt 0 ]] || GROUPS_WANTED=(full)

# Units in build order; each group is a list of units.
UNITS_API=(etcd kube-control-plane kwok)
UNITS_FULL=("${UNITS_API[@]}" kube-node kind coredns)
declare -A UNIT_BINS=(
	[etcd]="etcd etcdctl etcdutl"
	[kube-control-plane]="kube-apiserver kube-controller-manager kube-scheduler kubectl"
	[kwok]="kwok kwokctl"
	[kube-node]="kubelet kubeadm kube-proxy"
	[kind]="kind"
	[coredns]="coredns"
)

# ---------------------------------------------------------------- Go itself
# Pin Go's behaviour instead of inheriting it: no silent toolchain download, no go.work from a
# parent directory, static binaries, no VCS stamping of this repo into the binaries.
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false

command -v go >/dev/null 2>&1 ||
	die "go is not installed (need Go >= $GO_MIN_VERSION on PATH)"
GO_VERSION=$(go env GOVERSION 2>/dev/null) || die "'go env GOVERSION' failed; is go working?"
GO_VERSION_NUM=${GO_VERSION#go}
GO_VERSION_NUM=${GO_VERSION_NUM%%[!0-9.]*} # go1.27rc1 -> 1.27
if [[ $(printf '%s\n%s\n' "$GO_MIN_VERSION" "$GO_VERSION_NUM" | sort -V | head -n1) != "$GO_MIN_VERSION" ]]; then
	die "go $GO_VERSION_NUM is too old: need Go >= $GO_MIN_VERSION (kwok $KWOK_VERSION and kubernetes $KUBERNETES_VERSION require it)"
fi

# ---------------------------------------------------------------- version helpers
K8S_MINOR=${KUBERNETES_VERSION#v1.}
K8S_MINOR=${K8S_MINOR%%.*}                 # v1.36.1 -> 36
STAGING_VERSION=v0.${KUBERNETES_VERSION#v1.} # v1.36.1 -> v0.36.1

probe_proxy() {
	if [[ ${K8S_LAB_OFFLINE:-0} == 1 ]]; then
		log "K8S_LAB_OFFLINE=1: not probing the module proxy; building from the module cache only"
		export GOPROXY=off
		return
	fi
	local proxy
	proxy=$(go env GOPROXY)
	# `go list -m -versions` always asks the proxy (lists are never served from the cache), so
	# it fails fast and clearly instead of deep inside a 10-minute build.
	if ! (cd "$CACHE_ROOT" && timeout 30 go list -m -versions "$GOPROXY_PROBE_MODULE" >/dev/null 2>&1); then
		die "cannot reach the Go module proxy ($proxy); check the network or GOPROXY (K8S_LAB_OFFLINE=1 builds from the module cache alone)"
	fi
}

# ---------------------------------------------------------------- --update-modules
# The wrapper modules are committed (go.sum included) so a build is reproducible and
# checksum-verified; this regenerates them from versions.env after a pin bump.
update_modules() {
	mkdir -p "$CACHE_ROOT"
	probe_proxy
	local k8s_gomod
	log "reading the staging module list from k8s.io/kubernetes@$KUBERNETES_VERSION's go.mod"
	k8s_gomod=$(cd "$CACHE_ROOT" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
	[[ -f $k8s_gomod ]] || die "could not download k8s.io/kubernetes@$KUBERNETES_VERSION"
	# Upstream maps every staging module to ./staging/src/k8s.io/<name>; we map each to the
	# published module at the matching v0.Y.Z instead.
	local staging
	staging=$(sed -n '/^replace (/,/^)/p' "$k8s_gomod" | awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }')
	[[ -n $staging ]] || die "found no staging replace directives in $k8s_gomod"
	{
		echo '// Wrapper module: builds the Kubernetes commands from the published k8s.io/kubernetes'
		echo '// module. Generated by toolchain/build.sh --update-modules from toolchain/versions.env;'
		echo '// do not edit by hand.'
		echo 'module k8s-lab/toolchain/kube/kubernetes'
		echo
		echo 'go 1.26.0'
		echo
		echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
		echo
		echo '// k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with'
		echo '// ./staging paths, which a dependency cannot do; point each at its published version.'
		echo 'replace ('
		local m
		for m in $staging; do printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VERSION"; done
		echo ')'
		echo
		echo 'tool ('
		for m in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kubeadm kube-proxy; do
			printf '\tk8s.io/kubernetes/cmd/%s\n' "$m"
		done
		echo ')'
	} >"$KUBE_MOD_DIR/go.mod"
	rm -f "$KUBE_MOD_DIR/go.sum"
	log "go mod tidy in toolchain/kube/kubernetes ($(wc -w <<<"$staging") staging modules at $STAGING_VERSION)"
	(cd "$KUBE_MOD_DIR" && go mod tidy)

	# etcd's own go.mod files carry replace directives, so `go install go.etcd.io/...@v` is
	# refused; as dependencies of this module their main packages build fine.
	{
		echo '// Wrapper module: builds etcd, etcdctl and etcdutl from their published modules.'
		echo '// Generated by toolchain/build.sh --update-modules from toolchain/versions.env;'
		echo '// do not edit by hand.'
		echo 'module k8s-lab/toolchain/kube/etcd'
		echo
		echo 'go 1.24.0'
		echo
		echo 'require ('
		for m in server etcdctl etcdutl; do printf '\tgo.etcd.io/etcd/%s/v3 %s\n' "$m" "$ETCD_VERSION"; done
		echo ')'
		echo
		echo 'tool ('
		for m in server etcdctl etcdutl; do printf '\tgo.etcd.io/etcd/%s/v3\n' "$m"; done
		echo ')'
	} >"$ETCD_MOD_DIR/go.mod"
	rm -f "$ETCD_MOD_DIR/go.sum"
	log "go mod tidy in toolchain/kube/etcd (etcd $ETCD_VERSION)"
	(cd "$ETCD_MOD_DIR" && go mod tidy)
	log "done: commit toolchain/versions.env and toolchain/kube/*/go.{mod,sum} together"
}

# The committed go.mod must say what versions.env says, or a pin bump would silently build the
# old version.
check_modules() {
	local have
	have=$(awk '{ sub(/^require[[:space:]]+/, "") } $1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$KUBE_MOD_DIR/go.mod")
	[[ $have == "$KUBERNETES_VERSION" ]] ||
		die "toolchain/kube/kubernetes/go.mod requires k8s.io/kubernetes ${have:-nothing} but versions.env pins $KUBERNETES_VERSION; run: toolchain/build.sh --update-modules"
	if awk '$2 == "=>" && $3 ~ /^k8s\.io\// && $4 != v { bad = 1 } END { exit !bad }' v="$STAGING_VERSION" "$KUBE_MOD_DIR/go.mod"; then
		die "toolchain/kube/kubernetes/go.mod replaces staging modules with a version other than $STAGING_VERSION; run: toolchain/build.sh --update-modules"
	fi
	have=$(awk '{ sub(/^require[[:space:]]+/, "") } $1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ { print $2 }' "$ETCD_MOD_DIR/go.mod")
	[[ $have == "$ETCD_VERSION" ]] ||
		die "toolchain/kube/etcd/go.mod requires etcd ${have:-nothing} but versions.env pins $ETCD_VERSION; run: toolchain/build.sh --update-modules"
}

# ---------------------------------------------------------------- stamps
# Hash of everything a unit's output depends on. Only the pins a unit uses go in, so bumping
# KIND_VERSION does not relink kube-apiserver.
unit_hash() {
	local unit=$1
	{
		echo "unit=$unit go=$GO_VERSION"
		sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
		case $unit in
			etcd) echo "$ETCD_VERSION"; cat "$ETCD_MOD_DIR/go.mod" "$ETCD_MOD_DIR/go.sum" ;;
			kube-*) echo "$KUBERNETES_VERSION"; cat "$KUBE_MOD_DIR/go.mod" "$KUBE_MOD_DIR/go.sum" ;;
			kwok) echo "$KWOK_VERSION $KUBERNETES_VERSION" ;;
			kind) echo "$KIND_VERSION" ;;
			coredns) echo "$COREDNS_VERSION" ;;
		esac
	} | sha256sum | cut -d' ' -f1
}

unit_is_current() {
	local unit=$1 b
	[[ -f $STAMP_DIR/$unit.sha256 && $(<"$STAMP_DIR/$unit.sha256") == "$(unit_hash "$unit")" ]] || return 1
	for b in ${UNIT_BINS[$unit]}; do [[ -x $BIN_DIR/$b ]] || return 1; done
}

# ---------------------------------------------------------------- building
BUILD_TMP=
HEARTBEAT_PID=
cleanup() {
	if [[ -n $HEARTBEAT_PID ]]; then kill "$HEARTBEAT_PID" 2>/dev/null || true; fi
	if [[ -n $BUILD_TMP ]]; then rm -rf "$BUILD_TMP"; fi
}
trap cleanup EXIT

# run_step LABEL COMMAND...: a progress line, a heartbeat every 30 s so a 5-minute link does not
# look hung, and the elapsed time at the end.
run_step() {
	local label=$1 t0=$SECONDS
	shift
	log "building $label ..."
	(
		# sleep in the background and wait for it, so the TERM sent by run_step ends the sleep
		# too instead of leaving it behind for up to 30 s.
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		while :; do
			sleep 30 &
			s=$!
			wait "$s"
			log "  ... still building $label ($((SECONDS - t0))s)"
		done
	) &
	HEARTBEAT_PID=$!
	if ! "$@"; then
		kill "$HEARTBEAT_PID" 2>/dev/null || true
		HEARTBEAT_PID=
		die "building $label failed (see the go output above)"
	fi
	kill "$HEARTBEAT_PID" 2>/dev/null || true
	wait "$HEARTBEAT_PID" 2>/dev/null || true
	HEARTBEAT_PID=
	log "  $label done in $((SECONDS - t0))s"
}

# -p 2 caps parallel compile/link jobs (a kube-apiserver link alone takes ~1-2 GB); -s -w
# drop symbol tables like the upstream release build does.
GO_BUILD_FLAGS=(-p 2 -trimpath)

kube_ldflags() {
	# The same variables kubernetes' hack/lib/version.sh stamps, in both places it stamps them.
	# The commit is not known from a module download, so it stays empty; "archive" is the tree
	# state upstream uses for builds from a source archive. buildDate is fixed for reproducibility.
	local pkg flags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION"
		flags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
		flags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=archive"
		flags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	echo "$flags"
}

build_unit() {
	local unit=$1 out=$2 b
	case $unit in
		kube-control-plane | kube-node)
			# selinux,notest as upstream; grpcnotrace is what upstream adds for release builds.
			for b in ${UNIT_BINS[$unit]}; do
				run_step "$b $KUBERNETES_VERSION" \
					env -C "$KUBE_MOD_DIR" go build "${GO_BUILD_FLAGS[@]}" -tags selinux,notest,grpcnotrace \
					-ldflags "$(kube_ldflags)" -o "$out/$b" "k8s.io/kubernetes/cmd/$b"
			done
			;;
		etcd)
			# Version comes from go.etcd.io/etcd/api/v3/version (already the pinned release);
			# only the git SHA, unknown here, is stamped so --version does not say "use ./build".
			local ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=go-module-$ETCD_VERSION"
			run_step "etcd $ETCD_VERSION" env -C "$ETCD_MOD_DIR" go build "${GO_BUILD_FLAGS[@]}" \
				-ldflags "$ldflags" -o "$out/etcd" go.etcd.io/etcd/server/v3
			run_step "etcdctl $ETCD_VERSION" env -C "$ETCD_MOD_DIR" go build "${GO_BUILD_FLAGS[@]}" \
				-ldflags "$ldflags" -o "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3
			run_step "etcdutl $ETCD_VERSION" env -C "$ETCD_MOD_DIR" go build "${GO_BUILD_FLAGS[@]}" \
				-ldflags "$ldflags" -o "$out/etcdutl" go.etcd.io/etcd/etcdutl/v3
			;;
		kwok)
			# consts.Version is already the release's; stamping KubeVersion makes kwokctl's
			# default Kubernetes version ours instead of its own.
			run_step "kwok + kwokctl $KWOK_VERSION" env -C "$out" GOBIN="$out" go install "${GO_BUILD_FLAGS[@]}" \
				-ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}" \
				"sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
			;;
		kind)
			run_step "kind $KIND_VERSION" env -C "$out" GOBIN="$out" go install "${GO_BUILD_FLAGS[@]}" \
				-ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
			;;
		coredns)
			# The cluster DNS kubeadm deploys; its go.mod has no replace directives, so a plain
			# go install works. The commit is unknown from a module download, like etcd's.
			run_step "coredns $COREDNS_VERSION" env -C "$out" GOBIN="$out" go install "${GO_BUILD_FLAGS[@]}" \
				-ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=go-module-$COREDNS_VERSION" \
				"github.com/coredns/coredns@$COREDNS_VERSION"
			;;
	esac
}

# version_of BINARY PATH: the binary's own account of its version, one line.
version_of() {
	local b=$1 p=$2
	case $b in
		kubectl) "$p" version --client 2>&1 | sed -n 's/^Client Version: //p' ;;
		kubeadm) "$p" version -o short 2>&1 ;;
		kube-*|kubelet) "$p" --version 2>&1 | sed -n 's/^Kubernetes //p' ;;
		etcd) "$p" --version 2>&1 | sed -n 's/^etcd Version: /v/p' ;;
		etcdctl | etcdutl) "$p" version 2>&1 | sed -n "s/^$b version: /v/p" ;;
		kwok | kwokctl) "$p" --version 2>&1 | awk '{ print $3 }' ;;
		kind) "$p" version 2>&1 | awk '{ print $2 }' ;;
		coredns) "$p" -version 2>&1 | sed -n 's/^CoreDNS-/v/p' ;;
	esac | head -n1
}

pinned_version_of() {
	case $1 in
		etcd*) echo "$ETCD_VERSION" ;;
		kwok*) echo "$KWOK_VERSION" ;;
		kind) echo "$KIND_VERSION" ;;
		coredns) echo "$COREDNS_VERSION" ;;
		*) echo "$KUBERNETES_VERSION" ;;
	esac
}

# Check every new binary reports the pinned version before it replaces anything in bin/, so a
# bad build never lands. Records the result for the summary table.
verify_unit() {
	local unit=$1 dir=$2 b got want
	for b in ${UNIT_BINS[$unit]}; do
		got=$(version_of "$b" "$dir/$b")
		want=$(pinned_version_of "$b")
		[[ $got == "$want" ]] || die "$b reports version '${got:-nothing}', expected $want"
		printf '%s %s\n' "$b" "$got" >"$STAMP_DIR/$b.version"
	done
}

install_unit() {
	local unit=$1 dir=$2 b
	# mv within one filesystem is an atomic rename: a running cluster keeps its old inode, a
	# new one sees the complete new binary, never half a file.
	for b in ${UNIT_BINS[$unit]}; do mv -f "$dir/$b" "$BIN_DIR/$b"; done
	unit_hash "$unit" >"$STAMP_DIR/$unit.sha256"
}

print_summary() {
	local unit b v size
	log "summary ($BIN_DIR):"
	printf '  %-24s %-10s %-10s %s\n' BINARY PINNED REPORTS SIZE
	for unit in "$@"; do
		for b in ${UNIT_BINS[$unit]}; do
			v=$(awk '{ print $2 }' "$STAMP_DIR/$b.version" 2>/dev/null || true)
			size=$(du -h "$BIN_DIR/$b" 2>/dev/null | cut -f1)
			printf '  %-24s %-10s %-10s %s\n' "$b" "$(pinned_version_of "$b")" "${v:-?}" "${size:-?}"
		done
	done
	log "bin dir: $(du -sh "$BIN_DIR" | cut -f1); total time $((SECONDS - START_SECONDS))s"
}

# ---------------------------------------------------------------- main
mkdir -p "$BIN_DIR" "$STAMP_DIR"
if [[ $UPDATE_MODULES == 1 ]]; then
	update_modules
	exit 0
fi
check_modules

# One build at a time per cache: two concurrent runs would race on the same bin/ and stamps.
exec 9>"$CACHE_ROOT/.lock"
flock -n 9 || { log "another build.sh holds $CACHE_ROOT/.lock; waiting for it ..."; flock 9; }

declare -A SEEN=()
UNITS=()
for g in "${GROUPS_WANTED[@]}"; do
	if [[ $g == api ]]; then list=("${UNITS_API[@]}"); else list=("${UNITS_FULL[@]}"); fi
	for u in "${list[@]}"; do
		[[ -n ${SEEN[$u]:-} ]] || { SEEN[$u]=1; UNITS+=("$u"); }
	done
done

TODO=()
for u in "${UNITS[@]}"; do unit_is_current "$u" || TODO+=("$u"); done
if [[ ${#TODO[@]} -eq 0 ]]; then
	log "up to date (${GROUPS_WANTED[*]}): nothing to build"
	print_summary "${UNITS[@]}"
	exit 0
fi

log "to build: ${TODO[*]} (go $GO_VERSION_NUM, into $BIN_DIR)"
probe_proxy
for u in "${TODO[@]}"; do
	BUILD_TMP=$(mktemp -d "$CACHE_ROOT/.build-$u.XXXXXX")
	build_unit "$u" "$BUILD_TMP"
	verify_unit "$u" "$BUILD_TMP"
	install_unit "$u" "$BUILD_TMP"
	rm -rf "$BUILD_TMP"
	BUILD_TMP=
done
print_summary "${UNITS[@]}"
