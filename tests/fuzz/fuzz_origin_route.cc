// The --origin route syntax (dataplane/origin/origin_table.cc): operator
// text, now with host names. Properties: a parsed route is well formed
// (prefix starts with '/', 1..4 servers, a port, a named server has no
// address yet and a valid name), and matching any text against it stays in
// bounds (ASan).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/origin/origin_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace ep::origin;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    Route r;
    const char *why = nullptr;
    if (!parse_route(text, &r, &why)) {
        if (!why) __builtin_trap();
        return 0;
    }
    if (r.prefix_len == 0 || r.prefix[0] != '/' || r.nservers == 0 ||
        r.nservers > Route::kMaxServers)
        __builtin_trap();
    for (uint8_t i = 0; i < r.nservers; ++i) {
        const Server &s = r.servers[i];
        if (s.port == 0) __builtin_trap();
        if (s.name_len && (s.ip_be != 0 || !valid_host_name(s.name_view()))) __builtin_trap();
    }
    Table t;
    if (!t.add(r)) __builtin_trap();
    (void)t.match(text);
    (void)t.match_key(text);
    return 0;
}
