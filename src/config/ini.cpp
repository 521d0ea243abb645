#include "meshgate/config/ini.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

namespace meshgate::config {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// One physical line, already stripped of its comment and whitespace.
Status tokenize_line(std::string_view s, std::size_t line, const std::string& source,
                     bool& in_section, std::vector<IniLine>& out) {
  if (s.front() == '[') {
    if (s.back() != ']' || trim(s.substr(1, s.size() - 2)).empty()) {
      return Error{where(source, line) + "malformed section header '" + std::string(s) + "'"};
    }
    out.push_back({line, true, trim(s.substr(1, s.size() - 2)), {}});
    in_section = true;
    return ok_status();
  }
  std::size_t eq = s.find('=');
  // "PublicKey abc=" has an '=' (base64 padding) but no key: keys never contain whitespace.
  if (eq == std::string_view::npos ||
      trim(s.substr(0, eq)).find_first_of(" \t\v\f") != std::string_view::npos) {
    return Error{where(source, line) + "malformed line '" + std::string(s) +
                 "': expected Key = Value"};
  }
  std::string_view key = trim(s.substr(0, eq));
  if (key.empty()) {
    return Error{where(source, line) + "malformed line '" + std::string(s) +
                 "': no key before '='"};
  }
  if (!in_section) {
    return Error{where(source, line) + "key '" + std::string(key) + "' is outside any section"};
  }
  out.push_back({line, false, key, trim(s.substr(eq + 1))});
  return ok_status();
}

}  // namespace

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string where(const std::string& source, std::size_t line) {
  if (line == 0) return source + ": ";
  return source + ":" + std::to_string(line) + ": ";
}

Result<std::string> read_text_file(const std::string& path) {
  // std::error_code's message is strerror's text without strerror's shared buffer.
  auto fail = [&] {
    return Error{path +
                 ": cannot read: " + std::error_code(errno, std::generic_category()).message()};
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return fail();
  std::string text;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get()) != 0) return fail();  // e.g. EISDIR for a directory
  return text;
}

Result<std::vector<IniLine>> tokenize_ini(std::string_view text, const std::string& source) {
  // A UTF-8 byte-order mark, as some editors write one, is not part of the first line.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<IniLine> out;
  bool in_section = false;
  std::size_t line = 0;
  while (!text.empty()) {
    ++line;
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::string_view s = trim(raw.substr(0, raw.find('#')));
    if (s.empty()) continue;
    if (Status st = tokenize_line(s, line, source, in_section, out); !st) return Error{st.error()};
  }
  return out;
}

}  // namespace meshgate::config
