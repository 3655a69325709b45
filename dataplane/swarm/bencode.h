// Bencoding (BEP 3 "bencoding"): a strict decoder into a flat node array the
// caller owns, and a writer. Strict means the one canonical form BEP 3
// allows: integers without leading zeros or "-0", string lengths without
// leading zeros, dictionary keys unique and sorted as raw byte strings, no
// bytes after the top-level value. Bounded: nesting depth and node count are
// the caller's limits, so a hostile input cannot make the decoder recurse or
// allocate. Pure code: no exceptions, no allocation in the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ep::swarm {

enum class BType : uint8_t { kInt, kStr, kList, kDict };

// One decoded value. Strings point into the input (no copy). A list or dict
// node is followed by its children in order (a dict's children alternate key,
// value); `next` is the index one past the whole subtree, so siblings are
// walked without recursion.
struct BNode {
    BType type = BType::kInt;
    uint32_t next = 0;   // index of the node after this subtree
    uint32_t count = 0;  // list: items; dict: key/value pairs
    int64_t i = 0;       // kInt
    std::string_view s;  // kStr: the bytes; list/dict: the whole encoding
};

#define EP_BENCODE_ERRORS(X)                                                \
    X(kTruncated, "input ends inside a value")                              \
    X(kBadInt, "integer not canonical (leading zero, -0, empty, overflow)") \
    X(kBadLength, "string length not canonical or past the input")          \
    X(kUnsortedKeys, "dictionary keys not strictly ascending")              \
    X(kKeyNotString, "dictionary key is not a string")                      \
    X(kTooDeep, "nesting deeper than the limit")                            \
    X(kTooManyNodes, "more values than the node limit")                     \
    X(kTrailing, "bytes after the top-level value")                         \
    X(kBadByte, "byte that starts no value")

enum class BError : uint8_t {
    kOk,
#define EP_X(name, help) name,
    EP_BENCODE_ERRORS(EP_X)
#undef EP_X
};
const char *berror_name(BError e);

struct BLimits {
    uint32_t max_depth = 32;
    size_t max_string = 64u << 20;  // one string (a torrent's pieces is 20 bytes per piece)
};

// Decodes exactly one value covering all of `in` into nodes[0..*n).
// On error *n is unspecified and *err_at is the offset where it was found.
BError bdecode(std::string_view in, BNode *nodes, uint32_t cap, uint32_t *n,
               const BLimits &lim = {}, size_t *err_at = nullptr);
// Same, but the value may be followed by more bytes: *used is its length
// (BEP 9 ut_metadata messages carry a dict followed by raw data).
BError bdecode_prefix(std::string_view in, BNode *nodes, uint32_t cap, uint32_t *n, size_t *used,
                      const BLimits &lim = {});

// Lookups over a decoded tree. nodes[d] must be a dict; returns the index of
// the value for `key`, or 0 when absent (0 is always the root, never a value).
uint32_t bdict_find(const BNode *nodes, uint32_t d, std::string_view key);
// Index of the first child of a list/dict node, then advance with .next.
inline uint32_t bfirst_child(uint32_t i) {
    return i + 1;
}

// Writer: appends canonical bencoding. Dictionary keys must be written in
// sorted order by the caller (the metainfo builder does; tests decode every
// output strictly, which would catch a misordering).
class BWriter {
  public:
    explicit BWriter(std::string *out) : out_(out) {}
    void integer(int64_t v);
    void str(std::string_view s);
    void begin_list() { out_->push_back('l'); }
    void begin_dict() { out_->push_back('d'); }
    void end() { out_->push_back('e'); }
    // Key then value in one call, for dicts.
    void key(std::string_view k) { str(k); }

  private:
    std::string *out_;
};

// The same output into a caller's fixed buffer, for replies built on a data
// lcore (the HTTP tracker): no allocation. Writing stops at the end of the
// buffer and overflow() says so; the caller then answers something shorter.
class BBufWriter {
  public:
    BBufWriter(char *out, size_t room) : p_(out), room_(room) {}
    void integer(int64_t v);
    void str(std::string_view s);
    // The head of a string of `len` bytes; returns where its bytes go (the
    // caller writes exactly len there), or nullptr on overflow.
    char *str_space(size_t len);
    void begin_list() { put('l'); }
    void begin_dict() { put('d'); }
    void end() { put('e'); }
    void key(std::string_view k) { str(k); }
    size_t size() const { return n_; }
    bool overflow() const { return overflow_; }

  private:
    void put(char c);
    void raw(const char *s, size_t n);
    char *p_;
    size_t room_;
    size_t n_ = 0;
    bool overflow_ = false;
};

}  // namespace ep::swarm
