"""Which text encoding a Chinese document is in: UTF-8, GBK/GB18030, Big5, UTF-16 or UTF-32.

Reports and tables reach planatlas from Word, WPS, Excel and web pages:
UTF-8 (with or without BOM) mostly, GBK from Chinese Windows, Big5 from Hong
Kong and Taiwan, UTF-16 from "Unicode text" exports, now and then UTF-32.
Python's decoders cannot tell these apart on their own: GB18030 decodes
almost any bytes, Big5 text among them, into nonsense without an error. So:

1. a byte-order mark names the encoding (UTF-32's is tested before UTF-16's,
   which it starts with);
2. bytes that are valid UTF-8 are UTF-8 (other encodings of Chinese text are
   practically never valid UTF-8), also when cut short inside their last character;
3. otherwise every candidate that decodes is scored by how often the text
   holds the characters Chinese prose is made of (sentence marks and the
   most frequent characters, simplified and traditional), and the best one
   wins; nonsense scores near zero. When nothing scores, the encoding is not
   guessed: the caller asks for it (``--encoding``, ``encoding=``).

No library does this for Chinese text without a large model of character
frequencies (chardet and charset-normalizer are not dependencies of
planatlas and guess Big5/GB poorly on short texts); this is the few lines
the task needs.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: Characters Chinese prose is made of: sentence marks and the most frequent characters,
#: in both simplified and traditional forms where they differ.
_PROSE = frozenset("。，、；：的一是在不了有和人这這中大为為上个個国國年发發展建设設要以地工作会會新")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Candidates tried when the bytes are not UTF-8, in order of preference on a tie.
_CANDIDATES = ("gbk", "gb18030", "big5", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")

#: Names shown to a planner.
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gbk": "GBK", "gb18030": "GB18030", "big5": "Big5",
          "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", "utf-32": "UTF-32",
          "utf-32-le": "UTF-32", "utf-32-be": "UTF-32"}


@dataclass(frozen=True)
class Decoded:
    """Text and how it was found.

    Attributes
    ----------
    text : str
    encoding : str
        Python codec name used.
    guessed : bool
        Found by scoring (no BOM, not UTF-8, not given by the user).
    """

    text: str
    encoding: str
    guessed: bool = False

    @property
    def label(self) -> str:
        """The encoding as a planner knows it (``"Big5"``)."""
        return LABELS.get(self.encoding, self.encoding.upper())


class EncodingProblem(ValueError):
    """Why bytes could not be decoded, as (Chinese, English) in ``args``; callers raise their own error."""

    @property
    def zh(self) -> str:
        return str(self.args[0])

    @property
    def en(self) -> str:
        return str(self.args[1])


def codec_name(encoding: str) -> str:
    """Python's name of an encoding a user typed (``"GBK"`` -> ``"gbk"``).

    Raises
    ------
    EncodingProblem
        Python knows no such encoding.
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        info = None
    # base64, zlib, rot13 … are codecs too, but not text encodings
    if info is None or not getattr(info, "_is_text_encoding", True):
        zh = f"未知的文字编码 {encoding!r} (可用 utf-8、gbk、big5、utf-16 等)"
        en = f"unknown text encoding {encoding!r}; try utf-8, gbk, big5 or utf-16"
        raise EncodingProblem(zh, en)
    return info.name


def _score(text: str) -> float:
    """Share of the characters that are Chinese prose (0 for nonsense, ~0.2 for a report)."""
    sample = text[:20000]
    if not sample or "\x00" in sample:
        return 0.0
    return sum(ch in _PROSE for ch in sample) / len(sample)


def decode(data: bytes, *, encoding: str | None = None, prose: bool = True) -> Decoded:
    """Decode Chinese text, recognising its encoding unless ``encoding`` names it.

    Parameters
    ----------
    data : bytes
    encoding : str, optional, keyword-only
        The encoding, when the user knows it.
    prose : bool, keyword-only
        The text is prose (a report): without a BOM and not UTF-8, the
        candidates are scored (step 3 above). For tables (a CSV of names and
        numbers has too little prose to score) GBK, then GB18030, is taken
        when it decodes, as Excel on Chinese Windows writes them.

    Raises
    ------
    EncodingProblem
        ``encoding`` is unknown or does not fit the bytes, a byte-order mark
        that the bytes contradict, or no encoding reads the bytes as Chinese text.

    Examples
    --------
    >>> decode("濟南市建設公園。".encode("big5")).label
    'Big5'
    >>> decode("济南市。".encode("utf-16")).label
    'UTF-16'
    """
    if encoding is not None:
        name = codec_name(encoding)
        try:
            return Decoded(data.decode(name), name)
        except UnicodeDecodeError as exc:
            zh = f"文字不是 {encoding} 编码 (第 {exc.start + 1} 个字节处无法解码)"
            en = f"the text is not {encoding} (undecodable at byte {exc.start + 1})"
            raise EncodingProblem(zh, en) from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(name), name)
            except UnicodeDecodeError:
                label = LABELS[name]
                zh = f"以 {label} 字节顺序标记开头，内容却不是 {label}"
                en = f"starts with a {label} byte-order mark but is not {label}"
                raise EncodingProblem(zh, en) from None
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            # UTF-8 cut inside its last character (a copy or download cut short): the rest is UTF-8
            return Decoded(data[: exc.start].decode("utf-8"), "utf-8", guessed=True)
    if not prose:
        for name in ("gbk", "gb18030"):
            try:
                return Decoded(data.decode(name), name, guessed=True)
            except UnicodeDecodeError:
                continue
        zh, en = "文字既不是 UTF-8 也不是 GBK/GB18030", "the text is neither UTF-8 nor GBK/GB18030"
        raise EncodingProblem(zh, en)
    best: Decoded | None = None
    best_score = 0.0
    for name in _CANDIDATES:
        if name.startswith("utf-32") and len(data) % 4:
            continue
        if name.startswith("utf-16") and len(data) % 2:
            continue
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if score > best_score * 1.5:  # a clear winner only: GBK before GB18030 on a tie
            best, best_score = Decoded(text, name, guessed=True), score
    if best is None or best_score < 0.01:
        zh = "无法判断文字编码 (不是 UTF-8、GBK/GB18030、Big5、UTF-16 或 UTF-32 的中文文字)"
        en = "cannot tell its text encoding: not Chinese text in UTF-8, GBK/GB18030, Big5, UTF-16 or UTF-32"
        raise EncodingProblem(zh, en)
    return best
