// UAPI framing, `get=1` replies and `set=1` requests (protocol.md 9.2-9.4), pure code.
#include "meshgate/control/uapi.hpp"

#include <charconv>

namespace meshgate::control::uapi {

namespace {

bool parse_key(std::string_view v, std::span<std::uint8_t, 32> out) {
  return v.size() == 64 && from_hex(v, out);
}

/// Decimal digits only (no sign, no spaces), at most `max`.
bool parse_uint(std::string_view v, std::uint64_t max, std::uint64_t& out) {
  if (v.empty() || v.size() > 20 || v.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && ptr == v.data() + v.size() && out <= max;
}

void put(std::string& out, std::string_view key, std::string_view value) {
  out.append(key).append("=").append(value).append("\n");
}
void put(std::string& out, std::string_view key, std::uint64_t value) {
  put(out, key, std::to_string(value));
}

}  // namespace

std::string format_get(const DeviceInfo& info) {
  std::string out;
  if (info.private_key) put(out, "private_key", to_hex(info.private_key->span()));
  if (info.listen_port != 0) put(out, "listen_port", info.listen_port);
  if (info.fwmark != 0) put(out, "fwmark", info.fwmark);
  for (const PeerInfo& p : info.peers) {
    put(out, "public_key", to_hex(as_bytes(p.public_key)));
    put(out, "preshared_key", to_hex(p.preshared_key.span()));
    put(out, "protocol_version", 1);
    if (p.endpoint.known()) put(out, "endpoint", p.endpoint.str());
    put(out, "last_handshake_time_sec", static_cast<std::uint64_t>(p.last_handshake.sec));
    put(out, "last_handshake_time_nsec", static_cast<std::uint64_t>(p.last_handshake.nsec));
    put(out, "tx_bytes", p.tx_bytes);
    put(out, "rx_bytes", p.rx_bytes);
    put(out, "persistent_keepalive_interval", p.persistent_keepalive);
    for (const std::string& a : p.allowed_ips) put(out, "allowed_ip", a);
  }
  out += "errno=0\n\n";
  return out;
}

// --- set=1 ---------------------------------------------------------------------------------

int SetRequest::line(std::string_view text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos) return kEproto;
  const std::string_view key = text.substr(0, eq);
  const std::string_view value = text.substr(eq + 1);
  if (key == "public_key") {
    in_peers_ = true;
    return select_peer(value);
  }
  return in_peers_ ? peer_key(key, value) : interface_key(key, value);
}

int SetRequest::interface_key(std::string_view key, std::string_view value) {
  if (key == "private_key") {
    SecretKey k;
    if (!parse_key(value, k.span())) return kEinval;
    return dev_.set_private_key(k);
  }
  if (key == "listen_port") {
    std::uint64_t port = 0;
    if (!parse_uint(value, 65535, port)) return kEinval;
    return dev_.set_listen_port(static_cast<std::uint16_t>(port));
  }
  if (key == "fwmark") {
    std::uint64_t mark = 0;
    if (!parse_uint(value, 0xffffffffu, mark)) return kEinval;
    return dev_.set_fwmark(static_cast<std::uint32_t>(mark));
  }
  if (key == "replace_peers") {
    if (value != "true") return kEinval;
    return dev_.remove_all_peers();
  }
  if (key == kRoleKey) {
    const std::optional<config::Role> role = config::parse_role(value);
    return role ? dev_.set_role(*role) : kEinval;
  }
  return kEinval;  // unknown, get-only, or a peer key before any public_key
}

int SetRequest::finish() {
  if (!replacing_) return 0;
  replacing_ = false;
  std::vector<Prefix> list = std::move(replacement_);
  replacement_.clear();
  return dummy_ ? 0 : dev_.replace_allowed_ips(peer_, list);
}

int SetRequest::select_peer(std::string_view value) {
  Key32 k{};
  if (!parse_key(value, k)) return kEinval;
  if (int rc = finish(); rc != 0) return rc;
  peer_ = k;
  created_ = false;
  // Our own key selects a peer that is never created (protocol.md 9.4); lines for it are checked.
  dummy_ = k == dev_.public_key();
  if (dummy_ || dev_.has_peer(k)) return 0;
  if (int rc = dev_.add_peer(k); rc != 0) return rc;
  created_ = true;
  return 0;
}

int SetRequest::peer_key(std::string_view key, std::string_view value) {
  if (key == "remove" || key == "update_only" || key == "replace_allowed_ips") {
    if (value != "true") return kEinval;
    if (dummy_) return 0;
    if (key == "replace_allowed_ips") {
      replacing_ = true;  // applied with the allowed_ip lines that follow, see finish()
      replacement_.clear();
      return 0;
    }
    if (key == "update_only" && !created_) return 0;
    replacing_ = false;
    dummy_ = true;  // removed: the rest of its lines are checked, not applied
    return dev_.remove_peer(peer_);
  }
  if (key == "preshared_key") {
    SecretKey psk;
    if (!parse_key(value, psk.span())) return kEinval;
    return dummy_ ? 0 : dev_.set_preshared_key(peer_, psk);
  }
  if (key == "endpoint") {
    auto ep = Endpoint::parse(value);
    if (!ep || ep->port == 0) return kEinval;
    return dummy_ ? 0 : dev_.set_endpoint(peer_, *ep);
  }
  if (key == "persistent_keepalive_interval") {
    std::uint64_t s = 0;
    if (!parse_uint(value, 65535, s)) return kEinval;
    return dummy_ ? 0 : dev_.set_persistent_keepalive(peer_, static_cast<std::uint16_t>(s));
  }
  if (key == "allowed_ip") {
    const bool remove = !value.empty() && value.front() == '-';
    if (remove) value.remove_prefix(1);
    // Like wireguard-go's netip.ParsePrefix: the length is required.
    auto p = value.find('/') == std::string_view::npos ? std::nullopt : Prefix::parse(value);
    if (!p) return kEinval;
    if (dummy_) return 0;
    if (replacing_) {
      std::erase(replacement_, *p);
      if (!remove) replacement_.push_back(*p);
      return 0;
    }
    return remove ? dev_.remove_allowed_ip(peer_, *p) : dev_.add_allowed_ip(peer_, *p);
  }
  if (key == "protocol_version") return value == "1" ? 0 : kEinval;
  return kEinval;  // unknown, get-only, or an interface key after a peer
}

// --- framing -------------------------------------------------------------------------------

void Connection::close() {
  if (set_) set_->finish();
  set_.reset();
  state_ = State::idle;
}

bool Connection::feed(std::string_view bytes, std::string& out) {
  partial_.append(bytes);
  std::size_t start = 0;
  bool open = true;
  while (open) {
    const std::size_t nl = partial_.find('\n', start);
    if (nl == std::string::npos) break;
    if (nl - start > kMaxLine) {
      start = partial_.size();
      open = false;
      if (state_ == State::set) {
        close();
        out += "errno=-" + std::to_string(kEio) + "\n\n";
      }
      break;
    }
    open = handle_line(std::string_view(partial_).substr(start, nl - start), out);
    start = nl + 1;
  }
  secure_wipe(partial_.data(), start);  // handled lines may hold key material
  partial_.erase(0, start);
  if (open && partial_.size() > kMaxLine) {
    // A line that never ends: refuse it before it fills memory.
    if (state_ == State::set) {
      close();
      out += "errno=-" + std::to_string(kEio) + "\n\n";
    }
    open = false;
  }
  if (!open) {
    secure_wipe(partial_.data(), partial_.size());
    partial_.clear();
  }
  return open;
}

bool Connection::handle_line(std::string_view line, std::string& out) {
  switch (state_) {
    case State::idle:
      if (line == "get=1") {
        state_ = State::get;
      } else if (line == "set=1") {
        state_ = State::set;
        set_.emplace(dev_);
      } else {
        return false;  // not a UAPI client (wireguard-go closes silently too)
      }
      return true;
    case State::get:
      if (line.empty()) {
        out += format_get(dev_.get());
        state_ = State::idle;
      } else {
        out += "errno=" + std::to_string(kEinval) + "\n\n";  // positive: a get reply
        state_ = State::skip;
      }
      return true;
    case State::set: {
      int rc = line.empty() ? 0 : set_->line(line);
      if (line.empty() || rc != 0) {
        // The request is over: apply what the last peer held back, then answer.
        const int fin = set_->finish();
        if (rc == 0) rc = fin;
        out += rc == 0 ? std::string("errno=0\n\n") : "errno=-" + std::to_string(rc) + "\n\n";
        set_.reset();
        state_ = line.empty() ? State::idle : State::skip;
      }
      return true;
    }
    case State::skip:
      if (line.empty()) state_ = State::idle;
      return true;
  }
  return false;
}

}  // namespace meshgate::control::uapi
