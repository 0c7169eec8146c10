// The models config file and the entry an admin request sends.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "arrowembed/service/model_spec.h"
#include "arrowembed/service/service_error.h"

namespace arrowembed::service {
namespace {

std::filesystem::path write_config(const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "arrowembed-models-config";
  std::filesystem::create_directories(dir);
  const auto path = dir / "models.json";
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& text) {
  try {
    read_models_config(write_config(text));
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return {};
}

TEST(ModelsConfig, ReadsEntriesWithDefaultsAndRelativePaths) {
  const auto path = write_config(R"({"models": [
    {"name": "a", "path": "a.arrow"},
    {"name": "b", "path": "/abs/b.arrow", "precision": "bf16", "default": true, "max_batch_tokens": 512,
     "max_batch_wait_ms": 2.5, "max_queue_inputs": 100, "auto_truncate": true}]})");
  const auto specs = read_models_config(path, {.max_batch_tokens = 999});
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].path, path.parent_path() / "a.arrow");
  EXPECT_EQ(specs[0].limits.max_batch_tokens, 999u);
  EXPECT_FALSE(specs[0].is_default);
  EXPECT_EQ(specs[1].path, "/abs/b.arrow");
  EXPECT_EQ(specs[1].precision, MatmulPrecision::BF16);
  EXPECT_TRUE(specs[1].is_default);
  EXPECT_EQ(specs[1].limits.max_batch_tokens, 512u);
  EXPECT_EQ(specs[1].limits.max_batch_wait_ms, 2.5);
  EXPECT_EQ(specs[1].limits.max_queue_inputs, 100u);
  EXPECT_TRUE(specs[1].limits.auto_truncate);
  // Without a marked default, the first is the default.
  EXPECT_TRUE(read_models_config(write_config(R"({"models": [{"name": "a", "path": "a"}]})"))[0].is_default);
}

TEST(ModelsConfig, ClearErrors) {
  EXPECT_NE(error_of(R"([1])").find("expected {\"models\""), std::string::npos);
  EXPECT_NE(error_of(R"({"models": []})").find("no model"), std::string::npos);
  EXPECT_NE(error_of(R"({"models": [{"path": "a"}]})").find("models[0]: missing field 'name'"), std::string::npos);
  EXPECT_NE(error_of(R"({"models": [{"name": "a", "path": "a", "colour": 1}]})").find("unknown field 'colour'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"models": [{"name": "a", "path": "a", "precision": "f8"}]})").find("unknown precision"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"models": [{"name": "a", "path": "a", "max_batch_tokens": 0}]})").find("positive"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"models": [{"name": "a", "path": "a"}, {"name": "a", "path": "b"}]})").find("twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"models": [{"name": "a", "path": "a", "default": true},
                                     {"name": "b", "path": "b", "default": true}]})")
                .find("more than one"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"models": )").find("models.json"), std::string::npos);
  EXPECT_THROW(read_models_config("/nonexistent/models.json"), Error);
}

TEST(ModelsConfig, AdminEntryNamesTheBadField) {
  const ModelSpec s = read_model_entry(R"({"path": "m.arrow", "precision": "bf16"})", "m", {.max_queue_inputs = 7});
  EXPECT_EQ(s.name, "m");
  EXPECT_EQ(s.path, "m.arrow");
  EXPECT_EQ(s.precision, MatmulPrecision::BF16);
  EXPECT_EQ(s.limits.max_queue_inputs, 7u);
  auto field_of = [](const std::string& body) {
    try {
      read_model_entry(body, "m");
    } catch (const ServiceError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidInput);
      return e.field();
    }
    ADD_FAILURE() << "no error for " << body;
    return std::string();
  };
  EXPECT_EQ(field_of(R"({})"), "path");
  EXPECT_EQ(field_of(R"({"path": 3})"), "path");
  EXPECT_EQ(field_of(R"({"path": "a", "max_queue_inputs": -1})"), "max_queue_inputs");
  EXPECT_EQ(field_of(R"({"path": "a", "name": "x"})"), "");
  EXPECT_EQ(field_of(R"({"path": "a", "precision": "f8"})"), "precision");
  try {
    read_model_entry("not json", "m");
    ADD_FAILURE() << "not JSON accepted";
  } catch (const ServiceError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Malformed);
  }
}

}  // namespace
}  // namespace arrowembed::service
