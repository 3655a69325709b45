#!/usr/bin/env bash
# Packages a title as multi-bitrate DASH (isoff-live profile, SegmentTemplate
# with $Number$, fixed-length segments) for the edge to serve.
# Used by `edgectl package SOURCE [--ladder ...] --out DIR`.
#
# Usage: package.sh [--source FILE] [--duration SECONDS] [--ladder LADDER]
#                   [--seg-duration SECONDS] [--fps N] [--audio-bitrate RATE]
#                   [--preset X264PRESET] --out DIR
#   --source      input media; without it a test pattern (testsrc2 + sine)
#   --duration    seconds to package (default 30 for the test pattern,
#                 whole source otherwise)
#   --ladder      comma list of WIDTHxHEIGHT:BITRATE, highest first
#                 (default 1280x720:2500k,960x540:1500k,640x360:800k,512x288:400k)
#                 Use exact 16:9 sizes (854x480 and 426x240 are not: ffmpeg's
#                 DASH muxer then refuses the mixed aspect ratios).
# Output: DIR/manifest.mpd, DIR/init-<rep>.m4s, DIR/chunk-<rep>-<n>.m4s
set -euo pipefail

source_file=""
duration=""
ladder="1280x720:2500k,960x540:1500k,640x360:800k,512x288:400k"
seg=2
fps=30
abr=128k
preset=veryfast
out=""

die() { echo "package.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --source) source_file=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --ladder) ladder=$2; shift 2 ;;
    --seg-duration) seg=$2; shift 2 ;;
    --fps) fps=$2; shift 2 ;;
    --audio-bitrate) abr=$2; shift 2 ;;
    --preset) preset=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ -n "$out" ]] || die "--out DIR is required"
command -v ffmpeg >/dev/null || die "ffmpeg not found (apt-get install -y ffmpeg)"

IFS=',' read -r -a rungs <<< "$ladder"
[[ ${#rungs[@]} -ge 1 ]] || die "empty ladder"

inputs=()
audio_map=""
shortest=()
if [[ -z "$source_file" ]]; then
  duration=${duration:-30}
  top=${rungs[0]%%:*}
  inputs=(-f lavfi -i "testsrc2=size=${top}:rate=${fps}"
          -f lavfi -i "sine=frequency=440:sample_rate=48000")
  audio_map="1:a"
else
  [[ -f "$source_file" ]] || die "no such source: $source_file"
  inputs=(-i "$source_file")
  if ffprobe -v error -select_streams a:0 -show_entries stream=index -of csv=p=0 \
       "$source_file" | grep -q .; then
    audio_map="0:a:0"
  else
    # A silent source still gets an audio track: players expect one.
    inputs+=(-f lavfi -i "anullsrc=channel_layout=stereo:sample_rate=48000")
    audio_map="1:a"
    shortest=(-shortest)  # anullsrc never ends: stop with the video
  fi
fi

# One decoder, split into one scaler per rung; setsar=1 keeps square pixels.
filter="[0:v]split=${#rungs[@]}"
for i in "${!rungs[@]}"; do filter+="[s$i]"; done
filter+=";"
maps=()
rates=()
for i in "${!rungs[@]}"; do
  size=${rungs[$i]%%:*}
  rate=${rungs[$i]##*:}
  [[ "$size" =~ ^[0-9]+x[0-9]+$ && "$rate" =~ ^[0-9]+[kM]?$ ]] || die "bad rung ${rungs[$i]}"
  filter+="[s$i]scale=${size/x/:},setsar=1[v$i];"
  maps+=(-map "[v$i]")
  # Capped VBR: maxrate 1.07x and a 1.5x buffer keep segments near nominal,
  # which is what the player's throughput rule assumes.
  num=${rate%[kM]}; unit=${rate: -1}; [[ "$unit" =~ [kM] ]] || unit=""
  rates+=(-b:v:$i "$rate" -maxrate:v:$i "$((num * 107 / 100))$unit" -bufsize:v:$i "$((num * 3 / 2))$unit")
done
filter=${filter%;}

mkdir -p "$out"
limit=()
[[ -n "$duration" ]] && limit=(-t "$duration")

# Key frames exactly every segment boundary (force_key_frames works for any
# source frame rate; sc_threshold 0 stops extra scene-cut I-frames).
ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" "${limit[@]}" \
  -filter_complex "$filter" "${maps[@]}" -map "$audio_map" \
  -c:v libx264 -preset "$preset" -profile:v main -pix_fmt yuv420p "${rates[@]}" \
  -force_key_frames "expr:gte(t,n_forced*${seg})" -sc_threshold 0 \
  -c:a aac -b:a "$abr" -ac 2 -ar 48000 \
  "${shortest[@]}" -f dash -seg_duration "$seg" -use_template 1 -use_timeline 0 \
  -adaptation_sets "id=0,streams=v id=1,streams=a" \
  -init_seg_name 'init-$RepresentationID$.m4s' \
  -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' \
  "$out/manifest.mpd"

echo "packaged $(ls "$out" | wc -l) files into $out"
