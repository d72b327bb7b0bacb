#pragma once
// The few XML pieces an OOXML sheet needs: attribute look-up inside one tag and entity
// decoding. A purpose-built scanner, because a general parser is 10-20x slower on a sheet.
#include <string>
#include <string_view>

namespace reinforcer::xml {

// Value of attribute `name` inside the tag text [<tag ... >); empty view if absent.
// Matches a whole attribute name, or any namespace prefix when name starts with ':'.
std::string_view attribute(std::string_view tag, std::string_view name);

// Appends text with &amp; &lt; &gt; &quot; &apos; &#N; &#xH; decoded.
void append_decoded(std::string& out, std::string_view text);

// Appends the character data of every <t> element in [begin, end), skipping phonetic
// runs (<rPh>): the text of a shared string or an inline string.
void append_text_runs(std::string& out, std::string_view xml);

}  // namespace reinforcer::xml
