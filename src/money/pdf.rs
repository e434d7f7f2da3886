//! Invoices and quotations as PDF, drawn with printpdf's low-level operations: the
//! organization's header and logo, the client block, the items table (descriptions
//! wrapped by the font's real glyph widths, flowing across pages with its header
//! repeated), the tax breakdown, totals, notes, terms and page numbers.
//!
//! Text is real text in an embedded DejaVu Sans (Unicode: é, ß, Ł, €, ₹, ¥), subset to
//! the glyphs the document uses so a one-page invoice stays small; characters the font
//! lacks (emoji) print as �. Scripts that need shaping (Arabic, Indic) are not shaped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use diesel::pg::PgConnection;
use printpdf::{
    Color, FontId, ImageCompression, ImageOptimizationOptions, Line, LinePoint, Mm, Op, PaintMode, ParsedFont,
    PdfDocument, PdfFont, PdfFontHandle, PdfPage, PdfSaveOptions, PdfWarnMsg, Point, Pt, RawImage, Rect, Rgb, TextItem,
    TextMatrix, XObjectTransform,
};
use rust_decimal::Decimal;

use super::Issuer;
use super::amounts::{self, Totals};
use super::document::{self, DocKind, Document, Item};
use crate::web::AppError;

static REGULAR_TTF: &[u8] = include_bytes!("../../static/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../static/fonts/DejaVuSans-Bold.ttf");

/// Parsed once per process: parsing a TTF costs more than drawing a page.
fn fonts() -> Option<&'static (ParsedFont, ParsedFont)> {
    static FONTS: OnceLock<Option<(ParsedFont, ParsedFont)>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let regular = ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new())?;
            let bold = ParsedFont::from_bytes(BOLD_TTF, 0, &mut Vec::new())?;
            Some((regular, bold))
        })
        .as_ref()
}

/// Everything a document's PDF shows.
pub struct PdfInput<'a> {
    pub kind: DocKind,
    pub doc: &'a Document,
    pub items: &'a [Item],
    pub totals: &'a Totals,
    pub issuer: &'a Issuer,
    /// The status shown today (overdue, expired…), for the stamp.
    pub status: &'a str,
}

/// A document with what its PDF needs, loaded in the tenant transaction and drawn
/// after it.
pub struct Loaded {
    pub kind: DocKind,
    pub doc: Document,
    pub items: Vec<Item>,
    pub issuer: Issuer,
}

impl Loaded {
    pub fn load(conn: &mut PgConnection, kind: DocKind, id: uuid::Uuid) -> Result<Loaded, AppError> {
        let doc = document::find(conn, kind, id)?;
        let items = document::items(conn, kind, id)?;
        let mut issuer = Issuer::load(conn)?;
        // An issued document shows the organization as it was when issued.
        if let Some(name) = &doc.issuer_name {
            issuer.name = name.clone();
            issuer.address = doc.issuer_address.clone().unwrap_or_default();
            issuer.tax_id = doc.issuer_tax_id.clone().unwrap_or_default();
        }
        Ok(Loaded { kind, doc, items, issuer })
    }

    /// The PDF's bytes and its file name.
    pub fn render(&self) -> Result<(Vec<u8>, String), AppError> {
        let totals = document::totals_of(&self.items);
        let doc = &self.doc;
        let status = document::shown_status(self.kind, &doc.status, doc.end_date, doc.balance(), document::today());
        let input =
            PdfInput { kind: self.kind, doc, items: &self.items, totals: &totals, issuer: &self.issuer, status };
        Ok((render(&input)?, file_name(self.kind, doc)))
    }
}

/// "INV-2026-0001.pdf", or "invoice-draft.pdf" before a number is assigned.
pub fn file_name(kind: DocKind, doc: &Document) -> String {
    match &doc.number {
        // Numbers are prefix-year-digits, checked by the database: safe in a header.
        Some(n) => format!("{n}.pdf"),
        None => format!("{}-draft.pdf", kind.key()),
    }
}

// Layout, in points.
const MARGIN: f32 = 48.0;
const FOOTER_SPACE: f32 = 44.0;
const BODY: f32 = 9.0;
const SMALL: f32 = 8.0;
const ROW_GAP: f32 = 5.0;
const LINE: f32 = 12.0;

#[derive(Clone, Copy)]
enum Face {
    Regular,
    Bold,
}

struct Canvas<'f> {
    width: f32,
    height: f32,
    regular: &'f ParsedFont,
    bold: &'f ParsedFont,
    regular_id: FontId,
    bold_id: FontId,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    y: f32,
}

const INK: (f32, f32, f32) = (0.11, 0.13, 0.17);
const MUTED: (f32, f32, f32) = (0.40, 0.43, 0.48);
const RULE: (f32, f32, f32) = (0.85, 0.87, 0.90);
const SHADE: (f32, f32, f32) = (0.95, 0.96, 0.97);

fn rgb((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

/// "#4f46e5" as a color; the database allows nothing but #rrggbb.
fn brand((hex, fallback): (&str, (f32, f32, f32))) -> (f32, f32, f32) {
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok().map(|v| f32::from(v) / 255.0);
    match (hex.len() == 7, channel(1), channel(3), channel(5)) {
        (true, Some(r), Some(g), Some(b)) => (r, g, b),
        _ => fallback,
    }
}

impl<'f> Canvas<'f> {
    fn font(&self, face: Face) -> &'f ParsedFont {
        match face {
            Face::Regular => self.regular,
            Face::Bold => self.bold,
        }
    }

    /// Text as the font can print it: characters it lacks become U+FFFD.
    fn printable(&self, face: Face, text: &str) -> String {
        let font = self.font(face);
        text.chars()
            .map(|c| match c {
                '\t' => ' ',
                c if c.is_control() => ' ',
                c if font.lookup_glyph_index(c as u32).is_some() => c,
                _ => '\u{FFFD}',
            })
            .collect()
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let font = self.font(face);
        let upm = f32::from(font.pdf_font_metrics.units_per_em.max(1));
        let units: u32 = text
            .chars()
            .map(|c| {
                font.lookup_glyph_index(c as u32).and_then(|g| font.get_glyph_width(g)).map(u32::from).unwrap_or(0)
            })
            .sum();
        units as f32 * size / upm
    }

    /// Greedy wrapping at spaces; a word wider than the line is cut between characters.
    fn wrap(&self, face: Face, size: f32, text: &str, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let paragraph = self.printable(face, paragraph);
            let mut current = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
                if self.width(face, size, &candidate) <= max {
                    current = candidate;
                    continue;
                }
                if !current.is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                for c in word.chars() {
                    current.push(c);
                    if self.width(face, size, &current) > max {
                        current.pop();
                        lines.push(std::mem::take(&mut current));
                        current.push(c);
                    }
                }
            }
            lines.push(current);
        }
        while lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }

    fn text(&mut self, face: Face, size: f32, color: (f32, f32, f32), x: f32, y: f32, text: &str) {
        let text = self.printable(face, text);
        let font = match face {
            Face::Regular => self.regular_id.clone(),
            Face::Bold => self.bold_id.clone(),
        };
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFillColor { col: rgb(color) },
            Op::SetFont { font: PdfFontHandle::External(font), size: Pt(size) },
            Op::SetTextMatrix { matrix: TextMatrix::Translate(Pt(x), Pt(y)) },
            Op::ShowText { items: vec![TextItem::Text(text)] },
            Op::EndTextSection,
        ]);
    }

    fn text_right(&mut self, face: Face, size: f32, color: (f32, f32, f32), right: f32, y: f32, text: &str) {
        let printable = self.printable(face, text);
        let w = self.width(face, size, &printable);
        self.text(face, size, color, right - w, y, &printable);
    }

    fn fill_rect(&mut self, color: (f32, f32, f32), x: f32, y: f32, w: f32, h: f32) {
        self.ops.extend([
            Op::SaveGraphicsState,
            Op::SetFillColor { col: rgb(color) },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x),
                    y: Pt(y),
                    width: Pt(w),
                    height: Pt(h),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            },
            Op::RestoreGraphicsState,
        ]);
    }

    fn stroke_rect(&mut self, color: (f32, f32, f32), x: f32, y: f32, w: f32, h: f32, thickness: f32) {
        self.ops.extend([
            Op::SaveGraphicsState,
            Op::SetOutlineColor { col: rgb(color) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x),
                    y: Pt(y),
                    width: Pt(w),
                    height: Pt(h),
                    mode: Some(PaintMode::Stroke),
                    winding_order: None,
                },
            },
            Op::RestoreGraphicsState,
        ]);
    }

    fn hline(&mut self, color: (f32, f32, f32), x1: f32, x2: f32, y: f32, thickness: f32) {
        let point = |x: f32| LinePoint { p: Point { x: Pt(x), y: Pt(y) }, bezier: false };
        self.ops.extend([
            Op::SaveGraphicsState,
            Op::SetOutlineColor { col: rgb(color) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine { line: Line { points: vec![point(x1), point(x2)], is_closed: false } },
            Op::RestoreGraphicsState,
        ]);
    }

    fn right(&self) -> f32 {
        self.width - MARGIN
    }

    fn new_page(&mut self) {
        let finished = std::mem::take(&mut self.ops);
        self.pages.push(finished);
        self.y = self.height - MARGIN;
    }

    /// Starts a new page unless `needed` points fit above the footer.
    fn ensure(&mut self, needed: f32) -> bool {
        if self.y - needed < MARGIN + FOOTER_SPACE {
            self.new_page();
            return true;
        }
        false
    }
}

/// Columns of the items table: (left edge, right edge) of each.
struct Columns {
    description: (f32, f32),
    quantity: f32,
    price: f32,
    tax: (f32, f32),
    amount: f32,
}

fn columns(width: f32) -> Columns {
    let right = width - MARGIN;
    Columns {
        description: (MARGIN + 8.0, right - 300.0),
        quantity: right - 240.0,
        price: right - 160.0,
        tax: (right - 150.0, right - 80.0),
        amount: right - 8.0,
    }
}

fn table_header(c: &mut Canvas<'_>, cols: &Columns, accent: (f32, f32, f32), currency: &str) {
    let top = c.y;
    c.fill_rect(SHADE, MARGIN, top - 20.0, c.width - 2.0 * MARGIN, 20.0);
    c.hline(accent, MARGIN, c.right(), top - 20.0, 1.0);
    let baseline = top - 13.5;
    c.text(Face::Bold, SMALL, MUTED, cols.description.0, baseline, "DESCRIPTION");
    c.text_right(Face::Bold, SMALL, MUTED, cols.quantity, baseline, "QTY");
    c.text_right(Face::Bold, SMALL, MUTED, cols.price, baseline, "UNIT PRICE");
    c.text(Face::Bold, SMALL, MUTED, cols.tax.0, baseline, "TAX");
    c.text_right(Face::Bold, SMALL, MUTED, cols.amount, baseline, &format!("AMOUNT ({currency})"));
    c.y = top - 20.0 - ROW_GAP;
}

/// The PDF of one document.
pub fn render(input: &PdfInput<'_>) -> Result<Vec<u8>, AppError> {
    let (regular, bold) =
        fonts().ok_or_else(|| AppError::Internal(anyhow::anyhow!("the PDF font could not be read")))?;
    let (width_mm, height_mm) = match input.issuer.paper_size.as_str() {
        "Letter" => (215.9, 279.4),
        _ => (210.0, 297.0),
    };
    let (width, height) = (Mm(width_mm).into_pt().0, Mm(height_mm).into_pt().0);
    let doc = input.doc;
    let title = format!("{} {}", input.kind.title(), doc.label());
    let mut pdf = PdfDocument::new(&title);
    pdf.metadata.info.author = input.issuer.name.clone();
    pdf.metadata.info.creator = "Client Hub".into();
    pdf.metadata.info.producer = "Client Hub".into();
    let regular_id = pdf.add_font(regular);
    let bold_id = pdf.add_font(bold);
    let mut c = Canvas {
        width,
        height,
        regular,
        bold,
        regular_id,
        bold_id,
        pages: Vec::new(),
        ops: Vec::new(),
        y: height - MARGIN,
    };
    let accent = brand((&input.issuer.brand_color, INK));

    // Header: logo or name on the left, the document's title and number on the right.
    let top = height - MARGIN;
    let mut left_y = top;
    if let Some(logo) =
        input.issuer.logo.as_deref().and_then(|bytes| RawImage::decode_from_bytes(bytes, &mut Vec::new()).ok())
    {
        let (w, h) = (logo.width.max(1) as f32, logo.height.max(1) as f32);
        let scale = (150.0 / w).min(48.0 / h);
        let id = pdf.add_image(&logo);
        c.ops.push(Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(Pt(MARGIN)),
                translate_y: Some(Pt(top - h * scale)),
                scale_x: Some(scale),
                scale_y: Some(scale),
                dpi: Some(72.0),
                ..Default::default()
            },
        });
        left_y -= h * scale + 14.0;
    }
    left_y -= 12.0;
    // Long names wrap in their column instead of running under the title.
    for (i, line) in c.wrap(Face::Bold, 12.0, &input.issuer.name, 230.0).iter().enumerate() {
        if i > 0 {
            left_y -= 15.0;
        }
        c.text(Face::Bold, 12.0, INK, MARGIN, left_y, line);
    }
    for line in c.wrap(Face::Regular, BODY, &input.issuer.address, 230.0) {
        left_y -= LINE;
        c.text(Face::Regular, BODY, MUTED, MARGIN, left_y, &line);
    }
    if !input.issuer.tax_id.is_empty() {
        left_y -= LINE;
        c.text(Face::Regular, BODY, MUTED, MARGIN, left_y, &format!("Tax ID: {}", input.issuer.tax_id));
    }

    let right = c.right();
    let mut right_y = top - 22.0;
    c.text_right(Face::Bold, 22.0, accent, right, right_y, &input.kind.title().to_uppercase());
    right_y -= 18.0;
    c.text_right(Face::Bold, 11.0, INK, right, right_y, doc.label());
    let mut facts = vec![
        ("Issue date", doc.issue_date.format("%-d %b %Y").to_string()),
        (input.kind.end_date_label(), doc.end_date.format("%-d %b %Y").to_string()),
    ];
    if let Some(project) = &doc.project_title {
        facts.push(("Project", project.clone()));
    }
    for (label, value) in facts {
        right_y -= LINE + 1.0;
        let value = c.wrap(Face::Regular, BODY, &value, 150.0).into_iter().next().unwrap_or_default();
        c.text_right(Face::Regular, BODY, INK, right, right_y, &value);
        c.text_right(Face::Regular, BODY, MUTED, right - 160.0, right_y, label);
    }
    // A stamp for what an accountant must not miss.
    let stamp = match input.status {
        "paid" => Some(("PAID", (0.09, 0.50, 0.24))),
        "void" => Some(("VOID", (0.75, 0.11, 0.11))),
        "overdue" => Some(("OVERDUE", (0.75, 0.11, 0.11))),
        "draft" => Some(("DRAFT", MUTED)),
        "accepted" => Some(("ACCEPTED", (0.09, 0.50, 0.24))),
        "declined" => Some(("DECLINED", (0.75, 0.11, 0.11))),
        "expired" => Some(("EXPIRED", MUTED)),
        _ => None,
    };
    if let Some((word, color)) = stamp {
        right_y -= 26.0;
        let w = c.width(Face::Bold, 12.0, word) + 16.0;
        c.stroke_rect(color, right - w, right_y - 6.0, w, 22.0, 1.5);
        c.text_right(Face::Bold, 12.0, color, right - 8.0, right_y + 1.0, word);
    }

    // The client.
    let mut y = left_y.min(right_y) - 30.0;
    c.text(
        Face::Bold,
        SMALL,
        MUTED,
        MARGIN,
        y,
        if input.kind == DocKind::Invoice { "BILL TO" } else { "PREPARED FOR" },
    );
    y -= LINE + 2.0;
    for (i, line) in c.wrap(Face::Bold, 10.5, &doc.client_name, 260.0).iter().enumerate() {
        if i > 0 {
            y -= 13.0;
        }
        c.text(Face::Bold, 10.5, INK, MARGIN, y, line);
    }
    let mut client_lines = Vec::new();
    if !doc.client_company.is_empty() {
        client_lines.extend(c.wrap(Face::Regular, BODY, &doc.client_company, 260.0));
    }
    client_lines.extend(c.wrap(Face::Regular, BODY, &doc.client_address, 260.0).into_iter().filter(|l| !l.is_empty()));
    if !doc.client_email.is_empty() {
        client_lines.extend(c.wrap(Face::Regular, BODY, &doc.client_email, 260.0));
    }
    if !doc.client_tax_id.is_empty() {
        client_lines.push(format!("Tax ID: {}", doc.client_tax_id));
    }
    for line in client_lines {
        y -= LINE;
        c.text(Face::Regular, BODY, MUTED, MARGIN, y, &line);
    }
    c.y = y - 26.0;

    // Items, flowing across pages with the header repeated.
    let cols = columns(width);
    table_header(&mut c, &cols, accent, &doc.currency);
    let description_width = cols.description.1 - cols.description.0;
    for item in input.items {
        let lines = c.wrap(Face::Regular, BODY, &item.description, description_width);
        let row_height = lines.len() as f32 * LINE + ROW_GAP;
        // A row that fits on a page is never split; a longer one continues on the next.
        if row_height <= c.height - 2.0 * MARGIN - FOOTER_SPACE - 40.0 && c.ensure(row_height + 4.0) {
            table_header(&mut c, &cols, accent, &doc.currency);
        }
        let mut first = true;
        for line in &lines {
            if c.ensure(LINE + ROW_GAP) {
                table_header(&mut c, &cols, accent, &doc.currency);
            }
            let baseline = c.y - 9.0;
            c.text(Face::Regular, BODY, INK, cols.description.0, baseline, line);
            if first {
                c.text_right(Face::Regular, BODY, INK, cols.quantity, baseline, &amounts::quantity(item.quantity));
                c.text_right(Face::Regular, BODY, INK, cols.price, baseline, &amounts::unit_price(item.unit_price));
                let tax = item.tax_label();
                let tax =
                    c.wrap(Face::Regular, SMALL, &tax, cols.tax.1 - cols.tax.0).into_iter().next().unwrap_or_default();
                c.text(Face::Regular, SMALL, MUTED, cols.tax.0, baseline, &tax);
                c.text_right(Face::Regular, BODY, INK, cols.amount, baseline, &amounts::grouped(item.amount));
                first = false;
            }
            c.y -= LINE;
        }
        c.y -= ROW_GAP;
        c.hline(RULE, MARGIN, c.right(), c.y + 2.0, 0.5);
    }

    // Totals: subtotal, tax per rate, total (and for invoices, paid and balance).
    let currency = &doc.currency;
    let mut rows: Vec<(String, String, bool)> =
        vec![("Subtotal".into(), amounts::with_currency(input.totals.subtotal, currency), false)];
    for tax in &input.totals.taxes {
        rows.push((
            format!("{} on {}", tax.label(), amounts::grouped(tax.base)),
            amounts::with_currency(tax.amount, currency),
            false,
        ));
    }
    rows.push(("Total".into(), amounts::with_currency(input.totals.total, currency), true));
    if input.kind == DocKind::Invoice && doc.amount_paid > Decimal::ZERO {
        rows.push(("Paid".into(), amounts::with_currency(doc.amount_paid, currency), false));
        rows.push(("Balance due".into(), amounts::with_currency(doc.balance(), currency), true));
    }
    c.ensure(rows.len() as f32 * 16.0 + 16.0);
    c.y -= 10.0;
    let label_right = right - 130.0;
    for (label, value, strong) in rows {
        let face = if strong { Face::Bold } else { Face::Regular };
        let size = if strong { 10.5 } else { BODY };
        if strong {
            c.hline(INK, label_right - 130.0, right, c.y + 2.0, 0.75);
            c.y -= 4.0;
        }
        let baseline = c.y - 10.0;
        c.text_right(face, size, if strong { INK } else { MUTED }, label_right, baseline, &label);
        c.text_right(face, size, INK, right, baseline, &value);
        c.y -= 16.0;
    }

    // Terms and notes.
    for (heading, body) in [("Payment terms", &doc.terms), ("Notes", &doc.notes)] {
        if body.trim().is_empty() {
            continue;
        }
        let lines = c.wrap(Face::Regular, BODY, body, width - 2.0 * MARGIN);
        c.ensure(LINE * 2.0 + 20.0);
        c.y -= 18.0;
        c.text(Face::Bold, SMALL, MUTED, MARGIN, c.y, &heading.to_uppercase());
        c.y -= 4.0;
        for line in lines {
            c.ensure(LINE);
            c.y -= LINE;
            c.text(Face::Regular, BODY, INK, MARGIN, c.y, &line);
        }
    }
    c.new_page();

    // Footers, once the number of pages is known.
    let count = c.pages.len();
    let footer_left = format!("{} · {} {}", input.issuer.name, input.kind.title(), doc.label());
    let pages = std::mem::take(&mut c.pages);
    let mut finished = Vec::with_capacity(count);
    for (i, ops) in pages.into_iter().enumerate() {
        c.ops = ops;
        c.hline(RULE, MARGIN, c.right(), MARGIN + 14.0, 0.5);
        let footer = c
            .wrap(Face::Regular, SMALL, &footer_left, width - 2.0 * MARGIN - 80.0)
            .into_iter()
            .next()
            .unwrap_or_default();
        c.text(Face::Regular, SMALL, MUTED, MARGIN, MARGIN, &footer);
        c.text_right(Face::Regular, SMALL, MUTED, c.right(), MARGIN, &format!("Page {} of {count}", i + 1));
        finished.push(PdfPage::new(Mm(width_mm), Mm(height_mm), std::mem::take(&mut c.ops)));
    }
    pdf.pages = finished;
    subset_fonts(&mut pdf);
    let options = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: Some(ImageOptimizationOptions {
            format: Some(ImageCompression::Flate),
            ..Default::default()
        }),
    };
    let mut warnings: Vec<PdfWarnMsg> = Vec::new();
    Ok(pdf.save(&options, &mut warnings))
}

/// Replaces each embedded font by a subset with only the characters the pages show.
/// printpdf subsets by itself only with its large text-layout feature; this does the
/// same with its own font library. Should subsetting fail, the whole font stays.
fn subset_fonts(pdf: &mut PdfDocument) {
    let mut used: BTreeMap<FontId, BTreeSet<char>> = BTreeMap::new();
    for page in &pdf.pages {
        let mut current: Option<FontId> = None;
        for op in &page.ops {
            match op {
                Op::SetFont { font: PdfFontHandle::External(id), .. } => current = Some(id.clone()),
                Op::ShowText { items } => {
                    if let Some(id) = &current {
                        let set = used.entry(id.clone()).or_default();
                        for item in items {
                            if let TextItem::Text(s) = item {
                                set.extend(s.chars());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (id, chars) in used {
        let Some(full) = pdf.resources.fonts.map.get(&id) else { continue };
        match subset_font(&full.parsed_font, &chars) {
            Ok(mut font) => {
                let tag = id.0.get(..6).unwrap_or("AAAAAA").to_string();
                font.font_name = Some(format!("{tag}+DejaVuSans"));
                pdf.resources.fonts.map.insert(id, PdfFont::new(font));
            }
            Err(e) => tracing::warn!(error = %e, "font subsetting failed; the whole font is embedded"),
        }
    }
}

fn subset_font(full: &ParsedFont, chars: &BTreeSet<char>) -> Result<ParsedFont, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile, subset};

    let mut glyphs: Vec<u16> =
        chars.iter().filter_map(|&c| full.lookup_glyph_index(c as u32)).filter(|&g| g != 0).collect();
    glyphs.sort_unstable();
    glyphs.dedup();
    glyphs.insert(0, 0);
    let data = ReadScope::new(full.original_bytes.as_slice()).read::<FontData<'_>>().map_err(|e| e.to_string())?;
    let provider = data.table_provider(full.font_index as usize).map_err(|e| e.to_string())?;
    let bytes = subset(&provider, &glyphs, &SubsetProfile::Pdf, CmapTarget::Unicode).map_err(|e| e.to_string())?;
    ParsedFont::from_bytes(&bytes, 0, &mut Vec::new()).ok_or_else(|| "the subset font could not be read".to_string())
}
