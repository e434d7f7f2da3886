//! Which files may be uploaded, decided by their content and their name together: the
//! first bytes say what a file is, and the name's extension must agree (an executable
//! named `report.pdf` is refused). Text is plain UTF-8 without NUL, checked to the end.

/// What the first bytes of a file show it to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
    /// A ZIP container: a ZIP archive, or a Word, Excel or PowerPoint document.
    Zip,
    /// Valid UTF-8 without NUL, as far as read.
    Text,
    /// A program (ELF, Windows, Mach-O): never accepted, whatever its name.
    Program,
    Unknown,
}

/// An accepted kind of file, found by the extension of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub extension: &'static str,
    pub content: Content,
    /// Stored with the file and sent back with it on download.
    pub content_type: &'static str,
    /// How a user would name it, after "a" or "an".
    pub label: &'static str,
}

const fn allowed(
    extension: &'static str,
    content: Content,
    content_type: &'static str,
    label: &'static str,
) -> Allowed {
    Allowed { extension, content, content_type, label }
}

pub const ALLOWED: &[Allowed] = &[
    allowed("pdf", Content::Pdf, "application/pdf", "a PDF"),
    allowed("png", Content::Png, "image/png", "a PNG image"),
    allowed("jpg", Content::Jpeg, "image/jpeg", "a JPEG image"),
    allowed("jpeg", Content::Jpeg, "image/jpeg", "a JPEG image"),
    allowed("gif", Content::Gif, "image/gif", "a GIF image"),
    allowed("webp", Content::Webp, "image/webp", "a WebP image"),
    allowed(
        "docx",
        Content::Zip,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "a Word document",
    ),
    allowed(
        "xlsx",
        Content::Zip,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "an Excel workbook",
    ),
    allowed(
        "pptx",
        Content::Zip,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "a PowerPoint presentation",
    ),
    allowed("zip", Content::Zip, "application/zip", "a ZIP archive"),
    allowed("txt", Content::Text, "text/plain; charset=utf-8", "a text file"),
    allowed("csv", Content::Text, "text/csv; charset=utf-8", "a CSV file"),
    allowed("md", Content::Text, "text/markdown; charset=utf-8", "a Markdown file"),
    allowed("markdown", Content::Text, "text/markdown; charset=utf-8", "a Markdown file"),
];

/// What to tell someone whose file is of a kind we do not take.
pub const ALLOWED_SUMMARY: &str = "You can upload PDF files, images (PNG, JPEG, GIF, WebP), Word, Excel and \
    PowerPoint documents, ZIP archives and plain text (TXT, CSV, Markdown).";

/// How many leading bytes [`sniff`] wants to see (fewer only when the file is shorter).
pub const SNIFF_BYTES: usize = 512;

/// Reads the kind of a file from its first bytes.
pub fn sniff(head: &[u8]) -> Content {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        Content::Pdf
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Content::Png
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Content::Jpeg
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Content::Gif
    } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
        Content::Webp
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Content::Zip
    } else if TextCheck::default().accepts(head) {
        // Before the program check: a CSV may well start with "MZ"; a program is never text.
        Content::Text
    } else if is_program(head) {
        Content::Program
    } else {
        Content::Unknown
    }
}

fn is_program(head: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"MZ",
        &[0xFE, 0xED, 0xFA, 0xCE],
        &[0xFE, 0xED, 0xFA, 0xCF],
        &[0xCE, 0xFA, 0xED, 0xFE],
        &[0xCF, 0xFA, 0xED, 0xFE],
        &[0xCA, 0xFE, 0xBA, 0xBE],
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

/// The lower-case extension of a file name, if it has one.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The accepted kind a file name announces, or why no file of that name is taken.
pub fn allowed_for_name(name: &str) -> Result<Allowed, String> {
    let ext = extension(name);
    match ext.as_deref().and_then(|e| ALLOWED.iter().find(|a| a.extension == e)) {
        Some(kind) => Ok(*kind),
        None => Err(match ext {
            Some(ext) => format!("Files ending in .{ext} cannot be uploaded. {ALLOWED_SUMMARY}"),
            None => format!(
                "The file name has no ending such as .pdf or .docx, so we cannot tell what it is. \
                 Rename it and try again. {ALLOWED_SUMMARY}"
            ),
        }),
    }
}

/// Checks that the content agrees with what the name announces.
pub fn check_content(kind: &Allowed, content: Content) -> Result<(), String> {
    if content == kind.content { Ok(()) } else { Err(mismatch(kind, content)) }
}

/// Why a file whose content is `content` is not the `kind` its name says.
pub fn mismatch(kind: &Allowed, content: Content) -> String {
    let what = match content {
        Content::Program => " It looks like a program, and programs cannot be uploaded.",
        _ => " Check that you chose the right file, or save it again in that format.",
    };
    format!("This file is not {}, although its name ends in .{}.{what}", kind.label, kind.extension)
}

/// Follows a text file chunk by chunk: UTF-8 throughout (a character may straddle two
/// chunks) and no NUL byte.
#[derive(Debug, Default)]
pub struct TextCheck {
    /// The start of a character cut off at the end of the last chunk.
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed || chunk.contains(&0) {
            self.failed = true;
            return;
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = [self.carry.as_slice(), chunk].concat();
            joined.as_slice()
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => self.carry.clear(),
            // Incomplete at the end: the rest of the character comes with the next chunk.
            Err(e) if e.error_len().is_none() => self.carry = bytes[e.valid_up_to()..].to_vec(),
            Err(_) => self.failed = true,
        }
    }

    /// True once something fed was not text.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// True when everything fed so far is text and no character is left unfinished.
    pub fn finish(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }

    /// The leading bytes of a file as text: a character cut off at the end is fine.
    fn accepts(mut self, head: &[u8]) -> bool {
        self.feed(head);
        !self.failed
    }
}

/// Checks an uploaded file's name: it is shown to people and sent back in headers, so it
/// may not carry paths or invisible characters.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.contains('/') || name.contains('\\') {
        return Err("The file name may not contain / or \\. Rename the file and try again.");
    }
    if name.contains("..") {
        return Err("The file name may not contain two dots in a row (..). Rename the file and try again.");
    }
    // Direction overrides can make "exe.pdf" read as something else.
    let invisible = |c: char| {
        c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if name.chars().any(invisible) {
        return Err("The file name contains invisible control characters. Rename the file and try again.");
    }
    if name.chars().count() > 255 {
        return Err("The file name is longer than 255 characters. Shorten it and try again.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_read_from_the_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Content::Pdf);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Content::Png);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Content::Jpeg);
        assert_eq!(sniff(b"GIF89a\x01\0"), Content::Gif);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Content::Webp);
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Content::Zip);
        assert_eq!(sniff("name,amount\nZoë,12\n".as_bytes()), Content::Text);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0"), Content::Program);
        assert_eq!(sniff(b"MZ\x90\0\x03\0"), Content::Program);
        assert_eq!(sniff(b"MZ,Mazowieckie\n"), Content::Text, "text that happens to start like a program");
        assert_eq!(sniff(b"text with a \0 NUL"), Content::Unknown);
        assert_eq!(sniff(&[0xC3, 0x28, 0x41]), Content::Unknown, "invalid UTF-8");
    }

    #[test]
    fn the_name_must_agree_with_the_content() {
        let pdf = allowed_for_name("Report.PDF").unwrap();
        assert!(check_content(&pdf, Content::Pdf).is_ok());
        let refused = check_content(&pdf, Content::Program).unwrap_err();
        assert!(refused.starts_with("This file is not a PDF"), "{refused}");
        let docx = allowed_for_name("brief.docx").unwrap();
        assert!(check_content(&docx, Content::Zip).is_ok());
        assert!(check_content(&docx, Content::Text).is_err());
        assert!(allowed_for_name("setup.exe").unwrap_err().contains(".exe cannot be uploaded"));
        assert!(allowed_for_name("README").is_err());
        assert!(allowed_for_name(".pdf").is_err(), "a name that is only an ending");
    }

    #[test]
    fn text_is_checked_across_chunks() {
        let text = "café ☕ done".as_bytes();
        let mut check = TextCheck::default();
        for chunk in text.chunks(3) {
            check.feed(chunk);
        }
        assert!(check.finish());
        let mut cut = TextCheck::default();
        cut.feed(&text[..4]);
        assert!(!cut.finish(), "a character left unfinished");
        let mut nul = TextCheck::default();
        nul.feed(b"ok");
        nul.feed(b"\0");
        assert!(!nul.finish());
    }

    #[test]
    fn names_with_paths_or_control_characters_are_refused() {
        assert!(check_name("Quarterly report (final).pdf").is_ok());
        assert!(check_name("año — résumé.docx").is_ok());
        for bad in ["../../etc/passwd", "a/b.pdf", "a\\b.pdf", "a..pdf", "a\0.pdf", "a\nb.pdf", "exe\u{202E}fdp.pdf"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(256)).is_err());
        assert!(check_name(&"é".repeat(255)).is_ok());
    }
}
