#!/bin/sh
# Entrypoint of a Compose Sentinel: renders sentinel/sentinel.conf into this Sentinel's own volume on first
# start only, because Sentinel rewrites that copy at run time (its id, epochs, the current master).
# Env: every ${NAME} of the template (see its header).
set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
  umask 077 # the file holds the passwords
  awk -f /evergreen/render-template.awk /usr/local/etc/redis/sentinel.conf.template >"$conf.tmp"
  mv "$conf.tmp" "$conf"
fi
# The image's own entrypoint hands /data to the redis user and drops root.
exec docker-entrypoint.sh redis-server "$conf" --sentinel
