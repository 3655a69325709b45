// Control-path logging of the chunk store (never called from data cores).
#pragma once

namespace ep::chunkstore {

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace ep::chunkstore
