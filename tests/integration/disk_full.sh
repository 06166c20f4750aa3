#!/usr/bin/env bash
# The storage fills up during a transfer: the instances that fit are stored and
# acknowledged, the others are answered with a failure status of the A700 class
# (out of resources) and an Error Comment; the node keeps serving, and once space is
# free again the same files are stored.
. "$(dirname "$0")/lib/common.bash"
need_tool storescu
[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"

small=$TEST_TMP/small
mkdir -p "$small"
mount -t tmpfs -o size=3m tmpfs "$small" 2>/dev/null || skip "cannot mount a tmpfs here"
CLEANUP_MOUNTS+=("$small")
mkdir -p "$small/spool" "$small/store"
NODE_STATE=$TEST_TMP/state
mkdir -p "$NODE_STATE"
# spool/ and store/ on the same small file system (the spool is linked into the store)
ln -s "$small/spool" "$NODE_STATE/spool"
ln -s "$small/store" "$NODE_STATE/store"

"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$TEST_TMP/images" 10 --rows 512 --columns 512 --seed 51 >/dev/null
files=("$TEST_TMP"/images/*.dcm)
start_node
rc=0
storescu -v -aec CALCNODE -aet FULLTEST 127.0.0.1 "$NODE_PORT" "${files[@]}" >"$TEST_TMP/scu.log" 2>&1 || rc=$?
ok=$(grep -c 'Received Store Response (Success)' "$TEST_TMP/scu.log" || true)
refused=$(grep -ci 'Store Response (.*Refused.*OutOfResources\|Store Response (0xa7' "$TEST_TMP/scu.log" || true)
echo "stored $ok, refused $refused of ${#files[@]}"
grep -i "store response" "$TEST_TMP/scu.log" | sort | uniq -c
[ "$ok" -ge 1 ] && [ "$ok" -lt "${#files[@]}" ] || fail "expected some but not all instances to fit"
[ "$refused" -ge 1 ] || { cat "$TEST_TMP/scu.log"; fail "no A700 (out of resources) response"; }
grep -q "could not" "$TEST_TMP/node.log" || fail "the node logged no reason"
count=$(calcnode_ls | wc -l)
[ "$count" -eq "$ok" ] || fail "catalogue has $count instances, $ok were acknowledged"
echoscu -aec CALCNODE 127.0.0.1 "$NODE_PORT" || fail "C-ECHO failed on a full disk"

# room again: the same files go through, the ones already stored are not duplicated
mount -o remount,size=16m "$small"
send_files FULLTEST "${files[@]}"
count=$(calcnode_ls | wc -l)
[ "$count" -eq "${#files[@]}" ] || fail "after freeing space expected ${#files[@]} instances, found $count"
leftover=$(find "$small/spool" -type f | wc -l)
echo "spool files left: $leftover"
stop_node
echo "PASS: $ok stored and $refused refused with A700 on a full disk; all stored after space came back"
