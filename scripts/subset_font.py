#!/usr/bin/env python
"""Regenerate the PDF fonts in redcross/fonts/ from Debian's Noto Sans CJK.

Extracts the "Noto Sans CJK SC" face from the system .ttc collections
(package fonts-noto-cjk) and subsets it to the GBK repertoire plus common
Latin/punctuation blocks. That repertoire is then split into parts, one file
per part and weight (see split_repertoire): the common part (GB2312 with
Latin, punctuation and symbols), which nearly every document needs, and
RARE_PARTS small files with the rest of GBK (rare name characters such as
喆 堃 镕), which a document loads only when it uses one of their characters.
Each part is a family of its own ("Noto Sans SC GBK", "Noto Sans SC GBK
Rare1", ...) so it can never be confused with (or silently replaced by) a
system font. Glyphs are then reordered by how often a document needs them and
renumbered so that every glyph's CID equals its glyph ID (see renumber_glyphs).

Usage:  .venv/bin/python scripts/subset_font.py [--src-dir DIR] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from fontTools.ttLib.reorderGlyphs import reorderGlyphs

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = Path("/usr/share/fonts/opentype/noto")
OUT_DIR = ROOT / "redcross" / "fonts"

SOURCE_FAMILY = "Noto Sans CJK SC"
FAMILY = "Noto Sans SC GBK"
PS_PREFIX = "NotoSansSC-GBK"
WEIGHTS = ("Regular", "Bold")
# Number of files the rare characters (GBK outside GB2312) are split into;
# redcross/pdf.py lists the same parts (RARE_FONT_PARTS).
RARE_PARTS = 8

# Rare name characters outside GB2312 that must survive (checked after subsetting).
MUST_HAVE = "喆堃镕昇珺赟"

# Blocks added on top of GBK (inclusive ranges): Latin, pinyin, punctuation,
# symbols commonly typed into forms, CJK punctuation and full/half-width forms.
EXTRA_RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (¥, ·, ×, ÷ ...)
    (0x0100, 0x017F),  # Latin Extended-A (pinyin ā ē ī ō ū ...)
    (0x01CD, 0x01DC),  # pinyin ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ
    (0x01F8, 0x01F9),  # pinyin ǹ
    (0x02C6, 0x02DD),  # spacing modifiers (ˇ ˉ ˊ ˋ ˙)
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # currency symbols (€ ...)
    (0x2100, 0x214F),  # letterlike (℃ № ™)
    (0x2150, 0x218F),  # number forms (Ⅰ-Ⅻ, ⅰ-ⅻ)
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed alphanumerics (①-⑳, ⑴-⒇, ⒈-⒛)
    (0x2500, 0x25FF),  # box drawing, blocks, geometric shapes (■□▲○●)
    (0x2600, 0x26FF),  # misc symbols (★☆☎✓-ish)
    (0x2713, 0x2714),  # check marks ✓ ✔
    (0x2776, 0x2793),  # dingbat circled digits ❶-❿
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3200, 0x32FF),  # enclosed CJK (㈠-㈩, ㊣)
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFE50, 0xFE6F),  # small form variants
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
]

# OpenType features to keep. Beyond the shaping basics these are what CJK
# punctuation needs: vertical forms (vert/vrt2), half/proportional widths and
# contextual punctuation spacing (halt/palt/vhal/vpal/chws/vchw, fwid/hwid/pwid).
# locl is kept for the ZHS language system only (see keep_only_zhs): it gives
# Chinese the full-width em dash "——" and SC quote forms.
# Deliberately dropped: aalt/dlig/hist/ruby (pull in thousands of alternates).
LAYOUT_FEATURES = [
    "ccmp", "locl", "calt", "liga", "kern", "mark", "mkmk",
    "vert", "vrt2", "vkrn", "halt", "palt", "vhal", "vpal", "chws", "vchw",
    "fwid", "hwid", "pwid",
]  # fmt: skip


# Characters nearly every document uses: Latin, digits, punctuation, symbols.
# They get the lowest glyph IDs (see glyph_tiers).
COMMON_RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # currency symbols
    (0x2100, 0x214F),  # letterlike (℃ №)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
]


# Hanzi our PDF templates print on every document: the capital numerals of
# amounts (人民币大写) and the fixed labels of templates/pdf/receipt.html,
# certificate.html and base.html (taken from them once; a template edited
# later only makes its new characters cost a little more, nothing breaks).
# They come first in the common part (see glyph_tiers): text that stays within
# these and Latin, such as a receipt's bold headings and total, then embeds
# ~800 glyph slots instead of ~4,400, which is faster to subset and compress.
DOCUMENT_CHARS = (
    "爱捌佰备币编标博称传此大代单道的第递电定额二贰发访分奉复感公共号核合红会或计价将交角金精玖举据捐开款"
    "量零流陆码民名目年您票期柒仟人日叁扫善社神十拾事收书数水肆特统万维位问伍献项向小校写谢信验页业一壹以"
    "亿益用于元月赠章整证值注准资子字"
)

# Space separators (Unicode Zs). Pango never switches fonts for them: a space
# after a rare character is shaped with that character's font, so every part
# must have them (else the space would show as a .notdef box).
SPACES = {0x0020, 0x00A0, 0x3000, *range(0x2000, 0x200B), 0x202F, 0x205F}


def gb2312_chars(first_row: int, last_row: int) -> set[int]:
    """Characters of GB2312 rows first_row..last_row (0xA1-0xF7)."""
    chars: set[int] = set()
    for row in range(first_row, last_row + 1):
        for cell in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.update(map(ord, bytes((row, cell)).decode("gb2312")))
    return chars


def gbk_repertoire() -> set[int]:
    """Every character reachable by decoding a valid 2-byte GBK sequence."""
    chars: set[int] = set()
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            with contextlib.suppress(UnicodeDecodeError):  # unassigned code point
                chars.update(map(ord, bytes((lead, trail)).decode("gbk")))
    return chars


def wanted_codepoints() -> set[int]:
    cps = gbk_repertoire()
    for lo, hi in EXTRA_RANGES:
        cps.update(range(lo, hi + 1))
    return cps


def split_repertoire(codepoints: set[int]) -> list[tuple[str, set[int]]]:
    """The parts the repertoire is shipped in, as (part name, codepoints).

    "" (the common part): all of GB2312 (its 6,763 hanzi, the 3,755 of level 1
    being ~99.7% of running Chinese text, and its symbols) plus every
    non-hanzi block of EXTRA_RANGES: what a receipt, certificate or report
    nearly always stays within. "Rare1".."RareN": the rest (GBK outside
    GB2312, ~14,000 characters, mostly hanzi seen only in names), in code
    point order, cut into RARE_PARTS parts of equal size. Each rare part also
    has the space separators (SPACES). A part's boundaries depend only on the
    repertoire, so both weights are cut the same way.
    """
    common = (gb2312_chars(0xA1, 0xF7) | {cp for lo, hi in EXTRA_RANGES for cp in range(lo, hi + 1)}) & codepoints
    rare = sorted(codepoints - common)
    size = len(rare)
    parts = [("", common)]
    for n in range(RARE_PARTS):
        chunk = set(rare[n * size // RARE_PARTS : (n + 1) * size // RARE_PARTS])
        parts.append((f"Rare{n + 1}", chunk | (SPACES & codepoints)))
    return parts


def part_names(part: str, weight: str) -> tuple[str, str]:
    """(family name, PostScript name) of one part: "Noto Sans SC GBK Rare1",
    "NotoSansSC-GBKRare1-Regular"; the common part keeps the plain family."""
    if not part:
        return FAMILY, f"{PS_PREFIX}-{weight}"
    return f"{FAMILY} {part}", f"{PS_PREFIX}{part}-{weight}"


def load_sc_face(ttc_path: Path) -> TTFont:
    """Return the face of the collection whose family name is exactly SOURCE_FAMILY."""
    collection = TTCollection(str(ttc_path), lazy=False)
    for face in collection.fonts:
        if face["name"].getDebugName(1) == SOURCE_FAMILY:
            return face
    raise SystemExit(f"no face named {SOURCE_FAMILY!r} in {ttc_path}")


def keep_only_zhs(font: TTFont) -> None:
    """Drop the JAN/KOR/ZHT/ZHH language systems from GSUB/GPOS.

    Their locl lookups swap in Japanese, Korean and Traditional Chinese glyph
    shapes; keeping them would nearly double the glyph count (~41k vs ~23k) and
    make rendering depend on a lang attribute. The subsetter only follows
    lookups still referenced from the ScriptList, so those glyphs fall away.
    """
    for tag in ("GSUB", "GPOS"):
        if tag not in font:
            continue
        for record in font[tag].table.ScriptList.ScriptRecord:
            script = record.Script
            script.LangSysRecord = [r for r in script.LangSysRecord if r.LangSysTag.strip() == "ZHS"]
            script.LangSysCount = len(script.LangSysRecord)


def rename(font: TTFont, weight: str, part: str = "") -> None:
    """Rename the family everywhere a font name lives (name table and CFF)."""
    family, ps_name = part_names(part, weight)
    ps_prefix = ps_name.removesuffix(f"-{weight}")
    replacements = [
        ("NotoSansCJKsc", ps_prefix),
        ("NotoSansCJKjp", ps_prefix),  # the collection shares one CFF named "jp"
        (SOURCE_FAMILY, family),
        ("Noto Sans CJK JP", family),
    ]

    def fix(text: str) -> str:
        for old, new in replacements:
            text = text.replace(old, new)
        return text

    name = font["name"]
    for record in name.names:
        if record.nameID in (1, 3, 4, 6, 16, 17, 18, 20, 21):
            record.string = fix(record.toUnicode())
    # Say in the font itself that this is a modified version (OFL §2 courtesy).
    what = f"GBK subset, part {part}" if part else "GBK subset, common part"
    for record in name.names:
        if record.nameID == 5:
            record.string = record.toUnicode() + f"; {what} (scripts/subset_font.py)"

    assert name.getDebugName(6) == ps_name, name.getDebugName(6)
    assert name.getDebugName(1) == family, name.getDebugName(1)

    cff = font["CFF "].cff
    top = cff[cff.fontNames[0]]
    cff.fontNames = [ps_name]
    top.FullName = f"{family} {weight}"
    top.FamilyName = family
    if hasattr(top, "FDArray"):
        for fd in top.FDArray:
            suffix = fd.FontName.split("-", 2)[-1]  # e.g. "Ideographs"
            fd.FontName = f"{ps_name}-{suffix}"


def _gsub_edges(font: TTFont) -> tuple[dict[str, set[str]], list[tuple[str, tuple[str, ...], str]]]:
    """Every substitution the font can make, regardless of feature and context:
    single/multiple/alternate as glyph -> glyphs, ligatures as (first, rest, ligature)."""
    edges: dict[str, set[str]] = {}
    ligatures: list[tuple[str, tuple[str, ...], str]] = []
    if "GSUB" not in font:
        return edges, ligatures
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = getattr(table, "ExtSubTable", table)
            kind = table.LookupType if hasattr(table, "LookupType") else lookup.LookupType
            if kind == 1:
                for src, dst in table.mapping.items():
                    edges.setdefault(src, set()).add(dst)
            elif kind in (2, 3):
                for src, dst in (table.mapping if kind == 2 else table.alternates).items():
                    edges.setdefault(src, set()).update(dst)
            elif kind == 4:
                for first, entries in table.ligatures.items():
                    ligatures += [(first, tuple(entry.Component), entry.LigGlyph) for entry in entries]
            elif kind == 8:
                for src, dst in zip(table.Coverage.glyphs, table.Substitute, strict=True):
                    edges.setdefault(src, set()).add(dst)
    return edges, ligatures


def usage_tiers(part: str) -> list[set[int]]:
    """Code points of a part in tiers of decreasing use. Common part: Latin,
    punctuation and DOCUMENT_CHARS, the 3,755 common hanzi (GB2312 level 1),
    the rest of GB2312, then the rest (symbols). A rare part: the spaces, then
    its characters."""
    if part:
        return [SPACES]
    common = {cp for lo, hi in COMMON_RANGES for cp in range(lo, hi + 1)} | gb2312_chars(0xA1, 0xA1)
    return [common | set(map(ord, DOCUMENT_CHARS)), gb2312_chars(0xB0, 0xD7), gb2312_chars(0xA1, 0xF7)]


def glyph_tiers(font: TTFont, tiers: list[set[int]]) -> list[list[str]]:
    """The font's glyphs in the given tiers of code points (see usage_tiers),
    then the rest of the cmap, then glyphs no character reaches. Each tier also
    holds every glyph its characters can be substituted with (locl, vert,
    ligatures...), so shaping a common character never reaches far into the font."""
    cmap = font.getBestCmap()
    edges, ligatures = _gsub_edges(font)
    wanted = [*tiers, set(cmap)]
    placed: set[str] = {".notdef"}
    tiers: list[list[str]] = [[".notdef"]]
    for codepoints in wanted:
        reach = {cmap[cp] for cp in codepoints if cp in cmap}
        grown = True
        while grown:  # closure under every substitution the font knows
            before = len(reach)
            for glyph in list(reach):
                reach |= edges.get(glyph, set())
            reach |= {lig for first, rest, lig in ligatures if first in reach and set(rest) <= reach}
            grown = len(reach) > before
        tiers.append(sorted(reach - placed, key=font.getGlyphID))
        placed |= reach
    tiers.append([glyph for glyph in font.getGlyphOrder() if glyph not in placed])
    return tiers


def renumber_glyphs(font: TTFont, tiers: list[set[int]]) -> TTFont:
    """Reorder the glyphs by tier (glyph_tiers) and make every glyph's CID equal
    its glyph ID. Returns the new font; ``font`` itself is consumed.

    Why: WeasyPrint subsets with HarfBuzz keeping glyph IDs (the page content
    refers to glyphs by ID), so an embedded subset still carries an empty slot
    (charset entry, CharStrings offset, hmtx/vmtx entry) for every glyph ID
    below the highest one used. Common characters at low IDs keep that tail
    short. And a CID-keyed CFF font whose CIDs differ from its glyph IDs is read
    differently by different viewers: the PDF content uses glyph IDs as CIDs,
    which MuPDF looks up through the CFF charset (Chinese text vanished there),
    so the CIDs must be the glyph IDs themselves.
    """
    order = [glyph for tier in glyph_tiers(font, tiers) for glyph in tier]
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    old_fd = list(top.FDSelect.gidArray) if hasattr(top, "FDSelect") else None
    old_ids = {glyph: font.getGlyphID(glyph) for glyph in order}
    font.recalcTimestamp = False  # here and below: keep head.modified (reproducible output)
    reorderGlyphs(font, order)
    if old_fd is not None:  # reorderGlyphs leaves the CFF FDSelect in the old order
        top.FDSelect.gidArray = [old_fd[old_ids[glyph]] for glyph in order]
    buffer = io.BytesIO()
    font.save(buffer)

    # Rename: glyph names of a CID-keyed CFF are its CIDs ("cid01234"); only
    # the CFF table holds names (post is format 3), the others use glyph IDs.
    font = TTFont(io.BytesIO(buffer.getvalue()), recalcTimestamp=False)
    top = font["CFF "].cff.topDictIndex[0]
    old_names = list(top.charset)
    new_names = [".notdef"] + [f"cid{gid:05d}" for gid in range(1, len(old_names))]
    charstrings = top.CharStrings.charStrings
    top.CharStrings.charStrings = {new: charstrings[old] for old, new in zip(old_names, new_names, strict=True)}
    top.charset = new_names
    font.setGlyphOrder(new_names)
    buffer = io.BytesIO()
    font.save(buffer)
    return TTFont(io.BytesIO(buffer.getvalue()), recalcTimestamp=False)


# Tables dropped: vertical metrics. WeasyPrint lays text out horizontally only
# and a PDF gets horizontal widths only, yet it embeds every table it finds,
# with a vmtx entry per glyph ID up to the highest one used (~17 KB per font
# per document, which pydyf then compresses at zlib level 9: ~4 ms a receipt).
DROP_TABLES = ["vmtx", "vhea", "VORG"]


def subset_options() -> subset.Options:
    options = subset.Options()
    options.drop_tables += DROP_TABLES
    options.layout_features = LAYOUT_FEATURES
    options.name_IDs = ["*"]  # keep the whole name table (copyright, licence...)
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = True
    return options


def build_repertoire(weight: str, src_dir: Path, codepoints: set[int]) -> bytes:
    """The whole GBK repertoire of one weight, not yet renamed nor renumbered."""
    font = load_sc_face(src_dir / f"NotoSansCJK-{weight}.ttc")
    cmap = font.getBestCmap()
    keep_only_zhs(font)
    subsetter = subset.Subsetter(subset_options())
    subsetter.populate(unicodes=sorted(cp for cp in codepoints if cp in cmap))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.recalcTimestamp = False
    font.save(buffer)
    return buffer.getvalue()


def build_part(repertoire: bytes, weight: str, part: str, codepoints: set[int], out_dir: Path) -> Path:
    """One part of one weight: subset the repertoire, rename, renumber, save."""
    font = TTFont(io.BytesIO(repertoire), recalcTimestamp=False)
    cmap = font.getBestCmap()
    subsetter = subset.Subsetter(subset_options())
    subsetter.populate(unicodes=sorted(cp for cp in codepoints if cp in cmap))
    subsetter.subset(font)
    rename(font, weight, part)
    font = renumber_glyphs(font, usage_tiers(part))
    _, ps_name = part_names(part, weight)
    out = out_dir / f"{ps_name}.otf"
    font.recalcTimestamp = False  # keep head.modified from upstream: reproducible output
    font.save(str(out))
    return out


def check_parts(weight: str, repertoire: bytes, outs: list[Path]) -> None:
    """The parts together map exactly the repertoire's characters, each
    character (spaces aside) in one part only, with the same advance widths."""
    whole = TTFont(io.BytesIO(repertoire))
    whole_cmap, whole_widths = whole.getBestCmap(), whole["hmtx"].metrics
    seen: dict[int, Path] = {}
    for out in outs:
        font = TTFont(str(out))
        widths = font["hmtx"].metrics
        for cp, glyph in font.getBestCmap().items():
            if cp in seen and cp not in SPACES:
                raise SystemExit(f"{weight}: U+{cp:04X} is in both {seen[cp].name} and {out.name}")
            seen[cp] = out
            if widths[glyph][0] != whole_widths[whole_cmap[cp]][0]:
                raise SystemExit(f"{weight}: U+{cp:04X} changed width in {out.name}")
    lost = sorted(set(whole_cmap) - set(seen))
    if lost:
        raise SystemExit(f"{weight}: characters in no part: {''.join(map(chr, lost[:20]))}")
    missing = [c for c in MUST_HAVE if ord(c) not in seen]
    if missing:
        raise SystemExit(f"{weight}: required characters missing: {''.join(missing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src-dir", type=Path, default=SRC_DIR)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    codepoints = wanted_codepoints()
    gbk = gbk_repertoire()
    for weight in WEIGHTS:
        repertoire = build_repertoire(weight, args.src_dir, codepoints)
        outs = []
        for part, part_codepoints in split_repertoire(codepoints):
            out = build_part(repertoire, weight, part, part_codepoints, args.out_dir)
            check = TTFont(str(out))
            print(
                f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: "
                f"{out.stat().st_size / 1e6:.2f} MB, {check['maxp'].numGlyphs} glyphs, "
                f"{len(check.getBestCmap())} mapped chars"
            )
            outs.append(out)
        check_parts(weight, repertoire, outs)
        mapped = set().union(*(TTFont(str(out)).getBestCmap() for out in outs))
        lost = sorted(cp for cp in gbk if cp not in mapped)
        print(
            f"{weight}: {len(mapped)} mapped chars in {len(outs)} parts, GBK chars without glyph: {len(lost)}"
            + (f" ({''.join(map(chr, lost[:20]))}...)" if lost else "")
        )


if __name__ == "__main__":
    main()
