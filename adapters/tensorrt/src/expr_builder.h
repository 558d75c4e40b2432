// The symbolic::Builder over TensorRT's IExprBuilder: the core builds every shape expression of
// the language from these nine operations (include/tritonpack/symbolic.h lowers the rest).
#pragma once

#include <NvInferRuntime.h>

#include <optional>
#include <string>

#include "tritonpack/error.h"
#include "tritonpack/symbolic.h"

namespace tritonpack::tensorrt {

using DimExpr = const nvinfer1::IDimensionExpr*;

inline nvinfer1::DimensionOperation tensorrt_operation(symbolic::Op op) {
  using nvinfer1::DimensionOperation;
  switch (op) {
    case symbolic::Op::kSum: return DimensionOperation::kSUM;
    case symbolic::Op::kProd: return DimensionOperation::kPROD;
    case symbolic::Op::kMax: return DimensionOperation::kMAX;
    case symbolic::Op::kMin: return DimensionOperation::kMIN;
    case symbolic::Op::kSub: return DimensionOperation::kSUB;
    case symbolic::Op::kEqual: return DimensionOperation::kEQUAL;
    case symbolic::Op::kLess: return DimensionOperation::kLESS;
    case symbolic::Op::kFloorDiv: return DimensionOperation::kFLOOR_DIV;
    case symbolic::Op::kCeilDiv: return DimensionOperation::kCEIL_DIV;
  }
  throw Error(ErrorCode::kInternal, "unknown symbolic operation " + std::to_string(static_cast<int>(op)));
}

class TensorRTExprBuilder final : public symbolic::Builder<DimExpr> {
 public:
  explicit TensorRTExprBuilder(nvinfer1::IExprBuilder& builder) : builder_(builder) {}

  DimExpr constant(int64_t value) override {
    return checked(builder_.constant(value), "constant(" + std::to_string(value) + ")");
  }
  DimExpr operation(symbolic::Op op, DimExpr a, DimExpr b) override {
    if (a == nullptr || b == nullptr) throw Error(ErrorCode::kInternal, "a null IDimensionExpr operand");
    return checked(builder_.operation(tensorrt_operation(op), *a, *b), "operation");
  }
  // TensorRT knows static dims (and operations on them) as constants: next_power_of_2, log2 and
  // is_power_of_2 fold on those.
  std::optional<int64_t> constant_value(const DimExpr& value) override {
    if (value != nullptr && value->isConstant()) return value->getConstantValue();
    return std::nullopt;
  }

 private:
  static DimExpr checked(DimExpr e, const std::string& what) {
    if (e == nullptr) throw Error(ErrorCode::kInternal, "TensorRT's IExprBuilder returned null for " + what);
    return e;
  }
  nvinfer1::IExprBuilder& builder_;
};

}  // namespace tritonpack::tensorrt
