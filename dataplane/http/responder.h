// Request semantics (RFC 9110): from a complete parsed request to a Response.
// Methods, target → object key, preconditions, ranges, CORS, caching fields.
#pragma once

#include "dataplane/http/context.h"
#include "dataplane/http/request_parser.h"
#include "dataplane/http/response.h"

namespace ep::http {

// Answers a complete request. `keep_alive` is the session's decision; the
// response carries Connection: close when false. Returns false, with `out`
// left empty, when the catalog says the object is pending (pull on miss):
// the session holds the request and asks again later.
bool respond(HttpContext &ctx, RequestParser &req, bool keep_alive, int64_t unix_s, Response &out);

// Answers a request the server refuses before or without its semantics
// (parse errors, 408). Always closes. `method` decides if a body is sent.
void respond_error(HttpContext &ctx, Status status, Method method, int64_t unix_s, Response &out);

// Status a parse error is answered with.
Status status_for(ParseError e);

}  // namespace ep::http
