#!/usr/bin/env bash
# Drive the real app under Xvfb with xdotool and save a PNG of each state: first run (no model yet), browsing,
# a search, chips, filters, the preview, duplicates and settings — at 800x600 and at QT_SCALE_FACTOR=2.
#
#   apt-get install -y xvfb xdotool libxcb-icccm4 libxcb-keysyms1   # plus x11-apps imagemagick for `import`
#   packaging/screenshots.sh [OUT_DIR]        (default: screenshots/; PY=path/to/python to pick the venv)
#
# The photos are generated (tests/shapes.py, as the e2e tests make them) and indexed with the tiny test CLIP
# (tests/models/tiny-clip): no network, and PHOTOFINDER_DATA_DIR points at a temporary folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
OUT=$(mkdir -p "${1:-screenshots}" && cd "${1:-screenshots}" && pwd)
WORK=$(mktemp -d)
export HF_HUB_OFFLINE=1 DISPLAY=:97 QT_QPA_PLATFORM=xcb LC_ALL=C.UTF-8
Xvfb :97 -screen 0 1700x1300x24 -nolisten tcp >/dev/null 2>&1 & XPID=$!
APID=""
cleanup() { [ -n "$APID" ] && kill "$APID" 2>/dev/null; kill "$XPID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
sleep 1

# photos: 12 kinds of shapes, 6 of each, two of them copied (for the duplicates window), dated over two years
"$PY" - "$WORK/photos" <<'EOF'
import os, shutil, sys, time
from pathlib import Path
sys.path.insert(0, "tests")
from helpers import make_photos
from shapes import Kind
kinds = [Kind(s, c, b) for s, c, b in [("circle", "red", "white"), ("circle", "red", "black"),
    ("square", "red", "white"), ("circle", "blue", "white"), ("star", "yellow", "gray"),
    ("triangle", "green", "brown"), ("square", "purple", "black"), ("star", "orange", "white"),
    ("triangle", "blue", "gray"), ("square", "green", "white"), ("star", "purple", "brown"),
    ("circle", "green", "black")]]
folder = Path(sys.argv[1])
made = sorted(make_photos(folder, kinds, 4, size=(480, 360)))
for i, p in enumerate(made):
    t = time.mktime((2023 - i % 2, 1 + i % 12, 10, 12, 0, 0, 0, 0, -1))
    os.utime(p, (t, t))
for p in made[:2]:
    shutil.copy2(p, p.with_name("copy of " + p.name))
EOF

win() { xdotool search --sync --onlyvisible --name '^photofinder$' | head -1; }
shot() { sleep "${2:-1.2}"; import -window root -crop "${W}x${H}+0+0" "$OUT/$1-$TAG.png"; echo "  $1-$TAG.png"; }
key() { xdotool key --clearmodifiers "$@"; sleep 0.4; }
click() { xdotool mousemove "$(($1 * S))" "$(($2 * S))" click "${3:-1}"; sleep 0.5; }

start() {  # $1: data dir
  PHOTOFINDER_DATA_DIR=$1 QT_SCALE_FACTOR=$S "$PY" -m photofinder gui >"$WORK/app.log" 2>&1 & APID=$!
  WID=$(win); xdotool windowmove "$WID" 0 0 windowsize "$WID" "$W" "$H"; sleep 2
  click 400 592  # no window manager: a click (on the status line) gives the window the keyboard
}
stop() { kill "$APID"; wait "$APID" 2>/dev/null || true; APID=""; }

for S in 1 2; do
  TAG=$([ "$S" = 1 ] && echo 800x600 || echo scale2)
  W=$((800 * S)); H=$((600 * S))
  echo "== $TAG"
  # 1. first run: an empty data dir, the default model not downloaded: the welcome
  start "$WORK/first-$S"; shot 01-first-run; stop
  # 2. a library indexed with the tiny model (the CLI writes the same library files)
  DATA=$WORK/data-$S
  PHOTOFINDER_DATA_DIR=$DATA "$PY" -m photofinder index --model "$ROOT/tests/models/tiny-clip" "$WORK/photos" >/dev/null 2>&1
  printf '[General]\nmodel=%s\n' "$ROOT/tests/models/tiny-clip" >"$DATA/settings.ini"
  start "$DATA"; shot 02-browse 2
  key ctrl+f; xdotool type --delay 30 'a red circle'; key Return; shot 03-search 3
  key ctrl+f; key End; xdotool type --delay 30 ' -black'; key Return; shot 04-chips 3
  key ctrl+equal; shot 05-zoomed; key ctrl+minus
  click 70 350; shot 06-filters 3  # the 2022 bar of "Date taken" in the filter panel
  click 330 180; key space; shot 07-preview 2; key Escape
  click 330 180 3; shot 08-context-menu 1; key Escape
  key alt+l; key d; shot 09-duplicates 15; key Escape
  key alt+e; key s; shot 10-settings 1; key Escape
  stop
done
echo "screenshots in $OUT"
