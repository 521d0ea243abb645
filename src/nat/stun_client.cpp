// The STUN client's state machine (stun_client.hpp).
#include "meshgate/nat/stun_client.hpp"

#include <algorithm>
#include <utility>

#include "meshgate/crypto/random.hpp"

namespace meshgate::nat {

namespace {

constexpr const char* kVerdictNames[] = {"accepted", MESHGATE_STUN_VERDICTS(MESHGATE_REASON_NAME_)};
constexpr const char* kVerdictTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_STUN_VERDICTS, "accepted");
constexpr const char* kUnknownNames[] = MESHGATE_REASON_NAMES(MESHGATE_NAT_UNKNOWN_REASONS);
constexpr const char* kUnknownTexts[] =
    MESHGATE_REASON_TEXTS(MESHGATE_NAT_UNKNOWN_REASONS, "both halves known");

constexpr const char* kMappingNames[] = {"unknown", "none", "endpoint_independent",
                                         "address_dependent", "address_and_port_dependent"};
constexpr const char* kFilteringNames[] = {"unknown", "endpoint_independent", "address_dependent",
                                           "address_and_port_dependent"};
constexpr const char* kMappingTexts[] = {
    "unknown mapping", "no NAT", "endpoint-independent mapping", "address-dependent mapping",
    "address-and-port-dependent mapping"};
constexpr const char* kFilteringTexts[] = {"unknown filtering", "endpoint-independent filtering",
                                           "address-dependent filtering",
                                           "address-and-port-dependent filtering"};

/// XOR-MAPPED-ADDRESS, or the plain MAPPED-ADDRESS of a server that sends only that (RFC 8489
/// 14.1 keeps it for backwards compatibility); nullopt when neither is there.
std::optional<Endpoint> mapped_address(const stun::Message& m) {
  if (auto x = stun::get_xor_address(m, stun::attr::kXorMappedAddress)) return *x;
  if (auto p = stun::get_address(m, stun::attr::kMappedAddress)) return *p;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(StunVerdict v) noexcept {
  return reason_lookup(kVerdictNames, v, "?");
}
std::string_view describe(StunVerdict v) noexcept {
  return reason_lookup(kVerdictTexts, v, "?");
}
std::string_view to_string(NatUnknown u) noexcept {
  return reason_lookup(kUnknownNames, u, "?");
}
std::string_view describe(NatUnknown u) noexcept {
  return reason_lookup(kUnknownTexts, u, "?");
}
std::string_view to_string(Mapping m) noexcept {
  return reason_lookup(kMappingNames, m, "?");
}
std::string_view to_string(Filtering f) noexcept {
  return reason_lookup(kFilteringNames, f, "?");
}

std::string NatClass::describe() const {
  const std::string why_text = std::string(nat::describe(why));
  if (mapping == Mapping::unknown && filtering == Filtering::unknown) {
    return "unknown (" + why_text + ")";
  }
  std::string s = std::string(reason_lookup(kMappingTexts, mapping, "?")) + ", " +
                  reason_lookup(kFilteringTexts, filtering, "?");
  if (why != NatUnknown::none) s += " (" + why_text + ")";
  return s;
}

std::string_view NatClass::short_name() const noexcept {
  switch (mapping) {
    case Mapping::unknown:
      return "unknown";
    case Mapping::none:
      if (filtering == Filtering::endpoint_independent) return "public";
      return filtering == Filtering::unknown ? "no NAT" : "firewalled";
    case Mapping::endpoint_independent:
      switch (filtering) {
        case Filtering::endpoint_independent:
          return "full cone";
        case Filtering::address_dependent:
          return "restricted cone";
        case Filtering::address_and_port_dependent:
          return "port-restricted cone";
        case Filtering::unknown:
          return "cone";
      }
      return "cone";
    case Mapping::address_dependent:
    case Mapping::address_and_port_dependent:
      // Any mapping that depends on the destination is "symmetric" in RFC 3489's terms.
      return "symmetric";
  }
  return "unknown";
}

namespace {

const char* step_name(int step) {
  static constexpr const char* kNames[] = {
      "binding", "filtering test II (change address and port)", "filtering test III (change port)",
      "mapping test II (alternate address)", "mapping test III (alternate address and port)"};
  return kNames[step];
}

}  // namespace

void StunClient::set_servers(std::vector<Endpoint> servers, Nanos now) {
  if (servers == servers_) return;
  servers_ = std::move(servers);
  active_ = 0;
  restart(now);
}

void StunClient::set_local(std::vector<Endpoint> local, Nanos now) {
  if (local == local_) return;
  local_ = std::move(local);
  restart(now);
}

void StunClient::restart(Nanos now) {
  // Answers to what is in flight would describe the old servers or the old mapping.
  binding_.active = false;
  probe_.active = false;
  next_binding_ = now;
  classify_now_ = true;
}

std::vector<StunRequest> StunClient::poll(Nanos now) {
  std::vector<StunRequest> out;
  if (servers_.empty()) return out;
  // Timeouts first: they may start the next transaction of their lane, due at once.
  expire(binding_, now);
  expire(probe_, now);
  if (!binding_.active && now >= next_binding_) {
    const Endpoint& s = servers_[active_];
    begin(binding_, Step::binding, s, s, {}, now);
  }
  transmit(binding_, now, out);
  transmit(probe_, now, out);
  return out;
}

std::vector<StunEvent> StunClient::take_events() {
  return std::exchange(events_, {});
}

void StunClient::begin(Transaction& t, Step step, const Endpoint& to, const Endpoint& expect_from,
                       stun::ChangeRequest change, Nanos now) {
  t = Transaction{};
  t.step = step;
  t.to = to;
  t.expect_from = expect_from;
  t.schedule = step == Step::binding ? t_.binding : t_.probe;
  t.next_at = now;
  // RFC 8489 6: 96 random bits, so that an off-path attacker cannot forge an answer.
  crypto::random_bytes(t.tid.data(), t.tid.size());
  stun::Builder b(MutByteSpan(t.request.bytes), stun::Method::binding, stun::Class::request, t.tid);
  if (change.change_ip || change.change_port) b.add_change_request(change);
  // The listen port carries WireGuard too; FINGERPRINT tells STUN apart (RFC 5780 5), and
  // servers echo it in their answers.
  b.add_fingerprint();
  const Result<std::size_t> len = b.finish();
  if (!len) return;  // cannot happen: 36 bytes at most into kMaxSize
  t.request.to = to;
  t.request.len = *len;
  t.active = true;
}

void StunClient::expire(Transaction& t, Nanos now) {
  if (t.active && t.sent == t.schedule.tries && now >= t.next_at) timed_out(t, now);
}

void StunClient::transmit(Transaction& t, Nanos now, std::vector<StunRequest>& out) {
  if (!t.active || now < t.next_at || t.sent == t.schedule.tries) return;
  out.push_back(t.request);
  ++(t.sent == 0 ? stats_.requests_sent : stats_.retransmissions);
  ++t.sent;
  // RFC 8489 6.2.1: the wait doubles after each transmission; after the last it is Rm * RTO.
  const Nanos wait = t.sent == t.schedule.tries ? t.schedule.rto * t.schedule.last_wait
                                                : t.schedule.rto << (t.sent - 1);
  t.next_at = now + wait;
}

void StunClient::timed_out(Transaction& t, Nanos now) {
  t.active = false;
  ++stats_.timeouts;
  events_.push_back({.kind = StunEvent::Kind::timeout,
                     .server = t.to,
                     .what = step_name(static_cast<int>(t.step)),
                     .probe = t.step != Step::binding});
  if (t.step == Step::binding) return binding_failed(now);  // the timeout already waited
  probe_silent(t.step, now);
}

StunClient::Transaction* StunClient::match(const stun::TransactionId& tid) noexcept {
  for (Transaction* t : {&binding_, &probe_}) {
    if (t->active && t->tid == tid) return t;
  }
  return nullptr;
}

StunVerdict StunClient::on_message(const std::uint8_t* data, std::size_t len, const Endpoint& from,
                                   Nanos now) {
  stun::Message m;
  Transaction* t = nullptr;
  std::optional<Endpoint> mapped;
  const StunVerdict v = screen(data, len, from, m, t, mapped);
  ++stats_.verdicts[static_cast<std::size_t>(v)];
  if (t == nullptr) return v;  // nothing of ours changes
  // The answer ends its transaction, whatever it says.
  t->active = false;
  if (t->step == Step::binding) {
    if (v == StunVerdict::none) {
      binding_answered(m, *mapped, now);
    } else {
      error_event(m, *t);
      binding_failed(now + t_.after_error);
    }
  } else if (v == StunVerdict::none) {
    probe_answered(t->step, *mapped, now);
  } else {
    error_event(m, *t);
    probe_failed(t->step, NatUnknown::refused, now);
  }
  return v;
}

StunVerdict StunClient::screen(const std::uint8_t* data, std::size_t len, const Endpoint& from,
                               stun::Message& m, Transaction*& t, std::optional<Endpoint>& mapped) {
  if (stun::parse(data, len, m) != stun::ParseError::none) return StunVerdict::malformed;
  if (m.cls == stun::Class::request || m.cls == stun::Class::indication) {
    return StunVerdict::not_response;
  }
  // A FINGERPRINT is optional in an answer, but a wrong one means the bytes are not STUN.
  if (m.fingerprint >= 0 && stun::check_fingerprint(m) != stun::AuthVerdict::none) {
    return StunVerdict::bad_fingerprint;
  }
  Transaction* match_t = match(m.transaction_id);
  if (match_t == nullptr || m.method != stun::Method::binding) {
    return StunVerdict::unknown_transaction;
  }
  // Left in flight: the real answer may still come. For the RFC 5780 tests the source is the
  // measurement itself, so an answer from elsewhere must not count.
  if (!(from == match_t->expect_from)) return StunVerdict::wrong_source;
  t = match_t;
  if (m.cls == stun::Class::error) return StunVerdict::error_response;
  mapped = mapped_address(m);
  return mapped ? StunVerdict::none : StunVerdict::no_address;
}

void StunClient::error_event(const stun::Message& m, const Transaction& t) {
  const auto code = stun::get_error_code(m);
  events_.push_back({.kind = StunEvent::Kind::error_response,
                     .server = t.to,
                     .error_code = code ? code->code : std::uint16_t{0},
                     .what = step_name(static_cast<int>(t.step)),
                     .probe = t.step != Step::binding});
}

void StunClient::binding_answered(const stun::Message& m, const Endpoint& mapped, Nanos now) {
  const Endpoint server = binding_.to;
  learn(mapped, server, now);
  next_binding_ = now + t_.refresh;
  if ((classify_now_ || now >= next_classify_) && !probe_.active) start_probe(m, server, now);
}

void StunClient::binding_failed(Nanos next_try) {
  // Another server may answer where this one did not.
  active_ = (active_ + 1) % servers_.size();
  next_binding_ = next_try;
}

void StunClient::learn(const Endpoint& mapped, const Endpoint& server, Nanos now) {
  if (!(mapped == reflexive_.address)) {
    if (reflexive_.address.known()) ++stats_.address_changes;
    events_.push_back({.kind = StunEvent::Kind::reflexive_changed,
                       .server = server,
                       .address = mapped,
                       .previous = reflexive_.address});
    reflexive_.address = mapped;
    reflexive_.learnt = now;
    probe_.active = false;  // it measured the old mapping
    classify_now_ = true;
  }
  reflexive_.server = server;
  reflexive_.confirmed = now;
}

void StunClient::start_probe(const stun::Message& m, const Endpoint& server, Nanos now) {
  classify_now_ = false;
  next_classify_ = now + t_.reclassify;
  run_ = Probe{.server = server, .m1 = reflexive_.address};
  // Mapping test I (RFC 5780 4.3): the answer just received. Our own address back means no NAT.
  if (is_local(run_.m1)) run_.mapping = Mapping::none;
  const auto other = stun::get_address(m, stun::attr::kOtherAddress);
  if (!other) {
    run_.why = NatUnknown::no_other_address;
    return finish_probe();
  }
  if (other->addr.family != server.addr.family || other->addr == server.addr ||
      other->port == server.port) {
    run_.why = NatUnknown::same_address;
    return finish_probe();
  }
  run_.other = *other;
  // Filtering first: the mapping tests send to the alternate address, and that would open an
  // address-dependent filter to the very answers the filtering tests wait for.
  begin(probe_, Step::filter_both, server, run_.other, {.change_ip = true, .change_port = true},
        now);
}

void StunClient::probe_answered(Step step, const Endpoint& mapped, Nanos now) {
  switch (step) {
    case Step::filter_both:  // an answer from A2:P2 got through: nothing is filtered
      run_.filtering = Filtering::endpoint_independent;
      return mapping_tests(now);
    case Step::filter_port:  // from A1:P2: only the address is checked
      run_.filtering = Filtering::address_dependent;
      return mapping_tests(now);
    case Step::map_alt_ip:
      if (mapped == run_.m1) {
        run_.mapping = Mapping::endpoint_independent;
        return finish_probe();
      }
      run_.m2 = mapped;
      return begin(probe_, Step::map_alt_both, run_.other, run_.other, {}, now);
    case Step::map_alt_both:
      run_.mapping =
          mapped == run_.m2 ? Mapping::address_dependent : Mapping::address_and_port_dependent;
      return finish_probe();
    case Step::binding:
      return;
  }
}

void StunClient::probe_silent(Step step, Nanos now) {
  switch (step) {
    case Step::filter_both:  // filtered somehow: is it the address or the port?
      return begin(probe_, Step::filter_port, run_.server,
                   Endpoint{run_.server.addr, run_.other.port}, {.change_port = true}, now);
    case Step::filter_port:
      run_.filtering = Filtering::address_and_port_dependent;
      return mapping_tests(now);
    case Step::map_alt_ip:
    case Step::map_alt_both:
    case Step::binding:
      // Silence from the alternate address to a plain request says nothing about the NAT.
      return probe_failed(step, NatUnknown::no_answer, now);
  }
}

void StunClient::probe_failed(Step step, NatUnknown why, Nanos now) {
  run_.why = why;
  if (step == Step::filter_both || step == Step::filter_port) return mapping_tests(now);
  finish_probe();
}

void StunClient::mapping_tests(Nanos now) {
  if (run_.mapping == Mapping::none) return finish_probe();  // no NAT: nothing to map
  // Mapping test II: the alternate address, the primary port.
  const Endpoint alt_ip{run_.other.addr, run_.server.port};
  begin(probe_, Step::map_alt_ip, alt_ip, alt_ip, {}, now);
}

void StunClient::finish_probe() {
  probe_.active = false;
  const NatClass c{run_.mapping, run_.filtering, run_.why};
  if (c == nat_) return;
  nat_ = c;
  events_.push_back({.kind = StunEvent::Kind::nat_classified, .server = run_.server, .nat = c});
}

bool StunClient::is_local(const Endpoint& e) const noexcept {
  return std::find(local_.begin(), local_.end(), e) != local_.end();
}

}  // namespace meshgate::nat
