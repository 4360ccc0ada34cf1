// Connection strings: built from configuration, and never showing a password.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "wallet/postgres/conninfo.hpp"

namespace wallet::postgres {
namespace {

// A temporary file with the given content, removed at the end of the test.
class temp_file {
 public:
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/wallet-pg-test-XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << content;
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() { std::remove(path_.c_str()); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(make_conninfo, appends_tls_options_and_the_password_from_a_file) {
  const temp_file secret("p@ss w/rd&=%\n");
  connection_options o;
  o.url = "postgresql://wallet@db.example:5432/wallet";
  o.password_file = secret.path();
  o.sslmode = "verify-full";
  o.sslrootcert = "/etc/ssl/ca.pem";
  o.sslcert = "/etc/ssl/client.pem";
  o.sslkey = "/etc/ssl/client.key";
  o.application_name = "walletd";
  const auto c = make_conninfo(o);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  EXPECT_EQ(c.value(),
            "postgresql://wallet@db.example:5432/wallet?sslmode=verify-full"
            "&sslrootcert=%2Fetc%2Fssl%2Fca.pem&sslcert=%2Fetc%2Fssl%2Fclient.pem"
            "&sslkey=%2Fetc%2Fssl%2Fclient.key&application_name=walletd"
            "&password=p%40ss%20w%2Frd%26%3D%25");
  EXPECT_EQ(conninfo_password(c.value()), "p@ss w/rd&=%") << "libpq reads it back";
  EXPECT_EQ(redact_conninfo(c.value()).find("p%40ss"), std::string::npos);
}

TEST(make_conninfo, keeps_an_existing_query_and_needs_no_options) {
  connection_options o;
  o.url = "postgres://wallet@h/db?connect_timeout=3";
  o.sslmode = "require";
  EXPECT_EQ(make_conninfo(o).value(), "postgres://wallet@h/db?connect_timeout=3&sslmode=require");
  o.sslmode.clear();
  EXPECT_EQ(make_conninfo(o).value(), "postgres://wallet@h/db?connect_timeout=3");
}

TEST(make_conninfo, refuses_bad_configuration_precisely) {
  const temp_file secret("pw\n");
  const temp_file empty("\n");
  const auto refused = [](const connection_options& o) {
    const auto c = make_conninfo(o);
    EXPECT_FALSE(c.ok());
    return c.ok() ? std::string() : c.error().detail;
  };
  connection_options o;
  o.url = "mysql://h/db";
  EXPECT_NE(refused(o).find("postgresql://"), std::string::npos);
  o.url = "postgresql://u:inline@h/db";
  o.password_file = secret.path();
  const std::string twice = refused(o);
  EXPECT_NE(twice.find("both"), std::string::npos) << twice;
  EXPECT_EQ(twice.find("inline"), std::string::npos) << twice;
  o.url = "postgresql://u@h/db";
  o.password_file = empty.path();
  EXPECT_NE(refused(o).find("is empty"), std::string::npos);
  o.password_file = "/nonexistent/wallet-password";
  EXPECT_NE(refused(o).find("cannot be read"), std::string::npos);
  o.password_file.clear();
  o.sslmode = "sometimes";
  EXPECT_NE(refused(o).find("sslmode"), std::string::npos);
  o.sslmode = "require";
  o.url = "postgresql://u@h/db?sslmode=disable";
  EXPECT_NE(refused(o).find("already sets 'sslmode'"), std::string::npos);
  EXPECT_EQ(make_conninfo(o).error().code, errc::invalid_argument);
}

TEST(redact_conninfo, hides_every_form_of_password) {
  EXPECT_EQ(redact_conninfo("postgresql://wallet:s3cret@db:5432/w?sslmode=require"),
            "postgresql://wallet:***@db:5432/w?sslmode=require");
  EXPECT_EQ(redact_conninfo("postgresql://wallet@db/w?password=s3cret&sslmode=require"),
            "postgresql://wallet@db/w?password=***&sslmode=require");
  EXPECT_EQ(redact_conninfo("host=db password='it\\'s a secret' user=wallet"),
            "host=db password=*** user=wallet");
  EXPECT_EQ(redact_conninfo("host=db PASSWORD = s3cret sslpassword=k3y"),
            "host=db PASSWORD = *** sslpassword=***");
  EXPECT_EQ(redact_conninfo("postgresql://wallet@db:5432/w"), "postgresql://wallet@db:5432/w");
  EXPECT_EQ(redact_conninfo("postgresql://u:p@ss@h1,h2/db"), "postgresql://u:***@h1,h2/db");
}

TEST(scrub_secret, removes_the_password_wherever_it_appears) {
  EXPECT_EQ(scrub_secret("auth failed for hunter2 (hunter2)", "hunter2"),
            "auth failed for *** (***)");
  EXPECT_EQ(scrub_secret("connect postgresql://u:hunter2@h/db failed", ""),
            "connect postgresql://u:***@h/db failed");
  EXPECT_EQ(conninfo_password("postgresql://u:p%2Fw@h/db"), "p/w");
  EXPECT_EQ(conninfo_password("host=h password=kv"), "kv");
  EXPECT_EQ(conninfo_password("postgresql://u@h/db"), "");
}

}  // namespace
}  // namespace wallet::postgres
