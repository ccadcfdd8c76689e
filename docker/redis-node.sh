#!/bin/sh
# Entrypoint of a Compose Redis node: its config is the shared redis/redis.conf plus this node's lines and the
# ACL users of redis/users.conf, as stack/processes/redis.ts writes them locally. Sentinel rewrites `replicaof`
# in it at run time, so a kept config keeps its role and gets only its users and passwords renewed.
# Env: REDIS_ANNOUNCE_HOST (this service's name), REDIS_REPLICAOF ("host port"; empty: master), KEY_PREFIX,
# REDIS_PASSWORD, REDIS_REPLICATION_PASSWORD, REDIS_SENTINEL_PASSWORD, REDIS_EXPORTER_PASSWORD, REDIS_ADMIN_PASSWORD.
set -eu
. /evergreen/config-file.sh
conf=/data/redis-node.conf
umask 077 # the file holds masterauth
# No pidfile or logfile: in a container Redis logs to stdout and runs in the foreground.
cat >/data/rendered.conf <<NODE
include /usr/local/etc/redis/redis.conf
port 6379
bind * -::*
daemonize no
dir /data
replica-announce-ip $REDIS_ANNOUNCE_HOST
NODE
if [ -n "${REDIS_REPLICAOF:-}" ]; then echo "replicaof $REDIS_REPLICAOF" >>/data/rendered.conf; fi
SERVICE_PASSWORD_SHA256=$(sha256 "$REDIS_PASSWORD") \
  REPLICATION_PASSWORD_SHA256=$(sha256 "$REDIS_REPLICATION_PASSWORD") \
  SENTINEL_PASSWORD_SHA256=$(sha256 "$REDIS_SENTINEL_PASSWORD") \
  EXPORTER_PASSWORD_SHA256=$(sha256 "$REDIS_EXPORTER_PASSWORD") \
  ADMIN_PASSWORD_SHA256=$(sha256 "$REDIS_ADMIN_PASSWORD") \
  REPLICATION_PASSWORD=$REDIS_REPLICATION_PASSWORD \
  awk -f /evergreen/render-template.awk /usr/local/etc/redis/users.conf >>/data/rendered.conf
install_config /data/rendered.conf "$conf" '^[[:space:]]*(user|masteruser|masterauth|requirepass)[[:space:]]'
# The image's own entrypoint hands /data to the redis user and drops root.
exec docker-entrypoint.sh redis-server "$conf"
