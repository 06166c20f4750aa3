#!/usr/bin/env bash
# The PACS is down when the results are ready: a 4-view study arrives from AE ORTHANC,
# is analysed, and every result transfer fails (connection refused) and waits for a
# retry time; Orthanc then starts on the peer's port and every result object arrives,
# each exactly once (Orthanc's record of every C-STORE it received, duplicates included),
# and every outbound row is sent.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool storescu
need_tool psql
need_tool curl
[ -x "$(dirname "$CALCNODE_BIN")/phantom" ] || skip "phantom tool not built"

NODE_PORT=$(free_port)
pacs_port=$(free_port) # nothing listens here until start_orthanc below
start_node --peer "ORTHANC=127.0.0.1:$pacs_port" --workers 1 --quiet-period 30

study_uid=1.2.826.0.1.3680043.10.1497.9.7101
make_study "$TEST_TMP/study" "$study_uid" 7101 P7101 1024 832
send_files ORTHANC "$TEST_TMP"/study/*.dcm

# all four views: the job runs at once; its results cannot be delivered
all_failed_with_retry_time() {
  local counts total waiting
  counts=$(node_sql "SELECT count(*),
                            count(*) FILTER (WHERE state = 'failed' AND attempts >= 1
                                             AND next_attempt_at > updated_at
                                             AND coalesce(last_error, '') <> '')
                       FROM outbound") || return 1
  IFS='|' read -r total waiting <<<"$counts"
  [ "$total" -gt 0 ] && [ "$waiting" -eq "$total" ]
}
wait_for 120 "the result transfers failing with a retry time" all_failed_with_retry_time
[ "$(node_sql "SELECT count(*) FROM jobs WHERE state = 'done'")" -eq 1 ] || fail "the study's job is not done"
total=$(node_sql "SELECT count(*) FROM outbound")
echo "$total result transfers failed while the PACS was down, for example:"
node_sql "SELECT attempts, next_attempt_at - updated_at, last_error FROM outbound LIMIT 1"

start_orthanc "$pacs_port"
# the first retry is due about 5 s after the failure, the second about 10 s later
wait_for 120 "every result transfer sent once the PACS is up" outbound_settled
retried=$(node_sql "SELECT count(*) FROM outbound WHERE attempts >= 2")
[ "$retried" -eq "$total" ] || fail "$retried of $total transfers were retried, all had failed"
check_delivered_once "$total"
stop_node
echo "PASS: $total result objects waited for the PACS and were delivered once when it came up"
