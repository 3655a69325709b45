#include "chunkstore/log.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace ep::chunkstore {

static void vlog(const char *level, const char *fmt, va_list ap) {
    std::fprintf(stderr, "chunkstore %s: ", level);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
}

void log_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog("warning", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...) {
    // Info lines are for tools and debugging; quiet unless asked for.
    static const bool on = std::getenv("EP_CHUNKSTORE_VERBOSE") != nullptr;
    if (!on) return;
    va_list ap;
    va_start(ap, fmt);
    vlog("info", fmt, ap);
    va_end(ap);
}

}  // namespace ep::chunkstore
