#!/usr/bin/env bash
# Build every image the full sandbox tier needs, locally, with no container registry:
#
#   k8s-lab/debian:bookworm                 Debian root file system (debootstrap), the base of
#                                           the images below that need packages
#   registry.k8s.io/kube-apiserver:v1.36.1  \
#   registry.k8s.io/kube-controller-manager  |  the control-plane images kubeadm asks for, each
#   registry.k8s.io/kube-scheduler           |  a tiny image around one Go-built binary from
#   registry.k8s.io/kube-proxy               |  toolchain/build.sh (kube-proxy also carries
#   registry.k8s.io/etcd:3.6.8-0             |  Debian's iptables and conntrack), and pause,
#   registry.k8s.io/coredns/coredns:v1.14.2  |  our own program
#   registry.k8s.io/pause:3.10.2            /
#   myrepo/my-app:1.0, myrepo/my-app:2.0    the course's sample app (images/my-app)
#   k8s-lab/toolbox:<TOOLBOX_VERSION>       the learner's shell pod (images/toolbox)
#   k8s-lab/kind-node:<k8s version>         the kind node image, every image above preloaded
#                                           into its containerd (namespace k8s.io)
#
# usage: toolchain/node-image/build.sh       (Docker must answer: toolchain/docker/ensure-docker.sh;
#                                             the binaries must exist: toolchain/build.sh full)
#
# Cached as every image of the lab is (toolchain/images/lib.sh, which also makes the Debian base):
# a second run takes seconds and changing one input rebuilds only what depends on it.
# Environment: K8S_LAB_CACHE (default ~/.cache/k8s-lab; binaries in toolchain/bin, work files in
# full-tier/), NODE_PRELOAD_COURSE_IMAGES=0 (leave my-app and toolbox out of the node image; the
# backend then has to `kind load` them), DOCKER (the docker CLI to use).
set -euo pipefail

NODE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLCHAIN_DIR=$(cd "$NODE_DIR/.." && pwd)
REPO=$(cd "$TOOLCHAIN_DIR/.." && pwd)
# shellcheck source=../versions.env
source "$TOOLCHAIN_DIR/versions.env"

CACHE_ROOT=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
BIN_DIR=$CACHE_ROOT/toolchain/bin
WORK=$CACHE_ROOT/full-tier
LOG_DIR=$WORK/logs
DOCKER=${DOCKER:-$(command -v docker || echo /usr/bin/docker)}
PRELOAD_COURSE=${NODE_PRELOAD_COURSE_IMAGES:-1}

# Names kubeadm v1.36.1 asks for (`kubeadm config images list`), checked against kubeadm below.
ETCD_TAG=${ETCD_VERSION#v}-0
IMG_STATIC=k8s-lab/static-base:1
IMG_APISERVER=registry.k8s.io/kube-apiserver:$KUBERNETES_VERSION
IMG_CONTROLLER=registry.k8s.io/kube-controller-manager:$KUBERNETES_VERSION
IMG_SCHEDULER=registry.k8s.io/kube-scheduler:$KUBERNETES_VERSION
IMG_PROXY=registry.k8s.io/kube-proxy:$KUBERNETES_VERSION
IMG_ETCD=registry.k8s.io/etcd:$ETCD_TAG
IMG_COREDNS=registry.k8s.io/coredns/coredns:$COREDNS_VERSION
IMG_PAUSE=registry.k8s.io/pause:$PAUSE_VERSION
IMG_TOOLBOX=k8s-lab/toolbox:$TOOLBOX_VERSION
IMG_NODE_BASE=k8s-lab/kind-node-base:$KUBERNETES_VERSION
IMG_NODE=k8s-lab/kind-node:$KUBERNETES_VERSION

START_SECONDS=$SECONDS
log() { printf '[images] %s\n' "$*"; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=../images/lib.sh
source "$TOOLCHAIN_DIR/images/lib.sh"

BUILD_CONTAINER=
cleanup() {
	if [[ -n $BUILD_CONTAINER ]]; then "$DOCKER" rm -f "$BUILD_CONTAINER" >/dev/null 2>&1 || true; fi
	remove_rootfs_tmp
}
trap cleanup EXIT

# ---------------------------------------------------------------- preconditions
[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap needs it)"
"$DOCKER" info >/dev/null 2>&1 || die "Docker does not answer; run toolchain/docker/ensure-docker.sh"
for b in kubeadm kubectl; do
	[[ -x $BIN_DIR/$b ]] || die "$BIN_DIR/$b is missing; run toolchain/build.sh full"
done
# Debian packages the build uses on this machine: debootstrap makes the root file systems;
# busybox-static and bash-static are copied into my-app (static binaries need no libraries).
ensure_debs debootstrap busybox-static bash-static
export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$WORK" "$LOG_DIR"

# kubeadm must agree with the names we build, or kubelet would try to pull.
want=$(printf '%s\n' "$IMG_APISERVER" "$IMG_CONTROLLER" "$IMG_SCHEDULER" "$IMG_PROXY" "$IMG_COREDNS" "$IMG_PAUSE" "$IMG_ETCD" | sort)
have=$("$BIN_DIR/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | sort)
[[ $want == "$have" ]] || die "kubeadm $KUBERNETES_VERSION asks for other images than versions.env pins:
$have"

# ---------------------------------------------------------------- helpers
# go_binary OUT PKG_DIR LDFLAGS: a static binary from one of our own Go programs.
go_binary() {
	(cd "$2" && go build -trimpath -ldflags "-s -w $3" -o "$1" .)
}

# ---------------------------------------------------------------- control-plane images
# The few files a static Go binary expects around it: users, a writable /tmp, CA certificates,
# and an nsswitch.conf so Go's resolver reads /etc/hosts first.
build_static_base() {
	local ctx rootfs
	ctx=$(fresh_context static-base)
	rootfs=$ctx/rootfs
	mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/tmp"
	chmod 1777 "$rootfs/tmp"
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
	printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
	printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
	cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
	cat >"$ctx/Dockerfile" <<-'EOF'
		FROM scratch
		COPY rootfs/ /
		ENV PATH=/usr/local/bin:/usr/bin:/bin
	EOF
	docker_build "$IMG_STATIC" "$ctx"
}

# static_image TAG NAME ENTRYPOINT_JSON BINARY...: FROM static-base, binaries in /usr/local/bin
# (kubeadm's static pods run them by name), plus an entrypoint where the workload relies on one.
static_image() {
	local tag=$1 name=$2 entrypoint=$3 ctx b
	shift 3
	ctx=$(fresh_context "$name")
	for b in "$@"; do place "$b" "$ctx/bin/$(basename "$b")"; done
	{
		echo "FROM $IMG_STATIC"
		echo "COPY bin/ /usr/local/bin/"
		[[ -n $entrypoint ]] && echo "ENTRYPOINT $entrypoint"
	} >"$ctx/Dockerfile"
	docker_build "$tag" "$ctx"
}

build_control_plane_images() {
	static_image "$IMG_APISERVER" kube-apiserver "" "$BIN_DIR/kube-apiserver"
	static_image "$IMG_CONTROLLER" kube-controller-manager "" "$BIN_DIR/kube-controller-manager"
	static_image "$IMG_SCHEDULER" kube-scheduler "" "$BIN_DIR/kube-scheduler"
	static_image "$IMG_ETCD" etcd "" "$BIN_DIR/etcd" "$BIN_DIR/etcdctl" "$BIN_DIR/etcdutl"

	# CoreDNS: kubeadm's Deployment gives only args (-conf ...), so the image's entrypoint runs
	# it, at /coredns as upstream. It runs as root with every capability dropped but
	# NET_BIND_SERVICE (kubeadm's securityContext), enough to bind port 53.
	local ctx
	ctx=$(fresh_context coredns)
	place "$BIN_DIR/coredns" "$ctx/coredns"
	printf 'FROM %s\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' "$IMG_STATIC" >"$ctx/Dockerfile"
	docker_build "$IMG_COREDNS" "$ctx"

	# pause: our own program (toolchain/node-image/pause), /pause as upstream.
	ctx=$(fresh_context pause)
	go_binary "$ctx/pause" "$NODE_DIR/pause" "-X main.version=$PAUSE_VERSION"
	printf 'FROM %s\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' "$IMG_STATIC" >"$ctx/Dockerfile"
	docker_build "$IMG_PAUSE" "$ctx"

	# kube-proxy programs the node's iptables, so it needs Debian's iptables (with the nft
	# backend, the one Docker and kind's entrypoint pick on this kind of host) and conntrack.
	ctx=$(fresh_context kube-proxy)
	place "$BIN_DIR/kube-proxy" "$ctx/kube-proxy"
	cat >"$ctx/Dockerfile" <<-EOF
		FROM $IMG_DEBIAN
		RUN apt-get update \\
		 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables nftables conntrack kmod \\
		 && apt-get clean && rm -rf /var/lib/apt/lists/*
		COPY kube-proxy /usr/local/bin/kube-proxy
	EOF
	docker_build "$IMG_PROXY" "$ctx"
}

# ---------------------------------------------------------------- course images
build_my_app() {
	local v ctx
	for v in $MY_APP_VERSIONS; do
		ctx=$(fresh_context "my-app-$v")
		mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp"
		chmod 1777 "$ctx/rootfs/tmp"
		go_binary "$ctx/rootfs/my-app" "$REPO/images/my-app" "-X main.version=$v"
		cp /bin/busybox "$ctx/rootfs/bin/busybox"
		cp /bin/bash-static "$ctx/rootfs/bin/bash"
		printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ctx/rootfs/etc/passwd"
		printf 'root:x:0:\nnobody:x:65534:\n' >"$ctx/rootfs/etc/group"
		cp "$REPO/images/my-app/Dockerfile" "$ctx/Dockerfile"
		docker_build "myrepo/my-app:$v" "$ctx"
	done
}

build_toolbox() {
	local ctx
	ctx=$(fresh_context toolbox)
	from_debian "$REPO/images/toolbox/Dockerfile" "$ctx/Dockerfile"
	place "$BIN_DIR/kubectl" "$ctx/kubectl"
	cp "$REPO/images/toolbox/kubeconfig" "$ctx/kubeconfig"
	if [[ -f $REPO/images/toolbox/bashrc ]]; then
		cp "$REPO/images/toolbox/bashrc" "$ctx/bashrc"
	else
		log "WARNING: images/toolbox/bashrc is missing; the toolbox gets an empty lab hook"
		echo '# k8s-lab: images/toolbox/bashrc was missing when this image was built' >"$ctx/bashrc"
	fi
	docker_build "$IMG_TOOLBOX" "$ctx"
}

# ---------------------------------------------------------------- the node image
kind_module_dir() {
	local dir
	dir=$(cd "$WORK" && go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" 2>/dev/null |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[[ -d $dir/images/base/files ]] || die "could not get sigs.k8s.io/kind@$KIND_VERSION from the Go module proxy (or its cache)"
	echo "$dir"
}

build_node_base() {
	local ctx kind files
	ctx=$(fresh_context kind-node)
	kind=$(kind_module_dir)/images/base/files
	# kind's own pieces of the node contract, copied from the module into the build context only.
	mkdir -p "$ctx/kind/bin" "$ctx/kind/systemd/kubelet.service.d" "$ctx/kind/default" "$ctx/kind/sysctl.d"
	cp "$kind/usr/local/bin/entrypoint" "$ctx/kind/entrypoint"
	cp "$kind"/kind/bin/*.sh "$ctx/kind/bin/"
	cp "$kind/etc/systemd/system/kubelet.service" "$kind/etc/systemd/system/kubelet.slice" \
		"$kind/etc/systemd/system/undo-mount-hacks.service" "$ctx/kind/systemd/"
	cp "$kind"/etc/systemd/system/kubelet.service.d/*.conf "$ctx/kind/systemd/kubelet.service.d/"
	cp "$kind/etc/default/kubelet" "$ctx/kind/default/kubelet"
	cp "$kind"/etc/sysctl.d/*.conf "$ctx/kind/sysctl.d/"
	chmod -R u+w "$ctx/kind" # the module cache is read-only
	cp -r "$NODE_DIR/files" "$ctx/files"
	from_debian "$NODE_DIR/Dockerfile" "$ctx/Dockerfile"
	for b in kubelet kubeadm kubectl; do place "$BIN_DIR/$b" "$ctx/bin/$b"; done
	echo "$KUBERNETES_VERSION" >"$ctx/version"
	docker_build "$IMG_NODE_BASE" "$ctx" "kind=$KIND_VERSION"
}

# Preload: run the base image with containerd alone (no systemd), import every image into its
# k8s.io namespace as content (--no-unpack: containerd unpacks on first use inside the node,
# where overlayfs works), stop containerd, commit with kind's entrypoint restored.
build_node() {
	local images=("$IMG_APISERVER" "$IMG_CONTROLLER" "$IMG_SCHEDULER" "$IMG_PROXY" "$IMG_ETCD" "$IMG_COREDNS" "$IMG_PAUSE")
	if [[ $PRELOAD_COURSE == 1 ]]; then
		local v
		for v in $MY_APP_VERSIONS; do images+=("myrepo/my-app:$v"); done
		images+=("$IMG_TOOLBOX")
	fi
	local ids="" i hash
	for i in "$IMG_NODE_BASE" "${images[@]}"; do ids+="$i=$(image_id "$i")"$'\n'; done
	hash=$(printf 'node preload=%s\n%s' "$PRELOAD_COURSE" "$ids" | sha256sum | cut -d' ' -f1)
	if is_current "$IMG_NODE" "$hash"; then
		SKIPPED+=("$IMG_NODE")
		return
	fi
	local t0=$SECONDS
	log "building $IMG_NODE (preloading ${#images[@]} images into its containerd) ..."
	BUILD_CONTAINER=k8s-lab-node-build-$$
	# /run and /tmp as tmpfs so containerd's sockets and state are not committed; --init so the
	# stopped containerd is reaped (sleep as PID 1 would leave it a zombie).
	"$DOCKER" run -d --init --name "$BUILD_CONTAINER" --entrypoint sleep --tmpfs /run --tmpfs /tmp \
		"$IMG_NODE_BASE" infinity >/dev/null
	"$DOCKER" exec "$BUILD_CONTAINER" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
	"$DOCKER" exec "$BUILD_CONTAINER" bash -c \
		'for i in $(seq 1 50); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; cat /tmp/containerd.log; exit 1' ||
		die "containerd did not start in the build container"
	for i in "${images[@]}"; do
		# (containerd 1.6's ctr cannot label on import; kind's kubelet configuration turns image
		# garbage collection off, imageGCHighThresholdPercent: 100, so nothing removes them.)
		"$DOCKER" save "$i" | "$DOCKER" exec -i "$BUILD_CONTAINER" \
			ctr --namespace=k8s.io images import --no-unpack - >/dev/null ||
			die "could not import $i into the node image"
	done
	log "  preloaded: $("$DOCKER" exec "$BUILD_CONTAINER" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' | tr '\n' ' ')"
	"$DOCKER" exec "$BUILD_CONTAINER" bash -c 'pkill containerd; for i in $(seq 1 50); do pgrep -x containerd >/dev/null || exit 0; sleep 0.2; done; exit 1' ||
		die "containerd did not stop in the build container"
	"$DOCKER" commit \
		--change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
		--change 'CMD []' \
		--change "LABEL k8s-lab.inputs=$hash" \
		"$BUILD_CONTAINER" "$IMG_NODE" >/dev/null
	"$DOCKER" rm -f "$BUILD_CONTAINER" >/dev/null
	BUILD_CONTAINER=
	log "  $IMG_NODE built in $((SECONDS - t0))s"
	BUILT+=("$IMG_NODE $((SECONDS - t0))s")
}

# ---------------------------------------------------------------- main
# One build at a time: two would race on the same tags and contexts.
images_lock

build_debian
build_static_base
build_my_app
build_toolbox
build_control_plane_images
build_node_base
build_node

# Earlier builds of our images, now untagged, only take disk space (each node image ~1.3 GB).
"$DOCKER" image prune -f --filter label=k8s-lab.inputs >/dev/null || true

log "summary:"
for b in "${BUILT[@]}"; do printf '  built    %s\n' "$b"; done
for s in "${SKIPPED[@]}"; do printf '  current  %s\n' "$s"; done
printf '  %-44s %s\n' IMAGE SIZE
for i in "$IMG_NODE" "$IMG_TOOLBOX" "$IMG_APISERVER" "$IMG_PROXY" "myrepo/my-app:${MY_APP_VERSIONS%% *}"; do
	printf '  %-44s %s\n' "$i" "$("$DOCKER" image inspect -f '{{.Size}}' "$i" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
done
log "total time $((SECONDS - START_SECONDS))s"
