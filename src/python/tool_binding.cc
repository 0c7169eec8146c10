// arrowembed._arrowembed.Tool: the EmbeddingTool (embed, similarity, search
// over collections) on its own in-process service, for agents written in
// Python (LangChain and others). Arguments and results cross as JSON text:
// the tool's own format, which the Python side turns into dicts.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "arrowembed/service/embedding_service.h"
#include "arrowembed/service/service_error.h"
#include "arrowembed/tool/embedding_tool.h"
#include "python/bindings.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace arrowembed::python {
namespace {

using NamedPaths = std::vector<std::pair<std::string, std::string>>;

class Tool {
 public:
  Tool(const NamedPaths& models, const NamedPaths& collections, size_t threads) {
    if (models.empty()) throw Error("a Tool needs at least one model");
    nb::gil_scoped_release unlocked;
    service::ServiceOptions options;
    options.engine_threads = threads;
    service_ = std::make_unique<service::EmbeddingService>(options);
    for (const auto& [name, path] : models) service_->load({.name = name, .path = path});
    for (const auto& [name, path] : collections) service_->attach_collection({.name = name, .path = path});
    tool_ = std::make_unique<tool::EmbeddingTool>(*service_);
  }

  ~Tool() {
    nb::gil_scoped_release unlocked;  // the service joins its batcher threads
    tool_.reset();
    service_.reset();
  }

  std::string schema() const { return tool_->get_schema().dump(); }

  std::string call(const std::string& action, const std::string& arguments_json) const {
    tool::Json arguments = tool::Json::parse(arguments_json, nullptr, /*allow_exceptions=*/false);
    if (arguments.is_discarded()) throw Error("the arguments are not JSON");
    nb::gil_scoped_release unlocked;
    return tool_->execute(action, arguments).dump();
  }

 private:
  std::unique_ptr<service::EmbeddingService> service_;
  std::unique_ptr<tool::EmbeddingTool> tool_;
};

}  // namespace

void bind_tool(nb::module_& m) {
  nb::class_<Tool>(m, "Tool")
      .def(nb::init<const NamedPaths&, const NamedPaths&, size_t>(), "models"_a, "collections"_a, "threads"_a = 0)
      .def("schema", &Tool::schema)
      .def("call", &Tool::call, "action"_a, "arguments_json"_a);
}

}  // namespace arrowembed::python
