//===- ToolMain.h - what every runtime tool's main shares -------*- C++ -*-===//
//
// lathe-run, lathe-inspect and lathe-bench report errors the same way:
// "TOOL: error: MESSAGE" on stderr and exit status 1, or status 2 for a
// malformed command line, which also points at --help.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_RUNTIME_SUPPORT_TOOLMAIN_H
#define LATHE_RUNTIME_SUPPORT_TOOLMAIN_H

#include "runtime/support/Status.h"

#include <string>

namespace lathe::rt {

/// Prints "TOOL: error: MESSAGE" and returns 1.
int reportError(const char *tool, const Status &status);

/// Prints "TOOL: error: MESSAGE (see TOOL --help)" and returns 2.
int reportUsageError(const char *tool, const std::string &message);

/// Returns run(argc, argv). Library code reports errors as Status; what can
/// still escape is running out of memory, which must end in a message and
/// status 1 rather than a crash.
int runTool(const char *tool, int (*run)(int, char **), int argc, char **argv);

} // namespace lathe::rt

#endif // LATHE_RUNTIME_SUPPORT_TOOLMAIN_H
