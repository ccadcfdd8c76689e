#!/bin/sh
# One Swarm node: Debian's dockerd as the container's main process, run as swarmNodeRunArgs
# (stack/compose/swarm-images.ts) runs it. Arguments given to the container are added to dockerd's.
#   NODE_NAME  required: the node's name; its inner containers' cgroups go under /NODE_NAME.
#   REGISTRY   optional: host:port of the private registry, which speaks plain HTTP.
set -eu

if [ -z "${NODE_NAME:-}" ]; then
  echo "entrypoint.sh: NODE_NAME is not set (docker run -e NODE_NAME=<the node's name>)" >&2
  exit 64
fi

# A node that was killed (docker kill, the OOM killer) and is started again still has the pid files of its last
# run: /run is in the container's own layer, which survives. dockerd was pid 1 then and is pid 1 again, so it
# takes its old docker.pid for a running dockerd and refuses to start; a stale containerd.pid can name a live
# process too. Nothing else runs yet: every pid file here is stale.
rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid /var/run/docker/containerd/*.pid

# The private registry, without TLS.
if [ -n "${REGISTRY:-}" ]; then
  set -- --insecure-registry "${REGISTRY}" "$@"
fi

# --cgroup-parent: the nodes share the host's /sys/fs/cgroup, so each node's inner containers get a subtree of
#   their own (/NODE_NAME/<id>) rather than going under /docker/ beside the host engine's own containers.
# --log-driver/--log-opt: inner containers' logs rotate (3 files of 10 MB) instead of filling the node's volume.
# --host: the inner engine on the usual socket, for `docker exec NODE docker …`; no TCP port.
exec dockerd \
  --cgroup-parent="/${NODE_NAME}" \
  --log-driver json-file --log-opt max-size=10m --log-opt max-file=3 \
  --host unix:///var/run/docker.sock \
  "$@"
