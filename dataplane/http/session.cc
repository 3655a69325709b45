#include "dataplane/http/session.h"

#include "dataplane/http/responder.h"

namespace ep::http {

void HttpSession::start(Now now) {
    parser_.reset();
    head_ = count_ = 0;
    input_closed_ = in_request_ = peer_closed_ = unconsumed_ = held_ = false;
    request_start_ms_ = last_activity_ms_ = last_progress_ms_ = now.mono_ms;
    last_acked_ = 0;
    requests_ = 0;
    ++ctx_.counters.connections;
}

Response &HttpSession::push() {
    Response &r = queue_[(head_ + count_) % kResponseQueueDepth];
    ++count_;
    return r;
}

void HttpSession::pop() {
    if (count_ == 0) return;
    head_ = static_cast<uint8_t>((head_ + 1) % kResponseQueueDepth);
    --count_;
}

std::size_t HttpSession::feed(std::span<const uint8_t> bytes, Now now) {
    std::size_t pos = 0;
    while (pos < bytes.size() && !input_closed_ && count_ < kResponseQueueDepth && !held_) {
        if (!in_request_) {
            // The header timer runs from the first byte of a request, not from
            // its last byte: a client trickling one byte per second cannot
            // keep it alive (slowloris).
            in_request_ = true;
            request_start_ms_ = now.mono_ms;
        }
        const std::size_t n = parser_.parse(bytes.data() + pos, bytes.size() - pos);
        pos += n;
        switch (parser_.state()) {
            case RequestParser::State::kComplete:
                on_request(now);
                break;
            case RequestParser::State::kError:
                on_error(now);
                break;
            case RequestParser::State::kHead:
                // Between requests (body done, nothing of the next yet) the
                // connection is idle again.
                if (!parser_.head_started()) in_request_ = false;
                break;
            case RequestParser::State::kBody:
                break;
        }
    }
    unconsumed_ = pos < bytes.size();
    ctx_.counters.bytes_in += pos;
    if (pos > 0) last_activity_ms_ = now.mono_ms;
    return pos;
}

// Before respond(): it may append the directory index to the path buffer;
// the log shows the target as the client sent it.
void HttpSession::summarize(Response &r) const {
    RequestSummary &q = r.request();
    q.start_ms = request_start_ms_;
    q.method = parser_.method();
    q.version = parser_.version();
    q.set(parser_.raw_target(), parser_.field(Field::kRange));
}

void HttpSession::on_request(Now now) {
    Counters &c = ctx_.counters;
    if (!held_) {  // a held request was counted when it arrived
        ++c.requests;
        if (count_ > 0) ++c.pipelined;
        ++requests_;
    }
    held_ = false;
    const uint32_t max = ctx_.config.max_requests_per_connection;
    // RFC 9110 §10.1.1: a client that sent Expect (100-continue) may never
    // send the body once it sees our final answer; reading it would swallow
    // the next request. Answer, say "close", and stop reading instead.
    const bool body_in_doubt =
        parser_.field_count(Field::kExpect) > 0 && parser_.content_length() > 0;
    const bool keep = parser_.keep_alive() && (max == 0 || requests_ < max) && !body_in_doubt;
    Response &r = push();
    summarize(r);
    if (!respond(ctx_, parser_, keep, now.unix_s, r)) {
        // Pull on miss: the object's length is not known yet. The parser
        // keeps the complete request; retry() answers it.
        --count_;
        held_ = true;
        return;
    }
    ++c.status[static_cast<std::size_t>(status_slot(r.status()))];
    c.head_bytes_out += r.head().size();
    c.body_bytes_out += r.body_length();
    if (r.close_after()) input_closed_ = true;
    parser_.next_request();
    // The body (if any) still belongs to this request's timer.
    in_request_ = parser_.state() == RequestParser::State::kBody;
}

void HttpSession::on_error(Now now) {
    Counters &c = ctx_.counters;
    ++c.parse_errors[static_cast<std::size_t>(parser_.error())];
    ++c.closes_after_error;
    // The framing of the stream is in doubt: answer and close (RFC 9112 §11.2
    // on smuggling; §9.6 on closing).
    Response &r = push();
    summarize(r);
    respond_error(ctx_, status_for(parser_.error()), parser_.method(), now.unix_s, r);
    ++c.status[static_cast<std::size_t>(status_slot(r.status()))];
    c.head_bytes_out += r.head().size();
    input_closed_ = true;
}

bool HttpSession::retry(Now now) {
    if (!held_ || count_ == kResponseQueueDepth) return false;
    on_request(now);
    return !held_;
}

uint64_t HttpSession::deadline_ms() const {
    if (input_closed()) return UINT64_MAX;
    if (in_request_) return request_start_ms_ + ctx_.config.header_timeout_ms;
    return last_activity_ms_ + ctx_.config.idle_timeout_ms;
}

HttpSession::TimerAction HttpSession::poll(Now now, bool output_pending, uint64_t acked_bytes) {
    // Send progress first: it applies in every state, half-closed or closing
    // included, because a stalled peer pins its response's chunks.
    if (!output_pending || acked_bytes != last_acked_) {
        last_acked_ = acked_bytes;
        last_progress_ms_ = now.mono_ms;
    } else if (ctx_.config.send_timeout_ms != 0 &&
               now.mono_ms - last_progress_ms_ >= ctx_.config.send_timeout_ms) {
        ++ctx_.counters.send_timeouts;
        input_closed_ = true;
        return TimerAction::kAbort;
    }
    // After the peer's FIN, waiting requests are parsed as the queue drains;
    // neither the header nor the idle timer applies to them.
    if (input_closed() || peer_closed_) return TimerAction::kNone;
    if (in_request_) {
        if (now.mono_ms - request_start_ms_ < ctx_.config.header_timeout_ms)
            return TimerAction::kNone;
        ++ctx_.counters.header_timeouts;
        input_closed_ = true;
        if (count_ == kResponseQueueDepth) return TimerAction::kClose;
        // RFC 9110 §15.5.9: 408 tells the client we gave up on its request.
        Response &r = push();
        summarize(r);
        respond_error(ctx_, Status::kRequestTimeout, Method::kOther, now.unix_s, r);
        ++ctx_.counters.status[static_cast<std::size_t>(status_slot(r.status()))];
        return TimerAction::kTimedOut;
    }
    if (output_pending || count_ > 0) {
        last_activity_ms_ = now.mono_ms;  // still sending: not idle
        return TimerAction::kNone;
    }
    if (now.mono_ms - last_activity_ms_ < ctx_.config.idle_timeout_ms) return TimerAction::kNone;
    ++ctx_.counters.idle_timeouts;
    input_closed_ = true;
    return TimerAction::kClose;
}

}  // namespace ep::http
