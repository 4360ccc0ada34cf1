// Two instances side by side over one PostgreSQL database and a private nats-server with the
// partition mappings: each owns half the shards and consumes only their commands, and transfers
// between wallets of different instances complete (or are reversed) through the saga over NATS,
// AML-reviewed transfers too once approved.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "pg_fixture.hpp"
#include "wallet/actors/runtime.hpp"
#include "wallet/engine/review.hpp"
#include "wallet/engine/shard.hpp"
#include "wallet/nats/client.hpp"
#include "wallet/nats/command_consumer.hpp"
#include "wallet/nats/leg_sender.hpp"
#include "wallet/postgres/database.hpp"
#include "wallet/postgres/pg_store.hpp"

namespace wallet::system_test {
namespace {

using namespace std::chrono_literals;
using actors::submit_outcome;

const engine::currency eur = *engine::currency::from_code("EUR");
const engine::currency usd = *engine::currency::from_code("USD");
constexpr std::uint32_t shards = 4;
constexpr std::int64_t opening_balance = 10'000;

// A TCP port nobody listens on right now (the kernel's pick; free again once closed).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // NOLINT: the socket API
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);  // NOLINT: the socket API
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A nats-server of this test alone: the shared one has no mappings (one-instance tests need
// that), and mappings apply to every publisher of a server.
class private_nats {
 public:
  private_nats() {
    dir_ = std::filesystem::temp_directory_path() /
           ("wallet-mi-" + std::to_string(::getpid()) + "-" + std::to_string(free_port()));
    std::filesystem::create_directories(dir_ / "store");
    port_ = free_port();
    const std::string n = std::to_string(shards);
    std::ofstream{dir_ / "nats.conf"}
        << "listen: \"127.0.0.1:" << port_ << "\"\n"
        << "jetstream { store_dir: \"" << (dir_ / "store").string() << "\" }\n"
        << "mappings: {\n"
        << "  \"wallet.cmd.*\": \"wallet.cmdp.{{partition(" << n << ",1)}}.{{wildcard(1)}}\"\n"
        << "  \"wallet.sys.*\": \"wallet.sysp.{{partition(" << n << ",1)}}.{{wildcard(1)}}\"\n"
        << "}\n";
    const std::string conf = (dir_ / "nats.conf").string();
    const std::string log = (dir_ / "nats.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      std::freopen(log.c_str(), "w", stderr);  // NOLINT: the child only execs
      ::execl("/usr/sbin/nats-server", "nats-server", "-c", conf.c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~private_nats() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  private_nats(const private_nats&) = delete;
  private_nats& operator=(const private_nats&) = delete;
  private_nats(private_nats&&) = delete;
  private_nats& operator=(private_nats&&) = delete;

  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// One walletd's worth of parts: runtime over PostgreSQL, NATS client, consumers, leg sender.
struct instance {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<nats::client> client;
  std::shared_ptr<nats::leg_sender> legs;
  std::unique_ptr<actors::runtime> runtime;
  std::unique_ptr<nats::command_consumer> consumer;

  void start(const std::string& url, std::uint32_t index, const postgres::pg_store_settings& base) {
    nats::nats_settings ns;
    ns.url = url;
    ns.partitioned = true;
    ns.shards = shards;
    ns.memory_storage = true;
    ns.connection_name = "walletd-" + std::to_string(index);
    actors::runtime_settings rs;
    rs.shards = shards;
    rs.recovery_scan_interval = 1s;
    for (std::uint32_t s = index; s < shards; s += 2) {
      ns.owned_shards.push_back(s);
      rs.owned_shards.push_back(s);
    }
    auto c = nats::client::connect(ns, {});
    ASSERT_TRUE(c.ok()) << c.error().message;
    client = std::move(c).value();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!client->connected() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(client->connected()) << "the private nats-server did not come up";
    std::optional<nats::nats_error> error = nats::ensure_streams(*client);
    ASSERT_FALSE(error) << error->message;
    legs = std::make_shared<nats::leg_sender>(
        *client, [](std::string_view e) { ADD_FAILURE() << "leg not sent: " << e; });
    error = legs->start();
    ASSERT_FALSE(error) << error->message;
    cfg.set("scheduler.max-threads", std::size_t{2});
    system = std::make_unique<caf::actor_system>(cfg);
    runtime = std::make_unique<actors::runtime>(
        *system, rs,
        [base](std::uint32_t shard) {
          auto s = base;
          s.shard_id = shard;
          return std::make_unique<postgres::pg_store>(s);
        },
        nullptr, actors::runtime::clock{},
        [l = legs](engine::command cmd, actors::completion done) {
          l->send(std::move(cmd), std::move(done));
        });
    auto& rt = *runtime;
    consumer = std::make_unique<nats::command_consumer>(
        *client,
        [&rt](engine::command cmd, actors::command_context context,
              std::function<void(submit_outcome)> done) {
          rt.submit(std::move(cmd), std::move(context), std::move(done));
        },
        nullptr,
        [&rt](engine::command cmd, actors::command_context /*context*/,
              std::function<void(submit_outcome)> done) {
          rt.submit_internal(std::move(cmd), std::move(done));
        });
    error = consumer->start();
    ASSERT_FALSE(error) << error->message;
  }

  void stop() {
    if (consumer) consumer->stop_fetching();
    if (runtime) runtime->stop(5s);
    if (consumer) consumer->stop(2s);
    if (legs) legs->stop();
    if (system) system->await_all_actors_done();
    consumer.reset();
    runtime.reset();
    legs.reset();
    client.reset();
    system.reset();
  }
};

class multi_instance_test : public postgres::testing::pg_test {
 protected:
  void SetUp() override {
    pg_test::SetUp();
    ASSERT_TRUE(postgres::migrate(db()).ok());
    ASSERT_TRUE(postgres::ensure_shard_count(db(), shards).ok());
    server_ = std::make_unique<private_nats>();
    for (std::uint32_t i = 0; i < 2; ++i) {
      instances_[i].start(server_->url(), i, store_settings(0, shards));
      ASSERT_FALSE(HasFatalFailure());
    }
  }

  void TearDown() override {
    for (auto& i : instances_) i.stop();
    server_.reset();
    pg_test::TearDown();
  }

  // The instance owning the wallet's shard (instance i owns the shards s with s mod 2 == i).
  actors::runtime& owner(const std::string& wallet) {
    return *instances_[engine::shard_of(wallet, shards) % 2].runtime;
  }

  submit_outcome run(engine::command c) {
    auto f = owner(c.wallet_id).submit(std::move(c));
    EXPECT_EQ(f.wait_for(20s), std::future_status::ready);
    return f.get();
  }

  // Wallet ids owned by instance `index`.
  static std::vector<std::string> wallets_of(std::uint32_t index, int count) {
    std::vector<std::string> out;
    for (int i = 0; std::cmp_less(out.size(), count); ++i) {
      std::string id = "mi-" + std::to_string(i);
      if (engine::shard_of(id, shards) % 2 == index) out.push_back(std::move(id));
    }
    return out;
  }

  bool settled(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (sql("SELECT count(*) FROM transfers WHERE status = 'pending'")[0][0].as<long>() == 0) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::unique_ptr<private_nats> server_;
  std::array<instance, 2> instances_;
};

TEST_F(multi_instance_test, an_instance_refuses_the_other_instances_wallets) {
  const std::string theirs = wallets_of(1, 1).front();
  auto f = instances_[0].runtime->submit({theirs, "open", engine::open_wallet{"o", eur, 0}});
  EXPECT_EQ(f.get().error, actors::submit_errc::not_owner);
}

TEST_F(multi_instance_test, transfers_between_instances_complete_and_conserve_money) {
  const auto left = wallets_of(0, 4);
  const auto right = wallets_of(1, 4);
  for (const auto* side : {&left, &right}) {
    for (const auto& id : *side) {
      ASSERT_TRUE(run({id, "open", engine::open_wallet{"o", eur, 0}}).accepted());
      ASSERT_TRUE(run({id, "fund", engine::deposit{{opening_balance, eur}}}).accepted());
    }
  }
  const std::string dollars = wallets_of(1, 5).back();  // another currency: credits refused
  ASSERT_TRUE(run({dollars, "open", engine::open_wallet{"o", usd, 0}}).accepted());

  std::vector<std::future<submit_outcome>> debits;
  int n = 0;
  for (int round = 0; round < 10; ++round) {
    for (std::size_t i = 0; i < left.size(); ++i) {
      const std::string a = left[i];
      const std::string b = right[(i + static_cast<std::size_t>(round)) % right.size()];
      const std::int64_t amount = 1 + round;
      debits.push_back(
          owner(a).submit({a, "t" + std::to_string(n),
                           engine::transfer_debit{"tr-" + std::to_string(n), b, {amount, eur}}}));
      ++n;
      debits.push_back(owner(b).submit(
          {b, "t" + std::to_string(n),
           engine::transfer_debit{"tr-" + std::to_string(n), a, {amount * 2, eur}}}));
      ++n;
    }
  }
  debits.push_back(owner(left[0]).submit(
      {left[0], "to-usd", engine::transfer_debit{"tr-usd", dollars, {500, eur}}}));
  for (auto& d : debits) {
    ASSERT_EQ(d.wait_for(20s), std::future_status::ready);
    EXPECT_TRUE(d.get().accepted());
  }

  ASSERT_TRUE(settled(60s)) << "transfers still pending";
  EXPECT_EQ(sql("SELECT count(*) FROM transfers WHERE status = 'completed'")[0][0].as<long>(), n);
  EXPECT_EQ(sql("SELECT status FROM transfers WHERE id = 'tr-usd'")[0][0].as<std::string>(),
            "reversed");
  // Money is conserved: every balance together is what was deposited.
  EXPECT_EQ(sql("SELECT sum(balance) FROM wallets WHERE currency = 'EUR'")[0][0].as<std::int64_t>(),
            opening_balance * 8);
  EXPECT_EQ(sql("SELECT balance FROM wallets WHERE id = '" + dollars + "'")[0][0].as<long>(), 0);
}

// A provider that sends every move it is asked about to review.
class review_everything final : public actors::screening_port {
 public:
  actors::screening_answer screen(const actors::screening_request& /*request*/) override {
    return {engine::screening_verdict::review, {}};
  }
};

// Transfers under AML review (ADR 0009) between instances: held on the source, no saga; the
// approval (on the source's instance, as the admin route submits it) debits the hold in one event,
// and the saga credits the destination on the other instance, or reverses a credit it refuses.
TEST_F(multi_instance_test, an_approved_transfer_under_review_completes_across_instances) {
  const std::string a = wallets_of(0, 1).front();
  const std::string b = wallets_of(1, 1).front();
  const std::string dollars = wallets_of(1, 2).back();
  ASSERT_TRUE(run({a, "open", engine::open_wallet{"o", eur, 0}}).accepted());
  ASSERT_TRUE(run({a, "fund", engine::deposit{{opening_balance, eur}}}).accepted());
  ASSERT_TRUE(run({b, "open", engine::open_wallet{"o", eur, 0}}).accepted());
  ASSERT_TRUE(run({dollars, "open", engine::open_wallet{"o", usd, 0}}).accepted());
  auto setup = std::make_shared<actors::screening_setup>();
  setup->rules.threshold = engine::parse_currency_amounts("*:1").value();
  setup->port = std::make_shared<review_everything>();
  owner(a).compliance().set_screening(std::move(setup));
  engine::feature_flags flags;
  flags.aml_screening = true;
  owner(a).compliance().set_flags(std::make_shared<const engine::feature_flags>(flags));

  const auto approve = [&](const std::string& key, const std::string& transfer_id,
                           const std::string& destination, std::int64_t amount) {
    const std::string id = engine::review_id_of(a, key);
    actors::command_context context;
    context.audit = actors::audit_context{"ops", "checked"};
    std::promise<submit_outcome> decided;
    auto f = decided.get_future();
    owner(a).submit_review_decision(
        {a, engine::review_decision_key(id),
         engine::transfer_debit{
             transfer_id, destination, {amount, eur}, engine::review_hold_id(id)}},
        std::move(context), [&](submit_outcome o) { decided.set_value(std::move(o)); });
    EXPECT_EQ(f.wait_for(20s), std::future_status::ready);
    return f.get();
  };

  const submit_outcome held = run({a, "t-1", engine::transfer_debit{"tr-r1", b, {3'000, eur}}});
  ASSERT_TRUE(held.accepted());
  EXPECT_EQ(held.result.held, 3'000);
  ASSERT_TRUE(run({a, "t-2", engine::transfer_debit{"tr-r2", dollars, {1'000, eur}}}).accepted());
  EXPECT_EQ(sql("SELECT count(*) FROM transfers")[0][0].as<long>(), 0) << "no saga yet";
  EXPECT_EQ(sql("SELECT count(*) FROM aml_reviews WHERE command = 'transfer_debit'"
                " AND status = 'pending'")[0][0]
                .as<long>(),
            2);

  const submit_outcome approved = approve("t-1", "tr-r1", b, 3'000);
  ASSERT_TRUE(approved.accepted());
  EXPECT_EQ(approved.result.balance, opening_balance - 3'000);
  EXPECT_EQ(approved.result.held, 1'000);
  ASSERT_TRUE(approve("t-2", "tr-r2", dollars, 1'000).accepted());
  ASSERT_TRUE(settled(60s)) << "transfers still pending";
  EXPECT_EQ(sql("SELECT status FROM transfers WHERE id = 'tr-r1'")[0][0].as<std::string>(),
            "completed");
  EXPECT_EQ(sql("SELECT status FROM transfers WHERE id = 'tr-r2'")[0][0].as<std::string>(),
            "reversed");
  EXPECT_EQ(sql("SELECT balance FROM wallets WHERE id = '" + b + "'")[0][0].as<long>(), 3'000);
  EXPECT_EQ(sql("SELECT balance || '/' || held FROM wallets WHERE id = '" + a + "'")[0][0]
                .as<std::string>(),
            std::to_string(opening_balance - 3'000) + "/0");
  EXPECT_EQ(sql("SELECT count(*) FROM wallet_holds")[0][0].as<long>(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM aml_reviews WHERE status = 'approved'")[0][0].as<long>(), 2);
}

}  // namespace
}  // namespace wallet::system_test
