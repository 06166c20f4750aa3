#!/usr/bin/env bash
# DCMTK echoscu and storescu against calcnode: every transfer syntax of the real files in
# ../shared/data plus generated images in several encodings, sent twice; every instance
# must be stored exactly once, readable, with the bytes of the data set as sent.
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

# Every stored file: readable by DCMTK, calling AE recorded, data set bytes as sent.
/usr/bin/python3 - "$TEST_TMP/ls.json" "${all[@]}" <<'PY' || fail "stored files differ from the sent ones"
import json, sys, pydicom
rows = [json.loads(l) for l in open(sys.argv[1])]
by_uid = {r["sop_instance_uid"]: r for r in rows}
def dataset_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    # skip preamble, DICM and the group 0002 meta header (its length is in (0002,0000))
    assert data[128:132] == b"DICM", path
    glen = int.from_bytes(data[140:144], "little")
    return data[144 + glen:]
bad = 0
for sent in sys.argv[2:]:
    uid = pydicom.dcmread(sent, stop_before_pixels=True).SOPInstanceUID
    row = by_uid.get(uid)
    if row is None:
        print("missing", uid); bad += 1; continue
    if row["calling_ae"] != "STORESCU":
        print("calling AE", row["calling_ae"]); bad += 1
    ts = pydicom.dcmread(sent, stop_before_pixels=True).file_meta.TransferSyntaxUID
    if row["transfer_syntax"] != ts:
        print("transfer syntax", uid, row["transfer_syntax"], ts); bad += 1
    if dataset_bytes(sent) != dataset_bytes(row["path"]):
        print("bytes differ", uid); bad += 1
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
' "$TEST_TMP/status.json" "$unique" || fail "status: $(cat "$TEST_TMP/status.json")"

stop_node
echo "PASS: $unique instances stored once each after two sends of ${#all[@]} files"
