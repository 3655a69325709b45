#!/usr/bin/env bash
# control/package/package.sh makes a valid DASH ladder: an isoff-live MPD
# with >= 3 video Representations, AAC audio, and every segment it names.
set -euo pipefail
# $1: path of package.sh (meson passes it; default: relative to this file)
package=${1:-$(cd "$(dirname "$0")/../.." && pwd)/control/package/package.sh}
# A missing tool skips (77) on a developer's machine; under CI=true it fails.
skip() { echo "$*: skip"; [[ "${CI:-}" == true ]] && { echo "CI=true: required, failing"; exit 1; }; exit 77; }
command -v ffmpeg >/dev/null || skip "ffmpeg missing"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ladder=640x360:800k,512x288:400k,384x216:200k
# 1. the generated test pattern
"$package" --duration 4 --preset ultrafast --ladder "$ladder" --out "$out/pattern"
# 2. a source file without audio (the helper adds a silent track)
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 -t 3 \
  -c:v libx264 -preset ultrafast "$out/silent.mp4"
timeout 120 "$package" --source "$out/silent.mp4" --preset ultrafast --ladder "$ladder" \
  --out "$out/silent"
for dir in "$out/pattern" "$out/silent"; do
/usr/bin/python3 - "$dir" <<'PY'
import math, os, re, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
mpd = ET.parse(os.path.join(out, "manifest.mpd")).getroot()
assert "isoff-live" in mpd.get("profiles"), mpd.get("profiles")
m = re.fullmatch(r"PT([\d.]+)S", mpd.get("mediaPresentationDuration"))
duration = float(m.group(1))
video = audio = 0
for aset in mpd.iterfind(".//d:AdaptationSet", ns):
    for rep in aset.iterfind("d:Representation", ns):
        kind = aset.get("contentType")
        if kind == "video":
            video += 1
            w, h = int(rep.get("width")), int(rep.get("height"))
            assert w * 9 == h * 16, f"not 16:9: {w}x{h}"
            assert rep.get("codecs").startswith("avc1.")
        elif kind == "audio":
            audio += 1
            assert rep.get("codecs") == "mp4a.40.2"
        t = rep.find("d:SegmentTemplate", ns)
        rid = rep.get("id")
        seg = int(t.get("duration")) / int(t.get("timescale"))
        assert abs(seg - 2.0) < 1e-6, seg
        init = t.get("initialization").replace("$RepresentationID$", rid)
        assert os.path.getsize(os.path.join(out, init)) > 0, init
        for n in range(int(t.get("startNumber")), int(t.get("startNumber")) + math.ceil(duration / seg)):
            media = t.get("media").replace("$RepresentationID$", rid).replace("$Number%05d$", "%05d" % n)
            assert os.path.getsize(os.path.join(out, media)) > 0, media
assert video >= 3, video
assert audio >= 1, audio
print(f"ok: {video} video + {audio} audio representations, {duration}s")
PY
done
