// A layering violation on purpose: the base layer includes a layer above it.
#include "shared.hpp"
