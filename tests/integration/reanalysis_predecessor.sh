#!/usr/bin/env bash
# An instance that arrives after a study was analysed makes the study run again; the new
# reports supersede the old ones: they name them in the Predecessor Documents Sequence,
# and every result object of the new run has new UIDs.
. "$(dirname "$0")/lib/common.bash"
bin=$(dirname "$CALCNODE_BIN")
[ -x "$bin/phantom" ] || skip "phantom tool not built"

study_uid=1.2.826.0.1.3680043.10.1497.9.7101
seed=7101
for v in "L CC" "L MLO" "R CC" "R MLO" "L CC"; do
  set -- $v
  "$bin/phantom" --seed "$seed" --rows 768 --columns 640 --spacing-mm 0.1 --bits 12 \
    --laterality "$1" --view "$2" --kind mixed --out-dir "$TEST_TMP/study" \
    --study-uid "$study_uid" --patient-id P7101 --name "img$seed" >/dev/null
  seed=$((seed + 1))
done
start_node --workers 1 --quiet-period 2

wait_for_done_jobs() { # N
  local deadline=$((SECONDS + 120))
  until [ "$("$CALCNODE_BIN" jobs --state-dir "$NODE_STATE" --state done --json | wc -l)" -ge "$1" ]; do
    [ $SECONDS -lt $deadline ] || { "$CALCNODE_BIN" jobs --state-dir "$NODE_STATE"; fail "job $1 not done in time"; }
    sleep 0.3
  done
}
first=("$TEST_TMP"/study/img710[1-4].dcm)
send_files MODALITY "${first[@]}"
wait_for_done_jobs 1
send_files MODALITY "$TEST_TMP/study/img7105.dcm"
wait_for_done_jobs 2

results=$NODE_STATE/results/$study_uid
[ -f "$results/run-1/cad-report.dcm" ] && [ -f "$results/run-2/cad-report.dcm" ] \
  || { ls -R "$results"; fail "the reports of both runs are not there"; }
/usr/bin/python3 - "$results" <<'PY' || fail "run 2 does not supersede run 1"
import glob, os, sys, pydicom
results = sys.argv[1]
for kind in ("cad-report", "measurement-report"):
    old = pydicom.dcmread(os.path.join(results, "run-1", kind + ".dcm"))
    new = pydicom.dcmread(os.path.join(results, "run-2", kind + ".dcm"))
    assert new.SOPInstanceUID != old.SOPInstanceUID, kind
    refs = [r.ReferencedSOPInstanceUID
            for study in new.PredecessorDocumentsSequence
            for series in study.ReferencedSeriesSequence
            for r in series.ReferencedSOPSequence]
    assert refs == [old.SOPInstanceUID], (kind, refs, old.SOPInstanceUID)
    assert "PredecessorDocumentsSequence" not in old, kind
old = {pydicom.dcmread(p).SOPInstanceUID for p in glob.glob(os.path.join(results, "run-1", "*.dcm"))}
new = {pydicom.dcmread(p).SOPInstanceUID for p in glob.glob(os.path.join(results, "run-2", "*.dcm"))}
assert not (old & new), "a result UID was reused across runs"
print(f"run 1: {len(old)} objects, run 2: {len(new)} objects, predecessors named")
PY
stop_node
echo "PASS: the late instance re-ran the study; run 2 supersedes run 1"
