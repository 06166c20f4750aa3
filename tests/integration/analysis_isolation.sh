#!/usr/bin/env bash
# The analysis runs in a supervised child process (`calcnode worker`): a crash there must
# not take the DICOM receiver down.
#   1. Study A (4 full-field views) is being analysed when its analysis process is killed
#      with SIGSEGV. The node still answers C-ECHO and stores a further image (study B)
#      during the outage; the log names the signal and the restart; A's job is failed at
#      once with the reason (not left to its lease), retried, and A is analysed exactly
#      once: one done job, its result objects delivered once to a storescp peer.
#   2. Study C's analysis is killed at every attempt (max_attempts lowered to 2 for the
#      test): its job ends dead with the reason, and the node goes on receiving.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool storescu
need_tool storescp
need_tool echoscu
need_tool psql
need_tool pgrep
[ -x "$(dirname "$CALCNODE_BIN")/phantom" ] || skip "phantom tool not built"
ulimit -c 0 # the killed analysis process leaves no core file behind
# In a sanitizer build, AddressSanitizer would catch the SIGSEGV and exit with status 1:
# let the signal end the process as it would in a release build.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"

pacs_port=$(free_port)
mkdir -p "$TEST_TMP/pacs"
# +uf: a unique file per reception, so a second delivery of an object shows as a second file
storescp +uf -aet STORESCU -od "$TEST_TMP/pacs" "$pacs_port" >"$TEST_TMP/storescp.log" 2>&1 &
CLEANUP_PIDS+=($!)

start_node --peer "STORESCU=127.0.0.1:$pacs_port" --workers 1 --quiet-period 3

uid_a=1.2.826.0.1.3680043.10.1497.9.7301
uid_b=1.2.826.0.1.3680043.10.1497.9.7302
uid_c=1.2.826.0.1.3680043.10.1497.9.7303
# full-field images: an analysis lasts long enough to be killed while it runs
make_study "$TEST_TMP/a" "$uid_a" 7301 P7301 3072 2496
make_study "$TEST_TMP/b" "$uid_b" 7311 P7302 1024 832 "L CC"
make_study "$TEST_TMP/c" "$uid_c" 7321 P7303 3072 2496

job_field() { # job_field STUDY COLUMN: the column of the study's jobs, comma-separated
  node_sql "SELECT coalesce(string_agg($2::text, ',' ORDER BY id), 'none')
              FROM jobs WHERE study_instance_uid = '$1'"
}
job_is() { [ "$(job_field "$1" state)" = "$2" ]; }
job_failed_with() { [ "$(job_field "$1" "state || ' ' || coalesce(error, '')")" = "failed $2" ]; }

# kill_analysis STUDY: SIGSEGV to the analysis process while it runs the study's job; its
# pid, taken from the job's worker id (HOST:PID:N), must be the node's `calcnode worker`
# child. Sets VICTIM.
kill_analysis() {
  local worker child
  worker=$(job_field "$1" worker)
  VICTIM=$(cut -d: -f2 <<<"$worker")
  child=$(pgrep -P "$NODE_PID" -f 'calcnode worker' || true)
  [ -n "$VICTIM" ] && [ "$VICTIM" = "$child" ] \
    || fail "the job's worker $worker is not the node's analysis process (${child:-none})"
  kill -SEGV "$VICTIM"
}

restarted_after() { # restarted_after PID: a new analysis process runs
  local child
  child=$(pgrep -P "$NODE_PID" -f 'calcnode worker' || true)
  [ -n "$child" ] && [ "$child" != "$1" ]
}

reason="the analysis process died (signal 11)"

# --- 1. a crash during A's analysis
send_files STORESCU "$TEST_TMP"/a/*.dcm
wait_for 60 "study A's job running" job_is "$uid_a" running
kill_analysis "$uid_a"
echo "killed analysis process $VICTIM with SIGSEGV during study A's job"
# the receiver goes on: C-ECHO and a C-STORE while no analysis process runs
echoscu -to 5 -aec CALCNODE 127.0.0.1 "$NODE_PORT" || fail "no C-ECHO after the analysis crashed"
send_files STORESCU "$TEST_TMP"/b/*.dcm
kill -0 "$NODE_PID" || fail "calcnode died with its analysis process"
wait_for 10 "study A's job failed with the reason" job_failed_with "$uid_a" "$reason"
grep -q "analysis process (pid $VICTIM) died by signal 11" "$TEST_TMP/node.log" \
  || fail "the log does not name the signal"
grep -q "analysis process: restarting in 1.0 s" "$TEST_TMP/node.log" \
  || fail "the log does not announce the restart"
wait_for 10 "a new analysis process" restarted_after "$VICTIM"
grep -q "analysis process started (pid $(pgrep -P "$NODE_PID" -f 'calcnode worker'))" \
  "$TEST_TMP/node.log" || fail "the log does not name the new analysis process"
grep -q "\[analysis [0-9]*\] " "$TEST_TMP/node.log" \
  || fail "the analysis process's log lines are not tagged"

wait_for 120 "study A analysed on its retry" job_is "$uid_a" done
wait_for 60 "study B analysed" job_is "$uid_b" done
[ "$(job_field "$uid_a" attempts)" = 2 ] || fail "study A: $(job_field "$uid_a" attempts) attempts, expected 2"
[ "$(job_field "$uid_b" run_number)" = 1 ] || fail "study B: runs $(job_field "$uid_b" run_number)"

# --- 2. an analysis that crashes at every attempt ends dead with the reason
node_sql "ALTER TABLE jobs ALTER COLUMN max_attempts SET DEFAULT 2"
send_files STORESCU "$TEST_TMP"/c/*.dcm
wait_for 60 "study C's job running" job_is "$uid_c" running
kill_analysis "$uid_c"
wait_for 10 "study C's job failed after its first crash" job_failed_with "$uid_c" "$reason"
# its retry is due after the backoff of one attempt (5 s), in a restarted process
wait_for 60 "study C's job running again" job_is "$uid_c" running
[ "$(job_field "$uid_c" attempts)" = 2 ] || fail "study C's retry is attempt $(job_field "$uid_c" attempts)"
kill_analysis "$uid_c"
wait_for 10 "study C's job dead" job_is "$uid_c" dead
[ "$(job_field "$uid_c" error)" = "$reason" ] || fail "study C's job died with: $(job_field "$uid_c" error)"
grep -q "$reason; dead: no attempts left" "$TEST_TMP/node.log" || fail "the log does not say the job is dead"
[ "$(node_sql "SELECT state FROM studies WHERE study_instance_uid = '$uid_c'")" = failed ] \
  || fail "study C is not failed"
wait_for 10 "a new analysis process after the second crash" restarted_after "$VICTIM"
echoscu -to 5 -aec CALCNODE 127.0.0.1 "$NODE_PORT" || fail "no C-ECHO after the second crash"

# every result object of A and B sent, each received exactly once by the storescp peer
wait_for 120 "every result transfer sent" outbound_settled
node_sql "SELECT o.sop_instance_uid, j.study_instance_uid FROM outbound o JOIN jobs j ON j.id = o.job_id" \
  >"$TEST_TMP/outbound.txt"
node_sql "SELECT study_instance_uid, state, run_number, attempts, coalesce(error, '') FROM jobs ORDER BY id"
/usr/bin/python3 - "$TEST_TMP/outbound.txt" "$TEST_TMP/pacs" "$uid_a" "$uid_b" <<'PY' \
  || fail "the results were not delivered exactly once"
import collections, os, sys, pydicom
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
pacs, a, b = sys.argv[2], sys.argv[3], sys.argv[4]
received = collections.Counter(
    pydicom.dcmread(os.path.join(pacs, f), stop_before_pixels=True).SOPInstanceUID
    for f in os.listdir(pacs))
problems = []
studies = collections.Counter(study for _, study in rows)
if set(studies) != {a, b}:
    problems.append(f"results for {sorted(studies)}, expected A and B")
for uid, _ in rows:
    if received[uid] != 1:
        problems.append(f"{uid}: received {received[uid]} times")
extra = set(received) - {uid for uid, _ in rows}
if extra:
    problems.append(f"received objects that are not in outbound: {sorted(extra)}")
for p in problems:
    print(p)
print(f"{len(rows)} result objects, {sum(received.values())} receptions")
sys.exit(1 if problems else 0)
PY
[ "$(job_field "$uid_a" state)" = done ] || fail "study A has jobs $(job_field "$uid_a" state), expected one done"
# the shared analysis time histogram counts the images of done jobs: A's 4 once (not its
# crashed attempt) and B's 1, nothing of C
[ "$(node_sql "SELECT sum(images) FROM analysis_time")" = 5 ] \
  || fail "the analysis time histogram holds $(node_sql "SELECT sum(images) FROM analysis_time") images, expected 5"

stop_node
grep -q "analysis process stopped" "$TEST_TMP/node.log" || fail "the shutdown did not stop the analysis process"
echo "PASS: the receiver survived SIGSEGV in its analysis process, the crashed job was retried and delivered once, and a job crashing every attempt ended dead with the reason"
