// Ingest: store a file or a whole directory tree as objects. Object names are
// paths relative to the ingested directory (or the file's name), under an
// optional prefix: ingest_path(s, "/srv/www", "") stores /srv/www/demo/a.mpd
// as "demo/a.mpd"; with prefix "live" as "live/demo/a.mpd".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chunkstore/store.h"

namespace ep::chunkstore {

struct IngestProgress {
    std::string_view name;  // object just stored
    uint64_t objects_done, objects_total;
    uint64_t bytes_done, bytes_total;
};
using ProgressCb = std::function<void(const IngestProgress &)>;

struct IngestReport {
    uint64_t objects = 0, chunks = 0, bytes = 0;
    std::vector<std::string> failed;  // "name: reason"
    double seconds = 0;
};

// The store's writer side (store.h "control thread": in the daemon, the
// ingest worker holding the store gate, control/ingest_worker.h). Stops at
// the first error that makes further objects pointless (store full); other
// per-file errors are listed in report.failed. Ends with an fdatasync of the
// store file. When *cancel becomes true, the object being written is
// abandoned (never published) and no further one is started: Err::busy.
Status ingest_path(Store &store, const std::string &path, std::string_view name_prefix,
                   const ProgressCb &progress, IngestReport *report,
                   const std::atomic<bool> *cancel = nullptr);

// Content-type hint from a file name's extension ("" if unknown).
std::string_view guess_content_type(std::string_view name);

}  // namespace ep::chunkstore
