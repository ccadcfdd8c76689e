#!/bin/sh
# Entrypoint of a Compose Redis node. Its own config (the shared redis/redis.conf plus this node's lines,
# as stack/topology.ts writes them locally) is written on first start only: Sentinel rewrites `replicaof`
# in it at run time, and a restart must keep the role Sentinel chose.
# Env: REDIS_ANNOUNCE_HOST (this service's name), REDIS_PASSWORD, REDIS_REPLICAOF ("host port"; empty: master).
set -eu
conf=/data/redis-node.conf
if [ ! -f "$conf" ]; then
  umask 077 # the file holds the password
  # No pidfile or logfile: in a container Redis logs to stdout and runs in the foreground.
  cat >"$conf.tmp" <<NODE
include /usr/local/etc/redis/redis.conf
port 6379
bind * -::*
daemonize no
dir /data
replica-announce-ip $REDIS_ANNOUNCE_HOST
requirepass "$REDIS_PASSWORD"
masterauth "$REDIS_PASSWORD"
NODE
  if [ -n "${REDIS_REPLICAOF:-}" ]; then echo "replicaof $REDIS_REPLICAOF" >>"$conf.tmp"; fi
  mv "$conf.tmp" "$conf"
fi
# The image's own entrypoint hands /data to the redis user and drops root.
exec docker-entrypoint.sh redis-server "$conf"
