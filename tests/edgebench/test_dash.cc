// DASH player logic: MPD parsing, template expansion, the adaptation rules
// and the playback buffer, driven by scripted bandwidth traces.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "bench/edgebench/dash_abr.h"
#include "bench/edgebench/dash_mpd.h"

using namespace ep::bench;

namespace {

// ffmpeg 5.1's DASH muxer output (trimmed), the shape our test content has.
const char *kFfmpegMpd = R"(<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT8.0S" minBufferTime="PT4.0S">
  <!-- a comment <Representation id="x"> -->
  <Period id="0" start="PT0.0S">
    <AdaptationSet id="0" contentType="video" startWithSAP="1" segmentAlignment="true">
      <Representation id="0" mimeType="video/mp4" codecs="avc1.64001e" bandwidth="800000" width="640" height="360">
        <SegmentTemplate timescale="15360" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1" duration="30720"/>
      </Representation>
      <Representation id="1" mimeType="video/mp4" codecs="avc1.64000d" bandwidth="300000" width="320" height="180">
        <SegmentTemplate timescale="15360" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1" duration="30720"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" startWithSAP="1" segmentAlignment="true">
      <Representation id="2" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="69000" audioSamplingRate="44100">
        <SegmentTemplate timescale="44100" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1" duration="88200"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>)";

// Scripted trace: runs a player to the end with bandwidth bw(t) (bits/s,
// sampled when a download starts) and a fixed request latency.
struct Trace {
    std::vector<size_t> choices;
    PlayerMetrics m;
};
Trace emulate(const AbrConfig &cfg, const std::vector<uint64_t> &ladder, double seg_s,
              uint32_t nsegs, const std::function<double(double)> &bw, double rtt = 0) {
    Player p(cfg, ladder, seg_s, nsegs);
    double now = 0;
    p.start(now);
    for (int guard = 0; guard < 100000; ++guard) {
        Player::Decision d = p.next(now);
        if (d.kind == Player::Decision::done) break;
        if (d.kind == Player::Decision::wait) {
            now = d.until;
            continue;
        }
        const uint64_t bytes =
            static_cast<uint64_t>(static_cast<double>(ladder[d.rep]) * seg_s / 8);
        const double dl = rtt + static_cast<double>(bytes) * 8 / bw(now);
        now += dl;
        p.segment_done(now, bytes, dl);
    }
    p.advance(now);
    return {p.choices(), p.metrics()};
}

}  // namespace

TEST(DashMpd, ParsesFfmpegOutput) {
    std::string err;
    auto mpd = parse_mpd(kFfmpegMpd, &err);
    ASSERT_TRUE(mpd) << err;
    EXPECT_DOUBLE_EQ(mpd->duration_s, 8.0);
    ASSERT_EQ(mpd->sets.size(), 2u);
    const DashAdaptationSet *v = mpd->video();
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->content_type, "video");
    ASSERT_EQ(v->reps.size(), 2u);
    EXPECT_EQ(v->reps[0].id, "1");  // sorted by bandwidth
    EXPECT_EQ(v->reps[0].bandwidth, 300000u);
    EXPECT_EQ(v->reps[1].timescale, 15360u);
    EXPECT_EQ(v->reps[1].duration, 30720u);
    EXPECT_EQ(mpd->segment_count(v->reps[1]), 4u);
    EXPECT_EQ(expand_template(v->reps[1].media, v->reps[1], 3), "chunk-stream0-00003.m4s");
    EXPECT_EQ(expand_template(v->reps[1].initialization, v->reps[1], 1), "init-stream0.m4s");
    EXPECT_EQ(resolve_url("/vod/a/manifest.mpd", "chunk-stream0-00003.m4s"),
              "/vod/a/chunk-stream0-00003.m4s");
    EXPECT_EQ(resolve_url("/vod/a/manifest.mpd", "/x.m4s"), "/x.m4s");
}

TEST(DashMpd, SetLevelTemplateAndEntities) {
    const char *x = R"(<MPD mediaPresentationDuration="PT1M0.5S"><Period>
      <AdaptationSet mimeType="video/mp4">
        <SegmentTemplate media="v/$RepresentationID$/$Number$.m4s?a=1&amp;b=$Bandwidth$" initialization="v/$RepresentationID$/init.mp4" duration="4" startNumber="0"/>
        <Representation id="hi" bandwidth="3000000"/>
        <Representation id="lo" bandwidth="1000000"></Representation>
      </AdaptationSet></Period></MPD>)";
    std::string err;
    auto mpd = parse_mpd(x, &err);
    ASSERT_TRUE(mpd) << err;
    EXPECT_DOUBLE_EQ(mpd->duration_s, 60.5);
    const auto &r = mpd->video()->reps;
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].start_number, 0u);
    EXPECT_EQ(r[1].timescale, 1u);
    EXPECT_EQ(mpd->segment_count(r[1]), 16u);
    EXPECT_EQ(expand_template(r[1].media, r[1], 7), "v/hi/7.m4s?a=1&b=3000000");
    EXPECT_EQ(expand_template("$$x$Unknown$", r[1], 7), "$x$Unknown$");
}

TEST(DashMpd, RejectsUnplayable) {
    std::string err;
    EXPECT_FALSE(parse_mpd("<MPD><Period/></MPD>", &err));
    EXPECT_FALSE(parse_mpd("not xml at all", &err));
    EXPECT_DOUBLE_EQ(parse_iso_duration("PT1H2M3.5S"), 3723.5);
    EXPECT_DOUBLE_EQ(parse_iso_duration("P1DT1S"), 86401);
    EXPECT_LT(parse_iso_duration("1H"), 0);
    EXPECT_LT(parse_iso_duration("PT5X"), 0);
}

TEST(Abr, ThroughputChoiceAndHarmonicMean) {
    const std::vector<uint64_t> ladder = {500'000, 1'000'000, 2'000'000, 4'000'000, 8'000'000};
    EXPECT_EQ(throughput_choice(ladder, 100'000, 0.9), 0u);  // below the lowest: the lowest
    EXPECT_EQ(throughput_choice(ladder, 4'500'000, 0.9), 3u);
    EXPECT_EQ(throughput_choice(ladder, 4'400'000, 0.9), 2u);
    EXPECT_EQ(throughput_choice(ladder, 1e12, 0.9), 4u);
    EXPECT_DOUBLE_EQ(harmonic_mean({1e6, 4e6}, 3), 1.6e6);
    EXPECT_DOUBLE_EQ(harmonic_mean({9e9, 1e6, 4e6}, 2), 1.6e6);  // only the window counts
}

TEST(Abr, BbaRateMapWithHysteresis) {
    const std::vector<uint64_t> ladder = {1'000'000, 2'000'000, 3'000'000, 4'000'000, 5'000'000};
    // reservoir 5 s, cushion 10 s: f(B) = 1 Mb/s + (B-5)/10 · 4 Mb/s.
    EXPECT_EQ(bba_choice(ladder, 4, 3, 5, 10), 0u);     // in the reservoir
    EXPECT_EQ(bba_choice(ladder, 16, 0, 5, 10), 4u);    // past the cushion
    EXPECT_EQ(bba_choice(ladder, 10, 0, 5, 10), 1u);    // f = 3.0: max rate below f
    EXPECT_EQ(bba_choice(ladder, 11, 0, 5, 10), 2u);    // f = 3.4
    EXPECT_EQ(bba_choice(ladder, 9, 2, 5, 10), 2u);     // f = 2.6: between R- and R+, stay
    EXPECT_EQ(bba_choice(ladder, 7.5, 2, 5, 10), 2u);   // f = 2.0 = R-: min{R > f} is the current
    EXPECT_EQ(bba_choice(ladder, 7.25, 2, 5, 10), 1u);  // f = 1.9: down to min{R > f}
    EXPECT_EQ(bba_choice(ladder, 5.5, 4, 5, 10), 1u);   // f = 1.2: straight down to 2 Mb/s
}

TEST(Player, StartupStallsAndRebufferRatioExact) {
    // 0.4 Mb/s link, lowest rung 0.5 Mb/s, 2 s segments: each segment takes
    // 2.5 s. Playback starts with the first (2 s buffered at t = 2.5 s), then
    // every segment arrives 0.5 s after the buffer ran dry.
    AbrConfig cfg;
    cfg.startup_s = 2;
    Trace r = emulate(cfg, {500'000, 1'000'000}, 2.0, 10, [](double) { return 400'000.0; });
    EXPECT_EQ(r.m.segments, 10u);
    EXPECT_DOUBLE_EQ(r.m.startup_delay_s, 2.5);
    EXPECT_NEAR(r.m.stall_s, 4.5, 1e-9);
    EXPECT_EQ(r.m.stalls, 9u);
    EXPECT_NEAR(r.m.played_s, 20.0, 1e-9);
    EXPECT_NEAR(r.m.rebuffer_ratio, 4.5 / 24.5, 1e-9);
    EXPECT_EQ(r.m.switches, 0u);
    EXPECT_DOUBLE_EQ(r.m.avg_bitrate_bps, 500'000);
}

TEST(Player, ThroughputRuleFollowsScriptedTrace) {
    // 5 Mb/s for the first 20 s, then 1.5 Mb/s. Throughput rule, window 3,
    // safety 0.9: the first segment at the lowest rung (no estimate), then
    // 4 Mb/s (≤ 4.5); after the drop the harmonic mean walks down:
    // (5,5,1.5) → 2.81·0.9 = 2.53 → 2 Mb/s; (5,1.5,1.5) → 1.76 → 1 Mb/s; then 1 Mb/s.
    const std::vector<uint64_t> ladder = {500'000, 1'000'000, 2'000'000, 4'000'000, 8'000'000};
    AbrConfig cfg;
    cfg.max_buffer_s = 12;
    Trace r = emulate(cfg, ladder, 2.0, 20, [](double t) { return t < 20 ? 5e6 : 1.5e6; });
    ASSERT_EQ(r.choices.size(), 20u);
    std::vector<size_t> want;
    // Derived by hand from the trace: segment 0 takes 0.2 s, then 4 Mb/s
    // segments take 1.6 s at 5 Mb/s (the buffer grows 0.4 s each, never
    // reaching the 10 s pacing point), so segment i starts at 0.2 + 1.6·(i−1):
    // segment 14 (t = 21 s) is the first measured at 1.5 Mb/s, still chosen
    // from (5,5,5); segment 15 sees (5,5,1.5), segment 16 (5,1.5,1.5).
    want = {0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 1, 1, 1, 1};
    EXPECT_EQ(r.choices, want);
    EXPECT_EQ(r.m.switches, 3u);
    EXPECT_EQ(r.m.stalls, 0u);
}

TEST(Player, BufferRuleClimbsAsBufferGrowsAndDropsInReservoir) {
    const std::vector<uint64_t> ladder = {1'000'000, 2'000'000, 3'000'000, 4'000'000, 5'000'000};
    AbrConfig cfg;
    cfg.rule = AbrRule::buffer;
    cfg.max_buffer_s = 30;
    // Fast link: the buffer only grows, so the choice never goes down and
    // reaches the top once the buffer passes reservoir + cushion.
    Trace fast = emulate(cfg, ladder, 2.0, 30, [](double) { return 100e6; });
    for (size_t i = 1; i < fast.choices.size(); ++i)
        EXPECT_GE(fast.choices[i], fast.choices[i - 1]) << i;
    EXPECT_EQ(fast.choices.back(), 4u);
    EXPECT_EQ(fast.m.stalls, 0u);
    // A link slower than the lowest rung keeps the buffer in the reservoir.
    Trace slow = emulate(cfg, ladder, 2.0, 10, [](double) { return 0.8e6; });
    for (size_t c : slow.choices) EXPECT_EQ(c, 0u);
    EXPECT_GT(slow.m.rebuffer_ratio, 0.0);
}
