#!/bin/sh
# Starts Debian's PostgreSQL the way the official postgres image does: on the first start (an
# empty PGDATA) it makes the cluster with POSTGRES_USER as its superuser, password
# POSTGRES_PASSWORD (required), and the database POSTGRES_DB; then it runs the server, listening
# inside the container's own network (docker-compose.yml publishes it on the host's loopback).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [ "${1:-postgres}" != postgres ]; then
	exec "$@"
fi
[ $# -gt 0 ] && shift

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: POSTGRES_PASSWORD is not set; it is needed to make the database" >&2
		exit 1
	fi
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	# Local (socket) connections are trusted, as in the official image: only this container
	# reaches its socket. Every connection over the network needs the password.
	initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	if [ "$POSTGRES_DB" != postgres ]; then
		echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"" |
			postgres --single -D "$PGDATA" postgres >/dev/null
	fi
	echo "postgres-entrypoint: made the cluster in $PGDATA (database $POSTGRES_DB, user $POSTGRES_USER)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
