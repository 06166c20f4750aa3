#!/usr/bin/env bash
# The whole product with a real PACS: Orthanc sends a 4-view phantom study to calcnode
# (REST /modalities/{name}/store); calcnode stores it, sees the study complete (all four
# views), analyses it on its workers, and sends the result objects back to Orthanc, the
# calling AE, where they appear in the same study, each exactly once.
. "$(dirname "$0")/lib/common.bash"
need_tool curl
bin=$(dirname "$CALCNODE_BIN")
[ -x "$bin/phantom" ] || skip "phantom tool not built"

NODE_PORT=$(free_port)
start_orthanc
start_node --peer "ORTHANC=127.0.0.1:$ORTHANC_DICOM_PORT" --workers 2 --quiet-period 30

study_uid=1.2.826.0.1.3680043.10.1497.9.7001
seed=7001
for v in "L CC" "L MLO" "R CC" "R MLO"; do
  set -- $v
  "$bin/phantom" --seed "$seed" --rows 1024 --columns 832 --spacing-mm 0.1 --bits 12 \
    --laterality "$1" --view "$2" --kind malignant --out-dir "$TEST_TMP/study" \
    --study-uid "$study_uid" --patient-id P7001 --name "$1$2" >/dev/null
  seed=$((seed + 1))
done
for f in "$TEST_TMP"/study/*.dcm; do
  curl -sf -X POST "$ORTHANC_URL/instances" --data-binary "@$f" >/dev/null || fail "upload of $f failed"
done
orthanc_study=$(curl -sf "$ORTHANC_URL/studies" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
start=$SECONDS
curl -sf -X POST "$ORTHANC_URL/modalities/calcnode/store" -d "$orthanc_study" >/dev/null \
  || fail "Orthanc could not send the study"

# all four views: analysed at once (the 30 s quiet period does not apply), results back
deadline=$((SECONDS + 180))
while :; do
  states=$("$CALCNODE_BIN" outbound --state-dir "$NODE_STATE" --json | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
print(len(rows), sum(r["state"] == "sent" for r in rows), sum(r["state"] == "dead" for r in rows))')
  read -r total sent dead <<<"$states"
  [ "$dead" -eq 0 ] || { "$CALCNODE_BIN" outbound --state-dir "$NODE_STATE"; fail "a result transfer is dead"; }
  [ "$total" -gt 0 ] && [ "$sent" -eq "$total" ] && break
  [ $SECONDS -lt $deadline ] || { "$CALCNODE_BIN" status --state-dir "$NODE_STATE"; fail "results not sent in time ($sent of $total)"; }
  sleep 0.5
done
echo "turnaround: $((SECONDS - start)) s for $total result objects"

/usr/bin/python3 - "$ORTHANC_URL" "$orthanc_study" "$total" <<'PY' || fail "the results are not in Orthanc's study"
import json, sys, urllib.request
url, study, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
get = lambda path: json.load(urllib.request.urlopen(url + path))
instances = get(f"/studies/{study}/instances")
by_modality = {}
for inst in instances:
    tags = get(f"/instances/{inst['ID']}/simplified-tags")
    by_modality.setdefault(tags.get("Modality"), []).append(tags["SOPInstanceUID"])
print({k: len(v) for k, v in by_modality.items()})
results = sum(len(v) for k, v in by_modality.items() if k != "MG")
assert len(by_modality.get("MG", [])) == 4, by_modality.keys()
assert results == expected, f"{results} result objects in Orthanc, {expected} sent"
for uids in by_modality.values():
    assert len(uids) == len(set(uids)), "duplicate instance in Orthanc"
PY
stop_node
echo "PASS: study analysed and $total result objects delivered once into the same Orthanc study"
