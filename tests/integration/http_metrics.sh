#!/usr/bin/env bash
# /metrics and /healthz against real peers: storescu sends a known 4-view study (N
# instances, B bytes of files) to calcnode started with --http-port; calcnode analyses it
# and sends its result objects to a DCMTK storescp; /metrics must then say exactly N
# instances stored, at least B bytes received, one job done, every image timed, and as
# many results sent as the outbound table holds; /healthz answers 200 "ok", and 503 with
# the reason once the database is gone.
. "$(dirname "$0")/lib/common.bash"
need_tool curl
need_tool storescu
need_tool storescp
bin=$(dirname "$CALCNODE_BIN")
[ -x "$bin/phantom" ] || skip "phantom tool not built"

study_uid=1.2.826.0.1.3680043.10.1497.9.7101
seed=7101
for v in "L CC" "L MLO" "R CC" "R MLO"; do
  set -- $v
  "$bin/phantom" --seed "$seed" --rows 1024 --columns 832 --spacing-mm 0.1 --bits 12 \
    --laterality "$1" --view "$2" --kind malignant --out-dir "$TEST_TMP/study" \
    --study-uid "$study_uid" --patient-id P7101 --name "$1$2" >/dev/null
  seed=$((seed + 1))
done
files=("$TEST_TMP"/study/*.dcm)
n=${#files[@]}
bytes=$(stat -c %s "${files[@]}" | awk '{s += $1} END {print s}')

pacs_port=$(free_port)
mkdir -p "$TEST_TMP/pacs"
storescp -aet STORESCU -od "$TEST_TMP/pacs" "$pacs_port" >"$TEST_TMP/storescp.log" 2>&1 &
CLEANUP_PIDS+=($!)

http_port=$(free_port)
start_node --http-port "$http_port" --peer "STORESCU=127.0.0.1:$pacs_port" --workers 2 \
  --quiet-period 30
url="http://127.0.0.1:$http_port"
grep -q "HTTP status on http://127.0.0.1:$http_port/" "$TEST_TMP/node.log" \
  || fail "no 'HTTP status on' line in the log"

metric() { # metric NAME_AND_LABELS: its value in a fresh scrape (empty when absent)
  curl -sf "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || fail "/healthz is not 200"
[ "$(curl -sf "$url/healthz")" = ok ] || fail "/healthz does not say ok"
[ "$(metric 'calcnode_instances_received_total{outcome="stored"}')" = 0 ] \
  || fail "instances counted before any was sent"

send_files STORESCU "${files[@]}"

# all four views: analysed at once; results go to STORESCU's storescp
deadline=$((SECONDS + 240))
while :; do
  read -r total sent dead < <("$CALCNODE_BIN" outbound --state-dir "$NODE_STATE" --json \
    | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
print(len(rows), sum(r["state"] == "sent" for r in rows), sum(r["state"] == "dead" for r in rows))')
  [ "$dead" -eq 0 ] || fail "a result transfer is dead"
  [ "$total" -gt 0 ] && [ "$sent" -eq "$total" ] && break
  [ $SECONDS -lt $deadline ] || fail "results not sent in time ($sent of $total)"
  sleep 0.5
done

curl -sf "$url/metrics" >"$TEST_TMP/metrics.txt" || fail "/metrics failed"
/usr/bin/python3 - "$TEST_TMP/metrics.txt" "$n" "$bytes" "$total" "$TEST_TMP/pacs" <<'PY' \
  || { cat "$TEST_TMP/metrics.txt"; fail "/metrics values are wrong"; }
import os, re, sys
text, n, sent_files, total, pacs = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
samples = {}
types = {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        types[name] = kind
    elif line and not line.startswith("#"):
        key, value = line.rsplit(" ", 1)
        samples[key] = float(value)
def v(key):
    assert key in samples, f"{key} missing"
    return samples[key]
assert all(k.startswith("calcnode_") for k in samples)
assert all(name.endswith("_total") for name, kind in types.items() if kind == "counter")
assert v('calcnode_instances_received_total{outcome="stored"}') == n
assert v('calcnode_instances_received_total{outcome="duplicate"}') == 0
assert v('calcnode_instances_received_total{outcome="failed"}') == 0
assert v("calcnode_received_bytes_total") >= sent_files, (v("calcnode_received_bytes_total"), sent_files)
assert v("calcnode_associations_accepted_total") >= 1
assert v("calcnode_associations_active") == 0
assert v("calcnode_listening") == 1 and v("calcnode_database_up") == 1
assert v('calcnode_jobs{state="done"}') == 1, v('calcnode_jobs{state="done"}')
assert v('calcnode_jobs{state="queued"}') == 0 and v('calcnode_jobs{state="dead"}') == 0
assert v("calcnode_oldest_queued_job_age_seconds") == 0
assert v("calcnode_studies") == 1 and v("calcnode_instances") == n
assert v("calcnode_results_sent_total") == total, (v("calcnode_results_sent_total"), total)
assert v('calcnode_outbound{state="sent"}') == total
received = sum(os.path.getsize(os.path.join(pacs, f)) for f in os.listdir(pacs))
# data set bytes sent: each result file less its preamble and meta header
assert 0 < v("calcnode_results_sent_bytes_total") <= received, (v("calcnode_results_sent_bytes_total"), received)
assert v('calcnode_outbound_failures_total{destination="STORESCU"}') == 0
assert v("calcnode_analysis_seconds_count") == n
assert v('calcnode_analysis_seconds_bucket{le="+Inf"}') == n
assert v("calcnode_analysis_seconds_sum") > 0
buckets = [(float(re.search(r'le="([^"]+)"', k).group(1)), s) for k, s in samples.items()
           if k.startswith("calcnode_analysis_seconds_bucket")]
buckets.sort()
assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "buckets not cumulative"
print(f"metrics ok: {n} instances, {int(v('calcnode_received_bytes_total'))} bytes received, "
      f"{total} results sent ({int(v('calcnode_results_sent_bytes_total'))} bytes), "
      f"analysis sum {v('calcnode_analysis_seconds_sum'):.2f} s")
PY

# wrong method and unknown pages
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/metrics")" = 405 ] || fail "POST not refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/image/..%2f..%2fetc%2fpasswd.png")" = 404 ] \
  || fail "a malformed image UID was not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/image/1.2.3.4.png")" = 404 ] \
  || fail "an unknown image UID was not 404"

# the database gone: /healthz says 503 and why (the embedded cluster is stopped under us)
pg_pid=$(head -n 1 "$NODE_STATE/pg/postmaster.pid" 2>/dev/null || true)
if [ -n "$pg_pid" ]; then
  kill -INT "$pg_pid"
  deadline=$((SECONDS + 30))
  # stopped: its pid file is gone (the process may linger as a zombie of calcnode's)
  while [ -e "$NODE_STATE/pg/postmaster.pid" ]; do
    [ $SECONDS -lt $deadline ] || fail "the embedded PostgreSQL did not stop"
    sleep 0.2
  done
  code=$(curl -s -o "$TEST_TMP/health.txt" -w '%{http_code}' "$url/healthz")
  [ "$code" = 503 ] || fail "/healthz answered $code with the database gone"
  grep -q "^database: " "$TEST_TMP/health.txt" || fail "/healthz gave no reason: $(cat "$TEST_TMP/health.txt")"
  echo "healthz without the database: $(cat "$TEST_TMP/health.txt")"
  [ "$(metric calcnode_database_up)" = 0 ] || fail "calcnode_database_up is not 0"
  # a clean shutdown waits for the database it drains into; a second signal cuts it short
  kill -TERM "$NODE_PID"
  sleep 0.5
  kill -TERM "$NODE_PID"
  rc=0
  timeout 10 tail --pid="$NODE_PID" -f /dev/null || fail "calcnode did not exit after a second SIGTERM"
  wait "$NODE_PID" || rc=$?
  [ "$rc" = 3 ] || fail "exit status $rc after a second SIGTERM, expected 3"
  grep -q "database does not answer" "$TEST_TMP/node.log" || fail "no warning about the database at the first signal"
  NODE_PID=
else
  echo "no embedded postmaster.pid: the database-gone check is skipped"
  stop_node
fi
echo "PASS: /metrics counts the study, its analysis and its results exactly; /healthz follows the database"
