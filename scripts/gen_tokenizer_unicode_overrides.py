#!/usr/bin/env python3
"""Generate src/tokenizer/hf_unicode_overrides.inc.

Why this exists: Hugging Face `tokenizers` does not use one Unicode version.
Its BERT normalizer and pre-tokenizer take general categories (control,
punctuation, non-spacing mark) from the `unicode_categories` crate, whose
tables predate Unicode 9; NFD comes from `unicode-normalization-alignments`,
also old; while lowercasing and whitespace come from Rust's std (Unicode 16
for the wheel we test). arrowembed takes its Unicode data from utf8proc
(Unicode 15.0 in Debian 12). On characters assigned or re-categorised after
those old tables, or added in Unicode 16, the two disagree.

This script asks the oracle (the `tokenizers` Python package) about every
code point, compares each property with what utf8proc says, and writes the
(small) set of differences as C++ range tables. The C++ side applies them on
top of utf8proc, so the base data still comes from the maintained library and
only the documented version gap is patched. The script then re-checks its
model of "utf8proc + overrides" against the oracle on every code point and
fails if anything still differs.

Usage: .venv/bin/python scripts/gen_tokenizer_unicode_overrides.py [--check]
  --check  only verify that the committed file is up to date (exit 1 if not)
"""
import argparse
import ctypes
import ctypes.util
import pathlib
import sys

import tokenizers
from tokenizers import normalizers, pre_tokenizers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "tokenizer" / "hf_unicode_overrides.inc"

# --- utf8proc via ctypes ----------------------------------------------------
_lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")


class _Property(ctypes.Structure):
    # Only the leading fields we read; the struct is larger but we never copy it.
    _fields_ = [("category", ctypes.c_int16), ("combining_class", ctypes.c_int16)]


_lib.utf8proc_get_property.restype = ctypes.POINTER(_Property)
_lib.utf8proc_tolower.restype = ctypes.c_int32
_lib.utf8proc_unicode_version.restype = ctypes.c_char_p
_CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No",
               "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So",
               "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
_UTF8PROC_DECOMPOSE = 1 << 3
_buf = (ctypes.c_int32 * 32)()
_last = ctypes.c_int()


def category(cp):
    return _CATEGORIES[_lib.utf8proc_get_property(cp).contents.category]


def ccc(cp):
    return _lib.utf8proc_get_property(cp).contents.combining_class


def decompose(cp):
    n = _lib.utf8proc_decompose_char(cp, _buf, 32, _UTF8PROC_DECOMPOSE, ctypes.byref(_last))
    return [_buf[i] for i in range(n)]


ASCII_PUNCT = set(map(ord, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))
# Rust's char::is_whitespace is the Unicode White_Space property: all of
# Zs, Zl, Zp plus these C0/C1 controls. Must match src/tokenizer/unicode_props.cc.
WS_CONTROLS = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85}


def base_control(cp):
    return cp not in (0x09, 0x0A, 0x0D) and category(cp) in ("Cc", "Cf", "Co", "Cs")


def base_whitespace(cp):
    return cp in WS_CONTROLS or category(cp) in ("Zs", "Zl", "Zp")


def base_punct(cp):
    return cp in ASCII_PUNCT or category(cp).startswith("P")


def base_mn(cp):
    return category(cp) == "Mn"


def base_lower(cp):
    return [_lib.utf8proc_tolower(cp)]


# --- oracle ------------------------------------------------------------------
_clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False,
                                    strip_accents=False, lowercase=False)
_lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                    strip_accents=False, lowercase=True)
_bert_strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                         strip_accents=True, lowercase=False)
_nfd = normalizers.NFD()
_pretok = pre_tokenizers.BertPreTokenizer()


def all_code_points():
    return [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]


def oracle_props(cp):
    c = chr(cp)
    cleaned = _clean.normalize_str(c)
    removed = cleaned == ""
    # 0 and U+FFFD are removed by clean_text independently of is_control.
    control = removed and cp not in (0, 0xFFFD)
    # Whitespace and punctuation as the pre-tokenizer sees them: "a<c>b" splits
    # into two pieces around whitespace and three around punctuation.
    pieces = _pretok.pre_tokenize_str("a" + c + "b")
    whitespace = len(pieces) == 2 and pieces[0][0] == "a" and pieces[1][0] == "b"
    punct = len(pieces) == 3
    # BertNormalizer's strip_accents is NFD then "drop Mn" (the standalone
    # StripAccents normalizer drops all of Mn/Mc/Me, so it is not the probe).
    # A character's own Mn-ness only matters when NFD leaves it unchanged.
    nfd = [ord(x) for x in _nfd.normalize_str(c)]
    mn = _bert_strip.normalize_str(c) == "" if nfd == [cp] else base_mn(cp)
    lower = [ord(x) for x in _lower.normalize_str(c)]
    return control, whitespace, punct, mn, lower, nfd, pieces


def cleaned_whitespace(cp):
    return _clean.normalize_str(chr(cp)) == " "


def oracle_orders_as_starter(cp):
    """True when the oracle's NFD treats cp as combining class 0 (a starter).

    Probe: put cp before a mark R of lower combining class (U+0334, class 1)
    or, for class-1 marks, after a mark of higher class (U+0301, class 230).
    Canonical ordering swaps adjacent non-starters that are out of order; a
    starter never moves.
    """
    c = chr(cp)
    if ccc(cp) > 1:
        return _nfd.normalize_str("a" + c + "\u0334") == "a" + c + "\u0334"
    return _nfd.normalize_str("a\u0301" + c) == "a\u0301" + c


def to_ranges(cps):
    ranges = []
    for cp in sorted(cps):
        if ranges and ranges[-1][1] + 1 == cp:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


def render_ranges(name, cps, why):
    lines = [f"// {why}", f"inline constexpr CodePointRange {name}[] = {{"]
    ranges = to_ranges(cps)
    row = []
    for lo, hi in ranges:
        row.append(f"{{0x{lo:05X}, 0x{hi:05X}}}")
        if len(row) == 4:
            lines.append("    " + ", ".join(row) + ",")
            row = []
    if row:
        lines.append("    " + ", ".join(row) + ",")
    if not ranges:
        lines.append("    {0xFFFFFFFF, 0xFFFFFFFF},  // empty: sentinel that matches nothing")
    lines.append("};")
    return "\n".join(lines)


def generate():
    sets = {k: set() for k in ("not_control", "extra_control", "not_punct", "extra_punct",
                               "not_mn", "extra_mn", "no_decomposition", "starter")}
    lower_overrides = {}
    problems = []
    for cp in all_code_points():
        control, whitespace, punct, mn, lower, nfd, _ = oracle_props(cp)
        if whitespace != base_whitespace(cp):
            problems.append(f"whitespace differs at U+{cp:04X}")
        if control != base_control(cp):
            sets["extra_control" if control else "not_control"].add(cp)
        if cleaned_whitespace(cp) != whitespace and not control and cp not in (0, 0xFFFD):
            problems.append(f"clean_text whitespace differs at U+{cp:04X}")
        if not whitespace and punct != base_punct(cp):
            sets["extra_punct" if punct else "not_punct"].add(cp)
        if mn != base_mn(cp):
            sets["extra_mn" if mn else "not_mn"].add(cp)
        if lower != base_lower(cp):
            if len(lower) > 3:
                problems.append(f"lowercase of U+{cp:04X} longer than 3")
            lower_overrides[cp] = lower
        if nfd != decompose(cp):
            if nfd == [cp]:
                sets["no_decomposition"].add(cp)
            else:
                problems.append(f"NFD of U+{cp:04X} differs: {nfd} vs {decompose(cp)}")
        if ccc(cp) != 0 and nfd == [cp] and oracle_orders_as_starter(cp):
            sets["starter"].add(cp)
    if problems:
        sys.exit("cannot express these differences as overrides:\n" + "\n".join(problems))

    version = _lib.utf8proc_unicode_version().decode()
    parts = [
        "// GENERATED by scripts/gen_tokenizer_unicode_overrides.py -- do not edit.",
        f"// Oracle: tokenizers {tokenizers.__version__}; base data: utf8proc (Unicode {version}).",
        "// Each table lists code points where Hugging Face's answer differs from",
        "// utf8proc's, because HF's category/NFD tables are older (pre Unicode 9) and its",
        "// lowercasing is newer (Rust std). See docs/tokenizer.md, \"Unicode versions\".",
        "// Included by unicode_props.cc only.",
        "",
        render_ranges("kHfNotControl", sets["not_control"],
                      "utf8proc: Cc/Cf/Co/Cs; HF keeps them (unknown to its tables)."),
        render_ranges("kHfExtraControl", sets["extra_control"],
                      "HF removes them as control; utf8proc says otherwise."),
        render_ranges("kHfNotPunctuation", sets["not_punct"],
                      "utf8proc: P*; HF does not split on them (assigned after its tables)."),
        render_ranges("kHfExtraPunctuation", sets["extra_punct"],
                      "HF splits on them (category changed since its tables)."),
        render_ranges("kHfNotNonspacingMark", sets["not_mn"],
                      "utf8proc: Mn; strip_accents keeps them in HF."),
        render_ranges("kHfExtraNonspacingMark", sets["extra_mn"],
                      "HF strips them as Mn; utf8proc says another category."),
        render_ranges("kHfNoDecomposition", sets["no_decomposition"],
                      "utf8proc decomposes them (NFD); HF's older NFD leaves them as is."),
        render_ranges("kHfStarter", sets["starter"],
                      "Combining class != 0 in utf8proc; HF's NFD treats them as starters."),
        "// Lowercase mappings where HF (Rust std, Unicode 16, full mappings) differs",
        "// from utf8proc_tolower (simple mappings, Unicode " + version + ").",
        "inline constexpr LowercaseOverride kHfLowercase[] = {",
    ]
    for cp, lower in sorted(lower_overrides.items()):
        padded = lower + [0] * (3 - len(lower))
        parts.append(f"    {{0x{cp:05X}, {len(lower)}, {{" + ", ".join(f"0x{x:05X}" for x in padded) + "}},")
    parts.append("};")
    text = "\n".join(parts) + "\n"
    counts = {k: len(v) for k, v in sets.items()}
    counts["lowercase"] = len(lower_overrides)
    return text, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text, counts = generate()
    print("override counts:", counts, file=sys.stderr)
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT} is out of date; rerun {pathlib.Path(__file__).name}")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
