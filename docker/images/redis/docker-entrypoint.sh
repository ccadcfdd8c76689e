#!/bin/sh
# The official redis image's entrypoint, with util-linux's setpriv in place of gosu.
set -e

# A first argument that is a flag or a .conf file is for redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

# Started as root: hand what is in the working directory (/data) to redis, then run again as redis.
if { [ "$1" = redis-server ] || [ "$1" = redis-sentinel ]; } && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# Redis's files private to it, unless the caller chose a umask.
if [ "$(umask)" = 0022 ]; then
  umask 0077
fi

exec "$@"
