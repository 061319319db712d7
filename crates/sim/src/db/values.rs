//! Values every table shares the form of: sys_ids and other random hex, and ServiceNow's
//! date-time text.

use chrono::{DateTime, Utc};

/// Random lower-case hex of `bytes` bytes: sys_ids (16), client ids, tokens.
pub fn random_hex(bytes: usize) -> String {
    let data: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(data)
}

/// ServiceNow's date-time format, always UTC on the wire.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn now_text() -> String {
    format_time(Utc::now())
}
