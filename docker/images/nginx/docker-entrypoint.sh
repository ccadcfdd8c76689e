#!/bin/sh
# The official nginx image's entrypoint: before nginx starts, run each /docker-entrypoint.d/*.sh in order.
set -e

entrypoint_log() {
  if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
    echo "$@"
  fi
}

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  entrypoint_log "$0: Looking for shell scripts in /docker-entrypoint.d/"
  find /docker-entrypoint.d/ -follow -type f -print | sort -V | while read -r f; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          entrypoint_log "$0: Launching $f"
          "$f"
        else
          entrypoint_log "$0: Ignoring $f, not executable"
        fi
        ;;
      *) entrypoint_log "$0: Ignoring $f" ;;
    esac
  done
  entrypoint_log "$0: Configuration complete; ready for start up"
fi

exec "$@"
