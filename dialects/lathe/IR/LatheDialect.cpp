//===- LatheDialect.cpp - the lathe dialect and its attributes ------------===//

#include "dialects/lathe/IR/LatheDialect.h"
#include "dialects/lathe/IR/LatheOps.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace lathe;

#include "dialects/lathe/IR/LatheDialect.cpp.inc"
#include "dialects/lathe/IR/LatheEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/lathe/IR/LatheAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/lathe/IR/LatheTypes.cpp.inc"

void LatheDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/lathe/IR/LatheOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/lathe/IR/LatheAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/lathe/IR/LatheTypes.cpp.inc"
      >();
}

FailureOr<APFloat> lathe::parseDouble(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

/// `value` rounded to `digits` significant digits, in plain notation unless
/// that takes more than 8 padding zeros or more digits than `digits`.
static SmallString<32> formatDouble(const APFloat &value, unsigned digits) {
  SmallString<32> text;
  value.toString(text, digits, /*FormatMaxPadding=*/8);
  return text;
}

static bool parsesBackTo(StringRef text, const APFloat &value) {
  APFloat reparsed(APFloat::IEEEdouble());
  auto status = reparsed.convertFromString(text, APFloat::rmNearestTiesToEven);
  if (!status) {
    consumeError(status.takeError());
    return false;
  }
  return reparsed.bitwiseIsEqual(value);
}

void lathe::printDouble(AsmPrinter &printer, const APFloat &value) {
  SmallString<32> text;
  if (!value.isFinite()) {
    value.toString(text);
    printer << text;
    return;
  }
  // The fewest significant digits that parse back to the same double: `0.1`
  // rather than APFloat's natural 17-digit `0.10000000000000001`.
  unsigned digits = 1;
  while (digits < 17 && !parsesBackTo(formatDouble(value, digits), value))
    ++digits;
  text = formatDouble(value, digits);
  // toString goes scientific when the digits stop short of the decimal point
  // (`1.0E+4` for 10000). Below 2^53 such a value is an exact integer, so
  // more digits only add zeros and give the plain `10000.0`.
  if (std::fabs(value.convertToDouble()) < static_cast<double>(1ULL << 53))
    for (unsigned extra = 1; extra <= 8; ++extra) {
      if (!StringRef(text).contains('E'))
        break;
      SmallString<32> wider = formatDouble(value, digits + extra);
      if (!StringRef(wider).contains('E'))
        text = wider;
    }
  // MLIR lexes a number as a float only if it has a '.': `1E+20` would read
  // as the integer 1 followed by garbage.
  StringRef view = text;
  if (!view.contains('.')) {
    size_t exponent = std::min(view.find_first_of("eE"), view.size());
    text.insert(text.begin() + exponent, {'.', '0'});
  }
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
  // Non-finite values would print as `inf`/`nan`, which do not parse back.
  if (!(factor > 0.0) || !std::isfinite(factor))
    return emitError() << "yarn factor must be positive and finite, got "
                       << factor;
  if (originalMax <= 0)
    return emitError()
           << "yarn original_max_position_embeddings must be positive, got "
           << originalMax;
  if (!(betaSlow > 0.0) || !(betaFast > betaSlow) || !std::isfinite(betaFast))
    return emitError()
           << "yarn needs finite beta_fast > beta_slow > 0, got beta_fast = "
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

SmallVector<double> RopeAttr::getFrequencies(int64_t dims) const {
  const double theta = getTheta().convertToDouble();
  const int64_t pairs = dims / 2;
  SmallVector<double> freq(pairs);
  for (int64_t i = 0; i < pairs; ++i)
    freq[i] = std::pow(theta, -2.0 * static_cast<double>(i) /
                                  static_cast<double>(dims));
  YarnAttr yarn = getYarn();
  if (!yarn)
    return freq;
  // YaRN (REFERENCE.md): the pairs below the correction dim of beta_fast keep
  // their frequency, those above that of beta_slow are divided by `factor`,
  // and a linear ramp blends the ones between.
  const double originalMax =
      static_cast<double>(yarn.getOriginalMaxPositionEmbeddings());
  auto correctionDim = [&](double rotations) {
    return static_cast<double>(dims) *
           std::log(originalMax / (2.0 * M_PI * rotations)) /
           (2.0 * std::log(theta));
  };
  auto clampDim = [&](double value) {
    return std::min(std::max(value, 0.0), static_cast<double>(dims - 1));
  };
  double low = clampDim(std::floor(correctionDim(yarn.getBetaFast().convertToDouble())));
  double high = clampDim(std::ceil(correctionDim(yarn.getBetaSlow().convertToDouble())));
  // A ramp of zero width is a step at `low`, as in DeepSeek's code.
  if (low == high)
    high += 0.001;
  const double factor = yarn.getFactor().convertToDouble();
  for (int64_t i = 0; i < pairs; ++i) {
    double ramp = std::min(std::max((static_cast<double>(i) - low) / (high - low), 0.0), 1.0);
    double smooth = 1.0 - ramp;
    freq[i] = freq[i] / factor * (1.0 - smooth) + freq[i] * smooth;
  }
  return freq;
}
