#!/bin/sh
# Install what is missing, build, create ./data with a demo tenant (first run only)
# and serve it on 127.0.0.1:7420 and ./data/clinickv.sock. Ctrl-C stops the server.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCLINICKV_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
DATA=${CLINICKV_DATA:-./data}
PASSWORD_FILE="$DATA.admin-password"
if [ ! -d "$DATA/db" ]; then
    # A random admin password, kept beside the data directory (mode 0600) so it can be shown again.
    umask 077
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$PASSWORD_FILE"
    CLINICKV_ADMIN_PASSWORD=$(cat "$PASSWORD_FILE") ./build/clinickv init --data "$DATA" \
        --tenant demo --admin-email admin@demo.clinic --demo
fi
cat <<MSG

clinickv is starting on 127.0.0.1:7420 (msgpack-RPC) with data in $DATA.
Log in as tenant "demo", email admin@demo.clinic, password in $PASSWORD_FILE:
  $(cat "$PASSWORD_FILE" 2>/dev/null || echo '(set when the directory was created)')
Demo staff (dentist@demo.clinic, frontdesk@demo.clinic, ...) use the password "password".
Try it from another terminal:
  /usr/bin/python3 scripts/hello.py
MSG
exec ./build/clinickv serve --data "$DATA"
