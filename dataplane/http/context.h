// Per-core state shared by all HTTP sessions of one data core: config,
// catalog, Date cache and counters. Shared nothing across cores.
#pragma once

#include <cstdint>

#include "dataplane/http/catalog.h"
#include "dataplane/http/config.h"
#include "dataplane/http/counters.h"
#include "dataplane/http/generator.h"
#include "dataplane/http/http_date.h"
#include "dataplane/http/steer.h"

namespace ep::http {

// Time as the glue passes it in: a monotonic clock for timeouts and the wall
// clock (seconds) for Date. Nothing in ep::http reads a clock itself.
struct Now {
    uint64_t mono_ms = 0;
    int64_t unix_s = 0;
};

struct HttpContext {
    HttpContext(const HttpConfig &cfg, const ObjectCatalog &cat) : config(cfg), catalog(cat) {}
    const HttpConfig &config;
    const ObjectCatalog &catalog;
    Generator *generator = nullptr;  // generated routes (the tracker); nullptr: none
    DateCache date;
    Counters counters;
    uint64_t boundary_seq = 0;  // varies multipart boundaries between answers
    // Cluster steering's view of the client being served (the glue); nullptr: off.
    const SteerSource *steer = nullptr;
};

}  // namespace ep::http
