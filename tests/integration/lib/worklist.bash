# Helpers of the worklist tests (tests/integration/worklist_*.sh), sourced after
# common.bash (whose start_orthanc is the PACS that records every object it receives,
# duplicates included): SQL on the running node's embedded database, 4-view phantom
# studies, and the check that every result object reached the PACS exactly once.

# node_sql SQL: runs SQL on the database of the calcnode serving $NODE_STATE (its unix
# socket in STATE/run, as the role that owns the embedded cluster); prints the rows
# unaligned, fields separated by "|".
node_sql() {
  local user
  user=$([ "$(id -u)" -eq 0 ] && echo postgres || id -un)
  psql -X -A -t -q -v ON_ERROR_STOP=1 \
    "host=$(realpath "$NODE_STATE")/run dbname=calcnode user=$user" -c "$1"
}

# make_study DIR STUDY_UID SEED PATIENT_ID ROWS COLUMNS [VIEW...]: one phantom per view
# ("L CC" "L MLO" "R CC" "R MLO" when none is given) in DIR, in one study, named by view
# (LCC.dcm ...): one directory per study.
make_study() {
  local dir=$1 study=$2 seed=$3 patient=$4 rows=$5 columns=$6
  shift 6
  [ $# -gt 0 ] || set -- "L CC" "L MLO" "R CC" "R MLO"
  mkdir -p "$dir"
  local v side view
  for v in "$@"; do
    read -r side view <<<"$v"
    "$(dirname "$CALCNODE_BIN")/phantom" --seed "$seed" --rows "$rows" --columns "$columns" \
      --spacing-mm 0.1 --bits 12 --laterality "$side" --view "$view" --kind malignant \
      --out-dir "$dir" --study-uid "$study" --patient-id "$patient" --name "$side$view" >/dev/null \
      || fail "phantom failed for $side $view"
    seed=$((seed + 1))
  done
}

# wait_for SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; fails
# naming WHAT when SECONDS pass first.
wait_for() {
  local seconds=$1 what=$2
  local deadline=$((SECONDS + seconds))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "$what: not within $seconds s"
    sleep 0.2
  done
}

# outbound_settled: true when the node has result transfers and all of them are sent;
# fails the test at once when one is dead.
outbound_settled() {
  local counts total sent dead
  counts=$(node_sql "SELECT count(*), count(*) FILTER (WHERE state = 'sent'),
                            count(*) FILTER (WHERE state = 'dead') FROM outbound")
  IFS='|' read -r total sent dead <<<"$counts"
  if [ "$dead" -ne 0 ]; then
    node_sql "SELECT id, sop_instance_uid, last_status, last_error FROM outbound WHERE state = 'dead'"
    fail "$dead result transfers are dead"
  fi
  [ "$total" -gt 0 ] && [ "$sent" -eq "$total" ]
}

# check_delivered_once [EXPECTED_COUNT]: every outbound row is sent, and the PACS received
# each of their SOP Instance UIDs exactly once (its Lua record) and holds it; with
# EXPECTED_COUNT, that many distinct result objects. Prints the count.
check_delivered_once() {
  node_sql "SELECT sop_instance_uid, state FROM outbound" >"$TEST_TMP/outbound.txt"
  /usr/bin/python3 - "$TEST_TMP/outbound.txt" "$PACS_RECEIVED" "$ORTHANC_URL" "${1:-}" <<'PY' \
    || fail "the results were not delivered exactly once"
import collections, json, sys, urllib.request
rows = [l.strip().split("|") for l in open(sys.argv[1]) if l.strip()]
received = collections.Counter(l.strip() for l in open(sys.argv[2]) if l.strip())
url, expected = sys.argv[3], sys.argv[4]
problems = []
uids = collections.Counter(uid for uid, _ in rows)
for uid, n in uids.items():
    if n != 1:
        problems.append(f"{uid}: {n} outbound rows")
for uid, state in rows:
    if state != "sent":
        problems.append(f"{uid}: outbound state {state}")
    if received[uid] != 1:
        problems.append(f"{uid}: received {received[uid]} times by the PACS")
    found = json.load(urllib.request.urlopen(urllib.request.Request(
        url + "/tools/lookup", data=uid.encode(), method="POST")))
    if not any(f.get("Type") == "Instance" for f in found):
        problems.append(f"{uid}: not stored in the PACS")
if expected and len(uids) != int(expected):
    problems.append(f"{len(uids)} result objects, {expected} expected")
for p in problems:
    print(p)
print(f"{len(uids)} result objects, {sum(received[u] for u in uids)} receptions by the PACS")
sys.exit(1 if problems else 0)
PY
}
