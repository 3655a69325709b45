// Shared by the randomized test and the libFuzzer target: drive a session
// with arbitrary bytes and check the invariants that must hold for any input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http/fake_catalog.h"
#include "dataplane/http/session.h"

namespace ep::http::test {

// Returns false (and `why`) if an invariant broke. `splits` selects where
// the input is cut into feed() calls.
inline bool drive_session(HttpSession &s, const FakeCatalog &cat, const uint8_t *data,
                          std::size_t len, uint32_t splits, const char **why) {
    Now now{1'000, 1'700'000'000};
    std::size_t pos = 0;
    int stalls = 0;
    while (pos < len && !s.input_closed()) {
        std::size_t chunk = 1 + (splits % 97);
        splits = splits * 1103515245u + 12345u;
        if (chunk > len - pos) chunk = len - pos;
        const std::size_t n = s.feed(std::span<const uint8_t>(data + pos, chunk), now);
        if (n > chunk) return *why = "consumed more than given", false;
        pos += n;
        now.mono_ms += 10;
        if (n == 0 && !s.has_response()) {
            if (++stalls > 2) return *why = "no progress and no response", false;
        }
        while (s.has_response()) {
            const Response &r = s.front();
            const std::string_view h = r.head();
            if (h.substr(0, 9) != "HTTP/1.1 ") return *why = "bad status line", false;
            if (h.find("\r\n\r\n") == std::string_view::npos)
                return *why = "head unterminated", false;
            for (const BodyPiece &p : r.body()) {
                if (p.kind != BodyPiece::Kind::kObject) continue;
                const auto o = cat.content(p.handle);
                if (p.offset + p.length > o.size()) return *why = "piece out of object", false;
            }
            s.pop();
        }
    }
    (void)s.poll(Now{now.mono_ms + 3'600'000, now.unix_s}, false);
    while (s.has_response()) s.pop();
    return true;
}

}  // namespace ep::http::test
