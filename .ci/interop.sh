#!/usr/bin/env bash
# Mosquitto interop for the three MQTT transport adapters (issue 5, "Mosquitto interop").
#
#   bash .ci/interop.sh            # from anywhere; installs mosquitto and openssl with apt-get if missing
#   bash .ci/interop.sh minimq     # one adapter only: rumqttc, mqttrust or minimq
#
# Starts a private Mosquitto on 127.0.0.1 with four listeners on free ports, exports the IOT_MQTT_TEST_* variables
# the adapters' `tests/mosquitto.rs` read, runs those tests (rumqttc with TLS, mqttrust, minimq) and stops
# Mosquitto again, also on failure. The adapters' other tests need no broker and run in `cargo test --workspace`.
# Listeners:
#   plain  anonymous TCP                                   IOT_MQTT_TEST_BROKER
#   auth   password file, no anonymous login              IOT_MQTT_TEST_AUTH_BROKER, _AUTH_USER, _AUTH_PASSWORD
#   tls    TLS, server authentication by a test CA         IOT_MQTT_TEST_TLS_BROKER
#   mtls   TLS, client certificate required                IOT_MQTT_TEST_MTLS_BROKER
# and IOT_MQTT_TEST_TLS_DIR holds ca.pem, client.pem and client.key.
set -euo pipefail

case "${1:-}" in
    "" | rumqttc | mqttrust | minimq) ;;
    *)
        echo "usage: $0 [rumqttc|mqttrust|minimq]" >&2
        exit 2
        ;;
esac

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}

install_if_missing() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "interop: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ ! -x "$MOSQUITTO" ] || ! command -v openssl >/dev/null 2>&1; then
    install_if_missing mosquitto openssl
fi
[ -x "$MOSQUITTO" ] || MOSQUITTO=$(command -v mosquitto)
MOSQUITTO_PASSWD=$(dirname "$MOSQUITTO")/mosquitto_passwd
[ -x "$MOSQUITTO_PASSWD" ] || MOSQUITTO_PASSWD=$(command -v mosquitto_passwd)

WORK=$(mktemp -d /tmp/iot-interop.XXXXXX)
MOSQUITTO_PID=
cleanup() {
    if [ -n "$MOSQUITTO_PID" ] && kill -0 "$MOSQUITTO_PID" 2>/dev/null; then
        kill "$MOSQUITTO_PID"
        wait "$MOSQUITTO_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Distinct free TCP ports on the loopback: chosen by the kernel through python3, or else random ports that
# nothing answers on.
free_ports() {
    if ! command -v python3 >/dev/null 2>&1; then
        local ports=() port
        while [ ${#ports[@]} -lt "$1" ]; do
            port=$((20000 + RANDOM % 40000))
            case " ${ports[*]} " in *" $port "*) continue ;; esac
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
            ports+=("$port")
        done
        echo "${ports[*]}"
        return
    fi
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
read -r PORT_PLAIN PORT_AUTH PORT_TLS PORT_MTLS <<<"$(free_ports 4)"

# A throwaway CA, a server certificate for 127.0.0.1/localhost (in the subjectAltName, which rustls requires:
# protocol.md §3.4) and a client certificate.
(
    cd "$WORK"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=iot-interop test CA" \
        -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out server.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=iot-interop device" -keyout client.key -out client.csr 2>/dev/null
    # An extension makes it an X.509 v3 certificate; webpki refuses v1 end-entity certificates.
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext \
        -out client.pem 2>/dev/null
)

AUTH_USER=device
AUTH_PASSWORD="interop-$RANDOM$RANDOM"
: >"$WORK/passwd"
"$MOSQUITTO_PASSWD" -b "$WORK/passwd" "$AUTH_USER" "$AUTH_PASSWORD"
chmod 0600 "$WORK/passwd" "$WORK"/*.key
# Mosquitto drops root privileges to user `mosquitto` when started as root; let it read the files.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    chown -R mosquitto "$WORK"
fi

cat >"$WORK/mosquitto.conf" <<EOF
per_listener_settings true
persistence false
log_dest file $WORK/mosquitto.log
log_type error
log_type warning
log_type notice
connection_messages true

listener $PORT_PLAIN 127.0.0.1
allow_anonymous true

listener $PORT_AUTH 127.0.0.1
allow_anonymous false
password_file $WORK/passwd

listener $PORT_TLS 127.0.0.1
allow_anonymous true
cafile $WORK/ca.pem
certfile $WORK/server.pem
keyfile $WORK/server.key

listener $PORT_MTLS 127.0.0.1
allow_anonymous true
cafile $WORK/ca.pem
certfile $WORK/server.pem
keyfile $WORK/server.key
require_certificate true
EOF

"$MOSQUITTO" -c "$WORK/mosquitto.conf" &
MOSQUITTO_PID=$!

# Wait until every listener accepts TCP connections (at most 10 s).
for port in $PORT_PLAIN $PORT_AUTH $PORT_TLS $PORT_MTLS; do
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue 2
        fi
        kill -0 "$MOSQUITTO_PID" 2>/dev/null || { cat "$WORK/mosquitto.log" >&2; echo "interop: mosquitto exited" >&2; exit 1; }
        sleep 0.1
    done
    cat "$WORK/mosquitto.log" >&2
    echo "interop: mosquitto did not open port $port" >&2
    exit 1
done
echo "interop: mosquitto $("$MOSQUITTO" -h | sed -n 's/^mosquitto version //p') on 127.0.0.1 ports plain=$PORT_PLAIN auth=$PORT_AUTH tls=$PORT_TLS mtls=$PORT_MTLS"

export IOT_MQTT_TEST_BROKER=127.0.0.1:$PORT_PLAIN
export IOT_MQTT_TEST_AUTH_BROKER=127.0.0.1:$PORT_AUTH
export IOT_MQTT_TEST_AUTH_USER=$AUTH_USER
export IOT_MQTT_TEST_AUTH_PASSWORD=$AUTH_PASSWORD
export IOT_MQTT_TEST_TLS_BROKER=127.0.0.1:$PORT_TLS
export IOT_MQTT_TEST_MTLS_BROKER=127.0.0.1:$PORT_MTLS
export IOT_MQTT_TEST_TLS_DIR=$WORK

status=0
case "${1:-}" in
    "")
        # One build with the workspace's feature set (plus rumqttc's TLS), so the artifacts of
        # `cargo test --workspace` are reused; only the three adapters have a test target named `mosquitto`.
        cargo test --workspace --features iot-transport-rumqttc/tls --test mosquitto || status=1
        ;;
    rumqttc) cargo test -p iot-transport-rumqttc --features tls --test mosquitto || status=1 ;;
    *) cargo test -p "iot-transport-$1" --test mosquitto || status=1 ;;
esac

if [ $status -ne 0 ]; then
    echo "interop: mosquitto log:" >&2
    tail -n 50 "$WORK/mosquitto.log" >&2 || true
fi
exit $status
