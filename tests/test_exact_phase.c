#include "test_common.h"
Test(placeholder, none) {}
