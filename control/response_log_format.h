// Access-log lines from ResponseRecords (dataplane/response_log.h), on the
// control thread: nginx's `combined` format with our fields appended, or one
// JSON object per line. Pure, so unit tests check the exact bytes.
#pragma once

#include <string>

#include "dataplane/response_log.h"

namespace ep {

enum class AccessLogFormat { kCombined, kJson };

// combined: `$remote_addr - - [$time_local] "$request" $status
// $body_bytes_sent "$http_referer" "$http_user_agent"` (referer and agent
// are not kept: "-"), then ` rt=SECONDS cache=HIT|FILL|MISS|- range="..."
// svc=http lcore=N`. Times are UTC. Bytes a log reader could misread (quote,
// backslash, controls, non-ASCII; and space, in combined) are written \xHH,
// as nginx does.
// json: {"time":"2026-12-01T16:44:27Z","client":"10.0.0.1","client_port":N,
// "service":"http","method":"GET","path":"/a","protocol":"HTTP/1.1",
// "status":200,"bytes":N,"head_bytes":N,"range":"bytes=0-1","duration_ms":N.NNN,
// "cache":"hit","lcore":1} plus "path_truncated":true / "range_truncated":true
// when cut.
void format_access_line(const ResponseRecord &r, AccessLogFormat f, std::string *out);

const char *cache_result_name(CacheResult c);  // "hit", "fill", "miss", "-"
const char *log_service_name(LogService s);    // "http", "swarm", "dns"

}  // namespace ep
