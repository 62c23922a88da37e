//===- Link.cpp - an object file to a shared object -----------------------===//
//
// lld's ELF driver runs in this process (lld::lldMain), so lathe-compile
// needs no linker installed. The driver keeps global state while it runs,
// so links are serialized. Builds without lld's libraries fall back to
// `cc -shared -nostdlib` found on PATH.
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/Link.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

#if LATHE_HAVE_LLD
#include "lld/Common/Driver.h"
LLD_HAS_DRIVER(elf)
#endif

using namespace lathe;
using llvm::StringRef;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Symbols a shared object may leave for the process to provide.
constexpr StringRef kProvidedByLibc[] = {"memcpy", "memmove", "memset"};

llvm::Error checkUndefinedSymbols(llvm::ArrayRef<char> object) {
  llvm::MemoryBufferRef buffer(StringRef(object.data(), object.size()),
                               "lathe_cpu.o");
  auto file = llvm::object::ObjectFile::createObjectFile(buffer);
  if (!file)
    return error("cpu target: the emitted object is unreadable: " +
                 llvm::toString(file.takeError()));
  llvm::SmallVector<std::string> missing;
  for (const llvm::object::SymbolRef &symbol : (*file)->symbols()) {
    llvm::Expected<uint32_t> flags = symbol.getFlags();
    llvm::Expected<StringRef> name = symbol.getName();
    if (!flags || !name) {
      llvm::consumeError(flags.takeError());
      llvm::consumeError(name.takeError());
      continue;
    }
    if (!(*flags & llvm::object::SymbolRef::SF_Undefined) || name->empty() ||
        llvm::is_contained(kProvidedByLibc, *name))
      continue;
    missing.push_back(name->str());
  }
  if (missing.empty())
    return llvm::Error::success();
  return error("cpu target: the kernels call functions that the shared "
               "object cannot rely on the process to provide: " +
               llvm::join(missing, ", "));
}

llvm::Error writeFile(StringRef path, llvm::ArrayRef<char> bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return error("cpu target: cannot write " + path + ": " + ec.message());
  out.write(bytes.data(), bytes.size());
  out.close();
  if (out.has_error())
    return error("cpu target: cannot write " + path + ": " +
                 out.error().message());
  return llvm::Error::success();
}

#if LATHE_HAVE_LLD
llvm::Error runLinker(StringRef objectPath, StringRef outputPath) {
  static std::mutex lldMutex;
  std::lock_guard<std::mutex> lock(lldMutex);
  std::string objectArg = objectPath.str(), outputArg = outputPath.str();
  const char *args[] = {"ld.lld", "-shared", "-z", "noexecstack", "-z",
                        "relro", "--hash-style=gnu", "-o", outputArg.c_str(),
                        objectArg.c_str()};
  std::string messages;
  llvm::raw_string_ostream out(messages), err(messages);
  lld::Result result =
      lld::lldMain(args, out, err, {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0)
    return error("cpu target: lld failed to link the kernels: " + messages);
  return llvm::Error::success();
}
#else
llvm::Error runLinker(StringRef objectPath, StringRef outputPath) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return error("cpu target: this lathe was built without lld and finds no "
                 "`cc` on PATH to link the kernels with");
  llvm::SmallString<128> log;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("lathe-cpu-link", "log", log))
    return error("cpu target: cannot create a temporary file: " +
                 ec.message());
  llvm::FileRemover removeLog(log);
  StringRef args[] = {*cc, "-shared", "-nostdlib", "-Wl,-z,noexecstack",
                      "-o", outputPath, objectPath};
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                          StringRef(log)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, redirects,
                                         /*SecondsToWait=*/0,
                                         /*MemoryLimit=*/0, &message);
  if (status != 0) {
    auto output = llvm::MemoryBuffer::getFile(log);
    return error("cpu target: `cc -shared` failed to link the kernels: " +
                 (output ? (*output)->getBuffer().str() : message));
  }
  return llvm::Error::success();
}
#endif

} // namespace

const char *lathe::cpu::linkerName() {
#if LATHE_HAVE_LLD
  return "lld";
#else
  return "cc";
#endif
}

llvm::Expected<std::vector<char>>
lathe::cpu::linkSharedObject(llvm::ArrayRef<char> object) {
  if (llvm::Error err = checkUndefinedSymbols(object))
    return std::move(err);
  llvm::SmallString<128> objectPath, outputPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("lathe-cpu", "o", objectPath))
    return error("cpu target: cannot create a temporary file: " +
                 ec.message());
  llvm::FileRemover removeObject(objectPath);
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("lathe-cpu", "so", outputPath))
    return error("cpu target: cannot create a temporary file: " +
                 ec.message());
  llvm::FileRemover removeOutput(outputPath);
  if (llvm::Error err = writeFile(objectPath, object))
    return std::move(err);
  if (llvm::Error err = runLinker(objectPath, outputPath))
    return std::move(err);
  auto linked = llvm::MemoryBuffer::getFile(outputPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!linked)
    return error("cpu target: cannot read the linked shared object: " +
                 linked.getError().message());
  StringRef bytes = (*linked)->getBuffer();
  return std::vector<char>(bytes.begin(), bytes.end());
}
