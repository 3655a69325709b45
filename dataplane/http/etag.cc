#include "dataplane/http/etag.h"

#include "dataplane/http/chars.h"

namespace ep::http {

void format_etag(uint64_t v, char *out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out[0] = '"';
    for (int i = 0; i < 16; ++i) out[1 + i] = kHex[(v >> (60 - 4 * i)) & 0xf];
    out[17] = '"';
}

ListMatch match_etag_list(std::string_view s, std::string_view etag, EtagCompare how) {
    std::size_t i = 0;
    auto skip_ows = [&] {
        while (i < s.size() && is_ows(static_cast<uint8_t>(s[i]))) ++i;
    };
    skip_ows();
    if (i < s.size() && s[i] == '*') {
        ++i;
        skip_ows();
        return i == s.size() ? ListMatch::kMatch : ListMatch::kInvalid;
    }
    bool matched = false;
    bool any = false;
    while (i < s.size()) {
        skip_ows();
        if (i < s.size() && s[i] == ',') {  // RFC 9110 §5.6.1: empty list elements are allowed
            ++i;
            continue;
        }
        if (i == s.size()) break;
        bool weak = false;
        if (s.substr(i, 2) == "W/") {
            weak = true;
            i += 2;
        }
        // entity-tag = [ weak ] DQUOTE *etagc DQUOTE; etagc excludes '"', SP, CTL
        if (i >= s.size() || s[i] != '"') return ListMatch::kInvalid;
        const std::size_t start = i++;
        while (i < s.size() && s[i] != '"') {
            const auto c = static_cast<uint8_t>(s[i]);
            if (c <= 0x20 || c == 0x7f) return ListMatch::kInvalid;
            ++i;
        }
        if (i >= s.size()) return ListMatch::kInvalid;
        ++i;
        const std::string_view tag = s.substr(start, i - start);
        any = true;
        if (tag == etag && (how == EtagCompare::kWeak || !weak)) matched = true;
        skip_ows();
        if (i < s.size() && s[i] != ',') return ListMatch::kInvalid;
    }
    if (!any) return ListMatch::kInvalid;
    return matched ? ListMatch::kMatch : ListMatch::kNoMatch;
}

}  // namespace ep::http
