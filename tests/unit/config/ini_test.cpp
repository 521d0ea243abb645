#include "meshgate/config/ini.hpp"

#include <gtest/gtest.h>

namespace meshgate::config {
namespace {

TEST(Ini, SectionsEntriesCommentsAndLineNumbers) {
  auto r = tokenize_ini(
      "\xEF\xBB\xBF# leading comment\r\n"
      "\n"
      "  [ Interface ]  # a comment after a header\r\n"
      "\tPrivateKey=abc==   \n"
      "vdev = net_af_packet0,iface=lan0 # '=' inside the value is kept\n"
      "   # indented comment\n"
      "DNS =\n",
      "t.ini");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_TRUE((*r)[0].is_section);
  EXPECT_EQ((*r)[0].name, "Interface");
  EXPECT_EQ((*r)[0].line, 3u);
  EXPECT_EQ((*r)[1].name, "PrivateKey");
  EXPECT_EQ((*r)[1].value, "abc==");
  EXPECT_EQ((*r)[1].line, 4u);
  EXPECT_EQ((*r)[2].value, "net_af_packet0,iface=lan0");
  EXPECT_EQ((*r)[2].line, 5u);
  EXPECT_EQ((*r)[3].name, "DNS");
  EXPECT_EQ((*r)[3].value, "");
  EXPECT_EQ((*r)[3].line, 7u);
}

TEST(Ini, Errors) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"[Interface\n", "t.ini:1: malformed section header '[Interface'"},
      {"\n[  ]\n", "t.ini:2: malformed section header '[  ]'"},
      {"[a]\nkey value\n", "t.ini:2: malformed line 'key value': expected Key = Value"},
      {"[a]\nPublicKey abc=\n", "t.ini:2: malformed line 'PublicKey abc=': expected Key = Value"},
      {"[a]\n = value\n", "t.ini:2: malformed line '= value': no key before '='"},
      {"# c\nkey = value\n[a]\n", "t.ini:2: key 'key' is outside any section"},
  };
  for (const Case& c : cases) {
    auto r = tokenize_ini(c.text, "t.ini");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error(), c.error);
  }
}

TEST(Ini, Helpers) {
  EXPECT_EQ(trim(" \t x y \r\n"), "x y");
  EXPECT_TRUE(iequals("AllowedIPs", "allowedips"));
  EXPECT_FALSE(iequals("AllowedIP", "allowedips"));
  EXPECT_EQ(where("f", 0), "f: ");
  EXPECT_EQ(where("f", 12), "f:12: ");
}

TEST(Ini, UnreadableFileNamesItAndTheReason) {
  auto r = read_text_file("/nonexistent-dir/x.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "/nonexistent-dir/x.conf: cannot read: No such file or directory");
  auto d = read_text_file("/");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), "/: cannot read: Is a directory");
}

}  // namespace
}  // namespace meshgate::config
