// SHA-1 (FIPS 180-4) through OpenSSL's libcrypto EVP interface: piece hashes
// (BEP 3 "pieces") and info hashes. Control-thread code: EVP contexts are
// heap objects.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace ep::swarm {

using Sha1 = std::array<uint8_t, 20>;

Sha1 sha1(const void *data, size_t len);
inline Sha1 sha1(std::string_view s) {
    return sha1(s.data(), s.size());
}

// Streaming: update() over the chunk where it lies (no copy), then final().
class Sha1Stream {
  public:
    Sha1Stream();
    ~Sha1Stream();
    Sha1Stream(const Sha1Stream &) = delete;
    Sha1Stream &operator=(const Sha1Stream &) = delete;
    void reset();
    void update(const void *data, size_t len);
    // `n` zero bytes (BEP 47 padding that follows a file's last piece).
    void update_zeros(uint64_t n);
    // Copies the running state into `to` (to finish one piece two ways:
    // as a single-file torrent's last piece and as a padded one).
    void copy_to(Sha1Stream &to) const;
    Sha1 final();

  private:
    evp_md_ctx_st *ctx_;
};

std::string hex(const uint8_t *p, size_t n);
inline std::string hex(const Sha1 &h) {
    return hex(h.data(), h.size());
}

}  // namespace ep::swarm
