#!/usr/bin/env bash
# kill -9 of calcnode in the middle of a transfer: every instance that was acknowledged
# (C-STORE-RSP Success reached storescu) is present, readable and catalogued after a
# restart; the partial object of the cut association is kept, not dropped.
. "$(dirname "$0")/lib/common.bash"
need_tool storescu

"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$TEST_TMP/images" 300 --rows 512 --columns 512 --seed 31 >/dev/null
files=("$TEST_TMP"/images/*.dcm)

start_node
storescu -v -aec CALCNODE -aet KILLTEST 127.0.0.1 "$NODE_PORT" "${files[@]}" \
  >"$TEST_TMP/scu.log" 2>&1 &
scu=$!
# wait until a good part of the study went through, then kill the node without warning
deadline=$((SECONDS + 120))
until [ "$(grep -c 'Received Store Response (Success)' "$TEST_TMP/scu.log" || true)" -ge 40 ]; do
  [ $SECONDS -lt $deadline ] || fail "the transfer did not progress"
  sleep 0.05
done
kill -9 "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
NODE_PID=
wait "$scu" || true
acked=$(grep -c 'Received Store Response (Success)' "$TEST_TMP/scu.log" || true)
echo "storescu saw $acked acknowledged instances before the kill"
[ "$acked" -lt "${#files[@]}" ] || fail "the kill came too late to test anything"

# The embedded server gets a fast shutdown when its parent dies; wait for it to go.
deadline=$((SECONDS + 60))
while pgrep -f "postgres -D $NODE_STATE/pg" >/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the embedded PostgreSQL outlived calcnode"
  sleep 0.2
done

start_node
calcnode_ls >"$TEST_TMP/ls.json"
# storescu sends the files in order: the first $acked were acknowledged.
/usr/bin/python3 - "$TEST_TMP/ls.json" "$acked" "${files[@]}" <<'PY' || fail "acknowledged instances are missing"
import json, sys, pydicom
rows = {json.loads(l)["sop_instance_uid"]: json.loads(l) for l in open(sys.argv[1])}
acked = int(sys.argv[2])
missing = 0
for path in sorted(sys.argv[3:])[:acked]:
    uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
    row = rows.get(uid)
    if row is None:
        print("missing from the catalogue:", uid); missing += 1; continue
    stored = pydicom.dcmread(row["path"])
    if stored.SOPInstanceUID != uid or stored.PixelData != pydicom.dcmread(path).PixelData:
        print("stored file differs:", uid); missing += 1
print(f"{acked} acknowledged, {len(rows)} catalogued, {missing} missing or damaged")
sys.exit(1 if missing else 0)
PY
# the node still works after the crash, and the same study can be sent again in full
send_files KILLTEST "${files[@]}"
count=$(calcnode_ls | wc -l)
[ "$count" -eq "${#files[@]}" ] || fail "after resending, expected ${#files[@]} instances, found $count"
stop_node
echo "PASS: $acked acknowledged instances survived kill -9; resend completed the study"
