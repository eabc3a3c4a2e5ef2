"""Report encodings: UTF-8, GBK/GB18030, Big5, UTF-16 and UTF-32 recognised, or refused with the right
reason; ``--encoding`` on the command line (``spatial/_encoding.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatial._encoding import EncodingProblem, codec_name, decode
from spatial._errors import ReportError
from spatial.cli import main
from spatial.report import read_report
from tests import inputs

#: The real report, and its items: every encoding that can hold it must give the same.
SEED = inputs.SEED_REPORT

#: A passage of the report in traditional characters, as a Hong Kong or Taiwan copy would be (Big5 holds it).
TRADITIONAL = ("# 政府工作報告\n\n——2022年12月26日\n\n## 一、2022年工作回顧\n\n"
               "過去一年，我們堅持穩中求進，經濟運行總體平穩。新建公園55處，建成綠道130公里。\n\n"
               "## 二、2023年工作安排\n\n加快建設濟南新舊動能轉換起步區，推進黃河流域生態保護。"
               "實施城市更新行動，改造老舊小區。\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32", "utf-32-le", "utf-32-be"])
def test_the_report_reads_the_same_in_every_encoding(encoding: str) -> None:
    report = read_report(SEED.encode(encoding))
    assert report.source == SEED and len(report.items) == 516


def test_a_big5_report_is_recognised_not_read_as_gbk_nonsense() -> None:
    data = TRADITIONAL.encode("big5")
    assert data.decode("gb18030")  # GB18030 "decodes" it too, into other characters
    decoded = decode(data)
    assert decoded.label == "Big5" and decoded.text == TRADITIONAL
    report = read_report(data)
    assert report.source == TRADITIONAL and report.items


def test_utf8_cut_inside_its_last_character_is_still_utf8() -> None:
    data = SEED.encode("utf-8")
    cut = data[: len(data) - 1] if data[-1] >= 0x80 else (SEED + "济").encode()[:-1]
    assert decode(cut).encoding == "utf-8"


@pytest.mark.parametrize(("data", "reason"), [
    (b"\xff\xfe\x00\x00" + b"\x00\xd8\x00\x00", "UTF-32 字节顺序标记开头"),
    (bytes(range(128, 256)) * 30, "无法判断文字编码"),
])
def test_undecodable_reports_are_refused_with_the_right_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ReportError, match=reason) as info:
        read_report(data)
    assert "--encoding" in str(info.value) or "UTF-32" in str(info.value)


@pytest.mark.parametrize("name", ["rot13", "base64", "zlib", "no-such-codec"])
def test_codecs_that_are_not_text_encodings_are_unknown(name: str) -> None:
    with pytest.raises(EncodingProblem, match="未知的文字编码"):
        codec_name(name)


def test_the_cli_has_encoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "hk.md"
    report.write_bytes(SEED.encode("gbk"))
    out = tmp_path / "hk.gpkg"
    assert main(["build", "--report", str(report), "--encoding", "gbk", "--out", str(out)]) == 0
    assert "已写入" in capsys.readouterr().out
    assert main(["build", "--report", str(report), "--encoding", "rot13", "--out", str(out)]) == 1
    assert "--encoding：未知的文字编码 'rot13'" in capsys.readouterr().err
    assert main(["build", "--report", str(report), "--encoding", "utf-8", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "文字不是 utf-8 编码" in err and err.count("\n") == 1
