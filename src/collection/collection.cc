#include "arrowembed/collection/collection.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/engine/engine_pool.h"
#include "arrowembed/error.h"
#include "collection/durable_io.h"
#include "collection/exact_search.h"
#include "collection/hnsw_index.h"
#include "collection/manifest.h"
#include "collection/segment.h"
#include "format/half.h"
#include "engine/thread_pool.h"

namespace arrowembed::collection {

namespace fs = std::filesystem;

namespace {

std::string segment_name(uint64_t n) { return "seg-" + std::to_string(n) + ".arrow"; }
std::string index_name(uint64_t n) { return "index-" + std::to_string(n) + ".hnsw"; }

size_t build_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

// One writer at a time per collection, across processes: an flock on
// <dir>/.lock held for the whole write. Readers never take it (they read
// the committed manifest, which a writer replaces atomically).
class WriteLock {
 public:
  explicit WriteLock(const fs::path& dir) {
    const fs::path path = dir / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error("collection " + dir.string() + " is being written by another process");
    }
  }
  ~WriteLock() { ::close(fd_); }  // closing releases the lock
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  int fd_;
};

// Deletes what an interrupted or superseded write left: seg-*/index-* files
// the manifest does not name, and *.tmp files. Never touches other files.
void remove_unreferenced(const fs::path& dir, const Manifest& m) {
  std::unordered_set<std::string> keep;
  for (const auto& s : m.segments) keep.insert(s.file);
  if (m.index) keep.insert(m.index->file);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours = (name.starts_with("seg-") && name.ends_with(".arrow")) ||
                      (name.starts_with("index-") && name.ends_with(".hnsw")) || name.ends_with(".tmp");
    if (ours && !keep.contains(name)) fs::remove(entry.path(), ec);
  }
}

FileEntry describe(const fs::path& dir, const std::string& name) {
  FileEntry e;
  e.file = name;
  e.bytes = fs::file_size(dir / name);
  e.xxh3 = file_checksum(dir / name);
  return e;
}

// The file exists with the size and checksum the manifest records.
void verify(const fs::path& dir, const FileEntry& e, const char* kind) {
  const fs::path path = dir / e.file;
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) throw Error("missing " + std::string(kind) + " " + path.string() + ": " + ec.message());
  if (bytes != e.bytes)
    throw Error("damaged " + std::string(kind) + " " + path.string() + ": " + std::to_string(bytes) +
                " bytes, the manifest says " + std::to_string(e.bytes));
  if (file_checksum(path) != e.xxh3)
    throw Error("damaged " + std::string(kind) + " " + path.string() + ": checksum mismatch");
}

}  // namespace

struct Collection::State {
  fs::path dir;
  Manifest manifest;
  std::vector<std::shared_ptr<const Segment>> segments;
  std::vector<uint64_t> bases;              // ordinal of each segment's first row
  std::vector<std::vector<uint8_t>> live;   // per segment, per row
  std::unordered_map<std::string_view, uint64_t> ids;  // live id -> ordinal (views into the mappings)
  std::unique_ptr<HnswIndex> index;
  size_t live_count = 0;
  // Searches share it; writes hold it alone.
  mutable std::shared_mutex mutex;

  size_t dimension() const { return static_cast<size_t>(manifest.model.dimension); }
  uint64_t rows() const { return bases.empty() ? 0 : bases.back() + segments.back()->rows(); }

  // Maps a committed segment (checked against the manifest) and registers its ids and tombstones.
  void attach(const SegmentEntry& entry, bool check_file) {
    const fs::path path = dir / entry.file;
    if (check_file) verify(dir, entry, "segment");
    auto segment = Segment::open(path, entry.rows, dimension(), manifest.dtype);
    const uint64_t base = rows();
    std::vector<uint8_t> alive(segment->rows(), 1);
    for (size_t r = 0; r < segment->rows(); ++r) {
      if (!ids.emplace(segment->id(r), base + r).second)
        throw Error("damaged segment " + path.string() + ": id '" + std::string(segment->id(r)) +
                    "' is already in an earlier segment");
    }
    for (const std::string& id : entry.deleted) {
      const auto found = ids.find(id);
      if (found == ids.end() || found->second < base)
        throw Error("damaged manifest " + (dir / kManifestName).string() + ": deleted id '" + id + "' is not in " +
                    entry.file);
      alive[found->second - base] = 0;
      ids.erase(found);
    }
    live_count += segment->rows() - entry.deleted.size();
    segments.push_back(std::move(segment));
    bases.push_back(base);
    live.push_back(std::move(alive));
  }

  std::pair<size_t, size_t> locate(uint64_t ordinal) const {
    const size_t s = static_cast<size_t>(std::upper_bound(bases.begin(), bases.end(), ordinal) - bases.begin()) - 1;
    return {s, static_cast<size_t>(ordinal - bases[s])};
  }

  // A segment's vectors as f32 (a view for f32 segments, a widened copy for f16).
  const float* vectors(size_t s, std::vector<float>& scratch) const {
    const Segment& seg = *segments[s];
    if (manifest.dtype == DType::F32) return static_cast<const float*>(seg.embeddings());
    scratch.resize(seg.rows() * dimension());
    half::f16_to_f32(static_cast<const uint16_t*>(seg.embeddings()), scratch.data(), scratch.size());
    return scratch.data();
  }

  // Inserts segments [first, end) into `target`, marking their deleted rows.
  void insert_into(HnswIndex& target, size_t first) const {
    std::vector<float> scratch;
    for (size_t s = first; s < segments.size(); ++s) {
      target.add(vectors(s, scratch), segments[s]->rows(), bases[s], build_threads());
      for (size_t r = 0; r < segments[s]->rows(); ++r)
        if (!live[s][r]) target.mark_deleted(bases[s] + r);
    }
  }

  std::unique_ptr<HnswIndex> build_index() const {
    auto index = std::make_unique<HnswIndex>(dimension(), rows(), HnswParams{});
    insert_into(*index, 0);
    return index;
  }

  // Writes `index` as a new file of `next` (numbered from next.next_file).
  void save_index(const HnswIndex& index, Manifest& next) const {
    const std::string name = index_name(next.next_file++);
    index.save(dir / name);
    IndexEntry e;
    static_cast<FileEntry&>(e) = describe(dir, name);
    e.elements = index.elements();
    next.index = e;
  }

  // Makes `next` the committed state: the new manifest replaces the old one
  // atomically, then the files only the old one named are removed.
  void commit(Manifest next) {
    next.generation = manifest.generation + 1;
    write_manifest(dir, next);
    manifest = std::move(next);
    remove_unreferenced(dir, manifest);
  }

  // Refuses to write over a commit this process has not seen.
  void check_current() const {
    if (read_manifest(dir).generation != manifest.generation)
      throw Error("collection " + dir.string() + " was changed by another process since it was opened; open it again");
  }
};

namespace {

std::shared_ptr<Collection::State> load_state(const fs::path& dir) {
  auto state = std::make_shared<Collection::State>();
  state->dir = dir;
  state->manifest = read_manifest(dir);
  for (const auto& entry : state->manifest.segments) state->attach(entry, true);
  if (const auto& e = state->manifest.index) {
    verify(dir, *e, "index");
    if (e->elements != state->rows())
      throw Error("damaged manifest " + (dir / kManifestName).string() + ": the index holds " +
                  std::to_string(e->elements) + " vectors, the segments " + std::to_string(state->rows()));
    HnswParams params;
    params.m = e->m;
    params.ef_construction = e->ef_construction;
    state->index = std::make_unique<HnswIndex>(dir / e->file, state->dimension(), e->elements, params);
    // Tombstones committed after the index file was written.
    for (size_t s = 0; s < state->segments.size(); ++s)
      for (size_t r = 0; r < state->segments[s]->rows(); ++r)
        if (!state->live[s][r]) state->index->mark_deleted(state->bases[s] + r);
  }
  return state;
}

void check_column_name(const std::string& name) {
  // score and query are reserved too: search results put metadata beside them.
  if (name.empty() || name == "id" || name == "text" || name == "embedding" || name == "score" || name == "query")
    throw Error("metadata column name '" + name + "' is empty or reserved (id, text, embedding, score, query)");
}

}  // namespace

Collection::Collection(std::shared_ptr<State> state) : state_(std::move(state)) {}

Collection Collection::create(const fs::path& dir, const ModelFingerprint& model, DType dtype) {
  if (model.dimension <= 0) throw Error("a collection needs a positive dimension");
  if (model.digest.empty()) throw Error("a collection needs the model's fingerprint digest");
  if (dtype != DType::F32 && dtype != DType::F16) throw Error("collections store f32 or f16 embeddings");
  std::error_code ec;
  if (fs::exists(dir / kManifestName, ec)) throw Error("a collection already exists at " + dir.string());
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
  Manifest m;
  m.model = model;
  m.dtype = dtype;
  WriteLock lock(dir);
  write_manifest(dir, m);
  const fs::path parent = fs::absolute(dir).parent_path();
  fsync_dir(parent);  // the new directory's own entry
  return open(dir);
}

Collection Collection::open(const fs::path& dir) { return Collection(load_state(dir)); }

void Collection::require_model(const ModelFingerprint& model) const {
  const ModelFingerprint& mine = state_->manifest.model;
  if (model.dimension != mine.dimension)
    throw Error("the collection at " + state_->dir.string() + " holds " + std::to_string(mine.dimension) +
                "-dimensional vectors, the model makes " + std::to_string(model.dimension));
  if (model.digest != mine.digest)
    throw Error("the collection at " + state_->dir.string() + " was built with another model ('" + mine.model_name +
                "', fingerprint " + mine.digest + "; this one is '" + model.model_name + "', " + model.digest + ")");
}

void Collection::add(const NewDocuments& docs, bool auto_index) {
  State& s = *state_;
  std::unique_lock guard(s.mutex);
  const size_t n = docs.ids.size(), dim = s.dimension();
  if (docs.model) require_model(*docs.model);
  if (docs.texts.size() != n)
    throw Error(std::to_string(n) + " ids but " + std::to_string(docs.texts.size()) + " texts");
  if (docs.embeddings.size() != n * dim)
    throw Error("embeddings hold " + std::to_string(docs.embeddings.size()) + " floats; " + std::to_string(n) +
                " documents of dimension " + std::to_string(dim) + " need " + std::to_string(n * dim));
  std::unordered_set<std::string_view> columns;
  for (const auto& [name, values] : docs.metadata) {
    check_column_name(name);
    if (!columns.insert(name).second) throw Error("metadata column '" + name + "' is given twice");
    if (values.size() != n)
      throw Error("metadata column '" + name + "' has " + std::to_string(values.size()) + " values for " +
                  std::to_string(n) + " documents");
  }
  std::unordered_set<std::string_view> batch;
  for (const std::string& id : docs.ids) {
    if (id.empty()) throw Error("document ids must not be empty");
    if (!batch.insert(id).second) throw Error("duplicate id '" + id + "' in the documents to add");
    if (s.ids.contains(id)) throw Error("duplicate id '" + id + "': the collection already has it");
  }
  if (n == 0) return;

  WriteLock lock(s.dir);
  s.check_current();
  try {
    Manifest next = s.manifest;
    SegmentEntry entry;
    const std::string name = segment_name(next.next_file++);
    write_segment(s.dir / name, docs, 0, n, dim, next.dtype);
    static_cast<FileEntry&>(entry) = describe(s.dir, name);
    entry.rows = n;
    next.segments.push_back(entry);
    for (const auto& [column, values] : docs.metadata)
      if (std::find(next.metadata_columns.begin(), next.metadata_columns.end(), column) == next.metadata_columns.end())
        next.metadata_columns.push_back(column);
    // In memory first (the new segment and the index insert), then commit.
    const size_t first_new = s.segments.size();
    s.attach(entry, false);
    if (s.index) {
      s.insert_into(*s.index, first_new);
      s.save_index(*s.index, next);
    } else if (auto_index && s.rows() >= kExactBelow) {
      s.index = s.build_index();
      s.save_index(*s.index, next);
    }
    s.commit(std::move(next));
  } catch (...) {
    // Memory may be ahead of the committed state: go back to it.
    auto fresh = load_state(s.dir);
    std::swap(s.manifest, fresh->manifest);
    std::swap(s.segments, fresh->segments);
    std::swap(s.bases, fresh->bases);
    std::swap(s.live, fresh->live);
    std::swap(s.ids, fresh->ids);
    std::swap(s.index, fresh->index);
    std::swap(s.live_count, fresh->live_count);
    throw;
  }
}

size_t Collection::remove(const std::vector<std::string>& ids) {
  State& s = *state_;
  std::unique_lock guard(s.mutex);
  std::vector<uint64_t> found;
  std::unordered_set<std::string_view> seen;
  for (const std::string& id : ids) {
    const auto it = s.ids.find(id);
    if (it != s.ids.end() && seen.insert(id).second) found.push_back(it->second);
  }
  if (found.empty()) return 0;
  WriteLock lock(s.dir);
  s.check_current();
  Manifest next = s.manifest;
  for (uint64_t ordinal : found) {
    const auto [seg, row] = s.locate(ordinal);
    next.segments[seg].deleted.emplace_back(s.segments[seg]->id(row));
  }
  // The index file is not rewritten: open() re-applies the tombstones to it.
  s.commit(std::move(next));
  for (uint64_t ordinal : found) {
    const auto [seg, row] = s.locate(ordinal);
    s.live[seg][row] = 0;
    s.ids.erase(s.segments[seg]->id(row));
    if (s.index) s.index->mark_deleted(ordinal);
  }
  s.live_count -= found.size();
  return found.size();
}

void Collection::compact() {
  State& s = *state_;
  std::unique_lock guard(s.mutex);
  WriteLock lock(s.dir);
  s.check_current();
  // The live rows, in order, as one batch of documents; a column a segment
  // lacks becomes "" for its rows.
  NewDocuments docs;
  const size_t dim = s.dimension();
  for (const auto& column : s.manifest.metadata_columns) docs.metadata.emplace_back(column, std::vector<std::string>{});
  docs.ids.reserve(s.live_count);
  docs.embeddings.reserve(s.live_count * dim);
  std::vector<float> scratch;
  for (size_t seg = 0; seg < s.segments.size(); ++seg) {
    const Segment& segment = *s.segments[seg];
    const float* vectors = s.vectors(seg, scratch);
    std::vector<const arrow::StringArray*> columns;
    for (const auto& column : s.manifest.metadata_columns) columns.push_back(segment.column(column));
    for (size_t r = 0; r < segment.rows(); ++r) {
      if (!s.live[seg][r]) continue;
      docs.ids.emplace_back(segment.id(r));
      docs.texts.emplace_back(segment.text(r));
      for (size_t c = 0; c < columns.size(); ++c)
        docs.metadata[c].second.emplace_back(columns[c] ? columns[c]->GetView(static_cast<int64_t>(r)) : "");
      docs.embeddings.insert(docs.embeddings.end(), vectors + r * dim, vectors + (r + 1) * dim);
    }
  }
  const bool had_index = s.index != nullptr;
  Manifest next = s.manifest;
  next.segments.clear();
  next.index.reset();
  if (!docs.ids.empty()) {
    SegmentEntry entry;
    const std::string name = segment_name(next.next_file++);
    write_segment(s.dir / name, docs, 0, docs.ids.size(), dim, next.dtype);
    static_cast<FileEntry&>(entry) = describe(s.dir, name);
    entry.rows = docs.ids.size();
    next.segments.push_back(entry);
  }
  // Build the new state beside the old one; swap only after the commit.
  auto fresh = std::make_shared<State>();
  fresh->dir = s.dir;
  fresh->manifest = next;
  for (const auto& entry : next.segments) fresh->attach(entry, false);
  if (had_index || fresh->rows() >= kExactBelow) {
    fresh->index = fresh->build_index();
    fresh->save_index(*fresh->index, next);
  }
  s.commit(std::move(next));
  std::swap(s.segments, fresh->segments);
  std::swap(s.bases, fresh->bases);
  std::swap(s.live, fresh->live);
  std::swap(s.ids, fresh->ids);
  std::swap(s.index, fresh->index);
  s.live_count = fresh->live_count;
}

void Collection::build_index() {
  State& s = *state_;
  std::unique_lock guard(s.mutex);
  WriteLock lock(s.dir);
  s.check_current();
  auto index = s.build_index();
  Manifest next = s.manifest;
  s.save_index(*index, next);
  s.commit(std::move(next));
  s.index = std::move(index);
}

CollectionInfo Collection::info() const {
  const State& s = *state_;
  std::shared_lock guard(s.mutex);
  CollectionInfo info;
  info.path = s.dir;
  info.size = s.live_count;
  info.dimension = s.dimension();
  info.dtype = s.manifest.dtype;
  info.model = s.manifest.model;
  info.segments = s.segments.size();
  info.deleted = s.manifest.deleted();
  info.has_index = s.index != nullptr;
  info.metadata_columns = s.manifest.metadata_columns;
  return info;
}

std::vector<std::vector<Hit>> Collection::search(std::span<const float> queries, size_t k,
                                                 const std::vector<Filter>& filters, SearchMode mode,
                                                 EnginePool* pool) const {
  const State& s = *state_;
  std::shared_lock guard(s.mutex);
  const size_t dim = s.dimension();
  if (queries.size() % dim != 0)
    throw Error("queries hold " + std::to_string(queries.size()) + " floats, not a multiple of the dimension " +
                std::to_string(dim));
  const size_t nq = queries.size() / dim;
  for (const Filter& f : filters) {
    const auto& cols = s.manifest.metadata_columns;
    if (f.column != "id" && f.column != "text" && std::find(cols.begin(), cols.end(), f.column) == cols.end()) {
      std::string known = "id, text";
      for (const auto& c : cols) known += ", " + c;
      throw Error("no column '" + f.column + "' to filter on (columns: " + known + ")");
    }
  }
  if (mode == SearchMode::Approx && !s.index)
    throw Error("the collection at " + s.dir.string() +
                " has no approximate index (build one with `arrowembed index build`, or search exactly)");
  const bool approx = mode == SearchMode::Approx ||
                      (mode == SearchMode::Auto && s.index && filters.empty() && s.live_count >= kExactBelow);

  std::unique_lock<std::mutex> pool_lock;
  engine::ThreadPool* threads = nullptr;
  if (pool) {
    pool_lock = pool->lock();
    threads = &pool->threads();
  }
  std::vector<std::vector<Scored>> ranked(nq);
  if (!approx) {
    std::vector<SegmentView> views;
    for (size_t i = 0; i < s.segments.size(); ++i) views.push_back({s.segments[i].get(), s.bases[i], s.live[i].data()});
    auto heaps = exact_search(views, dim, s.manifest.dtype, queries.data(), nq, k, filters, threads);
    for (size_t q = 0; q < nq; ++q) ranked[q] = heaps[q].sorted();
  } else {
    // hnswlib 0.6 has no filtered search: with filters, fetch more and keep
    // the matching ones; a query left short is answered exactly.
    const size_t fetch = filters.empty() ? k : std::min<size_t>(s.live_count, std::max<size_t>(k * 10, 100));
    std::vector<uint8_t> short_of_k(nq, 0);
    auto one = [&](size_t q) {
      if (k == 0) return;
      for (const auto& [score, ordinal] : s.index->search(queries.data() + q * dim, fetch)) {
        const auto [seg, row] = s.locate(ordinal);
        bool keep = true;
        for (const Filter& f : filters) {
          const auto* column = s.segments[seg]->column(f.column);
          keep = keep && column && column->GetView(static_cast<int64_t>(row)) == f.value;
        }
        if (keep && ranked[q].size() < k) ranked[q].push_back({score, ordinal});
      }
      short_of_k[q] = !filters.empty() && ranked[q].size() < std::min(k, s.live_count);
    };
    if (threads && nq > 1)
      threads->parallel_for(nq, one);
    else
      for (size_t q = 0; q < nq; ++q) one(q);
    for (size_t q = 0; q < nq; ++q) {
      if (!short_of_k[q]) continue;
      std::vector<SegmentView> views;
      for (size_t i = 0; i < s.segments.size(); ++i)
        views.push_back({s.segments[i].get(), s.bases[i], s.live[i].data()});
      ranked[q] = exact_search(views, dim, s.manifest.dtype, queries.data() + q * dim, 1, k, filters, threads)[0].sorted();
    }
  }
  if (pool_lock.owns_lock()) pool_lock.unlock();

  std::vector<std::vector<Hit>> out(nq);
  for (size_t q = 0; q < nq; ++q) {
    for (const Scored& r : ranked[q]) {
      const auto [seg, row] = s.locate(r.ordinal);
      const Segment& segment = *s.segments[seg];
      Hit hit;
      hit.id = segment.id(row);
      hit.score = r.score;
      hit.text = segment.text(row);
      for (const auto& [name, column] : segment.metadata())
        hit.metadata.emplace_back(name, std::string(column->GetView(static_cast<int64_t>(row))));
      out[q].push_back(std::move(hit));
    }
  }
  return out;
}

ModelFingerprint model_fingerprint(const Embedder& embedder, const std::string& name) {
  ModelFingerprint f;
  f.digest = embedder.fingerprint();
  f.dimension = static_cast<int64_t>(embedder.dimension());
  f.normalized = embedder.config().normalize;
  f.model_name = name;
  return f;
}

}  // namespace arrowembed::collection
