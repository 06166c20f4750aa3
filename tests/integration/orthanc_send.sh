#!/usr/bin/env bash
# Orthanc, a real PACS, sends a 4-view study to calcnode through its REST API
# (/modalities/{name}/store): every instance is stored once, with Orthanc's AE title.
. "$(dirname "$0")/lib/common.bash"
need_tool curl

NODE_PORT=$(free_port)
start_node
start_orthanc

"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$TEST_TMP/study" 4 --seed 21 >/dev/null
for f in "$TEST_TMP"/study/*.dcm; do
  curl -sf -X POST "$ORTHANC_URL/instances" --data-binary "@$f" >/dev/null || fail "upload of $f to Orthanc failed"
done
study_id=$(curl -sf "$ORTHANC_URL/studies" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
curl -sf -X POST "$ORTHANC_URL/modalities/calcnode/store" -d "$study_id" >"$TEST_TMP/store.json" \
  || { cat "$TEST_TMP/orthanc/orthanc.log" | tail -20; fail "Orthanc could not send the study"; }
cat "$TEST_TMP/store.json"

calcnode_ls >"$TEST_TMP/ls.json"
count=$(wc -l <"$TEST_TMP/ls.json")
[ "$count" -eq 4 ] || fail "expected 4 instances, catalogue has $count"
grep -q '"calling_ae": *"ORTHANC"' "$TEST_TMP/ls.json" || fail "calling AE ORTHANC not recorded"
stop_node
echo "PASS: Orthanc sent a 4-view study; 4 instances stored"
