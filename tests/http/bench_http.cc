// Google Benchmark: cost of one request through HttpSession (parse, lookup,
// preconditions, range, head generation). Run: meson benchmark --suite http
// or the binary directly.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "dataplane/http/fake_catalog.h"
#include "dataplane/http/session.h"

namespace ep::http {
namespace {

// What dash.js in Chromium sends for a segment (captured shape).
const std::string kBrowserRequest =
    "GET /demo/chunk-0-00001.m4s HTTP/1.1\r\nHost: 10.77.0.2\r\nConnection: keep-alive\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36\r\nAccept: */*\r\nOrigin: http://10.77.0.2\r\n"
    "Referer: http://10.77.0.2/player.html?title=demo\r\nAccept-Encoding: gzip, deflate\r\n"
    "Accept-Language: en-US\r\n\r\n";
const std::string kRangeRequest =
    "GET /demo/chunk-0-00001.m4s HTTP/1.1\r\nHost: e\r\nRange: bytes=0-499\r\n"
    "If-Range: \"0000000000001234\"\r\n\r\n";
const std::string kNotModified =
    "GET /demo/chunk-0-00001.m4s HTTP/1.1\r\nHost: e\r\nIf-None-Match: "
    "\"0000000000001234\"\r\n\r\n";

void run(benchmark::State &state, const std::string &req) {
    HttpConfig cfg;
    FakeCatalog cat;
    cat.add_sized("demo/chunk-0-00001.m4s", 600'000, 0x1234, 1'700'000'000);
    HttpContext ctx(cfg, cat);
    auto s = std::make_unique<HttpSession>(ctx);
    s->start(Now{0, 1'700'000'000});
    for (auto _ : state) {
        s->feed(std::string_view(req), Now{0, 1'700'000'000});
        benchmark::DoNotOptimize(s->front().head().data());
        s->pop();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * req.size()));
}

void BM_BrowserGet(benchmark::State &st) {
    run(st, kBrowserRequest);
}
void BM_RangeIfRange(benchmark::State &st) {
    run(st, kRangeRequest);
}
void BM_NotModified(benchmark::State &st) {
    run(st, kNotModified);
}
BENCHMARK(BM_BrowserGet);
BENCHMARK(BM_RangeIfRange);
BENCHMARK(BM_NotModified);

}  // namespace
}  // namespace ep::http

BENCHMARK_MAIN();
