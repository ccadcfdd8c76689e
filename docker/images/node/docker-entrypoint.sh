#!/bin/sh
# The official node image's entrypoint: a flag, or anything that is not a command, is run by node.
set -e

if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi

exec "$@"
