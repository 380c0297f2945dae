#!/bin/sh
# Install what clinickv needs from Debian's packages, only if something is missing.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh --test   also the test dependencies (Check, python3-msgpack, MariaDB)
set -eu
pkgs="build-essential cmake pkg-config python3 liblmdb-dev libuv1-dev libmsgpack-dev libsodium-dev libutf8proc-dev"
if [ "${1:-}" = "--test" ]; then
    # MariaDB is the reference for what the DDL means: the comparison tests load the
    # same DDL and replay the same operations into a private instance.
    pkgs="$pkgs check python3-msgpack lmdb-utils mariadb-server mariadb-client tzdata strace clang-format git"
else
    pkgs="$pkgs python3-msgpack"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
