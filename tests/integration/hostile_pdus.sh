#!/usr/bin/env bash
# Hostile Upper Layer input (garbage, 4 GB lengths, P-DATA before association, items past
# their PDU, short RQ, even context ID, unknown called AE, stalled peer): each refused at
# once, and afterwards the node still answers C-ECHO with small memory.
. "$(dirname "$0")/lib/common.bash"
. "$(dirname "$0")/lib/worklist.bash"
need_tool echoscu
need_tool psql

artim_s=2
start_node --artim-timeout "$artim_s"
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$NODE_PID/status"; }
before=$(rss_kb)
/usr/bin/python3 "$(dirname "$0")/lib/hostile.py" 127.0.0.1 "$NODE_PORT" CALCNODE "$artim_s" \
  || fail "a hostile case was not handled"
echoscu -aec CALCNODE 127.0.0.1 "$NODE_PORT" || fail "C-ECHO failed after the hostile cases"
# the refusal of the non-text AE titles is in the audit trail, with the bytes replaced
refusals=$(node_sql "SELECT count(*) FROM audit WHERE action = 'association refused'
                      AND actor = 'BAD?' AND detail->>'called_ae' = 'NOT?CALC?'")
[ "$refusals" = 1 ] || fail "the refusal of non-text AE titles was not audited ($refusals rows)"
after=$(rss_kb)
growth=$(( (after - before) / 1024 ))
echo "RSS before ${before} kB, after ${after} kB"
[ "$growth" -lt 64 ] || fail "RSS grew by ${growth} MB"
stop_node
echo "PASS: hostile input refused, node healthy (RSS growth ${growth} MB)"
