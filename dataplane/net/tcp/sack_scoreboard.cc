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

bool SackScoreboard::rxt_add(Seq start, Seq end, Seq mark, uint64_t now_ns) {
    const uint32_t ts = static_cast<uint32_t>(now_ns >> 10);
    if (nx_ && x_[nx_ - 1].end == start) {
        x_[nx_ - 1].end = end;
        x_[nx_ - 1].mark = mark;
        x_[nx_ - 1].ts = ts;
        return true;
    }
    if (nx_ == kMaxRxt) return false;
    x_[nx_++] = {start, end, mark, ts};
    return true;
}

Seq SackScoreboard::rxt_skip(Seq s) const {
    for (int i = 0; i < nx_; ++i)
        if (seq_in(s, x_[i].start, x_[i].end)) return x_[i].end;
    return s;
}

Seq SackScoreboard::rxt_next(Seq s, Seq none) const {
    Seq best = none;
    for (int i = 0; i < nx_; ++i)
        if (seq_gt(x_[i].start, s) && seq_lt(x_[i].start, best)) best = x_[i].start;
    return best;
}

uint32_t SackScoreboard::rxt_bytes() const {
    uint32_t b = 0;
    for (int i = 0; i < nx_; ++i) {
        // Minus the SACKed part of the record.
        uint32_t len = x_[i].end - x_[i].start;
        for (int k = 0; k < n_; ++k) {
            Seq s = seq_max(r_[k].start, x_[i].start), e = seq_min(r_[k].end, x_[i].end);
            if (seq_lt(s, e)) len -= e - s;
        }
        b += len;
    }
    return b;
}

void SackScoreboard::rxt_remove(int i) {
    for (int k = i + 1; k < nx_; ++k) x_[k - 1] = x_[k];
    --nx_;
}

void SackScoreboard::rxt_prune(Seq snd_una) {
    for (int i = 0; i < nx_;) {
        Rxt &x = x_[i];
        if (seq_lt(x.start, snd_una)) x.start = snd_una;
        bool gone = !seq_lt(x.start, x.end);
        if (!gone) {
            // Trim SACKed edges; a fully SACKed record is delivered.
            Seq s = skip_sacked(x.start);
            while (s != x.start && seq_lt(s, x.end)) {
                x.start = s;
                s = skip_sacked(x.start);
            }
            if (!seq_lt(s, x.end)) gone = true;
        }
        if (gone)
            rxt_remove(i);
        else
            ++i;
    }
}

int SackScoreboard::rxt_detect_lost(uint32_t mss, int dup_thresh) {
    int lost = 0;
    for (int i = 0; i < nx_;) {
        if (sacked_above(x_[i].mark) > static_cast<uint32_t>(dup_thresh - 1) * mss) {
            rxt_remove(i);
            ++lost;
        } else {
            ++i;
        }
    }
    return lost;
}

int SackScoreboard::rxt_expire(uint64_t sent_before_ns) {
    int lost = 0;
    for (int i = 0; i < nx_;) {
        const uint32_t before = static_cast<uint32_t>(sent_before_ns >> 10);
        if (static_cast<int32_t>(x_[i].ts - before) <= 0) {
            rxt_remove(i);
            ++lost;
        } else {
            ++i;
        }
    }
    return lost;
}

uint32_t SackScoreboard::pipe_rxt(Seq snd_una, Seq snd_max, Seq lost_below, uint32_t mss) const {
    uint32_t p = (snd_max - snd_una) - sacked_bytes_;
    Seq cur = snd_una;
    for (int i = 0; i < n_; ++i) {
        if (seq_lt(cur, r_[i].start) && (seq_lt(cur, lost_below) || is_lost(cur, mss)))
            p -= r_[i].start - cur;
        cur = r_[i].end;
    }
    // Beyond the highest SACK: lost only below lost_below (after an RTO).
    if (seq_lt(cur, lost_below)) {
        Seq e = seq_min(lost_below, snd_max);
        if (seq_lt(cur, e)) p -= e - cur;
    }
    return p + rxt_bytes();
}

}  // namespace ep::tcp
