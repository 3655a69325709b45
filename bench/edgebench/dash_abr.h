// A DASH player without a decoder: adaptation rules and the playback buffer,
// pure (time in, decisions out) so a scripted bandwidth trace can drive it.
//
// Rules (ladder = bitrates ascending, bits/s):
//  - throughput: the highest bitrate ≤ safety × the harmonic mean of the last
//    `window` segment throughputs (dash.js ThroughputRule, FESTIVE's estimate).
//    Before any measurement: the lowest.
//  - buffer (BBA-0, Huang et al., SIGCOMM 2014): below `reservoir` seconds of
//    buffer the lowest bitrate; above reservoir + cushion the highest; in
//    between the rate map f(B) is linear, and the bitrate changes only when
//    f(B) reaches the rate above the previous one or falls to the rate below it.
//
// The Player fetches segments in order, one at a time; a segment adds its
// duration to the buffer when it has arrived; the buffer drains in real time
// once playback started (after `startup_s` of media buffered), stalls when it
// runs dry (rebuffering), and the player waits while the buffer is full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ep::bench {

enum class AbrRule : uint8_t { throughput, buffer };

struct AbrConfig {
    AbrRule rule = AbrRule::throughput;
    double safety = 0.9;     // throughput rule: fraction of the estimate used
    int window = 3;          // throughput rule: segments in the harmonic mean
    double reservoir_s = 5;  // buffer rule
    double cushion_s = 10;   // buffer rule
    double startup_s = 2;    // media buffered before playback starts
    double max_buffer_s =
        20;  // no new request while the buffer holds more than this minus one segment
};

// Stateless pieces, exposed for tests.
size_t throughput_choice(const std::vector<uint64_t> &ladder, double estimate_bps, double safety);
size_t bba_choice(const std::vector<uint64_t> &ladder, double buffer_s, size_t prev,
                  double reservoir_s, double cushion_s);
double harmonic_mean(const std::vector<double> &v, int window);

struct PlayerMetrics {
    uint32_t segments = 0;       // downloaded
    double avg_bitrate_bps = 0;  // mean of the chosen bitrates, per segment
    double startup_delay_s = 0;  // start() to playback start (−1: never started)
    double stall_s = 0;          // time spent rebuffering after startup
    double played_s = 0;
    double rebuffer_ratio = 0;  // stall / (stall + played)
    uint32_t switches = 0;      // bitrate changes between consecutive segments
    uint32_t stalls = 0;        // rebuffering events
};

class Player {
  public:
    Player(const AbrConfig &cfg, std::vector<uint64_t> ladder, double seg_s, uint32_t nsegs);

    void start(double now);
    // What to fetch next, or when to ask again.
    struct Decision {
        enum Kind : uint8_t { fetch, wait, done } kind = done;
        uint32_t segment = 0;  // 0-based index within the presentation
        size_t rep = 0;        // index into the ladder
        double until = 0;      // kind == wait: ask again at this time
    };
    Decision next(double now);
    // The segment asked for by the last fetch decision arrived.
    void segment_done(double now, uint64_t bytes, double download_s);
    // Advances playback to `now` (next() and segment_done() call it).
    void advance(double now);

    bool finished() const { return next_seg_ >= nsegs_ && buffer_s_ <= 1e-9 && started_; }
    double buffer_s() const { return buffer_s_; }
    PlayerMetrics metrics() const;
    const std::vector<size_t> &choices() const { return choices_; }

  private:
    AbrConfig cfg_;
    std::vector<uint64_t> ladder_;
    double seg_s_;
    uint32_t nsegs_;
    uint32_t next_seg_ = 0;
    bool fetching_ = false;
    bool started_ = false;
    bool stalled_ = false;
    double t0_ = 0, last_ = 0, start_play_ = -1;
    double buffer_s_ = 0;
    double stall_s_ = 0, played_s_ = 0;
    uint32_t stalls_ = 0;
    size_t last_rep_ = 0;
    std::vector<double> tput_;
    std::vector<size_t> choices_;
};

}  // namespace ep::bench
