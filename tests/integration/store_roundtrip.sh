#!/usr/bin/env bash
# DCMTK echoscu and storescu against calcnode: every transfer syntax of the real files in
# ../shared/data plus generated images in several encodings, sent twice; every instance
# must be stored exactly once, readable, in the transfer syntax it was sent in, with the
# content that was sent.
. "$(dirname "$0")/lib/common.bash"
need_tool echoscu
need_tool storescu
need_tool dcmconv
need_tool dcmcjpeg

images=$TEST_TMP/images
"$CALCNODE_SOURCE_DIR/tools/make-test-images" "$images/le" 6 --seed 11 >/dev/null
# The same pixels in other encodings, as separate instances (new SOP Instance UIDs).
encode() { # encode NAME SEED tool args...
  local name=$1 seed=$2
  shift 2
  "$CALCNODE_SOURCE_DIR/tools/make-test-images" "$images/src_$name" 2 --seed "$seed" >/dev/null
  mkdir -p "$images/$name"
  for f in "$images/src_$name"/*.dcm; do
    "$@" "$f" "$images/$name/$(basename "$f")"
  done
  rm -rf "$images/src_$name"
}
encode be 12 dcmconv +tb
encode implicit 13 dcmconv +ti
encode deflated 14 dcmconv +td
encode jpeg_lossless 15 dcmcjpeg +e1
encode jpeg_extended 16 dcmcjpeg +ee
encode jpeg_ls 18 dcmcjpls
encode rle 17 dcmcrle
files=("$images"/*/*.dcm)

real=()
if [ -d "$CALCNODE_DATA_DIR/mg" ]; then
  for f in real_ge_senographe_rmlo_jpegls1.dcm real_ddsm_film_mg1_jpeg_lossy.dcm \
           real_ddsm_film_mg1_j2k_lossy.dcm; do
    [ -f "$CALCNODE_DATA_DIR/mg/$f" ] && real+=("$CALCNODE_DATA_DIR/mg/$f")
  done
  # explicit VR big endian dose SRs and the rest of sr/ and seg/
  # (Label Map Segmentation is newer than DCMTK 3.6.7's storescu, which refuses it)
  for f in "$CALCNODE_DATA_DIR"/sr/*.dcm "$CALCNODE_DATA_DIR"/seg/*.dcm; do
    case "$f" in *LabelMapSEG*|*labelmap*) continue ;; esac
    [ -f "$f" ] && real+=("$f")
  done
else
  echo "note: $CALCNODE_DATA_DIR/mg is absent: real files not sent"
fi
all=("${files[@]}" "${real[@]}")
echo "sending ${#all[@]} files (${#real[@]} real)"

start_node
echoscu -aec CALCNODE 127.0.0.1 "$NODE_PORT" || fail "C-ECHO failed"

send_files STORESCU "${all[@]}"
send_files STORESCU "${all[@]}"

unique=$(for f in "${all[@]}"; do dcmdump -q -Un +P 0008,0018 "$f" | sed 's/.*\[\(.*\)\].*/\1/'; done | sort -u | wc -l)
calcnode_ls >"$TEST_TMP/ls.json"
stored=$(wc -l <"$TEST_TMP/ls.json")
[ "$stored" -eq "$unique" ] || fail "expected $unique instances, catalogue has $stored"
distinct=$(/usr/bin/python3 -c 'import json,sys; print(len({json.loads(l)["sop_instance_uid"] for l in open(sys.argv[1])}))' "$TEST_TMP/ls.json")
[ "$distinct" -eq "$unique" ] || fail "duplicate rows in the catalogue"

# Every stored file: readable by DCMTK and pydicom, calling AE and transfer syntax
# recorded, the same content as the file sent (element by element, pixel data included).
/usr/bin/python3 - "$TEST_TMP/ls.json" "${all[@]}" <<'PY' || fail "stored files differ from the sent ones"
import json, sys, pydicom
from pydicom.dataset import Dataset
rows = [json.loads(l) for l in open(sys.argv[1])]
by_uid = {r["sop_instance_uid"]: r for r in rows}

def elements(ds):
    """Every element of a data set, recursively, group lengths left out (storescu may
    drop or add them when it writes the data set on the wire)."""
    out = []
    for elem in ds:
        if elem.tag.element == 0:
            continue
        if elem.VR == "SQ":
            out.append((elem.tag, [elements(item) for item in elem.value]))
        elif isinstance(elem.value, bytes) and len(elem.value) % 2:
            # an odd-length value in the source file: DICOM requires even lengths, and
            # storescu pads it with a zero byte when it sends it
            out.append((elem.tag, elem.value + b"\x00"))
        else:
            out.append((elem.tag, elem.value))
    return out

bad = 0
sent_by_uid = {}
for sent in sys.argv[2:]:
    sent_by_uid.setdefault(pydicom.dcmread(sent, stop_before_pixels=True).SOPInstanceUID, []).append(sent)
conflicts = 0
for sent in sys.argv[2:]:
    original = pydicom.dcmread(sent)
    uid = original.SOPInstanceUID
    row = by_uid.get(uid)
    if row is None:
        print("missing", uid); bad += 1; continue
    if len(sent_by_uid[uid]) > 1 and sent != sent_by_uid[uid][0]:
        # the same SOP Instance UID in two different files (real data does this): the
        # first one sent is kept, the other is a recorded conflict (checked below)
        conflicts += 1
        continue
    if row["calling_ae"] != "STORESCU":
        print("calling AE", row["calling_ae"]); bad += 1
    if row["transfer_syntax"] != original.file_meta.TransferSyntaxUID:
        print("transfer syntax", uid, row["transfer_syntax"], original.file_meta.TransferSyntaxUID); bad += 1
    stored = pydicom.dcmread(row["path"])
    if stored.file_meta.TransferSyntaxUID != row["transfer_syntax"]:
        print("meta header transfer syntax", uid); bad += 1
    if elements(stored) != elements(original):
        print("content differs", uid); bad += 1
print(f"{conflicts} files reuse another file's SOP Instance UID")
open(sys.argv[1] + ".conflicts", "w").write(str(conflicts))
sys.exit(1 if bad else 0)
PY
for p in $(/usr/bin/python3 -c 'import json,sys; [print(json.loads(l)["path"]) for l in open(sys.argv[1])]' "$TEST_TMP/ls.json"); do
  dcmdump -q "$p" >/dev/null || fail "dcmdump cannot read $p"
done

calcnode_status >"$TEST_TMP/status.json"
/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["instances"] == int(sys.argv[2]), s
assert s["studies"] >= 1 and "jobs" in s and "outbound" in s, s
# every arrival of differing bytes is recorded (the set is sent twice); the bytes are
# kept once under STATE/conflicts
assert s["conflicts"] == 2 * int(sys.argv[3]), s
' "$TEST_TMP/status.json" "$unique" "$(cat "$TEST_TMP/ls.json.conflicts")" || fail "status: $(cat "$TEST_TMP/status.json")"

kept=$(ls "$NODE_STATE/conflicts" | wc -l)
[ "$kept" -eq "$(cat "$TEST_TMP/ls.json.conflicts")" ] || fail "expected the conflicting bytes kept once, found $kept files"
stop_node
echo "PASS: $unique instances stored once each after two sends of ${#all[@]} files"
