#!/usr/bin/env bash
# kill -9 of calcnode with work in every state of the worklist, then a restart:
#   study A (4 views) its job running on the only worker thread,
#   study B (4 views) its job queued behind A,
#   study C (3 views) still receiving, inside its quiet period (no job yet).
# After the restart every acknowledged instance is present and readable, B is analysed
# and C is queued when the rest of its quiet period ends, A's job is taken over at once
# (its worker's process on this host is gone, so its lease need not run out), each study
# gets exactly one done job (run 1), and every result object reaches the PACS exactly
# once.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool storescu
need_tool psql
need_tool curl
[ -x "$(dirname "$CALCNODE_BIN")/phantom" ] || skip "phantom tool not built"

NODE_PORT=$(free_port)
start_orthanc
node_options=(--peer "ORTHANC=127.0.0.1:$ORTHANC_DICOM_PORT" --workers 1 --quiet-period 20)
start_node "${node_options[@]}"

uid_a=1.2.826.0.1.3680043.10.1497.9.7201
uid_b=1.2.826.0.1.3680043.10.1497.9.7202
uid_c=1.2.826.0.1.3680043.10.1497.9.7203
# A's images are large so that its analysis is still running when the node is killed
make_study "$TEST_TMP/a" "$uid_a" 7201 P7201 3072 2496
make_study "$TEST_TMP/b" "$uid_b" 7211 P7202 1024 832
make_study "$TEST_TMP/c" "$uid_c" 7221 P7203 1024 832 "L CC" "L MLO" "R CC"

job_state() {
  node_sql "SELECT coalesce(string_agg(state, ',' ORDER BY id), 'none')
              FROM jobs WHERE study_instance_uid = '$1'"
}
job_is() { [ "$(job_state "$1")" = "$2" ]; }

send_files ORTHANC "$TEST_TMP"/c/*.dcm
send_files ORTHANC "$TEST_TMP"/a/*.dcm
wait_for 60 "study A's job running" job_is "$uid_a" running
send_files ORTHANC "$TEST_TMP"/b/*.dcm
wait_for 10 "study B's job queued" job_is "$uid_b" queued
state_a=$(job_state "$uid_a")
state_c=$(job_state "$uid_c")
study_c=$(node_sql "SELECT state FROM studies WHERE study_instance_uid = '$uid_c'")
study_a=$(node_sql "SELECT state FROM studies WHERE study_instance_uid = '$uid_a'")
study_b=$(node_sql "SELECT state FROM studies WHERE study_instance_uid = '$uid_b'")
kill -9 "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
NODE_PID=
echo "killed with A $state_a, B queued, C $state_c (study $study_c)"
[ "$state_a" = running ] || fail "study A's job was $state_a at the kill: too late to test a running job"
[ "$state_c" = none ] && [ "$study_c" = receiving ] || fail "study C was not receiving at the kill"
[ "$study_a" = analysing ] && [ "$study_b" = queued ] \
  || fail "studies A and B were $study_a and $study_b at the kill, expected analysing and queued"

# The embedded server gets a fast shutdown when its parent dies; wait for it to go.
deadline=$((SECONDS + 60))
while pgrep -f "postgres -D $NODE_STATE/pg" >/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the embedded PostgreSQL outlived calcnode"
  sleep 0.2
done

start_node "${node_options[@]}"
# send_files succeeded: storescu saw Success for every instance of the three studies
calcnode_ls >"$TEST_TMP/ls.json"
/usr/bin/python3 - "$TEST_TMP/ls.json" "$TEST_TMP"/[abc]/*.dcm <<'PY' || fail "acknowledged instances are missing"
import json, sys, pydicom
rows = {json.loads(l)["sop_instance_uid"]: json.loads(l) for l in open(sys.argv[1])}
bad = 0
for path in sys.argv[2:]:
    sent = pydicom.dcmread(path)
    row = rows.get(sent.SOPInstanceUID)
    if row is None:
        print("missing from the catalogue:", sent.SOPInstanceUID); bad += 1; continue
    stored = pydicom.dcmread(row["path"])
    if stored.SOPInstanceUID != sent.SOPInstanceUID or stored.PixelData != sent.PixelData:
        print("stored file differs:", sent.SOPInstanceUID); bad += 1
print(f"{len(sys.argv) - 2} acknowledged, {len(rows)} catalogued, {bad} missing or damaged")
sys.exit(1 if bad else 0)
PY

wait_for 90 "study B analysed after the restart" job_is "$uid_b" done
# the worker lease is 120 s: A being done well before shows it was taken over at once
wait_for 60 "study A's job taken over from the dead worker" job_is "$uid_a" done
wait_for 60 "study C analysed after the rest of its quiet period" job_is "$uid_c" done

node_sql "SELECT study_instance_uid, state, run_number, attempts, instances_analysed FROM jobs ORDER BY id" \
  >"$TEST_TMP/jobs.txt"
cat "$TEST_TMP/jobs.txt"
/usr/bin/python3 - "$TEST_TMP/jobs.txt" "$uid_a" "$uid_b" "$uid_c" <<'PY' || fail "the jobs are not one done run per study"
import sys
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
a, b, c = sys.argv[2:5]
by_study = {}
for study, state, run, attempts, analysed in rows:
    by_study.setdefault(study, []).append((state, int(run), int(attempts), int(analysed or 0)))
problems = []
for study, views in ((a, 4), (b, 4), (c, 3)):
    jobs = by_study.get(study, [])
    if len(jobs) != 1 or jobs[0][:2] != ("done", 1) or jobs[0][3] != views:
        problems.append(f"{study}: {jobs}, expected one done job of run 1 over {views} images")
# A's first attempt died with the node; the take-over is its second
if by_study.get(a) and by_study[a][0][2] != 2:
    problems.append(f"{a}: {by_study[a][0][2]} attempts, expected 2")
if len(by_study) != 3:
    problems.append(f"jobs for {sorted(by_study)}")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY

states=$(node_sql "SELECT DISTINCT state FROM studies")
[ "$states" = analysed ] || fail "the studies' states after their runs: $states, expected analysed"
wait_for 120 "every result transfer sent" outbound_settled
check_delivered_once
stop_node
echo "PASS: after kill -9 every acknowledged instance was kept, the running, queued and receiving studies were each analysed once and their results delivered once"
