#!/usr/bin/env bash
# DICOM TLS (PS3.15 Annex B.9) against DCMTK and the openssl tool: calcnode serves a TLS
# port beside the plain one with a CA set, so callers must present a certificate it
# signed.
#   - echoscu +tls and storescu +tls with a client certificate succeed, the instances
#     are catalogued, and the node logs the caller's certificate subject;
#   - storescu without a client certificate (+tla), or with one of an unknown CA, is
#     refused, and nothing is catalogued;
#   - plain echoscu on the TLS port fails (the log names the likely cause);
#   - a TLS 1.1 client and a TLS 1.2 client offering only suites without forward secrecy
#     are refused (BCP 195);
#   - the results of an analysed 4-view study go to a TLS peer: DCMTK storescp +tls
#     receives every SEG/SR, and calcnode checked storescp's certificate;
#   - storescu +tls and plain storescu of the same 3 full-field images are timed;
#   - a key that does not match the certificate stops calcnode at start with the reason.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool echoscu
need_tool storescu
need_tool storescp
need_tool openssl
need_tool psql
[ -x "$(dirname "$CALCNODE_BIN")/phantom" ] || skip "phantom tool not built"
echoscu --help 2>&1 | grep -- '--enable-tls' >/dev/null || skip "DCMTK was built without TLS"  # no grep -q: echoscu would get SIGPIPE under pipefail

certs=$TEST_TMP/certs
"$CALCNODE_SOURCE_DIR/tools/make-test-certs" "$certs" || fail "could not make the test certificates"

# the PACS that receives the results, over TLS, with its own check of our certificate
pacs_port=$(free_port)
mkdir -p "$TEST_TMP/pacs"
storescp +tls "$certs/server.key" "$certs/server.pem" +cf "$certs/ca.pem" --aetitle PACS \
  +xa -od "$TEST_TMP/pacs" "$pacs_port" >"$TEST_TMP/storescp.log" 2>&1 &
CLEANUP_PIDS+=($!)

cat >"$TEST_TMP/calcnode.conf" <<CONF
[peer PACS]
host = 127.0.0.1
port = $pacs_port
tls = on
CONF
NODE_PORT=$(free_port)
tls_port=$(free_port)
start_node --config "$TEST_TMP/calcnode.conf" --tls-port "$tls_port" \
  --tls-cert "$certs/server.pem" --tls-key "$certs/server.key" --tls-ca "$certs/ca.pem" \
  --workers 1 --quiet-period 600

tls_client=(+tls "$certs/client.key" "$certs/client.pem" +cf "$certs/ca.pem")
count_instances() { calcnode_ls | wc -l; }

# 1. C-ECHO over TLS with a client certificate
echoscu "${tls_client[@]}" -to 10 -aec CALCNODE 127.0.0.1 "$tls_port" >"$TEST_TMP/echo.log" 2>&1 \
  || { cat "$TEST_TMP/echo.log"; fail "echoscu +tls failed"; }
grep -q 'TLS connection from .*CN=calcnode-test-client' "$TEST_TMP/node.log" \
  || fail "the caller's certificate subject is not in the log"

# 2. refused: no client certificate, a certificate of another CA, plain DICOM, TLS 1.1,
#    TLS 1.2 without forward secrecy
mkdir -p "$TEST_TMP/images"
/usr/bin/python3 "$CALCNODE_SOURCE_DIR/tools/make-test-images" "$TEST_TMP/images" 3 \
  --rows 3328 --columns 2560 --seed 8801 >/dev/null
before=$(count_instances)
if storescu +tla +cf "$certs/ca.pem" -to 10 -aec CALCNODE -aet PACS 127.0.0.1 "$tls_port" \
  "$TEST_TMP"/images/*.dcm >"$TEST_TMP/refused.log" 2>&1; then
  fail "storescu without a client certificate was accepted"
fi
if storescu +tls "$certs/stranger.key" "$certs/stranger.pem" +cf "$certs/ca.pem" -to 10 \
  -aec CALCNODE 127.0.0.1 "$tls_port" "$TEST_TMP"/images/*.dcm >>"$TEST_TMP/refused.log" 2>&1; then
  fail "storescu with a certificate of an unknown CA was accepted"
fi
if echoscu -to 10 -aec CALCNODE 127.0.0.1 "$tls_port" >>"$TEST_TMP/refused.log" 2>&1; then
  fail "plain echoscu on the TLS port succeeded"
fi
if openssl s_client -connect "127.0.0.1:$tls_port" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' \
  -cert "$certs/client.pem" -key "$certs/client.key" -CAfile "$certs/ca.pem" \
  </dev/null >>"$TEST_TMP/refused.log" 2>&1; then
  fail "a TLS 1.1 client was accepted"
fi
if openssl s_client -connect "127.0.0.1:$tls_port" -tls1_2 -cipher 'AES128-GCM-SHA256' \
  -cert "$certs/client.pem" -key "$certs/client.key" -CAfile "$certs/ca.pem" \
  </dev/null >>"$TEST_TMP/refused.log" 2>&1; then
  fail "a TLS 1.2 client without a forward-secret suite was accepted"
fi
sleep 0.5 # the node logs a refusal after the client has already given up
for reason in 'peer did not return a certificate' 'unknown ca\|certificate verify failed' \
  'plain DICOM association on the TLS port' 'unsupported protocol' 'no shared cipher'; do
  grep -q "TLS handshake from 127.0.0.1:[0-9]* failed: .*\($reason\)" "$TEST_TMP/node.log" \
    || { grep 'TLS' "$TEST_TMP/node.log" | tail -20; fail "no refusal logged for: $reason"; }
done
[ "$(count_instances)" -eq "$before" ] || fail "a refused caller's objects were catalogued"
# each refused handshake is in the audit trail as a refused association (Security Alert)
tls_refusals=$(node_sql "SELECT count(*) FROM audit WHERE action = 'association refused'
                          AND detail->>'reason' LIKE 'TLS handshake failed:%'")
[ "$tls_refusals" -ge 5 ] || fail "$tls_refusals refused TLS handshakes audited, expected 5"
kill -0 "$NODE_PID" || fail "calcnode died"

# a client's close_notify is answered with ours (RFC 5246 7.2.1, RFC 8446 6.1)
/usr/bin/python3 - "$certs" "$tls_port" <<'PY' || fail "calcnode did not answer a close_notify"
import socket, ssl, sys
certs, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(certs + "/ca.pem")
ctx.load_cert_chain(certs + "/client.pem", certs + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.settimeout(10)
s.unwrap()  # sends ours, returns once the node's close_notify arrived (raises otherwise)
PY

# 3. a 4-view study over TLS from AE PACS: analysed, results back to PACS over TLS
study_uid=1.2.826.0.1.3680043.10.1497.9.8901
make_study "$TEST_TMP/study" "$study_uid" 8901 P8901 1024 832
storescu "${tls_client[@]}" -to 30 -aec CALCNODE -aet PACS 127.0.0.1 "$tls_port" \
  "$TEST_TMP"/study/*.dcm >"$TEST_TMP/storescu-study.log" 2>&1 \
  || { cat "$TEST_TMP/storescu-study.log"; fail "storescu +tls of the study failed"; }
[ "$(count_instances)" -eq $((before + 4)) ] || fail "the study's 4 instances are not catalogued"
wait_for 240 "every result transfer sent to the TLS peer" outbound_settled
total=$(node_sql "SELECT count(*) FROM outbound")
received=$(find "$TEST_TMP/pacs" -type f | wc -l)
[ "$received" -eq "$total" ] || fail "storescp +tls holds $received files, $total were sent"
seg=$(for f in "$TEST_TMP"/pacs/*; do dcmdump -q -Un +P 0008,0016 "$f"; done | grep -c '1.2.840.10008.5.1.4.1.1.66.4' || true)
[ "$seg" -ge 1 ] || fail "no Segmentation among the results storescp received"
grep -q 'TLS connection to 127.0.0.1:[0-9]*: .*CN=calcnode-test-server' "$TEST_TMP/node.log" \
  || fail "the TLS connection to the PACS is not in the log"
echo "results over TLS: $total objects received by storescp +tls ($seg SEG)"

# 4. the same 3 full-field images (3328 x 2560, 16 bits) over TLS and plain
time_store() { # time_store PORT [TLS options...] -> milliseconds of one storescu run
  local port=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  storescu "$@" -to 30 -aec CALCNODE -aet TIMING 127.0.0.1 "$port" "$TEST_TMP"/images/*.dcm \
    >>"$TEST_TMP/timing.log" 2>&1 || { tail -20 "$TEST_TMP/timing.log"; fail "storescu failed ($*)"; }
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
plain=() tls=()
for _ in 1 2 3 4 5; do
  plain+=("$(time_store "$NODE_PORT")")
  tls+=("$(time_store "$tls_port" "${tls_client[@]}")")
done
mib=$(du -cm "$TEST_TMP"/images/*.dcm | tail -1 | cut -f1)
echo "storescu of 3 images ($mib MiB), median of 5: plain $(median "${plain[@]}") ms," \
  "TLS $(median "${tls[@]}") ms (plain: ${plain[*]}; TLS: ${tls[*]})"

stop_node

# 5. a TLS listener whose key does not match its certificate: calcnode says why and exits
rc=0
timeout 120 "$CALCNODE_BIN" serve --state-dir "$NODE_STATE" --listen-host 127.0.0.1 \
  --port "$(free_port)" --tls-port "$(free_port)" --tls-cert "$certs/server.pem" \
  --tls-key "$certs/client.key" >"$TEST_TMP/badkey.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || { tail -5 "$TEST_TMP/badkey.log"; fail "calcnode with a mismatched TLS key exited with $rc, not 1"; }
grep -q 'could not start the DICOM TLS listener on port [0-9]*: could not load TLS key ".*client.key": key values mismatch' \
  "$TEST_TMP/badkey.log" || { tail -5 "$TEST_TMP/badkey.log"; fail "no clear message for the mismatched key"; }
echo "PASS: DICOM TLS with DCMTK: certificates checked both ways, refusals logged, results delivered over TLS"
