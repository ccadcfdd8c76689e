#!/bin/sh
# Entrypoint of a Compose Redis node: its config is the shared redis/redis.conf plus this node's lines and the
# ACL users of redis/users.conf, as stack/processes/redis.ts writes them locally. Sentinel rewrites `replicaof`
# in it at run time, so a kept config keeps its role and gets only its users and passwords renewed.
# Before it starts, it takes the role the Sentinels give it now (as stack/topology/rejoin.ts does locally): a
# master that was down while they promoted another comes back as that one's replica, never as a second master.
# Env: REDIS_ANNOUNCE_HOST (this service's name), REDIS_REPLICAOF ("host port"; empty: master), KEY_PREFIX,
# REDIS_PASSWORD, REDIS_REPLICATION_PASSWORD, REDIS_SENTINEL_PASSWORD, REDIS_EXPORTER_PASSWORD, REDIS_ADMIN_PASSWORD,
# SENTINELS ("host:port,…"), MASTER_NAME.
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

# The master most answering Sentinels name now, as "host port"; empty when none answers (the first start: they
# start after the nodes). The service's user may ask them that; 2 s each at most, asked side by side.
sentinels_master() {
  for sentinel in $(echo "${SENTINELS:-}" | tr ',' ' '); do
    REDISCLI_AUTH="$REDIS_PASSWORD" timeout 2 redis-cli --no-auth-warning --user evergreen -h "${sentinel%:*}" \
      -p "${sentinel##*:}" --raw SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | paste -sd ' ' - &
  done | grep -E '^[A-Za-z0-9._-]+ [0-9]+$' | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2, $3 }'
}

# set_role "host port" | "": the config's replicaof line made to say so (none: master).
set_role() {
  sed -i -E '/^[[:space:]]*(replicaof|slaveof)[[:space:]]/Id' "$conf"
  if [ -n "$1" ]; then echo "replicaof $1" >>"$conf"; fi
}

master=$(sentinels_master)
case "$master" in
  '') echo "evergreen: no Sentinel answered; $REDIS_ANNOUNCE_HOST starts as its config says" ;;
  "$REDIS_ANNOUNCE_HOST "*)
    set_role ''
    echo "evergreen: the Sentinels still name $REDIS_ANNOUNCE_HOST master; it starts as master from its data"
    ;;
  *)
    set_role "$master"
    echo "evergreen: $REDIS_ANNOUNCE_HOST starts as a replica of ${master% *}, the master the Sentinels name"
    ;;
esac

# The image's own entrypoint hands /data to the redis user and drops root.
exec docker-entrypoint.sh redis-server "$conf"
