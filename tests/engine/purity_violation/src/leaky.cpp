// A fixture, never compiled: the purity check must reject this file (it includes a CAF header).
#include <caf/all.hpp>
#include <vector>
