# Sourced by redis-node.sh and sentinel.sh: how a Redis node's or a Sentinel's config is put in its volume,
# as the local stack does it (stack/processes/redis.ts, writeConfig).

# sha256 TEXT: the hex digest an ACL `#<hash>` password takes (redis/users.conf).
sha256() { printf '%s' "$1" | sha256sum | cut -d ' ' -f 1; }

# install_config RENDERED CONF PATTERN: a fresh volume gets RENDERED as its config. A kept config (Redis and
# Sentinel rewrite theirs with the roles Sentinel chose, which a restart must keep) keeps everything but its
# credential lines (PATTERN, an extended regex), which RENDERED's replace: a changed password takes effect.
install_config() {
  if [ -f "$2" ]; then
    { grep -Eiv "$3" "$2" || true; grep -Ei "$3" "$1" || true; } >"$2.tmp"
  else
    cp "$1" "$2.tmp"
  fi
  mv "$2.tmp" "$2"
  rm -f "$1"
}

# Docker secrets (Swarm): each file /run/secrets/NAME, NAME an environment variable's name, becomes $NAME.
# Compose passes the same values as variables and mounts no such files.
for secret in /run/secrets/*; do
  name=${secret##*/}
  case "$name" in '*' | *[!A-Z0-9_]* | [0-9]*) continue ;; esac
  export "$name=$(cat "$secret")"
done
