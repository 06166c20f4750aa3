#!/usr/bin/env bash
# Workers in other processes share the node's queue: `calcnode serve` plus two
# `calcnode worker` processes on the same state directory (the node's embedded database,
# through its socket). Six 4-view studies arrive on one association; each study is
# analysed exactly once (one done job of run 1, one attempt), both worker processes take
# jobs, and every result object, whichever process wrote it, reaches the PACS once.
#
# calcnode serve runs an analysis process of its own here (--workers 1: one thread), which
# competes for the jobs.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool storescu
need_tool psql
need_tool curl
[ -x "$(dirname "$CALCNODE_BIN")/phantom" ] || skip "phantom tool not built"

NODE_PORT=$(free_port)
start_orthanc
start_node --peer "ORTHANC=127.0.0.1:$ORTHANC_DICOM_PORT" --workers 1 --quiet-period 30

worker_pids=()
for n in 1 2; do
  "$CALCNODE_BIN" worker --state-dir "$NODE_STATE" --workers 1 --log-level debug \
    >"$TEST_TMP/worker$n.log" 2>&1 &
  worker_pids+=($!)
  CLEANUP_PIDS+=($!)
done
registered() {
  [ "$(node_sql "SELECT count(DISTINCT pid) FROM workers
                  WHERE pid IN (${worker_pids[0]}, ${worker_pids[1]})")" -eq 2 ]
}
wait_for 60 "both worker processes registered" registered

# 2048x1664 images: a job takes several seconds, longer than a study takes to arrive, so
# the first three studies find the first two workers busy and go to three processes
studies=()
for s in 1 2 3 4 5 6; do
  uid=1.2.826.0.1.3680043.10.1497.9.73$s
  studies+=("$uid")
  make_study "$TEST_TMP/studies/$s" "$uid" $((7300 + 10 * s)) "P730$s" 2048 1664
done
send_files ORTHANC "$TEST_TMP"/studies/*/*.dcm

all_done() {
  [ "$(node_sql "SELECT count(*) FROM jobs WHERE state = 'done'")" -ge 6 ] \
    && [ "$(node_sql "SELECT count(*) FROM jobs WHERE state <> 'done'")" -eq 0 ]
}
deadline=$((SECONDS + 150))
until all_done; do
  if [ $SECONDS -ge $deadline ]; then
    node_sql "SELECT id, study_instance_uid, state, attempts, worker, error FROM jobs ORDER BY id"
    for n in 1 2; do echo "---- worker $n log (last 20 lines) ----"; tail -n 20 "$TEST_TMP/worker$n.log"; done
    fail "six studies not analysed within 150 s"
  fi
  sleep 0.2
done

node_sql "SELECT study_instance_uid, state, run_number, attempts, worker FROM jobs ORDER BY id" \
  >"$TEST_TMP/jobs.txt"
cat "$TEST_TMP/jobs.txt"
calcnode_status >"$TEST_TMP/status.json"
/usr/bin/python3 - "$TEST_TMP/jobs.txt" "$TEST_TMP/status.json" "$NODE_PID" "${worker_pids[@]}" \
  "${studies[@]}" <<'PY' || fail "the studies were not analysed once each by both worker processes"
import collections, json, sys
jobs = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
status = json.load(open(sys.argv[2]))
node_pid, worker_pids, studies = sys.argv[3], sys.argv[4:6], sys.argv[6:]
problems = []
per_study = collections.Counter(j[0] for j in jobs)
for s in studies:
    if per_study[s] != 1:
        problems.append(f"{s}: {per_study[s]} jobs")
for study, state, run, attempts, worker in jobs:
    if (state, run, attempts) != ("done", "1", "1"):
        problems.append(f"{study}: {state}, run {run}, {attempts} attempts")
# status --json: one entry per worker thread, id host:pid:thread
done_by_pid = collections.Counter()
for w in status["workers"]:
    done_by_pid[w["id"].split(":")[-2]] += w["jobs_done"]
print("jobs done by process:", {("worker " + p if p in worker_pids else "serve's analysis " + p): n
                                for p, n in done_by_pid.items()})
for p in worker_pids:
    if done_by_pid[p] == 0:
        problems.append(f"calcnode worker {p} did no job")
if sum(done_by_pid.values()) != len(studies):
    problems.append(f"{sum(done_by_pid.values())} jobs done by the workers, {len(studies)} studies")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY

wait_for 120 "every result transfer sent" outbound_settled
check_delivered_once
for pid in "${worker_pids[@]}"; do
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ $rc -eq 0 ] || fail "calcnode worker $pid exited with status $rc"
done
stop_node
echo "PASS: six studies analysed once each, by serve and two worker processes, results delivered once"
