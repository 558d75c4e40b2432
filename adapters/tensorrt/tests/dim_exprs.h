// An IExprBuilder of the tests' own, standing in for TensorRT's builder in getOutputShapes: every
// IDimensionExpr it makes is a node (a constant, an input's dim, or one of the nine operations) that
// can be printed and evaluated for concrete input shapes, with TensorRT's semantics written here
// independently of tritonpack (floor and ceil division, 0/1 comparisons; 128-bit intermediates, so
// an overflow or a division by zero is an error, not a wrong number). Like TensorRT, an operation
// on two constants is folded into a constant, and a static input dim is a constant.
//
// TensorRT's IExprBuilder and IDimensionExpr forward to an implementation object (mImpl, from
// NvInferImpl.h); these classes set it to their own.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tritonpack::tensorrt::testing {

class DimExprNode final : public nvinfer1::IDimensionExpr {
 public:
  enum class Kind { kConstant, kInputDim, kOperation };

  static std::unique_ptr<DimExprNode> constant(int64_t value) {
    auto n = std::unique_ptr<DimExprNode>(new DimExprNode);
    n->kind_ = Kind::kConstant;
    n->value_ = value;
    return n;
  }
  static std::unique_ptr<DimExprNode> input_dim(int32_t input, int32_t dim) {
    auto n = std::unique_ptr<DimExprNode>(new DimExprNode);
    n->kind_ = Kind::kInputDim;
    n->input_ = input;
    n->dim_ = dim;
    return n;
  }
  static std::unique_ptr<DimExprNode> operation(nvinfer1::DimensionOperation op, const DimExprNode& a,
                                                const DimExprNode& b) {
    auto n = std::unique_ptr<DimExprNode>(new DimExprNode);
    n->kind_ = Kind::kOperation;
    n->op_ = op;
    n->a_ = &a;
    n->b_ = &b;
    return n;
  }
  ~DimExprNode() noexcept override = default;

  Kind kind() const { return kind_; }
  bool constant_node() const { return kind_ == Kind::kConstant; }

  // The value for concrete input shapes (inputs[i][d] is input i's dim d).
  int64_t eval(const std::vector<std::vector<int64_t>>& inputs) const {
    switch (kind_) {
      case Kind::kConstant: return value_;
      case Kind::kInputDim: return inputs.at(static_cast<size_t>(input_)).at(static_cast<size_t>(dim_));
      case Kind::kOperation: return apply(op_, a_->eval(inputs), b_->eval(inputs));
    }
    throw std::logic_error("unknown node");
  }

  // "(in0.d2 + 127) floordiv 128": for failure messages.
  std::string text() const {
    switch (kind_) {
      case Kind::kConstant: return std::to_string(value_);
      case Kind::kInputDim: return "in" + std::to_string(input_) + ".d" + std::to_string(dim_);
      case Kind::kOperation: return "(" + a_->text() + " " + op_name(op_) + " " + b_->text() + ")";
    }
    return "?";
  }

  static int64_t apply(nvinfer1::DimensionOperation op, int64_t a, int64_t b) {
    using nvinfer1::DimensionOperation;
    __int128 r = 0;
    switch (op) {
      case DimensionOperation::kSUM: r = static_cast<__int128>(a) + b; break;
      case DimensionOperation::kPROD: r = static_cast<__int128>(a) * b; break;
      case DimensionOperation::kSUB: r = static_cast<__int128>(a) - b; break;
      case DimensionOperation::kMAX: r = a > b ? a : b; break;
      case DimensionOperation::kMIN: r = a < b ? a : b; break;
      case DimensionOperation::kEQUAL: r = a == b; break;
      case DimensionOperation::kLESS: r = a < b; break;
      case DimensionOperation::kFLOOR_DIV:
      case DimensionOperation::kCEIL_DIV: {
        if (b == 0) throw std::domain_error("division by zero in a dimension expression");
        const __int128 q = static_cast<__int128>(a) / b, m = static_cast<__int128>(a) % b;
        r = q;
        if (m != 0 && op == DimensionOperation::kFLOOR_DIV && ((m < 0) != (b < 0))) r = q - 1;
        if (m != 0 && op == DimensionOperation::kCEIL_DIV && ((m < 0) == (b < 0))) r = q + 1;
        break;
      }
      default: throw std::domain_error("not a DimensionOperation: " + std::to_string(static_cast<int>(op)));
    }
    if (r > INT64_MAX || r < INT64_MIN) throw std::overflow_error("a dimension expression overflows int64");
    return static_cast<int64_t>(r);
  }

  static const char* op_name(nvinfer1::DimensionOperation op) {
    using nvinfer1::DimensionOperation;
    switch (op) {
      case DimensionOperation::kSUM: return "+";
      case DimensionOperation::kPROD: return "*";
      case DimensionOperation::kMAX: return "max";
      case DimensionOperation::kMIN: return "min";
      case DimensionOperation::kSUB: return "-";
      case DimensionOperation::kEQUAL: return "==";
      case DimensionOperation::kLESS: return "<";
      case DimensionOperation::kFLOOR_DIV: return "floordiv";
      case DimensionOperation::kCEIL_DIV: return "ceildiv";
    }
    return "?";
  }

 private:
  struct Impl final : nvinfer1::apiv::VDimensionExpr {
    const DimExprNode* node = nullptr;
    bool isConstant() const override { return node->kind_ == Kind::kConstant; }
    int64_t getConstantValue() const override { return isConstant() ? node->value_ : INT64_MIN; }
    bool isSizeTensor() const override { return false; }
  };
  DimExprNode() {
    impl_.node = this;
    mImpl = &impl_;
  }
  Impl impl_;
  Kind kind_ = Kind::kConstant;
  int64_t value_ = 0;
  int32_t input_ = 0, dim_ = 0;
  nvinfer1::DimensionOperation op_ = nvinfer1::DimensionOperation::kSUM;
  const DimExprNode* a_ = nullptr;
  const DimExprNode* b_ = nullptr;
};

class DimExprBuilder final : public nvinfer1::IExprBuilder {
 public:
  DimExprBuilder() {
    impl_.owner = this;
    mImpl = &impl_;
  }
  ~DimExprBuilder() noexcept override = default;
  DimExprBuilder(const DimExprBuilder&) = delete;
  DimExprBuilder& operator=(const DimExprBuilder&) = delete;

  // Input `input`'s dim `dim`: a constant when the network fixes it (static), else a symbol.
  const DimExprNode* input_dim(int32_t input, int32_t dim, std::optional<int64_t> static_size) {
    return keep(static_size ? DimExprNode::constant(*static_size) : DimExprNode::input_dim(input, dim));
  }
  size_t operations() const { return operations_; }
  size_t size_tensors_declared() const { return size_tensors_; }

 private:
  const DimExprNode* keep(std::unique_ptr<DimExprNode> node) {
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }
  struct Impl final : nvinfer1::apiv::VExprBuilder {
    DimExprBuilder* owner = nullptr;
    const nvinfer1::IDimensionExpr* constant(int64_t value) override { return owner->keep(DimExprNode::constant(value)); }
    const nvinfer1::IDimensionExpr* operation(nvinfer1::DimensionOperation op, const nvinfer1::IDimensionExpr& first,
                                              const nvinfer1::IDimensionExpr& second) override {
      ++owner->operations_;
      const auto& a = static_cast<const DimExprNode&>(first);
      const auto& b = static_cast<const DimExprNode&>(second);
      if (static_cast<int>(op) < 0 || static_cast<int>(op) > 8) return nullptr;  // as TensorRT: not an operation
      try {
        if (a.constant_node() && b.constant_node()) {
          return owner->keep(DimExprNode::constant(DimExprNode::apply(op, a.eval({}), b.eval({}))));
        }
        return owner->keep(DimExprNode::operation(op, a, b));
      } catch (const std::exception&) {
        return nullptr;  // IExprBuilder::operation is noexcept: a constant that cannot be folded gives null
      }
    }
    const nvinfer1::IDimensionExpr* declareSizeTensor(int32_t, const nvinfer1::IDimensionExpr&,
                                                      const nvinfer1::IDimensionExpr&) override {
      ++owner->size_tensors_;  // tritonpack plugins have no data-dependent output sizes
      return nullptr;
    }
  };
  Impl impl_;
  std::deque<std::unique_ptr<DimExprNode>> nodes_;
  size_t operations_ = 0, size_tensors_ = 0;
};

}  // namespace tritonpack::tensorrt::testing
