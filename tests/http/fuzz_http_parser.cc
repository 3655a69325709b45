// libFuzzer target (clang only): arbitrary bytes into an HttpSession.
// Built by tests/fuzz/meson.build as fuzz_http_request (scripts/fuzz.sh).
#include <cstdlib>
#include <memory>

#include "tests/http/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::http;
    static HttpConfig cfg;
    static FakeCatalog *cat = [] {
        auto *c = new FakeCatalog;
        c->add("v/seg.m4s", "0123456789abcdefghijklmnopqrstuvwxyz");
        c->add("index.html", "<html/>");
        return c;
    }();
    static HttpContext ctx(cfg, *cat);
    static auto *s = new HttpSession(ctx);
    s->start(Now{0, 0});
    uint32_t splits = size > 0 ? data[0] : 1;
    const char *why = nullptr;
    if (!test::drive_session(*s, *cat, data, size, splits, &why)) std::abort();
    return 0;
}
