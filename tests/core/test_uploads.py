"""The one upload rule (core.uploads): files are judged by their content, never by name or
declared type; each kind has its size cap; an import's XLSX is refused from its zip directory
and declared sheet size before it is expanded, and rows and cells are capped while reading."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from propfee.core.importing import ImportFileError, import_file_read
from propfee.core.uploads import (
    UploadKind,
    UploadRefused,
    stored_file_type,
    upload_check,
    upload_max_bytes,
)
from tests.sample_files import (
    HOSTILE,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    xlsx_bytes,
    xlsx_declaring,
    xlsx_rewritten,
)

DOCUMENT_KINDS = [UploadKind.CONTRACT, UploadKind.EVIDENCE, UploadKind.ATTACHMENT]
SHEET = "xl/worksheets/sheet1.xml"


def _upload(content: bytes, name: str, declared: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=declared)


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
@pytest.mark.parametrize(
    ("make", "key", "served_as"),
    [
        (pdf_bytes, "pdf", "application/pdf"),
        (png_bytes, "png", "image/png"),
        (jpeg_bytes, "jpeg", "image/jpeg"),
    ],
)
def test_real_pdf_png_and_jpeg_are_accepted_whatever_their_name(kind, make, key, served_as):
    # Named and declared as something else: the content decides.
    file_type = upload_check(_upload(make(), "scan.bin", "text/html"), kind=kind)
    assert (file_type.key, file_type.content_type, file_type.inline) == (key, served_as, True)


@pytest.mark.parametrize("kind", [UploadKind.CONTRACT, UploadKind.EVIDENCE])
@pytest.mark.parametrize("hostile", sorted(HOSTILE))
@pytest.mark.parametrize("name", ["合同.pdf", "photo.png", "scan.jpg"])
def test_html_svg_and_exe_renamed_are_refused_with_what_they_are(kind, hostile, name):
    content, label = HOSTILE[hostile]
    with pytest.raises(UploadRefused) as refused:
        upload_check(_upload(content, name, "application/pdf"), kind=kind)
    actual = "EXE 可执行程序" if label == "EXE" else label
    assert refused.value.messages == [
        f"只能上传 PDF、JPG 或 PNG 文件，此文件（{name}）实际为 {actual}。"
    ]


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
def test_attachments_and_imports_refuse_them_too(hostile):
    content, label = HOSTILE[hostile]
    with pytest.raises(UploadRefused) as refused:
        upload_check(_upload(content, "录音.m4a"), kind=UploadKind.ATTACHMENT)
    assert refused.value.messages[0].startswith("只能上传 PDF、JPG、PNG、MP3、M4A、WAV 或 AMR 文件")
    assert label in refused.value.messages[0]
    with pytest.raises(UploadRefused) as refused:
        upload_check(_upload(content, "房屋.csv", "text/csv"), kind=UploadKind.IMPORT)
    assert refused.value.messages[0].startswith(
        "只能上传 CSV 或 XLSX 文件，此文件（房屋.csv）实际为"
    )
    assert label in refused.value.messages[0]


def test_call_recordings_are_attachments_only_and_never_inline():
    m4a = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 200
    file_type = upload_check(_upload(m4a, "通话.m4a", "audio/mp4"), kind=UploadKind.ATTACHMENT)
    assert (file_type.key, file_type.inline) == ("m4a", False)
    with pytest.raises(UploadRefused):
        upload_check(_upload(m4a, "通话.m4a", "audio/mp4"), kind=UploadKind.EVIDENCE)


def test_imports_accept_csv_and_xlsx_by_content_and_refuse_a_pdf():
    csv = "项目编码,项目名称\nDEMO,花园\n".encode("gb18030")
    assert upload_check(_upload(csv, "a.txt", "text/html"), kind=UploadKind.IMPORT).key == "csv"
    xlsx = xlsx_bytes(["项目编码", "项目名称"], ["DEMO", "花园"])
    assert upload_check(_upload(xlsx, "a.bin"), kind=UploadKind.IMPORT).key == "xlsx"
    with pytest.raises(UploadRefused) as refused:
        upload_check(_upload(pdf_bytes(), "a.csv", "text/csv"), kind=UploadKind.IMPORT)
    assert refused.value.messages == ["只能上传 CSV 或 XLSX 文件，此文件（a.csv）实际为 PDF。"]


def test_empty_and_oversize_files_are_refused(settings):
    with pytest.raises(UploadRefused) as refused:
        upload_check(_upload(b"", "合同.pdf"), kind=UploadKind.CONTRACT)
    assert refused.value.messages == ["上传的文件是空的（合同.pdf）"]
    settings.PROPFEE_UPLOAD_MAX_BYTES = {"contract": 1024}
    big = pdf_bytes("x" * 2000)
    assert len(big) > 1024
    with pytest.raises(UploadRefused) as refused:
        upload_check(_upload(big, "合同.pdf"), kind=UploadKind.CONTRACT)
    assert refused.value.messages[0].startswith("文件过大（合同.pdf）：")
    assert refused.value.messages[0].endswith("合同扫描件不能超过 1 KB。")
    # Kinds the setting leaves out keep their defaults.
    assert upload_max_bytes(UploadKind.EVIDENCE) == 20 * 1024 * 1024


def test_default_caps():
    assert upload_max_bytes(UploadKind.CONTRACT) == 10 * 1024 * 1024
    assert upload_max_bytes(UploadKind.EVIDENCE) == 20 * 1024 * 1024
    assert upload_max_bytes(UploadKind.ATTACHMENT) == 20 * 1024 * 1024
    assert upload_max_bytes(UploadKind.IMPORT) == 20 * 1024 * 1024


def test_stored_files_are_typed_by_their_bytes():
    assert stored_file_type(io.BytesIO(pdf_bytes())).content_type == "application/pdf"
    assert stored_file_type(io.BytesIO(png_bytes())).content_type == "image/png"
    for content, _label in HOSTILE.values():
        assert stored_file_type(io.BytesIO(content)) is None


# --- imports: zip bombs, declared sizes, row and cell caps -------------------------------


def forbid_expanding(monkeypatch) -> None:
    """From now on, fail the test if any zip member is opened (decompressed) or openpyxl
    loads a workbook."""

    def refuse(*args, **kwargs):
        raise AssertionError("the file was expanded")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(openpyxl.reader.excel, "load_workbook", refuse)


def test_zip_bomb_is_refused_from_its_directory_before_expanding(monkeypatch):
    # A tiny file whose sheet claims to unpack to 3 GB.
    bomb = xlsx_declaring(xlsx_bytes(["项目编码"], ["DEMO"]), SHEET, 3_000_000_000)
    assert len(bomb) < 10_000
    forbid_expanding(monkeypatch)
    with pytest.raises(ImportFileError) as refused:
        import_file_read(bomb, "estates.xlsx")
    assert str(refused.value) == (
        "XLSX 文件解压后有 2861 MB，超过导入上限 256 MB；请拆分后分批导入。"
    )


def test_highly_compressed_sheet_over_the_unpacked_cap_is_refused(settings, monkeypatch):
    settings.PROPFEE_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 60_000))
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    bomb = xlsx_rewritten(
        xlsx_bytes(["a"]), SHEET, sheet + b"<sheetData>" + rows + b"</sheetData></worksheet>"
    )
    assert len(bomb) < 400_000
    forbid_expanding(monkeypatch)
    with pytest.raises(ImportFileError) as refused:
        import_file_read(bomb, "units.xlsx")
    assert "超过导入上限 1 MB" in str(refused.value)


def test_sheet_declaring_too_many_rows_is_refused_before_openpyxl(monkeypatch):
    content = xlsx_bytes(["项目编码", "项目名称"], ["DEMO", "花园"])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read(SHEET)
    assert b'<dimension ref="A1:B2"/>' in xml
    declared = xml.replace(b'<dimension ref="A1:B2"/>', b'<dimension ref="A1:Z1048576"/>')
    content = xlsx_rewritten(content, SHEET, declared)

    def refuse(*args, **kwargs):
        raise AssertionError("openpyxl opened the file")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    with pytest.raises(ImportFileError) as refused:
        import_file_read(content, "estates.xlsx")
    assert str(refused.value) == "文件超过 200,000 行（至少 1,048,576 行）；请拆分后分批导入。"


def test_declared_cells_over_the_cap_are_refused(settings):
    settings.PROPFEE_IMPORT_MAX_CELLS = 1000
    content = xlsx_bytes(["a"] * 10, *[["1"] * 10 for _ in range(150)])
    with pytest.raises(ImportFileError) as refused:
        import_file_read(content, "estates.xlsx")
    assert str(refused.value) == "文件超过 1,000 个单元格（至少 1,510 个）；请拆分后分批导入。"


def test_rows_are_capped_while_reading_a_csv(settings):
    settings.PROPFEE_IMPORT_MAX_ROWS = 5
    content = ("项目编码,项目名称\n" + "".join(f"E{i},名称\n" for i in range(10))).encode()
    with pytest.raises(ImportFileError) as refused:
        import_file_read(content, "estates.csv")
    assert str(refused.value) == "文件超过 5 行（至少 6 行）；请拆分后分批导入。"
    settings.PROPFEE_IMPORT_MAX_ROWS = 11
    assert len(import_file_read(content, "estates.csv")) == 11


def test_cells_are_capped_while_reading_a_csv(settings):
    settings.PROPFEE_IMPORT_MAX_CELLS = 20
    content = ("a,b,c\n" + "1,2,3\n" * 9).encode()
    with pytest.raises(ImportFileError) as refused:
        import_file_read(content, "estates.csv")
    assert str(refused.value) == "文件超过 20 个单元格（至少 21 个）；请拆分后分批导入。"


def test_rows_are_capped_while_reading_an_xlsx_that_understates_its_size(settings):
    # Some tools write a wrong (too small) dimension; the reader counts rows as it goes.
    settings.PROPFEE_IMPORT_MAX_ROWS = 5
    content = xlsx_bytes(["项目编码", "项目名称"], *[[f"E{i}", "名称"] for i in range(10)])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read(SHEET)
    content = xlsx_rewritten(content, SHEET, xml.replace(b'ref="A1:B11"', b'ref="A1"'))
    with pytest.raises(ImportFileError) as refused:
        import_file_read(content, "estates.xlsx")
    assert str(refused.value) == "文件超过 5 行（至少 6 行）；请拆分后分批导入。"


def test_a_zip_that_is_no_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ImportFileError) as refused:
        import_file_read(out.getvalue(), "units.xlsx")
    assert str(refused.value) == "只能上传 CSV 或 XLSX 文件，此文件实际为 DOCX。"
