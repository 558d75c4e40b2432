// tritonpack: shape rules: canonical text and concrete evaluation (the parser is in
// expr_parse.cpp, beside the expression parser whose tokens and trees rules share).
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tritonpack/error.h"
#include "tritonpack/rule.h"
#include "tritonpack/symbolic.h"

namespace tritonpack::rule {
namespace {

std::string shape_text(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

[[noreturn]] void shape_error(const Rule& rule, const std::string& what) {
  throw Error(ErrorCode::kShape, "rule '" + rule.source() + "': " + what);
}

// A rule's expressions are sums: a comparison at the top needs its parentheses back.
std::string sum_text(const expr::Expr& e) {
  const expr::Node& root = e.root();
  const bool comparison = root.kind == expr::Node::Kind::kIn ||
                          (root.kind == expr::Node::Kind::kBinary && root.op >= expr::BinaryOp::kEq);
  return comparison ? "(" + e.to_string() + ")" : e.to_string();
}

}  // namespace

bool TensorPattern::has_rest() const {
  for (const DimPattern& d : dims) {
    if (d.kind == DimPattern::Kind::kRest) return true;
  }
  return false;
}

std::string Rule::to_string() const {
  std::string out;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (i) out += ", ";
    out += inputs_[i].tensor + "[";
    for (size_t d = 0; d < inputs_[i].dims.size(); ++d) {
      const DimPattern& p = inputs_[i].dims[d];
      if (d) out += ", ";
      out += p.kind == DimPattern::Kind::kRest ? "*" : p.kind == DimPattern::Kind::kName ? p.name : std::to_string(p.value);
    }
    out += "]";
  }
  if (kind_ == Kind::kDimSize) return out + " : " + sum_text(value_) + " -> " + target_;
  out += " -> ";
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (i) out += ", ";
    out += outputs_[i].tensor + "[";
    for (size_t d = 0; d < outputs_[i].dims.size(); ++d) {
      if (d) out += ", ";
      out += outputs_[i].dims[d].rest ? "*" : sum_text(outputs_[i].dims[d].size);
    }
    out += "]";
  }
  return out;
}

Binding bind(const Rule& rule, const std::function<const Shape*(std::string_view tensor)>& shape_of) {
  Binding binding;
  // Where each name was bound, for the message when a second binding disagrees.
  std::map<std::string, std::string, std::less<>> bound_at;
  for (const TensorPattern& pattern : rule.inputs()) {
    const Shape* shape = shape_of(pattern.tensor);
    if (shape == nullptr) shape_error(rule, "no input named '" + pattern.tensor + "'");
    const size_t fixed = pattern.dims.size() - (pattern.has_rest() ? 1 : 0);
    if (shape->size() < fixed || (!pattern.has_rest() && shape->size() != fixed)) {
      shape_error(rule, "'" + pattern.tensor + "' has shape " + shape_text(*shape) + " (rank " +
                            std::to_string(shape->size()) + "), the pattern wants rank " +
                            (pattern.has_rest() ? "at least " : "") + std::to_string(fixed));
    }
    size_t d = 0;
    for (const DimPattern& p : pattern.dims) {
      if (p.kind == DimPattern::Kind::kRest) {
        const size_t n = shape->size() - fixed;
        binding.rest.assign(shape->begin() + static_cast<ptrdiff_t>(d), shape->begin() + static_cast<ptrdiff_t>(d + n));
        d += n;
        continue;
      }
      const int64_t size = (*shape)[d];
      const std::string where = pattern.tensor + " dim " + std::to_string(d);
      if (p.kind == DimPattern::Kind::kConstant && size != p.value) {
        shape_error(rule, where + " is " + std::to_string(size) + ", the pattern wants " + std::to_string(p.value));
      }
      if (p.kind == DimPattern::Kind::kName) {
        auto [it, fresh] = binding.names.emplace(p.name, size);
        if (fresh) {
          bound_at.emplace(p.name, where);
        } else if (it->second != size) {
          shape_error(rule, where + " is " + std::to_string(size) + " but " + bound_at.find(p.name)->second + " is " +
                                std::to_string(it->second) + " (both are '" + p.name + "')");
        }
      }
      ++d;
    }
  }
  return binding;
}

int64_t eval_in(const expr::Expr& e, const Binding& binding,
                const std::function<bool(std::string_view, int64_t&)>& outer) {
  try {
    return e.eval([&](std::string_view name, int64_t& value) {
      if (auto it = binding.names.find(name); it != binding.names.end()) {
        value = it->second;
        return true;
      }
      return outer ? outer(name, value) : false;
    });
  } catch (const Error& error) {
    // The expression's own message names the whole rule already (its source is the rule).
    throw Error(ErrorCode::kShape, error.what());
  }
}

std::vector<Shape> output_shapes(const Rule& rule, const Binding& binding,
                                 const std::function<bool(std::string_view, int64_t&)>& outer) {
  std::vector<Shape> shapes;
  for (const TensorTarget& target : rule.outputs()) {
    Shape shape;
    for (const DimTarget& t : target.dims) {
      if (t.rest) {
        shape.insert(shape.end(), binding.rest.begin(), binding.rest.end());
        continue;
      }
      const int64_t size = eval_in(t.size, binding, outer);
      if (size < 0) {
        shape_error(rule, "'" + target.tensor + "' dim " + std::to_string(shape.size()) + " is " + t.size.to_string() +
                              " = " + std::to_string(size) + ", a negative size");
      }
      shape.push_back(size);
    }
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

}  // namespace tritonpack::rule

namespace tritonpack::symbolic {

std::string TextBuilder::operation(Op op, std::string a, std::string b) {
  // Fully parenthesised binary forms, so the text parses back to the same value whatever the
  // operands are; functions print as calls.
  switch (op) {
    case Op::kSum: return "(" + a + " + " + b + ")";
    case Op::kProd: return "(" + a + " * " + b + ")";
    case Op::kSub: return "(" + a + " - " + b + ")";
    case Op::kFloorDiv: return "(" + a + " / " + b + ")";
    case Op::kCeilDiv: return "(" + a + " /// " + b + ")";
    case Op::kMax: return "max(" + a + ", " + b + ")";
    case Op::kMin: return "min(" + a + ", " + b + ")";
    case Op::kEqual: return "(" + a + " == " + b + ")";
    case Op::kLess: return "(" + a + " < " + b + ")";
  }
  return "?";
}

std::optional<int64_t> TextBuilder::constant_value(const std::string& value) {
  int64_t parsed = 0;
  const char* end = value.data() + value.size();
  const auto [stop, error] = std::from_chars(value.data(), end, parsed);
  if (value.empty() || error != std::errc() || stop != end) return std::nullopt;
  return parsed;
}

}  // namespace tritonpack::symbolic
