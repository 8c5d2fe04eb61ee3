#!/usr/bin/env bash
# Installs what the integration tests need besides npm packages:
#   - Apache ZooKeeper (Debian package `zookeeper`): the reference server
#     (test/helpers/apache-zk.ts) and zkCli.sh (test/integration/zkcli.test.ts);
#     it pulls in a Java runtime;
#   - kazoo (Debian package `python3-kazoo`): the Python client;
#   - Chromium (Debian package `chromium`): headless, for the web console's test
#     (test/integration/console.test.ts).
#
# Idempotent: does nothing when zkCli.sh and both packages are already there.
# Non-interactive: safe as root in CI with no stdin (uses sudo -n otherwise).
# Debian/Ubuntu only (apt-get); elsewhere install ZooKeeper 3.8+ yourself and
# point CORRAL_ZKCLI / CORRAL_ZK_CLASSPATH / ZOOKEEPER_HOME at it.
set -euo pipefail
exec </dev/null

ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
PACKAGES=(zookeeper python3-kazoo chromium)

log() { printf 'install-test-deps: %s\n' "$*"; }

have_package() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
if [[ ! -x "$ZKCLI" ]] && ! command -v zkCli.sh >/dev/null 2>&1; then
  log "zkCli.sh not found"
  missing=("${PACKAGES[@]}")
else
  log "zkCli.sh present: $( [[ -x "$ZKCLI" ]] && echo "$ZKCLI" || command -v zkCli.sh )"
  if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${PACKAGES[@]}"; do
      have_package "$pkg" || missing+=("$pkg")
    done
  fi
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  log "nothing to do"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "apt-get not available; install Apache ZooKeeper 3.8+ (and kazoo) by hand: ${missing[*]}"
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  log "need root (or passwordless sudo) to install: ${missing[*]}"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
log "apt-get install --no-install-recommends ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

if [[ ! -x "$ZKCLI" ]]; then
  log "installed ${missing[*]} but $ZKCLI is still missing"
  exit 1
fi
log "installed: ${missing[*]}"
