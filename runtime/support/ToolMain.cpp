//===- ToolMain.cpp - what every runtime tool's main shares ---------------===//

#include "runtime/support/ToolMain.h"

#include <cstdio>
#include <exception>
#include <new>

using namespace lathe::rt;

int lathe::rt::reportError(const char *tool, const Status &status) {
  std::fprintf(stderr, "%s: error: %s\n", tool, status.message().c_str());
  return 1;
}

int lathe::rt::reportUsageError(const char *tool, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s (see %s --help)\n", tool,
               message.c_str(), tool);
  return 2;
}

int lathe::rt::runTool(const char *tool, int (*run)(int, char **), int argc,
                       char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "%s: error: out of memory\n", tool);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, e.what());
  }
  return 1;
}
