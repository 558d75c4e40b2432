// A lexical pre-pass over spec text that keeps toml++ 3.3 (Debian's libtomlplusplus-dev) away
// from inputs on which it aborts or has undefined behaviour instead of reporting an error:
//  - a table header whose name starts with something other than a key character ("[[\n",
//    "[[[1]]]"): parse_key() asserts / assumes it cannot (marzer/tomlplusplus#301);
//  - a non-ASCII character where toml++ asks "is this whitespace?": outside strings and comments
//    (where TOML 1.0 allows no non-ASCII anyway), and after a backslash in a multi-line basic
//    string; is_non_ascii_horizontal_whitespace() reaches TOML_UNREACHABLE for many code points
//    (marzer/tomlplusplus#190, #295).
// It tracks just enough of TOML's lexical structure (strings where toml++ reads strings,
// comments, brackets, key or value) to know where it is; on valid TOML it is exact, and on
// invalid TOML a wrong guess can only turn one syntax error into another.
#include <vector>

#include "spec/spec_internal.h"

namespace tritonpack::spec::detail {
namespace {

bool is_key_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '"' || c == '\'';
}
bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::optional<TomlHazard> run() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") start_ = i_ = 3;  // toml++ skips (and does not count) a BOM
    std::vector<char> open;  // 'h' header brackets, '[' arrays, '{' inline tables
    bool key_context = true;  // reading a key (a quote after '.' starts a string), not a value
    char prev = '\n';         // the last character that was not blank; '\n' at a line's start
    while (i_ < text_.size()) {
      const bool header = prev == '\n' && open.empty();
      if (header) {
        skip_blanks();
        if (i_ >= text_.size()) break;
        key_context = true;
        if (text_[i_] == '[' && !header_start_ok()) return hazard("expected a table name after '['");
      }
      const char c = text_[i_];
      if (is_blank(c) || c == '\r') {
        ++i_;
        continue;
      }
      if (c == '\n') {
        prev = '\n';
        ++i_;
        continue;
      }
      if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
        continue;
      }
      // toml++ reads a quote as a string only where a key or value starts; "1x\"..." is one bad token.
      const bool token_start = prev == '\n' || prev == '=' || prev == '[' || prev == '{' || prev == ',' ||
                               (prev == '.' && key_context);
      if ((c == '"' || c == '\'') && token_start) {
        if (!skip_string(c)) {
          return hazard("a non-ASCII character after a backslash in a multi-line string is not supported; "
                        "write it as \\uXXXX");
        }
        prev = c;
        continue;
      }
      if (!is_ascii(c)) return hazard("non-ASCII character outside a string or comment");
      if (c == '[') {
        open.push_back(header || (!open.empty() && open.back() == 'h') ? 'h' : '[');
        key_context = open.back() == 'h';
      } else if (c == '{') {
        open.push_back('{');
        key_context = true;
      } else if (c == ']' || c == '}') {
        if (!open.empty()) open.pop_back();
        key_context = !open.empty() && open.back() == 'h';
      } else if (c == '=') {
        key_context = false;
      } else if (c == ',') {
        key_context = !open.empty() && open.back() == '{';
      }
      prev = c;
      ++i_;
    }
    return std::nullopt;
  }

 private:
  bool skip_blanks() {
    size_t start = i_;
    while (i_ < text_.size() && is_blank(text_[i_])) ++i_;
    return i_ != start;
  }

  // At a header's first '['. On success i_ is back on that '[', whose brackets the main loop
  // then counts; on failure i_ is on the bad character.
  bool header_start_ok() {
    size_t open = i_++;
    bool blank = skip_blanks();
    if (i_ < text_.size() && text_[i_] == '[') {
      if (blank) {  // "[ [": toml++ reports this itself
        i_ = open;
        return true;
      }
      ++i_;
      skip_blanks();
    }
    bool ok = i_ >= text_.size() || text_[i_] == ']' || is_key_start(text_[i_]);
    if (ok) i_ = open;
    return ok;
  }

  // Skips a string starting at i_. Returns false, with i_ on the character, where a backslash
  // in a multi-line basic string is followed (after any whitespace) by a non-ASCII character.
  bool skip_string(char quote) {
    const std::string_view triple = quote == '"' ? "\"\"\"" : "'''";
    const bool multi_line = text_.substr(i_, 3) == triple;
    i_ += multi_line ? 3 : 1;
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '\\' && quote == '"') {
        size_t next = i_ + 1;
        if (multi_line) {
          while (next < text_.size() && (is_blank(text_[next]) || text_[next] == '\r' || text_[next] == '\n')) ++next;
          if (next < text_.size() && !is_ascii(text_[next])) {
            i_ = next;
            return false;
          }
        }
        i_ += 2;
      } else if (!multi_line && c == '\n') {
        return true;  // unterminated: toml++ fails here
      } else if (c == quote && (!multi_line || text_.substr(i_, 3) == triple)) {
        i_ += multi_line ? 3 : 1;
        // A multi-line string may end with up to two more quotes: """a""""" is a"".
        for (int extra = 0; multi_line && extra < 2 && i_ < text_.size() && text_[i_] == quote; ++extra) ++i_;
        return true;
      } else {
        ++i_;
      }
    }
    return true;
  }

  TomlHazard hazard(std::string message) const {
    TomlHazard h{{}, std::move(message)};
    for (size_t k = start_; k < i_ && k < text_.size(); ++k) {
      unsigned char c = static_cast<unsigned char>(text_[k]);
      if (c == '\n') {
        ++h.at.line;
        h.at.column = 1;
      } else if ((c & 0xC0) != 0x80) {  // count code points, as toml++ does
        ++h.at.column;
      }
    }
    return h;
  }

  std::string_view text_;
  size_t start_ = 0;
  size_t i_ = 0;
};

}  // namespace

std::optional<TomlHazard> find_toml_hazard(std::string_view toml_text) { return Scanner(toml_text).run(); }

}  // namespace tritonpack::spec::detail
