// The admin socket: a Unix stream socket the control thread serves between
// its other duties. One request per connection: the client writes one line
// (a command and its arguments, space separated), the server streams its
// answer and closes. edgectl is the client; `socat - UNIX:PATH` works too.
//
// No client can stall the control thread (promotions, eviction, RCU
// reclamation and shutdown all run on it): every socket is non-blocking and
// served from one poll() with the others, each client has a bounded request
// and reply buffer, a client that sends no complete line in time is dropped,
// and so is one that stops reading its answer.
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ep {

// The rest of an answer that a command finishes later, from the control
// loop (an ingest handed to the ingest worker): the client stays connected,
// gets what is written as it comes, and is closed after close(). Control
// thread only; writes after the client went away are dropped.
class LateReply {
  public:
    void write(std::string_view s);
    void close() { closed_ = true; }
    bool gone() const { return gone_; }

  private:
    friend class AdminSocket;
    std::string buf_;  // not yet moved to the client's buffer
    bool closed_ = false, gone_ = false;
};

// Where a command writes its answer. Server side it appends to the client's
// bounded buffer and sends what the socket takes at once (without blocking),
// so a long command's progress still streams; client side (fd only) it
// blocks until written.
class Reply {
  public:
    explicit Reply(int fd, std::string *buf = nullptr, std::size_t cap = 0)
        : fd_(fd), buf_(buf), cap_(cap) {}
    // Collects what is written into *out (a command run with no client: a
    // reload from SIGHUP logs it).
    static Reply collector(std::string *out) { return Reply(-1, out, SIZE_MAX); }
    void write(std::string_view s);
    bool failed() const { return failed_; }
    bool truncated() const { return truncated_; }
    // Server side: the command's answer goes on after it returns, through
    // the returned LateReply (what was written here comes first).
    std::shared_ptr<LateReply> hold() {
        if (!late_) late_ = std::make_shared<LateReply>();
        return late_;
    }
    const std::shared_ptr<LateReply> &held() const { return late_; }

  private:
    std::shared_ptr<LateReply> late_;
    int fd_;
    std::string *buf_;  // unsent bytes (server side)
    std::size_t cap_;
    bool failed_ = false;
    bool truncated_ = false;
};

struct AdminCounters {
    uint64_t clients = 0;           // connections accepted
    uint64_t refused_busy = 0;      // closed at once: kMaxClients already served
    uint64_t request_timeouts = 0;  // no complete line within the request timeout
    uint64_t request_too_long = 0;  // line longer than kMaxRequest
    uint64_t write_timeouts = 0;    // stopped reading its answer: dropped
    uint64_t reply_truncated = 0;   // answer larger than kMaxReply
};

class AdminSocket {
  public:
    using Handler = std::function<void(const std::vector<std::string> &args, Reply &out)>;
    static constexpr std::size_t kMaxClients = 16;
    static constexpr std::size_t kMaxRequest = 4096;
    static constexpr std::size_t kMaxReply = 16u << 20;  // `objects` of 64 Ki long names fits
    static constexpr int kRequestTimeoutMs = 2000;       // connect → complete line
    static constexpr int kWriteStallMs = 5000;           // answer not read for this long

    ~AdminSocket();
    bool open(const std::string &path, std::string *err);
    void add_command(const std::string &name, const std::string &help, Handler h);
    // Serves every client that is ready, waiting at most timeout_ms (less
    // when a client's deadline is nearer). Never blocks on a client. Call
    // from one thread only.
    void poll(int timeout_ms) {
        wait(timeout_ms);
        serve();
    }
    // The same in two halves, so that the caller can wait without holding
    // what the commands need (the store gate, control/store_gate.h): wait()
    // only sleeps in poll(2) until a client is ready or timeout_ms passes;
    // serve() reads, runs commands and writes, never blocking.
    void wait(int timeout_ms);
    void serve();
    void close();
    const AdminCounters &counters() const { return ctr_; }

  private:
    struct Client {
        int fd = -1;
        bool writing = false;  // the command ran; `out` is being sent
        std::string in;
        std::string out;  // unsent part of the answer
        bool failed = false;
        uint64_t deadline_ms = 0;  // reading: request deadline; writing: stall deadline
        std::shared_ptr<LateReply> late;  // the command answers later (Reply::hold)
    };
    // Moves what late replies wrote into their clients' buffers.
    void absorb_late(uint64_t now);
    void accept_clients(uint64_t now);
    void read_from(Client &c, uint64_t now);
    void run(Client &c, std::string line, uint64_t now);
    bool flush(Client &c, uint64_t now);  // false: drop the client
    void drop(std::size_t i);

    struct Command {
        std::string help;
        Handler handler;
    };
    int listen_fd_ = -1;
    std::string path_;
    std::map<std::string, Command> commands_;
    std::vector<Client> clients_;
    AdminCounters ctr_;
    // What wait() polled, for serve(): index 0 is the listening socket,
    // i + 1 is clients_[i] (serve() alone changes clients_).
    pollfd pfd_[kMaxClients + 1] = {};
    std::size_t npfd_ = 0;
};

// Client side, for edgectl and tests: sends one command line, streams the
// answer to `out`. Returns false with a message when the daemon is unreachable.
bool admin_request(const std::string &path, const std::string &line,
                   const std::function<void(std::string_view)> &out, std::string *err);

}  // namespace ep
