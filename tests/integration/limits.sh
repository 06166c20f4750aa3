#!/usr/bin/env bash
# Access control and limits against DCMTK echoscu/storescu and a raw association holder:
# the calling-AE allow-list, a caller restricted to addresses, the exact per-AE and
# global association limits (N held, N+1 refused transiently, accepted again after a
# release), the object size limit (A700 with nothing kept, the next object on the same
# association stored) and the free-disk watermark (refused above the real free space,
# accepted again once lowered).
. "$(dirname "$0")/lib/common.bash"
need_tool echoscu
need_tool storescu
need_tool df

HOLD=$CALCNODE_SOURCE_DIR/tests/integration/lib/hold_association.py
CONF=$TEST_TMP/calcnode.conf

# write_conf ADDRESSES MIN_FREE_DISK_MB: the allow-list (RESTRICTED may call only from
# ADDRESSES), 3 associations at most, 2 per calling AE, 1 MiB objects.
write_conf() {
  cat >"$CONF" <<CONF
[node]
allowed_callers = peers
max_associations = 3
max_associations_per_ae = 2
max_object_size_mb = 1
min_free_disk_mb = $2

[peer ECHOSCU]
host = 127.0.0.1
port = 1

[peer LISTED]
host = 127.0.0.1
port = 1

[peer HOLDER]
host = 127.0.0.1
port = 1

[peer STORESCU]
host = 127.0.0.1
port = 1

[peer RESTRICTED]
host = 127.0.0.1
port = 1
allowed_addresses = $1
CONF
}

# echo_as AET: C-ECHO with calling AE title AET; output in $TEST_TMP/echo.log.
echo_as() {
  echoscu -v -aet "$1" -aec CALCNODE 127.0.0.1 "$NODE_PORT" >"$TEST_TMP/echo.log" 2>&1
}

expect_accepted() {
  echo_as "$1" || { cat "$TEST_TMP/echo.log"; fail "$1 was refused: $2"; }
}

# expect_refused AET ECHOSCU_TEXT LOG_TEXT: echoscu fails saying ECHOSCU_TEXT and
# calcnode's log has a new refusal line for AET containing LOG_TEXT.
expect_refused() {
  local before
  before=$(grep -c "refused $1 -> CALCNODE" "$TEST_TMP/node.log" || true)
  if echo_as "$1"; then
    fail "$1 was accepted (expected: $3)"
  fi
  grep -q "$2" "$TEST_TMP/echo.log" || { cat "$TEST_TMP/echo.log"; fail "echoscu did not report \"$2\""; }
  local after
  after=$(grep -c "refused $1 -> CALCNODE" "$TEST_TMP/node.log" || true)
  [ "$after" -gt "$before" ] || fail "no refusal of $1 in calcnode's log"
  grep "refused $1 -> CALCNODE" "$TEST_TMP/node.log" | tail -n 1 | grep -q -- "$3" \
    || { grep "refused $1" "$TEST_TMP/node.log" | tail -n 1; fail "calcnode's log does not say \"$3\""; }
}

# hold NAME AET: opens an association as AET in the background; waits for the answer,
# which is left in $TEST_TMP/hold.NAME.status.
hold() {
  rm -f "$TEST_TMP/hold.$1.status" "$TEST_TMP/hold.$1.release"
  /usr/bin/python3 "$HOLD" 127.0.0.1 "$NODE_PORT" "$2" CALCNODE "$TEST_TMP/hold.$1.status" \
    "$TEST_TMP/hold.$1.release" >>"$TEST_TMP/hold.log" 2>&1 &
  eval "HOLD_PID_$1=$!"
  CLEANUP_PIDS+=($!)
  local deadline=$((SECONDS + 30))
  until [ -f "$TEST_TMP/hold.$1.status" ]; do
    [ $SECONDS -lt $deadline ] || fail "no answer to the association of $2 ($1)"
    sleep 0.05
  done
}

expect_held() {
  hold "$1" "$2"
  [ "$(cat "$TEST_TMP/hold.$1.status")" = accepted ] \
    || fail "association $1 of $2 was not accepted: $(cat "$TEST_TMP/hold.$1.status")"
}

# release NAME: the holder releases its association and exits.
release() {
  touch "$TEST_TMP/hold.$1.release"
  local pid_var="HOLD_PID_$1"
  wait "${!pid_var}" || fail "association $1 was not released cleanly"
}

write_conf 10.9.9.9 1
start_node -c "$CONF" --workers none

# ---- the calling-AE allow-list ----
expect_refused NOBODY "Calling AE Title Not Recognized" "calling AE title is not an allowed caller"
grep "refused NOBODY" "$TEST_TMP/node.log" | tail -n 1 | grep -q "from 127.0.0.1:" \
  || fail "the refusal does not name the peer address"
grep "refused NOBODY" "$TEST_TMP/node.log" | tail -n 1 | grep -q "result 1, source 1, reason 3" \
  || fail "the refusal is not rejected-permanent, service-user, calling-AE-not-recognized"
expect_accepted LISTED "a listed AE title"

# ---- a caller restricted to an address it is not calling from ----
expect_refused RESTRICTED "Calling AE Title Not Recognized" "address 127.0.0.1 is not allowed"

# ---- the exact limits: 2 per calling AE, 3 in all ----
expect_held h1 HOLDER
expect_held h2 HOLDER
expect_refused HOLDER "Local Limit Exceeded" "max_associations_per_ae 2 reached"
grep "refused HOLDER" "$TEST_TMP/node.log" | tail -n 1 | grep -q "result 2, source 3, reason 2" \
  || fail "the refusal is not rejected-transient, service-provider, local-limit-exceeded"
expect_accepted LISTED "another AE title while HOLDER is at its limit"
expect_held h3 LISTED
expect_refused ECHOSCU "Local Limit Exceeded" "max_associations 3 reached"
release h3
expect_accepted ECHOSCU "one association below max_associations"
release h1
expect_accepted HOLDER "one association below max_associations_per_ae"
expect_held h4 HOLDER
release h2
release h4

# ---- the object size limit: A700, nothing kept, the association goes on ----
images=$TEST_TMP/images
"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$images/big" 1 --rows 1024 --columns 768 \
  --seed 31 >/dev/null
"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$images/small" 1 --seed 32 >/dev/null
big=$(ls "$images"/big/*.dcm)
small=$(ls "$images"/small/*.dcm)
[ "$(stat -c %s "$big")" -gt 1048576 ] || fail "the big test image is not above 1 MiB"
[ "$(stat -c %s "$small")" -lt 1048576 ] || fail "the small test image is not below 1 MiB"
big_uid=$(dcmdump -q +P 0008,0018 "$big" | sed 's/.*\[\(.*\)\].*/\1/')
small_uid=$(dcmdump -q +P 0008,0018 "$small" | sed 's/.*\[\(.*\)\].*/\1/')
storescu -v -nh -xe -aet STORESCU -aec CALCNODE 127.0.0.1 "$NODE_PORT" "$big" "$small" \
  >"$TEST_TMP/storescu.log" 2>&1 || true
assocs=$(grep -c "Association Accepted" "$TEST_TMP/storescu.log" || true)
[ "$assocs" -eq 1 ] || { cat "$TEST_TMP/storescu.log"; fail "storescu used $assocs associations, expected 1"; }
grep -q "Out of Resources\|OutOfResources\|0xa700" "$TEST_TMP/storescu.log" \
  || { cat "$TEST_TMP/storescu.log"; fail "storescu did not receive A700 for the big image"; }
grep -q "data set larger than max_object_size_mb 1" "$TEST_TMP/node.log" \
  || fail "calcnode's log does not give the size limit as the reason"
calcnode_ls >"$TEST_TMP/ls.json"
grep -q "\"$small_uid\"" "$TEST_TMP/ls.json" || fail "the small image after the refused one was not stored"
if grep -q "\"$big_uid\"" "$TEST_TMP/ls.json"; then fail "the refused image was catalogued"; fi
if find "$NODE_STATE/store" -name "$big_uid.dcm" | grep -q .; then fail "the refused image was stored"; fi
leftovers=$(find "$NODE_STATE/spool" "$NODE_STATE/aborted" -type f 2>/dev/null | wc -l)
[ "$leftovers" -eq 0 ] || { find "$NODE_STATE/spool" "$NODE_STATE/aborted" -type f; fail "partial bytes of the refused image were kept"; }
stop_node

# ---- the free-disk watermark, above the real free space of the state file system ----
avail_mb=$(df --output=avail -B1M "$NODE_STATE" | tail -n 1 | tr -d ' ')
write_conf 127.0.0.0/8 $((avail_mb + 100000))
"$CALCNODE_BIN" serve -c "$CONF" --workers none --state-dir "$NODE_STATE" --port "$NODE_PORT" \
  --listen-host 127.0.0.1 --ae-title CALCNODE --log-level debug >>"$TEST_TMP/node.log" 2>&1 &
NODE_PID=$!
# Until the first sample is taken the rule is not applied: wait for the first refusal.
deadline=$((SECONDS + 120))
until grep -q "refused LISTED -> CALCNODE.*below min_free_disk_mb" "$TEST_TMP/node.log"; do
  kill -0 "$NODE_PID" 2>/dev/null || fail "calcnode exited during start-up"
  [ $SECONDS -lt $deadline ] || fail "calcnode did not refuse below min_free_disk_mb"
  echo_as LISTED || true
  sleep 0.2
done
expect_refused LISTED "Local Limit Exceeded" "below min_free_disk_mb"
# the address rule now admits RESTRICTED from loopback; the disk refuses it for now
expect_refused RESTRICTED "Local Limit Exceeded" "below min_free_disk_mb"
stop_node

write_conf 127.0.0.0/8 1
start_node -c "$CONF" --workers none
expect_accepted LISTED "enough free disk"
expect_accepted RESTRICTED "an address in 127.0.0.0/8"
stop_node
echo "PASS"
