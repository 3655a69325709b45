// The zone the DNS unit tests and the fuzzer answer from: one of every
// record type served, a CNAME chain and loop, a wildcard, empty
// non-terminals, a delegation with glue, and an RRset too big for 512 bytes.
#pragma once

inline const char *kTestZone = R"(
$ORIGIN example.test.
$TTL 3600
@        IN SOA ns1 hostmaster 2026120101 7200 900 1209600 300
         IN NS  ns1
         IN NS  ns2.example.test.
ns1      IN A    192.0.2.1
ns2      IN AAAA 2001:db8::2
www      IN A    192.0.2.10
www      IN A    192.0.2.11
www      IN AAAA 2001:db8::10
txt   60 IN TXT  "hello world" "second"
alias    IN CNAME www
chain    IN CNAME alias
loop1    IN CNAME loop2
loop2    IN CNAME loop1
ext      IN CNAME www.elsewhere.invalid.
other    IN CNAME www.other.test.
*.wild   IN A    192.0.2.50
deep.ent.sub IN A 192.0.2.60
child    IN NS   ns.child
child    IN NS   ns.elsewhere.invalid.
ns.child IN A    192.0.2.70
big      IN TXT  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT  "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT  "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT  "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT  "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      IN TXT  "5123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
)";

inline const char *kOtherZone = R"(
$ORIGIN other.test.
$TTL 600
@   IN SOA ns1.example.test. hostmaster.example.test. 7 7200 900 1209600 900
    IN NS  ns1.example.test.
www IN A   198.51.100.1
)";
