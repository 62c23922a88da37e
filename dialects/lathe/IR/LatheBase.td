//===- LatheBase.td - the lathe dialect and its attributes ---*- tablegen -*-===//
//
// The dialect, its enums and attributes. Ops live in LatheOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef LATHE_BASE_TD
#define LATHE_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Lathe_Dialect : Dialect {
  let name = "lathe";
  let cppNamespace = "::lathe";
  let summary = "Graph-level ops of DeepSeek-family models";
  let description = [{
    One op per concept a researcher would name: embeddings, RMS norms,
    linears (optionally FP8 block-scaled), RoPE with YaRN, the whole
    multi-head latent attention block, mixture-of-experts, SwiGLU MLPs and
    the LM head. Weights never live in the IR: `lathe.weight` names a tensor
    in an external file.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
}

// An f64 printed in its shortest round-trip form (`10000.0`, `0.1`).
def Lathe_DoubleParameter : APFloatParameter<"an f64"> {
  let parser = "::lathe::parseDouble($_parser)";
  let printer = "::lathe::printDouble($_printer, $_self)";
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Lathe_ScoringSoftmax : I32EnumAttrCase<"softmax", 0>;
def Lathe_ScoringSigmoid : I32EnumAttrCase<"sigmoid", 1>;
def Lathe_ScoringFunc : I32EnumAttr<"ScoringFunc",
    "how the MoE router turns gate logits into expert scores",
    [Lathe_ScoringSoftmax, Lathe_ScoringSigmoid]> {
  let cppNamespace = "::lathe";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Lathe_YarnAttr : AttrDef<Lathe_Dialect, "Yarn"> {
  let mnemonic = "yarn";
  let summary = "YaRN context-extension parameters of a rotary embedding";
  let description = [{
    `rope_scaling = {type: yarn, ...}` of a Hugging Face config. The
    frequencies of the rope dims are blended between `freq` and
    `freq / factor` by a linear ramp between the correction dims of
    `beta_fast` and `beta_slow`; attention's softmax scale is multiplied by
    `m^2` with `m = 0.1 * mscale_all_dim * ln(factor) + 1`.

    ```mlir
    #lathe.yarn<factor = 40.0, original_max_position_embeddings = 4096,
                beta_fast = 32.0, beta_slow = 1.0, mscale = 1.0, mscale_all_dim = 1.0>
    ```
  }];
  let parameters = (ins
    Lathe_DoubleParameter:$factor,
    "int64_t":$original_max_position_embeddings,
    Lathe_DoubleParameter:$beta_fast,
    Lathe_DoubleParameter:$beta_slow,
    Lathe_DoubleParameter:$mscale,
    Lathe_DoubleParameter:$mscale_all_dim);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// `0.1 * mscale_all_dim * ln(factor) + 1`: the square of this multiplies
    /// the softmax scale of attention.
    double getSoftmaxScaleFactor() const;

    static YarnAttr get(::mlir::MLIRContext *context, double factor,
                        int64_t originalMaxPositionEmbeddings, double betaFast,
                        double betaSlow, double mscale, double mscaleAllDim) {
      return get(context, ::llvm::APFloat(factor), originalMaxPositionEmbeddings,
                 ::llvm::APFloat(betaFast), ::llvm::APFloat(betaSlow),
                 ::llvm::APFloat(mscale), ::llvm::APFloat(mscaleAllDim));
    }
  }];
}

def Lathe_RopeAttr : AttrDef<Lathe_Dialect, "Rope"> {
  let mnemonic = "rope";
  let summary = "rotary position embedding over interleaved pairs";
  let description = [{
    RoPE rotating adjacent pairs `(2i, 2i+1)` of the rope dims with
    frequencies `theta^(-2i/d)` (DeepSeek's convention), optionally extended
    by YaRN.

    ```mlir
    #lathe.rope<theta = 10000.0>
    #lathe.rope<theta = 10000.0, yarn = <factor = 40.0, ...>>
    ```
  }];
  let parameters = (ins Lathe_DoubleParameter:$theta,
                        OptionalParameter<"::lathe::YarnAttr">:$yarn);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static RopeAttr get(::mlir::MLIRContext *context, double theta,
                        YarnAttr yarn = {}) {
      return get(context, ::llvm::APFloat(theta), yarn);
    }
    /// The angular frequency of each pair i < dims / 2, in double precision:
    /// theta^(-2i/dims), blended by YaRN when present.
    ::llvm::SmallVector<double> getFrequencies(int64_t dims) const;
  }];
}

#endif // LATHE_BASE_TD
