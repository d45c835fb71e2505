// A layering violation on purpose: a private header of another module.
#include "private.hpp"
#include "shared.hpp"
