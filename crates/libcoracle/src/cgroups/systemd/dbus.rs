//! A minimal D-Bus client: enough of the wire protocol to call systemd's
//! manager on the system bus and wait for its `JobRemoved` signal.
//!
//! The connection is a Unix stream socket authenticated with `EXTERNAL`
//! (the peer credentials of the socket); messages are little-endian, as
//! everything on the buses of the machines coracle runs on. Values are
//! aligned to their size relative to the start of the message (the body
//! starts on an 8-byte boundary, so the body is laid out on its own).

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The system bus socket.
pub(super) const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";

const METHOD_CALL: u8 = 1;
const METHOD_RETURN: u8 = 2;
const ERROR: u8 = 3;
const SIGNAL: u8 = 4;

const FIELD_PATH: u8 = 1;
const FIELD_INTERFACE: u8 = 2;
const FIELD_MEMBER: u8 = 3;
const FIELD_ERROR_NAME: u8 = 4;
const FIELD_REPLY_SERIAL: u8 = 5;
const FIELD_DESTINATION: u8 = 6;
const FIELD_SIGNATURE: u8 = 8;

/// Why talking to the bus failed.
#[derive(Debug)]
pub(super) enum BusError {
    /// The socket failed (or timed out).
    Io(io::Error),
    /// The peer broke the protocol.
    Protocol(String),
    /// The called method failed: the error's name and message.
    Remote { name: String, message: String },
}

impl From<io::Error> for BusError {
    fn from(e: io::Error) -> Self {
        BusError::Io(e)
    }
}

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BusError::Io(e) => write!(f, "{e}"),
            BusError::Protocol(what) => write!(f, "D-Bus protocol error: {what}"),
            BusError::Remote { name, message } => write!(f, "{name}: {message}"),
        }
    }
}

/// A value of a method's arguments.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// `s`
    Str(String),
    /// `o`
    ObjectPath(String),
    /// `b`
    Bool(bool),
    /// `t`
    U64(u64),
    /// `au`
    U32s(Vec<u32>),
    /// `ay`
    Bytes(Vec<u8>),
    /// `a(sv)`: named properties.
    Properties(Vec<(String, Value)>),
    /// `a(sa(sv))`: auxiliary units (always empty here).
    AuxUnits,
}

impl Value {
    fn signature(&self) -> &'static str {
        match self {
            Value::Str(_) => "s",
            Value::ObjectPath(_) => "o",
            Value::Bool(_) => "b",
            Value::U64(_) => "t",
            Value::U32s(_) => "au",
            Value::Bytes(_) => "ay",
            Value::Properties(_) => "a(sv)",
            Value::AuxUnits => "a(sa(sv))",
        }
    }
}

/// A method call.
pub(super) struct Call<'a> {
    pub(super) destination: &'a str,
    pub(super) path: &'a str,
    pub(super) interface: &'a str,
    pub(super) member: &'a str,
    pub(super) args: Vec<Value>,
}

/// A message received.
#[derive(Debug, Clone)]
pub(super) struct Message {
    kind: u8,
    reply_serial: Option<u32>,
    interface: Option<String>,
    member: Option<String>,
    error_name: Option<String>,
    signature: String,
    body: Vec<u8>,
}

impl Message {
    /// Whether this is the signal `interface.member`.
    pub(super) fn is_signal(&self, interface: &str, member: &str) -> bool {
        self.kind == SIGNAL
            && self.interface.as_deref() == Some(interface)
            && self.member.as_deref() == Some(member)
    }

    /// The body's values, for the signatures this client reads (basic
    /// types, and variants of one, as a property's value comes).
    pub(super) fn args(&self) -> Result<Vec<Value>, BusError> {
        let mut reader = Reader {
            data: &self.body,
            at: 0,
        };
        let mut values = Vec::new();
        for code in self.signature.chars() {
            values.push(match code {
                // A variant: its own signature, then a value of it.
                'v' => {
                    let inner = reader.signature()?;
                    let mut codes = inner.chars();
                    match (codes.next(), codes.next()) {
                        (Some(code), None) => reader.basic(code)?,
                        _ => {
                            return Err(BusError::Protocol(format!(
                                "unexpected variant of {inner:?} in a reply body"
                            )))
                        }
                    }
                }
                code => reader.basic(code)?,
            });
        }
        Ok(values)
    }
}

/// A connection to a bus.
pub(super) struct Bus {
    stream: BufReader<UnixStream>,
    serial: u32,
    /// Signals that arrived while waiting for a reply.
    signals: Vec<Message>,
}

impl Bus {
    /// Connects to the bus at `socket`, authenticates and says hello; every
    /// later read waits at most `timeout`.
    pub(super) fn connect(socket: &Path, timeout: Duration) -> Result<Bus, BusError> {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut bus = Bus {
            stream: BufReader::new(stream),
            serial: 0,
            signals: Vec::new(),
        };
        bus.authenticate()?;
        bus.call(&Call {
            destination: "org.freedesktop.DBus",
            path: "/org/freedesktop/DBus",
            interface: "org.freedesktop.DBus",
            member: "Hello",
            args: Vec::new(),
        })?;
        Ok(bus)
    }

    /// `EXTERNAL` authentication: the bus checks the credentials of the
    /// socket against the user id given (hex-encoded decimal digits).
    fn authenticate(&mut self) -> Result<(), BusError> {
        let uid = effective_uid()?;
        let hex: String = uid
            .to_string()
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.stream
            .get_mut()
            .write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        if !line.starts_with("OK ") {
            return Err(BusError::Protocol(format!(
                "authentication refused: {:?}",
                line.trim_end()
            )));
        }
        self.stream.get_mut().write_all(b"BEGIN\r\n")?;
        Ok(())
    }

    /// Calls a method and returns its reply; an error reply is a
    /// [`BusError::Remote`].
    pub(super) fn call(&mut self, call: &Call<'_>) -> Result<Message, BusError> {
        self.serial += 1;
        let serial = self.serial;
        self.stream
            .get_mut()
            .write_all(&encode_call(call, serial))?;
        loop {
            let message = self.receive()?;
            match message.kind {
                METHOD_RETURN if message.reply_serial == Some(serial) => return Ok(message),
                ERROR if message.reply_serial == Some(serial) => {
                    let text = match message.args()?.first() {
                        Some(Value::Str(text)) => text.clone(),
                        _ => String::new(),
                    };
                    return Err(BusError::Remote {
                        name: message.error_name.unwrap_or_default(),
                        message: text,
                    });
                }
                SIGNAL => self.signals.push(message),
                _ => {} // a reply to nothing we wait for
            }
        }
    }

    /// Waits for a signal that `wanted` accepts, looking first at those
    /// that came while waiting for replies.
    pub(super) fn wait_signal(
        &mut self,
        wanted: impl Fn(&Message) -> bool,
    ) -> Result<Message, BusError> {
        if let Some(i) = self.signals.iter().position(&wanted) {
            return Ok(self.signals.remove(i));
        }
        loop {
            let message = self.receive()?;
            if message.kind == SIGNAL && wanted(&message) {
                return Ok(message);
            }
        }
    }

    /// Reads one message.
    fn receive(&mut self) -> Result<Message, BusError> {
        let mut fixed = [0u8; 16];
        self.stream.read_exact(&mut fixed)?;
        if fixed[0] != b'l' {
            return Err(BusError::Protocol(
                "a big-endian message (only little-endian is read)".into(),
            ));
        }
        let word = |at: usize| {
            u32::from_le_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]])
        };
        let (body_len, fields_len) = (word(4) as usize, word(12) as usize);
        if body_len > 1 << 24 || fields_len > 1 << 16 {
            return Err(BusError::Protocol("a message too large".into()));
        }
        // The fields array, padded so that the body starts 8-aligned.
        let mut header = fixed.to_vec();
        header.resize(padded(16 + fields_len, 8), 0);
        self.stream.read_exact(&mut header[16..])?;
        let mut body = vec![0u8; body_len];
        self.stream.read_exact(&mut body)?;
        let mut message = Message {
            kind: fixed[1],
            reply_serial: None,
            interface: None,
            member: None,
            error_name: None,
            signature: String::new(),
            body,
        };
        let mut reader = Reader {
            data: &header[..16 + fields_len],
            at: 16,
        };
        while reader.at < reader.data.len() {
            reader.align(8)?;
            let code = reader.byte()?;
            let signature = reader.signature()?;
            let value = match signature.as_str() {
                "s" | "o" => reader.string()?,
                "g" => reader.signature()?,
                "u" => reader.u32()?.to_string(),
                other => {
                    return Err(BusError::Protocol(format!(
                        "header field of type {other:?}"
                    )))
                }
            };
            match code {
                FIELD_INTERFACE => message.interface = Some(value),
                FIELD_MEMBER => message.member = Some(value),
                FIELD_ERROR_NAME => message.error_name = Some(value),
                FIELD_REPLY_SERIAL => message.reply_serial = value.parse().ok(),
                FIELD_SIGNATURE => message.signature = value,
                _ => {}
            }
        }
        Ok(message)
    }
}

/// The effective user id, which the bus sees on the socket.
fn effective_uid() -> Result<u32, BusError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| BusError::Protocol("no Uid line in /proc/self/status".into()))
}

fn padded(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// Lays out values with D-Bus alignment.
#[derive(Default)]
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn align(&mut self, to: usize) {
        self.buf.resize(padded(self.buf.len(), to), 0);
    }

    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    fn u32(&mut self, n: u32) {
        self.align(4);
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn u64(&mut self, n: u64) {
        self.align(8);
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }

    fn signature(&mut self, s: &str) {
        self.buf.push(s.len() as u8);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }

    /// An array of elements aligned to `element_align`, which `elements`
    /// writes; the length counts from the first element's padding on.
    fn array(&mut self, element_align: usize, elements: impl FnOnce(&mut Writer)) {
        self.u32(0);
        let length_at = self.buf.len() - 4;
        self.align(element_align);
        let start = self.buf.len();
        elements(self);
        let length = (self.buf.len() - start) as u32;
        self.buf[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Str(s) | Value::ObjectPath(s) => self.string(s),
            Value::Bool(b) => self.u32(u32::from(*b)),
            Value::U64(n) => self.u64(*n),
            Value::U32s(list) => self.array(4, |w| list.iter().for_each(|n| w.u32(*n))),
            Value::Bytes(bytes) => self.array(1, |w| w.buf.extend_from_slice(bytes)),
            Value::Properties(properties) => self.array(8, |w| {
                for (name, value) in properties {
                    w.align(8);
                    w.string(name);
                    w.signature(value.signature());
                    w.value(value);
                }
            }),
            Value::AuxUnits => self.array(8, |_| {}),
        }
    }
}

/// A method call message, header and body.
fn encode_call(call: &Call<'_>, serial: u32) -> Vec<u8> {
    let mut body = Writer::default();
    call.args.iter().for_each(|arg| body.value(arg));
    let signature: String = call.args.iter().map(Value::signature).collect();
    let mut fields: Vec<(u8, &str, &str)> = vec![
        (FIELD_PATH, "o", call.path),
        (FIELD_INTERFACE, "s", call.interface),
        (FIELD_MEMBER, "s", call.member),
        (FIELD_DESTINATION, "s", call.destination),
    ];
    if !signature.is_empty() {
        fields.push((FIELD_SIGNATURE, "g", &signature));
    }
    let mut message = Writer::default();
    message.buf.extend_from_slice(&[b'l', METHOD_CALL, 0, 1]);
    message.u32(body.buf.len() as u32);
    message.u32(serial);
    message.array(8, |w| {
        for (code, signature, value) in &fields {
            w.align(8);
            w.byte(*code);
            w.signature(signature);
            match *signature {
                "g" => w.signature(value),
                _ => w.string(value),
            }
        }
    });
    message.align(8);
    message.buf.extend_from_slice(&body.buf);
    message.buf
}

/// Reads values with D-Bus alignment.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], BusError> {
        let bytes = self
            .data
            .get(self.at..self.at + n)
            .ok_or_else(|| BusError::Protocol("a message ends early".into()))?;
        self.at += n;
        Ok(bytes)
    }

    fn align(&mut self, to: usize) -> Result<(), BusError> {
        let n = padded(self.at, to) - self.at;
        self.take(n).map(|_| ())
    }

    fn byte(&mut self) -> Result<u8, BusError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, BusError> {
        self.align(4)?;
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, BusError> {
        self.align(8)?;
        let b = self.take(8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(b);
        Ok(u64::from_le_bytes(bytes))
    }

    fn string(&mut self) -> Result<String, BusError> {
        let len = self.u32()? as usize;
        let text = self.take(len + 1)?;
        text_of(&text[..len])
    }

    fn signature(&mut self) -> Result<String, BusError> {
        let len = self.byte()? as usize;
        let text = self.take(len + 1)?;
        text_of(&text[..len])
    }

    /// A value of the basic type `code`.
    fn basic(&mut self, code: char) -> Result<Value, BusError> {
        Ok(match code {
            's' => Value::Str(self.string()?),
            'o' => Value::ObjectPath(self.string()?),
            'b' => Value::Bool(self.u32()? != 0),
            'u' => Value::U64(u64::from(self.u32()?)),
            't' => Value::U64(self.u64()?),
            other => {
                return Err(BusError::Protocol(format!(
                    "unexpected type {other:?} in a reply body"
                )))
            }
        })
    }
}

fn text_of(bytes: &[u8]) -> Result<String, BusError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| BusError::Protocol("a string is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_laid_out_as_the_specification_says() {
        let bytes = encode_call(
            &Call {
                destination: "org.freedesktop.systemd1",
                path: "/org/freedesktop/systemd1",
                interface: "org.freedesktop.systemd1.Manager",
                member: "StartTransientUnit",
                args: vec![
                    Value::Str("a.scope".into()),
                    Value::Str("fail".into()),
                    Value::Properties(vec![
                        ("Delegate".into(), Value::Bool(true)),
                        ("PIDs".into(), Value::U32s(vec![7])),
                        ("MemoryMax".into(), Value::U64(1 << 20)),
                    ]),
                    Value::AuxUnits,
                ],
            },
            3,
        );
        assert_eq!(&bytes[..4], &[b'l', 1, 0, 1]);
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 3);
        let fields_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
        let body_at = padded(16 + fields_len, 8);
        let body_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(bytes.len(), body_at + body_len);
        let body = &bytes[body_at..];
        // "a.scope": length 7, text, NUL; then "fail" aligned to 4.
        assert_eq!(&body[..12], b"\x07\0\0\0a.scope\0");
        assert_eq!(&body[12..21], b"\x04\0\0\0fail\0");
        // The properties array: its length at 24, its first struct at 32.
        let array_len = u32::from_le_bytes(body[24..28].try_into().unwrap()) as usize;
        assert_eq!(&body[32..45], b"\x08\0\0\0Delegate\0");
        assert_eq!(&body[45..48], b"\x01b\0");
        assert_eq!(&body[48..52], &1u32.to_le_bytes());
        // The last property's u64 sits 8-aligned at the array's end.
        assert_eq!(
            &body[32 + array_len - 8..32 + array_len],
            &(1u64 << 20).to_le_bytes()
        );
        // The empty aux array: a zero length, then the padding to its
        // elements' alignment, which an empty array has too.
        assert_eq!(body.len(), 32 + array_len + 8);
        assert!(bytes
            .windows(b"ssa(sv)a(sa(sv))".len())
            .any(|w| w == b"ssa(sv)a(sa(sv))"));
    }

    #[test]
    fn byte_arrays_are_packed() {
        let mut w = Writer::default();
        w.byte(9);
        w.value(&Value::Bytes(vec![3, 1]));
        // The length 4-aligned, the bytes unaligned right after it.
        assert_eq!(w.buf, [9, 0, 0, 0, 2, 0, 0, 0, 3, 1]);
    }

    #[test]
    fn replies_read_back() {
        let mut body = Writer::default();
        body.u32(42);
        body.string("/org/freedesktop/systemd1/job/42");
        body.string("x.scope");
        body.string("done");
        let message = Message {
            kind: SIGNAL,
            reply_serial: None,
            interface: Some("org.freedesktop.systemd1.Manager".into()),
            member: Some("JobRemoved".into()),
            error_name: None,
            signature: "uoss".into(),
            body: body.buf,
        };
        assert!(message.is_signal("org.freedesktop.systemd1.Manager", "JobRemoved"));
        assert_eq!(
            message.args().unwrap(),
            [
                Value::U64(42),
                Value::ObjectPath("/org/freedesktop/systemd1/job/42".into()),
                Value::Str("x.scope".into()),
                Value::Str("done".into())
            ]
        );
    }

    #[test]
    fn a_property_reads_back_from_its_variant() {
        // The reply of Properties.Get: a variant holding a string.
        let mut body = Writer::default();
        body.signature("s");
        body.string("252.38-1~deb12u1");
        let reply = |signature: &str, body: Vec<u8>| Message {
            kind: METHOD_RETURN,
            reply_serial: Some(2),
            interface: None,
            member: None,
            error_name: None,
            signature: signature.into(),
            body,
        };
        assert_eq!(
            reply("v", body.buf).args().unwrap(),
            [Value::Str("252.38-1~deb12u1".into())]
        );
        let mut body = Writer::default();
        body.signature("as");
        assert!(reply("v", body.buf).args().is_err());
    }
}
