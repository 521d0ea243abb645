// The INI dialect shared by the gateway config file and the DPDK EAL profile.
//
// It follows `wg`'s reading of wg-quick files (protocol.md 10): `[Section]`
// headers, `Key = Value` lines, `#` starts a comment anywhere on a line, whitespace around keys
// and values is ignored, and section and key names are compared case-insensitively by the
// parsers. The tokenizer only splits lines; what keys mean is up to each parser.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/result.hpp"

namespace meshgate::config {

/// One meaningful line of an INI text. Views point into the text given to tokenize_ini().
struct IniLine {
  std::size_t line = 0;     // 1-based line number, for messages
  bool is_section = false;  // true: a `[name]` header; `name` holds the name
  std::string_view name;    // section name (header) or key (entry), trimmed, as written
  std::string_view value;   // entries only: trimmed, may be empty, may contain '='
};

/// Splits `text` into section headers and key/value entries, dropping comments and blank lines.
/// Errors name `source` and the line: a header without its closing ']' or with no name, a line
/// without '=', an empty key, or an entry before the first section header.
Result<std::vector<IniLine>> tokenize_ini(std::string_view text, const std::string& source);

/// Whitespace trimmed from both ends (space, tab, CR, LF, VT, FF).
std::string_view trim(std::string_view s) noexcept;

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// The whole file, or "path: cannot read: <strerror>".
Result<std::string> read_text_file(const std::string& path);

/// "file:line: " for messages (or "file: " when line is 0).
std::string where(const std::string& source, std::size_t line);

}  // namespace meshgate::config
