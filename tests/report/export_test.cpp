// Tests for src/report/export.hpp: the column union, name clashes, RFC 4180 quoting (read back
// by an independent little parser), empty cells for missing metrics, and JSON Lines that parse.
#include "report/export.hpp"

#include <cmath>
#include <set>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "synthetic_db.hpp"

namespace initscope::report {
namespace {

using namespace initscope::report::testing;

// RFC 4180 reader: CRLF records, fields quoted with doubled quotes inside.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      rows.emplace_back(1);
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();  // after the last CRLF
  return rows;
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  ADD_FAILURE() << "no column " << name;
  return 0;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Db db(dir_.path / "runs.db");
    auto a = trained_run(64, 1000, 0, 1, 10.5, 0.05);
    a.metrics = {{"dist_init", 10.5}, {"m", 1000}, {"only_a", 1.25}};
    add_run(db, a);
    RunSpec b;
    b.config = base_config(128, 2000, 0.2, 2);
    b.config["note"] = "has, comma \"quotes\"\nand a newline";
    b.status = k_status_failed;
    b.converged = false;
    b.stopped_by = "";
    b.error = "out of memory, \"really\"";
    b.metrics = {{"dist_init", NAN}, {"only_b", 3}};
    add_run(db, b);
    runs_ = db.runs();
  }
  TempDir dir_;
  std::vector<RunRecord> runs_;
};

TEST_F(ExportTest, CsvHasTheColumnUnionAndQuotesProperly) {
  std::ostringstream os;
  export_runs(runs_, ExportFormat::csv, os);
  const std::string text = os.str();
  EXPECT_NE(text.find("\r\n"), std::string::npos);  // RFC 4180 line ends
  const auto rows = parse_csv(text);
  ASSERT_EQ(rows.size(), 3u) << text;
  const auto& h = rows[0];
  for (const auto& r : rows) EXPECT_EQ(r.size(), h.size());
  EXPECT_EQ(std::vector<std::string>(h.begin(), h.begin() + 8),
            (std::vector<std::string>{"id", "created", "status", "stopped_by", "converged", "seed",
                                      "config_hash", "wall_seconds"}));
  // One scheme: every config key under config., every metric under metric., none bare.
  for (size_t i = 8; i < h.size(); ++i)
    EXPECT_TRUE(h[i].rfind("config.", 0) == 0 || h[i].rfind("metric.", 0) == 0) << h[i];
  EXPECT_EQ(std::set<std::string>(h.begin(), h.end()).size(), h.size());  // no collisions
  EXPECT_EQ(rows[1][column(h, "config.width")], "64");
  EXPECT_EQ(rows[2][column(h, "config.width")], "128");
  EXPECT_EQ(rows[1][column(h, "config.stop")], "[\"margin:10:0.99\"]");
  EXPECT_EQ(rows[1][column(h, "config.seed")], "1");
  EXPECT_EQ(rows[1][column(h, "config.m")], "1000");  // config m
  EXPECT_EQ(rows[1][column(h, "metric.m")], "1000");  // metric m
  // Field with comma, quotes and newline survives the round trip.
  EXPECT_EQ(rows[2][column(h, "config.note")], "has, comma \"quotes\"\nand a newline");
  EXPECT_EQ(rows[1][column(h, "config.note")], "");
  // Metrics: union, empty where missing, nan spelled out.
  EXPECT_EQ(rows[1][column(h, "metric.only_a")], "1.25");
  EXPECT_EQ(rows[2][column(h, "metric.only_a")], "");
  EXPECT_EQ(rows[1][column(h, "metric.only_b")], "");
  EXPECT_EQ(rows[2][column(h, "metric.only_b")], "3");
  EXPECT_EQ(rows[1][column(h, "metric.dist_init")], "10.5");
  EXPECT_EQ(rows[2][column(h, "metric.dist_init")], "nan");
  EXPECT_EQ(rows[2][column(h, "status")], "failed");
  EXPECT_EQ(rows[1][column(h, "converged")], "1");
  EXPECT_EQ(rows[2][column(h, "converged")], "0");
}

TEST(CsvField, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field(""), "");
}

TEST_F(ExportTest, JsonLinesParseWithTheSameKeys) {
  std::ostringstream os;
  export_runs(runs_, ExportFormat::jsonl, os);
  std::istringstream is(os.str());
  std::vector<nlohmann::json> objs;
  for (std::string line; std::getline(is, line);) objs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_EQ(objs[0].size(), objs[1].size());
  EXPECT_EQ(objs[0]["config.width"], 64);
  EXPECT_EQ(objs[0]["metric.only_a"], 1.25);
  EXPECT_TRUE(objs[1]["metric.only_a"].is_null());
  EXPECT_TRUE(objs[1]["metric.dist_init"].is_null());  // NaN
  EXPECT_EQ(objs[1]["config.note"], "has, comma \"quotes\"\nand a newline");
  EXPECT_EQ(objs[0]["config.stop"], nlohmann::json::array({"margin:10:0.99"}));
  EXPECT_EQ(objs[0]["metric.m"], 1000);
  EXPECT_EQ(objs[0]["status"], "completed");
}

TEST(ExportFormat, UnknownFormatNamesTheFlag) {
  EXPECT_EQ(parse_export_format("csv"), ExportFormat::csv);
  EXPECT_EQ(parse_export_format("jsonl"), ExportFormat::jsonl);
  try {
    parse_export_format("xlsx");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--format xlsx"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace initscope::report
