// The admin socket: a Unix stream socket the control thread serves between
// its other duties. One request per connection: the client writes one line
// (a command and its arguments, space separated), the server streams its
// answer and closes. edgectl is the client; `socat - UNIX:PATH` works too.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ep {

// Where a command writes its answer (written straight to the client).
class Reply {
public:
    explicit Reply(int fd) : fd_(fd) {}
    void write(std::string_view s);
    bool failed() const { return failed_; }

private:
    int fd_;
    bool failed_ = false;
};

class AdminSocket {
public:
    using Handler = std::function<void(const std::vector<std::string> &args, Reply &out)>;

    ~AdminSocket();
    bool open(const std::string &path, std::string *err);
    void add_command(const std::string &name, const std::string &help, Handler h);
    // Waits up to timeout_ms for a client and serves it. Call from one thread only.
    void poll(int timeout_ms);
    void close();

private:
    void serve(int fd);

    struct Command {
        std::string help;
        Handler handler;
    };
    int listen_fd_ = -1;
    std::string path_;
    std::map<std::string, Command> commands_;
};

// Client side, for edgectl and tests: sends one command line, streams the
// answer to `out`. Returns false with a message when the daemon is unreachable.
bool admin_request(const std::string &path, const std::string &line,
                   const std::function<void(std::string_view)> &out, std::string *err);

}  // namespace ep
