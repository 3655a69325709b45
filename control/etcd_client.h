// A small etcd v3 client over etcd's JSON gateway (grpc-gateway: HTTP/1.1
// POST of JSON on the client port, keys and values base64, int64 as
// strings; etcd.io/docs/v3.4/dev-guide/api_grpc_gateway/). Why by hand:
// Debian packages no C++ etcd client (etcd-cpp-apiv3 is not in Debian; its
// gRPC one would pull in gRPC and protobuf code generation for five calls),
// and the gateway keeps this to plain blocking sockets.
//
// Blocking: every call connects, sends one request (Connection: close),
// reads the whole answer or gives up after the timeout. Only for a helper
// thread (control/membership.h), never the control loop or a data lcore.
// Several endpoints: a call tries them in turn from the last one that
// answered. Not for the fast path: allocates and may throw nothing (JSON is
// parsed without exceptions).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ep {

struct EtcdEndpoint {
    std::string host;  // name or address
    std::string port;
};

// "http://10.0.0.1:2379,10.0.0.2:2379,[::1]:2379" (the scheme is optional;
// https is not supported: use a local proxy).
bool parse_etcd_endpoints(const std::string &s, std::vector<EtcdEndpoint> *out, std::string *err);

// An HTTP/1.1 answer read to EOF: the status and the body, chunked
// transfer coding undone (RFC 9112 7.1). False when it is not one.
bool parse_http_answer(const std::string &raw, int *status, std::string *body);

std::string base64_encode(const std::string &s);
bool base64_decode(const std::string &s, std::string *out);

class EtcdClient {
  public:
    EtcdClient(std::vector<EtcdEndpoint> endpoints, int timeout_ms)
        : endpoints_(std::move(endpoints)), timeout_ms_(timeout_ms) {}

    // /v3/lease/grant: a lease of ttl_s seconds; *id its ID.
    bool grant(int64_t ttl_s, int64_t *id, std::string *err);
    // /v3/kv/put, attached to the lease (0: none).
    bool put(const std::string &key, const std::string &value, int64_t lease, std::string *err);
    // /v3/lease/keepalive, one round: *alive false when etcd no longer
    // knows the lease (it expired: grant a new one and put again).
    bool keepalive(int64_t id, bool *alive, std::string *err);
    // /v3/lease/revoke: the lease and every key attached go at once.
    bool revoke(int64_t id, std::string *err);
    // /v3/kv/range over every key starting with prefix: (key, value) pairs.
    bool range_prefix(const std::string &prefix,
                      std::vector<std::pair<std::string, std::string>> *kvs, std::string *err);
    const std::string &last_endpoint() const { return last_; }

  private:
    // POSTs body to path; the JSON answer of a 200 in *answer. etcd's gRPC
    // errors come back as non-200 with {"error": ...}: their text in *err.
    bool post(const std::string &path, const std::string &body, std::string *answer,
              std::string *err);
    bool post_to(const EtcdEndpoint &ep, const std::string &path, const std::string &body,
                 std::string *raw, std::string *err);
    std::vector<EtcdEndpoint> endpoints_;
    int timeout_ms_;
    std::size_t current_ = 0;
    std::string last_;
};

}  // namespace ep
