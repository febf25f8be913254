// `initscope runs` (a table of runs) and `initscope show ID` (one run in full).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>

#include <iostream>

#include <fmt/core.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "store/db.hpp"
#include "train/config.hpp"
#include "trajectory.hpp"

namespace initscope::cli {

nlohmann::json record_json(const RunRecord& r) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : r.metrics)
    metrics[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  return {{"id", r.id},
          {"created", r.created},
          {"status", r.status},
          {"kind", r.kind},
          {"stopped_by", r.stopped_by},
          {"converged", r.converged},
          {"seed", r.seed},
          {"config_hash", r.config_hash},
          {"version", r.version},
          {"wall_seconds", r.wall_seconds},
          {"error", r.error},
          {"name", r.labels.name},
          {"tags", r.labels.tags},
          {"sweep_id", r.labels.sweep_id},
          {"sweep_file", r.labels.sweep_file},
          {"sweep_description", r.labels.sweep_description},
          {"config", r.config},
          {"metrics", metrics}};
}

namespace {

std::string cfg_str(const nlohmann::json& c, const char* key) {
  if (!c.contains(key)) return "-";
  const auto& v = c[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string metric_str(const RunRecord& r, const char* key, double scale, const char* f) {
  const auto it = r.metrics.find(key);
  if (it == r.metrics.end() || !std::isfinite(it->second)) return "-";
  return fmt::format(fmt::runtime(f), it->second * scale);
}

// A run's value for a key of --where, --sort and --columns: one of the record's own fields,
// `config.K` or `metric.K`, or a bare K looked up in the config and then in the metrics.
std::optional<nlohmann::json> run_value(const RunRecord& r, const std::string& key) {
  if (key == "id") return r.id;
  if (key == "created") return r.created;
  if (key == "status") return r.status;
  if (key == "stopped_by") return r.stopped_by;
  if (key == "converged") return r.converged;
  if (key == "seed") return r.seed;
  if (key == "config_hash") return r.config_hash;
  if (key == "version") return r.version;
  if (key == "host") return r.host;
  // Labels: what a person or a sweep called the run. An unset one is absent.
  const auto label = [](const std::string& v) -> std::optional<nlohmann::json> {
    if (v.empty()) return std::nullopt;
    return v;
  };
  if (key == "name") return label(r.labels.name);
  if (key == "tag" || key == "tags") {
    if (r.labels.tags.empty()) return std::nullopt;
    return nlohmann::json(r.labels.tags);
  }
  if (key == "sweep_id") return label(r.labels.sweep_id);
  if (key == "sweep_file" || key == "sweep") return label(r.labels.sweep_file);
  const auto metric = [&](const std::string& k) -> std::optional<nlohmann::json> {
    const auto it = r.metrics.find(k);
    if (it == r.metrics.end()) return std::nullopt;
    return it->second;
  };
  if (key.rfind("config.", 0) == 0) {
    const std::string k = key.substr(7);
    if (r.config.contains(k)) return r.config[k];
    return std::nullopt;
  }
  if (key.rfind("metric.", 0) == 0) return metric(key.substr(7));
  if (r.config.contains(key)) return r.config[key];
  return metric(key);
}

// A value as the table prints it.
std::string value_text(const std::optional<nlohmann::json>& v) {
  if (!v || v->is_null()) return "-";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_float()) return fmt::format("{:.4g}", v->get<double>());
  if (v->is_boolean()) return v->get<bool>() ? "yes" : "no";
  if (v->is_array()) {
    std::string out;
    for (const auto& e : *v)
      out += (out.empty() ? "" : ",") + (e.is_string() ? e.get<std::string>() : e.dump());
    return out.empty() ? "-" : out;
  }
  return v->dump();
}

// A --where filter: KEY OP VALUE with OP one of = != <= >= < >; numbers compare as numbers,
// anything else as the text the table shows (a list matches if any element does, for =).
struct Filter {
  std::string key, op, value;
};

Filter parse_filter(const std::string& text) {
  static const char* k_ops[] = {"!=", "<=", ">=", "=", "<", ">"};
  for (const char* op : k_ops) {
    const auto at = text.find(op);
    if (at == std::string::npos || at == 0) continue;
    // The earliest operator wins ("lr<=0.1" is <=, not =).
    size_t first = std::string::npos;
    for (const char* o : k_ops) first = std::min(first, text.find(o));
    if (at != first) continue;
    return {text.substr(0, at), op, text.substr(at + std::string(op).size())};
  }
  throw Error(fmt::format(
      "--where {}: expected KEY=VALUE (or !=, <, <=, >, >=), e.g. --where lr=0.1 or --where "
      "status=completed",
      text));
}

std::optional<double> as_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

bool matches_value(const nlohmann::json& v, const Filter& f) {
  const auto want = as_number(f.value);
  int cmp = 0;
  if (v.is_number() && want) {
    const double x = v.get<double>();
    cmp = x < *want ? -1 : x > *want ? 1 : 0;
  } else if (v.is_boolean()) {
    const bool yes = f.value == "true" || f.value == "yes" || f.value == "1";
    cmp = v.get<bool>() == yes ? 0 : 1;
  } else {
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    cmp = text < f.value ? -1 : text > f.value ? 1 : 0;
  }
  if (f.op == "=") return cmp == 0;
  if (f.op == "!=") return cmp != 0;
  if (f.op == "<") return cmp < 0;
  if (f.op == "<=") return cmp <= 0;
  if (f.op == ">") return cmp > 0;
  return cmp >= 0;
}

bool matches(const RunRecord& r, const Filter& f) {
  const auto v = run_value(r, f.key);
  if (!v) return f.op == "!=";
  if (v->is_array()) {
    bool any = false;
    for (const auto& e : *v) any = any || matches_value(e, f);
    return f.op == "!=" ? !any : any;
  }
  return matches_value(*v, f);
}

}  // namespace

RunRecord read_run(const std::string& text, const char* command, const std::string& db_file) {
  // Parsed here, strictly: CLI11 clamps 99999999999999999999 to 2^63 − 1 without a word.
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1)
    throw Error(
        fmt::format("{} {}: expected a run id, a whole number from 1 to 2^63 − 1 "
                    "(initscope runs lists them)",
                    command, text));
  if (!std::filesystem::exists(db_file))
    throw Error(fmt::format("--db {}: no such database", db_file));
  Db db(db_file, DbMode::read_only);
  auto r = db.run(id);
  if (!r) throw Error(fmt::format("{} {}: no run with that id in {}", command, id, db_file));
  return *r;
}

static std::string toml_value(const nlohmann::json& v) {
  if (v.is_string()) {
    // A TOML basic string: backslash, quote and control characters escaped.
    std::string out = "\"";
    for (const char ch : v.get<std::string>()) {
      if (ch == '"' || ch == '\\') out += '\\';
      if (static_cast<unsigned char>(ch) < 0x20) {
        out += fmt::format("\\u{:04x}", static_cast<int>(ch));
        continue;
      }
      out += ch;
    }
    return out + "\"";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_value(v[i]);
    return out + "]";
  }
  if (v.is_number_float()) {
    // The shortest text that reads back as the same double, with a point so TOML says float.
    std::string t = fmt::format("{}", v.get<double>());
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  }
  return v.dump();  // integers, booleans
}

std::string base_toml(const RunRecord& r) {
  std::string out = fmt::format(
      "# run {} ({}, {}): its config as a sweep file's [base]; `initscope sweep FILE` runs it\n"
      "# again (a completed config is skipped: change seed for a new one)\n[base]\n",
      r.id, r.status, r.created);
  for (const auto& [k, v] : r.config.items()) {
    if (v.is_null()) continue;
    out += fmt::format("{} = {}\n", k, toml_value(v));
  }
  return out;
}

void add_results(CLI::App& app, Common& common) {
  auto* runs = app.add_subcommand("runs", "List the runs in the database");
  runs->add_option("--db", common.db, "results database")->capture_default_str();
  auto where = std::make_shared<std::vector<std::string>>();
  auto sort = std::make_shared<std::string>();
  auto limit = std::make_shared<int64_t>(0);
  auto columns = std::make_shared<std::string>();
  runs->add_option("--where", *where,
                   "only runs where KEY=VALUE (also !=, <, <=, >, >=); KEY is a config key, a "
                   "metric, or id, status, stopped_by, converged, seed; config.K and metric.K "
                   "say which; repeatable (all must hold)");
  runs->add_option("--sort", *sort, "sort by this key (as --where's); -KEY sorts descending");
  runs->add_option("--limit", *limit, "show at most N runs (after sorting; 0: all)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  runs->add_option("--columns", *columns,
                   "comma-separated columns (any key of --where, or train, test, dist, secs, "
                   "pretrain); default: id,status,stopped_by,dataset,width,m,noise,lr,loss,"
                   "optimizer,stop,seed,epochs,converged,train,test,dist,secs");
  runs->callback([=, &common] {
    if (!std::filesystem::exists(common.db))
      throw Error(
          fmt::format("--db {}: no such database (train a run first, or pass --db)", common.db));
    std::vector<Filter> filters;
    for (const auto& w : *where) filters.push_back(parse_filter(w));
    Db db(common.db, DbMode::read_only);
    auto rows = db.runs();  // read first: an unreadable database prints no table header
    // A key no run has is a typo, not an empty answer.
    const auto known = [&](const std::string& key) {
      if (rows.empty()) return true;
      for (const auto& r : rows)
        if (run_value(r, key)) return true;
      return false;
    };
    for (const auto& f : filters)
      if (!known(f.key))
        throw Error(fmt::format("--where {}{}{}: no run in {} has a config key or metric '{}'",
                                f.key, f.op, f.value, common.db, f.key));
    std::erase_if(rows, [&](const RunRecord& r) {
      for (const auto& f : filters)
        if (!matches(r, f)) return true;
      return false;
    });
    if (!sort->empty()) {
      const bool desc = (*sort)[0] == '-';
      const std::string key = desc ? sort->substr(1) : *sort;
      if (!known(key))
        throw Error(fmt::format("--sort {}: no run in {} has a config key or metric '{}'", *sort,
                                common.db, key));
      // Runs without the key last, either way.
      std::stable_sort(rows.begin(), rows.end(), [&](const RunRecord& a, const RunRecord& b) {
        const auto x = run_value(a, key), y = run_value(b, key);
        if (!x || !y) return x.has_value() && !y.has_value();
        const bool less = x->is_number() && y->is_number() ? x->get<double>() < y->get<double>()
                                                           : value_text(x) < value_text(y);
        const bool more = x->is_number() && y->is_number() ? x->get<double>() > y->get<double>()
                                                           : value_text(x) > value_text(y);
        return desc ? more : less;
      });
    }
    if (*limit > 0 && static_cast<int64_t>(rows.size()) > *limit)
      rows.resize(static_cast<size_t>(*limit));

    std::vector<std::string> cols;
    {
      std::string list = columns->empty()
                             ? "id,status,stopped_by,dataset,width,m,noise,lr,loss,"
                               "optimizer,stop,seed,epochs,converged,train,test,dist,secs"
                             : *columns;
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) cols.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
      if (cols.empty()) throw Error(fmt::format("--columns {}: expected column names", *columns));
      if (columns->empty()) {
        // Names and tags, when some run has them, right after the id.
        const bool tagged = std::any_of(rows.begin(), rows.end(),
                                        [](const RunRecord& r) { return !r.labels.tags.empty(); });
        const bool named = std::any_of(rows.begin(), rows.end(),
                                       [](const RunRecord& r) { return !r.labels.name.empty(); });
        if (tagged) cols.insert(cols.begin() + 1, "tags");
        if (named) cols.insert(cols.begin() + 1, "name");
      }
    }
    bool any_regression = false;
    // train and test: the error in % for classification, the MSE for regression tasks.
    const auto cell = [&](const RunRecord& r, const std::string& c) -> std::string {
      const bool regression = r.metrics.count("train_mse") > 0;
      if (c == "train" || c == "test") {
        any_regression = any_regression || regression;
        return regression ? metric_str(r, fmt::format("{}_mse", c).c_str(), 1, "{:.3e}")
                          : metric_str(r, fmt::format("{}_error", c).c_str(), 100, "{:.2f}%");
      }
      if (c == "dist") return metric_str(r, "dist_init", 1, "{:.3f}");
      if (c == "secs") return metric_str(r, "wall_seconds", 1, "{:.1f}");
      if (c == "epochs") return metric_str(r, "epochs", 1, "{:.0f}");
      if (c == "pretrain") {
        const std::string pretrain = cfg_str(r.config, "pretrain");
        return pretrain == "none" || pretrain == "-"
                   ? "-"
                   : fmt::format(
                         "{} ({:.0f} steps, dist_pretrain {:.3f})", pretrain,
                         r.metrics.count("pretrain_steps") ? r.metrics.at("pretrain_steps") : NAN,
                         r.metrics.count("dist_pretrain") ? r.metrics.at("dist_pretrain") : NAN);
      }
      if (c == "stop") return value_text(run_value(r, "stop"));
      return value_text(run_value(r, c));
    };
    std::vector<std::vector<std::string>> table;
    for (const auto& r : rows) {
      std::vector<std::string> line;
      for (const auto& c : cols) line.push_back(cell(r, c));
      table.push_back(std::move(line));
    }
    std::vector<size_t> width(cols.size());
    const auto len = [](const std::string& t) {  // code points, for ≤ and friends
      size_t n = 0;
      for (const unsigned char ch : t) n += (ch & 0xC0) != 0x80;
      return n;
    };
    for (size_t k = 0; k < cols.size(); ++k) {
      width[k] = len(cols[k]);
      for (const auto& line : table) width[k] = std::max(width[k], len(line[k]));
    }
    // Text columns to the left, numbers to the right.
    const auto numeric = [&](size_t k) {
      for (const auto& line : table)
        if (line[k] != "-" && !as_number(line[k]) && line[k].back() != '%') return false;
      return true;
    };
    std::vector<bool> right(cols.size());
    for (size_t k = 0; k < cols.size(); ++k) right[k] = numeric(k);
    const auto print_line = [&](const std::vector<std::string>& line) {
      std::string out;
      for (size_t k = 0; k < cols.size(); ++k) {
        const std::string pad(width[k] - len(line[k]), ' ');
        out += (k ? "  " : "") + (right[k] ? pad + line[k] : line[k] + pad);
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      fmt::print("{}\n", out);
    };
    print_line(cols);
    for (const auto& line : table) print_line(line);
    if (any_regression)
      fmt::print(
          "train, test: error rate for classification, mean squared error for "
          "regression tasks\n");
  });

  auto* show = app.add_subcommand("show", "Show one run in full");
  auto id_text = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto traj = std::make_shared<bool>(false);
  auto toml = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>("table");
  show->add_option("id", *id_text, "run id")->required();
  show->add_option("--db", common.db, "results database")->capture_default_str();
  show->add_flag("--json", *json, "print as one JSON object (with --trajectory: inside it)");
  show->add_flag("--trajectory", *traj,
                 "print the learning curves: one row per epoch (see --format)");
  show->add_option("--format", *format, "--trajectory's format: table, csv or jsonl")
      ->capture_default_str();
  show->add_flag("--toml", *toml,
                 "print the run's config as a sweep file's [base] table (initscope sweep FILE "
                 "runs it again)");
  show->callback([id_text, json, traj, toml, format, &common] {
    const TrajectoryFormat tf = parse_trajectory_format(*format);
    const RunRecord r = read_run(*id_text, "show", common.db);
    if (*toml) {
      fmt::print("{}", base_toml(r));
      return;
    }
    Db db(common.db, DbMode::read_only);
    const auto id = r.id;
    nlohmann::json j = record_json(r);
    if (*json) {
      if (*traj) {
        nlohmann::json t = nlohmann::json::array();
        for (const auto& p : db.trajectory(id))
          t.push_back({{"step", p.step}, {"epoch", p.epoch}, {"name", p.name}, {"value", p.value}});
        j["trajectory"] = t;
      }
      fmt::print("{}\n", j.dump());
      return;
    }
    if (*traj) {
      write_trajectory(pivot_trajectory(db.trajectory(id)), tf, std::cout);
      std::cout.flush();
      return;
    }
    fmt::print("run {}{}  {}  stopped by {}{}\n", r.id,
               r.labels.name.empty() ? "" : " (" + r.labels.name + ")", r.status, r.stopped_by,
               r.converged ? "" : " (not converged)");
    if (!r.labels.tags.empty()) fmt::print("tags {}\n", value_text(nlohmann::json(r.labels.tags)));
    if (!r.labels.sweep_id.empty())
      fmt::print(
          "sweep {} (id {}){}\n", r.labels.sweep_file, r.labels.sweep_id,
          r.labels.sweep_description.empty()
              ? ""
              : ": " + r.labels.sweep_description.substr(0, r.labels.sweep_description.find('\n')));
    fmt::print("created {}  version {}  seed {}  config_hash {}\n", r.created, r.version, r.seed,
               r.config_hash);
    if (!r.error.empty()) fmt::print("error: {}\n", r.error);
    if (r.config_error.empty()) {
      fmt::print("config:\n{}\nmetrics:\n", r.config.dump(2));
    } else {
      fmt::print("config (damaged: {}):\n{}\nmetrics:\n", r.config_error,
                 r.config.get<std::string>());
    }
    for (const auto& [k, v] : r.metrics) fmt::print("  {:<20} {:.6g}\n", k, v);
  });
}

void add_compare(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand(
      "compare", "Two or more runs side by side: the config keys that differ, then the metrics");
  auto ids = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  cmd->add_option("ids", *ids, "run ids")->required()->expected(2, 1000);
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_flag("--all", *all, "every config key and every metric, not only those that differ");
  cmd->callback([=, &common] {
    std::vector<RunRecord> runs;
    for (const auto& id : *ids) runs.push_back(read_run(id, "compare", common.db));
    // Configs normalized (defaults filled in), so that runs stored before an option existed
    // compare equal to runs after.
    std::vector<nlohmann::json> configs;
    std::set<std::string> keys;
    for (const auto& r : runs) {
      configs.push_back(normalized_config(r.config));
      for (const auto& [k, v] : configs.back().items()) keys.insert(k);
    }
    std::vector<std::vector<std::string>> table;
    const auto header = [&](const std::string& first) {
      std::vector<std::string> h = {first};
      for (const auto& r : runs)
        h.push_back(
            fmt::format("run {}{}", r.id, r.labels.name.empty() ? "" : " (" + r.labels.name + ")"));
      return h;
    };
    table.push_back(header("config"));
    size_t equal = 0;
    for (const auto& k : keys) {
      std::vector<std::string> line = {k};
      bool differs = false;
      for (size_t i = 0; i < runs.size(); ++i) {
        const std::optional<nlohmann::json> v =
            configs[i].contains(k) ? std::optional<nlohmann::json>(configs[i][k]) : std::nullopt;
        line.push_back(value_text(v));
        differs = differs || line.back() != line[1];
      }
      if (differs || *all)
        table.push_back(std::move(line));
      else
        ++equal;
    }
    const size_t config_rows = table.size();
    table.push_back(header("result"));
    for (const char* field : {"status", "stopped_by", "converged"}) {
      std::vector<std::string> line = {field};
      for (const auto& r : runs) line.push_back(value_text(run_value(r, field)));
      table.push_back(std::move(line));
    }
    // The metrics that tell runs apart first; --all adds every other.
    static const std::vector<std::string> k_main = {
        "epochs",    "steps",    "train_loss", "train_error", "test_error", "gen_error",
        "train_mse", "test_mse", "dist_init",  "margin_p10",  "fro_w1",     "wall_seconds"};
    std::vector<std::string> names;
    for (const auto& n : k_main)
      for (const auto& r : runs)
        if (r.metrics.count(n)) {
          names.push_back(n);
          break;
        }
    if (*all) {
      std::set<std::string> rest;
      for (const auto& r : runs)
        for (const auto& [n, v] : r.metrics)
          if (std::find(k_main.begin(), k_main.end(), n) == k_main.end()) rest.insert(n);
      names.insert(names.end(), rest.begin(), rest.end());
    }
    for (const auto& n : names) {
      std::vector<std::string> line = {n};
      for (const auto& r : runs) {
        const auto it = r.metrics.find(n);
        line.push_back(it == r.metrics.end() ? "-" : fmt::format("{:.6g}", it->second));
      }
      table.push_back(std::move(line));
    }
    std::vector<size_t> width(runs.size() + 1, 0);
    for (const auto& line : table)
      for (size_t k = 0; k < line.size(); ++k) width[k] = std::max(width[k], line[k].size());
    for (size_t row = 0; row < table.size(); ++row) {
      if (row == config_rows) fmt::print("\n");
      std::string out;
      for (size_t k = 0; k < table[row].size(); ++k)
        out += fmt::format("{}{:<{}}", k ? "  " : "", table[row][k], width[k]);
      while (!out.empty() && out.back() == ' ') out.pop_back();
      fmt::print("{}\n", out);
      if (row == 0 && config_rows == 1) fmt::print("(no config key differs)\n");
    }
    if (!*all && equal > 0)
      fmt::print("\n{} config keys are the same in every run (--all shows them)\n", equal);
  });
}

}  // namespace initscope::cli
