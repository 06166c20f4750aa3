#!/usr/bin/env bash
# docker-compose.yml describes the deployment the README describes without containers:
# PostgreSQL, one receiver (serve --workers none) with the HTTP status page, scalable
# workers (calcnode worker) on the same state volume and database, and Orthanc as the PACS
# the receiver sends results to (and that is configured to send to it). Each calcnode
# command line of the file is checked by calcnode's own option parser (the options are
# validated in order before --help prints the usage), so the file cannot name an option
# or value calcnode does not take. A container engine is not needed.
source "$(dirname "$0")/lib/common.bash"

compose=$CALCNODE_SOURCE_DIR/docker-compose.yml
/usr/bin/python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"

/usr/bin/python3 - "$compose" "$CALCNODE_SOURCE_DIR/conf/calcnode.conf" > "$TEST_TMP/commands" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
for name in ("postgres", "calcnode", "worker", "orthanc"):
    assert name in services, "service %s missing" % name
serve, worker, orthanc = services["calcnode"], services["worker"], services["orthanc"]
assert serve["command"][0] == "serve" and worker["command"][0] == "worker"
for svc in (serve, worker):
    cmd = svc["command"]
    assert cmd[cmd.index("--database-url") + 1].startswith("postgresql://"), "external database"
    assert "storage:/var/lib/calcnode" in svc["volumes"], "shared state volume"
    assert cmd[cmd.index("--state-dir") + 1] == "/var/lib/calcnode"
    assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
assert serve["command"][serve["command"].index("--workers") + 1] == "none", "receiver only"
assert "ports" not in worker, "workers take no connections, so they scale freely"
assert any(p.endswith(":11112") for p in serve["ports"])
peer = serve["command"][serve["command"].index("--peer") + 1]
aet = orthanc["environment"]["ORTHANC__DICOM_AET"]
assert peer.startswith(aet + "=orthanc:"), "results go back to the Orthanc AE"
assert '"CALCNODE", "calcnode", 11112' in orthanc["environment"]["ORTHANC__DICOM_MODALITIES"]
# the command lines, with the image's configuration path mapped to the source tree's
for svc in (serve, worker):
    args = [a if a != "/opt/calcnode/conf/calcnode.conf" else sys.argv[2] for a in svc["command"]]
    print("\t".join(args))
PY

while IFS=$'\t' read -r -a args; do
  if ! "$CALCNODE_BIN" "${args[@]}" --help > "$TEST_TMP/help" 2> "$TEST_TMP/err"; then
    echo "FAIL: calcnode ${args[*]} is refused:"; cat "$TEST_TMP/err"; exit 1
  fi
  grep -q "^usage: calcnode ${args[0]}" "$TEST_TMP/help" || { echo "FAIL: no usage"; exit 1; }
done < "$TEST_TMP/commands"

# a wrong option is caught by the same check
if "$CALCNODE_BIN" serve --no-such-option --help > /dev/null 2>&1; then
  echo "FAIL: an unknown option passed the check"; exit 1
fi
echo "PASS: docker-compose.yml services and calcnode command lines are valid"
