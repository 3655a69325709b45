// Test harness: a session over a FakeCatalog, with responses materialised
// (object pieces resolved to bytes) so tests can compare whole messages.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/http/fake_catalog.h"
#include "dataplane/http/session.h"

namespace ep::http::test {

struct Captured {
    int status = 0;
    bool close = false;
    std::string head;
    std::string body;  // inline + object bytes, in order
    std::vector<BodyPiece> pieces;
    std::map<std::string, std::string> fields;  // lower-case name → value

    bool has(const std::string &n) const { return fields.count(n) != 0; }
    std::string get(const std::string &n) const {
        auto it = fields.find(n);
        return it == fields.end() ? std::string() : it->second;
    }
};

inline Captured capture(const Response &r, const FakeCatalog &cat) {
    Captured c;
    c.status = code(r.status());
    c.close = r.close_after();
    c.head = std::string(r.head());
    const std::size_t end = c.head.find("\r\n\r\n");
    std::size_t pos = c.head.find("\r\n") + 2;
    while (pos < end) {
        const std::size_t eol = c.head.find("\r\n", pos);
        const std::string line = c.head.substr(pos, eol - pos);
        const std::size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (auto &ch : name) ch = static_cast<char>(tolower(ch));
        c.fields[name] = line.substr(colon + 2);
        pos = eol + 2;
    }
    c.body = c.head.substr(end + 4);  // small generated bodies live in the head
    for (const BodyPiece &p : r.body()) {
        c.pieces.push_back(p);
        if (p.kind == BodyPiece::Kind::kInline)
            c.body += std::string(r.inline_bytes(p));
        else
            c.body += std::string(cat.content(p.handle).substr(p.offset, p.length));
    }
    return c;
}

struct Harness {
    HttpConfig cfg;
    FakeCatalog cat;
    std::unique_ptr<HttpContext> ctx;
    std::unique_ptr<HttpSession> s;
    Now now{1'000, 1'700'000'000};

    Harness() { reset(); }
    // Call after changing cfg.
    void reset() {
        ctx = std::make_unique<HttpContext>(cfg, cat);
        s = std::make_unique<HttpSession>(*ctx);
        s->start(now);
    }
    // Feeds everything (popping as it goes) and returns all responses.
    std::vector<Captured> feed(const std::string &bytes) {
        std::vector<Captured> out;
        std::size_t pos = 0;
        for (;;) {
            pos += s->feed(std::string_view(bytes).substr(pos), now);
            bool popped = false;
            while (s->has_response()) {
                out.push_back(capture(s->front(), cat));
                s->pop();
                popped = true;
            }
            if (!popped || pos == bytes.size()) break;
        }
        return out;
    }
    Captured one(const std::string &bytes) {
        auto v = feed(bytes);
        return v.empty() ? Captured{} : v.front();
    }
    Captured get(const std::string &path, const std::string &extra = "") {
        return one("GET " + path + " HTTP/1.1\r\nHost: edge\r\n" + extra + "\r\n");
    }
};

}  // namespace ep::http::test
