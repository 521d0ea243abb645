// The TURN relay on the control thread (turn.hpp).
#include "meshgate/control/turn.hpp"

#include <string>

#include "meshgate/nat/stun.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::control {

namespace {

/// The frame's UDP payload and source, or nullopt when it is not a UDP frame we can read.
struct Udp {
  const std::uint8_t* payload;
  std::size_t len;
  Endpoint src;
};
std::optional<Udp> udp_of(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const wire::FrameInfo f = wire::classify_frame(p, m->data_len);
  if (!f.ok()) return std::nullopt;
  return Udp{p + f.payload_off, f.payload_len,
             Endpoint{f.is_v6() ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port}};
}

/// A Data indication (RFC 8656 11.4): what the server sends for a permitted peer with no channel.
bool is_data_indication(const std::uint8_t* p, std::size_t len) noexcept {
  return nat::stun::demux(p, len).kind == nat::stun::PayloadKind::stun &&
         load_be16(p) ==
             nat::stun::message_type(nat::stun::Method::data, nat::stun::Class::indication);
}

}  // namespace

void TurnRelay::configure(nat::TurnServerConfig cfg, Nanos now) {
  client_.configure(std::move(cfg), now);
}

void TurnRelay::tick(Nanos now) {
  if (client_.state() == nat::TurnState::idle) return;
  for (const nat::TurnRequest& r : client_.poll(now)) send(r, now);
  log_events();
}

void TurnRelay::send(const nat::TurnRequest& r, Nanos now) {
  // Best effort (TOS 0), like STUN: a retransmission covers a lost request.
  const Transmitter::Frame f = tx_.udp_frame(r.to, r.bytes.data(), r.len, /*tos=*/0);
  if (f.m == nullptr) {
    ++stats_.not_sent;
    return;
  }
  neighbours_.send(f.m, PortRole::outer, f.next_hop, now);
}

bool TurnRelay::claims(const rte_mbuf* m) const noexcept {
  if (client_.state() == nat::TurnState::idle) return false;
  const auto u = udp_of(m);
  if (!u || !client_.is_server(u->src)) return false;
  return (nat::stun::demux(u->payload, u->len).kind == nat::stun::PayloadKind::stun &&
          client_.expects(u->payload, u->len)) ||
         is_data_indication(u->payload, u->len);
}

void TurnRelay::handle(rte_mbuf* m, Nanos now) {
  const auto u = udp_of(m);
  if (u && is_data_indication(u->payload, u->len)) {
    on_data_indication(u->payload, u->len, now);
    rte_pktmbuf_free(m);
    log_events();
    return;
  }
  // Counted twice when rejected, as in StunDiscovery: by verdict, and as a control-plane drop.
  // A 401 or 438 is the protocol's ordinary path, not a rejection.
  const nat::TurnVerdict v =
      u ? client_.on_message(u->payload, u->len, u->src, now) : nat::TurnVerdict::malformed;
  if (v != nat::TurnVerdict::none && v != nat::TurnVerdict::challenge &&
      v != nat::TurnVerdict::stale_nonce) {
    drops_.add(dataplane::Drop::control_rejected);
    log_.drop(nat::to_string(v), nat::describe(v));
  }
  rte_pktmbuf_free(m);
  log_events();
}

void TurnRelay::on_data_indication(const std::uint8_t* payload, std::size_t len, Nanos now) {
  nat::stun::Message msg;
  Result<Endpoint> peer = Error{"unparsed"};
  if (nat::stun::parse(payload, len, msg) == nat::stun::ParseError::none) {
    peer = nat::stun::get_xor_address(msg, nat::stun::attr::kXorPeerAddress);
  }
  if (!peer || !client_.permitted(peer->addr)) {
    // The server relays only what a permission lets in, so this is not a peer of ours.
    ++stats_.data_unpermitted;
    drops_.add(dataplane::Drop::control_rejected);
    log_.drop("turn_data_unpermitted",
              "a TURN Data indication from a peer address without a permission of ours");
    return;
  }
  ++stats_.data_indications;
  client_.bind_channel(*peer, now);
}

void TurnRelay::log_events() {
  const std::string server = client_.config().server.str();
  for (const nat::TurnEvent& e : client_.take_events()) {
    switch (e.kind) {
      case nat::TurnEvent::Kind::allocated:
        log_.line("TURN relayed address %s (server %s, lifetime %u s)", e.relayed.str().c_str(),
                  server.c_str(), static_cast<unsigned>(e.lifetime));
        break;
      case nat::TurnEvent::Kind::refreshed:
        break;  // every nine minutes: the metrics count them, the log would only fill up
      case nat::TurnEvent::Kind::failed:
        if (e.error_code == 0) {
          log_.line("TURN server %s: %s failed: %s", server.c_str(), e.what, e.reason.c_str());
        } else {
          log_.line("TURN server %s refused %s: error %u %s", server.c_str(), e.what,
                    static_cast<unsigned>(e.error_code), e.reason.c_str());
        }
        break;
      case nat::TurnEvent::Kind::permission_created:
        log_.line("TURN permission for %s (server %s)", e.peer.addr.str().c_str(), server.c_str());
        break;
      case nat::TurnEvent::Kind::channel_bound:
        log_.line("TURN channel 0x%04x bound to %s (server %s)", e.channel, e.peer.str().c_str(),
                  server.c_str());
        break;
    }
  }
}

}  // namespace meshgate::control
