#include "cache/factory.h"

#include <charconv>

#include "cache/belady.h"
#include "cache/list_policy.h"
#include "cache/s3fifo.h"
#include "cache/sieve.h"
#include "cache/tinylfu.h"

namespace ep::cache {

namespace {

constexpr std::string_view kDefault = "s3fifo";

uint64_t sketch_width(const PolicyConfig &cfg) {
    uint64_t n = cfg.expected_objects ? cfg.expected_objects : cfg.capacity_bytes;
    return n < 1024 ? 1024 : n;
}

}  // namespace

std::string_view default_policy_name() {
    return kDefault;
}

std::vector<std::string> policy_names() {
    return {"lru",           "fifo",           "sieve",         "s3fifo",
            "belady",        "belady-size",    "tinylfu+lru",   "tinylfu+fifo",
            "tinylfu+sieve", "tinylfu+s3fifo", "s3fifo+sketch", "default"};
}

bool needs_future(std::string_view name) {
    return name.starts_with("belady");
}

std::unique_ptr<Policy> make_policy(std::string_view name, const PolicyConfig &cfg) {
    if (name == "default") name = kDefault;
    if (name == "lru") return std::make_unique<ListPolicy>(cfg, true);
    if (name == "fifo") return std::make_unique<ListPolicy>(cfg, false);
    if (name == "sieve") return std::make_unique<Sieve>(cfg);
    if (name == "s3fifo") return std::make_unique<S3Fifo>(cfg);
    if (name == "belady") return std::make_unique<Belady>(cfg);
    if (name == "belady-size") return std::make_unique<BeladySize>(cfg);
    if (name == "tinylfu+lru")
        return std::make_unique<TinyLfu<ListPolicy>>(cfg, sketch_width(cfg), true);
    if (name == "tinylfu+fifo")
        return std::make_unique<TinyLfu<ListPolicy>>(cfg, sketch_width(cfg), false);
    if (name == "tinylfu+sieve") return std::make_unique<TinyLfu<Sieve>>(cfg, sketch_width(cfg));
    if (name == "tinylfu+s3fifo")
        return std::make_unique<TinyLfu<S3Fifo>>(cfg, sketch_width(cfg), S3FifoOptions{});
    if (name.starts_with("s3fifo+sketch")) {
        S3FifoOptions opt;
        opt.sketch_admit = 2;
        std::string_view rest = name.substr(13);
        if (!rest.empty()) {
            if (rest[0] != '@') return nullptr;
            auto r = std::from_chars(rest.data() + 1, rest.data() + rest.size(), opt.sketch_admit);
            if (r.ec != std::errc() || r.ptr != rest.data() + rest.size() || opt.sketch_admit == 0)
                return nullptr;
        }
        opt.sketch_width = sketch_width(cfg);
        opt.name = std::string(name);
        return std::make_unique<S3Fifo>(cfg, opt);
    }
    return nullptr;
}

}  // namespace ep::cache
