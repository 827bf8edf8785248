// Python exception objects (see exceptions.h).
#include "spec/model/exceptions.h"

namespace asyncspec::spec::sim {

bool IsException(const ExcP& e) {
  switch (e->type) {
    case Exc::Type::kCancelled:
    case Exc::Type::kBase:
      return false;
    case Exc::Type::kGroup:
      for (const auto& c : e->children)
        if (!IsException(c)) return false;
      return true;
    default:
      return true;
  }
}

Exc ToExc(const ExcP& e) {
  Exc x;
  x.type = e->type;
  x.label = e->label;
  x.msg = e->msg;
  x.what = e->what;
  if (e->type == Exc::Type::kGroup) {
    x.base_group = !IsException(e);
    for (const auto& c : e->children) x.children.push_back(ToExc(c));
  }
  return x;
}

}  // namespace asyncspec::spec::sim
