//===- GraphExport.h - a module's model graph as Graphviz DOT ---*- C++ -*-===//
//
// `lathe-compile --emit-graph=FILE.dot`: what the compiler made of the model
// at a phase, for people. Graph phases show one node per op with its result
// shape, weights as small nodes (many weights of one op, a MoE layer's
// experts, as one), and a cluster per decoder layer; the kernels phase shows
// one node per launch with its kernel and family, linked through the
// buffers launches share.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_COMPILER_GRAPHEXPORT_H
#define LATHE_COMPILER_GRAPHEXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace lathe {

/// Writes every function of `module` outside its target modules as one DOT
/// digraph, a cluster per function.
void writeGraph(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace lathe

#endif // LATHE_COMPILER_GRAPHEXPORT_H
