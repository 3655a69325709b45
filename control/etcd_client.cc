#include "control/etcd_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace ep {

using nlohmann::json;

bool parse_etcd_endpoints(const std::string &s, std::vector<EtcdEndpoint> *out, std::string *err) {
    out->clear();
    std::size_t at = 0;
    while (at <= s.size()) {
        std::size_t comma = s.find(',', at);
        if (comma == std::string::npos) comma = s.size();
        std::string e = s.substr(at, comma - at);
        at = comma + 1;
        if (e.empty()) continue;
        if (e.rfind("https://", 0) == 0) return *err = "'" + e + "': https is not supported", false;
        if (e.rfind("http://", 0) == 0) e = e.substr(7);
        while (!e.empty() && e.back() == '/') e.pop_back();
        EtcdEndpoint ep;
        if (!e.empty() && e[0] == '[') {
            const std::size_t close = e.find(']');
            if (close == std::string::npos) return *err = "'" + e + "': no ']'", false;
            ep.host = e.substr(1, close - 1);
            ep.port = close + 1 < e.size() && e[close + 1] == ':' ? e.substr(close + 2) : "2379";
        } else {
            const std::size_t colon = e.rfind(':');
            ep.host = colon == std::string::npos ? e : e.substr(0, colon);
            ep.port = colon == std::string::npos ? "2379" : e.substr(colon + 1);
        }
        if (ep.host.empty() || ep.port.empty() ||
            ep.port.find_first_not_of("0123456789") != std::string::npos)
            return *err = "'" + s + "': not HOST:PORT[,HOST:PORT...]", false;
        out->push_back(ep);
    }
    if (out->empty()) return *err = "no etcd endpoint", false;
    return true;
}

bool parse_http_answer(const std::string &raw, int *status, std::string *body) {
    if (raw.compare(0, 9, "HTTP/1.1 ") != 0 && raw.compare(0, 9, "HTTP/1.0 ") != 0) return false;
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos || raw.size() < 12) return false;
    *status = std::atoi(raw.c_str() + 9);
    std::string head = raw.substr(0, head_end);
    for (char &c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool chunked = head.find("\r\ntransfer-encoding: chunked") != std::string::npos;
    std::size_t at = head_end + 4;
    if (!chunked) {
        *body = raw.substr(at);
        return true;
    }
    body->clear();
    for (;;) {  // chunk-size [ext] CRLF data CRLF ... 0 CRLF
        const std::size_t eol = raw.find("\r\n", at);
        if (eol == std::string::npos) return false;
        char *end = nullptr;
        const unsigned long n = std::strtoul(raw.c_str() + at, &end, 16);
        if (end == raw.c_str() + at) return false;
        if (n == 0) return true;
        if (eol + 2 + n > raw.size()) return false;
        body->append(raw, eol + 2, n);
        at = eol + 2 + n + 2;
    }
}

std::string base64_encode(const std::string &s) {
    std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                  reinterpret_cast<const unsigned char *>(s.data()),
                                  static_cast<int>(s.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool base64_decode(const std::string &s, std::string *out) {
    if (s.size() % 4) return false;
    out->assign(3 * s.size() / 4 + 1, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out->data()),
                                  reinterpret_cast<const unsigned char *>(s.data()),
                                  static_cast<int>(s.size()));
    if (n < 0) return false;
    // EVP_DecodeBlock counts the padding as zero bytes.
    std::size_t len = static_cast<std::size_t>(n);
    for (std::size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) --len;
    out->resize(len);
    return true;
}

bool EtcdClient::post_to(const EtcdEndpoint &ep, const std::string &path, const std::string &body,
                         std::string *raw, std::string *err) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (const int rc = getaddrinfo(ep.host.c_str(), ep.port.c_str(), &hints, &res); rc != 0)
        return *err = ep.host + ": " + gai_strerror(rc), false;
    int fd = -1;
    std::string why = "no address";
    for (addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) continue;
        // Connect with a deadline, then blocking I/O with SO_*TIMEO.
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            why = std::strerror(errno);
            close(fd), fd = -1;
            continue;
        }
        pollfd p{fd, POLLOUT, 0};
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (poll(&p, 1, timeout_ms_) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            why = soerr ? std::strerror(soerr) : "connect timed out";
            close(fd), fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) return *err = ep.host + ":" + ep.port + ": " + why, false;
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    // Back to blocking: the timeouts above bound every call.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const std::string req =
        "POST " + path + " HTTP/1.1\r\nHost: " + ep.host + ":" + ep.port +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < req.size();) {
        const ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            *err = ep.host + ":" + ep.port + ": send: " + std::strerror(errno);
            close(fd);
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    raw->clear();
    char buf[16384];
    for (;;) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            *err = ep.host + ":" + ep.port +
                   ": recv: " + (errno == EAGAIN ? std::string("timed out") : std::strerror(errno));
            close(fd);
            return false;
        }
        raw->append(buf, static_cast<std::size_t>(n));
        if (raw->size() > (16u << 20)) break;  // bounded: etcd's limit is 1.5 MiB a request
    }
    close(fd);
    return true;
}

bool EtcdClient::post(const std::string &path, const std::string &body, std::string *answer,
                      std::string *err) {
    std::string errs;
    for (std::size_t k = 0; k < endpoints_.size(); ++k) {
        const std::size_t i = (current_ + k) % endpoints_.size();
        std::string raw, e;
        if (!post_to(endpoints_[i], path, body, &raw, &e)) {
            errs += (errs.empty() ? "" : "; ") + e;
            continue;
        }
        int status = 0;
        if (!parse_http_answer(raw, &status, answer)) {
            errs += (errs.empty() ? "" : "; ") + endpoints_[i].host + ": not an HTTP answer";
            continue;
        }
        current_ = i;
        last_ = endpoints_[i].host + ":" + endpoints_[i].port;
        if (status != 200) {
            const json j = json::parse(*answer, nullptr, false);
            *err = path + ": HTTP " + std::to_string(status);
            if (j.is_object() && j.contains("error") && j["error"].is_string())
                *err += ": " + j["error"].get<std::string>();
            return false;
        }
        return true;
    }
    *err = errs;
    return false;
}

namespace {

// int64 fields come as JSON strings from the gateway.
int64_t int_field(const json &j, const char *k) {
    auto it = j.find(k);
    if (it == j.end()) return 0;
    if (it->is_string()) return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
    if (it->is_number_integer()) return it->get<int64_t>();
    return 0;
}

}  // namespace

bool EtcdClient::grant(int64_t ttl_s, int64_t *id, std::string *err) {
    std::string a;
    if (!post("/v3/lease/grant", json{{"TTL", ttl_s}}.dump(), &a, err)) return false;
    const json j = json::parse(a, nullptr, false);
    *id = j.is_object() ? int_field(j, "ID") : 0;
    if (*id == 0) return *err = "lease/grant: no ID in " + a, false;
    return true;
}

bool EtcdClient::put(const std::string &key, const std::string &value, int64_t lease,
                     std::string *err) {
    json b{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
    if (lease) b["lease"] = std::to_string(lease);
    std::string a;
    return post("/v3/kv/put", b.dump(), &a, err);
}

bool EtcdClient::keepalive(int64_t id, bool *alive, std::string *err) {
    std::string a;
    if (!post("/v3/lease/keepalive", json{{"ID", std::to_string(id)}}.dump(), &a, err))
        return false;
    // A stream of {"result": {...}} objects; one here. An expired lease
    // answers without a TTL (or TTL 0).
    const json j = json::parse(a.substr(0, a.find('\n')), nullptr, false);
    *alive = j.is_object() && j.contains("result") && j["result"].is_object() &&
             int_field(j["result"], "TTL") > 0;
    return true;
}

bool EtcdClient::revoke(int64_t id, std::string *err) {
    std::string a;
    return post("/v3/lease/revoke", json{{"ID", std::to_string(id)}}.dump(), &a, err);
}

bool EtcdClient::range_prefix(const std::string &prefix,
                              std::vector<std::pair<std::string, std::string>> *kvs,
                              std::string *err) {
    // range_end = the prefix with its last byte + 1: every key starting with it.
    std::string end = prefix;
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (!end.empty()) end.back() = static_cast<char>(end.back() + 1);
    std::string a;
    if (!post("/v3/kv/range",
              json{{"key", base64_encode(prefix)},
                   {"range_end", base64_encode(end.empty() ? std::string(1, '\0') : end)}}
                  .dump(),
              &a, err))
        return false;
    const json j = json::parse(a, nullptr, false);
    if (!j.is_object()) return *err = "kv/range: not JSON", false;
    kvs->clear();
    if (auto it = j.find("kvs"); it != j.end() && it->is_array())
        for (const json &kv : *it) {
            std::string k, v;
            if (!kv.is_object() || !kv.contains("key") || !kv["key"].is_string() ||
                !base64_decode(kv["key"].get<std::string>(), &k))
                continue;
            if (kv.contains("value") && kv["value"].is_string())
                base64_decode(kv["value"].get<std::string>(), &v);
            kvs->emplace_back(std::move(k), std::move(v));
        }
    return true;
}

}  // namespace ep
