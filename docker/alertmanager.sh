#!/bin/sh
# Entrypoint of the Compose Alertmanager: renders prometheus/alertmanager.yml (mounted as the template below)
# with ALERT_WEBHOOK_URL into its own volume at every start, as the local stack does (Alertmanager expands no
# variables itself), then runs it with the local stack's flags.
# Env: ALERT_WEBHOOK_URL.
set -eu
conf=/alertmanager/alertmanager.yml
umask 077 # a webhook URL may hold a token
awk -f /evergreen/render-template.awk /etc/alertmanager/alertmanager.yml.template >"$conf.tmp"
mv "$conf.tmp" "$conf"
# An empty cluster address: no gossip with other Alertmanagers (it would listen on 0.0.0.0:9094).
exec /bin/alertmanager --config.file="$conf" --storage.path=/alertmanager --web.listen-address=:9093 \
  --cluster.listen-address=
