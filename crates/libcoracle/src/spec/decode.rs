//! Decoding a spec document from JSON, with the field that is wrong named
//! when it does not fit its type ("process.user.uid: invalid type…"), as a
//! platform engineer needs to find it in a long config.
//!
//! The field is found from where the parser stopped: the document is
//! scanned up to that byte, keeping the keys and indices of the objects and
//! arrays still open. A path-tracking deserializer would double the decoding
//! code of every spec type in the binary; this costs a few lines, and only
//! on failure.

use serde::de::DeserializeOwned;
use std::fmt;

/// A document that is not JSON of the expected shape.
#[derive(Debug)]
pub struct DecodeError {
    /// The field at fault ("process.user.uid", "mounts[2].options"),
    /// empty when the document itself is (not JSON, cut short).
    pub field: String,
    /// The parser's error, with line and column.
    pub source: serde_json::Error,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.source)
        } else {
            write!(f, "{}: {}", self.field, self.source)
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Decodes `bytes` into a `T`. The fast path tracks nothing; only a
/// document that fails is decoded again, following the path to the field.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let source = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    // A syntax error has a line and column but no field to name.
    let field = if source.is_syntax() || source.is_eof() {
        String::new()
    } else {
        let end = byte_offset(bytes, source.line(), source.column());
        field_at(&bytes[..end])
    };
    Err(DecodeError { field, source })
}

/// The offset of 1-based `line` and `column` (the parser counts bytes).
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(bytes.len(), |(at, _)| at + 1)
    };
    (line_start + column).min(bytes.len())
}

/// An object or array still open at the point of failure.
enum Open {
    /// An object, and the key whose value is being read (none before the
    /// first key or after a comma).
    Object { key: Option<String> },
    /// An array, and the index of the element being read.
    Array { index: usize },
}

/// The path ("mounts[2].options") to the value being read at the end of
/// `scanned`, a prefix of a JSON document.
fn field_at(scanned: &[u8]) -> String {
    let mut open: Vec<Open> = Vec::new();
    let mut expecting_key = false;
    let mut at = 0;
    while at < scanned.len() {
        match scanned[at] {
            b'{' => {
                open.push(Open::Object { key: None });
                expecting_key = true;
            }
            b'[' => open.push(Open::Array { index: 0 }),
            b'}' | b']' => {
                open.pop();
            }
            b':' => expecting_key = false,
            b',' => match open.last_mut() {
                Some(Open::Array { index }) => *index += 1,
                Some(Open::Object { key }) => {
                    *key = None;
                    expecting_key = true;
                }
                None => {}
            },
            b'"' => {
                let end = string_end(scanned, at + 1);
                if let (true, Some(Open::Object { key })) = (expecting_key, open.last_mut()) {
                    let text = &scanned[at + 1..end.min(scanned.len())];
                    *key = Some(String::from_utf8_lossy(text).into_owned());
                }
                at = end;
            }
            _ => {}
        }
        at += 1;
    }
    let mut path = String::new();
    for frame in &open {
        match frame {
            Open::Object { key: Some(key) } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Open::Object { key: None } => {}
            Open::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// The index of the quote that ends the string starting at `from` (past
/// its opening quote), or the end of `bytes`.
fn string_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    fn error_of(json: &str) -> String {
        decode::<Spec>(json.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let err = error_of(r#"{"ociVersion":"1.0.0","process":{"user":{"uid":"x"}}}"#);
        assert!(
            err.starts_with("process.user.uid: invalid type: string \"x\", expected u32"),
            "{err}"
        );
        let err =
            error_of(r#"{"ociVersion":"1.0.0","mounts":[{"destination":"/a"},{"destination":1}]}"#);
        assert!(
            err.starts_with("mounts[1].destination: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn a_document_that_is_not_json_names_no_field() {
        let err = error_of(r#"{"ociVersion":"1.0.0","#);
        assert!(err.starts_with("EOF while parsing"), "{err}");
        let err = error_of(r#""a string""#);
        assert!(err.starts_with("invalid type: string"), "{err}");
    }

    #[test]
    fn keys_with_escapes_and_documents_over_lines_are_followed() {
        let doc = "{\"ociVersion\": \"1.0.0\",\n \"annotations\": {\"a\\\"b,c\": \"x\"},\n \"linux\": {\"resources\": {\"pids\": {\"limit\": [1]}}}}";
        let err = error_of(doc);
        assert!(
            err.starts_with("linux.resources.pids.limit: invalid type: sequence"),
            "{err}"
        );
        let err = error_of(
            r#"{"ociVersion":"1.0.0","mounts":[{"destination":"/a","type":"x"},{"type":"y"}]}"#,
        );
        assert!(
            err.starts_with("mounts[1]: missing field `destination`"),
            "{err}"
        );
    }
}
