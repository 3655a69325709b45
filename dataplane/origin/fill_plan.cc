#include "dataplane/origin/fill_plan.h"

#include <cstring>

#include <xxhash.h>

#include "dataplane/http/text.h"

namespace ep::origin {

namespace {

using http::iequals;
using http::trim;

// 1*DIGIT, at most 19 digits (fits uint64_t).
bool parse_u64(std::string_view s, uint64_t *out) {
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
}

template <size_t N>
bool keep(std::string_view v, char (&dst)[N], uint8_t *len) {
    if (v.size() >= N || v.size() > 255) return false;
    // An empty field's data() may be null, and memcpy's source must not be
    // (UBSan's nonnull check, found by the sanitizer pass).
    if (!v.empty()) std::memcpy(dst, v.data(), v.size());
    *len = static_cast<uint8_t>(v.size());
    return true;
}

bool status_means_absent(int s) {
    return s == 404 || s == 410;
}

}  // namespace

const char *verdict_name(Verdict v) {
    switch (v) {
#define EP_X(name, help) \
    case Verdict::name:  \
        return #name;
        EP_ORIGIN_VERDICTS(EP_X)
#undef EP_X
        case Verdict::count_:
            break;
    }
    return "?";
}

namespace {

// Bounded text building for the data lcore (snprintf is avoided there: no
// locale, no hidden allocation paths, and the lengths are checked here).
struct Appender {
    char *buf;
    size_t cap, n = 0;
    bool ok = true;
    void put(std::string_view s) {
        if (!ok || s.size() > cap - n) {
            ok = false;
            return;
        }
        std::memcpy(buf + n, s.data(), s.size());
        n += s.size();
    }
    void num(uint64_t v) {
        char tmp[20];
        size_t i = sizeof tmp;
        do {
            tmp[--i] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        put({tmp + i, sizeof tmp - i});
    }
};

}  // namespace

size_t format_chunk_request(char *buf, size_t cap, std::string_view path, std::string_view host,
                            uint32_t index, std::string_view if_match,
                            std::string_view if_none_match, std::string_view if_modified_since) {
    const Span s = request_span(index);
    Appender a{buf, cap};
    a.put("GET ");
    a.put(path);
    a.put(" HTTP/1.1\r\nHost: ");
    a.put(host);
    a.put("\r\nRange: bytes=");
    a.num(s.first);
    a.put("-");
    a.num(s.last);
    if (!if_match.empty()) {
        a.put("\r\nIf-Match: ");
        a.put(if_match);
    }
    if (!if_none_match.empty()) {
        a.put("\r\nIf-None-Match: ");
        a.put(if_none_match);
    }
    if (!if_modified_since.empty()) {
        a.put("\r\nIf-Modified-Since: ");
        a.put(if_modified_since);
    }
    a.put("\r\nUser-Agent: edgeplane-fill\r\n\r\n");
    return a.ok ? a.n : 0;
}

size_t format_host(char *buf, size_t cap, uint32_t ip_be, uint16_t port) {
    Appender a{buf, cap};
    const auto *b = reinterpret_cast<const uint8_t *>(&ip_be);  // network order in memory
    for (int i = 0; i < 4; ++i) {
        if (i) a.put(".");
        a.num(b[i]);
    }
    a.put(":");
    a.num(port);
    return a.ok ? a.n : 0;
}

bool parse_content_range(std::string_view v, Span *span, uint64_t *complete) {
    v = trim(v);
    if (v.size() < 6 || !iequals(v.substr(0, 6), "bytes ")) return false;
    v.remove_prefix(6);
    const size_t dash = v.find('-'), slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash)
        return false;
    Span s;
    uint64_t c;
    if (!parse_u64(v.substr(0, dash), &s.first) ||
        !parse_u64(v.substr(dash + 1, slash - dash - 1), &s.last) ||
        !parse_u64(v.substr(slash + 1), &c))
        return false;
    // RFC 9110 14.4: invalid if last < first or last >= complete length.
    if (s.last < s.first || s.last >= c) return false;
    *span = s;
    *complete = c;
    return true;
}

bool parse_unsatisfied_range(std::string_view v, uint64_t *complete) {
    v = trim(v);
    if (v.size() < 8 || !iequals(v.substr(0, 6), "bytes ") || v.substr(6, 2) != "*/") return false;
    return parse_u64(v.substr(8), complete);
}

void parse_cache_control(std::string_view v, ObjectHead *out) {
    bool have_s = false;
    while (!v.empty()) {
        const size_t comma = v.find(',');
        std::string_view d = trim(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
        const size_t eq = d.find('=');
        const std::string_view name = trim(d.substr(0, eq));
        std::string_view arg =
            eq == std::string_view::npos ? std::string_view{} : trim(d.substr(eq + 1));
        // RFC 9111 5.2: the argument may be quoted; a recipient should accept both.
        if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"')
            arg = arg.substr(1, arg.size() - 2);
        uint64_t secs;
        if (iequals(name, "no-store") || iequals(name, "private")) {
            out->no_store = true;  // 5.2.2.5, 5.2.2.7: a shared cache must not store it
        } else if (iequals(name, "s-maxage") && parse_u64(arg, &secs)) {
            // 5.2.2.10: for a shared cache it overrides max-age.
            out->has_max_age = true;
            out->max_age_s = secs > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(secs);
            have_s = true;
        } else if (iequals(name, "max-age") && !have_s && parse_u64(arg, &secs)) {
            out->has_max_age = true;
            out->max_age_s = secs > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(secs);
        }
    }
}

Verdict first_answer(const http::ResponseParser &p, uint32_t index, ObjectHead *meta, Span *body) {
    *meta = ObjectHead{};
    const http::RespHead &h = p.head();
    if (status_means_absent(h.status)) return Verdict::not_found;
    if (h.status == 416) {
        // The chunk is past the end: still learn the length (a Range far
        // into a small object), so the server can answer 416 itself.
        bool found;
        const std::string_view cr = p.field("content-range", &found);
        if (found && parse_unsatisfied_range(cr, &meta->size)) return Verdict::range_unsatisfiable;
        return Verdict::no_length;
    }
    if (h.status != 200 && h.status != 206) return Verdict::bad_status;
    if (!h.has_length) return Verdict::no_length;
    if (h.status == 206) {
        bool found;
        const std::string_view cr = p.field("content-range", &found);
        Span got;
        uint64_t complete;
        if (!found || !parse_content_range(cr, &got, &complete)) return Verdict::no_length;
        if (complete <= uint64_t{index} * kFillChunk) return Verdict::range_mismatch;
        meta->size = complete;
        const Span want = chunk_span(index, complete);
        if (got.first != want.first || got.last != want.last || h.content_length != want.length())
            return Verdict::range_mismatch;
        *body = want;
    } else {
        // 200: the whole object. Only usable when it is all of chunk 0.
        if (index != 0 || h.content_length > kFillChunk) return Verdict::range_mismatch;
        meta->size = h.content_length;
        *body = chunk_span(0, h.content_length);
    }
    bool found;
    if (!keep(p.field("etag", &found), meta->etag, &meta->etag_len)) return Verdict::too_large;
    const std::string_view ct = p.field("content-type", &found);
    if (!keep(ct, meta->content_type, &meta->content_type_len)) return Verdict::too_large;
    const std::string_view lm = p.field("last-modified", &found);
    if (!keep(lm, meta->last_modified, &meta->last_modified_len)) meta->last_modified_len = 0;
    parse_cache_control(p.field("cache-control", &found), meta);
    return Verdict::ok;
}

uint64_t etag_hash(std::string_view etag, uint64_t size) {
    return XXH3_64bits_withSeed(etag.data(), etag.size(), size);
}

uint64_t version_hash(std::string_view etag, std::string_view last_modified, uint64_t size) {
    if (!etag.empty() || last_modified.empty()) return etag_hash(etag, size);
    // A different seed: a Last-Modified never collides with an equal ETag text.
    return XXH3_64bits_withSeed(last_modified.data(), last_modified.size(), ~size);
}

Verdict next_answer(const http::ResponseParser &p, uint32_t index, uint64_t size, uint64_t etag64) {
    const http::RespHead &h = p.head();
    if (status_means_absent(h.status)) return Verdict::not_found;
    if (h.status == 412) return Verdict::etag_changed;  // our If-Match failed: a new version
    if (h.status == 416) return Verdict::size_changed;  // it was inside the length we know
    if (h.status == 200) {
        // A whole object where a range was asked: fine only for a one-chunk
        // object of the same length (some origins ignore Range).
        if (size > kFillChunk || !h.has_length || h.content_length != size)
            return Verdict::range_mismatch;
    } else if (h.status != 206) {
        return Verdict::bad_status;
    } else {
        bool found;
        const std::string_view cr = p.field("content-range", &found);
        Span got;
        uint64_t complete;
        if (!found || !parse_content_range(cr, &got, &complete)) return Verdict::no_length;
        if (complete != size) return Verdict::size_changed;
        if (index >= chunk_count(size)) return Verdict::range_mismatch;
        const Span want = chunk_span(index, size);
        if (!h.has_length || got.first != want.first || got.last != want.last ||
            h.content_length != want.length())
            return Verdict::range_mismatch;
    }
    bool found, found_lm;
    if (version_hash(p.field("etag", &found), p.field("last-modified", &found_lm), size) != etag64)
        return Verdict::etag_changed;
    return Verdict::ok;
}

}  // namespace ep::origin
