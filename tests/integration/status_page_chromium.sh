#!/usr/bin/env bash
# The status page in a real browser: Debian's headless chromium loads / after a 4-view
# study was received and analysed; the study row is there (patient ID, calling AE, job
# done), every image of it loads as a PNG (a page of ours-for-the-test records each
# image's naturalWidth once loaded), and a screenshot of /study/<uid> is not blank and
# shows an outline colour.
. "$(dirname "$0")/lib/common.bash"
need_tool curl
need_tool storescu
command -v chromium >/dev/null 2>&1 || skip "chromium is not installed"
bin=$(dirname "$CALCNODE_BIN")
[ -x "$bin/phantom" ] || skip "phantom tool not built"

study_uid=1.2.826.0.1.3680043.10.1497.9.7201
seed=7201
for v in "L CC" "L MLO" "R CC" "R MLO"; do
  set -- $v
  "$bin/phantom" --seed "$seed" --rows 1024 --columns 832 --spacing-mm 0.1 --bits 12 \
    --laterality "$1" --view "$2" --kind malignant --out-dir "$TEST_TMP/study" \
    --study-uid "$study_uid" --patient-id 'P7201<b>' --name "$1$2" >/dev/null
  seed=$((seed + 1))
done

http_port=$(free_port)
start_node --http-port "$http_port" --workers 2 --quiet-period 30
url="http://127.0.0.1:$http_port"
send_files MODALITY "$TEST_TMP"/study/*.dcm

deadline=$((SECONDS + 240))
until curl -sf "$url/metrics" | grep '^calcnode_jobs{state="done"} 1$' >/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the study was not analysed in time"
  sleep 0.5
done

browse() { # browse ARGS... URL: headless chromium with a private profile
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$TEST_TMP/chromium" --virtual-time-budget=10000 "$@" \
    2>>"$TEST_TMP/chromium.log"
}

browse --dump-dom "$url/" >"$TEST_TMP/status.html" || fail "chromium could not load /"
grep -q "P7201&lt;b&gt;" "$TEST_TMP/status.html" || fail "the study row (escaped patient ID) is not on /"
grep -q "MODALITY" "$TEST_TMP/status.html" || fail "the calling AE is not on /"
grep -q "<td>done</td>" "$TEST_TMP/status.html" || fail "the analysis state is not on /"
mapfile -t images < <(grep -o 'src="/image/[0-9.]*\.png?rows=[0-9]*"' "$TEST_TMP/status.html" \
  | sed 's/^src="//; s/"$//')
[ "${#images[@]}" -eq 4 ] || fail "expected 4 images on /, found ${#images[@]}"

# each image must load in the browser: a page of the test's own writes naturalWidth
{
  echo '<!DOCTYPE html><html><body><ul id="r"></ul>'
  for src in "${images[@]}"; do echo "<img src=\"$url$src\">"; done
  echo '<script>window.addEventListener("load", function () {'
  echo '  for (const img of document.images) {'
  echo '    const li = document.createElement("li");'
  echo '    li.textContent = "loaded " + img.naturalWidth + "x" + img.naturalHeight;'
  echo '    document.getElementById("r").appendChild(li); } });</script></body></html>'
} >"$TEST_TMP/check.html"
browse --allow-file-access-from-files --dump-dom "file://$TEST_TMP/check.html" >"$TEST_TMP/check.out" \
  || fail "chromium could not load the check page"
loaded=$(grep -o 'loaded [0-9]*x[0-9]*' "$TEST_TMP/check.out" | grep -vc 'loaded 0x' || true)
[ "$loaded" -eq 4 ] || { cat "$TEST_TMP/check.out"; fail "$loaded of 4 images loaded"; }
grep -o 'loaded [0-9]*x160' "$TEST_TMP/check.out" | head -1 | grep -q . || fail "thumbnails are not 160 px high"

browse --screenshot="$TEST_TMP/study.png" --window-size=1400,1200 "$url/study/$study_uid" \
  >/dev/null || fail "chromium could not take the screenshot"
/usr/bin/python3 - "$TEST_TMP/study.png" <<'PY' || fail "the screenshot is blank or shows no outline"
import sys
import numpy as np
from skimage.io import imread
img = imread(sys.argv[1])[..., :3].astype(int)
gray = img.mean(axis=2)
assert gray.std() > 20, f"flat screenshot (std {gray.std():.1f})"
dark = (gray < 60).mean()
assert dark > 0.05, f"no image on the page ({dark:.3f} dark)"
r, g, b = img[..., 0], img[..., 1], img[..., 2]
colour = ((abs(r - g) > 80) | (abs(g - b) > 80) | (abs(r - b) > 80)).sum()
assert colour > 50, f"no coloured outline or mark ({colour} pixels)"
print(f"screenshot: std {gray.std():.1f}, {dark:.2f} dark, {colour} coloured pixels")
PY
stop_node
echo "PASS: chromium shows the study row, loads its 4 images and renders the study page"
