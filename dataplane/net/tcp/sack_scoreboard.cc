#include "dataplane/net/tcp/sack_scoreboard.h"

namespace ep::tcp {

void SackScoreboard::recount() {
    uint32_t b = 0;
    for (int i = 0; i < n_; ++i) b += r_[i].end - r_[i].start;
    sacked_bytes_ = b;
}

bool SackScoreboard::add(Seq start, Seq end, Seq snd_una, Seq snd_max) {
    if (!seq_lt(start, end)) return false;
    if (seq_le(end, snd_una) || seq_gt(end, snd_max)) return false;  // stale/D-SACK or bogus
    if (seq_lt(start, snd_una)) start = snd_una;
    uint32_t before = sacked_bytes_;
    // Insert keeping order, then merge overlaps.
    int pos = 0;
    while (pos < n_ && seq_lt(r_[pos].start, start)) ++pos;
    if (n_ == kMaxRanges) {
        if (pos == n_) return false;  // would be the highest: drop it
        --n_;                         // drop the current highest range
    }
    for (int i = n_; i > pos; --i) r_[i] = r_[i - 1];
    r_[pos] = {start, end};
    ++n_;
    int w = 0;
    for (int i = 1; i < n_; ++i) {
        if (seq_le(r_[i].start, r_[w].end)) {
            if (seq_gt(r_[i].end, r_[w].end)) r_[w].end = r_[i].end;
        } else {
            r_[++w] = r_[i];
        }
    }
    n_ = w + 1;
    recount();
    return sacked_bytes_ > before;
}

void SackScoreboard::ack_to(Seq snd_una) {
    int k = 0;
    while (k < n_ && seq_le(r_[k].end, snd_una)) ++k;
    if (k) {
        for (int i = k; i < n_; ++i) r_[i - k] = r_[i];
        n_ -= k;
    }
    if (n_ && seq_lt(r_[0].start, snd_una)) r_[0].start = snd_una;
    recount();
}

bool SackScoreboard::is_sacked(Seq s) const {
    for (int i = 0; i < n_; ++i)
        if (seq_in(s, r_[i].start, r_[i].end)) return true;
    return false;
}

Seq SackScoreboard::skip_sacked(Seq s) const {
    for (int i = 0; i < n_; ++i)
        if (seq_in(s, r_[i].start, r_[i].end)) return r_[i].end;
    return s;
}

Seq SackScoreboard::next_sacked(Seq s, Seq none) const {
    for (int i = 0; i < n_; ++i)
        if (seq_gt(r_[i].start, s)) return r_[i].start;
    return none;
}

uint32_t SackScoreboard::sacked_above(Seq s) const {
    uint32_t b = 0;
    for (int i = n_ - 1; i >= 0 && seq_gt(r_[i].end, s); --i)
        b += r_[i].end - (seq_gt(r_[i].start, s) ? r_[i].start : s);
    return b;
}

bool SackScoreboard::is_lost(Seq s, uint32_t mss, int dup_thresh) const {
    int ranges = 0;
    uint32_t bytes = 0;
    for (int i = n_ - 1; i >= 0 && seq_gt(r_[i].start, s); --i) {
        ++ranges;
        bytes += r_[i].end - r_[i].start;
    }
    return ranges >= dup_thresh || bytes > static_cast<uint32_t>(dup_thresh - 1) * mss;
}

bool SackScoreboard::next_hole(Seq from, Seq *hs, Seq *he) const {
    Seq cur = from;
    for (int i = 0; i < n_; ++i) {
        if (seq_lt(cur, r_[i].start)) {
            *hs = cur;
            *he = r_[i].start;
            return true;
        }
        if (seq_lt(cur, r_[i].end)) cur = r_[i].end;
    }
    return false;
}

uint32_t SackScoreboard::pipe(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t mss) const {
    // Octets not SACKed count once unless lost; retransmitted octets count again.
    uint32_t outstanding = snd_max - snd_una;
    uint32_t p = outstanding - sacked_bytes_;
    Seq cur = snd_una;
    for (int i = 0; i < n_; ++i) {
        if (seq_lt(cur, r_[i].start)) {
            // Hole [cur, r.start): lost if IsLost(cur). Approximation: the whole
            // hole shares the verdict of its first byte.
            if (is_lost(cur, mss)) {
                uint32_t hole = r_[i].start - cur;
                uint32_t retx = 0;
                if (seq_gt(high_rxt, cur))
                    retx = seq_lt(high_rxt, r_[i].start) ? high_rxt - cur : hole;
                p -= hole - retx;  // lost and not yet retransmitted: not in flight
            }
        }
        cur = r_[i].end;
    }
    return p;
}

}  // namespace ep::tcp
