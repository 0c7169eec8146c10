#include "collection/manifest.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arrowembed/error.h"
#include "collection/durable_io.h"

namespace arrowembed::collection {

using nlohmann::json;

uint64_t Manifest::rows() const {
  uint64_t n = 0;
  for (const auto& s : segments) n += s.rows;
  return n;
}

uint64_t Manifest::deleted() const {
  uint64_t n = 0;
  for (const auto& s : segments) n += s.deleted.size();
  return n;
}

namespace {

json file_json(const FileEntry& f) { return {{"file", f.file}, {"bytes", f.bytes}, {"xxh3", f.xxh3}}; }

void read_file_entry(const json& j, FileEntry& f) {
  j.at("file").get_to(f.file);
  j.at("bytes").get_to(f.bytes);
  j.at("xxh3").get_to(f.xxh3);
  // A manifest names files in its own directory only.
  if (f.file.empty() || f.file.find('/') != std::string::npos || f.file.starts_with("."))
    throw Error("bad file name '" + f.file + "'");
}

}  // namespace

std::string manifest_json(const Manifest& m) {
  json segments = json::array();
  for (const auto& s : m.segments) {
    json j = file_json(s);
    j["rows"] = s.rows;
    j["deleted"] = s.deleted;
    segments.push_back(std::move(j));
  }
  json index = nullptr;
  if (m.index) {
    index = file_json(*m.index);
    index["elements"] = m.index->elements;
    index["M"] = m.index->m;
    index["ef_construction"] = m.index->ef_construction;
  }
  const json j = {
      {"format", kManifestFormat},
      {"version", kManifestVersion},
      {"model",
       {{"digest", m.model.digest},
        {"dimension", m.model.dimension},
        {"normalized", m.model.normalized},
        {"name", m.model.model_name}}},
      {"dimension", m.model.dimension},
      {"dtype", std::string(dtype_name(m.dtype))},
      {"metadata_columns", m.metadata_columns},
      {"segments", segments},
      {"index", index},
      {"next_file", m.next_file},
      {"generation", m.generation},
  };
  return j.dump(1) + "\n";
}

Manifest read_manifest(const std::filesystem::path& dir) {
  const auto path = dir / kManifestName;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error("no collection at " + dir.string() + ": not a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("no collection at " + dir.string() + ": cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json j = json::parse(text.str());
    if (j.at("format") != kManifestFormat) throw Error("not an arrowembed collection manifest");
    const int version = j.at("version").get<int>();
    if (version != kManifestVersion)
      throw Error("manifest version " + std::to_string(version) + " is not supported (this build reads " +
                  std::to_string(kManifestVersion) + ")");
    Manifest m;
    const json& model = j.at("model");
    model.at("digest").get_to(m.model.digest);
    model.at("dimension").get_to(m.model.dimension);
    model.at("normalized").get_to(m.model.normalized);
    model.at("name").get_to(m.model.model_name);
    if (j.at("dimension").get<int64_t>() != m.model.dimension || m.model.dimension <= 0)
      throw Error("bad dimension");
    m.dtype = parse_dtype(j.at("dtype").get<std::string>());
    if (m.dtype != DType::F32 && m.dtype != DType::F16) throw Error("embedding dtype must be f32 or f16");
    j.at("metadata_columns").get_to(m.metadata_columns);
    for (const json& s : j.at("segments")) {
      SegmentEntry e;
      read_file_entry(s, e);
      s.at("rows").get_to(e.rows);
      s.at("deleted").get_to(e.deleted);
      m.segments.push_back(std::move(e));
    }
    if (!j.at("index").is_null()) {
      IndexEntry e;
      read_file_entry(j["index"], e);
      j["index"].at("elements").get_to(e.elements);
      j["index"].at("M").get_to(e.m);
      j["index"].at("ef_construction").get_to(e.ef_construction);
      if (e.elements > m.rows()) throw Error("the index holds more vectors than the segments");
      m.index = std::move(e);
    }
    j.at("next_file").get_to(m.next_file);
    j.at("generation").get_to(m.generation);
    return m;
  } catch (const json::exception& e) {
    throw Error("damaged manifest " + path.string() + ": " + e.what());
  } catch (const Error& e) {
    throw Error("damaged manifest " + path.string() + ": " + e.what());
  }
}

void write_manifest(const std::filesystem::path& dir, const Manifest& manifest) {
  replace_file_atomically(dir / kManifestName, manifest_json(manifest));
}

}  // namespace arrowembed::collection
