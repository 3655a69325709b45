#include "dataplane/swarm/sha1.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <string>

namespace ep::swarm {

Sha1 sha1(const void *data, size_t len) {
    Sha1 out{};
    unsigned n = 0;
    if (EVP_Digest(data, len, out.data(), &n, EVP_sha1(), nullptr) != 1) std::abort();
    return out;
}

Sha1Stream::Sha1Stream() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) std::abort();
    reset();
}
Sha1Stream::~Sha1Stream() {
    EVP_MD_CTX_free(ctx_);
}
void Sha1Stream::reset() {
    if (EVP_DigestInit_ex(ctx_, EVP_sha1(), nullptr) != 1) std::abort();
}
void Sha1Stream::update(const void *data, size_t len) {
    EVP_DigestUpdate(ctx_, data, len);
}
void Sha1Stream::update_zeros(uint64_t n) {
    static const uint8_t kZeros[4096] = {};
    while (n) {
        const size_t k = n < sizeof kZeros ? static_cast<size_t>(n) : sizeof kZeros;
        EVP_DigestUpdate(ctx_, kZeros, k);
        n -= k;
    }
}
void Sha1Stream::copy_to(Sha1Stream &to) const {
    if (EVP_MD_CTX_copy_ex(to.ctx_, ctx_) != 1) std::abort();
}
Sha1 Sha1Stream::final() {
    Sha1 out{};
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, out.data(), &n);
    reset();
    return out;
}

std::string hex(const uint8_t *p, size_t n) {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) s.push_back(kHex[p[i] >> 4]), s.push_back(kHex[p[i] & 15]);
    return s;
}

}  // namespace ep::swarm
