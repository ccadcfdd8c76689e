#!/bin/sh
# Entrypoint of NGINX on Swarm (swarm/stack.yml): nginx/nginx.conf with its upstream made of every task of the
# API service that Swarm's DNS names now, re-rendered and reloaded when that set changes. NGINX 1.22 resolves
# an upstream's names once, at start; on Swarm an API task gets a new address whenever it is rescheduled or
# upgraded. A reload is graceful: old workers finish the requests they hold.
# Env: API_SERVICE (the API's service name), API_PORT, and every ${NAME} of nginx.conf but API_1 and API_2.
set -eu
template=/etc/nginx/templates/nginx.conf.template
conf=/etc/nginx/nginx.conf

# The tasks' addresses, one per line, sorted; empty when none runs (or DNS does not answer).
tasks() { getent ahostsv4 "tasks.$API_SERVICE" | awk '{ print $1 }' | sort -u; }

# render ADDRESSES: the template's two `server ${API_1} …;` / `server ${API_2} …;` lines become one line per
# address with the same parameters; with none, a refused address (NGINX then answers its JSON 502).
render() {
  awk -v addresses="$1" -v port="$API_PORT" '
    /^[[:space:]]*server \$\{API_1\}/ {
      n = split(addresses, list, " ")
      if (n == 0) { n = 1; list[1] = "127.0.0.1"; port = "9" }
      for (i = 1; i <= n; i++) { line = $0; sub(/\$\{API_1\}/, list[i] ":" port, line); print line }
      next
    }
    /^[[:space:]]*server \$\{API_2\}/ { next }
    { print }
  ' "$template" >/tmp/nginx.conf.with-upstream
  # Only the variables set here, as the image's own envsubst step does: NGINX's own $variables stay.
  envsubst "$(env | cut -d= -f1 | sed 's/.*/${&}/' | tr '\n' ' ')" </tmp/nginx.conf.with-upstream >"$conf.tmp"
  mv "$conf.tmp" "$conf"
}

current=$(tasks | tr '\n' ' ')
render "$current"
echo "evergreen: NGINX upstream: ${current:-no API task yet}"
nginx -g 'daemon off;' &
nginx_pid=$!
# docker stop sends SIGQUIT (the image's STOPSIGNAL): NGINX's graceful stop.
trap 'kill -QUIT "$nginx_pid" 2>/dev/null; wait "$nginx_pid"; exit 0' QUIT TERM INT

while kill -0 "$nginx_pid" 2>/dev/null; do
  sleep 1 &
  wait $! || true
  found=$(tasks | tr '\n' ' ')
  # An empty answer keeps the last set: a DNS hiccup must not empty the upstream (a dead address costs NGINX
  # one refused connection, then max_fails takes it out).
  if [ -n "$found" ] && [ "$found" != "$current" ]; then
    render "$found"
    if nginx -t -q; then
      nginx -s reload
      echo "evergreen: NGINX upstream now: $found (was: ${current:-none})"
      current=$found
    fi
  fi
done
wait "$nginx_pid"
