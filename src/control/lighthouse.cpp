// The lighthouse role (lighthouse.hpp).
#include "meshgate/control/lighthouse.hpp"

#include <algorithm>

#include "meshgate/control/tunables.hpp"

namespace meshgate::control {

using namespace impl;  // NOLINT(google-build-using-namespace): this part's tunables

namespace {

using nat::coord::CandidateKind;
using nat::coord::Message;
using nat::coord::Type;

constexpr const char* kVerdictNames[] = MESHGATE_REASON_NAMES(MESHGATE_COORD_VERDICTS);
constexpr const char* kVerdictTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_COORD_VERDICTS, "none");

}  // namespace

std::string_view to_string(CoordVerdict v) noexcept {
  return reason_lookup(kVerdictNames, v, "?");
}

std::string_view describe(CoordVerdict v) noexcept {
  return reason_lookup(kVerdictTexts, v, "?");
}

void Lighthouse::handle(rte_mbuf* m, PeerId peer, const Endpoint& source, Nanos now) {
  Message msg;
  nat::coord::DecodeError why = nat::coord::DecodeError::none;
  const bool ok =
      nat::coord::decode(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len, msg, why);
  rte_pktmbuf_free(m);
  CoordVerdict v = CoordVerdict::malformed;
  if (ok && peers_.find(peer) != nullptr) v = dispatch(msg, peer, source, now);
  ++stats_.messages[ok ? static_cast<std::size_t>(msg.type) : 0][static_cast<std::size_t>(v)];
  if (v == CoordVerdict::accepted) return;
  drops_.add(dataplane::Drop::control_rejected);
  // Throttled: a peer that floods bad messages must not flood the log.
  const std::string from =
      "coordination message from peer " + std::to_string(peer) + " (" + source.str() + "): ";
  if (!ok) {
    log_.drop("coord_malformed", from + std::string(nat::coord::to_string(why)));
  } else {
    log_.drop(to_string(v), from + std::string(describe(v)));
  }
}

CoordVerdict Lighthouse::dispatch(const Message& msg, PeerId peer, const Endpoint& source,
                                  Nanos now) {
  switch (msg.type) {
    case Type::report:
      return on_report(msg, peer, source, now);
    case Type::request:
      return on_request(msg, peer, now);
    case Type::introduce:
      return on_introduce(msg, peer, now);
    case Type::ping:
      paths_.ping_received(peer, msg.txid, source, now);
      return CoordVerdict::accepted;
    case Type::pong: {
      const auto before = paths_.stats().pongs_matched;
      paths_.pong_received(peer, msg.txid, source, now);
      return paths_.stats().pongs_matched != before ? CoordVerdict::accepted
                                                    : CoordVerdict::unexpected;
    }
  }
  return CoordVerdict::malformed;
}

CoordVerdict Lighthouse::on_report(const Message& msg, PeerId peer, const Endpoint& source,
                                   Nanos now) {
  if (!serving_) return CoordVerdict::not_serving;
  Report& r = reports_[peer];
  nat::coord::Candidates fresh = msg.candidates;
  // Where the report came from is the peer's mapping towards us: a candidate the peer cannot
  // know itself when it has no STUN server. Through a relay it says nothing about the peer.
  if (source.channel == 0) fresh.add({source, CandidateKind::observed});
  const bool changed =
      r.at != 0 && !std::equal(fresh.view().begin(), fresh.view().end(),
                               r.candidates.view().begin(), r.candidates.view().end());
  r.candidates = fresh;
  r.at = now;
  if (changed) {
    for (const auto& [to, about] : introduced_) {
      if (about == peer) introduce(to, peer, now);
    }
  }
  return CoordVerdict::accepted;
}

CoordVerdict Lighthouse::on_request(const Message& msg, PeerId peer, Nanos now) {
  if (!serving_) return CoordVerdict::not_serving;
  const auto about = peers_.find(msg.key);
  if (!about || *about == peer) return CoordVerdict::unknown_peer;
  auto theirs = reports_.find(*about);
  if (theirs == reports_.end() || now - theirs->second.at > kReportStale) {
    return CoordVerdict::not_reported;
  }
  if (!introduce(peer, *about, now)) return CoordVerdict::not_reported;
  introduce(*about, peer, now);  // the other side probes too; it may have no session yet
  return CoordVerdict::accepted;
}

/// Sends `to` the candidates of `about`, to be probed kStartInMs from now.
bool Lighthouse::introduce(PeerId to, PeerId about, Nanos now) {
  Message m;
  m.type = Type::introduce;
  m.key = peers_.find(about)->settings.public_key;
  m.start_in_ms = kStartInMs;
  if (auto r = reports_.find(about); r != reports_.end()) m.candidates = r->second.candidates;
  if (!paths_.send(to, m, {}, now)) return false;
  ++stats_.introductions_sent;
  introduced_.insert({to, about});
  return true;
}

CoordVerdict Lighthouse::on_introduce(const Message& msg, PeerId peer, Nanos now) {
  if (!is_lighthouse(peer)) return CoordVerdict::not_lighthouse;
  const auto about = peers_.find(msg.key);
  if (!about || is_lighthouse(*about)) return CoordVerdict::unknown_peer;
  paths_.introduced(*about, msg.candidates, now + millis(msg.start_in_ms), now);
  return CoordVerdict::accepted;
}

void Lighthouse::tick(Nanos now, WallTime wall) {
  if (serving_) {
    std::erase_if(reports_, [&](const auto& r) { return now - r.second.at > kReportStale; });
  }
  report_to_lighthouses(now, wall);
  request_introductions(now);
}

void Lighthouse::report_to_lighthouses(Nanos now, WallTime wall) {
  const nat::coord::Candidates mine = candidates();
  const bool changed =
      !(mine.n == last_reported_.n &&
        std::equal(mine.items.begin(), mine.items.begin() + mine.n, last_reported_.items.begin()));
  bool sent_all = true;
  for (PeerId id : peers_.lighthouses()) {
    if (dp_.peers[id].current.load(std::memory_order_relaxed) == 0) {
      sessions_.send_initiation(id, now, wall, false);  // the timers space the retries
      sent_all = false;
      continue;
    }
    auto at = reported_at_.find(id);
    if (!changed && at != reported_at_.end() && now - at->second < kReportPeriod) continue;
    Message m;
    m.type = Type::report;
    m.candidates = mine;
    if (paths_.send(id, m, {}, now)) {
      reported_at_[id] = now;
      ++stats_.reports_sent;
    } else {
      sent_all = false;
    }
  }
  if (sent_all) last_reported_ = mine;
}

void Lighthouse::request_introductions(Nanos now) {
  std::vector<PeerId> lighthouses;
  for (PeerId id : peers_.lighthouses()) {
    if (dp_.peers[id].current.load(std::memory_order_relaxed) != 0) lighthouses.push_back(id);
  }
  if (lighthouses.empty()) return;
  sweep_.next(peers_.end(), [&](PeerId id) {
    if (is_lighthouse(id) || !paths_.wants_introduction(id, now)) return;  // also: no record
    Message m;
    m.type = Type::request;
    m.key = peers_.find(id)->settings.public_key;
    for (PeerId l : lighthouses) {  // any one is enough; duplicates restart nothing (Paths)
      if (paths_.send(l, m, {}, now)) ++stats_.requests_sent;
    }
    paths_.requested(id, now);
  });
}

nat::coord::Candidates Lighthouse::candidates() const {
  nat::coord::Candidates c;
  const std::uint16_t port = dp_.listen_port.load(std::memory_order_relaxed);
  if (public_endpoint_) c.add({*public_endpoint_, CandidateKind::configured});
  if (const Endpoint& r = stun_.client().reflexive().address; r.known()) {
    c.add({r, CandidateKind::reflexive});
  }
  for (const IpAddr& a : {dp_.addr.outer_v4, dp_.addr.outer_v6}) {
    if (a.family != IpAddr::Family::none) c.add({{a, port}, CandidateKind::local});
  }
  if (turn_.client().state() == nat::TurnState::allocated) {
    c.add({turn_.client().allocation().relayed, CandidateKind::relayed});
  }
  return c;
}

bool Lighthouse::is_lighthouse(PeerId peer) const {
  const PeerState* p = peers_.find(peer);
  return p != nullptr && p->settings.lighthouse;
}

void Lighthouse::forget(PeerId peer) {
  std::erase_if(introduced_, [&](const auto& e) { return e.first == peer || e.second == peer; });
  reports_.erase(peer);
  reported_at_.erase(peer);
}

}  // namespace meshgate::control
