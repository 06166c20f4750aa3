#!/usr/bin/env bash
# calcnode analyze over a mix of good and bad inputs: the good ones get a findings record
# and a Segmentation that dciodvfy accepts and that DCMTK and pydicom read back with the
# same mask; each bad one is named with its reason on stderr, the run goes on and exits 1.
. "$(dirname "$0")/lib/common.bash"
need_tool dciodvfy
need_tool dcmdump
bin=$(dirname "$CALCNODE_BIN")
[ -x "$bin/phantom" ] || skip "phantom tool not built"

in=$TEST_TMP/in
out=$TEST_TMP/out
mkdir -p "$in"
"$bin/phantom" --seed 3 --rows 1024 --columns 832 --spacing-mm 0.1 --bits 12 \
  --laterality R --view MLO --kind malignant --out-dir "$in" --name good >/dev/null
# bad inputs: a non-image object, a truncated compressed image, an empty file, a PGM
# without pixel spacing, an RGB image
printf 'P5\n4 4\n255\n' >"$in/nospacing.pgm"
head -c 16 /dev/zero >>"$in/nospacing.pgm"
: >"$in/empty.dcm"
head -c 4000 "$in/good.dcm" >"$in/truncated.dcm"
"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$in/sr_dir" 1 --seed 5 >/dev/null
dcmodify -nb -m "(0008,0016)=1.2.840.10008.5.1.4.1.1.88.33" -e "(7fe0,0010)" "$in"/sr_dir/*.dcm
mv "$in"/sr_dir/*.dcm "$in/not_an_image.dcm"
"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$in/rgb_dir" 1 --seed 6 >/dev/null
dcmodify -nb -m "(0028,0004)=RGB" -m "(0028,0002)=3" "$in"/rgb_dir/*.dcm
mv "$in"/rgb_dir/*.dcm "$in/rgb.dcm"

rc=0
"$CALCNODE_BIN" analyze --write-masks -o "$out" "$in/good.dcm" "$in/nospacing.pgm" \
  "$in/empty.dcm" "$in/truncated.dcm" "$in/not_an_image.dcm" "$in/rgb.dcm" \
  2>"$TEST_TMP/stderr" || rc=$?
cat "$TEST_TMP/stderr"
[ "$rc" -eq 1 ] || fail "expected exit status 1, got $rc"
for bad in nospacing.pgm empty.dcm truncated.dcm not_an_image.dcm rgb.dcm; do
  grep -q "$bad" "$TEST_TMP/stderr" || fail "$bad is not named on stderr"
done
grep -q "5 of 6 inputs failed" "$TEST_TMP/stderr" || fail "summary line missing"
grep -q "study reports could not be written" "$TEST_TMP/stderr" && fail "a study report failed"
# the study of the good image (and of its truncated copy): both reports, valid
for kind in measurement-report cad-report; do
  report=$(ls "$out"/*."$kind".dcm 2>/dev/null | head -n 1)
  [ -n "$report" ] || fail "no $kind written"
  dciodvfy "$report" 2>&1 | grep -q '^Error' && { dciodvfy "$report"; fail "dciodvfy reports errors on $kind"; }
  dsrdump -q "$report" >/dev/null || fail "dsrdump cannot read $kind"
done
[ -f "$out/good.gsps.dcm" ] || fail "no presentation state written"

/usr/bin/python3 - "$out/findings.json" <<'PY' || fail "findings.json is wrong"
import json, sys
images = json.load(open(sys.argv[1]))["images"]
assert len(images) == 1, f"{len(images)} image records"
im = images[0]
assert im["source"].endswith("good.dcm") and im["rows"] == 1024 and im["columns"] == 832, im
for key in ("sop_instance_uid", "pixel_spacing_mm", "calcifications", "clusters"):
    assert key in im, key
# the shipped model scores every cluster; categories are the BI-RADS-like bins
for c in im["clusters"]:
    assert 0.0 <= c["score"] <= 1.0 and c["category"] in ("2", "3", "4A", "4B", "4C", "5"), c
    assert len(c["bbox"]) == 4 and "morphology" in c["descriptors"] and "features" in c, c
# with a model and the defaults, a cluster is reported when the analysis rule calls it
# suspicious and its probability is at least 0.10, or when it is a small group with a
# probability of at least 0.70; the image's risk is the reported maximum
for c in im["clusters"]:
    assert not (c["suspicious"] and c["small_group"]), c
    assert c["reported"] == ((c["suspicious"] and c["score"] >= 0.10) or
                             (c["small_group"] and c["score"] >= 0.70)), c
# this phantom's malignant cluster has too few members for the rule: a small group
assert any(c["reported"] and c["small_group"] for c in im["clusters"]), im["clusters"]
# the segmentation paints a faint (second-stage, below contrast_min 5.5) detection, or a
# speck under segmentation_area_min_mm2 (0.03), only as a cluster member; this phantom has
# both kinds of faint ones
for c in im["calcifications"]:
    alone_painted = c["contrast"] >= 5.5 and c["area_mm2"] >= 0.03
    assert c["in_segmentation"] == (alone_painted or c["cluster"] is not None), c
faint = [c for c in im["calcifications"] if c["contrast"] < 5.5]
assert any(c["in_segmentation"] for c in faint) and not all(c["in_segmentation"] for c in faint), faint
reported = [c["score"] for c in im["clusters"] if c["reported"]]
assert im["max_score"] == (max(reported) if reported else None), im["max_score"]
studies = json.load(open(sys.argv[1]))["studies"]
assert len(studies) == 1 and studies[0]["study_instance_uid"] == im["study_instance_uid"], studies
assert studies[0]["max_score"] == im["max_score"] and studies[0]["images"] == 1, studies
PY

seg=$out/good.seg.dcm
[ -f "$seg" ] || fail "no Segmentation written"
dciodvfy "$seg" >"$TEST_TMP/dciodvfy.log" 2>&1 || true
if grep -q '^Error' "$TEST_TMP/dciodvfy.log"; then
  cat "$TEST_TMP/dciodvfy.log"
  fail "dciodvfy reports errors on the Segmentation"
fi
dcmdump -q "$seg" >/dev/null || fail "DCMTK cannot read the Segmentation"
/usr/bin/python3 - "$seg" "$out/good.mask.pgm" "$in/good.dcm" <<'PY' || fail "the Segmentation does not match the mask"
import sys
import numpy as np
import pydicom
seg = pydicom.dcmread(sys.argv[1])
src = pydicom.dcmread(sys.argv[3], stop_before_pixels=True)
assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
assert seg.StudyInstanceUID == src.StudyInstanceUID and seg.SeriesInstanceUID != src.SeriesInstanceUID
assert seg.PatientID == src.PatientID and seg.PatientName == src.PatientName
ref = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
assert ref == src.SOPInstanceUID, ref
frame = seg.pixel_array.astype(bool)
if frame.ndim == 3:
    frame = frame.any(axis=0)
with open(sys.argv[2], "rb") as f:
    head = f.readline() + f.readline() + f.readline()
    w, h = map(int, head.split()[1:3])
    mask = np.frombuffer(f.read(), dtype=">u2").reshape(h, w) > 0
assert frame.shape == mask.shape and (frame == mask).all(), "mask differs"
print(f"SEG ok: {mask.sum()} calcification pixels")
PY
/usr/bin/python3 - "$out/good.mask.pgm" "$out/findings.json" <<'PY' || fail "the mask paints other calcifications than in_segmentation"
import json, sys
import numpy as np
with open(sys.argv[1], "rb") as f:
    head = f.readline() + f.readline() + f.readline()
    w, h = map(int, head.split()[1:3])
    labels = np.frombuffer(f.read(), dtype=">u2").reshape(h, w)
calcs = json.load(open(sys.argv[2]))["images"][0]["calcifications"]
painted = set(int(v) for v in np.unique(labels) if v)
assert painted == {c["id"] for c in calcs if c["in_segmentation"]}, painted
PY
# report_probability_min from the configuration: at 1 no cluster is reported, none is in
# the CAD report, and the image has no risk
printf '[node]\nreport_probability_min = 1\n' >"$TEST_TMP/strict.conf"
"$CALCNODE_BIN" analyze -c "$TEST_TMP/strict.conf" --no-seg -o "$TEST_TMP/strict" "$in/good.dcm" \
  2>"$TEST_TMP/strict.stderr" || { cat "$TEST_TMP/strict.stderr"; fail "analyze with strict.conf failed"; }
/usr/bin/python3 - "$TEST_TMP/strict/findings.json" <<'PY' || fail "report_probability_min = 1 was not applied"
import json, sys
im = json.load(open(sys.argv[1]))["images"][0]
assert im["clusters"] and not any(c["reported"] for c in im["clusters"]), im["clusters"]
assert im["max_score"] is None, im["max_score"]
PY
# report_rule off: the probability alone decides
printf '[node]\nreport_rule = off\nreport_probability_min = 0.2\n' >"$TEST_TMP/loose.conf"
"$CALCNODE_BIN" analyze -c "$TEST_TMP/loose.conf" --no-seg -o "$TEST_TMP/loose" "$in/good.dcm" \
  2>"$TEST_TMP/loose.stderr" || { cat "$TEST_TMP/loose.stderr"; fail "analyze with loose.conf failed"; }
/usr/bin/python3 - "$TEST_TMP/loose/findings.json" <<'PY' || fail "report_rule = off was not applied"
import json, sys
im = json.load(open(sys.argv[1]))["images"][0]
for c in im["clusters"]:
    assert c["reported"] == (c["score"] >= 0.2), c
# this phantom's malignant cluster is below the rule's six members: reported only now
assert any(c["reported"] and not c["suspicious"] for c in im["clusters"]), im["clusters"]
assert im["max_score"] == max(c["score"] for c in im["clusters"] if c["reported"])
PY
# report_small_group_probability_min from the configuration: at 1 the small group is not
# reported
printf '[node]\nreport_small_group_probability_min = 1\n' >"$TEST_TMP/nosmall.conf"
"$CALCNODE_BIN" analyze -c "$TEST_TMP/nosmall.conf" --no-seg -o "$TEST_TMP/nosmall" "$in/good.dcm" \
  2>"$TEST_TMP/nosmall.stderr" || { cat "$TEST_TMP/nosmall.stderr"; fail "analyze with nosmall.conf failed"; }
/usr/bin/python3 - "$TEST_TMP/nosmall/findings.json" <<'PY' || fail "report_small_group_probability_min = 1 was not applied"
import json, sys
im = json.load(open(sys.argv[1]))["images"][0]
assert any(c["small_group"] for c in im["clusters"]), im["clusters"]
for c in im["clusters"]:
    assert c["reported"] == (c["suspicious"] and c["score"] >= 0.10), c
PY
printf '[node]\nreport_probability_min = 0\n' >"$TEST_TMP/bad.conf"
"$CALCNODE_BIN" analyze -c "$TEST_TMP/bad.conf" --no-seg -o "$TEST_TMP/bad" "$in/good.dcm" \
  2>"$TEST_TMP/bad.stderr" && fail "report_probability_min = 0 was accepted"
grep -q "report_probability_min" "$TEST_TMP/bad.stderr" || { cat "$TEST_TMP/bad.stderr"; fail "the bad key is not named"; }

echo "PASS: good input analysed with a valid SEG; 5 bad inputs named and skipped; report_probability_min and report_small_group_probability_min applied"
