#!/usr/bin/env bash
# Audit messages over syslog TLS (RFC 5425, the transport of PS3.15 A.6): a collector
# (Python's ssl module) that requires a client certificate of the test CA receives the
# node's audit events, octet-counted, each an RFC 5424 message whose MSG is a well-formed
# PS3.15 A.5 AuditMessage. A collector of another CA is refused and nothing is marked
# forwarded for it: the rows wait in the audit table. A collector that never answers the
# handshake is dropped after the I/O deadline and does not hold the node's shutdown.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool echoscu
need_tool openssl
need_tool psql

certs=$TEST_TMP/pki
"$CALCNODE_SOURCE_DIR/tools/make-test-certs" "$certs" >/dev/null

# collector CERT KEY PORT OUT: accepts TLS connections that present a client certificate
# of the test CA and appends each octet-counted frame (RFC 6587 3.4.1) as a hex line.
collector() {
  /usr/bin/python3 -u - "$@" <<'PY' &
import socket, ssl, sys
cert, key, ca, port, out = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(port)))
srv.listen(4)
while True:
    raw, _ = srv.accept()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        continue
    buf = b""
    with open(out, "a") as f:
        while True:
            try:
                data = conn.recv(65536)
            except (ssl.SSLError, OSError):
                break
            if not data:
                break
            buf += data
            while b" " in buf:
                length, rest = buf.split(b" ", 1)
                n = int(length)
                if len(rest) < n:
                    break
                f.write(rest[:n].hex() + "\n")
                f.flush()
                buf = rest[n:]
    conn.close()
PY
  CLEANUP_PIDS+=($!)
}

port=$(free_port)
messages=$TEST_TMP/messages.txt
: >"$messages"
collector "$certs/server.pem" "$certs/server.key" "$certs/ca.pem" "$port" "$messages"

cat >"$TEST_TMP/calcnode.conf" <<CONF
[node]
audit_syslog = tls:127.0.0.1:$port
tls_cert = $certs/client.pem
tls_key = $certs/client.key
tls_ca = $certs/ca.pem
CONF
start_node -c "$TEST_TMP/calcnode.conf" --workers none
echoscu -aet MODALITY -aec CALCNODE 127.0.0.1 "$NODE_PORT" >/dev/null 2>&1 || fail "echoscu failed"
echoscu -aet INTRUDER -aec NOTCALCNODE 127.0.0.1 "$NODE_PORT" >/dev/null 2>&1 \
  && fail "the wrong called AE title was accepted"
wait_for 20 "every audit row forwarded over TLS" \
  test "$(node_sql "SELECT count(*) FROM audit WHERE forwarded_at IS NULL")" = 0
rows=$(node_sql "SELECT count(*) FROM audit")
stop_node

/usr/bin/python3 - "$messages" "$rows" <<'PY' || fail "the syslog TLS messages are not what was audited"
import re, sys
import xml.etree.ElementTree as ET
frames = [bytes.fromhex(l.strip()) for l in open(sys.argv[1]) if l.strip()]
rows = int(sys.argv[2])
problems, events = [], []
header = re.compile(rb"^<(\d+)>1 \S+ \S+ calcnode \d+ DICOM\+RFC3881 - \xef\xbb\xbf")
for f in frames:
    m = header.match(f)
    if not m:
        problems.append(f"not RFC 5424 with MSGID DICOM+RFC3881 and a BOM: {f[:80]!r}")
        continue
    root = ET.fromstring(f[m.end():].decode("utf-8"))
    if root.tag != "AuditMessage":
        problems.append(f"root element {root.tag}")
        continue
    events.append(root.find("EventIdentification/EventID").get("csd-code"))
# every row recorded while running, and the node's stop
if len(frames) != rows + 1:
    problems.append(f"{len(frames)} messages for {rows} rows and the stop")
for code in ("110100", "110114", "110113"):  # activity, user authentication, security alert
    if code not in events:
        problems.append(f"no event {code} among {events}")
for p in problems:
    print(p)
print(f"{len(frames)} messages over TLS: {events}")
sys.exit(1 if problems else 0)
PY

# a collector whose certificate the node's CA did not sign: refused, rows kept unforwarded
port2=$(free_port)
: >"$TEST_TMP/stranger.txt"
collector "$certs/stranger.pem" "$certs/stranger.key" "$certs/ca.pem" "$port2" "$TEST_TMP/stranger.txt"
sed -i "s/^audit_syslog = .*/audit_syslog = tls:127.0.0.1:$port2/" "$TEST_TMP/calcnode.conf"
start_node -c "$TEST_TMP/calcnode.conf" --workers none
echoscu -aet MODALITY -aec CALCNODE 127.0.0.1 "$NODE_PORT" >/dev/null 2>&1 || fail "echoscu failed"
wait_for 20 "the refused collector in the log" grep -q "audit collector\|TLS" "$TEST_TMP/node.log"
sleep 2
[ ! -s "$TEST_TMP/stranger.txt" ] || fail "messages reached a collector of another CA"
waiting=$(node_sql "SELECT count(*) FROM audit WHERE forwarded_at IS NULL")
[ "$waiting" -ge 3 ] || fail "only $waiting rows wait for a trusted collector"
stop_node

# a collector that accepts TCP but never answers the TLS handshake: the connection is
# dropped after the forwarder's I/O deadline, and a shutdown is not held by it
port3=$(free_port)
/usr/bin/python3 - "$port3" <<'PY' &
import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(8)
held = []
while True:
    conn, _ = srv.accept()
    held.append(conn)  # never read, never answered
PY
CLEANUP_PIDS+=($!)
sed -i "s/^audit_syslog = .*/audit_syslog = tls:127.0.0.1:$port3/" "$TEST_TMP/calcnode.conf"
start_node -c "$TEST_TMP/calcnode.conf" --workers none
wait_for 25 "the silent collector dropped" grep -q "did not accept the connection within" "$TEST_TMP/node.log"
start=$SECONDS
stop_node
[ $((SECONDS - start)) -le 25 ] || fail "the shutdown took $((SECONDS - start)) s with a silent collector"
echo "PASS: audit events over syslog TLS to a trusted collector only ($waiting rows wait); a silent collector is dropped"
