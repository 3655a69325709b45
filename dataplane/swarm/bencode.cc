#include "dataplane/swarm/bencode.h"

#include <cstring>

namespace ep::swarm {

const char *berror_name(BError e) {
    switch (e) {
        case BError::kOk:
            return "ok";
#define EP_X(name, help) \
    case BError::name:   \
        return &#name[1]; /* without the k */
            EP_BENCODE_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

namespace {

// An explicit stack instead of recursion: depth is bounded by lim.max_depth
// and the frames live in a fixed array (kMaxDepth caps any limit asked for).
constexpr uint32_t kMaxDepth = 64;

struct Frame {
    uint32_t node;
    bool dict;
    bool want_key;  // dict: the next value is a key
    std::string_view last_key;
    bool have_key;
};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// BEP 3: "i" [-] digits "e"; no leading zeros, no "-0".
BError parse_int(std::string_view in, size_t *pos, int64_t *out) {
    size_t p = *pos + 1;  // past 'i'
    bool neg = false;
    if (p < in.size() && in[p] == '-') neg = true, ++p;
    const size_t start = p;
    uint64_t v = 0;
    while (p < in.size() && is_digit(in[p])) {
        const uint64_t d = static_cast<uint64_t>(in[p] - '0');
        if (v > (UINT64_MAX - d) / 10) return BError::kBadInt;
        v = v * 10 + d;
        ++p;
    }
    if (p >= in.size()) return BError::kTruncated;
    if (in[p] != 'e' || p == start) return BError::kBadInt;
    const size_t digits = p - start;
    if (digits > 1 && in[start] == '0') return BError::kBadInt;
    if (neg && v == 0) return BError::kBadInt;  // "-0" (and "-" caught above)
    if (!neg && v > static_cast<uint64_t>(INT64_MAX)) return BError::kBadInt;
    if (neg && v > static_cast<uint64_t>(INT64_MAX) + 1) return BError::kBadInt;
    *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    *pos = p + 1;
    return BError::kOk;
}

// BEP 3: length ":" bytes; the length has no leading zeros.
BError parse_str(std::string_view in, size_t *pos, const BLimits &lim, std::string_view *out) {
    size_t p = *pos;
    const size_t start = p;
    uint64_t len = 0;
    while (p < in.size() && is_digit(in[p])) {
        len = len * 10 + static_cast<uint64_t>(in[p] - '0');
        if (len > lim.max_string) return BError::kBadLength;
        ++p;
    }
    if (p >= in.size()) return BError::kTruncated;
    if (in[p] != ':') return BError::kBadLength;
    if (p - start > 1 && in[start] == '0') return BError::kBadLength;
    ++p;
    if (len > in.size() - p) return BError::kTruncated;
    *out = in.substr(p, len);
    *pos = p + len;
    return BError::kOk;
}

BError decode(std::string_view in, BNode *nodes, uint32_t cap, uint32_t *n, size_t *used,
              const BLimits &lim, size_t *err_at) {
    Frame stack[kMaxDepth];
    uint32_t depth = 0;
    const uint32_t max_depth = lim.max_depth < kMaxDepth ? lim.max_depth : kMaxDepth;
    uint32_t count = 0;
    size_t pos = 0;
    BError e = BError::kOk;
    auto fail = [&](BError why) {
        if (err_at) *err_at = pos;
        return why;
    };
    do {
        if (pos >= in.size()) return fail(BError::kTruncated);
        const char c = in[pos];
        if (c == 'e') {
            if (depth == 0) return fail(BError::kBadByte);
            Frame &f = stack[depth - 1];
            if (f.dict && !f.want_key) return fail(BError::kTruncated);  // key without value
            BNode &nd = nodes[f.node];
            nd.next = count;
            const size_t begin = static_cast<size_t>(nd.s.data() - in.data());
            nd.s = in.substr(begin, pos + 1 - begin);
            ++pos;
            --depth;
            continue;
        }
        Frame *parent = depth ? &stack[depth - 1] : nullptr;
        if (parent && parent->dict && parent->want_key && c != ':' && !is_digit(c))
            return fail(BError::kKeyNotString);
        if (count == cap) return fail(BError::kTooManyNodes);
        BNode &nd = nodes[count];
        nd = BNode{};
        const uint32_t self = count++;
        if (c == 'i') {
            nd.type = BType::kInt;
            if ((e = parse_int(in, &pos, &nd.i)) != BError::kOk) return fail(e);
            nd.next = count;
        } else if (is_digit(c)) {
            nd.type = BType::kStr;
            if ((e = parse_str(in, &pos, lim, &nd.s)) != BError::kOk) return fail(e);
            nd.next = count;
        } else if (c == 'l' || c == 'd') {
            if (depth == max_depth) return fail(BError::kTooDeep);
            nd.type = c == 'l' ? BType::kList : BType::kDict;
            nd.s = in.substr(pos, 1);
            stack[depth++] = {self, c == 'd', true, {}, false};
            ++pos;
        } else {
            return fail(BError::kBadByte);
        }
        if (parent) {
            if (parent->dict) {
                if (parent->want_key) {
                    // BEP 3: keys "must appear in sorted order (sorted as raw
                    // strings, not alphanumerics)"; equal keys are a duplicate.
                    if (parent->have_key && !(parent->last_key < nd.s))
                        return fail(BError::kUnsortedKeys);
                    parent->last_key = nd.s;
                    parent->have_key = true;
                    parent->want_key = false;
                } else {
                    parent->want_key = true;
                    ++nodes[parent->node].count;
                }
            } else {
                ++nodes[parent->node].count;
            }
        }
    } while (depth > 0);
    *n = count;
    *used = pos;
    return BError::kOk;
}

}  // namespace

BError bdecode(std::string_view in, BNode *nodes, uint32_t cap, uint32_t *n, const BLimits &lim,
               size_t *err_at) {
    size_t used = 0;
    const BError e = decode(in, nodes, cap, n, &used, lim, err_at);
    if (e != BError::kOk) return e;
    if (used != in.size()) {
        if (err_at) *err_at = used;
        return BError::kTrailing;
    }
    return BError::kOk;
}

BError bdecode_prefix(std::string_view in, BNode *nodes, uint32_t cap, uint32_t *n, size_t *used,
                      const BLimits &lim) {
    return decode(in, nodes, cap, n, used, lim, nullptr);
}

uint32_t bdict_find(const BNode *nodes, uint32_t d, std::string_view key) {
    if (nodes[d].type != BType::kDict) return 0;
    uint32_t k = d + 1;
    for (uint32_t i = 0; i < nodes[d].count; ++i) {
        const uint32_t v = nodes[k].next;
        if (nodes[k].s == key) return v;
        k = nodes[v].next;
    }
    return 0;
}

void BWriter::integer(int64_t v) {
    char buf[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do buf[n++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    out_->push_back('i');
    if (v < 0) out_->push_back('-');
    while (n) out_->push_back(buf[--n]);
    out_->push_back('e');
}

void BWriter::str(std::string_view s) {
    char buf[24];
    int n = 0;
    size_t u = s.size();
    do buf[n++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    while (n) out_->push_back(buf[--n]);
    out_->push_back(':');
    out_->append(s.data(), s.size());
}

void BBufWriter::put(char c) {
    if (overflow_ || n_ == room_) {
        overflow_ = true;
        return;
    }
    p_[n_++] = c;
}

void BBufWriter::raw(const char *s, size_t n) {
    if (overflow_ || n > room_ - n_) {
        overflow_ = true;
        return;
    }
    std::memcpy(p_ + n_, s, n);
    n_ += n;
}

void BBufWriter::integer(int64_t v) {
    char buf[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do buf[23 - n++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0) buf[23 - n++] = '-';
    put('i');
    raw(buf + 24 - n, static_cast<size_t>(n));
    put('e');
}

char *BBufWriter::str_space(size_t len) {
    char buf[24];
    int n = 0;
    size_t u = len;
    do buf[23 - n++] = static_cast<char>('0' + u % 10);
    while ((u /= 10) != 0);
    raw(buf + 24 - n, static_cast<size_t>(n));
    put(':');
    if (overflow_ || len > room_ - n_) {
        overflow_ = true;
        return nullptr;
    }
    char *at = p_ + n_;
    n_ += len;
    return at;
}

void BBufWriter::str(std::string_view s) {
    if (char *at = str_space(s.size())) std::memcpy(at, s.data(), s.size());
}

}  // namespace ep::swarm
