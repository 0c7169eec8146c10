#pragma once
// The pieces of the _arrowembed extension module, each registering its
// classes on the module (module.cc calls them in order).
#include <nanobind/nanobind.h>

namespace arrowembed::python {

void bind_model(nanobind::module_& m);
void bind_tool(nanobind::module_& m);

}  // namespace arrowembed::python
