// Event time formats, line labels and entity windows read from header fields; template tables
// of other parsers read as wildcard patterns.
#include <catch2/catch.hpp>

#include "logguard/core/error.hpp"
#include "logguard/core/event_time.hpp"
#include "logguard/core/template_pattern.hpp"

using namespace logguard::core;

TEST_CASE("time formats read the common log timestamps", "[core][time]") {
  const TimeFormat epoch("epoch_s", "k");
  CHECK(epoch.parse("1117838570") == 1117838570000LL);
  CHECK(epoch.parse("1117838570.5") == 1117838570500LL);
  CHECK_FALSE(epoch.parse("11178x"));
  CHECK_FALSE(epoch.parse(""));
  CHECK(TimeFormat("epoch_ms", "k").parse("1500") == 1500);

  // BGL: 2005-06-03-15.42.50.675872
  const TimeFormat bgl("%Y-%m-%d-%H.%M.%S.%f", "k");
  CHECK(bgl.parse("2005-06-03-15.42.50.675872") == 1117813370675LL);
  CHECK_FALSE(bgl.parse("2005-06-03-15.42"));
  CHECK_FALSE(bgl.parse("2005-13-03-15.42.50.1"));

  // HDFS: Date and Time fields joined by a space: "081109 203518"
  const TimeFormat hdfs("%y%m%d %H%M%S", "k");
  CHECK(hdfs.parse("081109 203518") == 1226262918000LL);
  // Syslog-style month names, a run of spaces matching one.
  const TimeFormat sys("%b %d %H:%M:%S", "k");
  CHECK(sys.parse("Nov  9 12:01:01").has_value());
  CHECK(sys.parse("nov 9 12:01:01") == sys.parse("Nov 9 12:01:01"));
  CHECK_FALSE(sys.parse("Foo 9 12:01:01"));

  CHECK_THROWS_AS(TimeFormat("%Q", "model.data.entity.time_format"), ConfigError);
  CHECK_THROWS_WITH(TimeFormat("", "model.data.entity.time_format"), Catch::Contains("model.data.entity.time_format"));
}

TEST_CASE("labels from a header field: one list, both lists, unknown values", "[core][labels]") {
  LabelSettings bgl{"Label", {"-"}, {}};
  CHECK(bgl.classify("-") == 0);
  CHECK(bgl.classify("KERNDTLB") == 1);
  CHECK(bgl.classify("") == -1);
  LabelSettings level{"Level", {}, {"FATAL", "ERROR"}};
  CHECK(level.classify("INFO") == 0);
  CHECK(level.classify("FATAL") == 1);
  LabelSettings both{"Level", {"INFO"}, {"FATAL"}};
  CHECK(both.classify("WARN") == -1);
  CHECK_NOTHROW(both.validate("model.data.label"));
  CHECK_THROWS_WITH((LabelSettings{"Level", {}, {}}.validate("model.data.label")), Catch::Contains("model.data.label"));
  CHECK_THROWS_WITH((LabelSettings{"Level", {"X"}, {"X"}}.validate("model.data.label")),
                    Catch::Contains("abnormal_values"));
  EntityWindows e{"Node", {}, "epoch_s", 1000};
  CHECK_THROWS_WITH(e.validate("model.data.entity"), Catch::Contains("time_fields"));
  e.time_fields = {"Timestamp"};
  CHECK_NOTHROW(e.validate("model.data.entity"));
  e.window_ms = 0;
  CHECK_THROWS_WITH(e.validate("model.data.entity"), Catch::Contains("window_ms"));
}

TEST_CASE("foreign template tables match this parser's texts as patterns", "[core][templates]") {
  const TemplatePatternSet set({
      "<*>Deleting block<*>file<*>",
      "<*>PacketResponder <*> for block <*> terminating<*>",
      "<*>PacketResponder<*>for block<*>Interrupted<*>",
      "<*>Receiving block<*>src:<*>dest:<*>",
      "<*>Received block<*>src:<*>dest:<*>of size<*>",
      "<*>",
      "Exact line",
  });
  CHECK(set.match("Deleting block <*> file /mnt/hadoop/dfs/data/current/<*>") == 0);
  CHECK(set.match("PacketResponder <*> for block <*> terminating") == 1);
  CHECK(set.match("PacketResponder <*> for block <*> Interrupted.") == 2);
  CHECK(set.match("PacketResponder <*> for block <*> <*>") == -1);  // a merged template fits neither
  CHECK(set.match("Receiving block <*> src: /<*> dest: /<*>") == 3);
  CHECK(set.match("Received block <*> src: /<*> dest: /<*> of size <*>") == 4);  // the more specific one
  CHECK(set.match("Something else entirely") == -1);                             // "<*>" alone matches nothing
  CHECK(set.match("Exact line") == 6);
  CHECK(set.match("Exact line too") == -1);
  CHECK(set.match("") == -1);
}
