//! Cuts a byte stream into records: one per line (JSON Lines) or one per element of a
//! top-level JSON array. Push-based: bytes arrive in chunks of any size.

/// Longest record accepted; longer ones are quarantined without being buffered whole.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// One piece cut from the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// The bytes of one record, starting at this 1-based line.
    Record(u64, &'a [u8]),
    /// The file's last record, with no line end (or, in an array, no `,` or `]`) after
    /// it: if it does not parse, the file was probably cut inside it.
    Last(u64, &'a [u8]),
    /// A record that cannot be parsed at all, with the reason.
    Bad(u64, &'a [u8], &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing but whitespace (and a byte-order mark) seen yet.
    Undecided,
    Lines,
    Array,
}

/// Array scanning state, kept across chunks.
#[derive(Debug, Default)]
struct ArrayState {
    opened: bool,
    closed: bool,
    depth: u64,
    in_string: bool,
    escaped: bool,
    /// Line of the current element's first byte, when an element is open.
    element_line: Option<u64>,
}

/// The splitter. Feed it chunks; it calls back with each complete piece.
#[derive(Debug)]
pub struct Splitter {
    mode: Mode,
    /// Bytes of the record (or undecided prelude) still open at the end of the last chunk.
    carry: Vec<u8>,
    /// 1-based line number of the next byte.
    line: u64,
    /// Line where `carry` starts.
    carry_line: u64,
    /// The open record grew past the limit: skip to its end.
    oversized: bool,
    /// Whether the first bytes were checked for a byte-order mark.
    bom_checked: bool,
    array: ArrayState,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The start of a stream, held only while it is too short to decide on: a chunk that
/// comes when nothing is held and is `enough` is looked at where it is, not copied (a
/// first chunk is most of a file). `None` while more bytes are needed.
pub(super) fn start_of<'c>(
    held: &mut Vec<u8>,
    chunk: &'c [u8],
    enough: impl Fn(&[u8]) -> bool,
) -> Option<std::borrow::Cow<'c, [u8]>> {
    if held.is_empty() && enough(chunk) {
        return Some(chunk.into());
    }
    held.extend_from_slice(chunk);
    enough(held).then(|| std::mem::take(held).into())
}

/// Reason for a record over [`MAX_RECORD_BYTES`]. A JSON Lines file whose line ends the
/// reader does not know (CR only) reads as one long line, hence the first advice.
pub const OVERSIZED: &str = "record longer than the 16 MiB limit: check that the file's \
                             lines end in LF or CRLF, or split the record";

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.is_ascii_whitespace())
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            mode: Mode::Undecided,
            carry: Vec::new(),
            line: 1,
            carry_line: 1,
            oversized: false,
            bom_checked: false,
            array: ArrayState::default(),
        }
    }
}

impl Splitter {
    /// Cuts what it can from `chunk`.
    pub fn feed(&mut self, chunk: &[u8], emit: &mut impl FnMut(Piece<'_>)) {
        if self.mode != Mode::Undecided {
            return match self.mode {
                Mode::Lines => self.feed_lines(chunk, emit),
                _ => self.feed_array(chunk, emit),
            };
        }
        let held;
        let mut chunk = chunk;
        if !self.bom_checked {
            // While the bytes could be the start of a byte-order mark, wait for more.
            let decided = |b: &[u8]| b.len() >= BOM.len() || !BOM.starts_with(b);
            let Some(start) = start_of(&mut self.carry, chunk, decided) else {
                return;
            };
            self.bom_checked = true;
            held = start;
            chunk = held.strip_prefix(BOM).unwrap_or(&held);
        }
        // Leading whitespace only moves the line count: dropping it keeps a file of many
        // blank lines, fed in small chunks, linear.
        let Some(start) = chunk.iter().position(|b| !b.is_ascii_whitespace()) else {
            self.line += newlines(chunk);
            return;
        };
        self.line += newlines(&chunk[..start]);
        self.mode = if chunk[start] == b'[' {
            Mode::Array
        } else {
            Mode::Lines
        };
        self.feed(&chunk[start..], emit);
    }

    /// Whether the file is a JSON array (rather than JSON Lines, or nothing yet).
    pub fn is_array(&self) -> bool {
        self.mode == Mode::Array
    }

    /// Flushes the last record (a last line without a newline, or a truncated element).
    /// Returns a note about the file's shape when it was not well formed as a whole.
    pub fn finish(&mut self, emit: &mut impl FnMut(Piece<'_>)) -> Option<&'static str> {
        let note = match self.mode {
            // Only the start of a byte-order mark can be held here: still a record's bytes.
            Mode::Undecided => {
                if !is_blank(&self.carry) {
                    emit(Piece::Last(self.line, &self.carry));
                }
                None
            }
            Mode::Lines => {
                if self.oversized {
                    emit(Piece::Bad(self.carry_line, &self.carry, OVERSIZED));
                } else if !is_blank(&self.carry) {
                    emit(Piece::Last(self.carry_line, strip_cr(&self.carry)));
                }
                None
            }
            Mode::Array if self.array.closed => {
                if !is_blank(&self.carry) {
                    emit(Piece::Bad(
                        self.carry_line,
                        &self.carry,
                        "content after the closing ] of the JSON array: a file holds one \
                         array, or one object per line",
                    ));
                }
                None
            }
            Mode::Array => {
                if self.array.element_line.is_some() && !is_blank(&self.carry) {
                    emit_carried(
                        trim_end(&self.carry),
                        self.carry_line,
                        self.oversized,
                        emit,
                        Piece::Last,
                    );
                }
                Some(
                    "the JSON array is not closed (no final ]): the file looks truncated \
                     (the records before the cut were read)",
                )
            }
        };
        self.carry.clear();
        self.oversized = false;
        note
    }

    fn feed_lines(&mut self, chunk: &[u8], emit: &mut impl FnMut(Piece<'_>)) {
        let mut rest = chunk;
        // Complete the record carried over from the previous chunk.
        if !self.carry.is_empty() || self.oversized {
            match memchr::memchr(b'\n', rest) {
                None => {
                    self.push_carry(rest);
                    return;
                }
                Some(end) => {
                    self.push_carry(&rest[..end]);
                    rest = &rest[end + 1..];
                    let line = self.carry_line;
                    if self.oversized {
                        emit(Piece::Bad(line, &self.carry, OVERSIZED));
                    } else if !is_blank(&self.carry) {
                        emit(Piece::Record(line, strip_cr(&self.carry)));
                    }
                    self.carry.clear();
                    self.oversized = false;
                    self.line += 1;
                }
            }
        }
        for line in memchr::memchr_iter(b'\n', rest).scan(0usize, |start, end| {
            let line = &rest[*start..end];
            *start = end + 1;
            Some(line)
        }) {
            if line.len() > MAX_RECORD_BYTES {
                emit(Piece::Bad(self.line, &line[..1024], OVERSIZED));
            } else if !is_blank(line) {
                emit(Piece::Record(self.line, strip_cr(line)));
            }
            self.line += 1;
        }
        let tail = match memchr::memrchr(b'\n', rest) {
            Some(last) => &rest[last + 1..],
            None => rest,
        };
        self.carry_line = self.line;
        self.push_carry(tail);
    }

    /// Appends to the open record, keeping at most 1 KiB once it is over the limit.
    fn push_carry(&mut self, bytes: &[u8]) {
        if self.oversized {
            return;
        }
        if self.carry.len() + bytes.len() > MAX_RECORD_BYTES {
            self.oversized = true;
            self.carry.truncate(1024);
            let room = 1024usize.saturating_sub(self.carry.len());
            self.carry
                .extend_from_slice(&bytes[..room.min(bytes.len())]);
        } else {
            self.carry.extend_from_slice(bytes);
        }
    }

    fn feed_array(&mut self, chunk: &[u8], emit: &mut impl FnMut(Piece<'_>)) {
        // Index of the first byte of the still-open element within `chunk`.
        let mut open_from: Option<usize> = if self.array.element_line.is_some() {
            Some(0)
        } else {
            None
        };
        for (i, &b) in chunk.iter().enumerate() {
            let a = &mut self.array;
            if b == b'\n' {
                self.line += 1;
            }
            if a.closed {
                // Anything after the array is kept (up to 1 KiB) to be quarantined.
                if self.carry.is_empty() && !b.is_ascii_whitespace() {
                    self.carry_line = self.line;
                }
                if (!self.carry.is_empty() || !b.is_ascii_whitespace()) && self.carry.len() < 1024 {
                    self.carry.push(b);
                }
                continue;
            }
            if !a.opened {
                if b == b'[' {
                    a.opened = true;
                }
                continue;
            }
            if a.in_string {
                if a.escaped {
                    a.escaped = false;
                } else if b == b'\\' {
                    a.escaped = true;
                } else if b == b'"' {
                    a.in_string = false;
                }
                continue;
            }
            let ends_element = (b == b',' || b == b']') && a.depth == 0;
            if ends_element {
                if let (Some(line), Some(from)) = (a.element_line.take(), open_from.take()) {
                    let piece = &chunk[from..i];
                    if self.carry.is_empty() {
                        emit(Piece::Record(line, trim_end(piece)));
                    } else {
                        self.push_carry(piece);
                        emit_carried(
                            trim_end(&self.carry),
                            line,
                            self.oversized,
                            emit,
                            Piece::Record,
                        );
                        self.carry.clear();
                        self.oversized = false;
                    }
                } else if b == b',' {
                    emit(Piece::Bad(
                        self.line,
                        b"",
                        "empty element in the JSON array",
                    ));
                }
                if b == b']' {
                    self.array.closed = true;
                }
                continue;
            }
            if a.element_line.is_none() {
                if b.is_ascii_whitespace() {
                    continue;
                }
                a.element_line = Some(self.line);
                self.carry_line = self.line;
                open_from = Some(i);
            }
            match b {
                b'"' => a.in_string = true,
                b'{' | b'[' => a.depth += 1,
                b'}' | b']' => a.depth = a.depth.saturating_sub(1),
                _ => {}
            }
        }
        if let Some(from) = open_from {
            self.push_carry(&chunk[from..]);
        }
    }
}

fn emit_carried<'a>(
    carry: &'a [u8],
    line: u64,
    oversized: bool,
    emit: &mut impl FnMut(Piece<'a>),
    piece: fn(u64, &'a [u8]) -> Piece<'a>,
) {
    if oversized {
        emit(Piece::Bad(line, carry, OVERSIZED));
    } else {
        emit(piece(line, carry));
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, text, reason when bad, or [`LAST`]) per piece.
    type Pieces = Vec<(u64, String, Option<&'static str>)>;

    const LAST: Option<&str> = Some("(last, unterminated)");

    fn split(chunks: &[&[u8]]) -> (Pieces, Option<&'static str>) {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        let mut push = |p: Piece<'_>| match p {
            Piece::Record(l, b) => out.push((l, String::from_utf8_lossy(b).into_owned(), None)),
            Piece::Last(l, b) => out.push((l, String::from_utf8_lossy(b).into_owned(), LAST)),
            Piece::Bad(l, b, r) => out.push((l, String::from_utf8_lossy(b).into_owned(), Some(r))),
        };
        for c in chunks {
            s.feed(c, &mut push);
        }
        let note = s.finish(&mut push);
        (out, note)
    }

    fn every_split_point(input: &[u8]) -> Pieces {
        let whole = split(&[input]);
        for cut in 0..=input.len() {
            let parts = split(&[&input[..cut], &input[cut..]]);
            assert_eq!(parts, whole, "cut at byte {cut}");
        }
        whole.0
    }

    #[test]
    fn lines_with_crlf_bom_blank_lines_and_no_final_newline() {
        let got = every_split_point(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}\n{\"c\":3}");
        assert_eq!(
            got,
            vec![
                (1, r#"{"a":1}"#.into(), None),
                (4, r#"{"b":2}"#.into(), None),
                (5, r#"{"c":3}"#.into(), LAST)
            ]
        );
    }

    #[test]
    fn array_elements_with_their_lines_and_tricky_strings() {
        let got = every_split_point(b"\n[\n {\"a\":\"],{\\\"\"},\n {\"b\":[1,2]}\n]\n");
        assert_eq!(
            got,
            vec![
                (3, r#"{"a":"],{\""}"#.into(), None),
                (4, r#"{"b":[1,2]}"#.into(), None)
            ]
        );
    }

    #[test]
    fn truncated_array_hands_on_the_open_element_as_last_and_says_so() {
        let (got, note) = split(&[b"[{\"a\":1},\n{\"b\":"]);
        assert_eq!(got[0], (1, r#"{"a":1}"#.into(), None));
        assert_eq!(got[1], (2, r#"{"b":"#.into(), LAST));
        assert!(note.unwrap().contains("not closed"));
        // A whole last element is still whole: only the array's end is missing.
        let got = every_split_point(b"[{\"a\":1},\n {\"b\":2}  \n");
        assert_eq!(got[1], (2, r#"{"b":2}"#.into(), LAST));
    }

    #[test]
    fn blank_lines_before_the_first_record_count_in_any_chunking() {
        let got = every_split_point(b"\xEF\xBB\xBF\n \r\n\t\n{\"a\":1}\n");
        assert_eq!(got, vec![(4, r#"{"a":1}"#.into(), None)]);
        let got = every_split_point(b"\n\n  [\n{\"a\":1}]");
        assert_eq!(got, vec![(4, r#"{"a":1}"#.into(), None)]);
        let mut s = Splitter::default();
        let mut n = 0;
        for _ in 0..100_000 {
            s.feed(b"\n", &mut |_| n += 1);
        }
        s.feed(b"{}", &mut |p| assert_eq!(p, Piece::Record(100_001, b"{}")));
        assert_eq!(n, 0);
    }

    #[test]
    fn a_file_of_only_part_of_a_byte_order_mark_is_one_record() {
        let (got, note) = split(&[b"\xEF", b"\xBB"]);
        assert_eq!(got, vec![(1, "\u{FFFD}".into(), LAST)]);
        assert_eq!(note, None);
    }

    #[test]
    fn content_after_the_array_is_quarantined() {
        let (got, _) = split(&[b"[{\"a\":1}]\n{\"b\":2}\n"]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, 2);
        assert!(got[1].2.unwrap().contains("after the closing"));
    }

    #[test]
    fn empty_and_whitespace_files_have_no_records() {
        assert!(split(&[b""]).0.is_empty());
        assert!(split(&[b"\n \r\n\t"]).0.is_empty());
        assert!(split(&[b"[]"]).0.is_empty());
    }

    #[test]
    fn an_oversized_line_is_cut_to_a_kib_and_the_next_line_survives() {
        let mut big = vec![b'x'; MAX_RECORD_BYTES + 10];
        big.extend_from_slice(b"\n{\"ok\":1}\n");
        let (got, _) = split(&[&big[..100], &big[100..]]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), 1024);
        assert_eq!(got[0].2, Some(OVERSIZED));
        assert_eq!(got[1], (2, r#"{"ok":1}"#.into(), None));
    }

    #[test]
    fn an_oversized_last_element_of_an_open_array_is_still_oversized() {
        let mut big = b"[\"".to_vec();
        big.resize(MAX_RECORD_BYTES + 10, b'x');
        let (got, note) = split(&[&big[..100], &big[100..]]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, Some(OVERSIZED));
        assert!(note.is_some());
    }
}
