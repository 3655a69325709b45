#!/usr/bin/python3
"""Test content for edgebench runs, the same for edgeplane and nginx.

    compare_content.py DIR [--small N] [--segments N] [--titles N] [--seconds S]

writes
    DIR/small/oNNNN.bin         N objects of 1 KiB
    DIR/seg/sNNNN.m4s           N segments of 2 MiB
    DIR/dash/tNN/manifest.mpd   titles: a static MPD (SegmentTemplate with
                                $RepresentationID$ and $Number%05d$), 4 video
                                representations (750k..8M), 2 s segments
    DIR/dash/tNN/init-R.mp4, chunk-R-NNNNN.m4s  segment sizes = bitrate × 2 s
    DIR/small.txt, DIR/seg.txt, DIR/dash.txt     URL lists (one path a line)

Bytes are pseudo-random (seeded), so byte-exactness checks mean something.
"""
import argparse
import os
import random

LADDER = [("v750", 750_000), ("v2000", 2_000_000), ("v4500", 4_500_000), ("v8000", 8_000_000)]
SEG_S = 2

MPD = """<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT{dur}.0S" minBufferTime="PT2.0S">
  <Period id="0" start="PT0.0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="1000" duration="{segms}" startNumber="1" initialization="init-$RepresentationID$.mp4" media="chunk-$RepresentationID$-$Number%05d$.m4s"/>
{reps}
    </AdaptationSet>
  </Period>
</MPD>
"""


def blob(rng, n):
    return rng.randbytes(n)


def main_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--segments", type=int, default=8)
    ap.add_argument("--titles", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8, help="media seconds per DASH title")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    d = a.dir
    for sub in ("small", "seg", "dash"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    small = []
    for i in range(a.small):
        p = f"small/o{i:04d}.bin"
        open(os.path.join(d, p), "wb").write(blob(rng, 1024))
        small.append("/" + p)
    seg = []
    for i in range(a.segments):
        p = f"seg/s{i:04d}.m4s"
        open(os.path.join(d, p), "wb").write(blob(rng, 2 << 20))
        seg.append("/" + p)
    dash = []
    nseg = (a.seconds + SEG_S - 1) // SEG_S
    for t in range(a.titles):
        td = os.path.join(d, "dash", f"t{t:02d}")
        os.makedirs(td, exist_ok=True)
        reps = "\n".join(
            f'      <Representation id="{rid}" bandwidth="{bw}" codecs="avc1.64001f" width="1280" height="720"/>'
            for rid, bw in LADDER)
        open(os.path.join(td, "manifest.mpd"), "w").write(
            MPD.format(dur=a.seconds, segms=SEG_S * 1000, reps=reps))
        for rid, bw in LADDER:
            open(os.path.join(td, f"init-{rid}.mp4"), "wb").write(blob(rng, 900))
            for n in range(1, nseg + 1):
                open(os.path.join(td, f"chunk-{rid}-{n:05d}.m4s"), "wb").write(blob(rng, bw * SEG_S // 8))
        dash.append(f"/dash/t{t:02d}/manifest.mpd")
    for name, urls in (("small", small), ("seg", seg), ("dash", dash)):
        with open(os.path.join(d, name + ".txt"), "w") as f:
            f.write("\n".join(urls) + "\n")


if __name__ == "__main__":
    main_args()
