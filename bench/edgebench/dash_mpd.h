// Just enough of a DASH MPD (ISO/IEC 23009-1) for a load-generating player:
// the AdaptationSets, their Representations (id, bandwidth) and the
// SegmentTemplate (media, initialization, duration, timescale, startNumber)
// that applies to each, plus mediaPresentationDuration. Static, number-based
// templates only (no SegmentTimeline, no SegmentList, no live): what our
// packager and `ffmpeg -f dash -use_template 1 -use_timeline 0` write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ep::bench {

struct DashRepresentation {
    std::string id;
    uint64_t bandwidth = 0;  // bits per second
    std::string media;       // template, e.g. "chunk-$RepresentationID$-$Number%05d$.m4s"
    std::string initialization;
    uint64_t duration = 0;  // segment duration in timescale units
    uint64_t timescale = 1;
    uint64_t start_number = 1;
};

struct DashAdaptationSet {
    std::string content_type;              // "video", "audio", or from mimeType
    std::vector<DashRepresentation> reps;  // sorted by bandwidth, ascending
};

struct DashMpd {
    double duration_s = 0;  // mediaPresentationDuration
    std::vector<DashAdaptationSet> sets;

    // The set a video player adapts on: the first video set, else the first set.
    const DashAdaptationSet *video() const;
    // Segments in the presentation for `r`: ceil(duration / segment duration).
    uint32_t segment_count(const DashRepresentation &r) const;
};

// Parses the MPD text; nullopt with `err` set when it holds nothing playable.
std::optional<DashMpd> parse_mpd(std::string_view xml, std::string *err);

// ISO 8601 duration as MPDs use it ("PT1H2M3.5S", "P1DT2H"); -1 if malformed.
double parse_iso_duration(std::string_view s);

// $RepresentationID$, $Number$, $Number%0Nd$, $Bandwidth$ and $$ substituted.
std::string expand_template(std::string_view tmpl, const DashRepresentation &r, uint64_t number);

// Resolves a relative segment URL against the MPD's path ("/v/a.mpd" + "s1.m4s" → "/v/s1.m4s").
std::string resolve_url(std::string_view mpd_path, std::string_view rel);

}  // namespace ep::bench
