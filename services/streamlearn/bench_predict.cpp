// `streamlearn bench predict`: POST /v1/predict while the stream learns at full speed.
// One run, three passes over the same events on the embedded broker, each by a fresh
// pipeline (its own group and state): the stream alone, then with clients sending single
// events, then batches, as fast as they are answered. Printed: requests/s, events predicted/s,
// p50 and p99 latency of the requests, and the stream's events/s beside the stream alone's.
// Clients are plain blocking keep-alive sockets (one request in flight each), so the
// latency is the server's answer time plus loopback.

#include "bench_predict.hpp"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "service_support.hpp"
#include "streamlearn/http/server.hpp"
#include "streamlearn/kafka/kafka.hpp"
#include "streamlearn/offline/synthetic.hpp"
#include "streamlearn/pipeline/config.hpp"
#include "streamlearn/pipeline/probe.hpp"
#include "streamlearn/pipeline/runner.hpp"

namespace streamlearn::cli {
namespace {

namespace pl = streamlearn::pipeline;
using Clock = std::chrono::steady_clock;

struct PredictBenchOptions {
  uint64_t events = 200000;  // as `streamlearn bench`: under the mock broker's 5 MiB per partition
  int partitions = 8;
  int clients = 2;
  int batch = 32;
  uint64_t seed = 7;
};

// One keep-alive HTTP/1.1 connection to 127.0.0.1, one request at a time.
class PredictClient {
 public:
  explicit PredictClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) close();
  }
  ~PredictClient() { close(); }
  PredictClient(const PredictClient&) = delete;
  PredictClient& operator=(const PredictClient&) = delete;

  // The answer's status, or 0 when the connection failed.
  int post(const std::string& body) {
    if (fd_ < 0) return 0;
    request_ = fmt::format("POST /v1/predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                           "Content-Length: {}\r\n\r\n",
                           body.size());
    request_ += body;
    for (size_t sent = 0; sent < request_.size();) {
      const ssize_t n = ::send(fd_, request_.data() + sent, request_.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return close();
      sent += static_cast<size_t>(n);
    }
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!receive()) return close();
    }
    const int status = std::atoi(buffer_.c_str() + buffer_.find(' ') + 1);
    size_t length = 0;
    for (size_t at = 0; at < header_end;) {
      const size_t eol = buffer_.find("\r\n", at);
      if (strncasecmp(buffer_.c_str() + at, "content-length:", 15) == 0) {
        length = std::strtoull(buffer_.c_str() + at + 15, nullptr, 10);
      }
      at = eol + 2;
    }
    while (buffer_.size() < header_end + 4 + length) {
      if (!receive()) return close();
    }
    buffer_.erase(0, header_end + 4 + length);
    return status;
  }

 private:
  bool receive() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return 0;
  }

  int fd_ = -1;
  std::string request_, buffer_;
};

struct PassResult {
  double stream_events_per_s = 0;
  uint64_t requests = 0, failed = 0;
  double seconds = 0;  // while the clients ran
  std::vector<double> latency_us;
};

// One pipeline over the whole input, with `clients` clients sending `bodies` in turn from
// its first consumed event to its last (none: the stream alone).
Result<PassResult> RunPass(const std::string& bootstrap, const PredictBenchOptions& o, const std::string& name,
                           int clients, const std::vector<std::string>& bodies) {
  pl::PipelineConfig config;
  config.kafka.bootstrap_servers = bootstrap;
  config.kafka.group_id = "bench-predict-" + name;
  config.kafka.events_topic = "bench-in";
  config.http.port = 0;
  config.state.dir =
      (std::filesystem::temp_directory_path() / fmt::format("streamlearn-bench-predict-{}", std::random_device{}())).string();
  struct RemoveDir {
    std::string dir;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove_dir{config.state.dir};
  pl::PipelineProbe probe(std::make_shared<prometheus::Registry>());
  auto runner = pl::KafkaRunner::Create(config, &probe);
  if (!runner.ok()) return runner.status();
  pl::KafkaRunner* r = runner->get();
  auto server = StartHttp(config.http, probe, [r] { return r->status_json(); }, [] { return true; }, r);
  if (!server) return Status::Internal("the HTTP server did not start");

  std::atomic<bool> stop{false}, load_stop{false};
  Status run_status;
  std::thread thread([&] { run_status = r->run(stop); });
  Clock::time_point first{};
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (Clock::now() < deadline && r->status().processor.messages == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  first = Clock::now();

  std::vector<PassResult> per_client(static_cast<size_t>(clients));
  std::vector<std::thread> load;
  const uint16_t port = server->port();
  for (int c = 0; c < clients; ++c) {
    load.emplace_back([&, c] {
      PassResult& mine = per_client[static_cast<size_t>(c)];
      PredictClient client(port);
      for (size_t i = static_cast<size_t>(c); !load_stop.load(std::memory_order_relaxed); i += static_cast<size_t>(clients)) {
        const auto begin = Clock::now();
        const int status = client.post(bodies[i % bodies.size()]);
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - begin).count();
        if (status == 200) {
          mine.requests++;
          mine.latency_us.push_back(us);
        } else {
          mine.failed++;
          if (status == 0) break;  // the connection is gone
        }
      }
    });
  }
  while (Clock::now() < deadline && run_status.ok() && r->status().processor.messages < o.events) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto end = Clock::now();
  load_stop = true;
  for (auto& t : load) t.join();
  stop = true;
  thread.join();
  server->stop();
  SL_RETURN_IF_ERROR(run_status);
  const uint64_t processed = r->status().processor.messages;
  if (processed < o.events) {
    return Status::Internal(fmt::format("{}: the pipeline processed only {} of {} messages", name, processed, o.events));
  }
  PassResult out;
  out.seconds = std::chrono::duration<double>(end - first).count();
  out.stream_events_per_s = static_cast<double>(processed) / out.seconds;
  for (auto& c : per_client) {
    out.requests += c.requests;
    out.failed += c.failed;
    out.latency_us.insert(out.latency_us.end(), c.latency_us.begin(), c.latency_us.end());
  }
  std::sort(out.latency_us.begin(), out.latency_us.end());
  return out;
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())))];
}

int RunPredictBench(const PredictBenchOptions& o) {
  auto broker = kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return LogAndFail(broker.status());
  const std::string bootstrap = (*broker)->bootstrap_servers();
  for (const char* topic : {"bench-in", "predictions", "drift", "dlq"}) {
    Status st = (*broker)->create_topic(topic, o.partitions);
    if (!st.ok()) return LogAndFail(st);
  }
  // The input, produced once; a sample of it is what the clients send.
  std::vector<std::string> singles, batches;
  {
    pl::SyntheticOptions synth;
    synth.events = o.events;
    synth.seed = o.seed;
    synth.invalid_share = 0;
    pl::SyntheticSeaStream stream(synth);
    auto producer = kafka::Producer::Create({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    if (!producer.ok()) return LogAndFail(producer.status());
    std::string key, payload;
    bool valid = false;
    while (stream.next(&key, &payload, &valid)) {
      Status st = (*producer)->produce("bench-in", key, payload);
      if (!st.ok()) return LogAndFail(st);
      if (singles.size() < 4096) singles.push_back(payload);
    }
    Status st = (*producer)->flush(60000);
    if (!st.ok()) return LogAndFail(st);
    for (size_t i = 0; i + static_cast<size_t>(o.batch) <= singles.size(); i += static_cast<size_t>(o.batch)) {
      std::string array = "[";
      for (int j = 0; j < o.batch; ++j) array += (j ? "," : "") + singles[i + static_cast<size_t>(j)];
      batches.push_back(array + "]");
    }
  }
  std::cout << fmt::format("predict bench: {} SEA events in {} partitions on the embedded broker; {} client(s), "
                           "one request in flight each; a fresh pipeline per pass",
                           o.events, o.partitions, o.clients)
            << std::endl;
  // The stream alone before and after the loaded passes: the first pass over the input
  // also warms up the broker and the page cache, so it alone would flatter the ratio.
  auto alone = RunPass(bootstrap, o, "alone", 0, {});
  if (!alone.ok()) return LogAndFail(alone.status());
  std::cout << fmt::format("stream alone (first pass):   {:>9.0f} events/s", alone->stream_events_per_s) << std::endl;
  std::vector<std::pair<std::string, PassResult>> loaded;
  struct Load {
    const char* name;
    const std::vector<std::string>* bodies;
    int events_per_request;
  };
  for (const Load& load : {Load{"single", &singles, 1}, Load{"batch", &batches, o.batch}}) {
    auto pass = RunPass(bootstrap, o, load.name, o.clients, *load.bodies);
    if (!pass.ok()) return LogAndFail(pass.status());
    if (pass->requests == 0) return LogAndFail(Status::Internal(fmt::format("no {} request was answered 200", load.name)));
    loaded.emplace_back(load.events_per_request == 1 ? std::string("single events")
                                                     : fmt::format("batches of {}", load.events_per_request),
                        std::move(pass).value());
  }
  auto again = RunPass(bootstrap, o, "alone-again", 0, {});
  if (!again.ok()) return LogAndFail(again.status());
  std::cout << fmt::format("stream alone (last pass):    {:>9.0f} events/s", again->stream_events_per_s) << std::endl;
  const double reference = (alone->stream_events_per_s + again->stream_events_per_s) / 2;
  for (size_t i = 0; i < loaded.size(); ++i) {
    const PassResult& pass = loaded[i].second;
    const int per_request = i == 0 ? 1 : o.batch;
    const double rps = static_cast<double>(pass.requests) / pass.seconds;
    std::cout << fmt::format("predict, {:<17} {:>7.0f} requests/s ({:.0f} events/s), latency p50 {:.0f} us, p99 {:.0f} us "
                             "({} requests, {} failed); stream meanwhile {:.0f} events/s = {:.2f} x alone (mean of both)",
                             loaded[i].first + ":", rps, rps * per_request, Quantile(pass.latency_us, 0.5),
                             Quantile(pass.latency_us, 0.99), pass.requests, pass.failed, pass.stream_events_per_s,
                             pass.stream_events_per_s / reference)
              << std::endl;
  }
  return 0;
}

}  // namespace

std::function<int()> AddBenchPredictCommand(CLI::App& bench) {
  auto options = std::make_shared<PredictBenchOptions>();
  auto* predict = bench.add_subcommand(
      "predict", "POST /v1/predict (single events and batches) while the stream learns at full speed: requests/s, "
                 "p50/p99 latency, and the stream's events/s against the stream alone");
  predict->add_option("--events", options->events, "Events per pass (three passes)")
      ->capture_default_str()
      ->check(CLI::Range(1000, 1000000));
  predict->add_option("--partitions", options->partitions, "Partitions")->capture_default_str()->check(CLI::Range(1, 64));
  predict->add_option("--clients", options->clients, "Concurrent clients")->capture_default_str()->check(CLI::Range(1, 32));
  predict->add_option("--batch", options->batch, "Events per batch request")->capture_default_str()->check(CLI::Range(2, 1000));
  return [predict, options]() -> int { return *predict ? RunPredictBench(*options) : -1; };
}

}  // namespace streamlearn::cli
