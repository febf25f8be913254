// Reading a sweep file: TOML → JSON option tables → expanded, validated TrainConfigs.
// Every error names the file and the line of the key (or table) at fault.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/error.hpp"
#include "sweep/sweep.hpp"

namespace initscope {

namespace {

struct Where {
  std::string file;
  int64_t line = 0;
  std::string str() const { return fmt::format("{} line {}", file, line); }
};

Where where_of(const std::string& file, const toml::node& n) {
  return {file, static_cast<int64_t>(n.source().begin.line)};
}

nlohmann::json to_json_value(const toml::node& n, const Where& at) {
  if (auto v = n.as_integer()) return v->get();
  if (auto v = n.as_floating_point()) return v->get();
  if (auto v = n.as_boolean()) return v->get();
  if (auto v = n.as_string()) return v->get();
  if (auto a = n.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *a) out.push_back(to_json_value(e, at));
    return out;
  }
  throw Error(
      fmt::format("{}: unsupported value (expected a number, string, boolean or array)", at.str()));
}

// `stop` may be one string or a list of strings; normalize to the list.
nlohmann::json normalize(const std::string& key, nlohmann::json v) {
  if (key == "stop" && v.is_string()) return nlohmann::json::array({v});
  return v;
}

// Checks `table` (options with the lines they stand on) merged over `base`. On an error, the
// key to blame is the one whose removal makes the rest valid; if no single key is, the table.
void check_table(const nlohmann::json& base, const nlohmann::json& table,
                 const std::map<std::string, Where>& lines, const Where& table_at) {
  nlohmann::json merged = base;
  merged.update(table);
  std::string error;
  try {
    config_from_json(merged);
    return;
  } catch (const Error& e) {
    error = e.what();
  }
  for (const auto& [key, value] : table.items()) {
    nlohmann::json without = merged;
    if (base.contains(key))
      without[key] = base[key];
    else
      without.erase(key);
    bool valid = true;
    try {
      config_from_json(without);
    } catch (const Error&) {
      valid = false;
    }
    if (valid) throw Error(fmt::format("{}: {}", lines.at(key).str(), error));
  }
  throw Error(fmt::format("{}: {}", table_at.str(), error));
}

// An options table (not a grid), checked as a whole over `base`.
nlohmann::json read_options(const toml::table& t, const nlohmann::json& base,
                            const std::string& file, const Where& table_at,
                            const std::set<std::string>& skip = {}) {
  nlohmann::json out = nlohmann::json::object();
  std::map<std::string, Where> lines;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (skip.count(key)) continue;
    const Where at{file, static_cast<int64_t>(k.source().begin.line)};
    out[key] = normalize(key, to_json_value(v, at));
    lines[key] = at;
  }
  check_table(base, out, lines, table_at);
  return out;
}

// A grid table: each key lists the values of one axis.
std::vector<std::pair<std::string, std::vector<nlohmann::json>>> read_grid(
    const toml::table& t, const nlohmann::json& base, const std::string& file) {
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> axes;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    const Where at{file, static_cast<int64_t>(k.source().begin.line)};
    const auto* arr = v.as_array();
    if (!arr || arr->empty())
      throw Error(
          fmt::format("{}: grid axis '{}' must be a non-empty list of values, e.g. {} = [64, 128]",
                      at.str(), key, key));
    std::vector<nlohmann::json> values;
    for (const auto& e : *arr) {
      const nlohmann::json value = normalize(key, to_json_value(e, at));
      check_table(base, {{key, value}}, {{key, at}}, at);
      values.push_back(value);
    }
    axes.emplace_back(key, std::move(values));
  }
  return axes;
}

void expand(const nlohmann::json& base,
            const std::vector<std::pair<std::string, std::vector<nlohmann::json>>>& axes,
            const Where& at, std::vector<std::pair<nlohmann::json, Where>>& out) {
  std::vector<size_t> idx(axes.size(), 0);
  while (true) {
    nlohmann::json j = base;
    for (size_t a = 0; a < axes.size(); ++a) j[axes[a].first] = axes[a].second[idx[a]];
    out.emplace_back(std::move(j), at);
    size_t a = 0;
    for (; a < axes.size(); ++a) {
      if (++idx[a] < axes[a].second.size()) break;
      idx[a] = 0;
    }
    if (a == axes.size()) return;
  }
}

}  // namespace

Sweep sweep_load(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status))
    throw Error(fmt::format(
        "{}: no such sweep file (expected a TOML file with [base] and [grid] tables)", file));
  // A directory parses as an empty table, and /dev/zero as nothing: both would be the one
  // default run (reliability B3).
  if (!std::filesystem::is_regular_file(status))
    throw Error(fmt::format(
        "{}: is not a regular file (expected a TOML file with [base] and [grid] tables)", file));
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || in.bad())
    throw Error(fmt::format("{}: cannot read the sweep file: {}", file, std::strerror(errno)));
  toml::table doc;
  try {
    doc = toml::parse(text.str(), file);
  } catch (const toml::parse_error& e) {
    throw Error(fmt::format("{} line {}: TOML syntax error: {}", file, e.source().begin.line,
                            e.description()));
  }
  for (const auto& [k, v] : doc) {
    const std::string key(k.str());
    if (key != "base" && key != "grid" && key != "runs" && key != "description")
      throw Error(
          fmt::format("{} line {}: unknown top-level key '{}' (expected [base], [grid], [[runs]] "
                      "or description)",
                      file, k.source().begin.line, key));
  }
  Sweep sweep_info;
  {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char ch : text.str()) h = (h ^ ch) * 0x100000001b3ULL;
    sweep_info.id = fmt::format("{:016x}", h);
    if (const auto d = doc["description"].value<std::string>()) sweep_info.description = *d;
  }
  nlohmann::json base = nlohmann::json::object();
  if (const auto* t = doc["base"].as_table()) {
    base = read_options(*t, base, file, where_of(file, *t));
  } else if (doc.contains("base")) {
    throw Error(fmt::format("{}: 'base' must be a table ([base])", file));
  }

  std::vector<std::pair<nlohmann::json, Where>> expanded;
  if (const auto* g = doc["grid"].as_table()) {
    expand(base, read_grid(*g, base, file), where_of(file, *g), expanded);
  } else if (doc.contains("grid")) {
    throw Error(fmt::format("{}: 'grid' must be a table ([grid])", file));
  }
  if (doc.contains("runs")) {
    const auto* runs = doc["runs"].as_array();
    if (!runs) throw Error(fmt::format("{}: 'runs' must be an array of tables ([[runs]])", file));
    for (const auto& entry : *runs) {
      const auto* t = entry.as_table();
      const Where at = where_of(file, entry);
      if (!t) throw Error(fmt::format("{}: each [[runs]] entry must be a table", at.str()));
      nlohmann::json merged = base;
      merged.update(read_options(*t, base, file, at, {"grid"}));
      std::vector<std::pair<std::string, std::vector<nlohmann::json>>> axes;
      if (t->contains("grid")) {
        const auto* g = (*t)["grid"].as_table();
        if (!g) throw Error(fmt::format("{}: [runs.grid] must be a table", at.str()));
        axes = read_grid(*g, merged, file);
      }
      expand(merged, axes, at, expanded);
    }
  }
  if (!doc.contains("grid") && !doc.contains("runs")) expanded.emplace_back(base, Where{file, 1});

  Sweep sweep = std::move(sweep_info);
  sweep.file = path;
  std::set<std::string> seen;
  for (const auto& [j, at] : expanded) {
    TrainConfig c = config_from_json(j, at.str());
    if (seen.insert(config_hash(c)).second) sweep.runs.push_back(std::move(c));
  }
  return sweep;
}

std::vector<std::string> sweep_axes(const Sweep& sweep) {
  std::vector<std::string> keys;
  if (sweep.runs.empty()) return keys;
  const nlohmann::json first = to_json(sweep.runs.front());
  std::vector<nlohmann::json> all;
  for (const auto& c : sweep.runs) all.push_back(to_json(c));
  for (const auto& [k, v] : first.items()) {
    for (const auto& j : all)
      if (j[k] != v) {
        keys.push_back(k);
        break;
      }
  }
  return keys;
}

std::string describe(const TrainConfig& c, const std::vector<std::string>& keys) {
  const nlohmann::json j = to_json(c);
  std::string out;
  for (const auto& k : keys) {
    const auto& v = j[k];
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", k,
                       v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out.empty() ? "(base)" : out;
}

}  // namespace initscope
