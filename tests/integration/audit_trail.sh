#!/usr/bin/env bash
# The audit trail (issue 7) with real peers: a modality (DCMTK storescu) sends an image,
# an intruder (echoscu) calls the wrong AE title and is refused, the results go to a
# PACS (DCMTK storescp), an operator migrates the database and asks for a retry the
# queue refuses. Then:
#   - PostgreSQL's audit table holds one row for each of these (who, what, outcome,
#     detail), the start of the node included;
#   - every row reached a syslog collector (a UDP listener, audit_syslog =
#     udp:127.0.0.1:PORT) as one RFC 5424 datagram whose MSG is a well-formed PS3.15 A.5
#     AuditMessage (parsed by Python's xml.etree) with the EventID of its event; the
#     node's stop arrives too.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool storescu
need_tool storescp
need_tool echoscu
need_tool psql
bin=$(dirname "$CALCNODE_BIN")
[ -x "$bin/phantom" ] || skip "phantom tool not built"

# the syslog collector: each datagram as one hex line
collector_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
datagrams="$TEST_TMP/datagrams.txt"
: >"$datagrams"
/usr/bin/python3 -u - "$collector_port" "$datagrams" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "a") as out:
    while True:
        data, _ = s.recvfrom(65535)
        out.write(data.hex() + "\n")
        out.flush()
PY
CLEANUP_PIDS+=($!)

pacs_port=$(free_port)
mkdir -p "$TEST_TMP/pacs"
storescp --aetitle PACS -od "$TEST_TMP/pacs" "$pacs_port" >"$TEST_TMP/storescp.log" 2>&1 &
CLEANUP_PIDS+=($!)

cat >"$TEST_TMP/calcnode.conf" <<CONF
[node]
audit_syslog = udp:127.0.0.1:$collector_port
CONF
start_node -c "$TEST_TMP/calcnode.conf" --peer "MODALITY=127.0.0.1:$pacs_port" --workers 1 \
  --quiet-period 1

study_uid=1.2.826.0.1.3680043.10.1497.9.8101
make_study "$TEST_TMP/study" "$study_uid" 8101 P8101 1024 832 "L CC"
sop_uid=$(dcmdump -q +P 0008,0018 "$TEST_TMP/study/LCC.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p')
storescu -aet MODALITY -aec CALCNODE 127.0.0.1 "$NODE_PORT" "$TEST_TMP/study/LCC.dcm" \
  >>"$TEST_TMP/storescu.log" 2>&1 || fail "storescu failed"
if echoscu -aet INTRUDER -aec NOTCALCNODE 127.0.0.1 "$NODE_PORT" >"$TEST_TMP/intruder.log" 2>&1; then
  fail "an association to the wrong AE title was accepted"
fi

wait_for 300 "results sent to the PACS" outbound_settled
"$CALCNODE_BIN" db migrate --state-dir "$NODE_STATE" >"$TEST_TMP/migrate.log" 2>&1 \
  || { cat "$TEST_TMP/migrate.log"; fail "calcnode db migrate failed"; }
sent_id=$(node_sql "SELECT min(id) FROM outbound WHERE state = 'sent'")
if "$CALCNODE_BIN" outbound retry "$sent_id" --state-dir "$NODE_STATE" >/dev/null 2>&1; then
  fail "a sent transfer was retried"
fi

# ---- the audit table ----
expect_sql() { # expect_sql WHAT SQL EXPECTED
  local got
  got=$(node_sql "$2")
  [ "$got" = "$3" ] || fail "$1: expected '$3', got '$got'"
}
expect_sql "the node's start" \
  "SELECT actor, outcome FROM audit WHERE action = 'application start'" "CALCNODE|success"
expect_sql "the modality's association" \
  "SELECT count(*) FROM audit WHERE action = 'association accepted' AND actor = 'MODALITY'
      AND detail->>'address' LIKE '127.0.0.1:%' AND detail->>'called_ae' = 'CALCNODE'" 1
expect_sql "its release, with the instance it stored" \
  "SELECT outcome, detail->>'instances_stored' FROM audit
    WHERE action = 'association released' AND actor = 'MODALITY'" "success|1"
expect_sql "the stored instance" \
  "SELECT actor, outcome, detail->>'study_instance_uid', detail->>'patient_id'
     FROM audit WHERE action = 'instance stored' AND object = '$sop_uid'" \
  "MODALITY|success|$study_uid|P8101"
expect_sql "the refusal" \
  "SELECT actor, outcome, detail->>'called_ae', detail->>'address' LIKE '127.0.0.1:%'
     FROM audit WHERE action = 'association refused'" "INTRUDER|minor failure|NOTCALCNODE|t"
expect_sql "each result sent" \
  "SELECT count(*) = (SELECT count(*) FROM outbound WHERE state = 'sent') AND count(*) > 0
     FROM audit WHERE action = 'result sent' AND actor = 'MODALITY'
      AND detail->>'study_instance_uid' = '$study_uid'" t
expect_sql "the migration" \
  "SELECT outcome, object FROM audit WHERE action = 'migrate database'" \
  "success|schema version $(ls "$CALCNODE_SOURCE_DIR"/sql/[0-9]*.sql | wc -l)"
expect_sql "the refused retry" \
  "SELECT outcome FROM audit WHERE action = 'retry outbound' AND object = 'outbound $sent_id'" \
  "minor failure"

# ---- syslog: everything forwarded, each a valid message ----
all_forwarded() { [ "$(node_sql "SELECT count(*) FROM audit WHERE forwarded_at IS NULL")" = 0 ]; }
wait_for 30 "every audit row forwarded" all_forwarded
rows=$(node_sql "SELECT count(*) FROM audit")
node_sql "SELECT action FROM audit ORDER BY id" >"$TEST_TMP/actions.txt"
stop_node
wait_for 10 "the node's stop forwarded" grep -q . "$datagrams"
sleep 0.5 # the last datagram is written by the listener asynchronously
/usr/bin/python3 - "$datagrams" "$rows" "$study_uid" "$sop_uid" "$TEST_TMP/actions.txt" <<'PY' \
  || fail "the syslog messages are not what PS3.15 A.5 and RFC 5424 ask"
import collections, re, sys
import xml.etree.ElementTree as ET
path, rows, study_uid, sop_uid, actions_path = sys.argv[1:6]
datagrams = [bytes.fromhex(l.strip()) for l in open(path) if l.strip()]
actions = [l.strip() for l in open(actions_path) if l.strip()]
# RFC 5424 section 6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
header = re.compile(rb"^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z) "
                    rb"([!-~]{1,255}) calcnode (\d+) DICOM\+RFC3881 - \xef\xbb\xbf")
events = collections.Counter()
by_action_code = collections.Counter()
problems = []
for d in datagrams:
    m = header.match(d)
    if not m:
        problems.append(f"not RFC 5424 with MSGID DICOM+RFC3881 and a BOM: {d[:80]!r}")
        continue
    pri = int(m.group(1))
    if pri not in (84, 85):
        problems.append(f"PRI {pri} is not facility 10 with severity 4 or 5")
    root = ET.fromstring(d[m.end():].decode("utf-8"))
    if root.tag != "AuditMessage":
        problems.append(f"root element {root.tag}")
        continue
    ev = root.find("EventIdentification")
    code = ev.find("EventID").get("csd-code")
    if ev.find("EventID").get("codeSystemName") != "DCM":
        problems.append("EventID not a DCM code")
    outcome = ev.get("EventOutcomeIndicator")
    if outcome not in ("0", "4", "8", "12"):
        problems.append(f"EventOutcomeIndicator {outcome}")
    if (pri == 85) != (outcome == "0"):
        problems.append(f"PRI {pri} with outcome {outcome}")
    types = [t.get("csd-code") for t in ev.findall("EventTypeCode")]
    participants = root.findall("ActiveParticipant")
    if not participants or any(p.get("UserID") is None or
                               p.get("UserIsRequestor") not in ("true", "false")
                               for p in participants):
        problems.append(f"{code}: ActiveParticipant without UserID or UserIsRequestor")
    if root.find("AuditSourceIdentification").get("AuditSourceID") != "CALCNODE":
        problems.append("AuditSourceID is not the node's AE title")
    key = (code, tuple(types), ev.get("EventActionCode"))
    events[key] += 1
    if code == "110104":
        study = [o for o in root.findall("ParticipantObjectIdentification")
                 if o.find("ParticipantObjectIDTypeCode").get("csd-code") == "110180"]
        if not study or study[0].get("ParticipantObjectID") != study_uid:
            problems.append("an Instances Transferred message without the study")
        roles = {p.find("RoleIDCode").get("csd-code"): p for p in participants}
        if set(roles) != {"110152", "110153"}:
            problems.append(f"Instances Transferred roles {sorted(roles)}")
        if ev.get("EventActionCode") == "C":
            if roles["110153"].get("UserID") != "MODALITY" or \
               roles["110153"].get("NetworkAccessPointID") != "127.0.0.1":
                problems.append("the stored instance's source is not the modality")
            inst = study[0].find("SOPClass/Instance")
            if inst is None or inst.get("UID") != sop_uid:
                problems.append("the stored instance is not named")
    if code == "110113" and types == ["110126"]:
        if participants[0].get("UserID") != "INTRUDER":
            problems.append("the refusal does not name the caller")

expected = collections.Counter()
mapping = {
    "application start": ("110100", ("110120",), "E"),
    "application stop": ("110100", ("110121",), "E"),
    "association accepted": ("110114", ("110122",), "E"),
    "association released": ("110114", ("110123",), "E"),
    "association aborted": ("110114", ("110123",), "E"),
    "association refused": ("110113", ("110126",), "E"),
    "instance stored": ("110104", (), "C"),
    "result sent": ("110104", (), "R"),
    "migrate database": ("110113", ("110131",), "E"),
    "retry outbound": ("110113", ("110132",), "E"),
}
for a in actions + ["application stop"]:
    if a not in mapping:
        problems.append(f"unexpected audit action {a!r}")
    else:
        expected[mapping[a]] += 1
if len(datagrams) != int(rows) + 1:
    problems.append(f"{len(datagrams)} datagrams for {rows} rows and the stop")
if events != expected:
    problems.append(f"events {dict(events)} != expected {dict(expected)}")
for p in problems:
    print("problem:", p)
print(f"{len(datagrams)} audit messages:", dict(events))
sys.exit(1 if problems else 0)
PY
echo "PASS: associations, the stored instance, the refusal, the results sent, the operator's actions and the node's start and stop are in the audit table and reached syslog as PS3.15 A.5 messages"
