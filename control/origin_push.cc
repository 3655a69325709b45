#include "control/origin_push.h"

#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "chunkstore/store.h"
#include "chunkstore/types.h"
#include "control/log.h"
#include "dataplane/origin_fill.h"

namespace ep {

namespace {
constexpr uint64_t kChunk = chunkstore::kChunkSize;
constexpr uint64_t kListRetryNs = 30'000'000'000;  // a list that failed is asked again after 30 s
constexpr uint32_t kTries = 3;                     // asks of one chunk before the title fails

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...) {
    char b[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(b, sizeof b, f, ap);
    va_end(ap);
    return b;
}
}  // namespace

bool OriginPush::init(const Config &cfg, chunkstore::Store *store, std::vector<OriginFill *> fills,
                      std::string *err) {
    if (cfg.push_list.empty()) return true;  // off
    if (!push::parse_window(cfg.push_window, &window_, err)) return false;
    for (const std::string &o : cfg.origins) {
        origin::Route r;
        const char *why = "";
        if (!origin::parse_route(o, &r, &why) || !routes_.add(r)) {
            *err = "--origin '" + o + "': " + why;
            return false;
        }
    }
    for (OriginFill *f : fills)
        if (f && f->enabled()) fills_.push_back(f);
    if (fills_.empty()) {
        *err = "--push-list: no data lcore has a fill client (needs --origin and --http-port)";
        return false;
    }
    store_ = store;
    list_path_ = cfg.push_list;
    list_key_ = list_path_.substr(1);
    mbps_ = cfg.push_mbps;
    share_pct_ = cfg.push_share_pct;
    offset_s_ = cfg.push_clock_offset_s;
    // One chunk's fetch: connect and the whole chunk, per server tried; then
    // the lcore has given up and the push asks again (kTries times).
    timeout_ns_ = (uint64_t{cfg.origin_timeout_ms} * (cfg.origins.size() + 1) + 2000) * 1'000'000;
    bucket_.reset(static_cast<uint64_t>(mbps_ * 1e6 / 8), kChunk, 0);
    EP_LOG(NOTICE, "push: list %s, window %s local, cap %.3f Mbit/s, share %u%%",
           list_path_.c_str(), push::format_window(window_).c_str(), mbps_, share_pct_);
    return true;
}

uint32_t OriginPush::day_seconds(int64_t unix_s) const {
    const time_t t = static_cast<time_t>(unix_s + offset_s_);
    struct tm tm;
    localtime_r(&t, &tm);
    return static_cast<uint32_t>(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
}

void OriginPush::poll(uint64_t now_ns, int64_t unix_s) {
    if (!enabled()) return;
    if (!push::inside(window_, day_seconds(unix_s))) {
        if (phase_ != Phase::kOutside) close_round();
        return;
    }
    if (phase_ == Phase::kOutside) begin_round(now_ns, unix_s);
    if (phase_ == Phase::kList) poll_list(now_ns, unix_s);
    if (phase_ == Phase::kFill) poll_fill(now_ns);
}

void OriginPush::begin_round(uint64_t now_ns, int64_t unix_s) {
    ++rounds_;
    round_unix_s_ = unix_s + offset_s_;
    items_.clear();
    pending_.clear();
    list_error_.clear();
    bytes_ = chunks_ = first_ask_ns_ = last_land_ns_ = 0;
    share_used_ = 0;
    retry_ns_ = 0;
    bucket_.reset(bucket_.rate(), kChunk, now_ns);  // full: one chunk may start at once
    // The origin's list as it is now, not an earlier round's copy.
    if (store_->object_ctl(list_key_)) store_->remove_object(list_key_);
    phase_ = Phase::kList;
    EP_LOG(NOTICE, "push: window %s open, reading %s", push::format_window(window_).c_str(),
           list_path_.c_str());
}

void OriginPush::close_round() {
    for (Item &it : items_)
        if (it.st == State::kPlanned || it.st == State::kFilling)
            give_up(it, push::Skip::outside_window,
                    fmt("%u of %u chunks in when the window closed", it.landed, it.chunks));
    pending_.clear();
    if (phase_ != Phase::kDone && phase_ != Phase::kOutside)
        EP_LOG(NOTICE, "push: window closed before the round was done");
    phase_ = Phase::kOutside;
}

bool OriginPush::chunk_in(uint64_t oid, uint32_t index) const {
    return store_->object_by_id(oid) && store_->resident_chunk(chunkstore::chunk_key(oid, index));
}

bool OriginPush::ask(Pending &p, const std::string &key) {
    for (size_t n = 0; n < fills_.size(); ++n) {
        OriginFill *f = fills_[(next_fill_ + n) % fills_.size()];
        for (uint32_t i = 0; i < OriginFill::kPushAsks; ++i) {
            PushAsk &a = f->push_asks()[i];
            if (a.state.load(std::memory_order_acquire) == PushAsk::kAsked) continue;
            bool ours = false;  // answered, but its pending has not read it yet
            for (const Pending &q : pending_) ours |= q.slot == &a;
            if (ours) continue;
            a.index = p.index;
            a.name_len = static_cast<uint16_t>(key.size());
            std::memcpy(a.name, key.data(), key.size());
            a.status = 0;
            a.state.store(PushAsk::kAsked, std::memory_order_release);
            p.slot = &a;
            next_fill_ = static_cast<uint32_t>((next_fill_ + n + 1) % fills_.size());
            return true;
        }
    }
    return false;  // every slot busy: asked again next tick
}

// One pending chunk: 1 landed, 0 still waiting, -1 failed (*why).
static int advance(PushAsk *&slot, bool &asked, uint64_t &since_ns, uint32_t &tries, bool in,
                   uint64_t now_ns, uint64_t timeout_ns, std::string *why) {
    if (in) return 1;
    if (slot) {
        if (slot->state.load(std::memory_order_acquire) != PushAsk::kAnswered) return 0;
        const PushAsk::Result r = slot->result;
        const uint16_t status = slot->status;
        slot->state.store(PushAsk::kFree, std::memory_order_relaxed);
        slot = nullptr;
        switch (r) {
            case PushAsk::Result::started:
            case PushAsk::Result::in_flight:
            case PushAsk::Result::present:  // seen by the lcore: visible here by the next tick
                asked = true;
                since_ns = now_ns;
                return 0;
            case PushAsk::Result::busy:  // no fetch slot free on the lcore: ask again
                asked = false;
                return 0;
            case PushAsk::Result::no_route:
                *why = "no origin route matches it now";
                return -1;
            case PushAsk::Result::no_object:
                *why = "the object left the store mid-push";
                return -1;
            case PushAsk::Result::failed:
                *why = "the origin failed it (" + std::to_string(status) + ")";
                return -1;
        }
        return 0;
    }
    if (asked && now_ns - since_ns > timeout_ns) {
        if (++tries >= kTries) {
            *why = "a chunk never landed after " + std::to_string(kTries) + " asks";
            return -1;
        }
        asked = false;  // the lcore gave up on it: ask again
    }
    return 0;
}

void OriginPush::poll_list(uint64_t now_ns, int64_t unix_s) {
    if (now_ns < retry_ns_) return;
    const uint64_t oid = chunkstore::object_id(list_key_);
    if (pending_.empty()) {
        // The list's fetch counts against the cap like any chunk.
        if (!bucket_.take(kChunk, now_ns)) return;
        Pending p;
        p.len = kChunk;
        p.since_ns = now_ns;
        pending_.push_back(p);
        if (first_ask_ns_ == 0) first_ask_ns_ = now_ns;
    }
    Pending &p = pending_[0];
    if (!p.slot && !p.asked && !chunk_in(oid, 0)) {
        if (p.tries > p.paid_tries && !bucket_.take(kChunk, now_ns)) return;  // asked again: paid
        p.paid_tries = p.tries;
        ask(p, list_key_);
        return;
    }
    std::string why;
    const int r =
        advance(p.slot, p.asked, p.since_ns, p.tries, chunk_in(oid, 0), now_ns, timeout_ns_, &why);
    if (r == 0) return;
    pending_.clear();
    auto retry = [&](std::string e) {
        list_error_ = std::move(e);
        retry_ns_ = now_ns + kListRetryNs;
        EP_LOG(WARNING, "push: %s: %s; asked again in 30 s", list_path_.c_str(),
               list_error_.c_str());
    };
    if (r < 0) return retry("not fetched: " + why);
    const chunkstore::ObjectMeta *m = store_->object_by_id(oid);
    if (!m || m->chunk_count != 1) return retry("longer than one 256 KiB chunk");
    std::vector<uint8_t> buf;
    if (!store_->read_chunk(chunkstore::chunk_key(oid, 0), &buf).ok())
        return retry("its chunk could not be read");
    std::vector<push::Entry> entries;
    std::string err;
    if (!push::parse_list({reinterpret_cast<const char *>(buf.data()), buf.size()}, &entries, &err))
        return retry(err);
    list_error_.clear();

    const uint64_t rate = bucket_.rate();
    const uint32_t left_s = push::seconds_left(window_, day_seconds(unix_s));
    uint64_t budget = rate == 0 ? UINT64_MAX : rate * left_s;
    share_bytes_ = store_->usage().ram_capacity_bytes / 100 * share_pct_;
    push::PlanInput in;
    in.share_left = share_bytes_;
    in.budget_left = budget;
    in.max_name = chunkstore::kMaxName;
    in.routed = [&](std::string_view p) { return routes_.match_key(p.substr(1)) != nullptr; };
    in.stored = [&](std::string_view p) {
        const chunkstore::ObjectMeta *o = store_->object_ctl(p.substr(1));
        if (!o || o->negative_status) return false;
        if (!o->filled) return true;  // ingested: whole (on disk or in RAM)
        for (uint32_t i = 0; i < o->chunk_count; ++i)
            if (!store_->resident_chunk(chunkstore::chunk_key(o->id, i))) return false;
        return true;
    };
    const std::vector<push::Skip> d = push::plan(entries, in);
    items_.clear();
    uint64_t share_left = share_bytes_;
    for (size_t i = 0; i < entries.size(); ++i) {
        Item it;
        it.e = entries[i];
        it.size = it.e.size;
        if (d[i] != push::Skip::bad_path) {
            it.key = it.e.path.substr(1);
            it.oid = chunkstore::object_id(it.key);
        }
        if (d[i] == push::Skip::share)
            it.detail = fmt("needs %" PRIu64 " bytes, %" PRIu64 " of the share left",
                            push::slot_bytes(it.size), share_left);
        else if (d[i] == push::Skip::budget)
            it.detail = fmt("needs %" PRIu64 " bytes, the cap passes %" PRIu64
                            " more before the window ends",
                            it.size, budget);
        // A listed size gives the chunk count now, so the most popular
        // title's chunks go first; its first chunk's answer has the last word.
        it.chunks = static_cast<uint32_t>((it.size + kChunk - 1) / kChunk);
        if (d[i] != push::Skip::none) {
            it.st = State::kSkipped;
            it.skip = d[i];
        } else if (it.size) {
            share_left -= push::slot_bytes(it.size);
            budget -= it.size;
        }
        items_.push_back(std::move(it));
    }
    share_used_ = share_bytes_ - share_left;
    budget_left_ = budget;
    phase_ = Phase::kFill;
    EP_LOG(NOTICE, "push: %s lists %zu titles", list_path_.c_str(), items_.size());
}

void OriginPush::give_up(Item &it, push::Skip why, std::string detail) {
    it.st = State::kSkipped;
    it.skip = why;
    it.detail = std::move(detail);
}

void OriginPush::landed(Pending &p, uint64_t now_ns) {
    Item &it = items_[p.item];
    const chunkstore::ObjectMeta *m = store_->object_by_id(it.oid);
    if (!m) return;
    if (p.index == 0 && !it.known) {
        it.known = true;
        const uint64_t listed = it.size;
        it.size = m->size;
        it.chunks = m->chunk_count;
        if (listed == 0) {  // the list gave no size: judged now
            const push::Skip s = push::fit(it.size, share_bytes_ - share_used_, budget_left_);
            if (s != push::Skip::none) {
                give_up(
                    it, s,
                    fmt("%" PRIu64 " bytes (learned from its first chunk, which stays)", it.size));
                share_used_ += std::min(kChunk, share_bytes_ - share_used_);
                return;
            }
            share_used_ += push::slot_bytes(it.size);
            budget_left_ -= it.size;
        } else if (listed != it.size) {  // the origin's size counts
            share_used_ += push::slot_bytes(it.size) - push::slot_bytes(listed);
        }
    }
    const uint32_t len = m->chunk_len(p.index);
    it.bytes += len;
    ++it.landed;
    bytes_ += len;
    ++chunks_;
    last_land_ns_ = now_ns;
    if (it.chunks && it.landed >= it.chunks) it.st = State::kPushed;
}

void OriginPush::poll_fill(uint64_t now_ns) {
    for (size_t i = 0; i < pending_.size();) {
        Pending &p = pending_[i];
        Item &it = items_[p.item];
        if (it.st == State::kSkipped) {  // its title failed: drop it once the lcore answered
            if (p.slot && p.slot->state.load(std::memory_order_acquire) == PushAsk::kAsked) {
                ++i;
                continue;
            }
            if (p.slot) p.slot->state.store(PushAsk::kFree, std::memory_order_relaxed);
            pending_.erase(pending_.begin() + static_cast<long>(i));
            continue;
        }
        if (!p.slot && !p.asked) {
            // A chunk asked again after its fetch failed is paid for again:
            // it may cost the origin a whole chunk once more.
            if (p.tries > p.paid_tries && !bucket_.take(p.len, now_ns)) {
                ++i;
                continue;
            }
            p.paid_tries = p.tries;
            ask(p, it.key);
        }
        std::string why;
        const int r = advance(p.slot, p.asked, p.since_ns, p.tries, chunk_in(it.oid, p.index),
                              now_ns, timeout_ns_, &why);
        if (r == 0) {
            ++i;
            continue;
        }
        if (r > 0)
            landed(p, now_ns);
        else
            give_up(it, push::Skip::failed, why);
        pending_.erase(pending_.begin() + static_cast<long>(i));
    }
    // New asks: the most popular unfinished title first, chunk by chunk, as
    // the bucket allows.
    while (pending_.size() < kMaxInFlight) {
        size_t pick = SIZE_MAX;
        bool wait = false;
        for (size_t i = 0; i < items_.size() && pick == SIZE_MAX && !wait; ++i) {
            const Item &it = items_[i];
            if (it.st != State::kPlanned && it.st != State::kFilling) continue;
            if (!it.known) {
                // Later chunks need the version chunk 0 brings: wait for it
                // rather than start a less popular title.
                if (it.next == 0)
                    pick = i;
                else
                    wait = true;
            } else if (it.next < it.chunks) {
                pick = i;
            }
        }
        if (pick == SIZE_MAX) break;
        Item &it = items_[pick];
        const uint32_t idx = it.next;
        if (it.known && chunk_in(it.oid, idx)) {  // a reader pulled it meanwhile: no fetch
            ++it.next;
            ++it.landed;
            if (it.landed >= it.chunks) it.st = State::kPushed;
            continue;
        }
        uint64_t len = kChunk;
        if (it.size) len = std::min<uint64_t>(kChunk, it.size - std::min(it.size, idx * kChunk));
        if (len == 0) len = 1;
        if (!bucket_.take(len, now_ns)) break;
        Pending p;
        p.item = pick;
        p.index = idx;
        p.len = static_cast<uint32_t>(len);
        p.since_ns = now_ns;
        ++it.next;
        it.st = State::kFilling;
        if (first_ask_ns_ == 0) first_ask_ns_ = now_ns;
        pending_.push_back(p);
        ask(pending_.back(), it.key);
    }
    if (pending_.empty()) {
        bool all = true;
        for (const Item &it : items_) all &= it.st == State::kPushed || it.st == State::kSkipped;
        if (all) {
            phase_ = Phase::kDone;
            EP_LOG(NOTICE, "push: round done, %" PRIu64 " bytes in %" PRIu64 " chunks", bytes_,
                   chunks_);
        }
    }
}

void OriginPush::report(Reply &out, int64_t unix_s) const {
    if (!enabled()) return out.write("push: off (no --push-list)\n");
    const uint32_t day = day_seconds(unix_s);
    const bool in = push::inside(window_, day);
    out.write(fmt("push: list %s, window %s local, clock %02u:%02u:%02u (offset %+lld s): %s",
                  list_path_.c_str(), push::format_window(window_).c_str(), day / 3600,
                  day / 60 % 60, day % 60, static_cast<long long>(offset_s_),
                  in ? "inside" : "outside") +
              (in ? fmt(", %u s left\n", push::seconds_left(window_, day)) : "\n"));
    const char *ph = phase_ == Phase::kList   ? "reading the list"
                     : phase_ == Phase::kFill ? "filling"
                     : phase_ == Phase::kDone ? "done (until the window closes)"
                                              : "outside the window: only pull on miss fills";
    out.write(fmt("phase: %s (round %u)\n", ph, rounds_));
    const double secs = last_land_ns_ > first_ask_ns_ && first_ask_ns_
                            ? static_cast<double>(last_land_ns_ - first_ask_ns_) / 1e9
                            : 0.0;
    out.write(fmt("cap: %.3f Mbit/s (token bucket on the chunk fetches started, burst %" PRIu64
                  " bytes)%s\n",
                  mbps_, kChunk, mbps_ == 0 ? ", off" : ""));
    out.write(fmt("pushed: %" PRIu64 " bytes in %" PRIu64 " chunks over %.3f s: %.3f Mbit/s\n",
                  bytes_, chunks_, secs,
                  secs > 0 ? static_cast<double>(bytes_) * 8 / secs / 1e6 : 0.0));
    out.write(fmt("share: %u%% of the RAM tier = %" PRIu64 " bytes, %" PRIu64 " planned\n",
                  share_pct_, share_bytes_, share_used_));
    if (!list_error_.empty()) out.write("list error: " + list_error_ + "\n");
    for (size_t i = 0; i < items_.size(); ++i) {
        const Item &it = items_[i];
        std::string line = fmt("title %zu %s size %" PRIu64 " ", i + 1, it.e.path.c_str(), it.size);
        switch (it.st) {
            case State::kPlanned:
                line += "planned";
                break;
            case State::kFilling:
                line += fmt("filling %u/%u chunks", it.landed, it.chunks);
                break;
            case State::kPushed:
                line += fmt("pushed %u/%u chunks, %" PRIu64 " bytes fetched", it.landed, it.chunks,
                            it.bytes);
                break;
            case State::kSkipped:
                line += std::string("skipped ") + push::skip_name(it.skip) + ": " +
                        push::skip_text(it.skip);
                if (!it.detail.empty()) line += " (" + it.detail + ")";
                break;
        }
        out.write(line + "\n");
    }
}

}  // namespace ep
