//===- LatheDialect.cpp - the lathe dialect and its attributes ------------===//

#include "dialects/lathe/IR/LatheDialect.h"
#include "dialects/lathe/IR/LatheOps.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace lathe;

#include "dialects/lathe/IR/LatheDialect.cpp.inc"
#include "dialects/lathe/IR/LatheEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/lathe/IR/LatheAttrs.cpp.inc"

void LatheDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/lathe/IR/LatheOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/lathe/IR/LatheAttrs.cpp.inc"
      >();
}

FailureOr<APFloat> lathe::parseDouble(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

void lathe::printDouble(AsmPrinter &printer, const APFloat &value) {
  SmallString<32> text;
  // FormatPrecision 0 asks APFloat for the shortest round-tripping digits.
  value.toString(text, /*FormatPrecision=*/0, /*FormatMaxPadding=*/8);
  if (value.isFinite() && StringRef(text).find_first_of(".eE") == StringRef::npos)
    text += ".0";
  printer << text;
}

//===----------------------------------------------------------------------===//
// Attribute verifiers
//===----------------------------------------------------------------------===//

LogicalResult YarnAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               APFloat factorAP, int64_t originalMax,
                               APFloat betaFastAP, APFloat betaSlowAP,
                               APFloat mscaleAP, APFloat mscaleAllDimAP) {
  double factor = factorAP.convertToDouble(),
         betaFast = betaFastAP.convertToDouble(),
         betaSlow = betaSlowAP.convertToDouble(),
         mscale = mscaleAP.convertToDouble(),
         mscaleAllDim = mscaleAllDimAP.convertToDouble();
  if (!(factor > 0.0))
    return emitError() << "yarn factor must be positive, got " << factor;
  if (originalMax <= 0)
    return emitError()
           << "yarn original_max_position_embeddings must be positive, got "
           << originalMax;
  if (!(betaSlow > 0.0) || !(betaFast > betaSlow))
    return emitError() << "yarn needs beta_fast > beta_slow > 0, got beta_fast = "
                       << betaFast << ", beta_slow = " << betaSlow;
  if (!std::isfinite(mscale) || !std::isfinite(mscaleAllDim))
    return emitError() << "yarn mscale and mscale_all_dim must be finite";
  return success();
}

double YarnAttr::getSoftmaxScaleFactor() const {
  double factor = getFactor().convertToDouble();
  if (factor <= 1.0)
    return 1.0;
  return 0.1 * getMscaleAllDim().convertToDouble() * std::log(factor) + 1.0;
}

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               APFloat thetaAP, YarnAttr) {
  double theta = thetaAP.convertToDouble();
  if (!(theta > 1.0) || !std::isfinite(theta))
    return emitError() << "rope theta must be a finite number above 1, got "
                       << theta;
  return success();
}
