// State sync of a high-availability pair (ha_sync.hpp): the frames, the snapshot comparison,
// the standby's listener and the active's connection to it.
#include "meshgate/control/ha_sync.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "meshgate/control/control.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/blake2s.hpp"
#include "meshgate/crypto/random.hpp"

namespace meshgate::control {

namespace ha_sync {

namespace {

constexpr std::string_view kKeyLabel = "meshgate ha sync key";
constexpr std::size_t kLengthLen = 4;

bool same(const PeerRecord& a, const PeerRecord& b) {
  const bool same_psk = a.preshared_key.has_value() == b.preshared_key.has_value() &&
                        (!a.preshared_key || a.preshared_key->ct_equals(*b.preshared_key));
  return same_psk && a.endpoint == b.endpoint && a.persistent_keepalive == b.persistent_keepalive &&
         a.allowed_ips == b.allowed_ips;
}

}  // namespace

SecretKey connection_key(const SecretKey& private_key, ByteSpan active_random,
                         ByteSpan standby_random) {
  SecretKey key;
  const auto* label = reinterpret_cast<const std::uint8_t*>(kKeyLabel.data());
  crypto::blake2s_keyed(key.span(), private_key.span(),
                        {ByteSpan(label, kKeyLabel.size()), active_random, standby_random});
  return key;
}

void seal_frame(std::string& out, const SecretKey& key, std::uint64_t counter,
                std::string_view payload) {
  const std::size_t at = out.size();
  out.resize(at + kLengthLen + payload.size() + crypto::kAeadTagLen);
  auto* p = reinterpret_cast<std::uint8_t*>(out.data() + at);
  store_be32(p, static_cast<std::uint32_t>(payload.size()));
  crypto::aead_seal(p + kLengthLen, key, counter,
                    reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size(), {});
}

FrameReader::~FrameReader() {
  secure_wipe(buf_.data(), buf_.size());
}

FrameReader::Result FrameReader::next(std::string& payload) {
  if (buf_.size() < kLengthLen) return Result::need_more;
  const std::size_t n = load_be32(buf_.data());
  if (n > kMaxPayload) return Result::bad;
  if (buf_.size() < kLengthLen + n + crypto::kAeadTagLen) return Result::need_more;
  payload.resize(n);
  const auto* sealed = reinterpret_cast<const std::uint8_t*>(buf_.data() + kLengthLen);
  if (!crypto::aead_open(reinterpret_cast<std::uint8_t*>(payload.data()), key_, counter_, sealed, n,
                         {})) {
    secure_wipe(payload.data(), payload.size());
    payload.clear();
    return Result::bad;
  }
  ++counter_;
  const std::size_t used = kLengthLen + n + crypto::kAeadTagLen;
  secure_wipe(buf_.data(), used);
  buf_.erase(0, used);
  return Result::frame;
}

std::string peer_section(const PeerRecord& p) {
  std::string s = "public_key=" + to_hex(as_bytes(p.public_key)) + "\n";
  s += "preshared_key=" + (p.preshared_key ? to_hex(p.preshared_key->span())
                                           : std::string(2 * SecretKey::size(), '0'));
  s += "\n";
  if (p.endpoint.known() && !p.endpoint.relayed()) s += "endpoint=" + p.endpoint.str() + "\n";
  s += "persistent_keepalive_interval=" + std::to_string(p.persistent_keepalive) + "\n";
  s += "replace_allowed_ips=true\n";
  for (const std::string& a : p.allowed_ips) s += "allowed_ip=" + a + "\n";
  return s;
}

void Snapshot::begin(const Interface& iface, bool full) {
  ++round_;
  full_ = full;
  cur_.clear();
  bodies_.clear();
  if (full) {
    sent_.clear();
    iface_.reset();
    cur_.append(kFullBegin).append("\n");
  }
  if (!iface_ || !(*iface_ == iface)) {
    cur_ += "listen_port=" + std::to_string(iface.listen_port) + "\n";
    cur_ += "fwmark=" + std::to_string(iface.fwmark) + "\n";
    iface_ = iface;
  }
}

void Snapshot::add(PeerRecord p) {
  auto [it, fresh] = sent_.try_emplace(p.public_key);
  it->second.round = round_;
  if (!fresh && same(it->second.record, p)) return;
  if (cur_.size() >= kFrameTarget) bodies_.push_back(std::exchange(cur_, {}));
  cur_ += peer_section(p);
  it->second.record = std::move(p);
}

std::vector<std::string> Snapshot::take(bool last) {
  if (last) {
    for (auto it = sent_.begin(); it != sent_.end();) {
      if (it->second.round == round_) {
        ++it;
        continue;
      }
      cur_ += "public_key=" + to_hex(as_bytes(it->first)) + "\nremove=true\n";
      it = sent_.erase(it);
    }
    if (full_) cur_.append(kFullEnd).append("\n");
  }
  // What is due goes now, not at the end of the pass: a roamed peer's endpoint should not wait
  // for the pass through every other peer.
  if (!cur_.empty()) bodies_.push_back(std::exchange(cur_, {}));
  return std::exchange(bodies_, {});
}

std::vector<std::string> Snapshot::changes(const Interface& iface, std::vector<PeerRecord> peers,
                                           bool full) {
  begin(iface, full);
  for (PeerRecord& p : peers) add(std::move(p));
  return take(true);
}

Applier::Outcome Applier::apply(std::string_view payload) {
  Outcome out;
  uapi::SetRequest req(dev_);
  bool full_end = false;
  std::string_view rest = payload;
  while (out.rc == 0 && !rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view text = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!text.empty()) out.rc = line(req, text, out, full_end);
  }
  const int fin = req.finish();
  if (out.rc == 0) out.rc = fin;
  if (out.rc == 0 && full_end) out.removed = remove_unseen();
  return out;
}

int Applier::line(uapi::SetRequest& req, std::string_view text, Outcome& out, bool& full_end) {
  if (text == kFullBegin) {
    full_ = true;
    seen_.clear();
    return 0;
  }
  if (text == kFullEnd) {
    full_end = full_;
    return 0;
  }
  if (text.starts_with(uapi::kRoleKey)) return uapi::kEinval;  // keepalived's, not the partner's
  const int rc = req.line(text);
  constexpr std::string_view kPeer = "public_key=";
  if (rc == 0 && text.starts_with(kPeer)) {
    ++out.peers;
    Key32 k{};
    if (full_ && from_hex(text.substr(kPeer.size()), k)) seen_.insert(k);
  }
  return rc;
}

std::size_t Applier::remove_unseen() {
  full_ = false;
  std::size_t removed = 0;
  for (const uapi::PeerInfo& p : dev_.get().peers) {
    if (seen_.count(p.public_key) != 0) continue;
    dev_.remove_peer(p.public_key);
    ++removed;
  }
  seen_.clear();
  return removed;
}

}  // namespace ha_sync

namespace {

std::string errno_text() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): only the control thread formats these messages
  return std::strerror(errno);
}

/// A peer as the standby needs it, from the control thread's tables; nullopt: it is gone.
std::optional<ha_sync::PeerRecord> record_of(const Control& c, PeerId id) {
  const PeerState* peer = c.peers().find(id);
  if (peer == nullptr) return std::nullopt;
  const PeerSettings& s = peer->settings;
  ha_sync::PeerRecord r;
  r.public_key = s.public_key;
  r.preshared_key = s.preshared_key;
  r.endpoint = s.endpoint;
  r.persistent_keepalive = s.persistent_keepalive;
  r.allowed_ips = c.config().allowed_ips(id);
  return r;
}

}  // namespace

/// The standby's end of one connection: the hello, then frames to apply.
class StateSync::Session : public StreamServer::Session {
 public:
  explicit Session(StateSync& sync) : sync_(sync), applier_(sync.dev_) {}
  ~Session() override { secure_wipe(hello_.data(), hello_.size()); }

  bool on_data(std::string_view in, std::string& out) override {
    if (!reader_) {
      const std::size_t take = std::min(in.size(), ha_sync::kHelloLen - hello_.size());
      hello_.append(in.substr(0, take));
      in.remove_prefix(take);
      if (hello_.size() < ha_sync::kHelloLen) return true;
      if (!answer_hello(out)) return refuse("a hello that is not the partner's");
    }
    reader_->append(in);
    std::string payload;
    for (;;) {
      const auto r = reader_->next(payload);
      if (r == ha_sync::FrameReader::Result::need_more) return true;
      if (r == ha_sync::FrameReader::Result::bad) return refuse("a frame that failed its check");
      sync_.apply(payload, applier_);
      secure_wipe(payload.data(), payload.size());
    }
  }

 private:
  bool answer_hello(std::string& out) {
    const noise::StaticIdentity& id = sync_.control_.sessions().identity();
    if (std::string_view(hello_).substr(0, ha_sync::kMagic.size()) != ha_sync::kMagic ||
        !id.has_private_key) {
      return false;
    }
    std::uint8_t mine[ha_sync::kRandomLen];
    crypto::random_bytes(mine, sizeof mine);
    out.append(ha_sync::kMagic);
    out.append(reinterpret_cast<const char*>(mine), sizeof mine);
    const auto* theirs =
        reinterpret_cast<const std::uint8_t*>(hello_.data()) + ha_sync::kMagic.size();
    reader_.emplace(ha_sync::connection_key(id.private_key, ByteSpan(theirs, ha_sync::kRandomLen),
                                            ByteSpan(mine, sizeof mine)));
    return true;
  }
  bool refuse(const char* what) {
    ++sync_.stats_.refused;
    sync_.control_.log().drop("ha_sync_refused",
                              std::string("ha sync: connection closed after ") + what);
    return false;
  }

  StateSync& sync_;
  ha_sync::Applier applier_;
  std::string hello_;
  std::optional<ha_sync::FrameReader> reader_;
};

Result<std::unique_ptr<StateSync>> StateSync::open(Control& control, uapi::Device& dev,
                                                   std::optional<Endpoint> listen,
                                                   std::optional<Endpoint> partner) {
  std::unique_ptr<StateSync> s(new StateSync(control, dev));
  if (listen) {
    auto fd = listen_tcp(listen->str());
    if (!fd) return Error{"SyncListen: " + fd.error()};
    StateSync* self = s.get();
    s->server_ = std::make_unique<StreamServer>(
        *fd, [self] { return std::make_unique<StateSync::Session>(*self); });
  }
  s->partner_ = partner;
  return s;
}

StateSync::~StateSync() {
  if (fd_ >= 0) ::close(fd_);
  secure_wipe(out_.data(), out_.size());
}

unsigned StateSync::poll(Nanos now) {
  unsigned work = server_ ? server_->poll(now) : 0;
  return work + poll_partner(now);
}

void StateSync::apply(std::string_view payload, ha_sync::Applier& applier) {
  if (payload.empty()) return;  // a heartbeat
  if (!control_.standby()) {
    // Both active for a moment (a takeover in progress): our own state wins.
    ++stats_.frames_ignored;
    control_.log().drop("ha_sync_ignored", "ha sync: a frame from the partner while active");
    return;
  }
  const ha_sync::Applier::Outcome out = applier.apply(payload);
  ++stats_.frames_applied;
  if (out.rc != 0) {
    ++stats_.lines_refused;
    control_.log().line("ha sync: a change from the partner was refused (errno %d)", out.rc);
    return;
  }
  control_.log().line("ha sync: %zu peer change(s) from the active partner", out.peers);
  if (out.removed != 0) {
    control_.log().line("ha sync: %zu peer(s) the active partner does not have removed",
                        out.removed);
  }
}

unsigned StateSync::poll_partner(Nanos now) {
  if (!partner_) return 0;
  if (control_.standby()) {
    if (link_ != Link::down) close_partner(now, "this gateway is standby");
    return 0;
  }
  switch (link_) {
    case Link::down:
      if (now < next_try_) return 0;
      start_connect(now);
      return 1;
    case Link::connecting:
    case Link::hello_sent:
      return advance_link(now) ? 1 : 0;
    case Link::up:
      return send_due(now) ? 1 : 0;
  }
  return 0;
}

void StateSync::start_connect(Nanos now) {
  next_try_ = now + ha_sync::kRetry;
  if (!control_.sessions().identity().has_private_key) return;  // nothing to key the link with
  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(*partner_, ss);
  fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0 ||
      (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)) {
    close_partner(now, errno_text());
    return;
  }
  link_ = Link::connecting;
  connect_started_ = now;
}

bool StateSync::advance_link(Nanos now) {
  // The rest of our hello first: the standby answers only a whole one.
  if (link_ == Link::hello_sent && !out_.empty() && !flush(now)) return true;
  pollfd p{fd_, static_cast<short>(link_ == Link::connecting ? POLLOUT : POLLIN), 0};
  if (::poll(&p, 1, 0) <= 0) {
    if (now - connect_started_ < ha_sync::kConnectTimeout) return false;
    close_partner(now, "no answer");
    return true;
  }
  if (link_ == Link::connecting) {
    int err = 0;
    socklen_t l = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
      errno = err;
      close_partner(now, errno_text());
      return true;
    }
    crypto::random_bytes(my_random_, sizeof my_random_);
    out_.assign(ha_sync::kMagic);
    out_.append(reinterpret_cast<const char*>(my_random_), sizeof my_random_);
    link_ = Link::hello_sent;
    return flush(now);
  }
  char buf[ha_sync::kHelloLen];
  const ssize_t n = ::recv(fd_, buf, ha_sync::kHelloLen - in_.size(), 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    close_partner(now, n == 0 ? "closed by the partner" : errno_text());
    return true;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  if (in_.size() < ha_sync::kHelloLen) return true;
  if (std::string_view(in_).substr(0, ha_sync::kMagic.size()) != ha_sync::kMagic) {
    close_partner(now, "its hello is not a meshgate sync hello");
    return true;
  }
  const auto* theirs = reinterpret_cast<const std::uint8_t*>(in_.data()) + ha_sync::kMagic.size();
  key_ = ha_sync::connection_key(control_.sessions().identity().private_key,
                                 ByteSpan(my_random_, sizeof my_random_),
                                 ByteSpan(theirs, ha_sync::kRandomLen));
  in_.clear();
  counter_ = 0;
  link_ = Link::up;
  ++stats_.connections;
  logged_unreachable_ = false;
  control_.log().line("ha sync: connected to partner %s", partner_->str().c_str());
  return send_due(now);
}

bool StateSync::send_due(Nanos now) {
  // The standby sends nothing after its hello: a read that ends says it went away.
  char b = 0;
  const ssize_t r = ::recv(fd_, &b, 1, MSG_DONTWAIT);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
    close_partner(now, r == 0 ? "closed by the partner" : errno_text());
    return true;
  }
  bool sent = false;
  // A new connection starts a full pass at once, abandoning one in progress; the next pass
  // starts a period after the last one started, or when it ends if it took longer.
  if (counter_ == 0 || (!pass_open_ && now - last_compare_ >= ha_sync::kSyncPeriod)) {
    last_compare_ = now;
    snapshot_.begin({control_.config().listen_port(), control_.config().fwmark()}, counter_ == 0);
    pass_ = control_.peers().ids();
    pass_at_ = 0;
    pass_open_ = true;
  }
  if (pass_open_) {
    const std::size_t end = std::min(pass_at_ + ha_sync::kPassSlice, pass_.size());
    for (; pass_at_ < end; ++pass_at_) {
      if (auto rec = record_of(control_, pass_[pass_at_])) snapshot_.add(std::move(*rec));
    }
    pass_open_ = pass_at_ < pass_.size();
    if (!pass_open_) pass_.clear();
    for (std::string& body : snapshot_.take(!pass_open_)) {
      ha_sync::seal_frame(out_, key_, counter_++, body);
      secure_wipe(body.data(), body.size());
      ++stats_.frames_sent;
      sent = true;
    }
  }
  if (!sent && now - last_sent_ >= ha_sync::kHeartbeat) {
    ha_sync::seal_frame(out_, key_, counter_++, {});
    ++stats_.frames_sent;
    sent = true;
  }
  if (sent) last_sent_ = now;
  if (out_.size() > ha_sync::kMaxBacklog) {
    close_partner(now, "it does not read what is sent");
    return true;
  }
  // A pass in progress is work still to do: the control thread does not sleep between slices.
  return flush(now) && (sent || pass_open_);
}

bool StateSync::flush(Nanos now) {
  while (!out_.empty()) {
    const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      close_partner(now, errno_text());
      return false;
    }
    secure_wipe(out_.data(), static_cast<std::size_t>(n));
    out_.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

void StateSync::close_partner(Nanos now, const std::string& why) {
  if (link_ == Link::up) {
    control_.log().line("ha sync: connection to partner %s closed: %s", partner_->str().c_str(),
                        why.c_str());
  } else if (!logged_unreachable_) {
    // Once per outage: a standby that is down is retried every kRetry.
    control_.log().line("ha sync: cannot reach partner %s: %s; retrying every second",
                        partner_->str().c_str(), why.c_str());
    logged_unreachable_ = true;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  link_ = Link::down;
  next_try_ = now + ha_sync::kRetry;
  secure_wipe(out_.data(), out_.size());
  out_.clear();
  in_.clear();
}

}  // namespace meshgate::control
