#!/bin/sh
# Installs every Debian package Parley needs to build, test and benchmark.
# As root it installs what is missing; as another user it prints the
# apt-get line to run and stops.
set -eu

PKGS="build-essential cmake pkg-config clang clang-format clang-tidy \
libclang-rt-14-dev libutf8proc-dev libstemmer-dev libxxhash-dev \
libcmocka-dev libjansson-dev libyaml-dev libzstd-dev \
python3 python3-yaml python3-jsonschema fasttext liblinear-tools time \
libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev wrk curl \
libreadline-dev libsodium-dev libhyperscan-dev"

# Customers' time zones (quiet hours): the compiled IANA zone files in
# /usr/share/zoneinfo that parley_tz_offset reads.
PKGS="$PKGS tzdata"
# Event intake at scale (docs/proactive.md): the JetStream client library,
# and the server the tests start on loopback.
PKGS="$PKGS libnats-dev nats-server"

# Browser tests (tests/web): Debian's Chromium, driven by Node.js. A Node.js
# that brings its own npm (NodeSource's) is kept: Debian's npm conflicts with it.
PKGS="$PKGS chromium"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

# tests/web's npm packages (playwright-core), installed from its lock file;
# nothing to do (and no network needed) when they are already there.
web_test_packages() {
    web="$(dirname "$0")/../tests/web"
    if [ -f "$web/node_modules/playwright-core/package.json" ] &&
        [ "$web/node_modules/.package-lock.json" -nt "$web/package-lock.json" ]; then
        return 0
    fi
    echo "parley setup: npm ci in tests/web" >&2
    npm ci --prefix "$web" --no-audit --no-fund >/dev/null
}

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    web_test_packages
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "parley setup: missing Debian packages:$missing" >&2
    echo "run as root:  apt-get install -y$missing" >&2
    exit 1
fi

echo "parley setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
web_test_packages
