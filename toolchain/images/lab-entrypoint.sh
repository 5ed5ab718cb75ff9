#!/bin/sh
# The lab image's entrypoint (run by tini): `web`, `worker` or `beat` starts that process of the
# lab (manage.py runrole, which takes --host/--port for the web); `migrate` applies the database
# migrations and exits; anything else is run as given (e.g. `python manage.py createsuperuser`).
set -eu
cd /app

# The full tier's worker writes a firewall rule per cluster into the host's DOCKER-USER chain
# (sandboxes/backends/kind). It must use the iptables backend the host's Docker uses, or the
# rule would land in tables nobody reads: pick the one that has Docker's chain.
use_hosts_iptables() {
	for backend in nft legacy; do
		if "iptables-$backend" -n -L DOCKER-USER >/dev/null 2>&1; then
			update-alternatives --quiet --set iptables "/usr/sbin/iptables-$backend"
			return
		fi
	done
	echo "lab-entrypoint: no DOCKER-USER chain in either iptables backend: the full tier's firewall rules will fail" >&2
}

role=${1:-web}
case $role in
web | beat)
	shift
	exec python manage.py runrole "$role" "$@"
	;;
worker)
	shift
	case ",${LAB_TIERS:-api}," in *,full,*) use_hosts_iptables ;; esac
	exec python manage.py runrole worker "$@"
	;;
migrate)
	exec python manage.py migrate --noinput
	;;
*)
	exec "$@"
	;;
esac
