//===- GraphExport.cpp - a module's model graph as Graphviz DOT -----------===//

#include "compiler/GraphExport.h"

#include "dialects/lathe/IR/LatheOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>
#include <set>

using namespace mlir;
using namespace lathe;
using llvm::formatv;

namespace {

/// Weights of one op drawn one by one up to this many; more become one node.
constexpr size_t kWeightsDrawnOneByOne = 4;

std::string escape(StringRef text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

/// "?x?x64 f32" for a shaped type, the type itself otherwise.
std::string shortType(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    for (auto [i, dim] : llvm::enumerate(shaped.getShape()))
      os << (i ? "x" : "") << (ShapedType::isDynamic(dim) ? "?" : std::to_string(dim));
    os << " " << shaped.getElementType();
  } else {
    os << type;
  }
  return text;
}

/// "self_attn.q_a_proj.weight" of "model.layers.3.self_attn.q_a_proj.weight".
StringRef shortName(WeightOp weight) {
  StringRef tensor = weight.getTensorName();
  if (weight.getLayer()) {
    tensor.consume_front("model.layers.");
    tensor = tensor.drop_until([](char c) { return c == '.'; }).drop_front();
  }
  return tensor;
}

class GraphWriter {
public:
  explicit GraphWriter(llvm::raw_ostream &os) : os(os) {}

  void function(func::FuncOp func);

private:
  /// The node of `value`: an argument, an op's result, a buffer.
  std::string nodeOf(Value value);
  std::string newNode() { return formatv("n{0}", nextNode++).str(); }
  /// Draws `op`; returns its node.
  std::string opNode(Operation *op, StringRef label);
  /// Weight operands of `op` as nodes linked to it.
  void weightNodes(Operation *op, StringRef opNode);
  std::optional<int64_t> layerOfOp(Operation *op);
  bool isBookkeeping(Operation *op) const {
    return isa<WeightOp, WeightTableOp, arith::ConstantOp, arith::SubIOp,
               tensor::DimOp, memref::DimOp, func::ReturnOp, KVCacheOp,
               RopeTableOp, ArenaOp>(op) ||
           op->getName().getDialectNamespace() == "affine";
  }

  llvm::raw_ostream &os;
  int nextNode = 0;
  DenseMap<Value, std::string> nodes;
  DenseMap<Operation *, std::optional<int64_t>> layers;
  /// The node statements of each layer's cluster (-1: outside any layer).
  llvm::MapVector<int64_t, std::vector<std::string>> clusters;
  /// Fused regions: the ops a fusion pass made of one op (the MoE's
  /// router, dispatch, shared experts and routed experts), drawn as a
  /// cluster in their layer's.
  struct FusedRegion {
    std::string label;
    int64_t layer = -1;
    std::vector<std::string> statements;
  };
  std::vector<FusedRegion> regions;
  DenseMap<Operation *, size_t> regionOf;
  void findFusedRegions(func::FuncOp func);
  /// Where the statements of `op`'s nodes go.
  std::vector<std::string> &statementsOf(Operation *op);
  std::vector<std::string> edges;
  /// Kernels phase: the last launch that used each buffer, and the layer of
  /// each launch's node.
  DenseMap<Value, std::string> lastUser;
  llvm::StringMap<std::optional<int64_t>> launchLayers;
};

std::string GraphWriter::nodeOf(Value value) {
  auto it = nodes.find(value);
  if (it != nodes.end())
    return it->second;
  // An operand nothing drew (an index computation): a plain point.
  std::string node = newNode();
  clusters[-1].push_back(formatv("{0} [shape=point];", node).str());
  nodes[value] = node;
  return node;
}

void GraphWriter::findFusedRegions(func::FuncOp func) {
  func.walk([&](MoEExpertsOp experts) {
    size_t id = regions.size();
    regions.push_back({"fused MoE", layerOfOp(experts).value_or(-1), {}});
    regionOf[experts] = id;
    for (Value part : {experts.getWeights(), experts.getOffsets(),
                       experts.getOrder(), experts.getAccumulate()})
      if (Operation *producer = part ? part.getDefiningOp() : nullptr)
        if (isa<MoERouterOp, MoEDispatchOp, MLPOp>(producer))
          regionOf[producer] = id;
  });
}

std::vector<std::string> &GraphWriter::statementsOf(Operation *op) {
  auto it = regionOf.find(op);
  if (it != regionOf.end())
    return regions[it->second].statements;
  return clusters[layerOfOp(op).value_or(-1)];
}

std::optional<int64_t> GraphWriter::layerOfOp(Operation *op) {
  auto known = layers.find(op);
  if (known != layers.end())
    return known->second;
  std::optional<int64_t> layer;
  bool hasWeights = false;
  std::function<void(Value)> visitWeight = [&](Value value) {
    if (auto weight = value.getDefiningOp<WeightOp>()) {
      hasWeights = true;
      if (std::optional<int64_t> l = weight.getLayer())
        layer = layer ? std::max(*layer, *l) : *l;
    } else if (auto table = value.getDefiningOp<WeightTableOp>()) {
      for (Value entry : table.getWeights())
        visitWeight(entry);
    }
  };
  for (Value operand : op->getOperands())
    visitWeight(operand);
  // Ops without weights (a residual add) go with the latest layer feeding
  // them; ops with weights of no layer (the final norm, the head) with none.
  if (!layer && !hasWeights)
    for (Value operand : op->getOperands())
      if (Operation *producer = operand.getDefiningOp())
        if (!isBookkeeping(producer))
          if (std::optional<int64_t> l = layerOfOp(producer))
            layer = layer ? std::max(*layer, *l) : *l;
  layers[op] = layer;
  return layer;
}

std::string GraphWriter::opNode(Operation *op, StringRef label) {
  std::string node = newNode();
  statementsOf(op).push_back(
      formatv("{0} [label=\"{1}\"];", node, escape(label)).str());
  for (Value result : op->getResults())
    nodes[result] = node;
  weightNodes(op, node);
  return node;
}

void GraphWriter::weightNodes(Operation *op, StringRef opNode) {
  SmallVector<WeightOp> weights;
  for (Value operand : op->getOperands()) {
    if (auto weight = operand.getDefiningOp<WeightOp>())
      weights.push_back(weight);
    else if (auto table = operand.getDefiningOp<WeightTableOp>())
      for (Value entry : table.getWeights())
        if (auto weight = entry.getDefiningOp<WeightOp>())
          weights.push_back(weight);
  }
  if (weights.empty())
    return;
  auto addWeight = [&](StringRef label) {
    std::string node = newNode();
    statementsOf(op).push_back(
        formatv("{0} [shape=note, fontsize=9, label=\"{1}\"];", node,
                escape(label))
            .str());
    edges.push_back(formatv("{0} -> {1} [style=dashed, arrowsize=0.5];", node,
                            opNode)
                        .str());
  };
  if (weights.size() <= kWeightsDrawnOneByOne) {
    for (WeightOp weight : weights)
      addWeight((shortName(weight) + "\n" +
                 shortType(weight.getType()))
                    .str());
    return;
  }
  // Many weights: their names with expert numbers as '*', each once.
  int64_t bytes = 0;
  llvm::SetVector<std::string, std::vector<std::string>,
                  std::set<std::string>>
      patterns;
  for (WeightOp weight : weights) {
    bytes += weight.getNumBytes();
    std::string name = shortName(weight).str();
    size_t experts = name.find("experts.");
    if (experts != std::string::npos) {
      size_t begin = experts + 8, end = begin;
      while (end < name.size() && llvm::isDigit(name[end]))
        ++end;
      if (end > begin)
        name.replace(begin, end - begin, "*");
    }
    patterns.insert(name);
  }
  std::string label = formatv("{0} weights, {1:f2} MiB", weights.size(),
                              static_cast<double>(bytes) / (1 << 20))
                          .str();
  for (const std::string &pattern : patterns)
    label += "\n" + pattern;
  addWeight(label);
}

void GraphWriter::function(func::FuncOp func) {
  std::string name = func.getSymName().str();
  os << "  subgraph \"cluster_" << escape(name) << "\" {\n"
     << "    label=\"@" << escape(name) << "\";\n";
  for (BlockArgument arg : func.getArguments()) {
    std::string node = newNode();
    std::string label = formatv("%arg{0}", arg.getArgNumber()).str();
    if (auto role = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "lathe.role"))
      label = role.str();
    else if (auto argName = func.getArgAttrOfType<StringAttr>(
                 arg.getArgNumber(), "lathe.name"))
      label = argName.str();
    clusters[-1].push_back(
        formatv("{0} [shape=oval, label=\"{1}\\n{2}\"];", node, escape(label),
                escape(shortType(arg.getType())))
            .str());
    nodes[arg] = node;
    lastUser[arg] = node;
  }

  findFusedRegions(func);
  for (Operation &op : func.getBody().front()) {
    if (auto launch = dyn_cast<LaunchOp>(op)) {
      // Kernels phase: a launch per node, linked to the launch before it
      // that used each of its activations (arena buffers and the entry's
      // arguments; weights, caches and tables would only add clutter). A
      // launch without weights goes with the layer of those launches.
      std::string node = newNode();
      std::optional<int64_t> layer = layerOfOp(launch);
      for (Value buffer : launch.getBuffers()) {
        if (!buffer.getDefiningOp<ArenaOp>() && !isa<BlockArgument>(buffer))
          continue;
        auto it = lastUser.find(buffer);
        if (it != lastUser.end()) {
          edges.push_back(formatv("{0} -> {1};", it->second, node).str());
          if (!layer)
            layer = launchLayers.lookup(it->second);
        }
        lastUser[buffer] = node;
      }
      if (layer)
        launchLayers[node] = *layer;
      clusters[layer.value_or(-1)].push_back(
          formatv("{0} [label=\"{1}\"];", node, escape(launch.getKernel()))
              .str());
      continue;
    }
    if (isBookkeeping(&op) || isa<tensor::CastOp>(op)) {
      // A cast is its operand, as far as a reader is concerned.
      if (auto cast = dyn_cast<tensor::CastOp>(op))
        nodes[cast.getResult()] = nodeOf(cast.getSource());
      continue;
    }
    std::string label = op.getName().getStringRef().str();
    if (auto mla = dyn_cast<MLAOp>(op))
      label += formatv(" ({0} heads, rank {1})", mla.getNumHeads(),
                       mla.getKvLoraRank())
                   .str();
    if (auto moe = dyn_cast<MoEOp>(op))
      label += formatv(" ({0} experts, top {1})", moe.getNumExperts(),
                       moe.getTopK())
                   .str();
    if (auto router = dyn_cast<MoERouterOp>(op))
      label += formatv(" ({0} experts, top {1})", router.getNumExperts(),
                       router.getTopK())
                   .str();
    if (auto experts = dyn_cast<MoEExpertsOp>(op))
      label += formatv(" ({0} experts)", experts.getNumExperts()).str();
    if (op.getNumResults() == 1)
      label += "\n" + shortType(op.getResult(0).getType());
    std::string node = opNode(&op, label);
    for (Value operand : op.getOperands()) {
      Operation *producer = operand.getDefiningOp();
      if (producer && isa<WeightOp, WeightTableOp>(producer))
        continue;
      edges.push_back(formatv("{0} -> {1};", nodeOf(operand), node).str());
    }
  }

  for (const FusedRegion &region : regions)
    (void)clusters[region.layer];
  for (auto &[layer, statements] : clusters) {
    if (layer >= 0)
      os << "    subgraph \"cluster_" << escape(name) << "_layer" << layer
         << "\" {\n      label=\"layer " << layer << "\";\n";
    for (const std::string &statement : statements)
      os << (layer >= 0 ? "      " : "    ") << statement << "\n";
    std::string indent = layer >= 0 ? "      " : "    ";
    for (auto [id, region] : llvm::enumerate(regions)) {
      if (region.layer != layer)
        continue;
      os << indent << "subgraph \"cluster_" << escape(name) << "_fused" << id
         << "\" {\n"
         << indent << "  label=\"" << escape(region.label)
         << "\"; style=dashed;\n";
      for (const std::string &statement : region.statements)
        os << indent << "  " << statement << "\n";
      os << indent << "}\n";
    }
    if (layer >= 0)
      os << "    }\n";
  }
  for (const std::string &edge : edges)
    os << "    " << edge << "\n";
  os << "  }\n";
  clusters.clear();
  regions.clear();
  regionOf.clear();
  edges.clear();
}

} // namespace

void lathe::writeGraph(ModuleOp module, llvm::raw_ostream &os) {
  os << "digraph lathe {\n"
     << "  rankdir=TB;\n"
     << "  node [shape=box, style=rounded, fontname=\"Helvetica\", "
        "fontsize=11];\n"
     << "  edge [arrowsize=0.7];\n";
  GraphWriter writer(os);
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal())
      writer.function(func);
  os << "}\n";
}
