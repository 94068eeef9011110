#pragma once
// Small helpers shared by the core tests.
#include <string>
#include <vector>

#include "logguard/core/line_parser.hpp"

namespace logguard::core::test {

/// A parser with the HDFS loghub format and masks (mirrors configs/loghub/HDFS.yaml).
inline ParserConfig hdfs_config() {
  ParserConfig c;
  c.log_format = "<Date> <Time> <Pid> <Level> <Component>: <Content>";
  c.masks = {{"blk", "hdfs_block", "", "<*>"}, {"ip", "ipv4", "", "<*>"}, {"num", "number", "", "<*>"}};
  return c;
}

/// Content-only parser with the given masks.
inline ParserConfig content_config(std::vector<MaskRule> masks = {}) {
  ParserConfig c;
  c.masks = std::move(masks);
  return c;
}

}  // namespace logguard::core::test
