// Collections on synthetic unit vectors: results against a brute-force
// reference computed here in double, persistence, deletes, compaction, the
// index, and every refusal naming its file.
#include "arrowembed/collection/collection.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include "arrowembed/engine/engine_pool.h"
#include "arrowembed/error.h"
#include "common/test_util.h"

namespace arrowembed::collection {
namespace {

using arrowembed::testing::TempDir;
constexpr size_t kDim = 48;

std::vector<float> unit_vectors(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    double norm = 0;
    for (size_t d = 0; d < kDim; ++d) norm += std::pow(v[i * kDim + d] = normal(rng), 2);
    for (size_t d = 0; d < kDim; ++d) v[i * kDim + d] /= static_cast<float>(std::sqrt(norm));
  }
  return v;
}

ModelFingerprint model() { return {"feedface", static_cast<int64_t>(kDim), true, "test"}; }

NewDocuments docs(size_t n, size_t first, uint32_t seed) {
  NewDocuments d;
  std::vector<std::string> parity;
  for (size_t i = first; i < first + n; ++i) {
    d.ids.push_back("doc-" + std::to_string(i));
    d.texts.push_back("text " + std::to_string(i));
    parity.push_back(i % 2 ? "odd" : "even");
  }
  d.metadata.emplace_back("parity", parity);
  d.embeddings = unit_vectors(n, seed);
  return d;
}

// Ids of the k best by a double-precision inner product, ties by row.
std::vector<std::string> brute_force(const std::vector<NewDocuments>& all, const float* q, size_t k,
                                     const std::function<bool(const std::string&)>& keep) {
  std::vector<std::pair<double, std::string>> scored;
  for (const auto& d : all)
    for (size_t i = 0; i < d.ids.size(); ++i) {
      if (!keep(d.ids[i])) continue;
      double s = 0;
      for (size_t j = 0; j < kDim; ++j) s += double(d.embeddings[i * kDim + j]) * q[j];
      scored.emplace_back(-s, d.ids[i]);
    }
  std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < std::min(k, scored.size()); ++i) out.push_back(scored[i].second);
  return out;
}

std::vector<std::string> ids(const std::vector<Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

TEST(Collection, ExactSearchMatchesBruteForceAcrossSegmentsThreadsAndReopen) {
  TempDir dir;
  std::vector<NewDocuments> all = {docs(5000, 0, 1), docs(3001, 5000, 2)};
  {
    auto c = Collection::create(dir / "c", model());
    for (const auto& d : all) c.add(d);
  }
  const auto c = Collection::open(dir / "c");
  EXPECT_EQ(c.info().size, 8001u);
  EXPECT_EQ(c.info().segments, 2u);
  const auto queries = unit_vectors(5, 99);
  auto pool = EnginePool::create(2);
  for (EnginePool* p : {static_cast<EnginePool*>(nullptr), pool.get()}) {
    const auto results = c.search(queries, 10, {}, SearchMode::Exact, p);
    ASSERT_EQ(results.size(), 5u);
    for (size_t q = 0; q < 5; ++q)
      EXPECT_EQ(ids(results[q]), brute_force(all, &queries[q * kDim], 10, [](auto&) { return true; }));
  }
  // A filter on metadata, and one on the id.
  const auto odd = c.search(std::span(queries).first(kDim), 7, {{"parity", "odd"}}, SearchMode::Auto, pool.get());
  EXPECT_EQ(ids(odd[0]), brute_force(all, queries.data(), 7, [](const std::string& id) {
              return std::stoi(id.substr(4)) % 2 == 1;
            }));
  EXPECT_EQ(odd[0][0].metadata, (std::vector<std::pair<std::string, std::string>>{{"parity", "odd"}}));
  const auto one = c.search(std::span(queries).first(kDim), 3, {{"id", "doc-42"}});
  ASSERT_EQ(one[0].size(), 1u);
  EXPECT_EQ(one[0][0].text, "text 42");
}

TEST(Collection, F16StorageDeletesCompactAndIndex) {
  TempDir dir;
  std::vector<NewDocuments> all = {docs(3000, 0, 3)};
  auto c = Collection::create(dir / "c", model(), DType::F16);
  c.add(all[0]);
  c.build_index();
  EXPECT_TRUE(c.info().has_index);
  EXPECT_EQ(c.remove({"doc-1", "doc-2", "missing"}), 2u);
  EXPECT_EQ(c.info().deleted, 2u);
  const auto queries = unit_vectors(20, 7);
  auto keep = [](const std::string& id) { return id != "doc-1" && id != "doc-2"; };
  size_t agree = 0;
  for (auto mode : {SearchMode::Exact, SearchMode::Approx}) {
    const auto reopened = Collection::open(dir / "c");
    const auto results = reopened.search(queries, 10, {}, mode);
    for (size_t q = 0; q < 20; ++q) {
      const auto want = brute_force(all, &queries[q * kDim], 10, keep);
      for (const auto& h : results[q]) {
        EXPECT_TRUE(keep(h.id));
        agree += std::count(want.begin(), want.end(), h.id);
      }
    }
  }
  // f16 rounding may swap near-ties; the index may miss a few.
  EXPECT_GE(agree, 2 * 200 * 95 / 100);
  c.compact();
  EXPECT_EQ(c.info().deleted, 0u);
  EXPECT_EQ(c.info().segments, 1u);
  EXPECT_EQ(Collection::open(dir / "c").info().size, 2998u);
  EXPECT_TRUE(Collection::open(dir / "c").info().has_index);
}

void expect_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    FAIL() << "no error; expected one mentioning " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Collection, RefusesBadInputAndDamagedFilesNamingThem) {
  TempDir dir;
  auto c = Collection::create(dir / "c", model());
  c.add(docs(100, 0, 5));
  c.build_index();
  expect_error([&] { c.add(docs(1, 5, 6)); }, "duplicate id 'doc-5'");
  auto twice = docs(2, 200, 6);
  twice.ids[1] = twice.ids[0];
  expect_error([&] { c.add(twice); }, "duplicate id 'doc-200' in the documents");
  auto wrong = docs(2, 300, 6);
  wrong.embeddings.pop_back();
  expect_error([&] { c.add(wrong); }, "dimension 48");
  auto other = docs(2, 400, 6);
  other.model = ModelFingerprint{"0ther", static_cast<int64_t>(kDim), true, "other"};
  expect_error([&] { c.add(other); }, "another model");
  expect_error([&] { c.search(std::vector<float>(kDim + 1), 3); }, "multiple of the dimension");
  expect_error([&] { c.search(std::vector<float>(kDim), 3, {{"colour", "red"}}); }, "no column 'colour'");
  expect_error([&] { Collection::create(dir / "c", model()); }, "already exists");
  expect_error([&] { Collection::open(dir / "nothing"); }, "nothing");

  const auto manifest = dir / "c" / "manifest.json";
  auto flip_last_byte = [](const std::filesystem::path& p) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    char b = static_cast<char>(f.get() ^ 0x5a);
    f.seekp(-1, std::ios::end);
    f.put(b);
  };
  std::string seg, index;
  for (const auto& e : std::filesystem::directory_iterator(dir / "c")) {
    const auto name = e.path().filename().string();
    if (name.starts_with("seg-")) seg = name;
    if (name.starts_with("index-")) index = name;
  }
  flip_last_byte(dir / "c" / index);
  expect_error([&] { Collection::open(dir / "c"); }, "damaged index " + (dir / "c" / index).string());
  flip_last_byte(dir / "c" / index);
  flip_last_byte(dir / "c" / seg);
  expect_error([&] { Collection::open(dir / "c"); }, "damaged segment " + (dir / "c" / seg).string());
  flip_last_byte(dir / "c" / seg);
  EXPECT_EQ(Collection::open(dir / "c").info().size, 100u);
  std::filesystem::resize_file(manifest, 30);
  expect_error([&] { Collection::open(dir / "c"); }, "damaged manifest " + manifest.string());
}

}  // namespace
}  // namespace arrowembed::collection
