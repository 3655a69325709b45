// Parsing of cache-size and byte-count arguments ("64M", "5%", "1.5G").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ep::bench {

struct SizeArg {
    bool percent = false;
    double value = 0;  // percent (0-100] or absolute bytes
    std::string text;
};

// Accepts N, N[KMGT] (binary: K = 1024) and N% ; throws std::invalid_argument.
SizeArg parse_size(const std::string &s);
std::vector<SizeArg> parse_size_list(const std::string &s);

// Percent of `base` truncated like libCacheSim does (so 1% of 20,484 is 204).
uint64_t resolve_size(const SizeArg &a, uint64_t base);

std::vector<std::string> split_list(const std::string &s);

}  // namespace ep::bench
