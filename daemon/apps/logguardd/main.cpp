// `logguardd`: the streaming anomaly detector.
//
// Usage:
//   logguardd --config FILE          run until SIGTERM/SIGINT (or the end of a file/stdin source)
//   logguardd --check-config FILE    validate the config and load its model bundle; exit 0 if fine
// Exit codes: 0 ok, 1 runtime failure (or shutdown_timeout_ms exceeded), 2 usage, 3 bad config,
// 4 unreadable input (model bundle, source file). SIGHUP reloads model.bundle between batches.
// Minimal config (docs/config.md has every key):
//   model: {bundle: bundles/hdfs}
//   source: {type: file, path: HDFS.log}     # or kafka (kafka.topics) / stdin
//   sink: {type: stdout}                     # or kafka (kafka.output_topic) / file (path)
//   kafka: {brokers: embedded, topics: [logs]}
#include "logguard/service/logguardd.hpp"

int main(int argc, char** argv) { return logguard::daemon::run_logguardd(argc, argv); }
