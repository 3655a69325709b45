#include "cache/trace_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cache/synthetic.h"
#include "tests/cache/trace_env.h"

namespace ep::cache {
namespace {

std::string tmp(const std::string &name) {
    return (std::filesystem::temp_directory_path() /
            ("ep_cache_" + std::to_string(getpid()) + name))
        .string();
}

TEST(TraceReader, GuessFormat) {
    EXPECT_EQ(guess_format("a/cache2k_web07.trace.xz", "auto"), "cache2k");
    EXPECT_EQ(guess_format("x.csv", "auto"), "csv");
    EXPECT_EQ(guess_format("t.oracleGeneral.zst", "auto"), "oracleGeneral");
    EXPECT_EQ(guess_format("tencent_photo.txt.bz2", "auto"), "tencent");
    EXPECT_EQ(guess_format("plain.tr", "auto"), "text");
    EXPECT_EQ(guess_format("plain.tr", "csv"), "csv");
}

TEST(TraceReader, TextAndOracleRoundTrip) {
    SyntheticSpec s;
    s.requests = 1000;
    s.objects = 50;
    s.sizes = "lognormal";
    Trace t = generate_trace(s);
    annotate_next_access(t);
    std::string text = tmp(".tr"), bin = tmp(".oracleGeneral");
    write_trace_text(text, t);
    write_trace_oracle(bin, t);
    TraceReadOptions o;
    Trace a = read_trace(text, o);
    Trace b = read_trace(bin, o);
    ASSERT_EQ(a.size(), t.size());
    ASSERT_EQ(b.size(), t.size());
    for (size_t i = 0; i < t.size(); ++i) {
        EXPECT_EQ(a[i].key, t[i].key);
        EXPECT_EQ(a[i].size, t[i].size);
        EXPECT_EQ(b[i].key, t[i].key);
        EXPECT_EQ(b[i].size, t[i].size);
    }
    o.ignore_size = true;
    EXPECT_EQ(read_trace(bin, o)[0].size, 1u);
    std::remove(text.c_str());
    std::remove(bin.c_str());
}

TEST(TraceReader, CsvNamedColumns) {
    std::string p = tmp(".csv");
    std::ofstream(p) << "version,time,op,size,lbn\n1,5,2a,512,42\n1,6,28,4096,43\n1,7,28,512,42\n";
    TraceReadOptions o;
    o.csv_key = "lbn";
    o.csv_size = "size";
    Trace t = read_trace(p, o);
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0].key, 42u);
    EXPECT_EQ(t[1].size, 4096u);
    o.csv_key = "nope";
    EXPECT_THROW(read_trace(p, o), std::runtime_error);
    std::remove(p.c_str());
}

TEST(TraceReader, MissingFileThrows) {
    TraceReadOptions o;
    EXPECT_THROW(read_trace("/nonexistent/x.csv", o), std::runtime_error);
    EXPECT_THROW(read_trace("/nonexistent/x.trace.xz", o), std::runtime_error);
}

TEST(TraceReader, SharedCache2kAndTencent) {
    std::string why;
    std::string web = testing::shared_trace("cache2k_web07.trace.xz", &why);
    std::string photo = testing::shared_trace("tencent_photo_cdn_sample_10k.txt.bz2", &why);
    if (web.empty() || photo.empty()) EP_SKIP_OR_FAIL_IN_CI(why);
    TraceReadOptions o;
    Trace w = read_trace(web, o);  // format guessed from the name
    EXPECT_EQ(w.size(), 76118u);
    EXPECT_EQ(trace_stats(w).objects, 20484u);
    Trace t = read_trace(photo, o);
    TraceStats st = trace_stats(t);
    EXPECT_LE(t.size(), 10000u);
    EXPECT_GT(t.size(), 9900u);  // a few rows may carry other formats
    EXPECT_NEAR(double(st.total_bytes), 314.7e6, 1e6);
    EXPECT_LE(st.objects, 9694u);
}

}  // namespace
}  // namespace ep::cache
