// arrowembed._arrowembed: the native half of the Python package. The public
// API (argument names, defaults, pyarrow and NumPy types) is the pure-Python
// python/arrowembed/__init__.py; this module is what it calls.
#include <nanobind/nanobind.h>

#include "arrowembed/error.h"
#include "arrowembed/version.h"
#include "python/bindings.h"

namespace nb = nanobind;

NB_MODULE(_arrowembed, m) {
  m.doc() = "arrowembed's native module; use the arrowembed package.";
  m.attr("__version__") = ARROWEMBED_VERSION;
  // Every arrowembed::Error (a bad file, bad input, a service refusal)
  // surfaces as arrowembed.Error, a ValueError, with the engine's message.
  nb::exception<arrowembed::Error>(m, "Error", PyExc_ValueError);
  arrowembed::python::bind_model(m);
  arrowembed::python::bind_tool(m);
}
