// libFuzzer target: the HTTP/1.1 response parser (dataplane/http/response_parser.cc,
// shared by edgebench and the origin fill client) and, on every head it
// accepts, what the fill makes of it (dataplane/origin/fill_plan.cc: field
// lookup, Content-Range, Cache-Control, the first/next answer checks). The
// first byte chooses where the input is cut into feed() calls, the second
// whether the request was HEAD.
#include <cstdint>
#include <cstdlib>

#include "dataplane/http/response_parser.h"
#include "dataplane/origin/fill_plan.h"

namespace {

void check_origin_answer(const ep::http::ResponseParser &p, uint32_t index) {
    using namespace ep::origin;
    ObjectHead meta;
    Span body;
    const Verdict v = first_answer(p, index, &meta, &body);
    if (v == Verdict::ok) {
        // What would be stored is inside the object and the chunk asked for.
        // An empty object (a 200 with Content-Length 0) keeps chunk_span's
        // one-byte {0, 0}: the fill stores no bytes for it (origin_fill.cc,
        // want = 0 when the size is 0).
        if (body.last < body.first || (meta.size > 0 && body.last >= meta.size)) std::abort();
        if (body.first != uint64_t{index} * kFillChunk || body.length() > kFillChunk) std::abort();
        if (meta.etag_len >= ObjectHead::kMaxEtag) std::abort();
        (void)next_answer(p, index, meta.size, etag_hash(meta.etag_view(), meta.size));
    }
    if (static_cast<unsigned>(v) >= static_cast<unsigned>(Verdict::count_)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::http;
    if (size < 2) return 0;
    uint32_t splits = data[0];
    const bool head = data[1] & 1;
    data += 2;
    size -= 2;
    ResponseParser p(512);
    p.reset(head);
    size_t pos = 0;
    int rounds = 0;
    while (pos < size) {
        if (++rounds > 100000) std::abort();  // no progress
        size_t chunk = 1 + splits % 61;
        splits = splits * 1103515245u + 12345u;
        if (chunk > size - pos) chunk = size - pos;
        const RespStep s = p.feed(data + pos, chunk);
        if (s.consumed > chunk) std::abort();
        if (s.body_len && (s.body < data + pos || s.body + s.body_len > data + pos + s.consumed))
            std::abort();
        if (s.error != RespError::none) return 0;
        if (s.head_done) {
            if (p.head().head_len > 512) std::abort();
            bool found = false;
            const std::string_view v = p.field("content-range", &found);
            if (!found && !v.empty()) std::abort();
            check_origin_answer(p, splits % 3 == 0 ? 0 : splits % 64);
        }
        if (s.complete)
            p.reset(head);
        else if (s.consumed == 0)
            std::abort();  // neither progress nor an answer
        pos += s.consumed;
    }
    (void)p.eof();
    return 0;
}
