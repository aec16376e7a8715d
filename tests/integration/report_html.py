"""report_html: `arrears report` as CSV and as an HTML page with charts, checked against
each other and in a browser.

On a small run of the embedded default (`arrears up --simulated`, the demonstration
world for ACCOUNTS accounts and DAYS days, enough for a month of roll rates, recovery
curves, conduct decisions and a legal or sale figure), the test writes the CSV and the
page and checks that:

  * the CSV has the documented header, integer values, one row per (section, platform,
    currency, group, key), and the sections the report promises;
  * the page is self-contained (no script, no external link or source);
  * every element of the page carrying a figure (data-section ...) equals the CSV row
    with the same section, platform, currency, group and key; each of the three charts
    (roll-rate heat map rect.cell, recovery curve circle.point, conduct bars rect.bar)
    has such elements; every table cell with a figure reads as its value;
  * headless Chromium renders it to a PNG of the window's size that is not blank;
  * `--format xml` is refused with a message naming the formats and exit 2.
No process of the run is left behind.

usage: report_html.py ARREARS_BINARY PROTO_DIR [ACCOUNTS DAYS]"""
import csv
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

from harness import arrears_cli, assert_none_left, fail, remove_run

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = os.path.join(os.path.dirname(HERE), "clients", "python", "demo_world.py")
HEADER = ["section", "platform", "currency", "group", "key", "value"]
CHARTS = {("rect", "cell"): "roll-rate heat map", ("circle", "point"): "recovery curve",
          ("rect", "bar"): "conduct refusals by rule"}
WINDOW = (1400, 3000)




def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != HEADER:
        fail("CSV header %r, wanted %r" % (rows[0], HEADER))
    figures = {}
    for row in rows[1:]:
        if len(row) != 6 or not re.fullmatch(r"-?\d+", row[5]):
            fail("CSV row is not section,platform,currency,group,key,integer: %r" % row)
        key = tuple(row[:5])
        if key in figures:
            fail("CSV row given twice: %r" % (key,))
        figures[key] = int(row[5])
    sections = {k[0] for k in figures}
    wanted = {"book", "stage", "segment", "arm", "roll", "curve", "channel", "stage_recovery",
              "complaints", "remittance", "outreach_channel", "conduct_rule", "conduct_profile",
              "legal", "sale"}
    if not wanted <= sections:
        fail("CSV lacks sections %s (has %s)" % (sorted(wanted - sections), sorted(sections)))
    if not (figures.get(("legal", "", "", "all", "referrals")) or
            figures.get(("sale", "", "", "all", "listings"))):
        fail("the run has neither a legal referral nor a sale listing: make it longer")
    return figures


class Page(html.parser.HTMLParser):
    """Every element with data-section, with its tag, classes and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures, self.open, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" or (tag in ("link", "img", "iframe") and (a.get("href") or a.get("src"))):
            self.external.append(tag)
        if "data-section" in a:
            fig = {"tag": tag, "class": (a.get("class") or "").split(), "attrs": a, "text": ""}
            self.figures.append(fig)
            self.open.append((tag, fig))

    def handle_endtag(self, tag):
        if self.open and self.open[-1][0] == tag:
            self.open.pop()

    def handle_data(self, data):
        if self.open:
            self.open[-1][1]["text"] += data


def shown_value(text):
    """A number as the page shows it: money "1,234.56" (its currency's exponent), a
    rate "12.34%", a count "1,234" -> the integer of the CSV (minor units, bps)."""
    digits = text.strip().replace(",", "").replace(".", "").replace("%", "")
    return int(digits) if re.fullmatch(r"-?\d+", digits) else None


def check_page(path, figures):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    if page.external:
        fail("the page is not self-contained: %r" % page.external)
    charts, cells = {name: 0 for name in CHARTS.values()}, 0
    for fig in page.figures:
        a = fig["attrs"]
        key = tuple(a.get("data-" + n, "") for n in HEADER[:5])
        if key not in figures:
            fail("page element %s %r has no CSV row" % (fig["tag"], key))
        if int(a.get("data-value", "x")) != figures[key]:
            fail("page element %r shows %s, the CSV %d" % (key, a.get("data-value"), figures[key]))
        for (tag, cls), name in CHARTS.items():
            charts[name] += fig["tag"] == tag and cls in fig["class"]
        if fig["tag"] in ("td", "div"):
            cells += 1
            if shown_value(fig["text"]) != figures[key]:
                fail("table cell %r reads %r, the CSV %d" % (key, fig["text"], figures[key]))
    empty = [name for name, n in charts.items() if n == 0]
    if empty:
        fail("charts without elements: %s (%r)" % (empty, charts))
    if cells < 50:
        fail("only %d table cells carry figures" % cells)
    print("page: %d figures (%d table cells), charts %r" % (len(page.figures), cells, charts))


def png_pixels(data, rows):
    """IHDR (width, height) and the distinct colours of the first rows of an 8-bit
    RGB or RGBA PNG, unfiltered by hand (no imaging library needed)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("the screenshot is not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            fail("the screenshot's %r chunk is corrupt" % kind)
        ihdr = body if kind == b"IHDR" else ihdr
        idat += body if kind == b"IDAT" else b""
        pos += 12 + n
    width, height, depth, colour = struct.unpack(">IIBB", ihdr[:10])
    if depth != 8 or colour not in (2, 6):
        fail("unexpected PNG format: depth %d colour type %d" % (depth, colour))
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    if len(raw) != height * (stride + 1):
        fail("the screenshot's image data is %d bytes, not %d" % (len(raw), height * (stride + 1)))
    colours, prev = set(), bytearray(stride)
    for y in range(min(rows, height)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp * 7))
        prev = line
    return width, height, colours


def screenshot(page, work):
    png = os.path.join(work, "report.png")
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                          "--hide-scrollbars", "--user-data-dir=" + os.path.join(work, "chromium"),
                          "--screenshot=" + png, "--window-size=%d,%d" % WINDOW,
                          "file://" + page], capture_output=True, text=True, timeout=300)
    if out.returncode != 0 or not os.path.exists(png):
        fail("chromium did not screenshot the page (exit %d): %s" % (out.returncode, out.stderr[-2000:]))
    with open(png, "rb") as f:
        width, height, colours = png_pixels(f.read(), 1400)
    if (width, height) != WINDOW:
        fail("the screenshot is %dx%d, the window %dx%d" % ((width, height) + WINDOW))
    if len(colours) < 24:
        fail("the screenshot looks blank: %d distinct colours" % len(colours))
    print("screenshot %dx%d, %d distinct colours in the top rows" % (width, height, len(colours)))
    keep = os.environ.get("REPORT_HTML_KEEP")   # a folder to keep the page and picture in
    if keep:
        shutil.copy(png, keep)
        shutil.copy(page, keep)


def check_reports(arrears, work):
    out = arrears_cli(arrears, work, "report", "--format", "xml", want=2)
    if "csv" not in out.stderr or "html" not in out.stderr or out.stdout:
        fail("--format xml is not refused with the formats named: %r" % out.stderr)
    csv_path, page = os.path.join(work, "report.csv"), os.path.join(work, "report.html")
    arrears_cli(arrears, work, "report", "--format", "csv", "--out", csv_path)
    arrears_cli(arrears, work, "report", "--format", "html", "--out", page)
    figures = read_csv(csv_path)
    table = arrears_cli(arrears, work, "report").stdout
    for needle in ("roll rates", "recovery curve by strategy arm", "remittance statement",
                   "== outreach ", "conduct decisions by rule", "== legal ==", "== sale =="):
        if needle not in table:
            fail("the terminal table lacks %r:\n%s" % (needle, table[-3000:]))
    print("csv: %d rows" % len(figures))
    check_page(page, figures)
    screenshot(page, work)


def main():
    arrears, proto = sys.argv[1], sys.argv[2]
    accounts, days = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("150", "50")
    work = tempfile.mkdtemp(prefix="rhtml", dir="/tmp")
    try:
        arrears_cli(arrears, work, "up", "--simulated", "--relaxed")
        world = subprocess.run([sys.executable, WORLD, "--dir", work, "--arrears", arrears,
                                "--accounts", accounts, "--seed", "11", "--days", days,
                                "--proto-dir", proto], capture_output=True, text=True, timeout=900)
        if world.returncode != 0:
            fail("the world failed: %s%s" % (world.stdout[-3000:], world.stderr[-3000:]))
        check_reports(arrears, work)
        arrears_cli(arrears, work, "down")
        assert_none_left(work)
        print("PASS")
    finally:
        remove_run(work)


if __name__ == "__main__":
    main()
