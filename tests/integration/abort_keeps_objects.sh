#!/usr/bin/env bash
# A peer that aborts in the middle of an object: the instance it completed before is
# stored and marked as received on an aborted association; the partial object is kept
# under STATE/aborted, never dropped; the node goes on serving.
. "$(dirname "$0")/lib/common.bash"
need_tool echoscu

"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$TEST_TMP/images" 2 --rows 512 --columns 512 --seed 41 >/dev/null
files=("$TEST_TMP"/images/*.dcm)
start_node
/usr/bin/python3 "$(dirname "$0")/lib/abort_midway.py" 127.0.0.1 "$NODE_PORT" CALCNODE \
  "${files[0]}" "${files[1]}" || fail "the scripted peer failed"
# the node finishes its side of the abort asynchronously
deadline=$((SECONDS + 20))
until [ -n "$(ls -A "$NODE_STATE/aborted" 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || fail "no partial object kept under $NODE_STATE/aborted"
  sleep 0.1
done
partial=$(ls "$NODE_STATE/aborted")
size=$(stat -c %s "$NODE_STATE/aborted/$partial")
[ "$size" -gt 200000 ] || fail "the kept partial object has only $size bytes"
deadline=$((SECONDS + 20))
until calcnode_ls | grep '"aborted_association": *true' >/dev/null; do
  [ $SECONDS -lt $deadline ] || { calcnode_ls; fail "the completed instance is not marked as received on an aborted association"; }
  sleep 0.2
done
[ "$(calcnode_ls | wc -l)" -eq 1 ] || fail "expected exactly one catalogued instance"
echoscu -aec CALCNODE 127.0.0.1 "$NODE_PORT" || fail "C-ECHO failed after the abort"
stop_node
echo "PASS: completed instance kept and marked, partial object of $size bytes kept"
