#include "bench/edgebench/size_arg.h"

#include <cstdlib>
#include <stdexcept>

namespace ep::bench {

SizeArg parse_size(const std::string &s) {
    SizeArg a;
    a.text = s;
    char *end = nullptr;
    a.value = std::strtod(s.c_str(), &end);
    std::string suffix(end);
    if (end == s.c_str() || a.value <= 0) throw std::invalid_argument("bad size '" + s + "'");
    if (suffix == "%") {
        a.percent = true;
        if (a.value > 100) throw std::invalid_argument("size over 100%: '" + s + "'");
        return a;
    }
    double mult = 1;
    if (suffix == "K" || suffix == "k" || suffix == "KiB")
        mult = 1024.0;
    else if (suffix == "M" || suffix == "MiB")
        mult = 1024.0 * 1024;
    else if (suffix == "G" || suffix == "GiB")
        mult = 1024.0 * 1024 * 1024;
    else if (suffix == "T" || suffix == "TiB")
        mult = 1024.0 * 1024 * 1024 * 1024;
    else if (!suffix.empty())
        throw std::invalid_argument("bad size suffix in '" + s + "'");
    a.value *= mult;
    return a;
}

std::vector<std::string> split_list(const std::string &s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::vector<SizeArg> parse_size_list(const std::string &s) {
    std::vector<SizeArg> out;
    for (const auto &item : split_list(s)) out.push_back(parse_size(item));
    return out;
}

uint64_t resolve_size(const SizeArg &a, uint64_t base) {
    if (!a.percent) return static_cast<uint64_t>(a.value);
    return static_cast<uint64_t>(static_cast<double>(base) * (a.value / 100.0));
}

}  // namespace ep::bench
