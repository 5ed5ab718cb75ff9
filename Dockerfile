# k8s-lab/lab: the lab's web, worker and beat (docker-compose.yml runs one container per role).
#
# Built by `make images` (toolchain/images/build.sh), not by `docker build .`: that script
# assembles the build context, because half of what goes in lives outside the clone, and nothing
# comes from a registry:
#   app/         the repository's files (without what .dockerignore names)
#   xterm/       the @xterm front-end packages from node_modules (npm)
#   wheels/      every Python package of requirements.txt as a wheel, fetched on the host by pip
#   bin/         the pinned toolchain built from the Go module proxy (kube-apiserver, etcd,
#                kwokctl, kubectl, ...; kind too when the full tier is built)
# and FROM is the Debian root file system toolchain/node-image/build.sh makes with debootstrap.
# The Debian packages come from Debian's mirror through apt, as in every image of the lab.
FROM k8s-lab/debian:bookworm

# Python and the jail: bubblewrap confines the learner's shell, socat is its one way out (to
# their API server), tini reaps what the lab's processes leave (kwokctl's daemons, jails).
# The learner's shell sees this /usr, so it also holds their tools: bash completion for
# kubectl, less and vi, ps, jq and curl. iptables: the full tier's per-cluster firewall rule.
# Docker's CLI alone (the full tier's kind drives the host's Docker with it) is taken out of
# Debian's docker.io package, whose daemon, containerd and runc are not wanted here.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv bubblewrap socat tini ca-certificates \
      bash bash-completion coreutils less vim-tiny procps jq curl iproute2 iptables e2fsprogs \
 && cd /tmp && apt-get download docker.io \
 && dpkg-deb --fsys-tarfile docker.io_*.deb | tar -x -C / ./usr/bin/docker \
 && rm -f docker.io_*.deb /usr/sbin/policy-rc.d \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/share/k8s-lab \
 && dpkg-query -W -f='${Package} ${Version}\n' >/usr/share/k8s-lab/packages.txt

# The virtual environment, from the wheels alone (--no-index: nothing is fetched here).
COPY app/requirements.txt /tmp/requirements.txt
COPY wheels/ /tmp/wheels/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels -r /tmp/requirements.txt \
 && rm -rf /tmp/wheels /tmp/requirements.txt

COPY bin/ /opt/k8s-lab/toolchain/bin/
COPY xterm/ /app/node_modules/@xterm/
COPY app/ /app/

ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    K8S_LAB_CACHE=/opt/k8s-lab LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
# The static files belong to the code: collected once, here (into /app/var/static).
RUN SECRET_KEY=build-only LAB_DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput -v0 \
 && rm -rf /tmp/build-data

ENTRYPOINT ["/usr/bin/tini", "--", "/app/toolchain/images/lab-entrypoint.sh"]
CMD ["web"]
