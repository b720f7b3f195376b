"""The import templates to download (导入模板): an XLSX per kind with its headers, an example
row and a sheet 说明 explaining every column and the rules every import file follows."""

from __future__ import annotations

import datetime as dt
import io

from propfee.core.importing.cells import DATE_FORMATS_HINT, cell_text
from propfee.core.importing.kinds import IMPORT_KINDS


def import_template_xlsx(kind: str) -> bytes:
    """A template to download: Chinese headers and an example row on the first sheet, and a
    second sheet 说明 explaining every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    import_kind = IMPORT_KINDS[kind]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = import_kind.label
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(import_kind.columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index, value=column.name_zh)
        header.font = Font(bold=True)
        if column.required:
            header.fill = required_fill
        example = sheet.cell(row=2, column=index, value=column.example or None)
        if isinstance(column.example, dt.date):
            example.number_format = "yyyy-mm-dd"
        if column.as_text:
            # Excel keeps only 15 significant digits of a number: an 18-digit ID number typed
            # into a General cell loses its last digits. Text format keeps it as typed.
            sheet.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
        sheet.column_dimensions[letter].width = max(12, len(column.name_zh) * 3)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("说明")
    notes.append(["列名", "英文列名", "必填", "说明", "示例"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in import_kind.columns:
        notes.append(
            [
                column.name_zh,
                column.name_en,
                "是" if column.required else "否",
                column.help,
                cell_text(column.example),
            ]
        )
    notes.append([])
    for line in IMPORT_FILE_RULES:
        notes.append([line])
    for letter, width in zip("ABCDE", (14, 16, 6, 70, 24), strict=True):
        notes.column_dimensions[letter].width = width

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


IMPORT_FILE_RULES = (
    "文件格式：XLSX（只读取第一个工作表）或 CSV（UTF-8 或 GBK 编码）。",
    "第1行是表头，列名可用中文或英文，顺序不限；空行会被忽略。",
    "整个文件要么全部导入，要么全部不导入：只要有一行有错，就不会写入任何数据。",
    "重复导入同一文件不会产生重复数据：已存在的记录按编码匹配，内容有变化才会更新。",
    "选填列留空表示不修改已有的值。",
    "单元格中不能有公式，请先“粘贴为数值”。",
    f"日期可写成 {DATE_FORMATS_HINT}，或使用 Excel 日期格式。",
)
