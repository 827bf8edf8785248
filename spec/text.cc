// Text form of programs (spec/text.h, spec/LANGUAGE.md).
//
// Parsing is two stages, as in Python's own tokenizer: a lexer cuts the
// input into logical lines (indentation width plus tokens; blank and
// comment-only lines dropped), then a recursive-descent parser reads one
// step per line, a compound step's body being the following lines indented
// deeper than it. The grammar is positional (every construct starts with its
// own keyword, and each later word has a fixed role), so names may be any
// identifier, keywords included; only strings in label/value/message
// positions that look like keywords are quoted by the printer, so that
// `raise "base"` cannot read as `raise base ...`.
//
// Recursion is one parser frame per nesting level, checked against
// kMaxNesting before descending. Errors are thrown as TextError inside this
// file and turned into a status at the entry point.
#include "spec/str_cat.h"
#include "spec/text.h"

#include <algorithm>
#include <charconv>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "spec/json.h"

namespace asyncspec::spec {
namespace {

using internal::Append1;
using internal::StrCat;

bool IsHead(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIdentifier(std::string_view s) {
  return !s.empty() && IsHead(s[0]) &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return IsHead(c) || IsDigit(c); });
}

// Every word with a meaning somewhere in the language. A string equal to one
// of them is printed quoted (see the top of the file).
constexpr std::string_view kKeywords[] = {
    "program", "main",     "pass",    "sleep",  "raise",     "base",       "return",
    "task",    "group",    "spawn",   "gather", "child",     "return_exceptions",
    "timeout", "none",     "reschedule", "shield", "wait_for", "cancel",   "await",
    "uncancel", "try",     "except",  "finally", "as",       "then",       "reraise",
    "swallow", "cancelled", "error",  "runtime", "exception", "any"};

bool IsKeyword(std::string_view s) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) != std::end(kKeywords);
}

struct TextError {
  int line, column;
  std::string message;
};

// ---------------------------------------------------------------- lexer

struct Token {
  enum class Kind { kWord, kInt, kString, kColon };
  Kind kind;
  std::string_view text;  // as written (for a string: with its quotes)
  std::string value;      // kString: the decoded string
  int column;             // 1-based
};

struct Line {
  int number;  // 1-based
  int indent;  // leading spaces
  std::vector<Token> tokens;
  int end_column;  // column just after the last token
};

std::string Printable(char c) {
  if (c >= 0x20 && c < 0x7F) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return StrCat("\\x", std::string_view(&kHex[u >> 4], 1), std::string_view(&kHex[u & 0xF], 1));
}

std::vector<Line> Lex(std::string_view text) {
  std::vector<Line> lines;
  int number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(start, end - start);
    const bool last = end == text.size();
    start = end + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);

    Line line{number, 0, {}, 1};
    std::size_t i = 0;
    while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t')) {
      if (raw[i] == '\t') {
        // Is the tab only trailing whitespace or in front of a comment? Then
        // the line is blank and its indentation does not matter.
        std::size_t k = raw.find_first_not_of(" \t", i);
        if (k == std::string_view::npos || raw[k] == '#') break;
        throw TextError{number, static_cast<int>(i) + 1,
                        "tab in indentation; indent with spaces"};
      }
      ++i;
    }
    line.indent = static_cast<int>(i);
    while (i < raw.size()) {
      const char c = raw[i];
      const int column = static_cast<int>(i) + 1;
      if (c == ' ' || c == '\t') {
        ++i;
      } else if (c == '#') {
        break;
      } else if (c == ':') {
        line.tokens.push_back(Token{Token::Kind::kColon, raw.substr(i, 1), {}, column});
        ++i;
      } else if (IsHead(c)) {
        std::size_t j = i + 1;
        while (j < raw.size() && (IsHead(raw[j]) || IsDigit(raw[j]))) ++j;
        if (raw.substr(i, j - i) == "except" && j < raw.size() && raw[j] == '*') ++j;
        line.tokens.push_back(Token{Token::Kind::kWord, raw.substr(i, j - i), {}, column});
        i = j;
      } else if (IsDigit(c)) {
        std::size_t j = i + 1;
        while (j < raw.size() && IsDigit(raw[j])) ++j;
        if (j < raw.size() && IsHead(raw[j])) {
          throw TextError{number, column,
                          "a name cannot start with a digit (quote it if it is a label)"};
        }
        line.tokens.push_back(Token{Token::Kind::kInt, raw.substr(i, j - i), {}, column});
        i = j;
      } else if (c == '"') {
        // A JSON string literal: find its end, then let nlohmann decode and
        // check it (escapes, \u sequences, UTF-8).
        std::size_t j = i + 1;
        while (j < raw.size() && raw[j] != '"') j += raw[j] == '\\' ? 2 : 1;
        if (j >= raw.size()) throw TextError{number, column, "unterminated string"};
        std::string_view literal = raw.substr(i, j + 1 - i);
        std::string value;
        try {
          value = nlohmann::json::parse(literal.begin(), literal.end()).get<std::string>();
        } catch (const nlohmann::json::exception& e) {
          std::string_view what = e.what();
          // "[json.exception.parse_error.101] parse error at line 1, column
          // 7: <what>": keep <what>; the place is ours (the string's column).
          if (auto pos = what.find(": "); pos != std::string_view::npos) {
            what.remove_prefix(pos + 2);
          }
          throw TextError{number, column, StrCat("invalid string literal: ", what)};
        }
        line.tokens.push_back(Token{Token::Kind::kString, literal, std::move(value), column});
        i = j + 1;
      } else if (c == '-' && i + 1 < raw.size() && IsDigit(raw[i + 1])) {
        throw TextError{number, column, "negative number; delays are integers >= 0"};
      } else {
        throw TextError{number, column, StrCat("unexpected character '", Printable(c), "'")};
      }
    }
    if (!line.tokens.empty()) {
      const Token& t = line.tokens.back();
      line.end_column = t.column + static_cast<int>(t.text.size());
      lines.push_back(std::move(line));
    }
    if (last) break;
  }
  return lines;
}

// ---------------------------------------------------------------- parser

// Reads the tokens of one line left to right.
class Cursor {
 public:
  explicit Cursor(const Line& line) : line_(line) {}

  bool AtEnd() const { return i_ == line_.tokens.size(); }
  const Token* Peek() const { return AtEnd() ? nullptr : &line_.tokens[i_]; }
  bool PeekWord(std::string_view w) const {
    const Token* t = Peek();
    return t != nullptr && t->kind == Token::Kind::kWord && t->text == w;
  }
  // Consumes the next token if it is the word `w`.
  bool Accept(std::string_view w) {
    if (!PeekWord(w)) return false;
    ++i_;
    return true;
  }

  [[noreturn]] void Fail(std::string message) const {
    const int column = AtEnd() ? line_.end_column : line_.tokens[i_].column;
    throw TextError{line_.number, column, std::move(message)};
  }

  // What has been read so far, for messages: "after 'spawn g a'".
  std::string After() const {
    if (i_ == 0) return "at the start of the line";
    const Token& first = line_.tokens.front();
    const Token& last = line_.tokens[i_ - 1];
    std::string_view read(first.text.data(), last.text.data() + last.text.size() - first.text.data());
    return StrCat("after '", read, "'");
  }

  std::string_view Name(std::string_view what) {
    const Token* t = Peek();
    if (t == nullptr || t->kind != Token::Kind::kWord) Fail(StrCat("expected ", what, " ", After()));
    if (t->text == "except*") Fail(StrCat("expected ", what, " ", After(), ", got 'except*'"));
    ++i_;
    return t->text;
  }

  // A string: a bare word or a quoted string literal.
  std::string Str(std::string_view what) {
    const Token* t = Peek();
    if (t == nullptr || (t->kind != Token::Kind::kWord && t->kind != Token::Kind::kString)) {
      Fail(StrCat("expected ", what, " (a word or a \"quoted string\") ", After()));
    }
    ++i_;
    return t->kind == Token::Kind::kString ? t->value : std::string(t->text);
  }

  Time Int(std::string_view what) {
    const Token* t = Peek();
    if (t == nullptr || t->kind != Token::Kind::kInt) {
      Fail(StrCat("expected ", what, " (an integer >= 0) ", After()));
    }
    Time value = 0;
    auto [end, ec] = std::from_chars(t->text.data(), t->text.data() + t->text.size(), value);
    if (ec != std::errc() || value > kMaxDelay) {
      Fail(StrCat(what, " ", t->text, " is larger than the limit ", kMaxDelay));
    }
    ++i_;
    return value;
  }

  std::optional<Time> Delay(std::string_view what) {
    if (Accept("none")) return std::nullopt;
    const Token* t = Peek();
    if (t == nullptr || t->kind != Token::Kind::kInt) {
      Fail(StrCat("expected ", what, " (an integer >= 0 or none) ", After()));
    }
    return Int(what);
  }

  void Colon() {
    const Token* t = Peek();
    if (t == nullptr || t->kind != Token::Kind::kColon) Fail(StrCat("expected ':' ", After()));
    ++i_;
    End();
  }

  void End() const {
    if (!AtEnd()) Fail(StrCat("unexpected '", line_.tokens[i_].text, "' ", After()));
  }

 private:
  const Line& line_;
  std::size_t i_ = 0;
};

constexpr std::pair<std::string_view, CatchKind> kKinds[] = {
    {"cancelled", CatchKind::kCancelled}, {"timeout", CatchKind::kTimeout},
    {"error", CatchKind::kError},         {"base", CatchKind::kBase},
    {"group", CatchKind::kGroup},         {"runtime", CatchKind::kRuntime},
    {"exception", CatchKind::kException}, {"any", CatchKind::kAny}};
constexpr std::pair<std::string_view, Then> kThens[] = {
    {"reraise", Then::kReraise}, {"swallow", Then::kSwallow}, {"uncancel", Then::kUncancel}};

class Parser {
 public:
  explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

  Program File() {
    Program program;
    if (lines_.empty()) throw TextError{1, 1, "empty program; expected 'main:'"};
    if (lines_[pos_].indent > 0) Fail(lines_[pos_], "unexpected indent");
    if (!lines_[pos_].tokens.empty() && lines_[pos_].tokens[0].text == "program") {
      Cursor c(lines_[pos_++]);
      c.Accept("program");
      program.name = c.Str("a program name");
      c.End();
    }
    if (pos_ == lines_.size()) {
      throw TextError{lines_.back().number + 1, 1, "expected 'main:'"};
    }
    const Line& header = lines_[pos_++];
    if (header.indent > 0) Fail(header, "unexpected indent");
    Cursor c(header);
    if (!c.Accept("main")) c.Fail("expected 'main:'");
    c.Colon();
    program.main = Block(header, 0, 1);
    if (pos_ < lines_.size()) {
      const Line& line = lines_[pos_];
      Fail(line, line.indent == 0 ? "unexpected text after main's body (a program has one main)"
                                  : "unindent does not match any outer indentation level");
    }
    return program;
  }

 private:
  [[noreturn]] static void Fail(const Line& line, std::string message) {
    throw TextError{line.number, line.indent + 1, std::move(message)};
  }

  static bool StartsWith(const Line& line, std::string_view word) {
    return line.tokens.front().kind == Token::Kind::kWord && line.tokens.front().text == word;
  }

  // Positions the parser on the first line of the block under `header`
  // (indented deeper than `outer`) and returns that block's indentation.
  int OpenBlock(const Line& header, int outer, int depth) {
    if (depth > kMaxNesting) {
      Fail(header, StrCat("bodies nested deeper than ", kMaxNesting, " (the limit)"));
    }
    if (pos_ == lines_.size() || lines_[pos_].indent <= outer) {
      const int line = pos_ == lines_.size() ? header.number + 1 : lines_[pos_].number;
      const int column = pos_ == lines_.size() ? 1 : lines_[pos_].indent + 1;
      throw TextError{line, column,
                      StrCat("expected an indented block after line ", header.number,
                             " (write 'pass' for an empty body)")};
    }
    return lines_[pos_].indent;
  }

  // True while the next line belongs to the block of indentation `indent`
  // (of a header at `outer`); checks Python's indentation rules.
  bool InBlock(int indent, int outer) {
    if (pos_ == lines_.size()) return false;
    const Line& line = lines_[pos_];
    if (line.indent > indent) Fail(line, "unexpected indent");
    if (line.indent < indent) {
      if (line.indent > outer) Fail(line, "unindent does not match any outer indentation level");
      return false;
    }
    return true;
  }

  // `pass` alone on a line: no step (lets a body be empty, as in Python).
  bool Pass() {
    const Line& line = lines_[pos_];
    if (!StartsWith(line, "pass")) return false;
    Cursor c(line);
    c.Accept("pass");
    c.End();
    ++pos_;
    return true;
  }

  // The body under `header` (at indentation `outer`); its steps are at
  // nesting depth `depth`.
  [[gnu::noinline]] Body Block(const Line& header, int outer, int depth) {
    const int indent = OpenBlock(header, outer, depth);
    Body body;
    while (InBlock(indent, outer)) {
      if (Pass()) continue;
      const Line& line = lines_[pos_];
      if (StartsWith(line, "except") || StartsWith(line, "except*") ||
          StartsWith(line, "finally")) {
        Fail(line, StrCat("'", line.tokens.front().text, "' without a try just above it"));
      }
      body.push_back(Step());
      ParseStep(body.back(), indent, depth);
    }
    return body;
  }

  TaskDef Task(std::string_view name, const Line& header, int indent, int depth) {
    return TaskDef{std::string(name), Block(header, indent, depth + 1)};
  }

  // Parses the step on the current line (and its body), at indentation
  // `indent`, nesting depth `depth`, into `step`. The parser recurses once
  // per nesting level (Block -> ParseStep -> ParseX -> Block), up to
  // kMaxNesting levels, so frames are kept small: each op has its own
  // function, not inlined here (inlined, they made Block ~7 KB per level
  // under AddressSanitizer).
  [[gnu::noinline]] void ParseStep(Step& step, int indent, int depth) {
    const Line& line = lines_[pos_++];
    if (++steps_ > kMaxSteps) TooMany(line);
    step.line = line.number;
    step.column = line.indent + 1;
    Cursor c(line);
    const Token& head = line.tokens.front();
    if (head.kind != Token::Kind::kWord) c.Fail("expected a step (sleep, raise, await, ...)");
    const std::string_view op = c.Name("a step");
    for (const OpEntry& e : kOps) {
      if (e.name == op) {
        step.op = (this->*e.parse)(c, line, indent, depth);
        return;
      }
    }
    UnknownStep(line, head);
  }

  [[noreturn, gnu::noinline]] static void TooMany(const Line& line) {
    Fail(line, StrCat("more than ", kMaxSteps, " steps in the program (the limit)"));
  }
  [[noreturn, gnu::noinline]] static void UnknownStep(const Line& line, const Token& head) {
    throw TextError{line.number, head.column,
                    StrCat("unknown step '", head.text,
                           "' (expected sleep, raise, return, task, group, spawn, gather, "
                           "timeout, reschedule, shield, wait_for, cancel, await, uncancel, "
                           "try or pass)")};
  }

  using OpParser = Step::Op (Parser::*)(Cursor&, const Line&, int, int);
  struct OpEntry {
    std::string_view name;
    OpParser parse;
  };
  static const OpEntry kOps[15];

  Step::Op ParseSleep(Cursor& c, const Line&, int, int) {
    Sleep s{c.Int("a delay")};
    c.End();
    return s;
  }
  Step::Op ParseRaise(Cursor& c, const Line& line, int, int) {
    Raise r;
    // `raise base X` raises BaseErr(X); a label "base" is written quoted.
    if (c.PeekWord("base") && line.tokens.size() > 2) {
      c.Accept("base");
      r.base = true;
    }
    r.label = c.Str("an exception label");
    c.End();
    return r;
  }
  Step::Op ParseReturn(Cursor& c, const Line&, int, int) {
    Return r{c.Str("a return value")};
    c.End();
    return r;
  }
  Step::Op ParseTask(Cursor& c, const Line& line, int indent, int depth) {
    std::string_view name = c.Name("a task name");
    c.Colon();
    return CreateTask{Task(name, line, indent, depth)};
  }
  Step::Op ParseGroup(Cursor& c, const Line& line, int indent, int depth) {
    Group g;
    g.name = c.Name("a group name");
    c.Colon();
    g.body = Block(line, indent, depth + 1);
    return g;
  }
  Step::Op ParseSpawn(Cursor& c, const Line& line, int indent, int depth) {
    Spawn s;
    s.group = c.Name("a group name");
    std::string_view name = c.Name("a task name");
    c.Colon();
    s.task = Task(name, line, indent, depth);
    return s;
  }
  Step::Op ParseGather(Cursor& c, const Line& line, int indent, int depth) {
    Gather g;
    g.name = c.Name("a gather name");
    g.return_exceptions = c.Accept("return_exceptions");
    c.Colon();
    g.children = Children(line, indent, depth);
    return g;
  }
  Step::Op ParseTimeout(Cursor& c, const Line& line, int indent, int depth) {
    Timeout t;
    t.name = c.Name("a timeout name");
    t.d = c.Delay("a delay");
    c.Colon();
    t.body = Block(line, indent, depth + 1);
    return t;
  }
  Step::Op ParseReschedule(Cursor& c, const Line&, int, int) {
    Reschedule r;
    r.timeout = c.Name("a timeout name");
    r.d = c.Delay("a delay");
    c.End();
    return r;
  }
  Step::Op ParseShield(Cursor& c, const Line& line, int indent, int depth) {
    Shield s;
    s.name = c.Name("a shield name");
    std::string_view name = c.Name("a task name");
    c.Colon();
    s.task = Task(name, line, indent, depth);
    return s;
  }
  Step::Op ParseWaitFor(Cursor& c, const Line& line, int indent, int depth) {
    WaitFor w;
    w.name = c.Name("a wait_for name");
    std::string_view name = c.Name("a task name");
    w.d = c.Delay("a delay");
    c.Colon();
    w.task = Task(name, line, indent, depth);
    return w;
  }
  Step::Op ParseCancel(Cursor& c, const Line&, int, int) {
    Cancel x;
    x.target = c.Name("a task name");
    if (!c.AtEnd()) x.msg = c.Str("a cancel message");
    c.End();
    return x;
  }
  Step::Op ParseAwait(Cursor& c, const Line&, int, int) {
    Await a{std::string(c.Name("a task name"))};
    c.End();
    return a;
  }
  Step::Op ParseUncancel(Cursor& c, const Line&, int, int) {
    c.End();
    return Uncancel{};
  }
  Step::Op ParseTry(Cursor& c, const Line& line, int indent, int depth) {
    Try t;
    t.name = c.Name("a try name");
    c.Colon();
    t.body = Block(line, indent, depth + 1);
    TryTail(t, indent, depth);
    return t;
  }

  // The `child NAME:` blocks of a gather.
  std::vector<TaskDef> Children(const Line& header, int outer, int depth) {
    const int indent = OpenBlock(header, outer, depth + 1);
    std::vector<TaskDef> children;
    while (InBlock(indent, outer)) {
      if (Pass()) continue;
      const Line& line = lines_[pos_++];
      Cursor c(line);
      if (!c.Accept("child")) c.Fail("expected 'child NAME:' (a gather's body lists its children)");
      std::string_view name = c.Name("a task name");
      c.Colon();
      children.push_back(Task(name, line, indent, depth));
    }
    return children;
  }

  // The handlers and finally block after a try's body, at the try's indent.
  void TryTail(Try& t, int indent, int depth) {
    while (pos_ < lines_.size() && lines_[pos_].indent == indent &&
           (StartsWith(lines_[pos_], "except") || StartsWith(lines_[pos_], "except*"))) {
      const Line& line = lines_[pos_++];
      Cursor c(line);
      Handler h;
      h.star = !c.Accept("except");
      if (h.star) c.Accept("except*");
      const Token* kind = c.Peek();
      auto it = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const auto& k) {
        return kind != nullptr && kind->kind == Token::Kind::kWord && kind->text == k.first;
      });
      if (it == std::end(kKinds)) {
        c.Fail(StrCat("expected a catch kind (cancelled, timeout, error, base, group, runtime, "
                      "exception or any) ",
                      c.After()));
      }
      c.Accept(it->first);
      h.kind = it->second;
      if (!c.PeekWord("as")) {
        if (h.kind != CatchKind::kError && h.kind != CatchKind::kBase) {
          c.Fail(StrCat("expected 'as' ", c.After(),
                        " (a label is only allowed after error or base)"));
        }
        h.label = c.Str("an exception label");
      }
      if (!c.Accept("as")) c.Fail(StrCat("expected 'as NAME' ", c.After()));
      h.name = c.Name("a handler name");
      if (c.Accept("then")) {
        const Token* then = c.Peek();
        auto t2 = std::find_if(std::begin(kThens), std::end(kThens), [&](const auto& k) {
          return then != nullptr && then->kind == Token::Kind::kWord && then->text == k.first;
        });
        if (t2 == std::end(kThens)) {
          c.Fail(StrCat("expected reraise, swallow or uncancel ", c.After()));
        }
        c.Accept(t2->first);
        h.then = t2->second;
      } else {
        h.then = Then::kSwallow;
      }
      c.Colon();
      h.body = Block(line, indent, depth + 1);
      t.handlers.push_back(std::move(h));
    }
    if (pos_ < lines_.size() && lines_[pos_].indent == indent &&
        StartsWith(lines_[pos_], "finally")) {
      const Line& line = lines_[pos_++];
      Cursor c(line);
      c.Accept("finally");
      Finally f;
      f.name = c.Name("a finally block name");
      c.Colon();
      f.body = Block(line, indent, depth + 1);
      t.finally = std::move(f);
    }
  }

  std::vector<Line> lines_;
  std::size_t pos_ = 0;
  std::size_t steps_ = 0;
};

const Parser::OpEntry Parser::kOps[15] = {
    {"sleep", &Parser::ParseSleep},     {"raise", &Parser::ParseRaise},
    {"return", &Parser::ParseReturn},   {"task", &Parser::ParseTask},
    {"group", &Parser::ParseGroup},     {"spawn", &Parser::ParseSpawn},
    {"gather", &Parser::ParseGather},   {"timeout", &Parser::ParseTimeout},
    {"reschedule", &Parser::ParseReschedule}, {"shield", &Parser::ParseShield},
    {"wait_for", &Parser::ParseWaitFor}, {"cancel", &Parser::ParseCancel},
    {"await", &Parser::ParseAwait},     {"uncancel", &Parser::ParseUncancel},
    {"try", &Parser::ParseTry},
};

// ---------------------------------------------------------------- printer

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  void Body(const spec::Body& body, int indent) {
    if (body.empty()) {
      Line(indent);
      out_ += "pass\n";
      return;
    }
    for (const Step& step : body) {
      Line(indent);
      std::visit([&](const auto& op) { Op(op, indent); }, step.op);
    }
  }

 private:
  void Line(int indent) { out_.append(static_cast<std::size_t>(indent) * 2, ' '); }
  void Str(std::string_view s) {
    if (IsIdentifier(s) && !IsKeyword(s)) {
      out_ += s;
    } else {
      AppendJsonString(out_, s);
    }
  }
  void Delay(const std::optional<Time>& d) {
    if (d) {
      Append1(out_, *d);
    } else {
      out_ += "none";
    }
  }

  void Op(const Sleep& s, int) {
    out_ += "sleep ";
    Append1(out_, s.d);
    out_ += '\n';
  }
  void Op(const Raise& r, int) {
    out_ += r.base ? "raise base " : "raise ";
    Str(r.label);
    out_ += '\n';
  }
  void Op(const Return& r, int) {
    out_ += "return ";
    Str(r.value);
    out_ += '\n';
  }
  void Op(const CreateTask& t, int indent) {
    out_ += StrCat("task ", t.task.name, ":\n");
    Body(t.task.body, indent + 1);
  }
  void Op(const Group& g, int indent) {
    out_ += StrCat("group ", g.name, ":\n");
    Body(g.body, indent + 1);
  }
  void Op(const Spawn& s, int indent) {
    out_ += StrCat("spawn ", s.group, " ", s.task.name, ":\n");
    Body(s.task.body, indent + 1);
  }
  void Op(const Gather& g, int indent) {
    out_ += StrCat("gather ", g.name, g.return_exceptions ? " return_exceptions:\n" : ":\n");
    if (g.children.empty()) {
      Line(indent + 1);
      out_ += "pass\n";
    }
    for (const TaskDef& child : g.children) {
      Line(indent + 1);
      out_ += StrCat("child ", child.name, ":\n");
      Body(child.body, indent + 2);
    }
  }
  void Op(const Timeout& t, int indent) {
    out_ += StrCat("timeout ", t.name, " ");
    Delay(t.d);
    out_ += ":\n";
    Body(t.body, indent + 1);
  }
  void Op(const Reschedule& r, int) {
    out_ += StrCat("reschedule ", r.timeout, " ");
    Delay(r.d);
    out_ += '\n';
  }
  void Op(const Shield& s, int indent) {
    out_ += StrCat("shield ", s.name, " ", s.task.name, ":\n");
    Body(s.task.body, indent + 1);
  }
  void Op(const WaitFor& w, int indent) {
    out_ += StrCat("wait_for ", w.name, " ", w.task.name, " ");
    Delay(w.d);
    out_ += ":\n";
    Body(w.task.body, indent + 1);
  }
  void Op(const Cancel& c, int) {
    out_ += StrCat("cancel ", c.target);
    if (c.msg) {
      out_ += ' ';
      Str(*c.msg);
    }
    out_ += '\n';
  }
  void Op(const Await& a, int) { out_ += StrCat("await ", a.target, "\n"); }
  void Op(const Uncancel&, int) { out_ += "uncancel\n"; }
  void Op(const Try& t, int indent) {
    out_ += StrCat("try ", t.name, ":\n");
    Body(t.body, indent + 1);
    for (const Handler& h : t.handlers) {
      Line(indent);
      out_ += h.star ? "except* " : "except ";
      out_ += CatchKindName(h.kind);
      if (h.label) {
        out_ += ' ';
        Str(*h.label);
      }
      out_ += StrCat(" as ", h.name, " then ", ThenName(h.then), ":\n");
      Body(h.body, indent + 1);
    }
    if (t.finally) {
      Line(indent);
      out_ += StrCat("finally ", t.finally->name, ":\n");
      Body(t.finally->body, indent + 1);
    }
  }

  std::string& out_;
};

}  // namespace

absl::StatusOr<Program> ProgramFromText(std::string_view text) {
  if (text.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(StrCat("input of ", text.size(),
                                             " bytes is larger than the limit of ", kMaxTextBytes,
                                             " bytes"));
  }
  try {
    return Parser(Lex(text)).File();
  } catch (const TextError& e) {
    return absl::InvalidArgumentError(StrCat(e.line, ":", e.column, ": ", e.message));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing text");
  } catch (const std::exception& e) {  // a bug here; still never let it out
    return absl::InternalError(StrCat("unexpected error parsing text: ", std::string(e.what())));
  }
}

std::string ProgramToText(const Program& program) {
  std::string out;
  out.reserve(256);
  if (!program.name.empty()) {
    out += "program ";
    if (IsIdentifier(program.name) && !IsKeyword(program.name)) {
      out += program.name;
    } else {
      AppendJsonString(out, program.name);
    }
    out += '\n';
  }
  out += "main:\n";
  Printer(out).Body(program.main, 1);
  return out;
}

}  // namespace asyncspec::spec
