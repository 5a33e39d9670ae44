//! Finding where the customers of an nxlink request body begin and end, without parsing them:
//! the sandbox stores each customer as the exact JSON text it received, instead of
//! re-serialising the parsed value (its largest cost once requests are many).
//!
//! The body has already been parsed successfully as JSON; the cursor only finds where values
//! end. Anything unusual (an escaped top-level key, `customers` twice, not an array) gives
//! `None`, and the caller re-serialises.

/// The exact text of each element of the top-level `customers` array of `body`, a body that
/// parsed as JSON. `None` when `customers` is missing, not an array, given twice or any
/// top-level key holds an escape (which could spell `customers`); the caller then re-serialises.
pub(crate) fn customer_texts(body: &[u8]) -> Option<Vec<&[u8]>> {
    let mut scan = Scan { text: body, at: 0 };
    let mut found = None;
    scan.expect(b'{')?;
    if scan.eat(b'}') {
        return None;
    }
    loop {
        let key = scan.string()?;
        if key.contains(&b'\\') {
            return None;
        }
        scan.expect(b':')?;
        if key == b"customers" {
            if found.is_some() {
                return None;
            }
            found = Some(scan.elements()?);
        } else {
            scan.value()?;
        }
        if scan.eat(b'}') {
            return found;
        }
        scan.expect(b',')?;
    }
}

/// A cursor over JSON text known to be valid: it finds where values end without checking them.
struct Scan<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    /// Skips whitespace; the next byte, if any.
    fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.get(self.at) {
            self.at += 1;
        }
        self.text.get(self.at).copied()
    }

    /// Consumes `byte` (after whitespace) if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// A string; its text between the quotes, escapes as written.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            let end = self.at + memchr::memchr2(b'"', b'\\', self.text.get(self.at..)?)?;
            // Past the quote, or past the backslash and the character it escapes.
            self.at = end + 1;
            if self.text[end] == b'"' {
                return self.text.get(start..end);
            }
            self.at += 1;
        }
    }

    /// Skips one value.
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth = depth.checked_sub(1)?,
                        _ => {}
                    }
                    self.at += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                while let Some(b) = self.text.get(self.at) {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.at += 1;
                }
            }
        }
        Some(())
    }

    /// The texts of the elements of an array.
    fn elements(&mut self) -> Option<Vec<&'a [u8]>> {
        self.expect(b'[')?;
        let mut texts = Vec::new();
        if self.eat(b']') {
            return Some(texts);
        }
        loop {
            self.peek()?;
            let start = self.at;
            self.value()?;
            texts.push(self.text.get(start..self.at)?);
            if self.eat(b']') {
                return Some(texts);
            }
            self.expect(b',')?;
        }
    }
}

#[cfg(test)]
mod tests;
