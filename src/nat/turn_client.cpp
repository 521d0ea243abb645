// The TURN client's state machine (turn_client.hpp).
#include "meshgate/nat/turn_client.hpp"

#include <algorithm>
#include <utility>

#include "meshgate/crypto/random.hpp"

namespace meshgate::nat {

namespace {

constexpr const char* kVerdictNames[] = {"accepted", MESHGATE_TURN_VERDICTS(MESHGATE_REASON_NAME_)};
constexpr const char* kVerdictTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_TURN_VERDICTS, "accepted");
constexpr const char* kStateNames[] = {"idle", "allocating", "allocated", "failed"};
// By TurnClient::Op.
constexpr const char* kOpNames[] = {"Allocate", "Refresh", "CreatePermission", "ChannelBind"};
constexpr stun::Method kMethods[] = {stun::Method::allocate, stun::Method::refresh,
                                     stun::Method::create_permission, stun::Method::channel_bind};

constexpr std::uint8_t kUdp = 17;  // REQUESTED-TRANSPORT: the only one TURN over UDP allows
/// 438 retries of one request in a row: a server whose every nonce is stale is broken.
constexpr unsigned kMaxStaleRetries = 3;

}  // namespace

std::string_view to_string(TurnVerdict v) noexcept {
  return reason_lookup(kVerdictNames, v, "?");
}
std::string_view describe(TurnVerdict v) noexcept {
  return reason_lookup(kVerdictTexts, v, "?");
}
std::string_view to_string(TurnState s) noexcept {
  return reason_lookup(kStateNames, s, "?");
}

void TurnClient::configure(TurnServerConfig cfg, Nanos now) {
  if (cfg == cfg_) return;
  cfg_ = std::move(cfg);
  restart(now);
}

void TurnClient::restart(Nanos now) {
  // Answers to what is in flight would be about the old server or credentials.
  alloc_t_.active = false;
  alloc_ = {};
  realm_.clear();
  nonce_.clear();
  state_ = cfg_.server.known() ? TurnState::allocating : TurnState::idle;
  next_allocation_ = now;
  for (Peer& p : peers_) {
    p.t.active = false;
    p.confirmed = false;
    p.next_at = now;
  }
}

void TurnClient::permit(const Endpoint& peer, Nanos now) {
  // A permission is for an IP address; a channel to any port of it installs one as well.
  for (const Peer& p : peers_) {
    if (p.peer.addr == peer.addr) return;
  }
  peers_.push_back({.peer = peer, .next_at = now});
}

std::uint16_t TurnClient::bind_channel(const Endpoint& peer, Nanos now) {
  Peer* entry = nullptr;
  for (Peer& p : peers_) {
    if (p.peer == peer) entry = &p;
  }
  if (entry != nullptr && entry->channel != 0) return entry->channel;
  if (next_channel_ > stun::kChannelMax) return 0;
  if (entry == nullptr) entry = &peers_.emplace_back(Peer{.peer = peer});
  // A permission-only entry becomes a channel: ChannelBind installs the permission too.
  entry->channel = next_channel_++;
  entry->confirmed = false;
  entry->t.active = false;
  entry->next_at = now;
  return entry->channel;
}

std::uint16_t TurnClient::channel_of(const Endpoint& peer) const noexcept {
  for (const Peer& p : peers_) {
    if (p.peer == peer && p.channel != 0 && p.confirmed) return p.channel;
  }
  return 0;
}

bool TurnClient::permitted(const IpAddr& addr) const noexcept {
  for (const Peer& p : peers_) {
    if (p.peer.addr == addr) return true;
  }
  return false;
}

std::vector<TurnEvent> TurnClient::take_events() {
  return std::exchange(events_, {});
}

Nanos TurnClient::refresh_at(Nanos now, Nanos lifetime) const noexcept {
  if (lifetime >= 2 * t_.refresh_margin) return now + lifetime - t_.refresh_margin;
  return now + lifetime / 2;
}

std::vector<TurnRequest> TurnClient::poll(Nanos now) {
  std::vector<TurnRequest> out;
  if (state_ == TurnState::idle) return out;
  if (expired(alloc_t_, now)) fail(alloc_t_, nullptr, 0, "no answer", now);
  if (!alloc_t_.active && now >= next_allocation_) {
    const bool refresh = state_ == TurnState::allocated;
    if (!refresh) state_ = TurnState::allocating;
    start(alloc_t_, refresh ? Op::refresh : Op::allocate, nullptr, now);
  }
  transmit(alloc_t_, now, out);
  // Permissions and channels live inside an allocation: nothing to ask for without one.
  if (state_ == TurnState::allocated) poll_peers(now, out);
  return out;
}

void TurnClient::poll_peers(Nanos now, std::vector<TurnRequest>& out) {
  for (Peer& p : peers_) {
    if (expired(p.t, now)) fail(p.t, &p, 0, "no answer", now);
    if (!p.t.active && now >= p.next_at) {
      start(p.t, p.channel != 0 ? Op::channel : Op::permission, &p, now);
    }
    transmit(p.t, now, out);
  }
}

bool TurnClient::start(Transaction& t, Op op, Peer* p, Nanos now) {
  t = Transaction{};
  t.op = op;
  // Only the very first Allocate goes without credentials: its 401 brings REALM and NONCE.
  t.authenticated = !nonce_.empty();
  // RFC 8489 6: 96 random bits, so that an off-path attacker cannot forge an answer.
  crypto::random_bytes(t.tid.data(), t.tid.size());
  if (!build(t, p)) {
    fail(t, p, 0, "request does not fit in a datagram", now);
    return false;
  }
  t.active = true;
  t.next_at = now;
  return true;
}

bool TurnClient::build(Transaction& t, const Peer* p) {
  stun::Builder b(MutByteSpan(t.request.bytes), kMethods[static_cast<int>(t.op)],
                  stun::Class::request, t.tid);
  if (t.op == Op::allocate) b.add_requested_transport(kUdp);
  // Refresh carries no LIFETIME: the server's default (600 s) is what we want.
  if (p != nullptr) {
    if (t.op == Op::channel) b.add_channel_number(p->channel);
    b.add_xor_address(stun::attr::kXorPeerAddress, p->peer);
  }
  if (t.authenticated) {
    b.add_string(stun::attr::kUsername, cfg_.username);
    b.add_string(stun::attr::kRealm, realm_);
    b.add_string(stun::attr::kNonce, nonce_);
    b.add_integrity(ByteSpan(key_));
  }
  // The listen port carries WireGuard too: FINGERPRINT tells STUN apart.
  b.add_fingerprint();
  const Result<std::size_t> len = b.finish();
  if (!len) return false;
  t.request.to = cfg_.server;
  t.request.len = *len;
  return true;
}

void TurnClient::transmit(Transaction& t, Nanos now, std::vector<TurnRequest>& out) {
  const RetrySchedule& s = t_.request;
  if (!t.active || now < t.next_at || t.sent == s.tries) return;
  out.push_back(t.request);
  ++(t.sent == 0 ? stats_.requests_sent : stats_.retransmissions);
  ++t.sent;
  // RFC 8489 6.2.1: the wait doubles after each transmission; after the last it is Rm * RTO.
  t.next_at = now + (t.sent == s.tries ? s.rto * s.last_wait : s.rto << (t.sent - 1));
}

bool TurnClient::expired(Transaction& t, Nanos now) {
  if (!t.active || t.sent != t_.request.tries || now < t.next_at) return false;
  ++stats_.timeouts;
  return true;
}

TurnClient::Transaction* TurnClient::match(const stun::TransactionId& tid, Peer*& peer) noexcept {
  peer = nullptr;
  if (alloc_t_.active && alloc_t_.tid == tid) return &alloc_t_;
  for (Peer& p : peers_) {
    if (p.t.active && p.t.tid == tid) {
      peer = &p;
      return &p.t;
    }
  }
  return nullptr;
}

bool TurnClient::expects(const std::uint8_t* data, std::size_t len) const noexcept {
  if (len < stun::kHeaderSize) return false;
  stun::TransactionId tid;
  std::copy_n(data + offsetof(stun::RawHeader, transaction_id), tid.size(), tid.begin());
  if (alloc_t_.active && alloc_t_.tid == tid) return true;
  return std::any_of(peers_.begin(), peers_.end(),
                     [&](const Peer& p) { return p.t.active && p.t.tid == tid; });
}

TurnVerdict TurnClient::on_message(const std::uint8_t* data, std::size_t len, const Endpoint& from,
                                   Nanos now) {
  stun::Message m;
  TurnVerdict v = TurnVerdict::malformed;
  Transaction* t = nullptr;
  Peer* p = nullptr;
  if (stun::parse(data, len, m) == stun::ParseError::none) v = screen(m, from, t, p);
  if (t != nullptr) v = answered(m, *t, p, now);
  ++stats_.verdicts[static_cast<std::size_t>(v)];
  return v;
}

TurnVerdict TurnClient::screen(const stun::Message& m, const Endpoint& from, Transaction*& t,
                               Peer*& p) {
  if (m.cls == stun::Class::request || m.cls == stun::Class::indication) {
    return TurnVerdict::not_response;
  }
  if (m.fingerprint >= 0 && stun::check_fingerprint(m) != stun::AuthVerdict::none) {
    return TurnVerdict::bad_fingerprint;
  }
  Transaction* match_t = match(m.transaction_id, p);
  if (match_t == nullptr || m.method != kMethods[static_cast<int>(match_t->op)]) {
    return TurnVerdict::unknown_transaction;
  }
  // Left in flight: the real answer may still come.
  if (!(from == cfg_.server)) return TurnVerdict::wrong_source;
  // RFC 8489 9.2.5: 401 and 438 carry no integrity a client could check (the key may be what
  // is wrong); every other answer to an authenticated request must verify with our key. A
  // forged one is ignored and the transaction stays open.
  bool challenge = false;
  if (m.cls == stun::Class::error) {
    const auto ec = stun::get_error_code(m);
    challenge = ec && (ec->code == 401 || ec->code == 438);
  }
  if (match_t->authenticated && !challenge) {
    const stun::AuthVerdict a = stun::check_integrity(m, ByteSpan(key_));
    if (a == stun::AuthVerdict::missing_integrity) return TurnVerdict::missing_integrity;
    if (a != stun::AuthVerdict::none) return TurnVerdict::bad_integrity;
  }
  t = match_t;
  return TurnVerdict::none;
}

TurnVerdict TurnClient::answered(const stun::Message& m, Transaction& t, Peer* p, Nanos now) {
  t.active = false;  // the answer ends its transaction, whatever it says
  if (m.cls == stun::Class::error) {
    const auto ec = stun::get_error_code(m);
    if (!ec) {
      fail(t, p, 0, "error response without ERROR-CODE", now);
      return TurnVerdict::bad_answer;
    }
    if (ec->code == 401 || ec->code == 438) return challenged(m, t, p, *ec, now);
    fail(t, p, ec->code, std::string(ec->reason), now);
    return TurnVerdict::error_response;
  }
  if (p == nullptr) return allocation_answered(m, t, now);
  peer_answered(*p, now);
  return TurnVerdict::none;
}

TurnVerdict TurnClient::challenged(const stun::Message& m, Transaction& t, Peer* p,
                                   const stun::ErrorCode& ec, Nanos now) {
  const auto nonce = stun::get_string(m, stun::attr::kNonce);
  const auto realm = stun::get_string(m, stun::attr::kRealm);
  const bool stale = ec.code == 438;
  // A 401 to a request that had credentials: they are wrong. Repeating would not help.
  if ((!stale && t.authenticated) || (stale && t.retries >= kMaxStaleRetries) || !nonce ||
      (!stale && !realm)) {
    fail(t, p, ec.code, std::string(ec.reason), now);
    return TurnVerdict::error_response;
  }
  nonce_ = std::string(*nonce);
  if (realm && *realm != realm_) {
    realm_ = std::string(*realm);
    key_ = stun::long_term_key(cfg_.username, realm_, cfg_.password);
  }
  const unsigned retries = t.retries + (stale ? 1 : 0);
  // The same request again, with the new nonce; the next poll() sends it.
  if (start(t, t.op, p, now)) t.retries = retries;
  return stale ? TurnVerdict::stale_nonce : TurnVerdict::challenge;
}

TurnVerdict TurnClient::allocation_answered(const stun::Message& m, Transaction& t, Nanos now) {
  const auto lifetime = stun::get_u32(m, stun::attr::kLifetime);
  const auto relayed = stun::get_xor_address(m, stun::attr::kXorRelayedAddress);
  if (!lifetime || (t.op == Op::allocate && !relayed)) {
    fail(t, nullptr, 0, "success without XOR-RELAYED-ADDRESS or LIFETIME", now);
    return TurnVerdict::bad_answer;
  }
  alloc_.lifetime = *lifetime;
  alloc_.expires = now + seconds(*lifetime);
  next_allocation_ = refresh_at(now, seconds(*lifetime));
  if (t.op == Op::refresh) {
    events_.push_back({.kind = TurnEvent::Kind::refreshed, .lifetime = *lifetime});
    return TurnVerdict::none;
  }
  alloc_.relayed = *relayed;
  const auto mapped = stun::get_xor_address(m, stun::attr::kXorMappedAddress);
  alloc_.mapped = mapped ? *mapped : Endpoint{};
  state_ = TurnState::allocated;
  ++stats_.allocations;
  allocated_at_ = now;
  events_.push_back({.kind = TurnEvent::Kind::allocated,
                     .relayed = alloc_.relayed,
                     .mapped = alloc_.mapped,
                     .lifetime = *lifetime});
  for (Peer& p : peers_) p.next_at = now;  // the new allocation has none of them yet
  return TurnVerdict::none;
}

void TurnClient::peer_answered(Peer& p, Nanos now) {
  p.next_at = refresh_at(now, t_.permission_lifetime);
  if (p.confirmed) return;  // a refresh: nothing new to report
  p.confirmed = true;
  events_.push_back({.kind = p.channel != 0 ? TurnEvent::Kind::channel_bound
                                            : TurnEvent::Kind::permission_created,
                     .peer = p.peer,
                     .channel = p.channel});
}

void TurnClient::fail(Transaction& t, Peer* p, std::uint16_t code, std::string reason, Nanos now) {
  t.active = false;
  events_.push_back({.kind = TurnEvent::Kind::failed,
                     .peer = p != nullptr ? p->peer : Endpoint{},
                     .error_code = code,
                     .reason = std::move(reason),
                     .what = kOpNames[static_cast<int>(t.op)]});
  // 437 Allocation Mismatch to any request: the server has no allocation for the address we
  // now send from, so our NAT gave the listen port a new mapping (RFC 8656 6.2, 7.2). The old
  // allocation is unreachable; a new one from the new mapping works at once.
  // Not for an Allocate, nor on a young allocation (TurnClientTunables::rebind_guard).
  const bool rebound =
      code == kAllocationMismatch && t.op != Op::allocate && now - allocated_at_ >= t_.rebind_guard;
  if (p != nullptr && !rebound) {
    p->confirmed = false;
    p->next_at = now + t_.after_failure;
    return;
  }
  // The allocation is taken as lost (a failed Refresh too: it would expire soon anyway). The
  // next attempt starts without credentials, so a changed realm or password is picked up.
  state_ = TurnState::failed;
  alloc_ = {};
  nonce_.clear();
  alloc_t_.active = false;
  next_allocation_ = rebound ? now : now + t_.after_failure;
  for (Peer& q : peers_) {
    q.t.active = false;
    q.confirmed = false;
    q.next_at = now;
  }
}

}  // namespace meshgate::nat
