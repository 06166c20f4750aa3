# Shared helpers of the integration tests (sourced, not run). Each test runs calcnode and
# the real peers it needs on loopback, in a private temporary directory, and cleans up.
# Exit 77 means skipped (ctest SKIP_RETURN_CODE), with the reason printed.

set -euo pipefail

CALCNODE_BIN=${CALCNODE_BIN:?CALCNODE_BIN must name the calcnode executable}
CALCNODE_SOURCE_DIR=${CALCNODE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
CALCNODE_DATA_DIR=${CALCNODE_DATA_DIR:-$CALCNODE_SOURCE_DIR/../shared/data}

TEST_TMP=$(mktemp -d /tmp/calcnode-it.XXXXXX)
chmod 0755 "$TEST_TMP" # the embedded PostgreSQL runs as user postgres when we are root
NODE_PID=
CLEANUP_PIDS=()
CLEANUP_MOUNTS=()

cleanup() {
  local rc=$?
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  for pid in "${CLEANUP_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for m in "${CLEANUP_MOUNTS[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -f "$TEST_TMP/node.log" ]; then
    echo "---- calcnode log (last 60 lines) ----"
    tail -n 60 "$TEST_TMP/node.log"
  fi
  rm -rf "$TEST_TMP"
  exit $rc
}
trap cleanup EXIT

skip() {
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*"
  exit 1
}

need_tool() {
  command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

need_data() {
  [ -e "$CALCNODE_DATA_DIR/$1" ] || skip "test data $CALCNODE_DATA_DIR/$1 is absent"
}

# A free TCP port on loopback, chosen by the kernel.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_node [extra serve options...]: starts calcnode on a free port with a fresh state
# directory; sets NODE_PORT, NODE_STATE; waits until it answers C-ECHO.
start_node() {
  NODE_PORT=${NODE_PORT:-$(free_port)}
  NODE_STATE=${NODE_STATE:-$TEST_TMP/state}
  "$CALCNODE_BIN" serve --state-dir "$NODE_STATE" --port "$NODE_PORT" \
    --listen-host 127.0.0.1 --ae-title CALCNODE --log-level debug "$@" \
    >>"$TEST_TMP/node.log" 2>&1 &
  NODE_PID=$!
  wait_for_echo 120
}

wait_for_echo() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$NODE_PID" 2>/dev/null; then
      fail "calcnode exited during start-up"
    fi
    if echoscu -to 2 -aec CALCNODE 127.0.0.1 "$NODE_PORT" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  fail "calcnode did not answer C-ECHO within $1 s"
}

# stop_node: SIGTERM and wait; fails when calcnode exits non-zero.
stop_node() {
  kill -TERM "$NODE_PID"
  local rc=0
  wait "$NODE_PID" || rc=$?
  NODE_PID=
  [ $rc -eq 0 ] || fail "calcnode exited with status $rc"
}

calcnode_ls() {
  "$CALCNODE_BIN" ls --state-dir "$NODE_STATE" --json "$@"
}

calcnode_status() {
  "$CALCNODE_BIN" status --state-dir "$NODE_STATE" --json
}

# start_orthanc [DICOM_PORT]: Orthanc as AE ORTHANC on DICOM_PORT (default: a free port) and
# a free HTTP port, knowing calcnode as modality "calcnode". A Lua ReceivedInstanceFilter
# appends the SOP Instance UID of every object received over C-STORE to
# $PACS_RECEIVED, before Orthanc's own deduplication: a second delivery of the same
# object shows as a second line, although Orthanc keeps one copy. The storage survives
# stop_orthanc and a later start_orthanc with the same port. Sets ORTHANC_DICOM_PORT,
# ORTHANC_URL, ORTHANC_PID, PACS_RECEIVED.
start_orthanc() {
  command -v Orthanc >/dev/null 2>&1 || skip "Orthanc is not installed"
  ORTHANC_DICOM_PORT=${1:-$(free_port)}
  local http_port
  http_port=$(free_port)
  ORTHANC_URL="http://127.0.0.1:$http_port"
  PACS_RECEIVED="$TEST_TMP/orthanc/received.txt"
  mkdir -p "$TEST_TMP/orthanc/db"
  touch "$PACS_RECEIVED"
  cat >"$TEST_TMP/orthanc/received.lua" <<LUA
function ReceivedInstanceFilter(dicom, origin, info)
  local f = assert(io.open('$PACS_RECEIVED', 'a'))
  f:write(dicom.SOPInstanceUID .. '\n')
  f:close()
  return true
end
LUA
  cat >"$TEST_TMP/orthanc/orthanc.json" <<JSON
{
  "Name": "calcnode-test-pacs",
  "StorageDirectory": "$TEST_TMP/orthanc/db",
  "IndexDirectory": "$TEST_TMP/orthanc/db",
  "DicomAet": "ORTHANC",
  "DicomPort": $ORTHANC_DICOM_PORT,
  "HttpPort": $http_port,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": false,
  "Plugins": [],
  "LuaScripts": [ "$TEST_TMP/orthanc/received.lua" ],
  "DicomModalities": { "calcnode": [ "CALCNODE", "127.0.0.1", ${NODE_PORT:-11112} ] }
}
JSON
  Orthanc "$TEST_TMP/orthanc/orthanc.json" >>"$TEST_TMP/orthanc/orthanc.log" 2>&1 &
  ORTHANC_PID=$!
  CLEANUP_PIDS+=("$ORTHANC_PID")
  local deadline=$((SECONDS + 60))
  until curl -sf "$ORTHANC_URL/system" >/dev/null 2>&1; do
    kill -0 "$ORTHANC_PID" 2>/dev/null || { tail -20 "$TEST_TMP/orthanc/orthanc.log"; fail "Orthanc exited during start-up"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$TEST_TMP/orthanc/orthanc.log"; fail "Orthanc did not start"; }
    sleep 0.2
  done
}

# stop_orthanc: SIGTERM to the Orthanc of start_orthanc, and wait for it.
stop_orthanc() {
  kill -TERM "$ORTHANC_PID" 2>/dev/null || true
  wait "$ORTHANC_PID" 2>/dev/null || true
}

# The storescu option that proposes transfer syntax $1 first (calcnode accepts the
# first syntax of the peer's list it knows, so the file travels as it is stored).
storescu_ts_option() {
  case "$1" in
    1.2.840.10008.1.2) echo -xi ;;
    1.2.840.10008.1.2.1) echo -xe ;;
    1.2.840.10008.1.2.2) echo -xb ;;
    1.2.840.10008.1.2.1.99) echo -xd ;;
    1.2.840.10008.1.2.4.50) echo -xy ;;
    1.2.840.10008.1.2.4.51) echo -xx ;;
    1.2.840.10008.1.2.4.57|1.2.840.10008.1.2.4.70) echo -xs ;;
    1.2.840.10008.1.2.4.80) echo -xt ;;
    1.2.840.10008.1.2.4.81) echo -xu ;;
    1.2.840.10008.1.2.4.90) echo -xv ;;
    1.2.840.10008.1.2.4.91) echo -xw ;;
    1.2.840.10008.1.2.5) echo -xr ;;
    *) echo -x= ;;
  esac
}

# send_files AET FILES...: storescu -R, one association per transfer syntax group, each
# file sent in the transfer syntax it is stored in.
send_files() {
  local aet=$1
  shift
  declare -A groups=()
  local f ts
  for f in "$@"; do
    ts=$(dcmdump -q -Un +P 0002,0010 "$f" | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -n 1)
    groups[$ts]+="$f"$'\n'
  done
  for ts in "${!groups[@]}"; do
    local list=()
    mapfile -t list < <(printf '%s' "${groups[$ts]}")
    storescu -R "$(storescu_ts_option "$ts")" -aec CALCNODE -aet "$aet" 127.0.0.1 "$NODE_PORT" \
      "${list[@]}" >>"$TEST_TMP/storescu.log" 2>&1 \
      || { tail -20 "$TEST_TMP/storescu.log"; fail "storescu failed for transfer syntax $ts"; }
  done
}
