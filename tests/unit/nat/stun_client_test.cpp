// The STUN client's state machine against a fake RFC 5780 server (two addresses, two ports)
// behind a simulated NAT of each mapping and filtering behaviour, on an in-memory clock.
#include "meshgate/nat/stun_client.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace meshgate::nat {
namespace {

using Buf = std::vector<std::uint8_t>;

Endpoint ep(const char* s) {
  return *Endpoint::parse(s);
}

const Endpoint kLocal = ep("192.168.1.2:51820");        // the gateway's own address and listen port
const IpAddr kPublic = *IpAddr::parse("198.51.100.7");  // the NAT's outside address
const Endpoint kA1P1 = ep("203.0.113.1:3478");
const Endpoint kA1P2 = ep("203.0.113.1:3479");
const Endpoint kA2P1 = ep("203.0.113.2:3478");
const Endpoint kA2P2 = ep("203.0.113.2:3479");
const Endpoint kOtherServer = ep("192.0.2.9:3478");

/// The server's answer to `tid`, as it would send it from `src`.
Buf answer(const stun::TransactionId& tid, const Endpoint& mapped, const Endpoint& src,
           const Endpoint* other, std::uint16_t error_code = 0) {
  Buf buf(256);
  const auto cls = error_code != 0 ? stun::Class::error : stun::Class::success;
  stun::Builder b(buf, stun::Method::binding, cls, tid);
  if (error_code != 0) {
    b.add_error_code(error_code, "Server Error");
  } else {
    b.add_xor_address(stun::attr::kXorMappedAddress, mapped);
    b.add_address(stun::attr::kResponseOrigin, src);
    if (other != nullptr) b.add_address(stun::attr::kOtherAddress, *other);
  }
  b.add_fingerprint();
  const auto len = b.finish();
  EXPECT_TRUE(len.ok()) << len.error();
  buf.resize(len ? *len : 0);
  return buf;
}

stun::Message parse_ok(const Buf& b) {
  stun::Message m;
  EXPECT_EQ(stun::parse(b.data(), b.size(), m), stun::ParseError::none);
  return m;
}

Buf bytes_of(const StunRequest& r) {
  return Buf(r.bytes.begin(), r.bytes.begin() + static_cast<std::ptrdiff_t>(r.len));
}

struct Datagram {
  Endpoint from;
  Buf bytes;
};

/// The Internet between the client and an RFC 5780 server on A1/A2 x P1/P2: the NAT in front of
/// the client (Mapping::none: no NAT, only a firewall applying `filtering`) and the server.
class FakeNet {
 public:
  Mapping mapping = Mapping::endpoint_independent;
  Filtering filtering = Filtering::address_and_port_dependent;
  bool other_address = true;     // the server puts OTHER-ADDRESS in its answers
  std::set<std::string> down;    // server addresses that neither answer nor send
  std::uint16_t error_code = 0;  // nonzero: every answer is this error
  std::uint16_t port_base = 40000;

  std::vector<Datagram> exchange(const StunRequest& r) {
    if (down.count(r.to.str()) != 0) return {};
    const Endpoint mapped = outbound(r.to);
    const Buf request = bytes_of(r);  // m points into it: it must outlive m
    const stun::Message m = parse_ok(request);
    EXPECT_GE(m.fingerprint, 0) << "requests carry FINGERPRINT";
    stun::ChangeRequest ch;
    if (auto c = stun::get_change_request(m)) ch = *c;
    if (ch.change_ip || ch.change_port) ++change_requests;
    const Endpoint src{ch.change_ip ? alt_ip(r.to.addr) : r.to.addr,
                       ch.change_port ? alt_port(r.to.port) : r.to.port};
    if (down.count(src.str()) != 0) return {};
    // RFC 5780 7.4: OTHER-ADDRESS is where a change of both would answer from.
    const Endpoint other{alt_ip(r.to.addr), alt_port(r.to.port)};
    Buf bytes = answer(m.transaction_id, mapped, src, other_address ? &other : nullptr, error_code);
    if (!inbound_allowed(src)) return {};
    return {{src, std::move(bytes)}};
  }
  /// The NAT forgets its mappings and numbers new ones from `base`.
  void renumber(std::uint16_t base) {
    port_base = base;
    ports_.clear();
  }

  int change_requests = 0;

 private:
  static IpAddr alt_ip(const IpAddr& a) { return a == kA1P1.addr ? kA2P1.addr : kA1P1.addr; }
  static std::uint16_t alt_port(std::uint16_t p) {
    return p == kA1P1.port ? kA1P2.port : kA1P1.port;
  }

  Endpoint outbound(const Endpoint& dst) {
    contacted_.insert(dst.str());
    contacted_ips_.insert(dst.addr.str());
    if (mapping == Mapping::none) return kLocal;
    std::string key;  // what a new mapping depends on
    if (mapping == Mapping::address_dependent) key = dst.addr.str();
    if (mapping == Mapping::address_and_port_dependent) key = dst.str();
    auto [it, fresh] = ports_.emplace(key, 0);
    if (fresh) it->second = static_cast<std::uint16_t>(port_base + ports_.size() - 1);
    return {kPublic, it->second};
  }
  bool inbound_allowed(const Endpoint& src) const {
    switch (filtering) {
      case Filtering::address_dependent:
        return contacted_ips_.count(src.addr.str()) != 0;
      case Filtering::address_and_port_dependent:
        return contacted_.count(src.str()) != 0;
      default:
        return true;
    }
  }

  std::map<std::string, std::uint16_t> ports_;
  std::set<std::string> contacted_, contacted_ips_;
};

/// The client wired to a FakeNet, stepped every 10 ms as the control thread's timer does.
struct Harness {
  explicit Harness(std::vector<Endpoint> servers = {kA1P1}) {
    client.set_local({kLocal}, now);
    client.set_servers(std::move(servers), now);
  }
  void step() {
    for (const StunRequest& r : client.poll(now)) {
      sent.push_back({now, r});
      for (const Datagram& d : net.exchange(r)) {
        client.on_message(d.bytes.data(), d.bytes.size(), d.from, now);
      }
    }
    for (StunEvent& e : client.take_events()) events.push_back(e);
  }
  void run_for(Nanos d) {
    for (const Nanos end = now + d; now < end; now += millis(10)) step();
  }
  std::uint64_t count(StunVerdict v) const {
    return client.stats().verdicts[static_cast<std::size_t>(v)];
  }
  std::vector<StunEvent> events_of(StunEvent::Kind k) const {
    std::vector<StunEvent> out;
    for (const StunEvent& e : events) {
      if (e.kind == k) out.push_back(e);
    }
    return out;
  }
  /// Send times of the plain Binding requests (no CHANGE-REQUEST) to `to`.
  std::vector<Nanos> bindings_to(const Endpoint& to) const {
    std::vector<Nanos> out;
    for (const auto& [t, r] : sent) {
      if (r.to == to && !stun::get_change_request(parse_ok(bytes_of(r)))) out.push_back(t);
    }
    return out;
  }

  FakeNet net;
  StunClient client;
  Nanos now = 0;
  std::vector<std::pair<Nanos, StunRequest>> sent;
  std::vector<StunEvent> events;
};

TEST(StunClient, LearnsTheReflexiveAddressAndReportsIt) {
  Harness h;
  h.run_for(millis(10));
  const Reflexive& r = h.client.reflexive();
  EXPECT_EQ(r.address, (Endpoint{kPublic, 40000}));
  EXPECT_EQ(r.server, kA1P1);
  EXPECT_EQ(r.learnt, 0);
  const auto changed = h.events_of(StunEvent::Kind::reflexive_changed);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].address.str(), "198.51.100.7:40000");
  EXPECT_FALSE(changed[0].previous.known());
  EXPECT_EQ(changed[0].server, kA1P1);
  EXPECT_EQ(h.count(StunVerdict::none), 1u);
}

TEST(StunClient, RefreshesEveryRefreshPeriodToKeepTheMappingAlive) {
  Harness h;
  h.net.filtering = Filtering::endpoint_independent;
  h.run_for(seconds(100));
  const std::vector<Nanos> bindings = h.bindings_to(kA1P1);
  EXPECT_EQ(bindings, (std::vector<Nanos>{0, seconds(25), seconds(50), seconds(75)}));
  EXPECT_EQ(h.client.reflexive().confirmed, seconds(75));
  EXPECT_EQ(h.client.reflexive().learnt, 0);
  EXPECT_EQ(h.events_of(StunEvent::Kind::reflexive_changed).size(), 1u);  // no news, no event
}

using Combination = std::tuple<Mapping, Filtering, const char*>;
class Classification : public ::testing::TestWithParam<Combination> {};

TEST_P(Classification, Rfc5780TestsNameTheNat) {
  const auto [mapping, filtering, name] = GetParam();
  Harness h;
  h.net.mapping = mapping;
  h.net.filtering = filtering;
  h.run_for(seconds(60));
  const NatClass& c = h.client.nat();
  EXPECT_EQ(c.mapping, mapping);
  EXPECT_EQ(c.filtering, filtering);
  EXPECT_EQ(c.why, NatUnknown::none);
  EXPECT_EQ(c.short_name(), name);
  EXPECT_FALSE(h.client.classifying());
  const auto classified = h.events_of(StunEvent::Kind::nat_classified);
  ASSERT_EQ(classified.size(), 1u);
  EXPECT_EQ(classified[0].nat, c);
  EXPECT_EQ(h.client.reflexive().address.addr, mapping == Mapping::none ? kLocal.addr : kPublic);
}

INSTANTIATE_TEST_SUITE_P(
    EveryBehaviour, Classification,
    ::testing::Values(
        Combination{Mapping::endpoint_independent, Filtering::endpoint_independent, "full cone"},
        Combination{Mapping::endpoint_independent, Filtering::address_dependent, "restricted cone"},
        Combination{Mapping::endpoint_independent, Filtering::address_and_port_dependent,
                    "port-restricted cone"},
        Combination{Mapping::address_dependent, Filtering::endpoint_independent, "symmetric"},
        Combination{Mapping::address_dependent, Filtering::address_dependent, "symmetric"},
        Combination{Mapping::address_dependent, Filtering::address_and_port_dependent, "symmetric"},
        Combination{Mapping::address_and_port_dependent, Filtering::endpoint_independent,
                    "symmetric"},
        Combination{Mapping::address_and_port_dependent, Filtering::address_dependent, "symmetric"},
        Combination{Mapping::address_and_port_dependent, Filtering::address_and_port_dependent,
                    "symmetric"},
        Combination{Mapping::none, Filtering::endpoint_independent, "public"},
        Combination{Mapping::none, Filtering::address_and_port_dependent, "firewalled"}));

TEST(StunClient, DescribesAClassInWords) {
  const NatClass c{Mapping::endpoint_independent, Filtering::address_and_port_dependent,
                   NatUnknown::none};
  EXPECT_EQ(c.describe(), "endpoint-independent mapping, address-and-port-dependent filtering");
  EXPECT_EQ(NatClass{}.describe(), "unknown (no STUN server has answered yet)");
  EXPECT_EQ(to_string(Mapping::address_and_port_dependent), "address_and_port_dependent");
  EXPECT_EQ(to_string(StunVerdict::none), "accepted");
  EXPECT_EQ(to_string(StunVerdict::wrong_source), "wrong_source");
}

TEST(StunClient, ServerWithoutOtherAddressLeavesTheClassUnknown) {
  Harness h;
  h.net.other_address = false;
  h.run_for(seconds(30));
  EXPECT_TRUE(h.client.reflexive().address.known());
  EXPECT_EQ(h.client.nat().mapping, Mapping::unknown);
  EXPECT_EQ(h.client.nat().why, NatUnknown::no_other_address);
  EXPECT_EQ(h.client.nat().short_name(), "unknown");
  EXPECT_NE(h.client.nat().describe().find("OTHER-ADDRESS"), std::string::npos);
  EXPECT_EQ(h.net.change_requests, 0);  // no test that cannot mean anything
  EXPECT_EQ(h.events_of(StunEvent::Kind::nat_classified).size(), 1u);
}

TEST(StunClient, SilentAlternateAddressLeavesTheMappingUnknown) {
  Harness h;
  h.net.filtering = Filtering::endpoint_independent;
  h.net.down = {kA2P1.str(), kA2P2.str()};
  h.run_for(seconds(60));
  EXPECT_EQ(h.client.nat().mapping, Mapping::unknown);
  EXPECT_EQ(h.client.nat().why, NatUnknown::no_answer);
  EXPECT_NE(h.client.nat().describe().find("did not answer"), std::string::npos);
  EXPECT_GE(h.client.stats().timeouts, 2u);  // filtering test II and mapping test II
  EXPECT_EQ(h.client.reflexive().address, (Endpoint{kPublic, 40000}));
}

TEST(StunClient, RetransmitsWithDoublingTimeoutThenTriesTheNextServer) {
  Harness h({kA1P1, kOtherServer});
  h.net.down = {kA1P1.str()};
  h.run_for(seconds(40));
  // RFC 8489 6.2.1: 7 requests, at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; timeout 8 s later.
  const std::vector<Nanos> expected = {
      0, millis(500), millis(1500), millis(3500), millis(7500), millis(15500), millis(31500)};
  EXPECT_EQ(h.bindings_to(kA1P1), expected);
  for (const auto& [t, r] : h.sent) {
    if (r.to == kA1P1) {
      EXPECT_EQ(bytes_of(r), bytes_of(h.sent[0].second)) << "a retransmission";
    }
  }
  const auto timeouts = h.events_of(StunEvent::Kind::timeout);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].server, kA1P1);
  EXPECT_STREQ(timeouts[0].what, "binding");
  EXPECT_EQ(h.client.stats().timeouts, 1u);
  EXPECT_EQ(h.client.stats().retransmissions, 6u);
  EXPECT_EQ(h.bindings_to(kOtherServer), std::vector<Nanos>{millis(39500)});
  EXPECT_EQ(h.client.reflexive().server, kOtherServer);
}

TEST(StunClient, ErrorResponseIsCountedReportedAndTheNextServerAskedLater) {
  Harness h({kA1P1, kOtherServer});
  h.net.error_code = 500;
  h.run_for(seconds(1));
  EXPECT_EQ(h.count(StunVerdict::error_response), 1u);
  const auto errors = h.events_of(StunEvent::Kind::error_response);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error_code, 500);
  EXPECT_FALSE(h.client.reflexive().address.known());
  EXPECT_TRUE(h.bindings_to(kOtherServer).empty());  // not at once: no request loop
  h.net.error_code = 0;
  h.run_for(seconds(25));
  EXPECT_EQ(h.bindings_to(kOtherServer), std::vector<Nanos>{seconds(25)});
  EXPECT_EQ(h.client.reflexive().server, kOtherServer);
}

/// The client's first request, answered by hand.
struct Manual {
  Manual() {
    client.set_local({kLocal}, 0);
    client.set_servers({kA1P1}, 0);
    const auto reqs = client.poll(0);
    EXPECT_EQ(reqs.size(), 1u);
    tid = parse_ok(bytes_of(reqs.at(0))).transaction_id;
  }
  StunVerdict deliver(const Buf& b, const Endpoint& from) {
    return client.on_message(b.data(), b.size(), from, millis(5));
  }
  StunClient client;
  stun::TransactionId tid{};
  const Endpoint mapped{kPublic, 40000};
};

TEST(StunClient, WrongTransactionIdIsIgnoredAndCounted) {
  Manual t;
  stun::TransactionId other = t.tid;
  other[0] ^= 1;
  EXPECT_EQ(t.deliver(answer(other, t.mapped, kA1P1, &kA2P2), kA1P1),
            StunVerdict::unknown_transaction);
  EXPECT_FALSE(t.client.reflexive().address.known());
  EXPECT_EQ(t.client.stats().verdicts[static_cast<int>(StunVerdict::unknown_transaction)], 1u);
  EXPECT_TRUE(t.client.take_events().empty());
  // The transaction is still open: the real answer counts.
  EXPECT_EQ(t.deliver(answer(t.tid, t.mapped, kA1P1, &kA2P2), kA1P1), StunVerdict::none);
  EXPECT_EQ(t.client.reflexive().address, t.mapped);
  // And a second copy of it finds no transaction.
  EXPECT_EQ(t.deliver(answer(t.tid, t.mapped, kA1P1, &kA2P2), kA1P1),
            StunVerdict::unknown_transaction);
}

TEST(StunClient, AnswerFromAnUnexpectedSourceIsIgnoredAndCounted) {
  Manual t;
  EXPECT_EQ(t.deliver(answer(t.tid, t.mapped, kA2P1, &kA2P2), kA2P1), StunVerdict::wrong_source);
  EXPECT_FALSE(t.client.reflexive().address.known());
  EXPECT_EQ(t.client.stats().verdicts[static_cast<int>(StunVerdict::wrong_source)], 1u);
  EXPECT_EQ(t.deliver(answer(t.tid, t.mapped, kA1P1, &kA2P2), kA1P1), StunVerdict::none);
}

TEST(StunClient, BadFingerprintIsIgnoredAndCounted) {
  Manual t;
  Buf b = answer(t.tid, t.mapped, kA1P1, &kA2P2);
  b.back() ^= 0x01;  // the CRC's last byte
  EXPECT_EQ(t.deliver(b, kA1P1), StunVerdict::bad_fingerprint);
  EXPECT_FALSE(t.client.reflexive().address.known());
  EXPECT_EQ(t.client.stats().verdicts[static_cast<int>(StunVerdict::bad_fingerprint)], 1u);
  EXPECT_EQ(t.deliver(answer(t.tid, t.mapped, kA1P1, &kA2P2), kA1P1), StunVerdict::none);
}

TEST(StunClient, JunkAndRequestsAreCountedByName) {
  Manual t;
  const Buf junk = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12};
  EXPECT_EQ(t.deliver(junk, kA1P1), StunVerdict::malformed);
  Buf request(64);
  stun::Builder b(request, stun::Method::binding, stun::Class::request, t.tid);
  request.resize(*b.finish());
  EXPECT_EQ(t.deliver(request, kA1P1), StunVerdict::not_response);
  Buf empty(64);
  stun::Builder e(empty, stun::Method::binding, stun::Class::success, t.tid);
  empty.resize(*e.finish());
  EXPECT_EQ(t.deliver(empty, kA1P1), StunVerdict::no_address);
  EXPECT_FALSE(t.client.reflexive().address.known());
  EXPECT_EQ(t.client.stats().verdicts[static_cast<int>(StunVerdict::malformed)], 1u);
  EXPECT_EQ(t.client.stats().verdicts[static_cast<int>(StunVerdict::not_response)], 1u);
  EXPECT_EQ(t.client.stats().verdicts[static_cast<int>(StunVerdict::no_address)], 1u);
}

TEST(StunClient, ReflexiveAddressChangeIsReportedAndTheNatTestedAgain) {
  Harness h;
  h.run_for(seconds(20));
  ASSERT_EQ(h.client.nat().short_name(), "port-restricted cone");
  const int tests_before = h.net.change_requests;
  h.net.renumber(41000);  // the NAT rebooted, or the mapping expired
  h.run_for(seconds(40));
  const auto changed = h.events_of(StunEvent::Kind::reflexive_changed);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[1].previous, (Endpoint{kPublic, 40000}));
  EXPECT_EQ(changed[1].address, (Endpoint{kPublic, 41000}));
  EXPECT_EQ(h.client.stats().address_changes, 1u);
  EXPECT_EQ(h.client.reflexive().learnt, seconds(25));
  EXPECT_GT(h.net.change_requests, tests_before);
  EXPECT_EQ(h.client.nat().short_name(), "port-restricted cone");
}

TEST(StunClient, NewListenPortStartsDiscoveryAgain) {
  Harness h;
  h.run_for(seconds(1));
  const std::size_t before = h.bindings_to(kA1P1).size();
  h.client.set_local({ep("192.168.1.2:51821")}, h.now);
  h.step();
  EXPECT_EQ(h.bindings_to(kA1P1).size(), before + 1);  // at once, not at the next refresh
}

TEST(StunClient, NoServersNoRequests) {
  StunClient c;
  c.set_local({kLocal}, 0);
  EXPECT_TRUE(c.poll(0).empty());
  EXPECT_TRUE(c.poll(seconds(100)).empty());
}

TEST(StunClient, DefaultSchedules) {
  const StunClientTunables t;
  EXPECT_EQ(t.binding.lifetime(), millis(39500));  // RFC 8489 6.2.1's example
  EXPECT_EQ(t.probe.lifetime(), millis(7500));
  EXPECT_LT(t.refresh, seconds(30));
}

}  // namespace
}  // namespace meshgate::nat
