#!/usr/bin/env bash
# End-to-end proof that kwokctl runs a real control plane from the toolchain built by
# toolchain/build.sh, with no downloads: create a cluster (binary runtime, 127.0.0.1 only),
# add a worker node, run a 3-replica Deployment to Running, check nothing listens beyond
# loopback, report timings and memory, delete the cluster.
#
# usage: toolchain/smoke-kwok.sh [--isolated-net]
#   --isolated-net  run everything in a fresh network namespace that has only loopback
#                   (needs root and `unshare`): any download attempt would fail the test.
# Environment: K8S_LAB_CACHE (as for build.sh), SMOKE_CLUSTER (cluster name, default
# k8s-lab-smoke), SMOKE_TIMEOUT (seconds per wait, default 90).
set -euo pipefail

TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$TOOLCHAIN_DIR/versions.env"

if [[ ${1:-} == --isolated-net ]]; then
	# Bring loopback up inside the new namespace; nothing else exists there.
	exec unshare --net -- bash -c 'ip link set lo up && exec "$0"' "${BASH_SOURCE[0]}"
elif [[ $# -gt 0 ]]; then
	echo "usage: $0 [--isolated-net]" >&2
	exit 2
fi

BIN_DIR=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}/toolchain/bin
CLUSTER=${SMOKE_CLUSTER:-k8s-lab-smoke}
TIMEOUT=${SMOKE_TIMEOUT:-90}

T0=$(date +%s%N)
log() { printf '[smoke %5.1fs] %s\n' "$(($(date +%s%N) - T0))e-9" "$*"; }
die() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }

for b in kwokctl kwok kube-apiserver kube-controller-manager kube-scheduler kubectl etcd etcdctl etcdutl; do
	[[ -x $BIN_DIR/$b ]] || die "$BIN_DIR/$b is missing; run toolchain/build.sh api first"
done

# kwokctl runs `kubectl` from PATH for its own checks before falling back to kubectlBinary;
# put ours first so no other kubectl (another version) is used.
export PATH=$BIN_DIR:$PATH
# A private kwok work dir: no ~/.kwok/kwok.yaml from the user is merged in, nothing is left
# behind, and the download cache ($KWOK_WORKDIR/cache) is ours to inspect.
KWOK_WORKDIR=$(mktemp -d /tmp/k8s-lab-smoke.XXXXXX)
export KWOK_WORKDIR
CLUSTER_DIR=$KWOK_WORKDIR/clusters/$CLUSTER
export KUBECONFIG=$CLUSTER_DIR/kubeconfig.yaml
CONFIG=$KWOK_WORKDIR/kwokctl.yaml

# --kubeconfig "" stops kwokctl create from editing ~/.kube/config. Delete rejects "" ("empty
# path", exit 1), so it gets a path that does not exist, which it skips.
kwokctl_delete() {
	kwokctl --name "$CLUSTER" delete cluster --kubeconfig "$KWOK_WORKDIR/no-kubeconfig" >"$KWOK_WORKDIR/delete.log" 2>&1
}

cleanup() {
	local rc=$?
	if [[ -d $CLUSTER_DIR ]]; then
		if [[ $rc -ne 0 ]]; then
			# Show why, before the logs are deleted with the cluster.
			for f in "$CLUSTER_DIR"/logs/*.log; do
				[[ -f $f ]] || continue
				echo "----- last lines of $f" >&2
				tail -n 15 "$f" >&2
			done
		fi
		kwokctl_delete || echo "[smoke] WARNING: kwokctl delete cluster failed; see $KWOK_WORKDIR/delete.log" >&2
	fi
	[[ $rc -ne 0 ]] || rm -rf "$KWOK_WORKDIR"
	[[ $rc -eq 0 ]] || echo "[smoke] kept $KWOK_WORKDIR for inspection" >&2
}
trap cleanup EXIT

# kwokctl's own port choice is racy: it scans down from 32767 for ports nothing listens on yet
# (and that no cluster in the same work dir has recorded), so two creates at the same moment,
# or one racing any other kwokctl on the host, pick the same ports; the loser's component fails
# to bind and kwokctl still exits 0 (seen here: a kwok-controller losing its port to another
# work dir's cluster, and two clusters cross-wired to each other's apiserver). So every cluster
# gets all six ports explicitly, drawn at random from 20000-29999 (below Linux's ephemeral range,
# and far from where kwokctl's own scan starts) and not in use by any TCP socket right now.
pick_ports() {
	local in_use=" " picked=" " port n=0
	if command -v ss >/dev/null; then
		in_use+=$(ss -Htan | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }')
	fi
	while ((n < 6)); do
		port=$((20000 + RANDOM % 10000))
		[[ $in_use == *" $port "* || $picked == *" $port "* ]] && continue
		picked+="$port "
		n=$((n + 1))
	done
	echo $picked
}
read -r P_APISERVER P_ETCD P_ETCD_PEER P_KWOK P_KCM P_SCHED <<<"$(pick_ports)"

# Every binary is a local path, so kwokctl symlinks instead of downloading. Nothing optional
# (prometheus, jaeger, metrics-server, dashboard) is enabled: the default component list is
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller.
# etcdBinary must be given itself: etcdBinaryPrefix only locates a release tarball.
cat >"$CONFIG" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  # The default 0.0.0.0 would expose etcd (no auth) and every component to the network.
  bindAddress: 127.0.0.1
  kubeVersion: $KUBERNETES_VERSION
  kubeBinaryPrefix: $BIN_DIR
  kubectlBinary: $BIN_DIR/kubectl
  kwokControllerBinary: $BIN_DIR/kwok
  etcdBinary: $BIN_DIR/etcd
  etcdctlBinary: $BIN_DIR/etcdctl
  etcdutlBinary: $BIN_DIR/etcdutl
  kubeApiserverPort: $P_APISERVER
  etcdPort: $P_ETCD
  etcdPeerPort: $P_ETCD_PEER
  kwokControllerPort: $P_KWOK
  kubeControllerManagerPort: $P_KCM
  kubeSchedulerPort: $P_SCHED
componentsPatches:
# Bound to loopback, kube-apiserver derives the address it advertises (the endpoint of the
# "kubernetes" Service) from the host's default route and exits when there is none, as on a
# machine with no network at all. 127.0.0.1 is refused for that endpoint (loopback), so give a
# fixed TEST-NET-1 address that is never routed; nothing connects to it.
- name: kube-apiserver
  extraArgs:
  - key: advertise-address
    value: 192.0.2.1
EOF

log "creating cluster $CLUSTER (kwokctl $KWOK_VERSION, kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION)"
t=$(date +%s%N)
kwokctl --name "$CLUSTER" create cluster --config "$CONFIG" --kubeconfig "" --timeout "${TIMEOUT}s" \
	>"$KWOK_WORKDIR/create.log" 2>&1 ||
	{ cat "$KWOK_WORKDIR/create.log" >&2; die "kwokctl create cluster failed"; }
create_ms=$((($(date +%s%N) - t) / 1000000))

# kwokctl create exits 0 even when the apiserver never came up (it only logs), so check
# /readyz ourselves, then wait for the default ServiceAccount: until the controller-manager
# has made it, pods in "default" are refused.
deadline=$((SECONDS + TIMEOUT))
until [[ $(kubectl get --raw /readyz 2>/dev/null) == ok ]]; do
	((SECONDS < deadline)) || die "kube-apiserver /readyz not ok after ${TIMEOUT}s"
	sleep 0.2
done
readyz_ms=$((($(date +%s%N) - t) / 1000000))
until kubectl -n default get serviceaccount default >/dev/null 2>&1; do
	((SECONDS < deadline)) || die "no default ServiceAccount after ${TIMEOUT}s"
	sleep 0.2
done
log "cluster ready: kwokctl create returned at ${create_ms}ms, /readyz ok at ${readyz_ms}ms, default SA at $((($(date +%s%N) - t) / 1000000))ms"

[[ ! -e $KWOK_WORKDIR/cache ]] || die "kwokctl populated its download cache: $(find "$KWOK_WORKDIR/cache" -type f | head -3)"

# A worker that looks like a kubelet-registered node. kwok's node-initialize stage only fills
# in what is missing (conditions, and defaults for empty fields), so what is set here stays.
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: worker-1
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: worker-1
    kubernetes.io/os: linux
spec:
  podCIDR: 10.244.1.0/24
  podCIDRs:
  - 10.244.1.0/24
status:
  addresses:
  - type: InternalIP
    address: 172.18.0.3
  - type: Hostname
    address: worker-1
  capacity:
    cpu: "4"
    memory: 16Gi
    ephemeral-storage: 100Gi
    pods: "110"
  allocatable:
    cpu: "4"
    memory: 15Gi
    ephemeral-storage: 90Gi
    pods: "110"
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: Debian GNU/Linux 12 (bookworm)
    kernelVersion: 6.1.0-28-amd64
    containerRuntimeVersion: containerd://1.7.24
    kubeletVersion: $KUBERNETES_VERSION
    kubeProxyVersion: $KUBERNETES_VERSION
EOF
kubectl wait --for=condition=Ready node/worker-1 --timeout="${TIMEOUT}s" >/dev/null ||
	die "node worker-1 did not become Ready"
log "node worker-1 Ready: $(kubectl get node worker-1 --no-headers | tr -s ' ')"

# No image is pulled: kwok's pod stages move a scheduled pod to Running on its own.
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
EOF
kubectl -n default rollout status deployment/web --timeout="${TIMEOUT}s" >/dev/null ||
	die "deployment web did not roll out"
running=$(kubectl -n default get pods -l app=web \
	-o jsonpath='{range .items[*]}{.status.phase}/{.spec.nodeName}{"\n"}{end}' | grep -c '^Running/worker-1$' || true)
[[ $running -eq 3 ]] || die "expected 3 web pods Running on worker-1, found $running"
log "deployment web: 3/3 pods Running on worker-1"

# Every socket the cluster's processes listen on must be loopback-only.
pids=()
for f in "$CLUSTER_DIR"/pids/*.pid; do pids+=("$(<"$f")"); done
[[ ${#pids[@]} -eq 5 ]] || die "expected 5 component pid files, found ${#pids[@]}"
if command -v ss >/dev/null; then
	listening=$(ss -Hltnp | grep -E "pid=($(
		IFS='|'
		echo "${pids[*]}"
	)),") || die "no listening sockets found for the cluster's processes"
	exposed=$(awk '$4 !~ /^127\.0\.0\.1:/' <<<"$listening")
	[[ -z $exposed ]] || die "listening beyond loopback: $exposed"
	# Each component holds the port it was given (a lost bind race shows up here).
	for port in "$P_APISERVER" "$P_ETCD" "$P_ETCD_PEER" "$P_KWOK" "$P_KCM" "$P_SCHED"; do
		grep -q " 127\.0\.0\.1:$port " <<<"$listening" || die "no cluster component listens on 127.0.0.1:$port"
	done
	log "listening sockets: $(awk '{ print $4 }' <<<"$listening" | sort -t: -k2 -n | tr '\n' ' ')(all 127.0.0.1)"
else
	log "WARNING: ss (iproute2) not found; bind address not checked"
fi

# RSS counts the binaries' file-backed pages, which every cluster started from the same
# binaries shares; RssAnon is what each further cluster really adds.
rss_total=0
anon_total=0
rss_each=()
for f in "$CLUSTER_DIR"/pids/*.pid; do
	status=/proc/$(<"$f")/status
	kb=$(awk '/^VmRSS:/ { print $2 }' "$status")
	anon=$(awk '/^RssAnon:/ { print $2 }' "$status")
	rss_total=$((rss_total + kb))
	anon_total=$((anon_total + anon))
	rss_each+=("$(basename "$f" .pid)=$((kb / 1024))/$((anon / 1024))")
done
log "memory RSS/anon MiB: total $((rss_total / 1024))/$((anon_total / 1024)); ${rss_each[*]}"

t=$(date +%s%N)
kwokctl_delete || { cat "$KWOK_WORKDIR/delete.log" >&2; die "kwokctl delete cluster failed"; }
# delete SIGKILLs by pid file and returns at once; make sure every process is really gone (a
# zombie waiting for its reaper counts as gone).
alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
for p in "${pids[@]}"; do
	for _ in $(seq 50); do alive "$p" || break; sleep 0.1; done
	! alive "$p" || die "process $p still running after kwokctl delete cluster"
done
[[ ! -e $CLUSTER_DIR ]] || die "kwokctl delete cluster left $CLUSTER_DIR behind"
log "cluster deleted in $((($(date +%s%N) - t) / 1000000))ms; PASS"
