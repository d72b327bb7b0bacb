#include "xml_text.hpp"

#include <cstdint>

namespace reinforcer::xml {

std::string_view attribute(std::string_view tag, std::string_view name) {
  const bool any_prefix = !name.empty() && name.front() == ':';
  std::size_t pos = 0;
  while ((pos = tag.find(name, pos)) != std::string_view::npos) {
    const std::size_t after = pos + name.size();
    const bool starts_ok = any_prefix || pos == 0 || tag[pos - 1] == ' ' || tag[pos - 1] == '\t' ||
                           tag[pos - 1] == '\n' || tag[pos - 1] == '\r';
    if (starts_ok && after + 1 < tag.size() && tag[after] == '=' &&
        (tag[after + 1] == '"' || tag[after + 1] == '\'')) {
      const char q = tag[after + 1];
      const std::size_t close = tag.find(q, after + 2);
      if (close == std::string_view::npos) return {};
      return tag.substr(after + 2, close - after - 2);
    }
    pos = after;
  }
  return {};
}

namespace {
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
}  // namespace

void append_decoded(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      return;
    }
    out.append(text.substr(i, amp - i));
    const std::size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos) {
      out.append(text.substr(amp));
      return;
    }
    const std::string_view ent = text.substr(amp + 1, semi - amp - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      std::uint32_t cp = 0;
      const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      for (std::size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
        const char c = ent[k];
        if (hex) cp = cp * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        else cp = cp * 10 + static_cast<std::uint32_t>(c - '0');
      }
      append_utf8(out, cp);
    } else {
      out.append(text.substr(amp, semi - amp + 1));
    }
    i = semi + 1;
  }
}

void append_text_runs(std::string& out, std::string_view x) {
  std::size_t pos = 0;
  while ((pos = x.find('<', pos)) != std::string_view::npos) {
    if (x.compare(pos, 4, "<rPh") == 0) {  // phonetic guide: not part of the value
      const std::size_t end = x.find("</rPh>", pos);
      if (end == std::string_view::npos) return;
      pos = end + 6;
      continue;
    }
    if (x.compare(pos, 2, "<t") == 0 && pos + 2 < x.size() && (x[pos + 2] == '>' || x[pos + 2] == ' ')) {
      const std::size_t gt = x.find('>', pos);
      if (gt == std::string_view::npos) return;
      if (x[gt - 1] == '/') {  // <t/>
        pos = gt + 1;
        continue;
      }
      const std::size_t close = x.find("</t>", gt);
      if (close == std::string_view::npos) return;
      append_decoded(out, x.substr(gt + 1, close - gt - 1));
      pos = close + 4;
      continue;
    }
    ++pos;
  }
}

}  // namespace reinforcer::xml
