# shellcheck shell=bash
# What every local image build of the lab shares (sourced by toolchain/node-image/build.sh and
# toolchain/images/build.sh): the Debian base every image starts FROM, made with debootstrap,
# and the cache that rebuilds an image only when one of its inputs changed.
#
# Cached: every image carries a label k8s-lab.inputs with the hash of what it is built from (its
# build context, its base image's id, the pins it uses). An image whose label matches is not
# rebuilt, so a second run takes seconds and changing one input rebuilds only what depends on it.
#
# The sourcing script sets, before calling anything here: DOCKER (the docker CLI), WORK (its
# work directory: build contexts under WORK/context/), LOG_DIR (build logs), and the
# functions log and die. It reads BUILT and SKIPPED (what was built, what was current) for its
# summary. DEBIAN_SUITE and DEBIAN_MIRROR come from toolchain/versions.env.

IMAGES_CACHE_ROOT=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
# Shared by every image build: the Debian base's package downloads, and the lock that keeps two
# builds from racing on the same tags (both build the Debian base).
IMAGES_SHARED_WORK=$IMAGES_CACHE_ROOT/full-tier
# Bump when a change to build_debian must rebuild the Debian root file system.
DEBIAN_BASE_REVISION=2
IMG_DEBIAN=k8s-lab/debian:$DEBIAN_SUITE

BUILT=()
SKIPPED=()
ROOTFS_TMP=

# images_lock: wait for any other image build to finish, then hold the lock until exit.
images_lock() {
	mkdir -p "$IMAGES_SHARED_WORK"
	exec 9>"$IMAGES_SHARED_WORK/.lock"
	flock -n 9 || { log "another image build holds $IMAGES_SHARED_WORK/.lock; waiting for it ..."; flock 9; }
}

# ensure_debs PACKAGE...: install the Debian packages a build uses on this machine, if missing.
ensure_debs() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
	done
	[[ ${#missing[@]} -eq 0 ]] && return
	log "installing Debian packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The hash of a build context: every path, its mode and its content (not mtimes), so a context
# rebuilt from the same inputs hashes the same.
context_hash() {
	(cd "$1" && find . -mindepth 1 \( -type f -o -type l -o -type d \) -printf '%p %m %y %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
image_inputs() { "$DOCKER" image inspect -f '{{index .Config.Labels "k8s-lab.inputs"}}' "$1" 2>/dev/null || true; }

# is_current IMAGE HASH: the image exists and was built from exactly these inputs.
is_current() { [[ $(image_inputs "$1") == "$2" ]]; }

# timed LABEL LOGFILE COMMAND...: run quietly into a log, print the time, show the log's tail on
# failure. Image builds print hundreds of lines (apt) that nobody needs when they work.
timed() {
	local label=$1 logfile=$2 t0=$SECONDS
	shift 2
	log "building $label ..."
	if ! "$@" >"$logfile" 2>&1; then
		tail -n 30 "$logfile" >&2
		die "building $label failed (full log: $logfile)"
	fi
	log "  $label built in $((SECONDS - t0))s"
	BUILT+=("$label $((SECONDS - t0))s")
}

# docker_build TAG CONTEXT_DIR EXTRA_HASH_INPUT: build CONTEXT_DIR/Dockerfile unless TAG is
# current. The hash covers the context and the id of every image the Dockerfile starts FROM.
docker_build() {
	local tag=$1 ctx=$2 extra=${3:-} hash from parents=""
	for from in $(awk 'toupper($1) == "FROM" { print $2 }' "$ctx/Dockerfile"); do
		[[ $from == scratch ]] && continue
		parents+="$from=$(image_id "$from") "
	done
	hash=$(printf '%s\n%s\n%s\n' "$(context_hash "$ctx")" "$parents" "$extra" | sha256sum | cut -d' ' -f1)
	if is_current "$tag" "$hash"; then
		SKIPPED+=("$tag")
		return
	fi
	# The legacy builder: Debian's docker.io has no BuildKit, and a newer CLI on PATH would
	# otherwise insist on buildx. --pull=false: nothing may be pulled. --force-rm: a failed step
	# leaves no container behind.
	timed "$tag" "$LOG_DIR/$(tr '/:' '__' <<<"$tag").log" \
		env DOCKER_BUILDKIT=0 "$DOCKER" build --pull=false --force-rm --label "k8s-lab.inputs=$hash" -t "$tag" "$ctx"
}

# fresh_context NAME: an empty build context directory under the work dir.
fresh_context() {
	local dir=$WORK/context/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "$dir"
}

# link_file SRC DEST: hard-link when possible (binaries and wheels are large), copy otherwise.
link_file() {
	mkdir -p "$(dirname "$2")"
	ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"
}

# place BINARY DEST: a toolchain binary into a build context.
place() {
	[[ -x $1 ]] || die "$1 is missing; run toolchain/build.sh"
	link_file "$1" "$2"
}

# from_debian SRC DEST: a committed Dockerfile, its "FROM k8s-lab/debian:bookworm" pointed at
# the Debian base of the pinned suite.
from_debian() { sed "s|^FROM k8s-lab/debian:bookworm\$|FROM $IMG_DEBIAN|" "$1" >"$2"; }

# remove_rootfs_tmp: for the sourcing script's EXIT trap (a debootstrap interrupted midway).
remove_rootfs_tmp() {
	if [[ -n $ROOTFS_TMP ]]; then rm -rf "$ROOTFS_TMP"; fi
}

# ---------------------------------------------------------------- Debian base (debootstrap)
# k8s-lab/debian:<suite>: a minbase root file system from Debian's mirror, imported, then
# brought up to the suite's current updates. Needs root (debootstrap).
build_debian() {
	local suite=$DEBIAN_SUITE mirror=$DEBIAN_MIRROR hash
	ensure_debs debootstrap
	hash=$(printf 'debian %s %s rev=%s\n' "$suite" "$mirror" "$DEBIAN_BASE_REVISION" | sha256sum | cut -d' ' -f1)
	local raw=$IMG_DEBIAN-debootstrap
	if ! is_current "$raw" "$hash"; then
		ROOTFS_TMP=$(mktemp -d "$IMAGES_SHARED_WORK/rootfs.XXXXXX")
		# minbase: essential packages and apt only; every image adds what it needs on top.
		# --cache-dir keeps the downloaded .debs so a rebuild does not fetch them again.
		mkdir -p "$IMAGES_SHARED_WORK/debootstrap-cache"
		timed "$raw (debootstrap $suite from $mirror)" "$LOG_DIR/debootstrap.log" \
			debootstrap --variant=minbase --cache-dir="$IMAGES_SHARED_WORK/debootstrap-cache" "$suite" "$ROOTFS_TMP" "$mirror"
		# Point apt at the suite's updates and security archives too, and keep images small:
		# no recommends, no docs cache, no package lists left behind.
		local security=${mirror%/debian}/debian-security
		cat >"$ROOTFS_TMP/etc/apt/sources.list" <<-EOF
			deb $mirror $suite main
			deb $mirror $suite-updates main
			deb $security $suite-security main
		EOF
		printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOTFS_TMP/etc/apt/apt.conf.d/99k8s-lab"
		# No documentation, manual pages or translations, now or in any later install: every
		# cluster copies its images, so every megabyte counts (copyright files stay).
		cat >"$ROOTFS_TMP/etc/dpkg/dpkg.cfg.d/99k8s-lab-nodoc" <<-'EOF'
			path-exclude=/usr/share/doc/*
			path-include=/usr/share/doc/*/copyright
			path-exclude=/usr/share/man/*
			path-exclude=/usr/share/info/*
			path-exclude=/usr/share/locale/*
			path-exclude=/usr/share/lintian/*
		EOF
		find "$ROOTFS_TMP/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
		rm -rf "$ROOTFS_TMP"/usr/share/{man,info,locale,lintian}/*
		rm -rf "$ROOTFS_TMP"/var/lib/apt/lists/* "$ROOTFS_TMP"/var/cache/apt/*.bin "$ROOTFS_TMP"/var/cache/apt/archives/*.deb
		: >"$ROOTFS_TMP/etc/machine-id"
		rm -f "$ROOTFS_TMP/etc/hostname" "$ROOTFS_TMP/etc/resolv.conf"
		local t0=$SECONDS
		tar -C "$ROOTFS_TMP" --numeric-owner -c . |
			"$DOCKER" import --change "LABEL k8s-lab.inputs=$hash" --change 'CMD ["/bin/bash"]' - "$raw" >/dev/null
		log "  imported $raw in $((SECONDS - t0))s"
		rm -rf "$ROOTFS_TMP"
		ROOTFS_TMP=
	else
		SKIPPED+=("$raw")
	fi
	# Bring the base up to the suite's current updates once, here, rather than in every image.
	local ctx
	ctx=$(fresh_context debian)
	cat >"$ctx/Dockerfile" <<-EOF
		FROM $raw
		RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y upgrade \\
		 && apt-get clean && rm -rf /var/lib/apt/lists/*
		CMD ["/bin/bash"]
	EOF
	docker_build "$IMG_DEBIAN" "$ctx"
}
