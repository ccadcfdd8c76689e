#!/bin/sh
# Entrypoint of a Compose Sentinel: renders sentinel/sentinel.conf into this Sentinel's own volume. Sentinel
# rewrites that copy at run time (its id, epochs, the current master), so a kept copy gets only its credential
# lines renewed, as the local stack does (stack/processes/sentinel.ts).
# Env: every ${NAME} of the template (see its header) but SERVICE_PASSWORD_SHA256 and EXPORTER_PASSWORD_SHA256,
# made here from REDIS_PASSWORD and REDIS_EXPORTER_PASSWORD.
set -eu
. /evergreen/config-file.sh
conf=/data/sentinel.conf
umask 077 # the file holds the passwords
SERVICE_PASSWORD_SHA256=$(sha256 "$REDIS_PASSWORD") EXPORTER_PASSWORD_SHA256=$(sha256 "$REDIS_EXPORTER_PASSWORD") \
  awk -f /evergreen/render-template.awk /usr/local/etc/redis/sentinel.conf.template >/data/rendered.conf
install_config /data/rendered.conf "$conf" \
  '^[[:space:]]*(requirepass|user|sentinel[[:space:]]+(sentinel-pass|sentinel-user|auth-pass|auth-user))[[:space:]]'
# The image's own entrypoint hands /data to the redis user and drops root.
exec docker-entrypoint.sh redis-server "$conf" --sentinel
