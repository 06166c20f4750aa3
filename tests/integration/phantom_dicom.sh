#!/usr/bin/env bash
# The phantom tool end to end: the DICOM it writes is read by DCMTK (dcmdump) and passes
# dicom3tools' dciodvfy without errors; the same seed gives identical files, another seed
# different ones; evaluate scores findings made from the truth as perfect.
# usage: phantom_dicom.sh BUILD_DIR   (exit 77: tools or binaries missing)
set -euo pipefail
build=${1:?build directory}
phantom=$build/bin/phantom
evaluate=$build/bin/evaluate
for tool in "$phantom" "$evaluate"; do
    if [ ! -x "$tool" ]; then
        echo "skip: $tool is not built"
        exit 77
    fi
done
for tool in dcmdump dciodvfy; do
    if ! command -v "$tool" >/dev/null; then
        echo "skip: $tool not installed"
        exit 77
    fi
done
py=/usr/bin/python3
[ -x "$py" ] || py=python3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

args=(--rows 1024 --columns 832 --spacing-mm 0.1 --bits 12 --laterality R --view MLO
      --kind mixed)
"$phantom" --seed 21 "${args[@]}" --out-dir "$work/a" --name img
"$phantom" --seed 21 "${args[@]}" --out-dir "$work/b" --name img
"$phantom" --seed 22 "${args[@]}" --out-dir "$work/c" --name img

for ext in dcm truth.json mask.pgm; do
    cmp "$work/a/img.$ext" "$work/b/img.$ext" || { echo "seed 21 twice: img.$ext differs"; exit 1; }
done
if cmp -s "$work/a/img.dcm" "$work/c/img.dcm"; then
    echo "seeds 21 and 22 gave the same image"
    exit 1
fi

dump=$(dcmdump -Un +P 0008,0016 +P 0028,0010 +P 0028,0011 +P 0020,0062 +P 0018,5101 \
       +P 0008,0068 +P 0028,0101 "$work/a/img.dcm")
echo "$dump"
grep -q '1.2.840.10008.5.1.4.1.1.1.2\]' <<<"$dump" || { echo "not MG For Presentation"; exit 1; }
grep -q 'US 1024' <<<"$dump" || { echo "rows not 1024"; exit 1; }
grep -q '\[R\]' <<<"$dump" || { echo "laterality not R"; exit 1; }
grep -q '\[MLO\]' <<<"$dump" || { echo "view not MLO"; exit 1; }

report=$(dciodvfy "$work/a/img.dcm" 2>&1 || true)
echo "$report"
if grep -q '^Error' <<<"$report"; then
    echo "dciodvfy reports errors"
    exit 1
fi

# Findings at every truth centroid and cluster: sensitivity 1, no false positive.
"$py" - "$work/a/img.truth.json" "$work/findings.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
image = {"source": "/somewhere/img.dcm",
         "calcifications": [{"x": c["x"], "y": c["y"]} for c in truth["calcifications"]],
         "clusters": [{"x": c["x"], "y": c["y"], "bbox": c["bbox"]} for c in truth["clusters"]]}
json.dump({"images": [image]}, open(sys.argv[2], "w"))
PY
"$evaluate" --truth-dir "$work/a" --findings "$work/findings.json"
"$evaluate" --truth-dir "$work/a" --findings "$work/findings.json" --json >"$work/score.json"
"$py" - "$work/score.json" <<'PY'
import json, sys
total = json.load(open(sys.argv[1]))["total"]
assert total["truth_calcifications"] > 0, total
assert total["sensitivity"] == 1.0, total
assert total["false_positives"] == 0, total
assert total["false_positive_clusters"] == 0, total
assert total["found_malignant_clusters"] == total["truth_malignant_clusters"], total
PY
echo "phantom end to end: ok"
