"""Small workbooks with the features Excel users put in a team sheet, built by the tests themselves.

The workbook-fidelity tests write results into these and check that nothing else moved. Each is
made by openpyxl, then its parts are edited the way Excel saves them: what openpyxl cannot write
(x14 validation and formats, shapes and SmartArt, threaded comments, pictures and pictures in
cells, a theme with a picture fill, data connections, macros and form controls, a calculation
chain, custom XML) is added as XML parts, and the first worksheet is given Excel's dialect (the
mc/x14ac namespaces, row spans and heights, a shared formula, inline and rich text).

`build(folder)` writes them all and answers name -> path. Nothing here needs a file from outside
the repository.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import importlib.util
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule, IconSetRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
_XM = "http://schemas.microsoft.com/office/excel/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"

# The merged range whose top-left holds the value (as in a budget template's title block).
MERGED = "E4:G5"


def _base(macros: bool = False) -> openpyxl.Workbook:
    """A team sheet as openpyxl writes it: values of every kind, rich text, merged cells, notes,
    validation, classic conditional formats, a table, names, protection, a chart, two sheets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws["A1"] = "Monthly budget"
    ws["A2"] = "Item"
    ws["B2"] = "Category"
    ws["C2"] = "Amount"
    ws["D2"] = "Due"
    rows = [
        ("Rent", "Home", 1200, dt.date(2026, 3, 1)),
        ("Power", "Home", 80.5, dt.date(2026, 3, 5)),
        ("Food", "Living", 310.25, dt.date(2026, 3, 9)),
        ("Train", "Travel", 64, dt.date(2026, 3, 12)),
    ]
    for i, row in enumerate(rows, start=3):
        for j, value in enumerate(row, start=1):
            ws.cell(i, j, value)
    ws["E3"] = True
    ws["C7"] = "=SUM(C3:C6)"
    ws["E4"] = "Spend less than you earn"
    ws.merge_cells(MERGED)
    ws["A8"] = CellRichText(
        "Paid ", TextBlock(InlineFont(b=True, color="FF0000"), "late"), " twice: call the bank"
    )
    ws["A9"] = "Straße, 日本語, emoji 🚚"
    ws["B4"].comment = Comment("Rent rises in April", "Ana")
    ws["B4"].hyperlink = "https://example.com/lease"
    lists = wb.create_sheet("lists")
    for i, name in enumerate(("Home", "Living", "Travel", "Other"), start=1):
        lists.cell(i, 1, name)
    dv = DataValidation(type="list", formula1="=lists!$A$1:$A$4", allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("B3:B40")
    red = openpyxl.styles.PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")
    ws.conditional_formatting.add(
        "C3:C6", CellIsRule(operator="greaterThan", formula=["1000"], fill=red)
    )
    ws.conditional_formatting.add(
        "C3:C6",
        ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="63BE7B"),
    )
    ws.conditional_formatting.add(
        "C3:C6", DataBarRule(start_type="min", end_type="max", color="638EC6")
    )
    ws.conditional_formatting.add("D3:D6", IconSetRule("3Arrows", "percent", [0, 33, 67]))
    table = Table(displayName="tblCosts", ref="A2:D6")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    wb.defined_names["TotalCosts"] = DefinedName("TotalCosts", attr_text="Budget!$C$7")
    ws.print_area = "A1:G20"
    ws.freeze_panes = "A3"
    ws.column_dimensions["A"].width = 24
    ws.row_dimensions[6].hidden = True
    ws.protection.sheet = True
    ws.protection.formatCells = False
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=2, max_row=6), titles_from_data=True)
    ws.add_chart(chart, "I2")
    if macros:
        wb.create_sheet("Macro notes")["A1"] = "Run UpdateTotals from the button"
    return wb


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _content_type(parts: dict[str, bytes], part: str, kind: str) -> None:
    types = parts["[Content_Types].xml"].decode()
    override = f'<Override PartName="/{part}" ContentType="{kind}"/>'
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()


def _default_type(parts: dict[str, bytes], extension: str, kind: str) -> None:
    types = parts["[Content_Types].xml"].decode()
    if f'Extension="{extension}"' not in types:
        default = f'<Default Extension="{extension}" ContentType="{kind}"/>'
        types = types.replace("<Override", default + "<Override", 1)
    parts["[Content_Types].xml"] = types.encode()


def _relate(parts: dict[str, bytes], rels: str, rid: str, kind: str, target: str) -> None:
    xml = parts.get(rels, b"").decode() or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        "</Relationships>"
    )
    entry = f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'
    parts[rels] = xml.replace("</Relationships>", entry + "</Relationships>").encode()


def _excel_dialect(sheet: bytes) -> bytes:
    """The worksheet as Excel writes it: mc/x14ac namespaces, spans and dyDescent on every row,
    a shared formula, an inline string, a cell error."""
    xml = sheet.decode()
    xml = xml.replace(
        f'<worksheet xmlns="{_MAIN}"',
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}" xmlns:mc="{_MC}" mc:Ignorable="x14ac" '
        f'xmlns:x14ac="{_X14AC}"',
        1,
    )
    xml = re.sub(r'xmlns:r="[^"]*" (xmlns:r="[^"]*")', r"\1", xml)  # declared once
    xml = re.sub(r'<row r="(\d+)"', r'<row r="\1" spans="1:7" x14ac:dyDescent="0.25"', xml)
    extra = (
        '<row r="11" spans="1:7" x14ac:dyDescent="0.25">'
        '<c r="A11" t="inlineStr"><is><t xml:space="preserve">  typed inline  </t></is></c>'
        '<c r="C11"><f t="shared" ref="C11:C12" si="0">C3*2</f><v>2400</v></c>'
        '<c r="D11" t="e"><v>#N/A</v></c></row>'
        '<row r="12" spans="1:7" x14ac:dyDescent="0.25">'
        '<c r="C12"><f t="shared" si="0"/><v>161</v></c></row>'
    )
    return xml.replace("</sheetData>", extra + "</sheetData>").encode()


def _x14(sheet: bytes) -> bytes:
    """x14 validation (a list on another sheet) and x14 formats (data bar, icon set) in the
    worksheet's extension list; and a data bar whose maximum is a defined name, which openpyxl
    cannot read."""
    ext = (
        f'<extLst><ext uri="{{CCE6A557-97BC-4b89-ADB8-0B6B9A7F5B6F}}" xmlns:x14="{_X14}">'
        f'<x14:dataValidations count="1" xmlns:xm="{_XM}">'
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
        "<x14:formula1><xm:f>lists!$A$1:$A$4</xm:f></x14:formula1><xm:sqref>F3:F40</xm:sqref>"
        "</x14:dataValidation></x14:dataValidations></ext>"
        f'<ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" xmlns:x14="{_X14}">'
        f'<x14:conditionalFormattings><x14:conditionalFormatting xmlns:xm="{_XM}">'
        '<x14:cfRule type="iconSet" priority="9" id="{0A5B4E2C-1111-4A2B-9C3D-5E6F7A8B9C0D}">'
        '<x14:iconSet iconSet="3Stars"><x14:cfvo type="percent"><xm:f>0</xm:f></x14:cfvo>'
        '<x14:cfvo type="percent"><xm:f>33</xm:f></x14:cfvo>'
        '<x14:cfvo type="percent"><xm:f>67</xm:f></x14:cfvo></x14:iconSet></x14:cfRule>'
        "<xm:sqref>C3:C6</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings>"
        "</ext></extLst>"
    )
    by_name = (
        '<conditionalFormatting sqref="C8:C9"><cfRule type="dataBar" priority="20"><dataBar>'
        '<cfvo type="min"/><cfvo type="num" val="TotalCosts"/><color rgb="FF638EC6"/>'
        "</dataBar></cfRule></conditionalFormatting>"
    )
    xml = sheet.decode()
    # Schema order: conditional formats before data validations; the extension list last.
    xml = xml.replace("<dataValidations", by_name + "<dataValidations", 1)
    return xml.replace("</worksheet>", ext + "</worksheet>").encode()


def _drawing_extras(parts: dict[str, bytes]) -> None:
    """A text box and a picture beside the chart (xl/drawings/drawing1.xml), and a SmartArt
    diagram's data part."""
    name = "xl/drawings/drawing1.xml"
    assert b'r:id="rId1"' in parts[name]  # openpyxl's chart, kept under the same relationship
    chart = (
        "<xdr:oneCellAnchor><xdr:from><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff>"
        "<xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        '<xdr:ext cx="5400000" cy="2700000"/><xdr:graphicFrame macro="">'
        '<xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/><xdr:cNvGraphicFramePr/>'
        '</xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        '<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId1"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor>"
    )
    shape = (
        "<xdr:twoCellAnchor>"
        "<xdr:from><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>20</xdr:row>"
        "<xdr:rowOff>0</xdr:rowOff></xdr:from>"
        "<xdr:to><xdr:col>12</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>24</xdr:row>"
        "<xdr:rowOff>0</xdr:rowOff></xdr:to>"
        '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="20" name="Data Entry Tip"/>'
        '<xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr>'
        '<a:xfrm><a:off x="0" y="0"/><a:ext cx="2000000" cy="600000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
        "<xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Type amounts in column C</a:t></a:r></a:p>"
        "</xdr:txBody></xdr:sp><xdr:clientData/></xdr:twoCellAnchor>"
        "<xdr:oneCellAnchor>"
        "<xdr:from><xdr:col>14</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>"
        '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="95250" cy="95250"/>'
        '<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="21" name="Logo"/><xdr:cNvPicPr/></xdr:nvPicPr>'
        '<xdr:blipFill><a:blip r:embed="rIdLogo"/><a:stretch><a:fillRect/></a:stretch>'
        '</xdr:blipFill><xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
        "</xdr:pic><xdr:clientData/></xdr:oneCellAnchor>"
    )
    parts[name] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{_XDR}" xmlns:a="{_A}" xmlns:r="{_REL}">'
        + chart
        + shape
        + "</xdr:wsDr>"
    ).encode()
    parts["xl/media/logo.png"] = PNG
    _default_type(parts, "png", "image/png")
    _relate(
        parts,
        "xl/drawings/_rels/drawing1.xml.rels",
        "rIdLogo",
        f"{_REL}/image",
        "../media/logo.png",
    )
    parts["xl/diagrams/data1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram">'
        b"<dgm:ptLst/></dgm:dataModel>"
    )
    _content_type(
        parts,
        "xl/diagrams/data1.xml",
        "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml",
    )


def _threaded_comments(parts: dict[str, bytes], sheet_rels: str) -> None:
    parts["xl/persons/person.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        b'<person displayName="Ana" id="{6E0E5B43-7C2A-4F7A-9D2B-1A2B3C4D5E6F}" '
        b'userId="Ana" providerId="None"/></personList>'
    )
    parts["xl/threadedComments/threadedComment1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        b'<threadedComment ref="B4" dT="2026-03-01T09:00:00.00" '
        b'personId="{6E0E5B43-7C2A-4F7A-9D2B-1A2B3C4D5E6F}" '
        b'id="{A1B2C3D4-0000-4000-8000-000000000001}"><text>Rent rises in April</text>'
        b"</threadedComment></ThreadedComments>"
    )
    _relate(
        parts,
        "xl/_rels/workbook.xml.rels",
        "rIdPersons",
        "http://schemas.microsoft.com/office/2017/10/relationships/person",
        "persons/person.xml",
    )
    _relate(
        parts,
        sheet_rels,
        "rIdThreaded",
        "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
        "../threadedComments/threadedComment1.xml",
    )
    _content_type(parts, "xl/persons/person.xml", "application/vnd.ms-excel.person+xml")
    _content_type(
        parts,
        "xl/threadedComments/threadedComment1.xml",
        "application/vnd.ms-excel.threadedcomments+xml",
    )


def _rich_data(parts: dict[str, bytes]) -> None:
    """The parts Excel keeps pictures in cells in (their rich values)."""
    parts["xl/richData/rdrichvalue.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<rvData xmlns="http://schemas.microsoft.com/office/spreadsheetml/2017/richdata" '
        b'count="0"/>'
    )
    _content_type(parts, "xl/richData/rdrichvalue.xml", "application/vnd.ms-excel.rdrichvalue+xml")


def _theme_picture(parts: dict[str, bytes]) -> None:
    """A theme whose background fill style is a picture (its own relationships part)."""
    name = "xl/theme/theme1.xml"
    xml = parts[name].decode()
    xml = xml.replace("<a:theme ", f'<a:theme xmlns:r="{_REL}" ', 1)
    blip = (
        '<a:blipFill><a:blip r:embed="rIdTexture"/><a:stretch><a:fillRect/></a:stretch>'
        "</a:blipFill>"
    )
    xml = xml.replace("<a:bgFillStyleLst>", "<a:bgFillStyleLst>" + blip, 1)
    parts[name] = xml.encode()
    parts["xl/media/texture.png"] = PNG
    _default_type(parts, "png", "image/png")
    _relate(
        parts,
        "xl/theme/_rels/theme1.xml.rels",
        "rIdTexture",
        f"{_REL}/image",
        "../media/texture.png",
    )


def _connections_and_more(parts: dict[str, bytes]) -> None:
    """A data connection, a calculation chain and a custom XML part."""
    parts["xl/connections.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<connection id="1" name="Costs" type="1" refreshedVersion="6" background="1">'
        b'<dbPr connection="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=costs.accdb" '
        b'command="Costs" commandType="3"/></connection></connections>'
    )
    _relate(
        parts, "xl/_rels/workbook.xml.rels", "rIdConn", f"{_REL}/connections", "connections.xml"
    )
    _content_type(
        parts,
        "xl/connections.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml",
    )
    parts["xl/calcChain.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<c r="C7" i="1"/><c r="C11" i="1"/><c r="C12" i="1"/></calcChain>'
    )
    _relate(parts, "xl/_rels/workbook.xml.rels", "rIdCalc", f"{_REL}/calcChain", "calcChain.xml")
    _content_type(
        parts,
        "xl/calcChain.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
    )
    parts["customXml/item1.xml"] = b'<?xml version="1.0"?><b:Sources xmlns:b="urn:bulk:test"/>'


def _macros(parts: dict[str, bytes]) -> None:
    """A VBA project and a form control (a button's properties)."""
    parts["xl/vbaProject.bin"] = bytes(range(256)) * 8  # opaque to every reader: kept as is
    _default_type(parts, "bin", "application/vnd.ms-office.vbaProject")
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ).encode()
    _relate(
        parts,
        "xl/_rels/workbook.xml.rels",
        "rIdVBA",
        "http://schemas.microsoft.com/office/2006/relationships/vbaProject",
        "vbaProject.bin",
    )
    parts["xl/ctrlProps/ctrlProp1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
        b'objectType="Button" lockText="1"/>'
    )
    _content_type(
        parts, "xl/ctrlProps/ctrlProp1.xml", "application/vnd.ms-excel.controlproperties+xml"
    )


def _made(folder: Path, name: str, macros: bool, edit: Callable[[dict[str, bytes]], None]) -> Path:
    path = folder / name
    _base(macros).save(path)
    parts = _parts(path)
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = _excel_dialect(parts[sheet])
    edit(parts)
    _write(path, parts)
    return path


def _everything(parts: dict[str, bytes]) -> None:
    parts["xl/worksheets/sheet1.xml"] = _x14(parts["xl/worksheets/sheet1.xml"])
    _drawing_extras(parts)
    _threaded_comments(parts, "xl/worksheets/_rels/sheet1.xml.rels")
    _rich_data(parts)
    _theme_picture(parts)
    _connections_and_more(parts)


def _nothing(parts: dict[str, bytes]) -> None:
    return None


# openpyxl keeps pictures only with Pillow.
PICTURES = [] if importlib.util.find_spec("PIL") else ["pictures"]

# What openpyxl cannot keep in each (the lossless writer keeps it all).
FEATURES = {
    "fixture-everything.xlsx": [
        "shapes and text boxes",
        "SmartArt",
        *PICTURES,
        "pictures in cells",
        "the picture fill of the theme",
        "newer data validation and conditional formats (x14)",
        "threaded comments (kept as notes)",
        "data connections",
    ],
    "fixture-plain.xlsx": [],
    "fixture-macros.xlsm": ["form controls"],
}


def build(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "fixture-everything.xlsx": _made(folder, "fixture-everything.xlsx", False, _everything),
        "fixture-plain.xlsx": _made(folder, "fixture-plain.xlsx", False, _nothing),
        "fixture-macros.xlsm": _made(folder, "fixture-macros.xlsm", True, _macros),
    }


@functools.cache
def built() -> dict[str, Path]:
    """The workbooks, built once per test process into a temporary folder of their own (removed
    when the process ends)."""
    folder = Path(tempfile.mkdtemp(prefix="bulk-test-workbooks-"))
    atexit.register(shutil.rmtree, folder, True)
    return build(folder)
