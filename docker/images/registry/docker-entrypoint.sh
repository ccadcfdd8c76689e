#!/bin/sh
# The official registry:2 image's entrypoint, with Debian's binary name.
set -e

case "$1" in
  # A config file: serve it.
  *.yaml | *.yml) set -- docker-registry serve "$@" ;;
  # A subcommand or a flag: the registry's.
  serve | garbage-collect | help | -*) set -- docker-registry "$@" ;;
esac

exec "$@"
